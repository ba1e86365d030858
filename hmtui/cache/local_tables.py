"""What only this client knows, kept beside the cache: the outbox, drafts, and cached templates.

Unlike the rest of the cache these are not copies of the server's data: an outbox row is a
message the server has not confirmed, a draft is text nobody else has. So `Store` keeps them in
its SQLite file when it can write one, and in memory (`MemoryTables`, the same interface) when it
cannot: `--no-cache`, a read-only or disabled cache. `Store.local_tables_durable` says which, so
the app can ask before quitting with messages still queued.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Literal

from hmtui.api.models import Id, Message
from hmtui.api.templates import Template

Kind = Literal["reply", "note"]
OutboxState = Literal["queued", "sending", "failed"]


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A message not yet confirmed by the server. Written before its first attempt; removed in
    the transaction that records the confirmed message in the thread's cache."""

    local_id: str  # made when the message was created; every attempt carries it
    inbox_id: Id
    target: str  # the thread: the customer's number as /v1/messages reads it back
    kind: Kind
    text: str
    creator_id: Id | None
    created: float  # Unix seconds: the outbox is sent oldest first
    media_url: str | None = None
    template_id: Id | None = None
    state: OutboxState = "queued"  # queued: waits to be sent; failed: refused, waits for the user
    attempts: int = 0
    last_error: str | None = None
    # An attempt ended without knowing whether the server acted (a lost answer, a crash
    # mid-send): the thread is read back before this message is sent again.
    unclear: bool = False

    @property
    def private(self) -> bool:
        return self.kind == "note"

    def with_(self, **changes: object) -> OutboxEntry:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Draft:
    inbox_id: Id
    target: str
    text: str
    kind: Kind = "reply"
    updated: float = 0.0
    template_id: Id | None = None  # inserted from this template and not edited since


class MemoryTables:
    """The outbox, drafts and templates in memory: lost on exit (the app asks first)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._outbox: dict[str, OutboxEntry] = {}
        self._drafts: dict[tuple[Id, str], Draft] = {}
        self._templates: list[Template] = []

    # -- outbox
    def outbox_save(self, entry: OutboxEntry) -> None:
        with self._lock:
            self._outbox[entry.local_id] = entry

    def outbox_entries(self) -> list[OutboxEntry]:
        with self._lock:
            # dict order is insertion order: ties on `created` keep the order they were queued in
            return sorted(self._outbox.values(), key=lambda e: e.created)

    def outbox_entry(self, local_id: str) -> OutboxEntry | None:
        with self._lock:
            return self._outbox.get(local_id)

    def outbox_confirm(self, local_id: str, inbox_id: Id, target: str, message: Message | None) -> None:
        with self._lock:
            self._outbox.pop(local_id, None)

    def outbox_drop(self, local_id: str) -> bool:
        with self._lock:
            return self._outbox.pop(local_id, None) is not None

    # -- drafts
    def put_draft(self, inbox_id: Id, target: str, text: str, *, kind: Kind = "reply",
                  template_id: Id | None = None, updated: float | None = None) -> None:
        with self._lock:
            if not text:
                self._drafts.pop((inbox_id, target), None)
                return
            self._drafts[(inbox_id, target)] = Draft(inbox_id, target, text, kind,
                                                     time.time() if updated is None else updated, template_id)

    def draft(self, inbox_id: Id, target: str) -> Draft | None:
        with self._lock:
            return self._drafts.get((inbox_id, target))

    def delete_draft(self, inbox_id: Id, target: str) -> None:
        with self._lock:
            self._drafts.pop((inbox_id, target), None)

    def drafts(self, inbox_id: Id | None = None) -> list[Draft]:
        with self._lock:
            items = [d for d in self._drafts.values() if inbox_id is None or d.inbox_id == inbox_id]
        return sorted(items, key=lambda d: -d.updated)

    # -- templates
    def put_templates(self, templates: list[Template]) -> None:
        with self._lock:
            self._templates = list(templates)

    def templates(self) -> list[Template]:
        with self._lock:
            return list(self._templates)

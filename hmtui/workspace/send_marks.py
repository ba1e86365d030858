"""How the thread shows what this client sent: the outbox's messages as `Message`s, marked.

A message appears in the thread the moment it is handed over, marked *sending*; *queued* while
the connection is down; *sent* once the server confirms (with the server's id and date); or
*failed* with the server's reason (it stays in place: `enter` retries it, `d` drops it). A held
message (a compliance hold) is never shown as sent.

When a refresh brings the server's copy back, it replaces the local one: first by `local_id`
(which the server echoes), then by the server's id (for a server that drops `local_id`).

No Textual here: `LocalSends` is an `OutboxObserver` for one conversation, and `merge()` is what
the thread widget draws instead of the refresh's messages alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from hmtui.api.models import Id, Message, format_datetime
from hmtui.api.send import SendResult
from hmtui.cache.local_tables import OutboxEntry
from hmtui.safe_text import one_line

SendState = Literal["sending", "queued", "sent", "held", "failed"]

# A local message's id until the server gives one: never a number, so it cannot meet a real id.
LOCAL_PREFIX = "local:"
# Where a local message keeps its state in `raw` (a key no server sends).
STATE_KEY = "_hmtui_send"
REASON_KEY = "_hmtui_reason"


def _digits(value: object) -> str:
    return re.sub(r"\D", "", value) if isinstance(value, str) else ""


def same_thread(entry: OutboxEntry, inbox_id: Id, target: str) -> bool:
    """Whether `entry` goes to this conversation (numbers compared by their digits)."""
    if str(entry.inbox_id) != str(inbox_id):
        return False
    a, b = _digits(entry.target), _digits(target)
    return (a == b) if a and b else entry.target == target


def local_message(entry: OutboxEntry, state: SendState, *, reason: str | None = None,
                  result: SendResult | None = None) -> Message:
    """The `Message` the thread draws for `entry` in `state`. A sent or held one carries the
    server's id and date (from `result`); the others a local id and the time it was made."""
    note = entry.kind == "note"
    created = datetime.fromtimestamp(entry.created, timezone.utc)
    date = result.date if result is not None and result.date is not None else created
    raw: dict[str, Any] = {
        "id": result.id if result is not None else LOCAL_PREFIX + entry.local_id,
        "date": format_datetime(date),
        "text": entry.text,
        "user": entry.creator_id,
        "target": entry.target,
        "local_id": entry.local_id,
        "type": "comment" if note else "text",
        STATE_KEY: state,
    }
    if note:
        raw["private"] = True
    else:
        # The thread draws an outbound message's status in its header: say where it is.
        raw["status"] = {"sending": "sending", "queued": "queued", "failed": "failed", "held": "held",
                         "sent": "queued" if result is not None and result.queued else "sent"}[state]
    if entry.media_url:
        raw["media"] = entry.media_url
    if state == "failed":
        raw["raw_error"] = one_line(reason or "refused by the server", 300)  # drawn as the reason
    elif state == "held" and result is not None and result.held:
        raw["raw_error"] = one_line(result.held, 300)
    if reason:
        raw[REASON_KEY] = one_line(reason, 300)
    message = Message.from_raw(raw)
    assert message is not None  # the id above is never empty
    return message


def send_state(message: Message) -> SendState | None:
    """The state of a message this client drew locally, or None for the server's own copy."""
    state = message.raw.get(STATE_KEY) if isinstance(message.raw, dict) else None
    return state if state in ("sending", "queued", "sent", "held", "failed") else None


def send_label(message: Message) -> str | None:
    """The mark the thread shows beside a message this client sent, for replies and notes alike
    (the thread draws no status for a note): "sending…", "queued: <why>", "sent", "held: <why>",
    "✗ failed: <reason> · enter retries · d deletes". None for a message the server sent back."""
    state = send_state(message)
    if state is None:
        return None
    reason = message.raw.get(REASON_KEY)
    if state == "sending":
        return "sending…"
    if state == "queued":
        return f"queued: {reason}" if reason else "queued"
    if state == "failed":
        return f"✗ failed: {reason or 'refused by the server'} · enter retries · d deletes"
    if state == "held":
        why = message.failure
        return f"held, not sent: {why}" if why else "held, not sent"
    return "sent"


def local_id_of(message: Message) -> str | None:
    """The outbox's `local_id` of a message this client drew (for `enter` retry, `d` drop)."""
    if send_state(message) is None:
        return None
    value = message.raw.get("local_id")
    return value if isinstance(value, str) else None


def dedupe(server: Sequence[Message], local: Iterable[Message]) -> list[Message]:
    """The thread to draw: the server's messages, then the local ones the server has not sent
    back yet. A local message is replaced by the server's copy with its `local_id`, else by the
    one with its (server) id. A pending local message never matches by id (its id is local)."""
    server_local_ids = {m.raw.get("local_id") for m in server if isinstance(m.raw, dict)} - {None, ""}
    server_ids = {str(m.id) for m in server}
    kept = []
    for message in local:
        local_id = message.raw.get("local_id")
        if local_id and local_id in server_local_ids:
            continue
        if not str(message.id).startswith(LOCAL_PREFIX) and str(message.id) in server_ids:
            continue
        kept.append(message)
    return [*server, *kept]


@dataclass
class _Mark:
    entry: OutboxEntry
    message: Message


class LocalSends:
    """The messages this client sent to one conversation, as the thread should draw them.

    Give it the outbox's events (it has the `OutboxObserver` methods; events for other
    conversations are ignored), and draw `merge(refreshed_messages)`. A mark leaves once a
    refresh has returned the server's copy.
    """

    def __init__(self, inbox_id: Id, target: str) -> None:
        self.inbox_id = inbox_id
        self.target = target
        self._marks: dict[str, _Mark] = {}  # by local_id, in the order they were made
        self.warnings: list[str] = []

    def _put(self, entry: OutboxEntry, state: SendState, *, reason: str | None = None,
             result: SendResult | None = None) -> bool:
        if not same_thread(entry, self.inbox_id, self.target):
            return False
        self._marks[entry.local_id] = _Mark(entry, local_message(entry, state, reason=reason, result=result))
        return True

    # -- OutboxObserver ---------------------------------------------------------------------
    def queued(self, entry: OutboxEntry) -> None:
        self._put(entry, "queued", reason=entry.last_error)

    def sending(self, entry: OutboxEntry) -> None:
        self._put(entry, "sending")

    def sent(self, entry: OutboxEntry, result: SendResult) -> None:
        self._put(entry, "sent", result=result)

    def held(self, entry: OutboxEntry, result: SendResult) -> None:
        self._put(entry, "held", reason=result.held, result=result)

    def failed(self, entry: OutboxEntry, reason: str) -> None:
        self._put(entry, "failed", reason=reason)

    def warning(self, text: str) -> None:
        self.warnings.append(text)

    # -- what the thread draws -------------------------------------------------------------
    def drop(self, local_id: str) -> None:
        """`d` on a failed message: the outbox dropped it, so does the thread."""
        self._marks.pop(local_id, None)

    def messages(self) -> list[Message]:
        return [mark.message for mark in self._marks.values()]

    def state(self, local_id: str) -> SendState | None:
        mark = self._marks.get(local_id)
        return send_state(mark.message) if mark else None

    def merge(self, server: Sequence[Message]) -> list[Message]:
        """`server` (a refresh's messages) with the local ones it does not have yet; marks the
        server has returned are forgotten."""
        merged = dedupe(server, self.messages())
        still = {id(m) for m in merged[len(server):]}
        self._marks = {k: v for k, v in self._marks.items() if id(v.message) in still}
        return merged


class SendMarks:
    """Every conversation's `LocalSends`, as one `OutboxObserver` for the app's `Outbox`: each
    event goes to its conversation's marks, then `on_change(inbox_id, target)` lets the screen
    redraw that thread if it is the one shown (and `on_warning(text)` show a notice)."""

    def __init__(self, on_change: Callable[[Id, str], None] | None = None,
                 on_warning: Callable[[str], None] | None = None) -> None:
        self._threads: dict[tuple[str, str], LocalSends] = {}
        self._on_change = on_change
        self._on_warning = on_warning

    @staticmethod
    def _key(inbox_id: Id, target: str) -> tuple[str, str]:
        return str(inbox_id), _digits(target) or target

    def thread(self, inbox_id: Id, target: str) -> LocalSends:
        key = self._key(inbox_id, target)
        if key not in self._threads:
            self._threads[key] = LocalSends(inbox_id, target)
        return self._threads[key]

    def merge(self, inbox_id: Id, target: str, server: Sequence[Message]) -> list[Message]:
        """What the thread of (inbox_id, target) draws: `server` plus what it lacks."""
        return self.thread(inbox_id, target).merge(server)

    def _route(self, entry: OutboxEntry, method: str, *args: Any) -> None:
        getattr(self.thread(entry.inbox_id, entry.target), method)(entry, *args)
        if self._on_change is not None:
            self._on_change(entry.inbox_id, entry.target)

    def queued(self, entry: OutboxEntry) -> None:
        self._route(entry, "queued")

    def sending(self, entry: OutboxEntry) -> None:
        self._route(entry, "sending")

    def sent(self, entry: OutboxEntry, result: SendResult) -> None:
        self._route(entry, "sent", result)

    def held(self, entry: OutboxEntry, result: SendResult) -> None:
        self._route(entry, "held", result)

    def failed(self, entry: OutboxEntry, reason: str) -> None:
        self._route(entry, "failed", reason)

    def warning(self, text: str) -> None:
        if self._on_warning is not None:
            self._on_warning(text)

    def drop(self, entry: OutboxEntry) -> None:
        """After `Outbox.drop(local_id)` (`d` on a failed message)."""
        self.thread(entry.inbox_id, entry.target).drop(entry.local_id)
        if self._on_change is not None:
            self._on_change(entry.inbox_id, entry.target)

"""The outbox: every reply and note the server has not confirmed, sent exactly once.

Plain asyncio, no Textual: the composer calls `Outbox.submit`, the UI draws what an
`OutboxObserver` is told (queued / sending / sent / held / failed), the CLI uses it for
`hmtui send --queue` and `hmtui outbox`.

The rules (issue 9):

- a message is written to the outbox table *before* its first attempt, with its `local_id`
  (made once, reused by every retry: see `hmtui.api.send`);
- an attempt marks its row `sending` and `unclear` first, so a crash mid-send is known at the
  next start, and the thread is read back for the `local_id` before that message goes again;
- when the app starts and when the connection comes back, `flush()` sends what waits, oldest
  first, each once per flush (a second flush while one runs waits for it, and never sends the
  same message twice at once);
- a confirmed message leaves the outbox in the same transaction that records it in the thread's
  cache (`Store.outbox_confirm`);
- a refusal (4xx) stays in the outbox as `failed` with the server's reason until the user
  retries (`retry`) or discards it (`drop`); a compliance hold leaves it (the server has the
  message: sending it again would make a second one) and is told as `held`;
- with `--no-cache` the store keeps the table in memory (`Store.local_tables_durable` is False),
  and the app asks before quitting with messages queued.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from hmtui.api.client import HeymarketClient, normalize_phone
from hmtui.api.models import Id, Inbox, Message, format_datetime
from hmtui.api.send import SendNotConfirmed, SendRefused, SendRequest, SendResult, new_local_id, send_exactly_once
from hmtui.cache.local_tables import Kind, MemoryTables, OutboxEntry
from hmtui.cache.store import CacheError, Store
from hmtui.safe_text import one_line

log = logging.getLogger("hmtui.outbox")


def acting_member(inbox: Inbox | None, configured: Id | None) -> Id | None:
    """Who a message is sent as (`creator_id`), resolved as the triage keys resolve it: the
    configured user if they belong to the inbox, else the inbox's first member."""
    if inbox is None:
        return configured
    if configured is not None and (configured in inbox.members or not inbox.members):
        return configured
    return inbox.members[0] if inbox.members else configured


class OutboxObserver:
    """What the outbox announces; override what you draw. Called on the event loop."""

    def queued(self, entry: OutboxEntry) -> None:
        """Waiting: just created, or the connection is down (its `last_error` says why)."""

    def sending(self, entry: OutboxEntry) -> None:
        """An attempt is under way."""

    def sent(self, entry: OutboxEntry, result: SendResult) -> None:
        """Confirmed: `result.id` and `result.date` are the server's (`result.queued`: accepted,
        not yet delivered). It has left the outbox."""

    def held(self, entry: OutboxEntry, result: SendResult) -> None:
        """The server took it but held it (`result.held`: the compliance reason). Never "sent"."""

    def failed(self, entry: OutboxEntry, reason: str) -> None:
        """Refused (final until retried): `reason` is the server's."""

    def warning(self, text: str) -> None:
        """Something the user should know (the outbox could not be written to the cache)."""


def sent_message(entry: OutboxEntry, result: SendResult) -> Message | None:
    """The message as the thread's cache keeps it: what the read-back found, or one built from
    the answer (a refresh later brings the server's own copy, deduplicated by id)."""
    if result.message is not None:
        return result.message
    raw: dict[str, Any] = {
        "id": result.id,
        "date": format_datetime(result.date) if result.date else None,
        "text": entry.text,
        "user": entry.creator_id,
        "target": entry.target,
        "local_id": entry.local_id,
        "type": "comment" if entry.private else "text",
        "status": None if entry.private else ("held" if result.held else ("queued" if result.queued else "sent")),
        "conversation": {"id": result.conversation_id, "inbox": entry.inbox_id, "target": entry.target},
    }
    if entry.private:
        raw["private"] = True
    if entry.media_url:
        raw["media"] = entry.media_url
    if result.held:
        raw["raw_error"] = result.held
    return Message.from_raw(raw)


class Outbox:
    def __init__(
        self,
        client: HeymarketClient,
        store: Store,
        *,
        observer: OutboxObserver | None = None,
        clock: Callable[[], float] = time.time,
        configured_member: Id | None = None,
    ) -> None:
        self.client = client
        # The config's user_id: who a message made without a known sender (offline, before the
        # inboxes were read) is sent as, if they belong to its inbox.
        self.configured_member = configured_member
        self.store = store
        self.observer = observer or OutboxObserver()
        self._clock = clock
        # Rows the store refused to write (a full disk): kept here, so nothing typed is lost.
        self._fallback = MemoryTables()
        self._inflight: set[str] = set()
        self._flush_lock = asyncio.Lock()
        self._last_created = 0.0
        self._unreachable = False  # the last delivery never reached the server

    # -- what waits ------------------------------------------------------------------------

    @property
    def durable(self) -> bool:
        """Whether what waits survives a quit (False: the app must ask before quitting)."""
        return self.store.local_tables_durable and not self._fallback.outbox_entries()

    def entries(self) -> list[OutboxEntry]:
        """Everything unconfirmed, oldest first: waiting, being sent, or failed."""
        items = self.store.outbox_entries() + self._fallback.outbox_entries()
        return sorted(items, key=lambda e: e.created)

    def entry(self, local_id: str) -> OutboxEntry | None:
        return next((e for e in self.entries() if e.local_id == local_id), None)

    def waiting(self) -> list[OutboxEntry]:
        return [e for e in self.entries() if e.state != "failed"]

    def failed(self) -> list[OutboxEntry]:
        return [e for e in self.entries() if e.state == "failed"]

    # -- making and sending ----------------------------------------------------------------

    def create(self, inbox_id: Id, target: str, text: str, *, creator_id: Id | None, kind: Kind = "reply",
               media_url: str | None = None, template_id: Id | None = None) -> OutboxEntry:
        """Record a new message (its `local_id` made now), before any attempt."""
        # Strictly increasing, so two messages made in one clock tick keep their order.
        created = max(self._clock(), self._last_created + 1e-6)
        self._last_created = created
        entry = OutboxEntry(local_id=new_local_id(), inbox_id=inbox_id, target=normalize_phone(target), kind=kind,
                            text=text, creator_id=creator_id, created=created, media_url=media_url,
                            template_id=template_id)
        self._save(entry)
        self.observer.queued(entry)
        return entry

    async def submit(self, inbox_id: Id, target: str, text: str, *, creator_id: Id | None, kind: Kind = "reply",
                     media_url: str | None = None, template_id: Id | None = None) -> OutboxEntry:
        """Create a message and send it now; returns its entry as it ended (gone from the outbox
        if confirmed: see the observer's events for the result)."""
        entry = self.create(inbox_id, target, text, creator_id=creator_id, kind=kind, media_url=media_url,
                            template_id=template_id)
        return await self.send(entry)

    async def send(self, entry: OutboxEntry) -> OutboxEntry:
        """One delivery of `entry` under the exactly-once rule; its entry as it ended."""
        ended, _ = await self._send(entry)
        return ended

    async def send_with_result(self, entry: OutboxEntry) -> SendResult | None:
        """`send`, returning the server's confirmation (None: not confirmed; see `entry()`)."""
        _, result = await self._send(entry)
        return result

    async def flush(self) -> list[OutboxEntry]:
        """Send everything waiting, oldest first, each once (on start, and when the connection
        comes back). Stops early once the server is unreachable: the rest would only fail the
        same way. Returns the entries as they ended."""
        return [ended for ended, _ in await self.flush_with_results()]

    async def flush_with_results(self) -> list[tuple[OutboxEntry, SendResult | None]]:
        async with self._flush_lock:
            done: list[tuple[OutboxEntry, SendResult | None]] = []
            for entry in self.waiting():
                if entry.local_id in self._inflight:
                    continue
                done.append(await self._send(entry))
                if self._unreachable:  # not reached at all: the next ones would not be either
                    break
            return done

    async def _send(self, entry: OutboxEntry) -> tuple[OutboxEntry, SendResult | None]:
        if entry.local_id in self._inflight:
            return entry, None
        self._inflight.add(entry.local_id)
        try:
            return await self._deliver(entry)
        finally:
            self._inflight.discard(entry.local_id)

    async def retry(self, local_id: str) -> OutboxEntry | None:
        """Send a failed (or waiting) message again, with the same `local_id`."""
        entry = self.entry(local_id)
        if entry is None:
            return None
        entry = entry.with_(state="queued")
        self._save(entry)
        return await self.send(entry)

    def drop(self, local_id: str) -> bool:
        """Discard one unconfirmed message (the user gave up on it)."""
        if self._fallback.outbox_drop(local_id):
            return True
        try:
            return self.store.outbox_drop(local_id)
        except CacheError as exc:
            self.observer.warning(f"cannot discard the message from the outbox: {one_line(exc, 160)}")
            return False

    # -- internals -------------------------------------------------------------------------

    async def _deliver(self, entry: OutboxEntry) -> tuple[OutboxEntry, SendResult | None]:
        self._unreachable = False
        if entry.creator_id is None:
            resolved = await self._resolve_creator(entry)
            if isinstance(resolved, OutboxEntry):
                return resolved, None
            entry = entry.with_(creator_id=resolved)
        # Crash-safe: until an answer says otherwise, this attempt may have reached the server.
        attempt = entry.with_(state="sending", unclear=True)
        self._save(attempt)
        self.observer.sending(attempt)
        attempts = 0

        def count(_: int) -> None:
            nonlocal attempts
            attempts += 1

        assert entry.creator_id is not None
        request = SendRequest(inbox_id=entry.inbox_id, creator_id=entry.creator_id, text=entry.text,
                              local_id=entry.local_id, phone_number=entry.target, private=entry.private,
                              media_url=entry.media_url, template_id=entry.template_id)
        try:
            result = await send_exactly_once(self.client, request, unclear=entry.unclear, on_attempt=count)
        except SendRefused as exc:
            ended = entry.with_(state="failed", attempts=entry.attempts + attempts, last_error=exc.reason,
                                unclear=False)
            self._save(ended)
            self.observer.failed(ended, exc.reason)
            return ended, None
        except SendNotConfirmed as exc:
            ended = entry.with_(state="queued", attempts=entry.attempts + attempts,
                                last_error=one_line(exc.message, 300), unclear=exc.maybe_sent)
            self._unreachable = not exc.maybe_sent
            self._save(ended)
            self.observer.queued(ended)
            return ended, None
        except Exception as exc:  # noqa: BLE001 - a bug must not lose the message
            log.exception("sending %s failed unexpectedly", entry.local_id)
            ended = entry.with_(state="queued", attempts=entry.attempts + attempts,
                                last_error=one_line(f"{type(exc).__name__}: {exc}", 300), unclear=True)
            self._save(ended)
            self.observer.queued(ended)
            return ended, None
        ended = entry.with_(attempts=entry.attempts + attempts, last_error=None, unclear=False)
        self._confirm(ended, result)
        if result.held:
            self.observer.held(ended, result)
        else:
            self.observer.sent(ended, result)
        return ended, result

    async def _resolve_creator(self, entry: OutboxEntry) -> Id | OutboxEntry:
        """The sender of a message made before it was known, or the entry left waiting/failed."""
        from hmtui.api.errors import ApiError

        try:
            inboxes = await self.client.inboxes()
        except ApiError as exc:
            ended = entry.with_(last_error=one_line(f"not sent: {exc.message}", 300))
            self._unreachable = exc.retryable
            self._save(ended)
            self.observer.queued(ended)
            return ended
        inbox = next((i for i in inboxes if i.id == entry.inbox_id), None)
        member = acting_member(inbox, self.configured_member) if inbox is not None else None
        if member is None:
            reason = f"no member of inbox {entry.inbox_id} to send as" if inbox else f"no inbox {entry.inbox_id}"
            ended = entry.with_(state="failed", last_error=reason)
            self._save(ended)
            self.observer.failed(ended, reason)
            return ended
        return member

    def _save(self, entry: OutboxEntry) -> None:
        if self._fallback.outbox_entry(entry.local_id) is not None:
            self._fallback.outbox_save(entry)
            return
        try:
            self.store.outbox_save(entry)
        except CacheError as exc:
            self._fallback.outbox_save(entry)
            self.observer.warning(f"the outbox cannot be written to the cache ({one_line(exc, 160)}): "
                                  "this message is kept in memory only until it is sent")

    def _confirm(self, entry: OutboxEntry, result: SendResult) -> None:
        message = sent_message(entry, result)
        if self._fallback.outbox_drop(entry.local_id):
            try:
                if message is not None:
                    self.store.put_messages(entry.inbox_id, entry.target, [message])
            except CacheError:
                log.warning("cannot record a sent message in the cache", exc_info=True)
            return
        try:
            self.store.outbox_confirm(entry.local_id, entry.inbox_id, entry.target, message)
        except CacheError as exc:
            # The row stays as the attempt left it, `unclear`: the next flush reads the thread
            # back, finds the message by its local_id and confirms it without sending it again.
            self.observer.warning(f"sent, but the cache could not record it ({one_line(exc, 160)})")


def pending_summary(entries: Sequence[OutboxEntry]) -> str:
    """"2 waiting, 1 failed" (for a quit prompt or a status line)."""
    waiting = sum(1 for e in entries if e.state != "failed")
    failed = len(entries) - waiting
    parts = [f"{waiting} waiting"] if waiting else []
    if failed:
        parts.append(f"{failed} failed")
    return ", ".join(parts) or "empty"

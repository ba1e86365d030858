"""Replies and private notes, as workspace operations (issue 9): the outbox, its marks in the
thread, drafts and templates. Plain asyncio, no Textual.

The workspace owns one `Outbox` (durable with the store; in memory with `--no-cache`), flushed
at start and whenever the connection comes back. A send is created in the outbox before any
attempt (its mark appears at once), then delivered as a workspace job under the exactly-once
rule of `hmtui.api.send`. The thread draws the server's messages plus the marks the server has
not returned yet (`hmtui.workspace.send_marks`, which has no Textual either): the UI hears
`ReplyListener.sends_changed` with the messages to draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hmtui.api.models import Id, Message
from hmtui.api.send import SendResult
from hmtui.api.templates import Template
from hmtui.cache.local_tables import Kind, OutboxEntry
from hmtui.safe_text import one_line
from hmtui.workspace.send_marks import SendMarks, send_state
from hmtui.workspace.outbox import Outbox, pending_summary
from hmtui.workspace.tasks import Job

if TYPE_CHECKING:
    from hmtui.workspace.workspace import Workspace


class ReplyListener:
    """What the reply side announces (no-op defaults; the main screen draws them)."""

    def sends_changed(self, messages: Sequence[Message]) -> None:
        """The current thread's newest messages (the server's) with the send marks it lacks: the
        view brings its marks up to date and keeps the rest of its history."""

    def drafts_changed(self, targets: set[str]) -> None:
        """The targets of the selected inbox that have a draft (the list's ✎)."""

    def send_confirmed(self, entry: OutboxEntry, result: SendResult | None) -> None:
        """A send the user made here ended (`result` None: not confirmed)."""


class Replies:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.listener = ReplyListener()
        self.marks = SendMarks(on_change=self._changed, on_warning=self._warning)
        self.outbox = Outbox(ws.client, ws.store, observer=self.marks, configured_member=ws.user_id,
                             clock=self._now)
        self._failed_told: set[str] = set()

    def _now(self) -> float:
        """When a message is made: the app's clock, but never before the newest message the
        thread shows (a clock behind the server's would draw a new send above older ones)."""
        newest = self.ws.thread.state.newest or 0.0
        return max(self.ws.clock().timestamp(), newest + 0.001)

    # -- sending -----------------------------------------------------------------------------

    def send(self, inbox_id: Id, target: str, text: str, *, kind: Kind = "reply",
             template_id: Id | None = None, close_after: bool = False,
             expected: Id | None = None) -> tuple[OutboxEntry, Job]:
        """Queue a reply or note to (inbox_id, target) — in the outbox before any attempt — and
        deliver it as a job. With `close_after`, the conversation `expected` is closed through the
        triage path once (and only if) the server confirms the send."""
        inbox = self.ws.conversations.inbox_by_id(inbox_id)
        member = self.ws.acting_member(inbox) if inbox is not None else self.ws.user_id
        entry = self.outbox.create(inbox_id, target, text, creator_id=member, kind=kind, template_id=template_id)
        return entry, self.ws.run("send", self._deliver(entry, close_after, expected), exclusive=False)

    async def _deliver(self, entry: OutboxEntry, close_after: bool, expected: Id | None) -> SendResult | None:
        result = await self.outbox.send_with_result(entry)
        self.listener.send_confirmed(entry, result)
        if result is None:
            return None
        self._fetch_copies()
        if not result.held:
            if close_after and expected is not None and self.ws.current is not None \
                    and self.ws.current.id == expected and not self.ws.current.closed:
                self.ws.toggle_closed(expected=expected)
        return result

    def retry(self, local_id: str) -> Job | None:
        """`enter` on a failed message: the same `local_id`, once more."""
        if self.outbox.entry(local_id) is None:
            return None
        self._failed_told.discard(local_id)
        return self.ws.run("send", self._retry(local_id), exclusive=False)

    async def _retry(self, local_id: str) -> None:
        await self.outbox.retry(local_id)
        self._fetch_copies()

    async def _flush(self) -> None:
        await self.outbox.flush()
        self._fetch_copies()

    def _fetch_copies(self) -> None:
        """The current thread shows a confirmed send: fetch the server's own copy now (it replaces
        the mark) rather than at the next refresh."""
        key = self.ws.thread.state.key
        if key is not None and any(send_state(m) == "sent" for m in self.marks.thread(*key).messages()):
            self.ws.run("sent-newer", self.ws.thread.refresh_newer())

    def drop(self, local_id: str) -> bool:
        """`d` on a failed message: gone from the outbox and the thread."""
        entry = self.outbox.entry(local_id)
        if entry is None or not self.outbox.drop(local_id):
            return False
        self.marks.drop(entry)
        return True

    def restore(self) -> None:
        """At start: what an earlier run left in the outbox is drawn in its thread (failed ones
        with their reason, so `enter`/`d` work on them; waiting ones as queued)."""
        try:
            entries = self.outbox.entries()
        except Exception:  # noqa: BLE001 - an unreadable outbox is the store's warning
            return
        for entry in entries:
            marks = self.marks.thread(entry.inbox_id, entry.target)
            if entry.state == "failed":
                self._failed_told.add(entry.local_id)  # told when it failed, not at every start
                marks.failed(entry, entry.last_error or "refused by the server")
            else:
                marks.queued(entry)

    def flush(self) -> Job | None:
        """Send what waits (at start, and when the connection comes back)."""
        if not self.outbox.waiting() or self.ws.tasks.running("outbox-flush"):
            return None
        return self.ws.run("outbox-flush", self._flush())

    def lost_on_quit(self) -> list[OutboxEntry]:
        """What quitting now would lose: unconfirmed messages kept in memory only."""
        return [] if self.outbox.durable else self.outbox.entries()

    def quit_summary(self) -> str:
        return pending_summary(self.lost_on_quit())

    # -- the thread --------------------------------------------------------------------------

    def has_marks(self, inbox_id: Id, target: str) -> bool:
        return bool(self.marks.thread(inbox_id, target).messages())

    def merged(self, messages: Sequence[Message]) -> list[Message]:
        """`messages` of the current thread with the marks the server has not returned."""
        key = self.ws.thread.state.key
        return list(messages) if key is None else self.marks.merge(*key, messages)

    def redraw(self) -> None:
        """Tell the UI the current thread's messages again: the server's plus the marks."""
        key = self.ws.thread.state.key
        if key is None:
            return
        # The newest messages are enough: a send's server copy is among them (see Thread.TAIL).
        self.listener.sends_changed(self.marks.merge(*key, list(self.ws.thread.state.tail)))

    def _changed(self, inbox_id: Id, target: str) -> None:
        key = self.ws.thread.state.key
        if key is not None and str(key[0]) == str(inbox_id) and self._same_target(key[1], target):
            self.redraw()
        for entry in self.outbox.failed():
            if entry.local_id not in self._failed_told:
                self._failed_told.add(entry.local_id)
                self.ws.listener.notice(f"Not sent: {one_line(entry.last_error or 'refused', 200)}",
                                        severity="error", title="Not sent", timeout=8)

    @staticmethod
    def _same_target(a: str, b: str) -> bool:
        da, db = "".join(c for c in a if c.isdigit()), "".join(c for c in b if c.isdigit())
        return da == db if da and db else a == b

    def _warning(self, text: str) -> None:
        self.ws.listener.notice(text, severity="warning", title="Outbox", timeout=10)

    # -- drafts and templates ----------------------------------------------------------------

    def drafted_targets(self) -> set[str]:
        inbox = self.ws.inbox
        if inbox is None:
            return set()
        try:
            return {d.target for d in self.ws.store.drafts(inbox.id)}
        except Exception:  # noqa: BLE001 - a cache that cannot be read shows no marks
            return set()

    def drafts_changed(self) -> None:
        self.listener.drafts_changed(self.drafted_targets())

    async def templates(self) -> list[Template]:
        """The team's templates: the cached list, else fetched (and cached)."""
        cached = self.ws.store.templates()
        if cached:
            return cached
        items = [t async for t in self.ws.client.iter_templates()]
        self.ws.store.put_templates(items)
        return items

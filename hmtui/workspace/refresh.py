"""The refresh cycle, on a fixed request budget.

Heymarket allows a team 500 requests a minute, shared by every agent and integration. Paging every
inbox to count its badges on every refresh cost one idle client 1,236 a minute on a 12-inbox team.
`Refresher` spends instead, per cycle (every `Cadence.cycle` seconds):

- one `POST /v1/messages/all` (`TeamFeed`): the new messages across the team. A new inbound
  message opens and unreads its conversation, so it keeps the badges exact; it raises the
  new-message toast (never for the backlog at start, never for the conversation on screen); it
  says when the list head or the open thread changed;
- the list head and the open thread when the feed shows a change in them, else every
  `list_head_every` / `thread_every` seconds; the inbox list every `inboxes_every` seconds;
- a slow background recount, one inbox at a time (`recount_every`), at most
  `recount_pages_per_cycle` requests a cycle: what other agents do (a close in the web app)
  produces no message in the feed.

Badges are counted once at start, paced (`count_burst` requests at once, then `count_rate` a
second), each inbox marked as still counting meanwhile. `POST /v1/conversations/count` is used per
inbox only once `CountTrust` says the server honours its filters (2 requests per inbox); otherwise
the open and unread lists are paged, at most `count_limit` conversations each ("200+"), so the
cost never grows with the conversations per inbox.

Plain asyncio with an injectable clock and sleep: a test runs an idle hour in a moment. Every
request it makes (and every hook it calls) runs inside `background()`, the one place where the
client's limiter marks them as background priority.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ContextManager, Protocol

from hmtui.api.counts import CountTrust, probe_count_filters
from hmtui.api.errors import BadRequestError, ForbiddenError, MalformedResponseError, NotFoundError
from hmtui.api.feed import TeamFeed, message_conversation
from hmtui.api.models import Conversation, Id, Inbox, Message
from hmtui.api.paging import Pager
from hmtui.api.semantics import MessageKind


@dataclass(frozen=True)
class Cadence:
    """How often each part of the refresh runs (seconds), and what counting may spend."""

    cycle: float = 15.0
    inboxes_every: float = 300.0
    list_head_every: float = 60.0
    thread_every: float = 60.0
    recount_every: float = 180.0  # start recounting the next inbox this often
    recount_pages_per_cycle: int = 2
    count_burst: int = 60  # requests the start count may make at once ...
    count_rate: float = 1.0  # ... then this many a second
    count_limit: int = 200  # conversations paged per inbox and list at most ("200+")


@dataclass(frozen=True)
class InboxCounts:
    open: int | None
    unread: int | None
    more: bool = False  # lower bounds: over `count_limit`
    counting: bool = False  # the first count is still under way: lower bounds too


@dataclass(frozen=True)
class NewMessage:
    """A new inbound message the feed found, for a toast."""

    message: Message
    conversation_id: Id | None
    inbox_id: Id | None
    target: str | None
    name: str | None


class RefreshObserver:
    """What the refresher announces; override what you draw. Called on the event loop."""

    def counts_changed(self, inbox_id: Id, counts: InboxCounts) -> None: ...

    def inboxes_changed(self, inboxes: Sequence[Inbox]) -> None: ...

    def new_message(self, new: NewMessage) -> None: ...

    def inbound(self, new: NewMessage, on_screen: bool) -> None:
        """Every new inbound message, the conversation on screen's too (`on_screen`): for the
        desktop notifications, which decide with the terminal's focus (hmtui.workspace.alerts)."""


class RefreshSource(Protocol):
    """The part of `HeymarketClient` the refresher uses."""

    async def inboxes(self) -> list[Inbox]: ...

    async def all_messages(self, **kw: Any) -> list[Message]: ...

    async def count_conversations(self, **kw: Any) -> int: ...

    def conversation_pager(self, inbox_id: Id, member_id: Id, *, closed: bool | None = None,
                           unread: bool | None = None) -> Pager[Conversation]: ...


@dataclass
class _Tally:
    """One inbox's badge state. Paging mode keeps the ids (so a feed message or a triage changes
    the count exactly); count-endpoint mode keeps numbers."""

    open_ids: set[Id] | None = None
    unread_ids: set[Id] | None = None
    open_n: int | None = None
    unread_n: int | None = None
    more: bool = False
    counted: bool = False

    def counts(self, counting: bool) -> InboxCounts:
        if self.open_ids is not None and self.unread_ids is not None:
            return InboxCounts(len(self.open_ids), len(self.unread_ids), self.more, counting)
        return InboxCounts(self.open_n, self.unread_n, self.more, counting)

    def note(self, conversation_id: Id, *, is_open: bool, is_unread: bool) -> None:
        if self.open_ids is None or self.unread_ids is None:
            return
        (self.open_ids.add if is_open else self.open_ids.discard)(conversation_id)
        (self.unread_ids.add if is_unread else self.unread_ids.discard)(conversation_id)


@dataclass
class _CountJob:
    """One inbox's count, one request per `step()`, so it can be paced or spread over cycles."""

    inbox: Inbox
    member: Id | None
    endpoint: bool
    limit: int
    tally: _Tally = field(default_factory=_Tally)
    # Membership changes seen while the count ran (feed, triage): replayed when it ends.
    notes: list[tuple[Id, bool, bool]] = field(default_factory=list)
    _stage: int = 0
    _pager: Pager[Conversation] | None = None
    _fetched: int = 0

    async def step(self, source: RefreshSource) -> bool:
        """Make one request; True once the count is complete."""
        inbox_id = self.inbox.id
        if self.endpoint:
            if self._stage == 0:
                self.tally.open_n = await source.count_conversations(inbox_id=inbox_id, closed=False)
                self._stage = 1
                return False
            self.tally.unread_n = await source.count_conversations(inbox_id=inbox_id, unread=True)
            return True
        if self.member is None:
            return True
        if self._pager is None:
            closed, unread = (False, None) if self._stage == 0 else (None, True)
            self._pager = source.conversation_pager(inbox_id, self.member, closed=closed, unread=unread)
            self._fetched = 0
            if self._stage == 0:
                self.tally.open_ids = set()
            else:
                self.tally.unread_ids = set()
        page = await self._pager.older()
        self._fetched += len(page)
        # Trust the conversations' own state, not the filter (a server may ignore it).
        if self._stage == 0:
            assert self.tally.open_ids is not None
            self.tally.open_ids.update(c.id for c in page if not c.closed and c.inbox_id in (None, inbox_id))
        else:
            assert self.tally.unread_ids is not None
            self.tally.unread_ids.update(c.id for c in page if c.unread and c.inbox_id in (None, inbox_id))
        if self._pager.exhausted or self._fetched >= self.limit:
            self.tally.more = self.tally.more or not self._pager.exhausted
            self._pager = None
            self._stage += 1
            return self._stage >= 2
        return False


class Refresher:
    """Owns the refresh cycle and its cadences; announces changes to `observer`.

    The view supplies hooks: `list_head()` refreshes the visible list's newest page, `thread()`
    the open thread's new messages (both make their own requests); `current()` names the
    conversation on screen, `selected()` the inbox shown; `member_for(inbox)` the member to act as.
    """

    def __init__(
        self,
        source: RefreshSource,
        *,
        member_for: Callable[[Inbox], Id | None],
        observer: RefreshObserver | None = None,
        cadence: Cadence | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        # Every request runs inside this context: the app passes hmtui.api.limiter.background,
        # so the client's limiter lets a key's request go first.
        background: Callable[[], ContextManager[object]] = contextlib.nullcontext,
        list_head: Callable[[], Awaitable[None]] | None = None,
        thread: Callable[[], Awaitable[None]] | None = None,
        current: Callable[[], Conversation | None] = lambda: None,
        selected: Callable[[], Id | None] = lambda: None,
    ) -> None:
        self.source = source
        self.member_for = member_for
        self.observer = observer or RefreshObserver()
        self.cadence = cadence or Cadence()
        self.clock = clock
        self.sleep = sleep
        self.background = background
        self.list_head = list_head
        self.thread = thread
        self.current = current
        self.selected = selected
        self.feed = TeamFeed(source)  # type: ignore[arg-type]
        self.position: dict[str, object] | None = None
        self.trust: CountTrust | None = None
        self.inboxes: list[Inbox] = []
        self.tallies: dict[Id, _Tally] = {}
        self.started = False
        self._feed_lock = asyncio.Lock()
        self._jobs: dict[Id, _CountJob] = {}  # counts under way
        self._recount: _CountJob | None = None
        self._recount_next = 0  # round-robin index into inboxes
        self._dirty: set[Id] = set()  # count-endpoint mode: inboxes to recount this cycle
        self._due: dict[str, float] = {}  # part -> when it is next due
        # The start count's pacing: a token bucket.
        self._tokens = float(self.cadence.count_burst)
        self._tokens_at = clock()

    # -- state the view reads ----------------------------------------------------------------------

    def counts(self, inbox_id: Id) -> InboxCounts:
        tally = self.tallies.get(inbox_id)
        if tally is None:
            return InboxCounts(None, None, counting=inbox_id in self._jobs)
        return tally.counts(inbox_id in self._jobs and not tally.counted)

    # -- start -------------------------------------------------------------------------------------

    async def start(self, inboxes: Sequence[Inbox] | None = None) -> None:
        """Learn the feed's position (no backlog), then count every inbox once, paced."""
        if inboxes is None:
            with self.background():
                inboxes = await self.source.inboxes()
        self._set_inboxes(inboxes, announce=False)
        now = self.clock()
        self._due.setdefault("inboxes", now + self.cadence.inboxes_every)
        self._due.setdefault("recount", now + self.cadence.recount_every)
        await self._poll_feed(start_only=True)
        await self._probe()
        for inbox in list(self.inboxes):
            if inbox.id not in self._jobs and not (inbox.id in self.tallies and self.tallies[inbox.id].counted):
                self._jobs[inbox.id] = self._job(inbox)
                self._announce(inbox.id)
        for inbox_id, job in list(self._jobs.items()):
            while True:
                await self._pace()
                with self.background():
                    done = await job.step(self.source)
                if done:
                    break
                if self.tallies.get(inbox_id) is None or not self.tallies[inbox_id].counted:
                    self._show_partial(job)
            self._finish(job)
        self.started = True

    async def _probe(self) -> None:
        if self.trust is not None:
            return
        try:
            with self.background():
                self.trust = await probe_count_filters(self.source, [i.id for i in self.inboxes])  # type: ignore[arg-type]
        except (NotFoundError, BadRequestError, ForbiddenError, MalformedResponseError):
            # No usable count endpoint on this server: badges come from paging (and the feed).
            self.trust = CountTrust()

    def _endpoint(self) -> bool:
        trust = self.trust
        return trust is not None and trust.trusted(closed=False) and trust.trusted(unread=True)

    def _job(self, inbox: Inbox) -> _CountJob:
        return _CountJob(inbox, self.member_for(inbox), self._endpoint(), self.cadence.count_limit)

    async def _pace(self) -> None:
        rate = self.cadence.count_rate
        now = self.clock()
        self._tokens = min(float(self.cadence.count_burst), self._tokens + (now - self._tokens_at) * rate)
        self._tokens_at = now
        if self._tokens < 1.0 and rate > 0:
            await self.sleep((1.0 - self._tokens) / rate)
            self._tokens, self._tokens_at = 1.0, self.clock()
        self._tokens -= 1.0

    def _show_partial(self, job: _CountJob) -> None:
        t = job.tally
        open_ = len(t.open_ids) if t.open_ids is not None else t.open_n
        unread = len(t.unread_ids) if t.unread_ids is not None else t.unread_n
        self.observer.counts_changed(job.inbox.id, InboxCounts(open_, unread, True, True))

    def _finish(self, job: _CountJob) -> None:
        tally = job.tally
        tally.counted = True
        if not job.endpoint:
            for conversation_id, is_open, is_unread in job.notes:
                tally.note(conversation_id, is_open=is_open, is_unread=is_unread)
        self.tallies[job.inbox.id] = tally
        self._jobs.pop(job.inbox.id, None)
        self._announce(job.inbox.id)

    def _announce(self, inbox_id: Id) -> None:
        self.observer.counts_changed(inbox_id, self.counts(inbox_id))

    # -- the cycle ---------------------------------------------------------------------------------

    async def run(self, duration: float | None = None) -> None:
        """Cycle every `cadence.cycle` seconds (for `duration`, or forever)."""
        end = None if duration is None else self.clock() + duration
        while end is None or self.clock() < end:
            await self.cycle()
            await self.sleep(self.cadence.cycle)

    async def cycle(self, *, force: bool = False) -> None:
        """One refresh. `force` (the user's `r`) refreshes every part now, once."""
        now = self.clock()
        if force or not self.inboxes or self._is_due("inboxes", now, self.cadence.inboxes_every):
            with self.background():
                inboxes = await self.source.inboxes()
            self._set_inboxes(inboxes, announce=True)
        touched_inboxes, touched_open = await self._poll_feed()
        shown = self.selected()
        if force or shown in touched_inboxes or self._is_due("list_head", now, self.cadence.list_head_every):
            self._due["list_head"] = now + self.cadence.list_head_every
            if self.list_head is not None:
                with self.background():
                    await self.list_head()
        if force or touched_open or self._is_due("thread", now, self.cadence.thread_every):
            self._due["thread"] = now + self.cadence.thread_every
            if self.thread is not None and self.current() is not None:
                with self.background():
                    await self.thread()
        for inbox_id in list(self._dirty):
            inbox = next((i for i in self.inboxes if i.id == inbox_id), None)
            self._dirty.discard(inbox_id)
            if inbox is not None and inbox_id not in self._jobs:
                job = self._job(inbox)
                while not await self._step(job):
                    pass
                self._finish(job)
        if self.started:
            await self._advance_recount(now)

    def _is_due(self, part: str, now: float, every: float) -> bool:
        due = self._due.get(part)
        if due is None:
            self._due[part] = now + every
            return False
        if now >= due:
            self._due[part] = now + every
            return True
        return False

    async def _step(self, job: _CountJob) -> bool:
        with self.background():
            return await job.step(self.source)

    async def _advance_recount(self, now: float) -> None:
        if self._recount is None and self.inboxes and now >= self._due.get("recount", now):
            self._due["recount"] = now + self.cadence.recount_every
            inbox = self.inboxes[self._recount_next % len(self.inboxes)]
            self._recount_next += 1
            if inbox.id not in self._jobs:
                self._recount = self._job(inbox)
                self._jobs[inbox.id] = self._recount
        job = self._recount
        if job is None:
            return
        for _ in range(max(1, self.cadence.recount_pages_per_cycle)):
            if await self._step(job):
                self._recount = None
                self._finish(job)
                return

    def _set_inboxes(self, inboxes: Sequence[Inbox], *, announce: bool) -> None:
        changed = list(inboxes) != self.inboxes  # members, names, phones: what the screen shows
        self.inboxes = list(inboxes)
        known = {i.id for i in self.inboxes}
        for inbox_id in list(self.tallies):
            if inbox_id not in known:
                del self.tallies[inbox_id]
        if announce and changed:
            self.observer.inboxes_changed(self.inboxes)
        if announce and self.started:
            for inbox in self.inboxes:  # a new inbox is counted through the cycle
                if inbox.id not in self.tallies and inbox.id not in self._jobs:
                    if self._endpoint():
                        self._dirty.add(inbox.id)
                    else:
                        self._due["recount"] = self.clock()
                        if self._recount is None:
                            self._recount_next = self.inboxes.index(inbox)

    # -- the feed ----------------------------------------------------------------------------------

    async def _poll_feed(self, *, start_only: bool = False) -> tuple[set[Id], bool]:
        """New messages since the last poll: counts, toasts; (inboxes touched, open thread touched)."""
        async with self._feed_lock:
            if start_only and self.position is not None:
                return set(), False
            with self.background():
                result = await self.feed.poll(self.position)
            self.position = result.position
        touched: set[Id] = set()
        touched_open = False
        on_screen = self.current()
        for message in result.messages:
            conversation_id, inbox_id, target = message_conversation(message)
            if inbox_id is not None:
                touched.add(inbox_id)
            here = on_screen is not None and (
                (conversation_id is not None and conversation_id == on_screen.id)
                or (inbox_id == on_screen.inbox_id and target is not None and target == on_screen.target)
            )
            touched_open = touched_open or here
            if message.kind is not MessageKind.INBOUND or inbox_id is None:
                continue
            # A new inbound message opens and unreads its conversation.
            if conversation_id is not None:
                self._note(inbox_id, conversation_id, is_open=True, is_unread=True)
            conv = message.raw.get("conversation")
            name = conv.get("name") if isinstance(conv, dict) else None
            new = NewMessage(message, conversation_id, inbox_id, target, name if isinstance(name, str) else None)
            self.observer.inbound(new, here)
            if not here:
                self.observer.new_message(new)
        if result.gap is not None:
            # Some messages may be unseen: look again at what is shown, and recount soon.
            touched_open = True
            touched.update(i.id for i in self.inboxes)
            self._due["recount"] = self.clock()
        return touched, touched_open

    def _note(self, inbox_id: Id, conversation_id: Id, *, is_open: bool, is_unread: bool) -> None:
        job = self._jobs.get(inbox_id)
        if job is not None:
            job.notes.append((conversation_id, is_open, is_unread))
        tally = self.tallies.get(inbox_id)
        if tally is None:
            return
        if tally.open_ids is None:
            self._dirty.add(inbox_id)  # count-endpoint mode: ask the count again (2 requests)
            return
        tally.note(conversation_id, is_open=is_open, is_unread=is_unread)
        self._announce(inbox_id)

    # -- this client's own triage ------------------------------------------------------------------

    def note_triage(self, before: Conversation, after: Conversation) -> None:
        """The user changed `before` into `after` (or a refusal rolled `after` back to `before`)."""
        moved = before.inbox_id != after.inbox_id
        for conv, gone in ((before, True), (after, False)) if moved else ((after, False),):
            inbox_id = conv.inbox_id
            if inbox_id is None:
                continue
            is_open, is_unread = (False, False) if gone else (not conv.closed, conv.unread)
            job = self._jobs.get(inbox_id)
            if job is not None:
                job.notes.append((conv.id, is_open, is_unread))
            tally = self.tallies.get(inbox_id)
            if tally is None:
                continue
            if tally.open_ids is not None:
                tally.note(conv.id, is_open=is_open, is_unread=is_unread)
            else:
                # What `before` contributed to this inbox (nothing to the inbox it moved to).
                was_open = not before.closed and before.inbox_id == inbox_id
                was_unread = before.unread and before.inbox_id == inbox_id
                if tally.open_n is not None:
                    tally.open_n = max(0, tally.open_n + int(is_open) - int(was_open))
                if tally.unread_n is not None:
                    tally.unread_n = max(0, tally.unread_n + int(is_unread) - int(was_unread))
            self._announce(inbox_id)

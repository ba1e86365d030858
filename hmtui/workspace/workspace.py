"""The `Workspace`: the one owner of what the user sees and acts on, in plain asyncio.

It holds the inboxes, the selected inbox's list, **the current conversation** (what the thread
shows, what its header names, what `c u a t y e` act on) and its thread, triage, the connection
state and the refresh cycle. The UI turns keys into calls here and draws what `Listener` hears;
it decides nothing. Modelled on aerc's `lib/msgstore.go`: one store owns the list, the selection
and the optimistic marks; widgets draw from it.

How the current conversation moves: the list cursor (after the preview delay, and a pending
preview is applied before any action acts), Enter, auto-advance after triage, a status or text
filter that hides it, an inbox switch, next unread, a search result, a deep link
(`--inbox/--phone`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hmtui.api import ApiError, Conversation, HeymarketClient, Id, Inbox, RetryEvent, normalize_phone
from hmtui.api.limiter import background
from hmtui.api.models import Team
from hmtui.cache import NullStore, Store, StoreWriter
from hmtui.safe_text import one_line
from hmtui.workspace.actions import TriageKeys
from hmtui.workspace.connection import RETRYING, Connection
from hmtui.workspace.conversations import STATUS_FILTERS, ConversationsState
from hmtui.workspace.events import Listener
from hmtui.workspace.queue_keys import QueueKeys
from hmtui.workspace.refresh import Cadence, InboxCounts, NewMessage, Refresher, RefreshObserver
from hmtui.workspace.replies import Replies
from hmtui.workspace.tasks import Job, Tasks
from hmtui.workspace.thread import Thread
from hmtui.workspace.triage import Triage, acting_member

if TYPE_CHECKING:
    from hmtui.workspace.alerts import Alerts

# How long the list cursor must rest on a row before its thread (or inbox) is fetched.
PREVIEW_DELAY = 0.15
# After failures, the background refresh waits longer each time, up to this.
MAX_REFRESH_BACKOFF = 60.0


class _RefreshEvents(RefreshObserver):
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def counts_changed(self, inbox_id: Id, counts: InboxCounts) -> None:
        self.ws.listener.counts_changed(inbox_id, counts)
        if self.ws.alerts is not None:  # the terminal title's unread count (issue 12)
            self.ws.alerts.counts_changed()

    def inboxes_changed(self, inboxes: Sequence[Inbox]) -> None:
        self.ws._inboxes_arrived(inboxes)

    def new_message(self, new: NewMessage) -> None:
        self.ws.listener.new_message(new)

    def inbound(self, new: NewMessage, on_screen: bool) -> None:
        if self.ws.alerts is not None:  # desktop notifications (issue 12)
            self.ws.alerts.inbound(new, on_screen)


class Workspace(TriageKeys, QueueKeys):
    def __init__(
        self,
        client: HeymarketClient,
        *,
        store: Store | None = None,
        writer: StoreWriter | None = None,
        listener: Listener | None = None,
        user_id: Id | None = None,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        preview_delay: float = PREVIEW_DELAY,
        start_inbox: Id | None = None,
        start_phone: str | None = None,
        prefetched_inboxes: Awaitable[list[Inbox]] | None = None,
        cadence: Cadence | None = None,
        refresh_interval: float = 0.0,
        spawn: Any = None,
    ) -> None:
        self.client = client
        self.store: Store = store or NullStore()
        self.writer = writer
        self.listener = listener or Listener()
        self.user_id = user_id
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self.preview_delay = preview_delay
        self.start_inbox = start_inbox
        self.start_phone = start_phone
        self.prefetched_inboxes = prefetched_inboxes
        self.cadence = cadence
        self.connection = Connection(clock, on_change=lambda: self.listener.connection_changed())
        client.on_retry = self._on_retry
        self.refresh_interval = refresh_interval  # 0: no background refresh (tests drive it)
        self.tasks = Tasks(self.report, spawn, on_success=self._job_done)
        self.conversations = ConversationsState()
        self.thread = Thread(self)
        self.triage = Triage(self)
        self.replies = Replies(self)  # the outbox, its marks, drafts, templates (issue 9)
        self.team: Team | None = None
        self.member_names: dict[Id, str] = {}
        self.refreshed_at: datetime | None = None
        # Network work waits for the first frame when the cache has something to show: the
        # revalidation must not compete with painting what we already know.
        self.ready = asyncio.Event()
        self._preview: tuple[Conversation, bool] | None = None
        self._preview_handle: asyncio.TimerHandle | None = None
        self._inbox_handle: asyncio.TimerHandle | None = None
        self._follow_first = False  # the selected inbox's first conversation becomes current when it arrives
        self._refresher: Refresher | None = None
        self._counting = False
        self._last_search = ""
        self.alerts: Alerts | None = None  # notifications and the title: the app attaches them

    # -- what the UI reads ---------------------------------------------------------------------

    @property
    def current(self) -> Conversation | None:
        """THE current conversation."""
        return self.thread.state.conversation

    @property
    def inbox(self) -> Inbox | None:
        return self.conversations.inbox

    @property
    def inboxes(self) -> list[Inbox]:
        return self.conversations.inboxes

    def acting_member(self, inbox: Inbox | None = None) -> Id | None:
        return acting_member(inbox or self.conversations.inbox, self.user_id)

    # -- plumbing: cache, loading, errors --------------------------------------------------------

    def cache(self, method: str, *args: object) -> None:
        """Keep what just arrived: written on the writer's thread, never on the event loop."""
        if self.writer is not None:
            self.writer.submit(method, *args)

    @contextlib.contextmanager
    def loading(self, key: str, label: str) -> Iterator[None]:
        self.listener.loading(key, label)
        try:
            yield
        finally:
            self.listener.loading(key, None)

    def report(self, error: BaseException) -> None:
        """The one place a failure of the workspace's work goes: the connection state decides
        what the user is told (offline is a state, not a toast per request)."""
        if not isinstance(error, ApiError):
            self.listener.unexpected(error)
            return
        verdict = self.connection.failed(error)
        if verdict.error:
            self.listener.notice(verdict.error, severity="error", title="Error", timeout=8)
        elif verdict.notice:
            self.listener.notice(verdict.notice, severity="warning", title="Offline", timeout=8)

    def succeeded(self) -> None:
        was = self.connection.state
        self.connection.succeeded()
        self.thread.state.older_paused_until = 0.0
        if was != self.connection.state:  # connected at start, or the connection came back
            self.replies.flush()

    def _job_done(self) -> None:
        # A job that ended without an error had every request answered: a retry it went
        # through worked, so "retrying" is over.
        if self.connection.state == RETRYING:
            self.succeeded()

    def _on_retry(self, event: RetryEvent) -> None:
        # Called on the event loop by the client, before it waits.
        self.connection.retrying(event)

    def run(self, kind: str, coro: Any, *, exclusive: bool = True) -> Job:
        return self.tasks.run(kind, coro, exclusive=exclusive)

    async def idle(self) -> None:
        """Until the workspace's work is done (a pending preview applied first)."""
        self.flush_preview()
        await self.tasks.idle()

    def close(self) -> None:
        for handle in (self._preview_handle, self._inbox_handle):
            if handle is not None:
                handle.cancel()
        self.tasks.cancel_all()
        self.thread.close()

    # -- start-up --------------------------------------------------------------------------------

    def start(self, *, wait_for_frame: bool = False) -> None:
        """What the cache knew goes out at once (inboxes, list and thread); the server
        revalidates it. With `wait_for_frame`, network work waits for `frame_painted()`."""
        self.replies.restore()
        cached = self.store.inboxes()
        if not cached or not wait_for_frame:
            self.ready.set()
        if cached:
            team = self.store.team()
            if team is not None:
                self._set_team(team)
            self._start_on(cached)
        self.run("initial", self._load_initial(cached=bool(cached)))

    def frame_painted(self) -> None:
        self.ready.set()

    async def _load_initial(self, *, cached: bool) -> None:
        await self.ready.wait()
        try:
            with self.loading("inboxes", "loading inboxes…"):
                prefetched, self.prefetched_inboxes = self.prefetched_inboxes, None
                inboxes = await (prefetched or self.client.inboxes())
        except Exception:
            # Whatever failed, the refresh loop keeps trying, so the app recovers by itself.
            self.start_refresh_loop()
            raise
        self.succeeded()
        self._refreshed()
        self.cache("put_inboxes", inboxes)
        if cached:
            self._set_inboxes(inboxes)
        else:
            self._start_on(inboxes)
        self.load_team()
        self.scan_counts()
        self.start_refresh_loop()

    def _start_on(self, inboxes: Sequence[Inbox]) -> None:
        """Show these inboxes and open the one asked for (or the first), and its thread if asked."""
        self._set_inboxes(inboxes)
        if not inboxes:
            self.listener.no_inboxes("No inboxes for these credentials")
            return
        wanted = self.start_inbox
        start = self.conversations.inbox_by_id(wanted)
        if wanted is not None and start is None:
            self.listener.notice(f"No inbox with id {one_line(wanted, 40)}; showing the first one", severity="warning")
        start = start or inboxes[0]
        if self.start_phone:
            self.select_inbox(start, open_first=False)
            self.open_by_number(start, self.start_phone)
        else:
            self.select_inbox(start)

    def _inboxes_arrived(self, inboxes: Sequence[Inbox]) -> None:
        """The refresh brought the inbox list."""
        self.cache("put_inboxes", list(inboxes))
        if self.conversations.inbox is None:  # we started offline with nothing cached: start now
            self._start_on(inboxes)
            self.load_team()
        else:
            self._set_inboxes(inboxes)

    def load_team(self) -> Job:
        return self.run("team", self._load_team())

    async def _load_team(self) -> None:
        team = await self.client.team()
        self.cache("put_team", team)
        self._set_team(team)

    def _set_team(self, team: Team) -> None:
        self.team = team
        self.member_names = {m.id: m.name for m in team.members}
        self.listener.team_changed(self.member_names)
        self.listener.current_changed(self.current)

    def _set_inboxes(self, inboxes: Sequence[Inbox]) -> None:
        self.conversations.set_inboxes(inboxes)
        selected = self.conversations.inbox
        self.listener.inboxes_changed(self.conversations.inboxes, selected.id if selected else None)

    # -- the current conversation ----------------------------------------------------------------

    def set_current(self, conversation: Conversation | None, *, move_cursor: bool = False) -> None:
        self._cancel_preview()
        self.thread.open(conversation)
        if move_cursor and conversation is not None:
            self.listener.cursor_moved(conversation.id)

    def open(self, conversation: Conversation) -> None:
        """Enter on a row: this one, now."""
        self.set_current(conversation)

    def preview(self, conversation: Conversation, *, move_cursor: bool = False) -> None:
        """The list cursor came to rest on `conversation`: it becomes current after the preview
        delay (holding j does not fetch every thread it passes)."""
        current = self.current
        if current is not None and current.id == conversation.id:
            self._cancel_preview()
            return
        if self.preview_delay <= 0 or current is None:  # the first one shows at once
            self.set_current(conversation, move_cursor=move_cursor)
            return
        self._cancel_preview()
        self._preview = (conversation, move_cursor)
        self._preview_handle = asyncio.get_running_loop().call_later(self.preview_delay, self.flush_preview)

    def flush_preview(self) -> None:
        """Apply a pending preview now: before any action acts, so a key never acts on something
        the screen does not show."""
        pending = self._preview
        self._cancel_preview()
        if pending is not None:
            self.set_current(pending[0], move_cursor=pending[1])

    def _cancel_preview(self) -> None:
        self._preview = None
        if self._preview_handle is not None:
            self._preview_handle.cancel()
            self._preview_handle = None

    @property
    def preview_pending(self) -> bool:
        return self._preview is not None

    @property
    def timers_pending(self) -> bool:
        """A preview (list or sidebar) waits for its delay."""
        return self._preview is not None or self._inbox_handle is not None

    def _follow_list(self) -> None:
        """The list changed under the current conversation (a filter, another inbox): if it is no
        longer shown, the first shown one becomes current."""
        visible = self.conversations.visible
        current = self.current
        if visible and (current is None or all(c.id != current.id for c in visible)):
            self.preview(visible[0], move_cursor=True)

    def open_by_number(self, inbox: Inbox, number: str) -> None:
        """Open (inbox, number) straight away, even before it shows in the list."""
        target = normalize_phone(number)
        found = next((c for c in self.conversations.items if c.target == target and c.inbox_id == inbox.id), None)
        placeholder = Conversation.from_raw(
            {"id": f"{inbox.id}:{target}", "inbox": inbox.id, "target": target, "hmtui_placeholder": True}
        )
        assert placeholder is not None
        self._follow_first = False
        self.listener.focus_thread()
        self.set_current(found or placeholder, move_cursor=found is not None)

    # -- inboxes and the list --------------------------------------------------------------------

    def preview_inbox(self, inbox: Inbox) -> None:
        """The sidebar cursor came to rest on `inbox`."""
        if self._inbox_handle is not None:
            self._inbox_handle.cancel()
            self._inbox_handle = None
        if self.preview_delay <= 0:
            self.select_inbox(inbox)
            return
        self._inbox_handle = asyncio.get_running_loop().call_later(self.preview_delay, self._select_previewed, inbox)

    def _select_previewed(self, inbox: Inbox) -> None:
        self._inbox_handle = None
        self.select_inbox(inbox)

    def select_inbox(self, inbox: Inbox, *, open_first: bool = True) -> None:
        if self._inbox_handle is not None:
            self._inbox_handle.cancel()
            self._inbox_handle = None
        lists = self.conversations
        if lists.inbox is not None and inbox.id == lists.inbox.id and lists.pager is not None:
            return
        lists.inbox = inbox
        lists.pager = None
        self.queue_inbox_selected(inbox)  # its owner choice (issue 12)
        self.listener.inboxes_changed(lists.inboxes, inbox.id)
        self._follow_first = open_first
        self._show_cached_list()
        self.load_conversations()

    def _show_cached_list(self) -> None:
        lists = self.conversations
        if lists.inbox is None:
            return
        lists.items = self.store.conversations(lists.inbox.id, closed=lists.closed)
        current = self.current
        self.listener.list_changed(lists.items, current.id if current else None)
        self.listener.list_title_changed()
        if self._follow_first:
            if lists.visible:
                self._follow_first = False
                self._follow_list()
            elif current is not None and current.inbox_id != lists.inbox.id:
                self.set_current(None)  # another inbox's conversation is not shown under this one

    def set_status_filter(self, which: str) -> None:
        lists = self.conversations
        if which not in STATUS_FILTERS or which == lists.status_filter:
            return
        self.flush_preview()
        lists.status_filter = which
        self._follow_first = True
        self._show_cached_list()
        self.load_conversations()

    def set_filter(self, text: str) -> None:
        """The `/` text filter of the list."""
        self.conversations.filter_text = text
        self.listener.list_title_changed()
        self._follow_list()

    def load_conversations(self) -> Job:
        return self.run("conversations", self._load_conversations())

    async def _load_conversations(self) -> None:
        lists = self.conversations
        inbox = lists.inbox
        if inbox is None:
            return
        member = self.acting_member(inbox)
        if member is None:
            lists.pager = None
            lists.items = []
            self.listener.list_changed([], None)
            self.listener.list_empty_text("This inbox has no members to list it as: set user_id in the config")
            return
        lists.pager = pager = self.client.conversation_pager(inbox.id, member, closed=lists.closed)
        lists.loading_more = False
        cached = bool(lists.items)
        await self.ready.wait()
        self.listener.list_empty_text("Loading conversations…")
        with self.loading("conversations", "loading conversations…"):
            first = await pager.older()
        if pager is not lists.pager:
            return
        self.succeeded()
        self.cache("put_conversations", first)
        label = lists.status_filter if lists.status_filter != "all" else ""
        self.listener.list_empty_text(f"No {label} conversations".replace("  ", " "))
        if cached:
            self._merge_head(first)
        else:
            lists.items = list(first)
            current = self.current
            self.listener.list_changed(lists.items, current.id if current else None)
        self._adopt_listed()
        if self._follow_first and lists.visible:
            self._follow_first = False
            self._follow_list()
        self.listener.list_title_changed()

    def _adopt_listed(self) -> None:
        """A conversation opened by number (a placeholder) that the list now holds becomes the
        listed one, and the cursor goes to it."""
        current = self.current
        if current is None or not current.raw.get("hmtui_placeholder"):
            return
        found = next((c for c in self.conversations.items
                      if c.target == current.target and c.inbox_id == current.inbox_id), None)
        if found is not None:
            self.thread.state.conversation = found
            self.listener.current_changed(found)
            self.listener.cursor_moved(found.id)

    def load_more_conversations(self) -> Job | None:
        lists = self.conversations
        if lists.pager is None or lists.pager.exhausted or lists.loading_more:
            return None
        return self.run("conversations-more", self._load_more())

    async def _load_more(self) -> None:
        lists = self.conversations
        pager = lists.pager
        if pager is None:
            return
        lists.loading_more = True
        try:
            with self.loading("more", "loading more conversations…"):
                more = await pager.older()
        finally:
            lists.loading_more = False
        if pager is lists.pager and more:
            self.cache("put_conversations", more)
            lists.extend(more)
            self.listener.list_extended(more)
            self.listener.list_title_changed()

    def _merge_head(self, head: Sequence[Conversation]) -> None:
        lists = self.conversations
        lists.merge_head(head)
        current = self.current
        self.listener.list_changed(lists.items, current.id if current else None)
        fresh = {c.id: c for c in head}
        if current is not None and current.id in fresh:
            self.thread.update(fresh[current.id])  # same thread: only its fields change
        self.listener.list_title_changed()

    # -- next unread -----------------------------------------------------------------------------

    def next_unread(self, step: int) -> Job:
        self.flush_preview()
        return self.run("jump", self._next_unread(step))

    async def _next_unread(self, step: int) -> None:
        lists = self.conversations
        visible = lists.visible
        current = self.current
        here = next((n for n, c in enumerate(visible) if current is not None and c.id == current.id), None)
        index = (here if here is not None else (-1 if step > 0 else len(visible))) + step
        while 0 <= index < len(visible):
            if visible[index].unread:
                self.set_current(visible[index], move_cursor=True)
                return
            index += step
        # None left here: the next inbox (in sidebar order, wrapping) whose badge says it has unread.
        inboxes, inbox = lists.inboxes, lists.inbox
        if not inboxes or inbox is None:
            return
        at = next((n for n, i in enumerate(inboxes) if i.id == inbox.id), 0)
        for offset in range(1, len(inboxes) + 1):
            candidate = inboxes[(at + step * offset) % len(inboxes)]
            if self.refresher.counts(candidate.id).unread and candidate.id != inbox.id:
                self.select_inbox(candidate, open_first=False)
                job = self.tasks.job("conversations")
                if job is not None:
                    await job.wait()
                if lists.inbox is not candidate:
                    return
                unread = [c for c in lists.visible if c.unread]
                if unread:
                    self.set_current(unread[0] if step > 0 else unread[-1], move_cursor=True)
                    return
                # Its unread ones are hidden by that inbox's owner choice (issue 12): on to the next.
        self.listener.notice("No more unread conversations")

    # -- search ----------------------------------------------------------------------------------

    @property
    def search_enabled(self) -> bool:
        """Search reads the local cache: off when the cache is."""
        return self.store.enabled

    def search(self, query: str, *, limit: int = 200) -> list[Any]:
        """Every cached message matching `query` (hmtui.cache.search's hits)."""
        self._last_search = query
        return self.store.search(query, limit=limit)

    @property
    def last_search(self) -> str:
        return self._last_search

    def open_search_hit(self, hit: Any, query: str | None = None) -> bool:
        """Open a search hit's conversation and show its message; False if its inbox is gone."""
        inbox = self.conversations.inbox_by_id(hit.inbox_id)
        if inbox is None:
            self.listener.notice("That message's inbox is not available any more")
            return False
        if self.conversations.inbox is None or self.conversations.inbox.id != inbox.id:
            self.select_inbox(inbox, open_first=False)
        self.thread.state.pending_jump = (hit.message.id, query if query is not None else self._last_search)
        here = self.current
        if (here is not None and here.inbox_id == hit.inbox_id and here.target == hit.target
                and self.thread.state.pager is not None):
            self.thread._jump_if_pending()
        else:
            self.open_by_number(inbox, hit.target)
        return True

    # -- refresh ---------------------------------------------------------------------------------

    @property
    def refresher(self) -> Refresher:
        if self._refresher is None:
            kw: dict[str, Any] = {"cadence": self.cadence} if self.cadence is not None else {}
            self._refresher = Refresher(
                self.client,
                member_for=self.acting_member,
                observer=_RefreshEvents(self),
                list_head=self._refresh_list_head,
                thread=self.thread.refresh_newer,
                current=lambda: self.current,
                selected=lambda: self.inbox.id if self.inbox is not None else None,
                background=background,  # its requests yield to keys (hmtui/api/limiter.py)
                **kw,
            )
        return self._refresher

    def _refreshed(self) -> None:
        self.refreshed_at = self.clock()
        self.listener.refreshed()

    async def refresh_all(self, *, force: bool = False) -> None:
        """One refresh cycle (the refresher keeps it within budget); `force` (ctrl+r / r)
        refreshes the inboxes, the list head and the open thread now."""
        self.client.signer.token()  # keep the JWT fresh even when idle
        with self.loading("refresh", "refreshing…"):
            await self.refresher.cycle(force=force)
        if self.alerts is not None:
            self.alerts.flush()  # this cycle's new inbound messages, decided together
        if not self.refresher.started and not self._counting and self.inboxes:
            self.scan_counts()  # the count at start failed or never ran (offline): now
        self.succeeded()
        self._refreshed()

    def refresh_now(self) -> Job:
        return self.run("refresh", self.refresh_all(force=True))

    def start_refresh_loop(self, interval: float | None = None) -> None:
        if interval is not None:
            self.refresh_interval = interval
        if self.refresh_interval > 0 and not self.tasks.running("refresh-loop"):
            self.run("refresh-loop", self._refresh_loop())

    async def _refresh_loop(self) -> None:
        delay = self.refresh_interval
        while True:
            self.connection.next_try(delay)
            await self.sleep(delay)
            try:
                with background():  # a timed refresh yields to keys (hmtui/api/limiter.py)
                    await self.refresh_all()
            except Exception as error:  # the loop must outlive any one failed refresh
                self.report(error)
                delay = min(max(delay, 1.0) * 2, MAX_REFRESH_BACKOFF)
            else:
                delay = self.refresh_interval

    async def _refresh_list_head(self) -> None:
        lists = self.conversations
        inbox, pager = lists.inbox, lists.pager
        member = self.acting_member(inbox)
        if inbox is None or pager is None or member is None:
            return
        head = await self.client.conversations(inbox.id, member, closed=lists.closed)
        if pager is not lists.pager or not head:
            return
        self.cache("put_conversations", head)
        pager.resume([c.id for c in head], None)
        self._merge_head(head)

    def scan_counts(self) -> Job:
        return self.run("counts", self._scan_counts())

    async def _scan_counts(self) -> None:
        """The feed's starting point (no toasts for the backlog) and every inbox's badges, paced;
        from then on the refresh cycle keeps them."""
        self._counting = True
        try:
            await self.refresher.start(self.inboxes)
            if self.alerts is not None:
                self.alerts.prime_from_feed()  # what the feed started on is backlog (issue 12)
        finally:
            self._counting = False

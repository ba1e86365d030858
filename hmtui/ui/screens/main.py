"""The main screen: inbox sidebar, conversation list and thread, and every action on them.

Network work runs in workers; widgets only ever receive data that has already arrived, so no
keypress waits on the network. Worker failures go to `HmtuiApp.report_error`, the one place that
turns them into the status line and a single toast.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from hmtui.api import ApiError, Conversation, Id, Inbox, Message, NetworkError, Pager, normalize_phone
from hmtui.api.limiter import background
from hmtui.api.models import Team
from hmtui.safe_text import one_line
from hmtui.ui.export import export_path, render_jsonl, render_markdown, write_export
from hmtui.ui.errors import Guarded
from hmtui.ui.screens.picker import PickerScreen
from hmtui.ui.widgets.conversation_list import ConversationList
from hmtui.ui.widgets.inbox_sidebar import InboxSidebar, format_phone
from hmtui.ui.widgets.status_line import StatusLine
from hmtui.ui.widgets.thread_view import ThreadView
from hmtui.workspace.refresh import Refresher

if TYPE_CHECKING:
    from hmtui.ui.app import HmtuiApp

STATUS_FILTERS = {"open": False, "closed": True, "all": None}
# How long the cursor must rest on a row before its thread (or inbox) is fetched.
PREVIEW_DELAY = 0.15
NARROW_WIDTH = 100
# Messages read from the cache at a time (a local read: a few ms).
CACHE_PAGE = 100
OLDER_RETRY_PAUSE = 5.0


class MainScreen(Guarded, Screen[None]):
    BINDINGS = [
        Binding("tab", "app.focus_next", "Next pane", id="app.focus_next", show=False),
        Binding("shift+tab", "app.focus_previous", "Previous pane", id="app.focus_previous", show=False),
        Binding("escape", "back", "Back", id="app.back", show=False),
        Binding("slash", "filter", "Filter", id="conversations.filter"),
        Binding("n", "next_unread", "Next unread", id="conversations.next_unread"),
        Binding("N", "previous_unread", "Prev unread", id="conversations.previous_unread", show=False),
        Binding("1", "show('open')", "Open", id="conversations.show_open", show=False),
        Binding("2", "show('closed')", "Closed", id="conversations.show_closed", show=False),
        Binding("3", "show('all')", "All", id="conversations.show_all", show=False),
        Binding("c", "toggle_closed", "Close/reopen", id="conversation.close"),
        Binding("u", "toggle_unread", "Read/unread", id="conversation.unread"),
        Binding("a", "reassign", "Assign", id="conversation.reassign"),
        Binding("t", "transfer", "Transfer", id="conversation.transfer"),
        Binding("y", "copy_number", "Copy №", id="conversation.copy_number"),
        Binding("o", "open_link", "Open link", id="thread.open_link"),
        Binding("e", "export", "Export", id="thread.export"),
        Binding("r", "refresh", "Refresh", id="app.refresh"),
        Binding("ctrl+f", "search", "Search", id="search.open"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.inboxes: list[Inbox] = []
        self.team: Team | None = None
        self.member_names: dict[Id, str] = {}
        self.inbox: Inbox | None = None
        self.status_filter = "open"
        self.conversation_pager: Pager[Conversation] | None = None
        self.conversation: Conversation | None = None  # the one whose thread is open
        self.thread_pager: Pager[Message] | None = None
        self._loading_more = False
        self._find_hits: list[tuple[float, Id]] = []  # (time, id) of the thread's matches, oldest first
        self._last_search = ""
        self._pending_jump: tuple[Id, str] | None = None  # (message id, query) to show once its thread is open
        self.older_paused_until = 0.0  # after a failed older page, until when not to ask again
        self._cache_left = False  # the cache holds older messages of the open thread than shown
        self._view_oldest: Message | None = None  # the oldest dated message shown
        self._preview_timer: Timer | None = None
        self._find_timer: Timer | None = None
        self._first_frame = asyncio.Event()
        self._inbox_timer: Timer | None = None
        self._refresher: Refresher | None = None
        self._counting = False

    @property
    def hm(self) -> HmtuiApp:
        return self.app  # type: ignore[return-value]

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        app = self.hm
        with Horizontal(id="main"):
            with Vertical(id="sidebar-pane", classes="pane"):
                yield Static("Inboxes", id="sidebar-title", classes="pane-title")
                yield InboxSidebar(id="inboxes", empty_text="Loading inboxes…")
            with Vertical(id="list-pane", classes="pane"):
                yield Static("", id="list-title", classes="pane-title")
                yield Input(placeholder="filter by name, number or text", id="filter")
                yield ConversationList(id="conversations", clock=app.clock, empty_text="No conversations")
            with Vertical(id="thread-pane", classes="pane"):
                yield Static("", id="thread-title", classes="pane-title")
                yield Input(placeholder="find in this thread (enter: go; n / N: next / previous)", id="find")
                yield ThreadView(id="thread", tz=app.tz)
        yield StatusLine(id="status", clock=app.clock, tz=app.tz)
        yield Footer(compact=True)

    @property
    def sidebar(self) -> InboxSidebar:
        return self.query_one(InboxSidebar)

    @property
    def conversations(self) -> ConversationList:
        return self.query_one(ConversationList)

    @property
    def thread(self) -> ThreadView:
        return self.query_one(ThreadView)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    def on_mount(self) -> None:
        # Printed on stderr before the TUI too, where the TUI hides them: shown here once.
        for warning in self.hm.config.warnings:  # e.g. a config file others can read
            self.notify(one_line(warning, 300), title="Config", severity="warning", markup=False, timeout=15)
        self.thread.clear_thread("Select a conversation")
        self._update_list_title()
        self.conversations.focus()
        # What the cache knew goes into the very first frame (inboxes, list and thread); the
        # server revalidates it in the workers.
        store = self.hm.store
        for warning in store.warnings:  # e.g. a corrupt cache file that was set aside and rebuilt
            self.notify(one_line(warning, 300), title="Cache", severity="warning", markup=False, timeout=10)
        store.on_warning = self.hm.cache_warning  # and those that arise from now on (a full disk)
        cached = store.inboxes()
        # Network work waits for the first frame when the cache has something to show: the
        # revalidation must not compete with painting what we already know.
        self._first_frame = asyncio.Event()
        self.call_after_refresh(self._first_frame.set)
        if not cached:
            self._first_frame.set()
        if cached:
            team = store.team()
            if team is not None:
                self._set_team(team)
            self._start_on(cached)
        self.load_initial(cached=bool(cached))

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW_WIDTH, "-narrow")
        if self.size.width >= NARROW_WIDTH:
            self.remove_class("-show-sidebar")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Worker messages do not bubble: this screen's workers report here, all to one place.
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.hm.report_error(event.worker.error)

    # -- start-up and loading --------------------------------------------------------------------

    @work(exclusive=True, group="initial", exit_on_error=False)
    async def load_initial(self, *, cached: bool) -> None:
        app = self.hm
        await self._first_frame.wait()
        self.status.start("inboxes", "loading inboxes…")
        try:
            prefetched, app.prefetched_inboxes = app.prefetched_inboxes, None
            inboxes = await (prefetched or app.client.inboxes())
        except Exception:
            # Whatever failed (an API error or anything else), the refresh loop keeps trying,
            # so the app recovers by itself.
            app.start_refresh_loop()
            raise
        finally:
            self.status.stop("inboxes")
        app.report_success()
        self.status.set_refreshed(app.clock())
        app.cache("put_inboxes", inboxes)
        if cached:
            self._set_inboxes(inboxes)
        else:
            self._start_on(inboxes)
        self.load_team()
        self.scan_counts()
        app.start_refresh_loop()

    def _start_on(self, inboxes: Sequence[Inbox]) -> None:
        """Show these inboxes and open the one asked for (or the first), and its thread if asked."""
        app = self.hm
        self._set_inboxes(inboxes)
        if not inboxes:
            self.sidebar.set_empty_text("No inboxes for these credentials")
            return
        wanted = app.start_inbox
        start = next((i for i in inboxes if i.id == wanted), None)
        if wanted is not None and start is None:
            self.notify(f"No inbox with id {one_line(wanted, 40)}; showing the first one", severity="warning", markup=False)
        start = start or inboxes[0]
        self.sidebar.move_cursor(self.inboxes.index(start))
        self.select_inbox(start)
        if app.start_phone:
            self.open_thread_by_number(start, app.start_phone)

    @work(exclusive=True, group="team", exit_on_error=False)
    async def load_team(self) -> None:
        team = await self.hm.client.team()
        self.hm.cache("put_team", team)
        self._set_team(team)

    def _set_team(self, team: Team) -> None:
        self.team = team
        self.member_names = {m.id: m.name for m in team.members}
        self.conversations.set_member_names(self.member_names)
        self.thread.set_member_names(self.member_names)
        self._update_thread_title()

    def _set_inboxes(self, inboxes: Sequence[Inbox]) -> None:
        self.inboxes = list(inboxes)
        keep = self.inbox.id if self.inbox else None
        self.sidebar.set_items(self.inboxes, keep=keep)
        if self.inbox is not None:
            self.inbox = next((i for i in self.inboxes if i.id == self.inbox.id), self.inbox)

    def select_inbox(self, inbox: Inbox) -> None:
        if self.inbox is not None and inbox.id == self.inbox.id and self.conversation_pager is not None:
            return
        self.inbox = inbox
        self.remove_class("-show-sidebar")
        self._show_cached_conversations(inbox)
        self._update_list_title()
        self.load_conversations()

    def _show_cached_conversations(self, inbox: Inbox) -> None:
        cached = self.hm.store.conversations(inbox.id, closed=STATUS_FILTERS[self.status_filter])
        self.conversations.set_items(cached)
        # The first conversation's thread shows with the list, unless a thread was asked for.
        if cached and self.conversation is None and not self.hm.start_phone:
            self.open_thread(cached[0])

    def acting_member(self, inbox: Inbox | None = None) -> Id | None:
        """Who we act as: the configured user if they belong to the inbox, else its first member."""
        inbox = inbox or self.inbox
        configured = self.hm.config.user_id
        if inbox is None:
            return configured
        if configured is not None and (configured in inbox.members or not inbox.members):
            return configured
        return inbox.members[0] if inbox.members else configured

    def _new_conversation_pager(self, inbox: Inbox) -> Pager[Conversation] | None:
        member = self.acting_member(inbox)
        if member is None:
            return None
        return self.hm.client.conversation_pager(inbox.id, member, closed=STATUS_FILTERS[self.status_filter])

    @work(exclusive=True, group="conversations", exit_on_error=False)
    async def load_conversations(self) -> None:
        inbox = self.inbox
        if inbox is None:
            return
        self.conversation_pager = pager = self._new_conversation_pager(inbox)
        self._loading_more = False
        conversations = self.conversations
        if pager is None:
            conversations.set_items([])
            conversations.set_empty_text("This inbox has no members to list it as: set user_id in the config")
            return
        cached = bool(conversations.all_items)
        await self._first_frame.wait()
        conversations.set_empty_text("Loading conversations…")
        self.status.start("conversations", "loading conversations…")
        try:
            first = await pager.older()
        finally:
            self.status.stop("conversations")
        if pager is not self.conversation_pager:
            return
        self.hm.report_success()
        self.hm.cache("put_conversations", first)
        conversations.set_empty_text(f"No {self.status_filter if self.status_filter != 'all' else ''} conversations".replace("  ", " "))
        if cached:
            self._merge_head(first)
        else:
            conversations.set_items(first)
        self._update_list_title()

    @work(exclusive=True, group="conversations-more", exit_on_error=False)
    async def load_more_conversations(self) -> None:
        pager = self.conversation_pager
        if pager is None or pager.exhausted or self._loading_more:
            return
        self._loading_more = True
        self.status.start("more", "loading more conversations…")
        try:
            more = await pager.older()
        finally:
            self._loading_more = False
            self.status.stop("more")
        if pager is self.conversation_pager and more:
            self.hm.cache("put_conversations", more)
            self.conversations.extend(more)
            self._update_list_title()

    # -- the thread ------------------------------------------------------------------------------

    def open_thread(self, conversation: Conversation) -> None:
        if self.conversation is not None and self.conversation.id == conversation.id and self.thread_pager is not None:
            self.conversation = conversation
            self._update_thread_title()
            return
        self.conversation = conversation
        self.thread_pager = None
        self._update_thread_title()
        _release_history()
        if not self._show_cached_thread(conversation):
            self.thread.clear_thread("Loading…")
        self.load_thread(conversation)

    def _show_cached_thread(self, conversation: Conversation) -> bool:
        """Paint the newest cached page of a thread (a local read of one page); False if none."""
        inbox_id, target = conversation.inbox_id, conversation.target
        if inbox_id is None or not target:
            return False
        store = self.hm.store
        state = store.thread_state(inbox_id, target)
        if not state.count:
            return False
        cached = store.messages(inbox_id, target, limit=CACHE_PAGE)
        self._cache_left = len(cached) < state.count
        self._show_thread(conversation, cached, at_start=state.complete and not self._cache_left)
        return True

    @work(exclusive=True, group="thread", exit_on_error=False)
    async def load_thread(self, conversation: Conversation) -> None:
        """Paint the cached history at once and fetch only what is newer; with nothing cached,
        fetch the newest page."""
        inbox_id, target = conversation.inbox_id, conversation.target
        if inbox_id is None or not target:
            self.thread.clear_thread(conversation.history_unavailable or "This conversation has no number to load")
            return
        app = self.hm
        await self._first_frame.wait()
        pager = app.client.message_pager(inbox_id, target)
        state = app.store.thread_state(inbox_id, target)
        if state.count:
            # The cached page is on screen (open_thread): continue paging from the cache's seams.
            pager.resume(app.store.message_ids(inbox_id, target), state.cursor)
            pager.exhausted = pager.complete = state.complete
            self.thread_pager = pager
            self.status.start("thread", "checking for new messages…")
            try:
                newer = await pager.newer()
            finally:
                self.status.stop("thread")
            if pager is self.thread_pager and newer:
                app.cache("put_messages", inbox_id, target, newer)
                self.thread.append(newer)
            app.report_success()
            return
        self.status.start("thread", "loading thread…")
        try:
            first = await pager.older()
        except ApiError as error:
            if self.conversation is not None and self.conversation.id == conversation.id:
                why = "not cached, and hmtui is offline" if isinstance(error, NetworkError) else str(error)
                self.thread.clear_thread(f"Could not load this conversation: {why}")
            raise
        finally:
            self.status.stop("thread")
        if self.conversation is None or self.conversation.id != conversation.id:
            return
        app.report_success()
        self._remember_page(inbox_id, target, first, pager)
        self.thread_pager = pager
        self._cache_left = False
        self._show_thread(conversation, first, at_start=pager.exhausted)

    def _show_thread(self, conversation: Conversation, messages: Sequence[Message], *, at_start: bool) -> None:
        if conversation.raw.get("hmtui_placeholder"):
            # Opened by number: the messages carry the real conversation object.
            raw = next((m.raw["conversation"] for m in messages if isinstance(m.raw.get("conversation"), dict)), None)
            real = Conversation.from_raw({"inbox": conversation.inbox_id, "target": conversation.target, **raw}) if raw else None
            if real is not None:
                conversation = self.conversation = real
                self._update_thread_title()
        self._view_oldest = _oldest(messages)
        self.thread.set_thread(messages, contact=conversation.display_name, at_start=at_start)
        if self.thread.highlight:
            self._set_find("")  # a find belongs to the thread it was made in
        self._jump_if_pending()

    def _remember_page(self, inbox_id: Id, target: str, messages: Sequence[Message], pager: Pager[Message]) -> None:
        app = self.hm
        if messages:
            app.cache("put_messages", inbox_id, target, messages)
        if pager.complete:  # exhausted on evidence, not given up (see hmtui.api.paging)
            app.cache("mark_thread_complete", inbox_id, target)

    def open_thread_by_number(self, inbox: Inbox, number: str) -> None:
        """Open (inbox, number) straight away, even before it shows in the list."""
        target = normalize_phone(number)
        self.thread.focus()
        found = next((c for c in self.conversations.all_items if c.target == target), None)
        placeholder = Conversation.from_raw(
            {"id": f"{inbox.id}:{target}", "inbox": inbox.id, "target": target, "hmtui_placeholder": True}
        )
        assert placeholder is not None
        self.open_thread(found or placeholder)

    @on(ThreadView.NearTop)
    def _near_top(self, event: ThreadView.NearTop) -> None:
        event.stop()
        if time.monotonic() >= self.older_paused_until or self._cache_left:
            self.load_older()

    @work(exclusive=True, group="older", exit_on_error=False)
    async def load_older(self) -> None:
        pager, thread = self.thread_pager, self.thread
        # One request at a time: a gesture that keeps asking while a page is on its way is ignored.
        if pager is None or pager.exhausted or thread.loading_older:
            return
        conversation = self.conversation
        if self._cache_left and conversation is not None and conversation.inbox_id is not None and conversation.target:
            if self._prepend_from_cache(conversation.inbox_id, conversation.target):
                return
        thread.set_loading_older(True)
        self.status.start("older", "loading older…")
        try:
            try:
                older = await pager.older()
            except ApiError:
                # The view asks again as soon as loading stops: without a pause, an unreachable
                # server would be asked in a loop. A refresh that succeeds lifts the pause.
                self.older_paused_until = time.monotonic() + OLDER_RETRY_PAUSE
                raise
            if pager is self.thread_pager:
                if conversation is not None and conversation.inbox_id is not None and conversation.target:
                    self._remember_page(conversation.inbox_id, conversation.target, older, pager)
                self._view_oldest = _oldest([*older, *filter(None, [self._view_oldest])])
                # prepend first: clearing the flag while still at the top asks for the next page.
                thread.prepend(older, at_start=pager.exhausted)
                _settle_history()
        finally:
            self.status.stop("older")
            if pager is self.thread_pager:
                thread.set_loading_older(False)

    def _prepend_from_cache(self, inbox_id: Id, target: str) -> bool:
        """The next older page from the cache; False once the cache has nothing older."""
        thread, store = self.thread, self.hm.store
        # Paged by (date, id) from the oldest shown, so messages sharing its second are not skipped.
        oldest = self._view_oldest
        older = store.messages(inbox_id, target, before=oldest.timestamp, before_id=oldest.id,
                               limit=CACHE_PAGE) if oldest is not None else []
        count = thread.message_count
        state = store.thread_state(inbox_id, target)
        thread.prepend(older, at_start=False)
        added = thread.message_count - count
        if added == 0:
            self._cache_left = False
            if state.complete:
                thread.prepend([], at_start=True)
                return True
            return False
        self._view_oldest = _oldest([*older, *filter(None, [self._view_oldest])])
        if thread.message_count >= state.count:
            self._cache_left = False
            if state.complete:
                thread.prepend([], at_start=True)
        _settle_history()
        return True

    # -- titles ----------------------------------------------------------------------------------

    def _update_list_title(self) -> None:
        title = Text()
        if self.inbox is not None:
            title.append(one_line(self.inbox.name or f"inbox {self.inbox.id}", 30), "bold")
            title.append(" · ")
        title.append(f"{self.status_filter}", "italic")
        conversations = self.conversations
        shown, total = len(conversations.items), conversations.total_count
        if conversations.filter_text:
            title.append(f" · “{one_line(conversations.filter_text, 20)}” {shown}/{total}")
        elif total:
            more = "" if self.conversation_pager is None or self.conversation_pager.exhausted else "+"
            title.append(f" · {total}{more}", "dim")
        self.query_one("#list-title", Static).update(title)

    def _update_thread_title(self) -> None:
        title = Text()
        conversation = self.conversation
        if conversation is not None:
            title.append(one_line(conversation.display_name, 40), "bold")
            if conversation.is_group:
                title.append("  " + ", ".join(format_phone(n) for n in conversation.numbers), "dim")
            elif conversation.target and conversation.name:
                title.append("  " + format_phone(conversation.target), "dim")
            title.append(" · " + one_line(conversation.status_label, 20), "dim" if conversation.closed else "green")
            if conversation.unread:
                title.append(" · unread", "bold")
            if conversation.assigned is not None:
                title.append(" · @" + one_line(self.member_names.get(conversation.assigned, str(conversation.assigned)), 24))
        self.query_one("#thread-title", Static).update(title)

    # -- list and sidebar events -----------------------------------------------------------------

    @on(InboxSidebar.Highlighted)
    def _inbox_highlighted(self, event: InboxSidebar.Highlighted) -> None:
        event.stop()
        if event.item is None:
            return
        inbox = event.item
        self._inbox_timer = self._debounce(self._inbox_timer, lambda: self.select_inbox(inbox))

    def _debounce(self, timer: Timer | None, callback: Callable[[], object]) -> Timer | None:
        """Run `callback` once the cursor has rested for the preview delay (at once if it is 0),
        so holding j does not fetch every thread it passes."""
        if timer is not None:
            timer.stop()
        if self.hm.preview_delay <= 0:
            self.call_later(callback)
            return None
        return self.set_timer(self.hm.preview_delay, callback)

    @on(InboxSidebar.Selected)
    def _inbox_selected(self, event: InboxSidebar.Selected) -> None:
        event.stop()
        if event.item is not None:
            if self._inbox_timer is not None:
                self._inbox_timer.stop()
            self.select_inbox(event.item)
            self.remove_class("-show-sidebar")
            self.conversations.focus()

    @on(ConversationList.Highlighted)
    def _conversation_highlighted(self, event: ConversationList.Highlighted) -> None:
        event.stop()
        conversation = event.item
        # Only a cursor the user is moving previews; with the thread focused, what is open stays.
        if conversation is not None and self.focused is self.conversations:
            if self.conversation is None:
                self.open_thread(conversation)  # the first one shows at once: nothing to debounce
            else:
                self._preview_timer = self._debounce(self._preview_timer, lambda: self.open_thread(conversation))
        elif self._preview_timer is not None:
            self._preview_timer.stop()

    @on(ConversationList.Selected)
    def _conversation_selected(self, event: ConversationList.Selected) -> None:
        event.stop()
        if event.item is not None:
            if self._preview_timer is not None:
                self._preview_timer.stop()
            self.open_thread(event.item)
            self.thread.focus()

    @on(ConversationList.NearEnd)
    def _near_end(self, event: ConversationList.NearEnd) -> None:
        event.stop()
        self.load_more_conversations()

    # -- moving and finding ----------------------------------------------------------------------

    def action_back(self) -> None:
        focused = self.focused
        filter_input = self.query_one("#filter", Input)
        if focused is filter_input:
            self._close_filter(clear=True)
        elif focused is self.query_one("#find", Input):
            self._close_find(clear=True)
        elif focused is self.thread and self.thread.highlight:
            self._close_find(clear=True)
        elif focused is self.thread:
            self.conversations.focus()
        elif focused is self.conversations:
            if self.conversations.filter_text:
                self._close_filter(clear=True)
            else:
                self.add_class("-show-sidebar")
                self.sidebar.focus()

    def action_filter(self) -> None:
        if self.focused is self.thread and self.conversation is not None:
            find = self.query_one("#find", Input)
            find.add_class("-active")
            find.focus()
            return
        filter_input = self.query_one("#filter", Input)
        filter_input.add_class("-active")
        filter_input.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.conversations.set_filter(event.value)
        self._update_list_title()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self._close_filter(clear=False)

    def _close_filter(self, *, clear: bool) -> None:
        filter_input = self.query_one("#filter", Input)
        if clear:
            filter_input.value = ""
            self.conversations.set_filter("")
        if not filter_input.value:
            filter_input.remove_class("-active")
        self._update_list_title()
        self.conversations.focus()

    def action_show(self, which: str) -> None:
        if which not in STATUS_FILTERS or which == self.status_filter:
            return
        self.status_filter = which
        if self.inbox is not None:
            self._show_cached_conversations(self.inbox)
        self._update_list_title()
        self.load_conversations()

    def action_next_unread(self) -> None:
        if self.focused is self.thread and self.thread.highlight:
            self._step_find(1)
        else:
            self.jump_unread(1)

    def action_previous_unread(self) -> None:
        if self.focused is self.thread and self.thread.highlight:
            self._step_find(-1)
        else:
            self.jump_unread(-1)

    # -- finding in the thread and searching everything ----------------------------------------

    @on(Input.Changed, "#find")
    def _find_changed(self, event: Input.Changed) -> None:
        # Finding walks the loaded history: once typing pauses, not on every keystroke.
        value = event.value
        self._find_timer = self._debounce(self._find_timer, lambda: self._set_find(value))

    @on(Input.Submitted, "#find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        if self._find_timer is not None:
            self._find_timer.stop()
        if (self.thread.highlight or "") != event.value.strip():
            self._set_find(event.value)
        self.thread.focus()
        if self._find_hits:
            self._step_find(-1, from_end=True)  # the newest match: where reading usually is
        elif event.value.strip():
            self.notify("No match in this thread", markup=False)

    def _close_find(self, *, clear: bool) -> None:
        find = self.query_one("#find", Input)
        if clear:
            find.value = ""
            self._set_find("")
        find.remove_class("-active")
        self.status.stop("find")
        self.thread.focus()

    def _set_find(self, query: str) -> None:
        """Highlight `query` in the thread and collect its matches: the loaded messages, and the
        cached ones not loaded yet (the cache's full-text index finds those)."""
        thread, conversation = self.thread, self.conversation
        query = query.strip()
        thread.set_highlight(query or None)
        self.status.stop("find")
        if not query or conversation is None:
            self._find_hits = []
            return
        loaded = {m.id: m for m in thread.messages()}
        hits = {id_: loaded[id_].timestamp or 0.0 for id_ in thread.matching_ids(query)}
        if conversation.inbox_id is not None and conversation.target:
            for hit in self.hm.store.search(query, inbox_id=conversation.inbox_id, target=conversation.target, limit=1000):
                hits.setdefault(hit.message.id, hit.message.timestamp or 0.0)
        self._find_hits = sorted(((stamp, id_) for id_, stamp in hits.items()), key=_order)

    def _step_find(self, step: int, *, from_end: bool = False) -> None:
        hits = self._find_hits
        if not hits:
            self.notify("No match in this thread", markup=False)
            return
        selected = self.thread.selected_message
        here = (selected.timestamp or 0.0, selected.id) if selected is not None else None
        if from_end or here is None:
            index = len(hits) - 1
        elif step > 0:
            index = next((n for n, hit in enumerate(hits) if _order(hit) > _order(here)), 0)
        else:
            index = next((n for n in range(len(hits) - 1, -1, -1) if _order(hits[n]) < _order(here)), len(hits) - 1)
        self._show_message(hits[index][1])
        self.status.start("find", f"match {index + 1} of {len(hits)}")

    def _show_message(self, message_id: Id) -> None:
        """Select a message, reading older history from the cache until it is loaded."""
        thread, conversation = self.thread, self.conversation
        if conversation is not None and conversation.inbox_id is not None and conversation.target:
            while not thread.has_message(message_id) and self._cache_left:
                if not self._prepend_from_cache(conversation.inbox_id, conversation.target):
                    break
        if thread.has_message(message_id):
            thread.scroll_to_message(message_id)
        else:
            self.notify("That message is not in the history loaded here", markup=False)

    def action_search(self) -> None:
        from hmtui.ui.screens.search import SearchResult, SearchScreen

        store = self.hm.store
        if not store.enabled:
            self.notify("Search needs the local cache, which is turned off (--no-cache or cache = false)",
                        severity="warning", markup=False)
            return
        names = {inbox.id: inbox.name for inbox in self.inboxes}

        def search(query: str) -> list[SearchResult]:
            self._last_search = query
            return [
                SearchResult(
                    key=(hit.inbox_id, hit.target, hit.message.id),
                    inbox_name=names.get(hit.inbox_id, str(hit.inbox_id)),
                    contact=hit.contact or format_phone(hit.target),
                    when=hit.message.date,
                    snippet=hit.snippet,
                    payload=hit,
                )
                for hit in store.search(query, limit=200)
            ]

        self.app.push_screen(SearchScreen(search, tz=self.hm.tz, initial=self._last_search), self._open_search_result)

    def _open_search_result(self, result: object) -> None:
        hit = getattr(result, "payload", None)
        if hit is None:
            return
        inbox = next((i for i in self.inboxes if i.id == hit.inbox_id), None)
        if inbox is None:
            self.notify("That message's inbox is not available any more", markup=False)
            return
        if self.inbox is None or self.inbox.id != inbox.id:
            self.sidebar.move_cursor(self.inboxes.index(inbox))
            self.select_inbox(inbox)
        self._pending_jump = (hit.message.id, self._last_search)
        open_here = self.conversation
        if (open_here is not None and open_here.inbox_id == hit.inbox_id and open_here.target == hit.target
                and self.thread_pager is not None):
            self.thread.focus()
            self._jump_if_pending()
        else:
            self.open_thread_by_number(inbox, hit.target)

    def _jump_if_pending(self) -> None:
        if self._pending_jump is None:
            return
        message_id, query = self._pending_jump
        self._pending_jump = None
        self.query_one("#find", Input).value = query
        self._set_find(query)
        self._show_message(message_id)

    @work(exclusive=True, group="jump", exit_on_error=False)
    async def jump_unread(self, step: int) -> None:
        conversations = self.conversations
        items = conversations.items
        start = conversations.cursor if conversations.cursor is not None else (-1 if step > 0 else len(items))
        index = start + step
        while 0 <= index < len(items):
            if items[index].unread:
                self._show_conversation_at(index)
                return
            index += step
        # None left here: the next inbox (in sidebar order, wrapping) whose badge says it has unread.
        if not self.inboxes or self.inbox is None:
            return
        here = next((n for n, i in enumerate(self.inboxes) if i.id == self.inbox.id), 0)
        for offset in range(1, len(self.inboxes) + 1):
            candidate = self.inboxes[(here + step * offset) % len(self.inboxes)]
            _, unread = self.sidebar.counts(candidate.id)
            if unread and candidate.id != self.inbox.id:
                self.sidebar.move_cursor(self.inboxes.index(candidate))
                self.inbox = candidate
                self._show_cached_conversations(candidate)
                self._update_list_title()
                worker = self.load_conversations()
                try:
                    await worker.wait()
                except (WorkerCancelled, WorkerFailed):
                    # Another load replaced this one (a key moved on), or it failed and said so.
                    return
                if self.inbox is not candidate:
                    return
                unread_items = [n for n, c in enumerate(self.conversations.items) if c.unread]
                if unread_items:
                    self._show_conversation_at(unread_items[0] if step > 0 else unread_items[-1])
                return
        self.notify("No more unread conversations", markup=False)

    def _show_conversation_at(self, index: int) -> None:
        self.conversations.move_cursor(index)
        highlighted = self.conversations.highlighted
        if highlighted is not None and self.focused is not self.conversations:
            self.open_thread(highlighted)

    # -- triage ----------------------------------------------------------------------------------

    def target_conversation(self) -> Conversation | None:
        """What triage acts on: the open thread when it has focus, else the list's cursor."""
        if self.focused is self.thread and self.conversation is not None:
            return self.conversation
        return self.conversations.highlighted or self.conversation

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"toggle_closed", "toggle_unread", "reassign", "transfer", "copy_number"}:
            return True if self.target_conversation() is not None else None
        if action in {"open_link", "export"}:
            return True if self.conversation is not None else None
        return True

    def action_toggle_closed(self) -> None:
        conversation = self.target_conversation()
        if conversation is None:
            return
        closing = not conversation.closed
        client = self.hm.client
        method = client.close if closing else client.open
        self.triage(
            conversation,
            dataclasses.replace(conversation, status="closed" if closing else "open"),
            lambda member: method(conversation.inbox_id, member, conversation.target or "", **conversation.triage_refs()),
            done=f"{'Closed' if closing else 'Reopened'} {one_line(conversation.display_name, 40)}",
            failed="close" if closing else "reopen",
            open_delta=-1 if closing else 1,
        )

    def action_toggle_unread(self) -> None:
        conversation = self.target_conversation()
        if conversation is None:
            return
        marking_read = conversation.unread
        client = self.hm.client
        method = client.mark_read if marking_read else client.mark_unread
        self.triage(
            conversation,
            dataclasses.replace(conversation, unread=not marking_read),
            lambda member: method(conversation.inbox_id, member, conversation.target or "", **conversation.triage_refs()),
            done=f"Marked {one_line(conversation.display_name, 40)} {'read' if marking_read else 'unread'}",
            failed="mark read" if marking_read else "mark unread",
            unread_delta=-1 if marking_read else 1,
        )

    def action_reassign(self) -> None:
        conversation = self.target_conversation()
        if conversation is None:
            return
        if self.team is None:
            self.notify("The team is still loading; try again in a moment", markup=False)
            return
        inbox = self._inbox_of(conversation)
        allowed = set(inbox.members) if inbox and inbox.members else None
        choices = [(m.id, f"{m.name}  ({m.role})" if m.role else m.name) for m in self.team.members
                   if allowed is None or m.id in allowed]

        def chosen(member_id: Any) -> None:
            if member_id is None or member_id == conversation.assigned:
                return
            owner = conversation.assigned if conversation.assigned is not None else None
            name = self.member_names.get(member_id, str(member_id))
            self.triage(
                conversation,
                dataclasses.replace(conversation, assigned=member_id),
                lambda member: self.hm.client.reassign(conversation.inbox_id, owner if owner is not None else member,
                                                       member_id, conversation.target or "",
                                                       **conversation.triage_refs()),
                done=f"Assigned {one_line(conversation.display_name, 40)} to {one_line(name, 30)}",
                failed="reassign",
            )

        self.app.push_screen(PickerScreen("Assign to", choices, current=conversation.assigned), chosen)

    def action_transfer(self) -> None:
        conversation = self.target_conversation()
        if conversation is None:
            return
        choices = [(i.id, f"{i.name}  {format_phone(i.phone)}") for i in self.inboxes if i.id != conversation.inbox_id]
        if not choices:
            self.notify("There is no other inbox to transfer to", markup=False)
            return

        def chosen(inbox_id: Any) -> None:
            if inbox_id is None:
                return
            target_inbox = next((i for i in self.inboxes if i.id == inbox_id), None)
            name = target_inbox.name if target_inbox else str(inbox_id)
            self.triage(
                conversation,
                dataclasses.replace(conversation, inbox_id=inbox_id),
                lambda member: self.hm.client.transfer(conversation.id, inbox_id),
                done=f"Transferred {one_line(conversation.display_name, 40)} to {one_line(name, 30)}",
                failed="transfer",
                leaves_list=True,
            )

        self.app.push_screen(PickerScreen("Transfer to inbox", choices), chosen)

    def triage(
        self,
        before: Conversation,
        after: Conversation,
        call: Callable[[Id], Awaitable[None]],
        *,
        done: str,
        failed: str,
        open_delta: int = 0,
        unread_delta: int = 0,
        leaves_list: bool = False,
    ) -> None:
        """Show the change at once, move on, and roll it back if the server refuses."""
        if self.hm.connection_lost is not None:
            why = self.hm.connection_lost
            self.notify(f"To {failed} a conversation needs a connection: {why}", severity="warning", markup=False)
            return
        conversations = self.conversations
        member = self.acting_member(self._inbox_of(before))
        if member is None or before.inbox_id is None:
            self.notify("Cannot act on this conversation: no member id to act as", severity="error", markup=False)
            return
        index = conversations.index_of(before.id)
        snapshot = list(conversations.items) if leaves_list else None
        if leaves_list:
            conversations.remove_key(before.id)
        else:
            conversations.update_item(after)
            if index is not None and index + 1 < len(conversations.items):
                conversations.move_cursor(index + 1)
        if self.conversation is not None and self.conversation.id == before.id:
            self.conversation = after
            self._update_thread_title()
        self._adjust_counts(before, after)
        self.run_triage(before, after, call, member, done, failed, open_delta, unread_delta, snapshot)

    @work(group="triage", exit_on_error=False)
    async def run_triage(self, before: Conversation, after: Conversation, call: Callable[[Id], Awaitable[None]],
                         member: Id, done: str, failed: str, open_delta: int, unread_delta: int,
                         snapshot: list[Conversation] | None) -> None:
        try:
            await call(member)
        except ApiError as error:
            conversations = self.conversations
            if snapshot is not None:
                conversations.set_items(snapshot, keep=conversations.highlighted.id if conversations.highlighted else None)
            elif conversations.index_of(before.id) is not None:
                conversations.update_item(before)
            if self.conversation is not None and self.conversation.id == before.id:
                self.conversation = before
                self._update_thread_title()
            self._adjust_counts(after, before)
            self.notify(f"Could not {failed} {one_line(before.display_name, 40)}: {error}", severity="error",
                        markup=False, timeout=8)
            self.hm.report_error(error, toast=False)
            return
        self.hm.report_success()
        self.notify(done, markup=False)

    def _inbox_of(self, conversation: Conversation) -> Inbox | None:
        return next((i for i in self.inboxes if i.id == conversation.inbox_id), self.inbox)

    def _adjust_counts(self, before: Conversation, after: Conversation) -> None:
        """The badges follow this client's own triage at once (the refresher redraws them)."""
        self.refresher.note_triage(before, after)

    # -- other actions ---------------------------------------------------------------------------

    def action_copy_number(self) -> None:
        conversation = self.target_conversation()
        digits = "".join(ch for ch in (conversation.target if conversation else "") or "" if ch.isdigit())
        if not digits:
            self.notify("This conversation has no number to copy", markup=False)
            return
        self.app.copy_to_clipboard("+" + digits)
        self.notify(f"Copied +{digits}", markup=False)

    def action_open_link(self) -> None:
        message = self.thread.selected_message
        urls = [u for u in (message.media, message.link_url) if u] if message else []
        safe = [u.strip() for u in urls if u.strip().lower().startswith(("https://", "http://"))]
        if not safe:
            self.notify("The selected message has no link or media to open", markup=False)
            return
        self.app.open_url(safe[0])
        self.notify(f"Opening {one_line(safe[0], 80)}", markup=False)

    def action_export(self) -> None:
        conversation = self.conversation
        if conversation is None:
            return
        choices = [("markdown", "Markdown (.md), for reading"), ("jsonl", "JSON Lines (.jsonl), the API's objects")]
        self.app.push_screen(PickerScreen("Export the whole thread as", choices),
                             lambda fmt: fmt and self.export_thread(conversation, str(fmt)))

    @work(exclusive=True, group="export", exit_on_error=False)
    async def export_thread(self, conversation: Conversation, fmt: str) -> None:
        """Load the rest of the history through the thread's own pager (so nothing is fetched
        twice and the view ends up holding it all), then write the file."""
        pager, thread = self.thread_pager, self.thread
        if pager is None or self.conversation is None or self.conversation.id != conversation.id:
            return
        self.status.start("export", "exporting…")
        try:
            inbox_id, target = conversation.inbox_id, conversation.target or ""
            while self._cache_left and inbox_id is not None and self._prepend_from_cache(inbox_id, target):
                pass
            while not pager.exhausted:
                older = await pager.older()
                if pager is not self.thread_pager:
                    return
                if inbox_id is not None:
                    self._remember_page(inbox_id, target, older, pager)
                thread.prepend(older, at_start=pager.exhausted)
                self.status.start("export", f"exporting… {thread.message_count:,} messages")
            _settle_history()
            messages = thread.messages()
            app = self.hm
            path = export_path(conversation, fmt, app.clock().astimezone(app.tz), app.export_dir)
            content = render_markdown(conversation, messages, app.tz) if fmt == "markdown" else render_jsonl(messages)
            try:
                await asyncio.to_thread(write_export, path, content)
            except OSError as error:
                self.notify(f"Could not write the export: {error.strerror or error}", severity="error", markup=False)
                return
        finally:
            self.status.stop("export")
        self.last_export = path
        self.notify(f"Exported {len(messages):,} messages to {path}", markup=False, timeout=10)

    def action_refresh(self) -> None:
        self.refresh_now()

    @work(exclusive=True, group="refresh", exit_on_error=False)
    async def refresh_now(self) -> None:
        await self.refresh_all(force=True)

    # -- background refresh: the workspace's Refresher decides what to ask, and when --------

    @property
    def refresher(self) -> Refresher:
        if self._refresher is None:
            from hmtui.ui.refresh_view import ScreenRefreshObserver

            self._refresher = Refresher(
                self.hm.client,
                member_for=self.acting_member,
                observer=ScreenRefreshObserver(self),
                list_head=self._refresh_list_head,
                thread=self._refresh_thread,
                current=lambda: self.conversation,
                selected=lambda: self.inbox.id if self.inbox is not None else None,
                background=background,  # its requests yield to keys (hmtui/api/limiter.py)
            )
        return self._refresher

    async def refresh_all(self, *, force: bool = False) -> None:
        """One refresh cycle (the refresher keeps it within budget); `force` (the `r` key)
        refreshes the inboxes, the list head and the open thread now."""
        app = self.hm
        app.client.signer.token()  # keep the JWT fresh even when idle
        self.status.start("refresh", "refreshing…")
        try:
            await self.refresher.cycle(force=force)
        finally:
            self.status.stop("refresh")
        if not self.refresher.started and not self._counting and self.inboxes:
            self.scan_counts()  # the count at start failed or never ran (offline): now
        app.report_success()
        self.status.set_refreshed(app.clock())

    async def _refresh_list_head(self) -> None:
        inbox, pager = self.inbox, self.conversation_pager
        member = self.acting_member(inbox)
        if inbox is None or pager is None or member is None:
            return
        head = await self.hm.client.conversations(inbox.id, member, closed=STATUS_FILTERS[self.status_filter])
        if pager is not self.conversation_pager or not head:
            return
        self.hm.cache("put_conversations", head)
        pager.resume([c.id for c in head], None)
        self._merge_head(head)

    def _merge_head(self, head: Sequence[Conversation]) -> None:
        """Put the newest page in place: changed conversations move to where `updated` puts them."""
        fresh = {c.id: c for c in head}
        current = self.conversations
        cursor_key = current.highlighted.id if current.highlighted else None
        merged = list(head) + [c for c in current.all_items if c.id not in fresh]
        merged.sort(key=lambda c: c.updated.timestamp() if c.updated else float("-inf"), reverse=True)
        current.set_items(merged, keep=cursor_key)
        if self.conversation is not None and self.conversation.id in fresh:
            self.conversation = fresh[self.conversation.id]
            self._update_thread_title()
        self._update_list_title()

    async def _refresh_thread(self) -> None:
        pager, conversation = self.thread_pager, self.conversation
        if pager is None or conversation is None:
            return
        newer = await pager.newer()
        if newer and pager is self.thread_pager:
            if conversation.inbox_id is not None and conversation.target:
                self.hm.cache("put_messages", conversation.inbox_id, conversation.target, newer)
            self.thread.append(newer)

    @work(exclusive=True, group="counts", exit_on_error=False)
    async def scan_counts(self) -> None:
        """The feed's starting point (no toasts for the backlog) and every inbox's badges, paced;
        from then on the refresh cycle keeps them."""
        self._counting = True
        try:
            await self.refresher.start(self.inboxes)
        finally:
            self._counting = False


def _order(hit: tuple[float, Id]) -> tuple[float, int, int | str]:
    """Sort key of a (time, id) pair; ids of mixed types never compare directly."""
    stamp, id_ = hit
    return (stamp, 0, id_) if isinstance(id_, int) else (stamp, 1, str(id_))


def _oldest(messages: Sequence[Message]) -> Message | None:
    return min((m for m in messages if m.date is not None), key=lambda m: _order((m.timestamp or 0.0, m.id)),
               default=None)


def _settle_history() -> None:
    """Move what is loaded out of the collector's sight. With 20,000 messages loaded a full
    collection takes ~90 ms, a visible hitch; loaded history is long-lived, so freeze it."""
    gc.collect(1)  # this page's short-lived garbage: cheap, and not frozen with it
    gc.freeze()


def _release_history() -> None:
    """Let a thread that is being replaced be collected."""
    gc.unfreeze()

"""The main screen: inbox sidebar, conversation list and thread.

Thin by design: keys become calls on the `Workspace` (hmtui/workspace), and what the workspace
announces is drawn by `MainView` (main_view.py). Which conversation is current, what triage acts
on, what is loaded: the workspace decides; this module never calls the client or the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import tzinfo
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input

from hmtui.api import Conversation, Id, Inbox, Message
from hmtui.api.paging import Pager
from hmtui.safe_text import one_line
from hmtui.startup import resume_gc
from hmtui.ui.errors import Guarded
from hmtui.ui.export import export_path, render_jsonl, render_markdown, write_export
from hmtui.ui.screens.main_history import HistoryKeys
from hmtui.ui.screens.main_queue import QUEUE_BINDINGS, QueueActions
from hmtui.ui.screens.main_reply import ReplyKeys
from hmtui.ui.screens.main_view import MainView
from hmtui.ui.screens.picker import PickerScreen
from hmtui.ui.timefmt import Clock
from hmtui.ui.widgets.conversation_list import ConversationList
from hmtui.ui.widgets.inbox_sidebar import InboxSidebar, format_phone
from hmtui.ui.widgets.key_footer import KeyFooter
from hmtui.ui.widgets.status_line import StatusLine
from hmtui.ui.widgets.still import Pane, PaneRow, PaneTitle, StillLines
from hmtui.ui.widgets.thread_view import ThreadView
from hmtui.workspace.long_lived import settle_history
from hmtui.workspace.thread import CACHE_PAGE, ThreadState
from hmtui.workspace.workspace import PREVIEW_DELAY, Workspace

__all__ = ["CACHE_PAGE", "MainScreen", "NARROW_WIDTH", "PREVIEW_DELAY"]

NARROW_WIDTH = 100
_TRIAGE = {"toggle_closed", "toggle_unread", "reassign", "transfer", "copy_number"}


class MainScreen(StillLines, HistoryKeys, QueueActions, ReplyKeys, Guarded, Screen[None]):
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
        # ctrl+r: refresh (retry now when offline); r replies, i writes a private note (main_reply.py).
        Binding("ctrl+r", "refresh", "Refresh", id="app.refresh"),
        Binding("r", "compose('reply')", "Reply", id="conversation.reply"),
        Binding("i", "compose('note')", "Note", id="conversation.note"),
        Binding("ctrl+f", "search", "Search", id="search.open"),
        *QUEUE_BINDINGS,  # m, w, W (main_queue.py)
        Binding("ctrl+g", "load_all", "Whole history", id="thread.load_all"),
    ]

    def __init__(self, workspace: Workspace, *, clock: Clock, tz: tzinfo, export_dir: Path | None = None,
                 warnings: Sequence[tuple[str, str, float]] = (), jump_scroll: bool = True) -> None:
        super().__init__()
        self.jump_scroll = jump_scroll
        self.workspace = workspace
        self.clock = clock
        self.tz = tz
        self.export_dir = export_dir
        self._warnings = list(warnings)  # (title, text, timeout): shown once the screen is up
        self.view = MainView(self)
        workspace.listener = self.view
        self._find_timer: Timer | None = None
        self.last_export: Path | None = None

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with PaneRow(id="main"):
            with Pane(id="sidebar-pane", classes="pane"):
                yield PaneTitle("Inboxes", id="sidebar-title", classes="pane-title")
                yield InboxSidebar(id="inboxes", empty_text="Loading inboxes…")
            with Pane(id="list-pane", classes="pane"):
                yield PaneTitle("", id="list-title", classes="pane-title")
                yield Input(placeholder="filter by name, number or text", id="filter")
                yield ConversationList(id="conversations", clock=self.clock, empty_text="No conversations")
            with Pane(id="thread-pane", classes="pane"):
                yield PaneTitle("", id="thread-title", classes="pane-title")
                # Short enough to show whole in the thread pane from 120 columns (issue 10 item 9).
                yield Input(placeholder="find (enter; then n / N)", id="find")
                thread = ThreadView(id="thread", tz=self.tz)
                thread.jump_scroll = self.jump_scroll
                yield thread
        yield StatusLine(id="status", clock=self.clock, tz=self.tz)
        yield KeyFooter()

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
        for title, text, timeout in self._warnings:  # e.g. a config file others can read
            self.notify(one_line(text, 300), title=title, severity="warning", markup=False, timeout=timeout)
        self.thread.clear_thread("Select a conversation")
        # The pane keeps a window of the thread; the rest is read back from the workspace's spill.
        self.thread.set_page_source(lambda lo, hi: self.workspace.thread.read_window(lo, hi))
        self.view.list_title_changed()
        self.conversations.focus()
        # What the cache knew goes into the very first frame; network work waits for it.
        self.workspace.start(wait_for_frame=True)
        self.call_after_refresh(self.workspace.frame_painted)
        self.call_after_refresh(resume_gc)  # paused by the entry point (hmtui/startup.py)

    def on_worker_state_changed(self, event: Any) -> None:
        # The screen's own workers (the export) fail to the app's one place.
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR and event.worker.error is not None:
            report = getattr(self.app, "report_error", None)
            if report is not None:
                report(event.worker.error)

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW_WIDTH, "-narrow")
        if self.size.width >= NARROW_WIDTH:
            self.remove_class("-show-sidebar")

    # -- the workspace's state, read by tests and the bench ---------------------------------------

    @property
    def conversation(self) -> Conversation | None:
        return self.workspace.current

    @conversation.setter
    def conversation(self, value: Conversation | None) -> None:  # the bench resets the thread
        self.workspace.thread.state = ThreadState(conversation=value)

    @property
    def thread_pager(self) -> Pager[Message] | None:
        return self.workspace.thread.state.pager

    @thread_pager.setter
    def thread_pager(self, pager: Pager[Message] | None) -> None:  # the bench primes a pager
        state = self.workspace.thread.state
        state.pager, state.cache_left, state.loading_older = pager, False, False

    @property
    def inbox(self) -> Inbox | None:
        return self.workspace.inbox

    @property
    def inboxes(self) -> list[Inbox]:
        return self.workspace.inboxes

    @property
    def team(self) -> Any:
        return self.workspace.team

    @property
    def older_paused_until(self) -> float:
        return self.workspace.thread.state.older_paused_until

    def acting_member(self, inbox: Inbox | None = None) -> Id | None:
        return self.workspace.acting_member(inbox)

    def open_thread(self, conversation: Conversation) -> None:
        self.workspace.open(conversation)

    def load_older(self) -> Any:
        return self.workspace.thread.load_older()

    async def refresh_all(self, *, force: bool = False) -> None:
        await self.workspace.refresh_all(force=force)

    def refresh_now(self) -> Any:
        return self.workspace.refresh_now()

    # -- list, sidebar and thread events ----------------------------------------------------------

    @on(InboxSidebar.Highlighted)
    def _inbox_highlighted(self, event: InboxSidebar.Highlighted) -> None:
        event.stop()
        if event.item is not None and self.focused is self.sidebar:
            self.workspace.preview_inbox(event.item)

    @on(InboxSidebar.Selected)
    def _inbox_selected(self, event: InboxSidebar.Selected) -> None:
        event.stop()
        if event.item is not None:
            self.workspace.select_inbox(event.item)
            self.remove_class("-show-sidebar")
            self.conversations.focus()

    @on(ConversationList.Highlighted)
    def _conversation_highlighted(self, event: ConversationList.Highlighted) -> None:
        event.stop()
        # A cursor the user moves previews; moves the workspace made (auto-advance, a refresh
        # keeping the cursor) come back here as the current one, which changes nothing.
        if event.item is not None and self.focused is self.conversations:
            self.workspace.preview(event.item)

    @on(ConversationList.Selected)
    def _conversation_selected(self, event: ConversationList.Selected) -> None:
        event.stop()
        if event.item is not None:
            self.open_thread(event.item)
            self.thread.focus()

    @on(ConversationList.NearEnd)
    def _near_end(self, event: ConversationList.NearEnd) -> None:
        event.stop()
        self.workspace.load_more_conversations()

    @on(ThreadView.NearTop)
    def _near_top(self, event: ThreadView.NearTop) -> None:
        event.stop()
        self.workspace.thread.near_top(pressed=event.pressed)

    # -- moving and filtering ---------------------------------------------------------------------

    def action_back(self) -> None:
        if self.stop_history():
            return
        focused = self.focused
        if focused is self.query_one("#filter", Input):
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
        if self.focused is self.thread and self.workspace.current is not None:
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
        self.workspace.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self._close_filter(clear=False)

    def _close_filter(self, *, clear: bool) -> None:
        filter_input = self.query_one("#filter", Input)
        if clear:
            filter_input.value = ""
            self.conversations.set_filter("")
            self.workspace.set_filter("")
        if not filter_input.value:
            filter_input.remove_class("-active")
        self.view.list_title_changed()
        self.conversations.focus()

    def action_show(self, which: str) -> None:
        self.workspace.set_status_filter(which)

    def action_next_unread(self) -> None:
        if self.focused is self.thread and self.thread.highlight:
            self.workspace.thread.step_find(1, self.thread.selected_message)
        else:
            self.workspace.next_unread(1)

    def action_previous_unread(self) -> None:
        if self.focused is self.thread and self.thread.highlight:
            self.workspace.thread.step_find(-1, self.thread.selected_message)
        else:
            self.workspace.next_unread(-1)

    # -- find in the thread, search everything ---------------------------------------------------

    @on(Input.Changed, "#find")
    def _find_changed(self, event: Input.Changed) -> None:
        # Finding walks the loaded history: once typing pauses, not on every keystroke.
        value = event.value
        if self._find_timer is not None:
            self._find_timer.stop()
        delay = self.workspace.preview_delay
        if delay <= 0:
            self.call_later(self.workspace.thread.set_find, value)
        else:
            self._find_timer = self.set_timer(delay, lambda: self.workspace.thread.set_find(value))

    @on(Input.Submitted, "#find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        if self._find_timer is not None:
            self._find_timer.stop()
        thread = self.workspace.thread
        if thread.state.find_query != event.value.strip():
            thread.set_find(event.value)
        self.thread.focus()
        if thread.state.find_hits:
            thread.step_find(-1, None, from_end=True)  # the newest match: where reading usually is
        elif event.value.strip():
            self.notify("No match in this thread", markup=False)

    def _close_find(self, *, clear: bool) -> None:
        find = self.query_one("#find", Input)
        if clear:
            find.value = ""
            self.workspace.thread.set_find("")
        find.remove_class("-active")
        self.status.stop("find")
        self.thread.focus()

    def action_search(self) -> None:
        from hmtui.ui.screens.search import SearchResult, SearchScreen

        ws = self.workspace
        if not ws.search_enabled:
            self.notify("Search needs the local cache, which is turned off (--no-cache or cache = false)",
                        severity="warning", markup=False)
            return
        names = {inbox.id: inbox.name for inbox in ws.inboxes}

        def search(query: str) -> list[SearchResult]:
            return [
                SearchResult(
                    key=(hit.inbox_id, hit.target, hit.message.id),
                    inbox_name=names.get(hit.inbox_id, str(hit.inbox_id)),
                    contact=hit.contact or format_phone(hit.target),
                    when=hit.message.date,
                    snippet=hit.snippet,
                    payload=hit,
                )
                for hit in ws.search(query)
            ]

        def chosen(result: object) -> None:
            hit = getattr(result, "payload", None)
            if hit is not None and ws.open_search_hit(hit):
                self.thread.focus()

        self.app.push_screen(SearchScreen(search, tz=self.tz, initial=ws.last_search), chosen)

    # -- actions on the current conversation -----------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _TRIAGE or action in {"open_link", "export", "load_all"}:
            return True if self.workspace.current is not None or self.workspace.preview_pending else None
        return True

    def action_toggle_closed(self) -> None:
        self.workspace.toggle_closed()

    def action_toggle_unread(self) -> None:
        self.workspace.toggle_unread()

    def action_reassign(self) -> None:
        ws = self.workspace
        choices = ws.assign_choices()
        conversation = ws.current
        if conversation is None:
            return
        if choices is None:
            self.notify("The team is still loading; try again in a moment", markup=False)
            return
        title = f"Assign {one_line(conversation.display_name, 30)} to"
        self.app.push_screen(PickerScreen(title, choices, current=conversation.assigned),
                             lambda member: member is not None and ws.assign(member, expected=conversation.id))

    def action_transfer(self) -> None:
        ws = self.workspace
        inboxes = ws.transfer_choices()
        conversation = ws.current
        if conversation is None:
            return
        if not inboxes:
            self.notify("There is no other inbox to transfer to", markup=False)
            return
        choices = [(i.id, f"{i.name}  {format_phone(i.phone)}") for i in inboxes]
        title = f"Transfer {one_line(conversation.display_name, 30)} to inbox"
        self.app.push_screen(PickerScreen(title, choices),
                             lambda inbox_id: inbox_id is not None and ws.transfer(inbox_id, expected=conversation.id))

    def action_copy_number(self) -> None:
        number = self.workspace.number_to_copy()
        if number is None:
            self.notify("This conversation has no number to copy", markup=False)
            return
        self.app.copy_to_clipboard(number)
        self.notify(f"Sent {number} to the terminal's clipboard", markup=False)

    def action_open_link(self) -> None:
        self.workspace.flush_preview()
        message = self.thread.selected_message
        urls = [u for u in (message.media, message.link_url) if u] if message else []
        safe = [u.strip() for u in urls if u.strip().lower().startswith(("https://", "http://"))]
        if not safe:
            self.notify("The selected message has no link or media to open", markup=False)
            return
        opener = getattr(self.app, "open_link", None)
        if opener is not None and not opener(safe[0]):
            # Honest: nothing opened. The link goes where the user can paste it.
            self.app.copy_to_clipboard(safe[0])
            self.notify("No web browser found: sent the link to the terminal's clipboard", markup=False)
            return
        if opener is None:
            self.app.open_url(safe[0])
        self.notify(f"Opening {one_line(safe[0], 80)}", markup=False)

    def action_export(self) -> None:
        self.workspace.flush_preview()
        conversation = self.workspace.current
        if conversation is None:
            return
        choices = [("markdown", "Markdown (.md), for reading"), ("jsonl", "JSON Lines (.jsonl), the API's objects")]
        self.app.push_screen(PickerScreen(f"Export {one_line(conversation.display_name, 30)} as", choices),
                             lambda fmt: fmt and self.export_thread(conversation, str(fmt)))

    @work(exclusive=True, group="export", exit_on_error=False)
    async def export_thread(self, conversation: Conversation, fmt: str) -> None:
        """Load the rest of the history through the thread's own pager (nothing is fetched twice
        and the view ends up holding it all), then write the file."""
        thread_state = self.workspace.thread
        pager, view = thread_state.pager, self.thread
        current = self.workspace.current
        if pager is None or current is None or current.id != conversation.id:
            return
        self.status.start("export", "exporting…")
        try:
            while thread_state.state.cache_left and thread_state.prepend_from_cache():
                pass
            key = thread_state.state.key
            while not pager.exhausted:
                older = await pager.older()
                if pager is not thread_state.pager:
                    return
                if key is not None:
                    thread_state._remember(key, older, pager)
                thread_state.prepend_batch(older, at_start=pager.exhausted)
                self.status.start("export", f"exporting… {view.message_count:,} messages")
            settle_history()
            # The view keeps only a window: the whole of it comes from the spill, with the marks.
            messages = self.workspace.replies.merged(await thread_state.loaded_messages())
            path = export_path(conversation, fmt, self.clock().astimezone(self.tz), self.export_dir)
            content = render_markdown(conversation, messages, self.tz) if fmt == "markdown" else render_jsonl(messages)
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
        self.workspace.refresh_now()


"""Draws the workspace on the main screen: a `Listener` that turns each announcement into widget
calls and titles. It decides nothing (what is current, what was acted on: the workspace says)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.css.query import NoMatches
from textual.widgets import Input, Static

from hmtui.api import Conversation, Id, Inbox, Message
from hmtui.safe_text import one_line
from hmtui.ui.widgets.conversation_list import ConversationList, conversation_title
from hmtui.phones import format_phone
from hmtui.ui.widgets.status_line import AUTH, OFFLINE, OK, RETRYING
from hmtui.workspace.connection import AUTH as WS_AUTH, OFFLINE as WS_OFFLINE, ONLINE, RETRYING as WS_RETRYING
from hmtui.workspace.events import Listener
from hmtui.workspace.refresh import InboxCounts, NewMessage
from hmtui.ui.screens.main_queue import queue_title

if TYPE_CHECKING:
    from hmtui.ui.screens.main import MainScreen

_STATES = {ONLINE: OK, WS_RETRYING: RETRYING, WS_OFFLINE: OFFLINE, WS_AUTH: AUTH}


def thread_title(conversation: Conversation | None, member_names: dict[Id, str]) -> Text:
    title = Text(no_wrap=True, overflow="ellipsis")
    if conversation is not None:
        # The list's own formatter: a contact with no name reads "+1 617 555 1954" in both.
        title.append(one_line(conversation_title(conversation), 40), "bold")
        if conversation.is_group:
            title.append("  " + ", ".join(format_phone(n) for n in conversation.numbers), "dim")
        elif conversation.target and conversation.name:
            title.append("  " + format_phone(conversation.target), "dim")
        title.append(" · " + one_line(conversation.status_label, 20), "dim" if conversation.closed else "green")
        if conversation.unread:
            title.append(" · unread", "bold")
        if conversation.assigned is not None:
            title.append(" · @" + one_line(member_names.get(conversation.assigned, str(conversation.assigned)), 24))
    return title


class MainView(Listener):
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    @property
    def ws(self):  # noqa: ANN201
        return self.screen.workspace

    # -- inboxes and team --------------------------------------------------------------------

    def inboxes_changed(self, inboxes: Sequence[Inbox], selected: Id | None) -> None:
        sidebar = self.screen.sidebar
        sidebar.set_items(list(inboxes), keep=selected)
        index = next((n for n, i in enumerate(sidebar.items) if i.id == selected), None)
        if index is not None and sidebar.cursor != index:
            sidebar.move_cursor(index)
        self.list_title_changed()

    def no_inboxes(self, text: str) -> None:
        self.screen.sidebar.set_empty_text(text)

    def counts_changed(self, inbox_id: Id, counts: InboxCounts) -> None:
        # "Still counting" reuses the sidebar's "more" marker: both mean "at least this many".
        self.screen.sidebar.set_counts(inbox_id, open=counts.open, unread=counts.unread,
                                       more=counts.more or counts.counting)

    def team_changed(self, member_names: dict[Id, str]) -> None:
        self.screen.conversations.set_member_names(member_names)
        self.screen.thread.set_member_names(member_names)

    # -- the list ----------------------------------------------------------------------------

    def list_changed(self, items: Sequence[Conversation], keep: Id | None) -> None:
        lists = self.ws.conversations
        self.screen.conversations.set_waiting(lists.sort == "waiting")
        self.screen.conversations.set_items(lists.arranged(items), keep=keep)  # the queue's filter and sort
        self.screen.call_after_refresh(self.fill_list)

    def list_extended(self, items: Sequence[Conversation]) -> None:
        lists = self.ws.conversations
        if lists.arranging:  # a new page may sort anywhere, or be partly filtered out
            current = self.ws.current
            self.screen.conversations.set_items(lists.arranged(), keep=current.id if current else None)
        else:
            self.screen.conversations.extend(items)
        self.screen.call_after_refresh(self.fill_list)

    def fill_list(self) -> None:
        """A list shorter than its pane (a tall terminal) asks for the next page: no blank rows
        the app could fill."""
        conversations = self.screen.conversations
        rows = conversations.size.height // ConversationList.ROW_HEIGHT
        # Not before the first page is in: asking the same pager twice at once confuses it
        # (seen when the footer stopped recomposing and this ran earlier).
        if rows and conversations.items and not conversations.filter_text and len(conversations.items) < rows:
            self.ws.load_more_conversations()

    def list_item_changed(self, conversation: Conversation) -> None:
        lists = self.ws.conversations
        if lists.arranging:  # a reassigned one may leave Mine; a reply ends a wait
            current = self.ws.current
            self.screen.conversations.set_items(lists.arranged(), keep=current.id if current else None)
            return
        self.screen.conversations.update_item(conversation)

    def list_item_removed(self, conversation_id: Id) -> None:
        self.screen.conversations.remove_key(conversation_id)

    def list_empty_text(self, text: str) -> None:
        self.screen.conversations.set_empty_text(text)

    def cursor_moved(self, conversation_id: Id) -> None:
        conversations = self.screen.conversations
        index = conversations.index_of(conversation_id)
        if index is not None and conversations.cursor != index:
            conversations.move_cursor(index)

    def list_title_changed(self) -> None:
        lists = self.ws.conversations
        title = Text(no_wrap=True, overflow="ellipsis")
        if lists.inbox is not None:
            title.append(one_line(lists.inbox.name or f"inbox {lists.inbox.id}", 30), "bold")
            title.append(" · ")
        title.append(f"{lists.status_filter}", "italic")
        title.append_text(queue_title(lists))  # " · Mine", " · waiting" (issue 12)
        conversations = self.screen.conversations
        shown, total = len(conversations.items), conversations.total_count
        if conversations.filter_text:
            title.append(f" · “{one_line(conversations.filter_text, 20)}” {shown}/{total}")
        elif total:
            more = "" if lists.pager is None or lists.pager.exhausted else "+"
            title.append(f" · {total}{more}", "dim")
        self.screen.query_one("#list-title", Static).update(title)

    # -- the current conversation ------------------------------------------------------------

    def current_changed(self, conversation: Conversation | None) -> None:
        self.screen.query_one("#thread-title", Static).update(thread_title(conversation, self.ws.member_names))
        self.screen.refresh_bindings()
        self.screen.reply_current_changed(conversation)  # a composer for another one goes (main_reply.py)

    def focus_thread(self) -> None:
        self.screen.thread.focus()

    def thread_reset(self, messages: Sequence[Message], contact: str, at_start: bool) -> None:
        self.screen.thread.set_thread(messages, contact=contact, at_start=at_start)

    def thread_cleared(self, text: str) -> None:
        self.screen.thread.clear_thread(text)

    def thread_appended(self, messages: Sequence[Message]) -> None:
        self.screen.thread.append(messages)

    def thread_prepended(self, messages: Sequence[Message], at_start: bool) -> None:
        self.screen.thread.prepend(messages, at_start=at_start)

    def thread_loading_older(self, loading: bool) -> None:
        self.screen.thread.set_loading_older(loading)

    def thread_show_oldest(self) -> None:
        self.screen.thread.show_oldest()

    def history_progress(self, label: str | None) -> None:
        started = label is not None and "history" not in self.screen.status._loading
        self.loading("history", label)
        if started or label is None:
            self.screen.refresh_bindings()  # the footer offers esc to stop, then no more

    def find_changed(self, query: str) -> None:
        self.screen.thread.set_highlight(query or None)
        self.screen.refresh_bindings()  # the footer: n / N step through matches now
        find = self.screen.query_one("#find", Input)
        if query and self.screen.focused is not find and find.value.strip() != query:
            find.value = query  # a search result's query, shown where find is typed

    def show_message(self, message_id: Id) -> None:
        self.screen.thread.scroll_to_message(message_id)

    # -- status and notices ------------------------------------------------------------------

    def loading(self, key: str, label: str | None) -> None:
        # Called from the workspace's jobs as they end, also when the app is closing and a job
        # cancelled at shutdown unwinds after the status line is gone: nothing left to draw.
        try:
            status = self.screen.status
        except NoMatches:
            return
        if label is None:
            status.stop(key)
        else:
            status.start(key, label)

    def connection_changed(self) -> None:
        connection = self.ws.connection
        state = _STATES.get(connection.state)
        if state is not None:
            self.screen.status.set_connection(state, connection.detail, retry_at=connection.retry_at)

    def refreshed(self) -> None:
        if self.ws.refreshed_at is not None:
            self.screen.status.set_refreshed(self.ws.refreshed_at)

    def notice(self, text: str, *, severity: str = "information", title: str | None = None,
               timeout: float | None = None) -> None:
        kw: dict[str, object] = {"timeout": timeout} if timeout is not None else {}
        self.screen.app.notify(one_line(text, 300), title=title or "", severity=severity,  # type: ignore[arg-type]
                               markup=False, **kw)  # type: ignore[arg-type]

    def new_message(self, new: NewMessage) -> None:
        inbox = self.ws.conversations.inbox_by_id(new.inbox_id)
        who = new.name or format_phone(new.target or "") or "a customer"
        where = inbox.name if inbox is not None else str(new.inbox_id)
        self.screen.app.notify(f"New message from {one_line(who, 40)} in {one_line(where, 30)}",
                               title="New message", markup=False)

    def unexpected(self, error: BaseException) -> None:
        unexpected = getattr(self.screen.app, "unexpected", None)
        if unexpected is None:
            raise error
        unexpected(error, where="the workspace")


def _while_shown(method: Callable[..., Any]) -> Callable[..., Any]:
    """Draw only while the screen is shown: as the app quits, Textual removes the widgets before
    the workspace's jobs are cancelled, and a job finishing in between (a count, a refresh) would
    look for a sidebar that is gone."""

    @functools.wraps(method)
    def guarded(self: MainView, *args: Any, **kwargs: Any) -> Any:
        screen = self.screen
        if screen._pruning or not screen.app.is_running:
            return None
        return method(self, *args, **kwargs)

    return guarded


# Every announcement the workspace makes, but an unexpected error: that one is always reported.
for _name, _method in list(vars(MainView).items()):
    if not _name.startswith("_") and _name != "unexpected" and callable(_method) and hasattr(Listener, _name):
        setattr(MainView, _name, _while_shown(_method))

"""Draws what the workspace's `Refresher` announces: badges, the inbox list, new-message toasts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hmtui.api import Id, Inbox
from hmtui.safe_text import one_line
from hmtui.ui.widgets.inbox_sidebar import format_phone
from hmtui.workspace.refresh import InboxCounts, NewMessage, RefreshObserver

if TYPE_CHECKING:
    from hmtui.ui.screens.main import MainScreen


class ScreenRefreshObserver(RefreshObserver):
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def counts_changed(self, inbox_id: Id, counts: InboxCounts) -> None:
        # "Still counting" reuses the sidebar's "more" marker: both mean "at least this many".
        self.screen.sidebar.set_counts(inbox_id, open=counts.open, unread=counts.unread,
                                       more=counts.more or counts.counting)

    def inboxes_changed(self, inboxes: Sequence[Inbox]) -> None:
        screen = self.screen
        screen.hm.cache("put_inboxes", list(inboxes))
        if screen.inbox is None:  # we started offline with nothing cached: start now
            screen._start_on(inboxes)
            screen.load_team()
        else:
            screen._set_inboxes(inboxes)

    def new_message(self, new: NewMessage) -> None:
        screen = self.screen
        inbox = next((i for i in screen.inboxes if i.id == new.inbox_id), None)
        who = new.name or format_phone(new.target or "") or "a customer"
        where = inbox.name if inbox is not None else str(new.inbox_id)
        screen.notify(f"New message from {one_line(who, 40)} in {one_line(where, 30)}",
                      title="New message", markup=False)

"""The main screen's queue keys (issue 12): whose conversations (Mine / Unassigned / All), the
waiting sort, and the longest-waiting jump. Keys become workspace calls; nothing is decided here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding

from hmtui.api.semantics import Owner
from hmtui.workspace.queue import owner_label

if TYPE_CHECKING:
    from hmtui.workspace.conversations import ConversationsState
    from hmtui.workspace.workspace import Workspace

# The keys: free in the main screen, the list, the thread and the composer (reply takes r and i).
QUEUE_BINDINGS = [
    Binding("m", "cycle_owner", "Mine/Unassigned/All", id="conversations.owner", show=False),
    Binding("w", "sort_waiting", "Waiting sort", id="conversations.sort_waiting", show=False),
    Binding("W", "longest_waiting", "Longest waiting", id="conversations.longest_waiting", show=False),
]

# For the command palette: (title, help, action on the main screen).
QUEUE_COMMANDS: list[tuple[str, str, str]] = [
    ("Show mine, unassigned or all conversations", "m: cycles, remembered per inbox", "cycle_owner"),
    ("Sort by waiting time (longest waiting first)", "w: on or off", "sort_waiting"),
    ("Jump to the customer who has waited longest", "W: across inboxes", "longest_waiting"),
]


def queue_title(lists: ConversationsState) -> Text:
    """What the list header adds for the queue: " · Mine" / " · Unassigned" (All, the default,
    adds nothing) and " · waiting" under the waiting sort. Our own words, never server text."""
    title = Text()
    if lists.owner is not Owner.ALL:
        title.append(" · ")
        title.append(owner_label(lists.owner), "bold")
    if lists.sort == "waiting":
        title.append(" · waiting", "italic")
    return title


class QueueActions:
    """Mixed into `MainScreen`."""

    workspace: Workspace

    def action_cycle_owner(self) -> None:
        self.workspace.cycle_owner()

    def action_sort_waiting(self) -> None:
        self.workspace.toggle_waiting_sort()

    def action_longest_waiting(self) -> None:
        self.workspace.jump_longest_waiting()

"""Every action of the main screen in the command palette (ctrl+p)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider

from hmtui.safe_text import one_line
from hmtui.ui.screens.main_queue import QUEUE_COMMANDS
from hmtui.ui.screens.modal import DismissOnce

# (title, help, action on the main screen); the titles are ours, never server data.
COMMANDS: list[tuple[str, str, str]] = [
    ("Close or reopen the conversation", "c", "toggle_closed"),
    ("Mark the conversation read or unread", "u", "toggle_unread"),
    ("Reassign the conversation", "a: pick a team member", "reassign"),
    ("Transfer the conversation to another inbox", "t: pick an inbox", "transfer"),
    ("Copy the contact's number", "y", "copy_number"),
    ("Open the selected message's link or media", "o", "open_link"),
    ("Load the whole history", "ctrl+g: every older message, cache first; escape stops", "load_all"),
    ("Export the thread", "e: Markdown or JSON Lines, to your downloads folder", "export"),
    ("Filter the conversation list (or find in the thread)", "/: in the thread, finds in it", "filter"),
    ("Search every cached message", "ctrl+f", "search"),
    ("Next unread conversation", "n: across inboxes", "next_unread"),
    ("Previous unread conversation", "N", "previous_unread"),
    ("Show open conversations", "1", "show('open')"),
    ("Show closed conversations", "2", "show('closed')"),
    ("Show all conversations", "3", "show('all')"),
    ("Refresh now (retry now when offline)", "ctrl+r, or r", "refresh"),
    ("Keys", "?: every key binding", "app.help"),
    ("Quit hmtui", "q", "app.quit"),
]
COMMANDS.extend(QUEUE_COMMANDS)  # issue 12's queue (main_queue.py)


class HmtuiCommands(Provider):
    def _commands(self) -> Iterator[tuple[str, str, partial[object]]]:
        from hmtui.ui.screens.main import MainScreen

        screen = next((s for s in self.app.screen_stack if isinstance(s, MainScreen)), None)
        if screen is None:
            return
        for title, help_text, action in COMMANDS:
            yield title, help_text, partial(screen.run_action, action)
        # Issue 12: one command per other account (names are the user's config, shown as text).
        for name in getattr(self.app, "other_accounts", list)():
            yield f"Switch account: {one_line(name, 40)}", "its own cache and outbox", \
                partial(self.app.start_account_switch, name)  # type: ignore[attr-defined]

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)


class HmtuiPalette(DismissOnce, CommandPalette):
    """Textual's palette, dismissed at most once: a second Enter queued behind the one that picked
    a command must not pop the screen under it."""

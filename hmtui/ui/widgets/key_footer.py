"""The main screen's footer: a few keys chosen for the pane that has focus, always whole, and
`? Help` always at the end (issue 10 item 6).

Textual's `Footer` shows every `show=True` binding of the focus chain in order and lets the last
ones fall off the edge: at 140 columns it ended in `^f Searc▏^p Commandse`, and `? Help` never
showed. This one picks, per pane, the keys worth learning there (`PANES`), in that order, as many
as fit whole; keeps room for `? Help` (then `q Quit`, then `^p Commands`, where they fit); and
names a key by what it does in that pane (`/` is "Find" in the thread). Every other binding is
still a key and still in help (`?`); it is only not advertised here.

Labels are ours (never server data) and drawn as plain `Text`; one line, never wider than the
widget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input

from hmtui.cells import cell_len
from hmtui.ui.widgets.still import StillLines

GAP = "  "  # between two keys


@dataclass(frozen=True, slots=True)
class Key:
    """A key to show: by binding id (its key and whether it is enabled come from the screen's
    active bindings), or literal `key` text for keys that are not bindings (an Input's enter)."""

    label: str
    id: str | None = None
    key: str | None = None


# Per pane, in order of what a new user needs there; reply/note (`r`, `i`) are the reply
# helper's bindings (conversation.reply/.note): shown once they exist, skipped until then.
_TRIAGE = (Key("Close/reopen", "conversation.close"), Key("Read/unread", "conversation.unread"),
           Key("Assign", "conversation.reassign"), Key("Transfer", "conversation.transfer"))
PANES: dict[str, Sequence[Key]] = {
    "sidebar": (Key("Open", "inboxes.open"), Key("Next unread", "conversations.next_unread"),
                Key("Search", "search.open"), Key("Refresh", "app.refresh")),
    "list": (Key("Open", "conversations.open"), Key("Filter", "conversations.filter"),
             Key("Reply", "conversation.reply"), Key("Note", "conversation.note"),
             Key("Next unread", "conversations.next_unread"), *_TRIAGE,
             Key("Search", "search.open"), Key("Copy №", "conversation.copy_number")),
    "thread": (Key("Oldest", "thread.oldest"), Key("Newest", "thread.newest"),
               Key("Find", "conversations.filter"), Key("Whole history", "thread.load_all"),
               Key("Reply", "conversation.reply"), Key("Note", "conversation.note"), *_TRIAGE,
               Key("Open link", "thread.open_link"), Key("Export", "thread.export"),
               Key("Search", "search.open")),
    # The thread with a find in it: n / N step through the matches.
    "found": (Key("Next match", "conversations.next_unread"), Key("Prev match", "conversations.previous_unread"),
              Key("Whole history", "thread.load_all"), Key("Clear find", "app.back"),
              Key("Oldest", "thread.oldest"), Key("Newest", "thread.newest"),
              Key("Reply", "conversation.reply"), Key("Note", "conversation.note")),
    # The whole history loading (any pane): how to stop it comes first.
    "loading": (Key("Stop loading", "app.back"), Key("Oldest", "thread.oldest"), Key("Newest", "thread.newest"),
                Key("Find", "conversations.filter")),
    "find": (Key("Find", key="enter"), Key("Close", key="esc"), Key("Whole history", "thread.load_all")),
    "filter": (Key("Done", key="enter"), Key("Clear", key="esc")),
}
# Always at the end, most important first: Help is never left out.
TAIL: Sequence[Key] = (Key("Help", "app.help"), Key("Quit", "app.quit"), Key("Commands", "app.commands"))


def pane_of(focused: Widget | None) -> str | None:
    """Which of `PANES` describes the focused widget (None: show the focus chain's own keys)."""
    from hmtui.ui.widgets.conversation_list import ConversationList
    from hmtui.ui.widgets.inbox_sidebar import InboxSidebar
    from hmtui.ui.widgets.thread_view import ThreadView

    if isinstance(focused, ThreadView):
        return "found" if focused.highlight else "thread"
    if isinstance(focused, ConversationList):
        return "list"
    if isinstance(focused, InboxSidebar):
        return "sidebar"
    if isinstance(focused, Input) and focused.id in ("find", "filter"):
        return focused.id
    return None


def fit(items: Sequence[tuple[str, str]], tail: Sequence[tuple[str, str]], width: int) -> list[tuple[str, str]]:
    """The (key, label) pairs to draw in `width` cells: the first of `tail` always (cut only if
    the terminal is narrower than it), then as many of `items` as fit whole, in order, then the
    rest of `tail` where it fits. Returned in drawing order (items, then tail)."""

    def size(pairs: Sequence[tuple[str, str]]) -> int:
        return sum(cell_len(k) + 1 + cell_len(label) for k, label in pairs) + len(GAP) * max(len(pairs) - 1, 0)

    chosen_tail = list(tail[:1])
    chosen: list[tuple[str, str]] = []
    for pair in items:
        if size([*chosen, pair, *chosen_tail]) <= width:
            chosen.append(pair)
        else:
            break
    for pair in tail[1:]:
        if size([*chosen, *chosen_tail, pair]) <= width:
            chosen_tail.append(pair)
    return [*chosen, *chosen_tail]


class KeyFooter(StillLines, Widget):
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-description-foreground;
        padding: 0 1;
    }
    """
    COMPONENT_CLASSES = {"key-footer--key"}
    DEFAULT_CSS += "KeyFooter > .key-footer--key { color: $footer-key-foreground; text-style: bold; }"

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, lambda _screen: self.refresh())

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _active_by_id(self) -> dict[str, list[tuple[Binding, bool]]]:
        found: dict[str, list[tuple[Binding, bool]]] = {}
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if binding.id:
                found.setdefault(binding.id, []).append((binding, active.enabled))
        return found

    def _key_text(self, options: list[tuple[Binding, bool]]) -> str | None:
        """The key to name for a binding: a single character if it has one (j before ↓)."""
        enabled = [b for b, on in options if on]
        if not enabled:
            return None
        shown = [self.app.get_key_display(b) for b in enabled]
        return min(shown, key=lambda text: (cell_len(text) > 1, cell_len(text)))

    def pairs(self, keys: Sequence[Key], bindings: dict[str, list[tuple[Binding, bool]]]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for key in keys:
            if key.key is not None:
                out.append((key.key, key.label))
            elif key.id in bindings:
                text = self._key_text(bindings[key.id])
                if text is not None:
                    out.append((text, key.label))
        return out

    def chosen(self) -> list[tuple[str, str]]:
        """What the footer draws now: (key, label) pairs."""
        bindings = self._active_by_id()
        pane = pane_of(self.screen.focused)
        workspace = getattr(self.screen, "workspace", None)
        if pane is not None and workspace is not None and workspace.thread.state.loading_all:
            pane = "loading"
        if pane is None:  # something else has focus (a composer): its own shown keys, in order
            items, seen = [], set()
            for active in self.screen.active_bindings.values():
                b = active.binding
                if b.show and active.enabled and b.action not in seen and b.id not in {k.id for k in TAIL}:
                    seen.add(b.action)
                    items.append((self.app.get_key_display(b), b.description))
        else:
            keys = PANES[pane]
            if pane in ("find", "found") and workspace is not None and workspace.thread.whole:
                # Find saw the whole thread: nothing more to offer it.
                keys = [k for k in keys if k.id != "thread.load_all"]
            items = self.pairs(keys, bindings)
        tail = self.pairs(TAIL, bindings) or [("?", "Help")]
        return fit(items, tail, max(self.content_region.width, 0))

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="crop", end="")
        key_style = self.get_component_rich_style("key-footer--key", partial=True)
        for n, (key, label) in enumerate(self.chosen()):
            if n:
                text.append(GAP)
            text.append(key, key_style)
            text.append(" " + label, Style())
        return text

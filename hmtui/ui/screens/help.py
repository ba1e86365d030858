"""The `?` screen: every key binding, as currently mapped, with its id for the keymap."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from hmtui.ui.screens.modal import HmtuiModal


class HelpScreen(HmtuiModal[None]):
    """Keys: j/k (and the arrows) scroll a line, g/G to the top and the end, pgup/pgdn a page;
    escape, q or ? close."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
        Binding("j,down", "scroll_lines(1)", "Down", id="help.down", show=False),
        Binding("k,up", "scroll_lines(-1)", "Up", id="help.up", show=False),
        Binding("g,home", "scroll_edge(0)", "Top", id="help.top", show=False),
        Binding("G,end", "scroll_edge(1)", "End", id="help.end", show=False),
        Binding("pagedown", "scroll_page(1)", "Page down", id="help.page_down", show=False),
        Binding("pageup", "scroll_page(-1)", "Page up", id="help.page_up", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 95%; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, sections: Sequence[tuple[str, Sequence[Binding]]], keymap: dict[str, str]) -> None:
        super().__init__()
        self._sections = sections
        self._keymap = keymap

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = Text("Keys  (remap any of them by id: [keymap] in config.toml)")
            yield Static(self._table(), markup=False, id="help-text")

    def on_mount(self) -> None:
        self._scroll().focus()

    def _scroll(self) -> VerticalScroll:
        return self.query_one(VerticalScroll)

    def action_scroll_lines(self, lines: int) -> None:
        scroll = self._scroll()
        scroll.scroll_to(y=scroll.scroll_y + lines, animate=False, immediate=True)

    def action_scroll_edge(self, end: int) -> None:
        scroll = self._scroll()
        scroll.scroll_to(y=scroll.max_scroll_y if end else 0, animate=False, immediate=True)

    def action_scroll_page(self, pages: int) -> None:
        scroll = self._scroll()
        step = max(scroll.scrollable_content_region.height - 1, 1)
        scroll.scroll_to(y=scroll.scroll_y + pages * step, animate=False, immediate=True)

    def _table(self) -> Text:
        text = Text()
        for title, bindings in self._sections:
            text.append(f"\n{title}\n", "bold underline")
            for binding in bindings:
                keys = self._keymap.get(binding.id or "", binding.key)
                shown = ", ".join(display_key(k) for k in keys.split(","))
                text.append(f"  {shown:<22}", "bold")
                text.append(f"{binding.description or binding.action:<30}")
                text.append(f"{binding.id or ''}\n", "dim")
        return text


_NAMES = {
    "question_mark": "?", "slash": "/", "escape": "esc", "enter": "enter", "pageup": "pgup",
    "pagedown": "pgdn", "shift+tab": "shift+tab", "ctrl+p": "ctrl+p", "ctrl+f": "ctrl+f",
}


def display_key(key: str) -> str:
    key = key.strip()
    return _NAMES.get(key, key)

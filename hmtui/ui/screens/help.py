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
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
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

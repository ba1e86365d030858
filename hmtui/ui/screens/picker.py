"""A modal list to pick one of a few things (a team member, an inbox, an export format)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hmtui.safe_text import one_line
from hmtui.ui.screens.modal import HmtuiModal


class PickerScreen(HmtuiModal[Hashable | None]):
    """Dismisses with the chosen value, or None on escape. Labels may come from the server:
    they are shown as plain Text, never parsed as markup."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="picker.cancel")]
    DEFAULT_CSS = """
    PickerScreen { align: center middle; }
    PickerScreen > OptionList {
        width: 60; max-width: 90%; height: auto; max-height: 80%;
        border: round $accent; background: $surface;
    }
    """

    def __init__(self, title: str, choices: Sequence[tuple[Hashable, str]], *, current: Hashable | None = None) -> None:
        super().__init__()
        self._title = title
        self._choices = list(choices)
        self._current = current

    def compose(self) -> ComposeResult:
        options = []
        for index, (_, label) in enumerate(self._choices):
            options.append(Option(Text(one_line(label, 70)), id=str(index)))
        picker = OptionList(*options, id="picker")
        picker.border_title = Text(self._title)
        yield picker

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        values = [value for value, _ in self._choices]
        picker.highlighted = values.index(self._current) if self._current in values else 0
        picker.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self._choices[int(event.option.id or 0)][0])

    def action_cancel(self) -> None:
        self.dismiss(None)

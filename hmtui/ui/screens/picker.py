"""A modal list to pick one of a few things (a team member, an inbox, an export format)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hmtui.safe_text import one_line
from hmtui.ui.screens.modal import HmtuiModal


class _Unchanged:
    """The result of picking the value that is already current (see `PickerScreen`)."""

    _instance: _Unchanged | None = None

    def __new__(cls) -> _Unchanged:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "PickerScreen.UNCHANGED"

    def __hash__(self) -> int:
        return hash(_Unchanged)


class PickerScreen(HmtuiModal[Hashable | None]):
    """Dismisses with the chosen value, or None on escape. Labels may come from the server:
    they are shown as plain Text, never parsed as markup.

    `subject` names what the choice acts on (a conversation): the title says "Assign to · Jane".
    With `report_unchanged`, picking `current` dismisses with `PickerScreen.UNCHANGED` instead of
    the value, so the caller can say "already assigned to …" rather than act; without it (the
    default, as before) the current value itself comes back.

    Keys: j/k (and the arrows) move, g/G go to the first and last choice, Enter picks, Escape
    cancels."""

    UNCHANGED: ClassVar[_Unchanged] = _Unchanged()

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("j", "down", "Down", id="picker.down", show=False),
        Binding("k", "up", "Up", id="picker.up", show=False),
        Binding("g", "first", "First", id="picker.first", show=False),
        Binding("G", "last", "Last", id="picker.last", show=False),
    ]
    DEFAULT_CSS = """
    PickerScreen { align: center middle; }
    PickerScreen > OptionList {
        width: 60; max-width: 90%; height: auto; max-height: 80%;
        border: round $accent; background: $surface;
    }
    """

    def __init__(
        self,
        title: str,
        choices: Sequence[tuple[Hashable, str]],
        *,
        current: Hashable | None = None,
        subject: str | None = None,
        report_unchanged: bool = False,
    ) -> None:
        super().__init__()
        self._title = title
        self._choices = list(choices)
        self._current = current
        self._subject = one_line(subject, 40) if subject else ""
        self._report_unchanged = report_unchanged

    @property
    def title_text(self) -> str:
        """The picker's title as shown: what it does, and to what."""
        return f"{self._title} · {self._subject}" if self._subject else self._title

    def compose(self) -> ComposeResult:
        options = []
        for index, (_, label) in enumerate(self._choices):
            options.append(Option(Text(one_line(label, 70)), id=str(index)))
        picker = OptionList(*options, id="picker")
        picker.border_title = Text(self.title_text)
        yield picker

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        values = [value for value, _ in self._choices]
        picker.highlighted = values.index(self._current) if self._current in values else 0
        picker.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        value = self._choices[int(event.option.id or 0)][0]
        if self._report_unchanged and self._current is not None and value == self._current:
            self.dismiss(self.UNCHANGED)
            return
        self.dismiss(value)

    def _list(self) -> OptionList:
        return self.query_one(OptionList)

    def action_down(self) -> None:
        self._list().action_cursor_down()

    def action_up(self) -> None:
        self._list().action_cursor_up()

    def action_first(self) -> None:
        self._list().action_first()

    def action_last(self) -> None:
        self._list().action_last()

    def action_cancel(self) -> None:
        self.dismiss(None)

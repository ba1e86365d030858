"""The template picker (`ctrl+t` in the composer): a fuzzy filter over the team's templates,
with a preview of the one highlighted. Dismisses with the chosen `Template`, or None.

Template names and texts are the server's data: shown as plain Text, never markup.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from hmtui.api.templates import Template
from hmtui.safe_text import clean_text, one_line
from hmtui.ui.compose_model import preview_lines, rank_templates
from hmtui.ui.screens.modal import HmtuiModal
from hmtui.ui.widgets.composer import TemplateSource, load_templates


class TemplatePicker(HmtuiModal[Template | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="templates.cancel"),
        Binding("down", "move(1)", "Next", id="templates.next", show=False, priority=True),
        Binding("up", "move(-1)", "Previous", id="templates.previous", show=False, priority=True),
        Binding("enter", "choose", "Insert", id="templates.choose", priority=True),
    ]
    DEFAULT_CSS = """
    TemplatePicker { align: center middle; }
    TemplatePicker > Vertical {
        width: 80; max-width: 95%; height: 80%; border: round $accent; background: $surface;
    }
    TemplatePicker #templates-list { height: 1fr; border: none; }
    TemplatePicker #templates-preview { height: auto; max-height: 10; border-top: solid $accent; padding: 0 1; }
    """

    def __init__(self, source: TemplateSource, *, tokens: Mapping[str, str | None] | None = None) -> None:
        super().__init__()
        self._source = source
        self._tokens = dict(tokens or {})
        self._all: list[Template] = []
        self._shown: list[Template] = []

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Templates"
            yield Input(placeholder="Filter templates", id="templates-filter")
            yield OptionList(id="templates-list")
            yield Static(Text("Loading templates…"), id="templates-preview", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._load()

    @work(exclusive=True, group="templates")
    async def _load(self) -> None:
        try:
            self._all = await load_templates(self._source)
        except Exception as error:  # the list could not be read: say so, pick nothing
            self._preview(Text(one_line(f"Templates could not be loaded: {error}", 200)))
            return
        self._filter(self.query_one(Input).value)

    @property
    def shown(self) -> list[Template]:
        return list(self._shown)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter(event.value)

    def _filter(self, query: str) -> None:
        self._shown = rank_templates(query, self._all)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(Text(one_line(t.name or "(no name)", 70)), id=str(i))
                             for i, t in enumerate(self._shown)])
        if self._shown:
            options.highlighted = 0
        self._show_preview()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_preview()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_choose()

    def _current(self) -> Template | None:
        index = self.query_one(OptionList).highlighted
        if index is None or not 0 <= index < len(self._shown):
            return None
        return self._shown[index]

    def _show_preview(self) -> None:
        template = self._current()
        if template is None:
            self._preview(Text("No template matches" if self._all else "No templates"))
            return
        self._preview(Text(clean_text("\n".join(preview_lines(template, self._tokens)))))

    def _preview(self, text: Text) -> None:
        self.query_one("#templates-preview", Static).update(text)

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if not self._shown:
            return
        current = options.highlighted or 0
        options.highlighted = max(0, min(len(self._shown) - 1, current + step))

    def action_choose(self) -> None:
        template = self._current()
        if template is not None:
            self.dismiss(template)

    def action_cancel(self) -> None:
        self.dismiss(None)

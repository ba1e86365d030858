"""The composer docked under the thread: a reply or a private note to one conversation.

It is made for one `ConversationKey` and cannot be pointed elsewhere (the title names it). It
decides nothing about the network: it posts `Composer.Submitted` and `Composer.Left` for the
screen, and keeps its draft through the `save_draft` callback the screen gives (the store's
`put_draft`), debounced as the text changes and flushed on leaving, so a crash loses at most the
last fraction of a second of typing. The logic lives in `hmtui.ui.compose_model`.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from rich.text import Text
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.geometry import Region
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import Static, TextArea

from hmtui.api.models import Id
from hmtui.api.templates import Template
from hmtui.cache.local_tables import Draft, Kind
from hmtui.safe_text import one_line
from hmtui.ui import alt_enter
from hmtui.ui.compose_model import ComposeModel, ConversationKey, Submission, title_for
from hmtui.ui.errors import Guarded
from hmtui.ui.editor import EditorError, edit_text, editor_command

# ESC CR (alt+enter on most terminals) must not arrive as enter: that would send, not break a line.
alt_enter.install()

# How long the text must rest before the draft is written (a crash loses at most this much).
DRAFT_DELAY = 0.5

TemplateSource = Callable[[], Awaitable[Sequence[Template]] | Sequence[Template]]


class SaveDraft(Protocol):
    """`Store.put_draft`'s shape: an empty text deletes the draft."""

    def __call__(self, inbox_id: Id, target: str, text: str, *, kind: Kind = "reply",
                 template_id: Id | None = None) -> None: ...


class ComposerInput(TextArea):
    """The text itself. Its own `ctrl+e` (end of line) gives way to the composer's priority
    bindings; `end` still moves to the end of the line."""

    def render_lines(self, crop: Region) -> list[Strip]:
        # Removed while a frame was under way (the composer leaves on escape, or when the
        # conversation changes): Textual has dropped its component styles, and TextArea's
        # render would raise KeyError('text-area--gutter'). Nothing of it is shown any more.
        if not self._component_styles or not self.is_attached:
            return [Strip.blank(crop.width)] * crop.height
        return super().render_lines(crop)


class Composer(Guarded, Vertical):
    DEFAULT_CSS = """
    Composer { height: auto; max-height: 50%; border: round $accent; padding: 0 1; }
    Composer.-note { border: heavy $warning; background: $warning 10%; }
    Composer > ComposerInput, Composer > ComposerInput:focus {
        height: auto; min-height: 3; max-height: 12; border: none; padding: 0;
    }
    Composer > #composer-counter { height: 1; color: $text-muted; }
    Composer > #composer-counter.-warning { color: $error; text-style: bold; }
    """

    # Priority: the text area would otherwise take enter (a newline) and ctrl+e (end of line).
    BINDINGS = [
        Binding("enter", "send", "Send", id="composer.send", priority=True),
        Binding("ctrl+s", "send_and_close", "Send+close", id="composer.send_and_close", priority=True),
        Binding("alt+enter,ctrl+j", "newline", "Newline", id="composer.newline", priority=True,
                key_display="alt+⏎"),
        Binding("ctrl+n", "toggle_kind", "Reply/note", id="composer.toggle_kind", priority=True),
        Binding("ctrl+t", "template", "Template", id="composer.template", priority=True),
        Binding("ctrl+e", "editor", "Editor", id="composer.editor", priority=True),
        Binding("escape", "leave", "Leave", id="composer.leave", priority=True),
    ]

    class Submitted(Message):
        """Send this. `template_id` is set only for an unedited template (the server fills its
        tokens); otherwise `text` has the known tokens filled. `close_after`: send and close."""

        def __init__(self, composer: Composer, submission: Submission) -> None:
            super().__init__()
            self.composer = composer
            self.submission = submission
            self.key = submission.key
            self.kind = submission.kind
            self.text = submission.text
            self.template_id = submission.template_id
            self.close_after = submission.close_after

    class Left(Message):
        """The agent left the composer (escape); the draft is kept."""

        def __init__(self, composer: Composer, key: ConversationKey) -> None:
            super().__init__()
            self.composer = composer
            self.key = key

    def __init__(self, key: ConversationKey, *, name: str | None = None, kind: Kind = "reply",
                 draft: Draft | None = None, save_draft: SaveDraft | None = None,
                 templates: TemplateSource | None = None, tokens: Mapping[str, str | None] | None = None,
                 draft_delay: float = DRAFT_DELAY, environ: Mapping[str, str] | None = None,
                 id: str | None = "composer") -> None:
        super().__init__(id=id)
        self._contact = name
        self.model = ComposeModel.from_draft(key, draft, kind=kind, tokens=tokens)
        self._save_draft = save_draft
        self._templates = templates
        self._draft_delay = draft_delay
        self._environ = environ
        self._draft_timer: Timer | None = None
        # What the store holds now (text, kind, template): nothing is written twice.
        self._saved: tuple[str, Kind, Id | None] = (self.model.text, self.model.kind, self.model.template_id) \
            if draft is not None else ("", self.model.kind, None)

    # -- what it is for ---------------------------------------------------------------------

    @property
    def key(self) -> ConversationKey:
        """The conversation this composer sends to; fixed for its whole life."""
        return self.model.key

    @property
    def kind(self) -> Kind:
        return self.model.kind

    @property
    def text(self) -> str:
        return self.model.text

    @property
    def title(self) -> str:
        return title_for(self.model.kind, self._contact, self.model.key.target)

    def compose(self) -> ComposeResult:
        yield ComposerInput(self.model.text, soft_wrap=True, tab_behavior="focus", id="composer-input",
                            placeholder="Type a reply · enter sends · alt+enter newline")
        yield Static("", id="composer-counter", markup=False)

    def on_mount(self) -> None:
        area = self.query_one(ComposerInput)
        area.move_cursor(area.document.end)
        self._redraw()
        area.focus()

    def focus_input(self) -> None:
        self.query_one(ComposerInput).focus()

    def _redraw(self) -> None:
        note = self.model.kind == "note"
        self.set_class(note, "-note")
        # Server data (the contact's name, the number) goes in as literal Text, never markup.
        self.border_title = Text(("🔒 " if note else "✉ ") + self.title)
        tally = self.model.segments()
        counter = self.query_one("#composer-counter", Static)
        counter.update(Text(("⚠ " if tally.warning else "") + self.model.counter_line()))
        counter.set_class(tally.warning, "-warning")

    # -- typing and drafts --------------------------------------------------------------------

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self.model.set_text(event.text_area.text)
        self._redraw()
        self._schedule_draft()

    def _schedule_draft(self) -> None:
        if self._save_draft is None:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(self._draft_delay, self.save_draft_now)

    def save_draft_now(self) -> None:
        """Write the draft now if it changed (an empty text deletes it)."""
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        if self._save_draft is None:
            return
        state = (self.model.text, self.model.kind, self.model.template_id)
        if state == self._saved:
            return
        try:
            self._save_draft(self.key.inbox_id, self.key.target, self.model.text,
                             kind=self.model.kind, template_id=self.model.template_id)
        except Exception as error:  # a draft that cannot be kept is worth a notice, not a crash
            self.notify(one_line(f"draft not saved: {error}", 200), severity="warning", markup=False)
            return
        self._saved = state

    def on_unmount(self) -> None:
        self.save_draft_now()

    def set_text(self, text: str) -> None:
        """Replace the text (the editor's result, a restored draft)."""
        self.model.set_text(text)
        area = self.query_one(ComposerInput)
        area.load_text(text)
        area.move_cursor(area.document.end)
        self._redraw()
        self._schedule_draft()

    # -- the keys -------------------------------------------------------------------------------

    def _submit(self, close_after: bool) -> None:
        submission = self.model.submission(close_after=close_after)
        if submission is None:
            self.notify("Nothing to send: the message is empty", severity="warning", markup=False)
            return
        self.post_message(self.Submitted(self, submission))
        # Handed over: the outbox keeps it from now on, so the draft goes.
        self.model = ComposeModel(self.key, self.model.tokens, kind=self.model.kind)
        area = self.query_one(ComposerInput)
        area.load_text("")
        self._redraw()
        self.save_draft_now()

    def action_send(self) -> None:
        self._submit(close_after=False)

    def action_send_and_close(self) -> None:
        self._submit(close_after=True)

    def action_newline(self) -> None:
        area = self.query_one(ComposerInput)
        area.replace("\n", *area.selection)

    def action_toggle_kind(self) -> None:
        self.model.toggle_kind()
        self._redraw()
        self._schedule_draft()

    def action_leave(self) -> None:
        self.save_draft_now()
        self.post_message(self.Left(self, self.key))

    def action_editor(self) -> None:
        environ = os.environ if self._environ is None else self._environ
        try:
            command = editor_command(environ)
        except EditorError as error:
            self.notify(one_line(str(error), 200), severity="warning", markup=False)
            return
        if command is None:
            self.notify("No editor: set $VISUAL or $EDITOR", severity="warning", markup=False)
            return
        try:
            with self.app.suspend():
                text = edit_text(command, self.model.text)
        except SuspendNotSupported:
            self.notify("The editor cannot open here (no terminal to hand over)", severity="warning", markup=False)
            return
        except EditorError as error:
            self.notify(one_line(str(error), 200), severity="warning", markup=False)
            return
        self.set_text(text)
        self.save_draft_now()
        self.focus_input()

    def action_template(self) -> None:
        if self._templates is None:
            self.notify("No templates here", severity="warning", markup=False)
            return
        from hmtui.ui.screens.templates import TemplatePicker  # the screen imports this module

        def chosen(template: Template | None) -> None:
            if template is not None:
                self.insert_template(template)
            self.focus_input()

        self.app.push_screen(TemplatePicker(self._templates, tokens=self.model.tokens), chosen)

    def insert_template(self, template: Template) -> None:
        """Insert a template at the cursor, its tokens kept as tokens."""
        area = self.query_one(ComposerInput)
        row, column = area.cursor_location
        lines = self.model.text.split("\n")
        offset = sum(len(line) + 1 for line in lines[:row]) + column
        self.model.insert_template(template, at=offset)
        area.load_text(self.model.text)
        area.move_cursor(area.document.end)
        self._redraw()
        self._schedule_draft()


async def load_templates(source: TemplateSource) -> list[Template]:
    """The templates from the screen's callable, sync or async."""
    result: Any = source()
    if inspect.isawaitable(result):
        result = await result
    return list(result)

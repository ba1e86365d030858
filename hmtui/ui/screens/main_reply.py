"""The main screen's side of replying (issue 9): `r` / `i` open the composer under the thread for
the current conversation, what it submits goes to the workspace's outbox, the thread draws the
sends' marks, `enter` / `d` retry or drop a failed one, the list shows ✎ for drafts, and quitting
with unsent messages that only live in memory asks first.

`ReplyKeys` is mixed into `MainScreen`; `ReplyView` draws what `Workspace.replies` announces.
Nothing here decides what is sent or to whom: the composer's key (fixed when it opens) and the
workspace do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual.css.query import NoMatches

from hmtui.api.models import Conversation, Id, Message
from hmtui.api.send import SendResult
from hmtui.api.templates import contact_tokens
from hmtui.cache.local_tables import Kind, OutboxEntry
from hmtui.phones import format_phone
from hmtui.safe_text import one_line
from hmtui.ui.screens.picker import PickerScreen
from hmtui.workspace.send_marks import local_id_of, send_state
from hmtui.workspace.replies import ReplyListener

if TYPE_CHECKING:
    from hmtui.ui.compose_model import ConversationKey
    from hmtui.ui.screens.main import MainScreen
    from hmtui.ui.widgets.composer import Composer


class ReplyView(ReplyListener):
    """Draws the reply side's announcements on the main screen."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def sends_changed(self, messages: Sequence[Message]) -> None:
        try:
            thread = self.screen.thread
        except NoMatches:  # closing
            return
        thread.sync_marks(messages, lambda message: send_state(message) is not None)

    def drafts_changed(self, targets: set[str]) -> None:
        try:
            conversations = self.screen.conversations
        except NoMatches:
            return
        conversations.set_drafts(targets)

    def send_confirmed(self, entry: OutboxEntry, result: SendResult | None) -> None:
        if result is not None and result.held:
            self.screen.notify(f"Held, not sent: {one_line(result.held, 200)}", severity="warning",
                               title="Not sent", markup=False)


def _key_of(conversation: Conversation | None) -> ConversationKey | None:
    if conversation is None or conversation.inbox_id is None or not conversation.target:
        return None
    # Here, not at the top: the composer (Textual's TextArea, the SMS tables) is imported when it
    # is first opened, not at start-up, where it would cost the warm start ~10%.
    from hmtui.ui.compose_model import ConversationKey

    return ConversationKey(conversation.inbox_id, conversation.target)


class ReplyKeys:
    """Mixed into MainScreen (which has `workspace`, `thread`, `notify`, `query`, ...)."""

    def on_mount(self: Any) -> None:
        self.workspace.replies.listener = ReplyView(self)
        self.workspace.replies.drafts_changed()

    # -- the composer ------------------------------------------------------------------------

    @property
    def composer(self: Any) -> Composer | None:
        """The open composer (one retiring is hidden and no longer counts)."""
        return next((c for c in self.query("Composer") if c.display), None)  # by name: see _key_of

    def _retire(self: Any, composer: Composer) -> None:
        """Take the composer away, its draft kept: hidden at once (it no longer counts as the
        open one, and a new one may mount beside it), removed after the next frame."""
        composer.save_draft_now()
        composer.display = False
        self.call_after_refresh(composer.remove)

    async def action_compose(self: Any, kind: str) -> None:
        ws = self.workspace
        ws.flush_preview()
        conversation = ws.current
        key = _key_of(conversation)
        if conversation is None or key is None:
            self.notify("Open a conversation with a number to reply to it", markup=False)
            return
        if conversation.is_group:
            self.notify("Replying to a group conversation is not supported yet", severity="warning", markup=False)
            return
        existing = self.composer
        if existing is not None and existing.key == key:
            existing.focus_input()
            return
        if existing is not None:
            self._retire(existing)  # another conversation's: its draft is kept
        replies = ws.replies
        from hmtui.ui.widgets.composer import Composer

        composer = Composer(
            key, id=None, name=conversation.display_name, kind="note" if kind == "note" else "reply",
            draft=ws.store.draft(key.inbox_id, key.target), save_draft=self._save_draft,
            templates=replies.templates, tokens=contact_tokens(conversation.name, conversation.target),
        )
        await self.query_one("#thread-pane").mount(composer, after=self.thread)
        composer.focus_input()

    def _save_draft(self: Any, inbox_id: Id, target: str, text: str, *, kind: Kind = "reply",
                    template_id: Id | None = None) -> None:
        self.workspace.store.put_draft(inbox_id, target, text, kind=kind, template_id=template_id)
        self.workspace.replies.drafts_changed()

    def reply_current_changed(self: Any, conversation: Conversation | None) -> None:
        """The current conversation changed: a composer for another one goes (its draft is kept:
        it is never retargeted)."""
        composer = self.composer
        if composer is not None and _key_of(conversation) != composer.key:
            had_focus = composer.has_focus_within
            self._retire(composer)
            if had_focus:
                self.thread.focus()
        self.workspace.replies.drafts_changed()

    def on_composer_submitted(self: Any, event: Composer.Submitted) -> None:
        event.stop()
        key = event.key
        current = self.workspace.current
        expected = current.id if current is not None and _key_of(current) == key else None
        self.workspace.replies.send(key.inbox_id, key.target, event.text, kind=event.kind,
                                    template_id=event.template_id, close_after=event.close_after,
                                    expected=expected)
        self.workspace.replies.drafts_changed()

    def on_composer_left(self: Any, event: Composer.Left) -> None:
        event.stop()
        self._retire(event.composer)
        self.thread.focus()
        self.workspace.replies.drafts_changed()

    # -- failed sends in the thread ----------------------------------------------------------

    def _failed_selected(self: Any) -> str | None:
        message = self.thread.selected_message
        if message is None or send_state(message) != "failed":
            return None
        return local_id_of(message)

    def action_retry_send(self: Any) -> None:
        local_id = self._failed_selected()
        if local_id is None:
            return
        if self.workspace.replies.retry(local_id) is None:
            self.notify("That message is no longer in the outbox", markup=False)

    def action_delete_send(self: Any) -> None:
        local_id = self._failed_selected()
        if local_id is None:
            self.notify("d deletes a message that failed to send; this one did not", markup=False)
            return
        if self.workspace.replies.drop(local_id):
            self.notify("Deleted the unsent message", markup=False)

    # -- quitting ----------------------------------------------------------------------------

    def confirm_quit(self: Any, quit_now: Any) -> bool:
        """True when quitting loses nothing; else asks (a modal listing what would be lost) and
        calls `quit_now()` only if the user says so."""
        composer = self.composer
        if composer is not None:
            composer.save_draft_now()  # belt and braces: its unmount saves it too
        lost = self.workspace.replies.lost_on_quit()
        if not lost:
            return True
        choices: list[tuple[object, str]] = [("stay", "Stay (the messages are kept while hmtui runs)")]
        for n, entry in enumerate(lost[:8]):
            what = "note on" if entry.kind == "note" else "reply to"
            state = "failed" if entry.state == "failed" else "not sent"
            choices.append((("stay", n), f"  {state}: {what} {format_phone(entry.target)}: {one_line(entry.text, 40)}"))
        if len(lost) > 8:
            choices.append((("stay", "more"), f"  … and {len(lost) - 8} more"))
        choices.append(("quit", "Quit and lose them"))
        title = f"{len(lost)} unsent message{'s' if len(lost) != 1 else ''} would be lost (no cache)"
        self.app.push_screen(PickerScreen(title, choices), lambda answer: answer == "quit" and quit_now())
        return False

"""What the workspace announces. The UI subclasses `Listener` and draws; tests record.

Every method is called on the event loop, after the workspace's state already holds the change
(a listener reads the rest of what it needs from the workspace). Nothing here decides anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from hmtui.api.models import Conversation, Id, Inbox, Message
from hmtui.workspace.refresh import InboxCounts, NewMessage


class Listener:
    """No-op defaults: override what you draw."""

    # -- inboxes and the team --------------------------------------------------------------
    def inboxes_changed(self, inboxes: Sequence[Inbox], selected: Id | None) -> None: ...

    def no_inboxes(self, text: str) -> None: ...

    def counts_changed(self, inbox_id: Id, counts: InboxCounts) -> None: ...

    def team_changed(self, member_names: dict[Id, str]) -> None: ...

    # -- the conversation list -------------------------------------------------------------
    def list_changed(self, items: Sequence[Conversation], keep: Id | None) -> None:
        """The whole list is new (another inbox or status filter, a merged head)."""

    def list_extended(self, items: Sequence[Conversation]) -> None: ...

    def list_item_changed(self, conversation: Conversation) -> None: ...

    def list_item_removed(self, conversation_id: Id) -> None: ...

    def list_empty_text(self, text: str) -> None: ...

    def list_title_changed(self) -> None:
        """Inbox, status filter, text filter or counts changed: redraw the list's title."""

    def cursor_moved(self, conversation_id: Id) -> None:
        """The workspace moved the current conversation (auto-advance, next unread, a deep link,
        a filter): put the list's cursor on it."""

    # -- the current conversation and its thread -------------------------------------------
    def current_changed(self, conversation: Conversation | None) -> None:
        """What the thread header names (also a change of its fields: closed, unread, ...)."""

    def focus_thread(self) -> None:
        """A thread was asked for by name (a deep link, a search result): reading it comes next."""

    def thread_reset(self, messages: Sequence[Message], contact: str, at_start: bool) -> None: ...

    def thread_cleared(self, text: str) -> None: ...

    def thread_appended(self, messages: Sequence[Message]) -> None: ...

    def thread_prepended(self, messages: Sequence[Message], at_start: bool) -> None: ...

    def thread_loading_older(self, loading: bool) -> None: ...

    def thread_show_oldest(self) -> None:
        """Select the oldest loaded message and scroll to it (a queued `g`, a whole history
        loaded: it lands on the first message)."""

    def history_progress(self, label: str | None) -> None:
        """The whole-history load's progress ("n of about N messages · R requests"); None: over."""

    def find_changed(self, query: str) -> None:
        """Highlight `query` in the thread ("" clears)."""

    def show_message(self, message_id: Id) -> None:
        """Select and centre this (loaded) message."""

    # -- status, connection, notices -------------------------------------------------------
    def loading(self, key: str, label: str | None) -> None:
        """Something is loading (`label`), or done (None)."""

    def connection_changed(self) -> None:
        """Read `workspace.connection` (state, detail, retry_at)."""

    def refreshed(self) -> None:
        """A refresh succeeded (read `workspace.refreshed_at`)."""

    def notice(self, text: str, *, severity: str = "information", title: str | None = None,
               timeout: float | None = None) -> None:
        """Something to tell the user once (a toast): text is plain, never markup."""

    def new_message(self, new: NewMessage) -> None: ...

    def unexpected(self, error: BaseException) -> None:
        """A bug (not an API error): the UI's one place for those."""


class Recorder(Listener):
    """Keeps every announcement as (name, args): for tests and debugging."""

    def __init__(self) -> None:
        self.events: list[tuple[str, tuple[object, ...]]] = []
        self.notices: list[tuple[str, str]] = []  # (severity, text)

    def __getattribute__(self, name: str) -> object:
        attr = object.__getattribute__(self, name)
        if name.startswith("_") or name in {"events", "notices", "named"} or not callable(attr):
            return attr
        events = object.__getattribute__(self, "events")

        def record(*args: object, **kwargs: object) -> object:
            events.append((name, args + tuple(kwargs.values())))
            if name == "notice":
                object.__getattribute__(self, "notices").append((str(kwargs.get("severity", "information")), str(args[0])))
            if name == "unexpected":
                raise args[0]  # type: ignore[misc]  # a bug fails the test
            return attr(*args, **kwargs)

        return record

    def named(self, name: str) -> list[tuple[object, ...]]:
        return [args for event, args in self.events if event == name]

"""The conversation list: two lines per conversation (who, badges, when; the last message)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from datetime import datetime
from typing import ClassVar

from rich.style import Style
from textual import events
from textual.strip import Strip

from hmtui.api.models import Conversation, Id
from hmtui.cells import cell_len
from hmtui.safe_text import one_line
from hmtui.ui.timefmt import relative
from hmtui.ui.widgets.inbox_sidebar import format_phone
from hmtui.ui.widgets.virtual_list import Part, VirtualList, fit_cells, parts_strip
from hmtui.workspace.conversations import matches_filter
from hmtui.workspace.queue import waiting_label

# Rows re-render (to update relative times) at most this often.
_TIME_BUCKET_SECONDS = 15


def conversation_title(conversation: Conversation) -> str:
    """The contact's name, else their number (formatted), cleaned to one line."""
    name = one_line(conversation.name)
    if name:
        return name
    if conversation.is_group:  # a group MMS: all its numbers
        return ", ".join(format_phone(number) for number in conversation.numbers)
    if conversation.target:
        return format_phone(conversation.target)
    return one_line(conversation.display_name)


class ConversationList(VirtualList[Conversation]):
    """Conversations, newest first as given. Keys are conversation ids."""

    ROW_HEIGHT: ClassVar[int] = 2
    BINDING_PREFIX: ClassVar[str] = "conversations"

    DEFAULT_CSS = """
    ConversationList {
        height: 1fr;
        width: 1fr;
    }
    """

    class Highlighted(VirtualList.Highlighted):
        """The cursor moved to another conversation."""

    class Selected(VirtualList.Selected):
        """Enter or a click on a conversation."""

    class NearEnd(VirtualList.NearEnd):
        """The cursor is near the last loaded conversation: load the next page."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        member_names: Mapping[Id, str] | None = None,
        empty_text: str = "No conversations",
        **kwargs: object,
    ) -> None:
        super().__init__(empty_text=empty_text, **kwargs)  # type: ignore[arg-type]
        self._clock = clock
        self._member_names: dict[Id, str] = dict(member_names or {})
        self._filter_text = ""
        self._time_token: int | None = None
        self._waiting = False  # the waiting sort: rows say "waiting 2h 14m" instead of the time
        self._drafts: set[str] = set()  # targets with a draft: ✎ (issue 9)

    def item_key(self, item: Conversation) -> Hashable:
        return item.id

    # -- members and filter ----------------------------------------------------------------

    def set_member_names(self, names: Mapping[Id, str]) -> None:
        """Names for the `@Name` badge of assigned conversations, by member id."""
        self._member_names = dict(names)
        self.clear_render_cache()

    def set_drafts(self, targets: set[str]) -> None:
        """The targets of this inbox that have a draft (drawn with ✎)."""
        if targets != self._drafts:
            self._drafts = set(targets)
            self.clear_render_cache()

    @property
    def filter_text(self) -> str:
        return self._filter_text

    def set_filter(self, text: str) -> None:
        """Show only loaded conversations whose name, number or last message contains `text`
        (case-insensitive; a number matches whatever its formatting). "" shows all. The rule is
        the workspace's (`matches_filter`), so what is drawn is what the workspace filters."""
        self._filter_text = text
        if not " ".join(text.split()):
            self._set_predicate(None)
            return
        self._set_predicate(lambda conversation: matches_filter(conversation, text))

    def set_waiting(self, on: bool) -> None:
        """Under the waiting sort a waiting customer's row shows how long they have waited."""
        if on != self._waiting:
            self._waiting = on
            self.clear_render_cache()

    # -- time ------------------------------------------------------------------------------

    def render_cache_token(self) -> Hashable:
        return int(self._clock().timestamp() // _TIME_BUCKET_SECONDS)

    def _on_mount(self, event: events.Mount) -> None:
        self.set_interval(_TIME_BUCKET_SECONDS, self._tick)

    def _tick(self) -> None:
        token = self.render_cache_token()
        if token != self._time_token:
            self._time_token = token  # type: ignore[assignment]
            self.refresh()

    # -- rendering -------------------------------------------------------------------------

    def render_row(self, item: Conversation, width: int, selected: bool, focused: bool) -> list[Strip]:
        base = self.row_style(selected)
        strong = selected and focused  # the cursor colours win over accent and muted colours
        accent = Style(bold=True) if strong else self.component_color("virtual-list--accent")
        dim = Style(dim=True) if selected else self.component_color("virtual-list--dim")
        marker: Part = ("▌" if selected else " ", None if strong else self.component_color("virtual-list--accent"))

        waited = waiting_label(item, self._clock()) if self._waiting else None
        when = waited or relative(item.updated, self._clock())
        right = 1 + cell_len(when) + 1 if when else 1
        room = width - 1 - right

        badges: list[Part] = []
        if item.target in self._drafts:
            badges.append(("✎", accent))
        if item.unread:
            badges.append(("●", accent))
        if item.closed:
            badges.append(("closed", dim))
        elif item.status_label.casefold() != "open":  # pending, or a status we do not know: as it is
            badges.append((fit_cells(one_line(item.status_label), 12), dim))
        if item.is_group:
            badges.append((f"group of {len(item.numbers)}", dim))
        elif item.channel and item.channel.casefold() == "email":
            badges.append(("email", dim))
        if item.assigned is not None:
            member = one_line(self._member_names.get(item.assigned)) or one_line(item.assigned)
            badges.append((fit_cells("@" + member, 16), dim))

        title = conversation_title(item)
        badge_cells = sum(cell_len(text) + 1 for text, _ in badges)
        # Badges give way (assignee first) before the name shrinks below a few cells.
        while badges and room - badge_cells < min(cell_len(title), 8):
            text, _ = badges.pop()
            badge_cells -= cell_len(text) + 1
        title = fit_cells(title, room - badge_cells)
        line1: list[Part] = [marker, (title, Style(bold=True) if item.unread else None)]
        for text, style in badges:
            line1 += [(" ", None), (text, style)]
        used = 1 + cell_len(title) + badge_cells
        line1 += [(" " * max(0, width - used - cell_len(when) - 1), None), (when, dim), (" ", None)]

        snippet = one_line(item.last_message)
        if not snippet and one_line(item.name) and item.target:
            snippet = format_phone(item.target)
        line2: list[Part] = [marker, (" ", None), (fit_cells(snippet, width - 3), dim)]
        return [parts_strip(line1, width, base), parts_strip(line2, width, base)]

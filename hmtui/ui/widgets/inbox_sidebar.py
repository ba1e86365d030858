"""The inbox sidebar: one two-line row per inbox, with unread and open counts."""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from rich.style import Style
from textual.strip import Strip

from hmtui.api.models import Id, Inbox
from hmtui.phones import format_phone  # noqa: F401 - shared with the CLI; re-exported for old imports
from hmtui.cells import cell_len
from hmtui.safe_text import one_line
from hmtui.ui.widgets.virtual_list import Part, VirtualList, fit_cells, parts_strip


class InboxSidebar(VirtualList[Inbox]):
    """Inboxes, each with its name, counts and number. Keys are inbox ids."""

    ROW_HEIGHT: ClassVar[int] = 2
    BINDING_PREFIX: ClassVar[str] = "inboxes"

    DEFAULT_CSS = """
    InboxSidebar {
        width: 30;
        height: 1fr;
    }
    """

    class Highlighted(VirtualList.Highlighted):
        """The cursor moved to another inbox."""

    class Selected(VirtualList.Selected):
        """Enter or a click on an inbox."""

    class NearEnd(VirtualList.NearEnd):
        """The cursor is near the last inbox."""

    def __init__(self, *, empty_text: str = "No inboxes", **kwargs: object) -> None:
        super().__init__(empty_text=empty_text, **kwargs)  # type: ignore[arg-type]
        self._counts: dict[Hashable, tuple[int | None, int | None, bool]] = {}

    def item_key(self, item: Inbox) -> Hashable:
        return item.id

    def set_counts(self, inbox_id: Id, *, open: int | None, unread: int | None, more: bool = False) -> None:
        """Counts for an inbox's badges: None is unknown (no badge); `more` marks them as lower
        bounds ("100+")."""
        self._counts[inbox_id] = (open, unread, more)
        self.refresh_key(inbox_id)

    def counts(self, inbox_id: Id) -> tuple[int | None, int | None]:
        """(open, unread) as last set, None where unknown."""
        open_, unread, _ = self._counts.get(inbox_id, (None, None, False))
        return open_, unread

    def render_row(self, item: Inbox, width: int, selected: bool, focused: bool) -> list[Strip]:
        base = self.row_style(selected)
        accent = self.component_color("virtual-list--accent")
        dim = self.component_color("virtual-list--dim") if not selected else Style(dim=True)
        marker: Part = ("▌" if selected else " ", accent if selected and not focused else None)

        open_, unread, more = self._counts.get(item.id, (None, None, False))
        plus = "+" if more else ""
        badges: list[Part] = []
        if unread:
            badges.append((f"●{unread}{plus}", Style(bold=True) + accent if not (selected and focused) else Style(bold=True)))
        if open_ is not None:
            badges.append((f"{open_}{plus} open", dim))
        badge_cells = sum(cell_len(text) + 1 for text, _ in badges)

        name = one_line(item.name) or f"Inbox {one_line(item.id)}"
        room = width - 2 - badge_cells
        while badges and room < min(cell_len(name), 6):
            text, _ = badges.pop()
            room += cell_len(text) + 1
        name = fit_cells(name, room)
        gap = max(0, room - cell_len(name))
        line1: list[Part] = [marker, (name, Style(bold=True)), (" " * gap, None)]
        for text, style in badges:
            line1 += [(" ", None), (text, style)]

        phone = format_phone(item.phone) or "no number"
        extra = f" +{len(item.phones) - 1}" if len(item.phones) > 1 else ""
        line2: list[Part] = [
            marker,
            (" ", None),
            (fit_cells(phone + extra, width - 3), dim),
        ]
        return [parts_strip(line1, width, base), parts_strip(line2, width, base)]

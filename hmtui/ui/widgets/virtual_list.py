"""A virtualised, keyboard-driven list of fixed-height rows drawn with Textual's Line API.

Only visible lines are rendered (`render_line`), rendered rows are kept in a bounded LRU cache,
and every cursor movement is O(1): an inbox of 100,000 conversations scrolls like one of 10.

Rows are built from `Segment`s of plain strings, never from markup, so text from the server can
not become styles, links or actions. Subclasses build their rows with `parts_strip`, which pads
or crops to exactly `width` cells (measured as terminals measure them: `hmtui.cells`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import ClassVar, Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hmtui import cells
from hmtui.cells import cell_len
from hmtui.safe_text import one_line
from hmtui.ui.widgets.list_model import CursorState, ListModel
from hmtui.ui.widgets.list_model import ReadOnly as _ReadOnly
from hmtui.ui.errors import Guarded

T = TypeVar("T")

Part = tuple[str, Style | None]
"""A run of plain text (never markup) and its style, added to the row's base style."""


def fit_cells(text: str, cells_: int, ellipsis: str = "…") -> str:
    """`text` cut to at most `cells_` terminal cells, ending in `ellipsis` when cut (measured as
    terminals measure: `hmtui.cells`)."""
    return cells.fit(text, cells_, ellipsis=ellipsis)


def parts_strip(parts: Sequence[Part], width: int, base: Style) -> Strip:
    """One line of exactly `width` cells from plain-text parts (cropped or padded with `base`)."""
    segments = [
        Segment(text, base + style if style is not None else base)
        for text, style in parts
        if text
    ]
    strip = Strip(segments, sum(cell_len(text) for text, _ in parts))
    return strip.adjust_cell_length(width, base)


def list_bindings(prefix: str) -> list[BindingType]:
    """The list's key bindings, with ids `<prefix>.down`, `<prefix>.open`, ... (for keymaps)."""
    return [
        Binding("j,down", "cursor_down", "Down", id=f"{prefix}.down", show=False),
        Binding("k,up", "cursor_up", "Up", id=f"{prefix}.up", show=False),
        Binding("g,home", "first", "First", id=f"{prefix}.first", show=False),
        Binding("G,end", "last", "Last", id=f"{prefix}.last", show=False),
        Binding("pageup", "page_up", "Page up", id=f"{prefix}.page_up", show=False),
        Binding("pagedown", "page_down", "Page down", id=f"{prefix}.page_down", show=False),
        Binding("enter", "select", "Open", id=f"{prefix}.open"),
    ]


class VirtualList(Guarded, ScrollView, Generic[T], can_focus=True):
    """A list of items drawn as rows of `ROW_HEIGHT` lines, with a cursor."""

    ROW_HEIGHT: ClassVar[int] = 1
    BINDING_PREFIX: ClassVar[str] = "list"
    BINDINGS: ClassVar[list[BindingType]] = list_bindings("list")
    ALLOW_SELECT = False
    CACHE_SIZE: ClassVar[int] = 1024

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-list--row",
        "virtual-list--cursor",
        "virtual-list--empty",
        "virtual-list--dim",
        "virtual-list--accent",
    }

    DEFAULT_CSS = """
    VirtualList {
        height: 1fr;
        width: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        background: $surface;
        color: $foreground;
        scrollbar-size-vertical: 1;
        & > .virtual-list--row {
            background: $surface;
            color: $foreground;
        }
        & > .virtual-list--cursor {
            background: $block-cursor-blurred-background;
            color: $foreground;
        }
        &:focus > .virtual-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
        }
        & > .virtual-list--empty {
            color: $text-muted;
        }
        & > .virtual-list--dim {
            color: $text-muted;
        }
        & > .virtual-list--accent {
            color: $accent;
        }
    }
    """

    class Highlighted(Message):
        """The cursor moved to another row (or the list became empty: index and item None)."""

        def __init__(self, list: VirtualList, index: int | None, item: object | None) -> None:
            super().__init__()
            self.list = list
            self.index = index
            self.item = item

        @property
        def control(self) -> VirtualList:
            return self.list

    class Selected(Message):
        """Enter (or a click) on a row."""

        def __init__(self, list: VirtualList, index: int, item: object) -> None:
            super().__init__()
            self.list = list
            self.index = index
            self.item = item

        @property
        def control(self) -> VirtualList:
            return self.list

    class NearEnd(Message):
        """The cursor was moved to within `near_end_rows` of the end: time to load the next
        page. Posted at most once after each set_items/extend (which re-arm it)."""

        def __init__(self, list: VirtualList) -> None:
            super().__init__()
            self.list = list

        @property
        def control(self) -> VirtualList:
            return self.list

    def __init_subclass__(cls, **kwargs: object) -> None:
        # A subclass that only sets BINDING_PREFIX gets the bindings with its own ids.
        if "BINDING_PREFIX" in cls.__dict__ and "BINDINGS" not in cls.__dict__:
            cls.BINDINGS = list_bindings(cls.BINDING_PREFIX)
        super().__init_subclass__(**kwargs)  # type: ignore[arg-type]

    def __init__(
        self,
        *,
        near_end_rows: int = 10,
        empty_text: str = "Nothing here",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.near_end_rows = near_end_rows
        self._empty_text = empty_text
        # Every loaded item, the visible ones, the cursor: a pure model (the key is looked up on
        # each call, so a subclass's `item_key` is the one used).
        self._model: ListModel[T] = ListModel(lambda item: self.item_key(item))
        self._generation = 0
        self._row_cache: LRUCache[tuple[object, ...], list[Strip]] = LRUCache(self.CACHE_SIZE)

    # -- reading ---------------------------------------------------------------------------

    @property
    def items(self) -> Sequence[T]:
        """The visible items, in order (read-only)."""
        return _ReadOnly(self._model.items)

    @property
    def all_items(self) -> Sequence[T]:
        """Every loaded item, visible or hidden by a filter, in order (read-only)."""
        return _ReadOnly(self._model.all)

    @property
    def total_count(self) -> int:
        """Every loaded item, visible or not."""
        return len(self._model.all)

    @property
    def cursor(self) -> int | None:
        return self._model.cursor

    @property
    def highlighted(self) -> T | None:
        return None if self._model.cursor is None else self._model.items[self._model.cursor]

    def index_of(self, key: Hashable) -> int | None:
        """The visible index of the item with this key, or None."""
        return self._model.pos.get(key)

    def get_item(self, key: Hashable) -> T | None:
        """The loaded item with this key (visible or not), or None."""
        index = self._model.all_pos.get(key)
        return None if index is None else self._model.all[index]

    def item_key(self, item: T) -> Hashable:
        """A stable identity for an item; override (default: the object's id)."""
        return id(item)

    def render_row(self, item: T, width: int, selected: bool, focused: bool) -> list[Strip]:
        """ROW_HEIGHT strips of exactly `width` cells; override."""
        base = self.row_style(selected)
        return [parts_strip([(" " + one_line(item), None)], width, base)] + [
            Strip.blank(width, base) for _ in range(self.ROW_HEIGHT - 1)
        ]

    def render_cache_token(self) -> Hashable:
        """Anything else rendered rows depend on (e.g. the current minute); override."""
        return None

    # -- styles for subclasses -------------------------------------------------------------

    def row_style(self, selected: bool) -> Style:
        """The base style (background and colour) of a row."""
        return self.get_component_rich_style(
            "virtual-list--cursor" if selected else "virtual-list--row"
        )

    def component_color(self, name: str) -> Style:
        """Only the foreground colour of a component class, to layer over a row's style."""
        color = self.get_component_rich_style(name).color
        return Style(color=color) if color is not None else Style()

    # -- changing the items ----------------------------------------------------------------

    def set_items(self, items: Sequence[T], *, keep: Hashable | None = None) -> None:
        """Replace the items. The cursor goes to the item whose key is `keep` if it is there,
        else keeps its index (clamped). Items whose key came earlier in `items` are dropped."""
        previous = self._model.cursor_state()
        self._model.replace(items)
        self._row_cache.clear()
        self._near_end_armed = True
        self._refilter(keep, previous, keep_previous=False)

    def extend(self, items: Sequence[T]) -> None:
        """Append a page. An item whose key is already loaded replaces that item instead."""
        _, known = self._model.extend(items)
        for item in known:
            self.update_item(item)
        self._near_end_armed = True
        model = self._model
        if model.cursor is None and model.items:
            model.cursor = 0
            self._after_change(previous=(None, None), scroll=True)
        else:
            self._update_virtual_size()
            self.refresh()

    def update_item(self, item: T) -> None:
        """Replace the item with the same key and re-render its row (a no-op if not loaded)."""
        changed = self._model.update(item)
        if changed == "refilter":
            self._refilter(None, self._model.cursor_state())
        elif isinstance(changed, int):
            self._refresh_index(changed)

    def refresh_key(self, key: Hashable) -> None:
        """Re-render the row of this key (its look depends on something outside the item)."""
        model = self._model
        if key in model.all_pos:
            model.bump(key)
            index = model.pos.get(key)
            if index is not None:
                self._refresh_index(index)

    def remove_key(self, key: Hashable) -> None:
        """Remove the item with this key. A cursor on it moves to the next row (or the last)."""
        previous = self._model.cursor_state()
        if not self._model.remove(key):
            return
        self._after_change(previous, scroll=True)

    def set_empty_text(self, text: str) -> None:
        """What an empty list says (dim, centred)."""
        self._empty_text = text
        if not self._model.items:
            self.refresh()

    # -- filtering (for subclasses) --------------------------------------------------------

    def _set_predicate(self, predicate: Callable[[T], bool] | None) -> None:
        """Show only the loaded items for which `predicate` is true (None: all). O(n)."""
        self._model.predicate = predicate
        self._refilter(None, self._model.cursor_state())

    def _refilter(self, keep: Hashable | None, previous: CursorState, *, keep_previous: bool = True) -> None:
        self._model.refilter(keep, previous, keep_previous=keep_previous)
        self.refresh()
        self._after_change(previous, scroll=True)

    # -- cursor ----------------------------------------------------------------------------

    def move_cursor(self, index: int) -> None:
        """Move the cursor to `index` (clamped), scroll it into view, post Highlighted."""
        if not self._model.items:
            return
        index = max(0, min(index, len(self._model.items) - 1))
        previous = self._model.cursor_state()
        self._model.cursor = index
        self._after_change(previous, scroll=True)
        self._check_near_end()

    def action_cursor_down(self) -> None:
        self.move_cursor(0 if self._model.cursor is None else self._model.cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(0 if self._model.cursor is None else self._model.cursor - 1)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._model.items) - 1)

    def _page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height // self.ROW_HEIGHT - 1)

    def action_page_down(self) -> None:
        self.move_cursor((self._model.cursor or 0) + self._page_rows())

    def action_page_up(self) -> None:
        self.move_cursor((self._model.cursor or 0) - self._page_rows())

    def action_select(self) -> None:
        if self._model.cursor is not None:
            self.post_message(self.Selected(self, self._model.cursor, self._model.items[self._model.cursor]))

    def _cursor_state(self) -> CursorState:
        return self._model.cursor_state()

    def _after_change(self, previous: tuple[int | None, Hashable | None], *, scroll: bool) -> None:
        self._update_virtual_size()
        current = self._model.cursor_state()
        old_index = previous[0]
        if current != previous:
            if old_index is not None and old_index < len(self._model.items):
                self._refresh_index(old_index)
            if self._model.cursor is not None:
                self._refresh_index(self._model.cursor)
            self.post_message(self.Highlighted(self, self._model.cursor, self.highlighted))
        if scroll:
            self.scroll_to_cursor()

    def _check_near_end(self) -> None:
        if (
            self._near_end_armed
            and self._model.cursor is not None
            and self._model.cursor >= len(self._model.items) - self.near_end_rows
        ):
            self._near_end_armed = False
            self.post_message(self.NearEnd(self))

    def scroll_to_cursor(self) -> None:
        """Scroll the least distance that shows the cursor's whole row."""
        if self._model.cursor is None or not self.is_mounted or not self.scrollable_content_region.height:
            return
        height = self.ROW_HEIGHT
        self.scroll_to_region(
            Region(0, self._model.cursor * height, 1, height),
            animate=False,
            force=True,
            immediate=True,
            x_axis=False,
        )

    # -- rendering -------------------------------------------------------------------------

    def _update_virtual_size(self) -> None:
        size = Size(0, len(self._model.items) * self.ROW_HEIGHT)
        if size != self.virtual_size:
            self.virtual_size = size
            self.refresh()

    def _refresh_index(self, index: int) -> None:
        if self.is_mounted:
            self.refresh_lines(index * self.ROW_HEIGHT, self.ROW_HEIGHT)

    def _row_strips(self, index: int, width: int) -> list[Strip]:
        item = self._model.items[index]
        key = self.item_key(item)
        selected = index == self._model.cursor
        focused = self.has_focus
        cache_key = (
            key, self._model.revision(key), width, selected, focused,
            self._generation, self.render_cache_token(),
        )
        strips = self._row_cache.get(cache_key)
        if strips is None:
            strips = self.render_row(item, width, selected, focused)
            strips = [strip.adjust_cell_length(width, self.row_style(selected)) for strip in strips]
            self._row_cache.set(cache_key, strips)
        return strips

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if not self._model.items:
            return self._empty_line(y, width)
        line = self.scroll_offset.y + y
        index, offset = divmod(line, self.ROW_HEIGHT)
        if not 0 <= index < len(self._model.items):
            return Strip.blank(width, self.row_style(False))
        strips = self._row_strips(index, width)
        if offset < len(strips):
            return strips[offset]
        return Strip.blank(width, self.row_style(index == self._model.cursor))

    def _empty_line(self, y: int, width: int) -> Strip:
        base = self.row_style(False)
        if y != max(self.scrollable_content_region.height, 1) // 2 or not self._empty_text:
            return Strip.blank(width, base)
        text = fit_cells(one_line(self._empty_text), width)
        left = max(0, (width - cell_len(text)) // 2)
        dim = self.component_color("virtual-list--empty") + Style(dim=False)
        return parts_strip([(" " * left, None), (text, dim)], width, base)

    def notify_style_update(self) -> None:
        self._generation += 1
        self._row_cache.clear()
        super().notify_style_update()

    def clear_render_cache(self) -> None:
        """Forget every rendered row (after something every row depends on changed)."""
        self._generation += 1
        self._row_cache.clear()
        self.refresh()

    # -- events ----------------------------------------------------------------------------

    def _on_focus(self, event: events.Focus) -> None:
        self._refresh_cursor_row()

    def _on_blur(self, event: events.Blur) -> None:
        self._refresh_cursor_row()

    def _refresh_cursor_row(self) -> None:
        if self._model.cursor is not None:
            self._refresh_index(self._model.cursor)

    def _on_resize(self, event: events.Resize) -> None:
        self._row_cache.clear()
        self.call_after_refresh(self.scroll_to_cursor)

    def _on_mount(self, event: events.Mount) -> None:
        # (Textual calls each class's mount handler itself: no super() here.)
        self._update_virtual_size()
        self.call_after_refresh(self.scroll_to_cursor)

    def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = (self.scroll_offset.y + offset.y) // self.ROW_HEIGHT
        if 0 <= index < len(self._model.items):
            event.stop()
            self.move_cursor(index)
            self.action_select()

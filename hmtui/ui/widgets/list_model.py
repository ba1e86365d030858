"""The items of a virtual list and its cursor, without a terminal.

`VirtualList` draws this model: every loaded item (`all`), the visible ones under a filter
(`items`, the same list object while no predicate is set), their positions by key, the cursor,
and per-key revisions (a row's cache key). Each change returns what the widget must redraw or
announce; nothing here posts messages or refreshes. No Textual import: tests use it directly.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Generic, Literal, TypeVar, overload

T = TypeVar("T")

CursorState = tuple[int | None, Hashable | None]
"""(cursor index, key of the item under it): what the cursor was before a change."""


class ReadOnly(Sequence[T]):
    """A read-only view of a list, without copying it."""

    __slots__ = ("_data",)

    def __init__(self, data: list[T]) -> None:
        self._data = data

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self._data[index]

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[T]:
        return iter(self._data)

    def __repr__(self) -> str:
        return f"<items of {len(self._data)}>"


class ListModel(Generic[T]):
    """Loaded items, the visible ones, and a cursor over the visible ones (O(1) moves)."""

    def __init__(self, key: Callable[[T], Hashable]) -> None:
        self.key = key
        self.all: list[T] = []
        self.all_pos: dict[Hashable, int] = {}
        self.items: list[T] = self.all
        self.pos: dict[Hashable, int] = self.all_pos
        self.predicate: Callable[[T], bool] | None = None
        self.cursor: int | None = None
        self.revisions: dict[Hashable, int] = {}

    # -- reading ---------------------------------------------------------------------------

    @property
    def filtered(self) -> bool:
        return self.items is not self.all

    @property
    def highlighted(self) -> T | None:
        return None if self.cursor is None else self.items[self.cursor]

    def cursor_state(self) -> CursorState:
        if self.cursor is None:
            return (None, None)
        return (self.cursor, self.key(self.items[self.cursor]))

    def revision(self, key: Hashable) -> int:
        return self.revisions.get(key, 0)

    # -- changing --------------------------------------------------------------------------

    def replace(self, items: Sequence[T]) -> None:
        """Every item anew (a key seen earlier in `items` wins); revisions are forgotten. Call
        `refilter` after."""
        all_items: list[T] = []
        positions: dict[Hashable, int] = {}
        for item in items:
            key = self.key(item)
            if key not in positions:
                positions[key] = len(all_items)
                all_items.append(item)
        self.all, self.all_pos = all_items, positions
        self.revisions.clear()

    def extend(self, items: Sequence[T]) -> tuple[list[T], list[T]]:
        """Append a page: (the items added, the items whose key was loaded, to `update` instead)."""
        added: list[T] = []
        known: list[T] = []
        for item in items:
            key = self.key(item)
            if key in self.all_pos:
                known.append(item)
                continue
            self.all_pos[key] = len(self.all)
            self.all.append(item)
            added.append(item)
        if self.filtered:
            predicate = self.predicate
            for item in added:
                if predicate is None or predicate(item):
                    self.pos[self.key(item)] = len(self.items)
                    self.items.append(item)
        return added, known

    def update(self, item: T) -> int | None | Literal["refilter"]:
        """Replace the loaded item with the same key. Returns the visible index to redraw, None
        when nothing is to redraw, or "refilter" when the filter must run again (the item came
        into it or went out of it)."""
        key = self.key(item)
        index = self.all_pos.get(key)
        if index is None:
            return None
        self.all[index] = item
        self.bump(key)
        if not self.filtered:
            return index
        visible = self.pos.get(key)
        matches = self.predicate is None or self.predicate(item)
        if visible is not None and matches:
            self.items[visible] = item
            return visible
        if visible is not None or matches:
            return "refilter"
        return None

    def bump(self, key: Hashable) -> None:
        """Mark the row of `key` as changed (its cached drawing is stale)."""
        self.revisions[key] = self.revisions.get(key, 0) + 1

    def remove(self, key: Hashable) -> bool:
        """Remove the item with this key (a cursor on it moves to the next row, or the last).
        False when it was not loaded."""
        index = self.all_pos.pop(key, None)
        if index is None:
            return False
        shared = not self.filtered
        del self.all[index]
        self._reindex(self.all, self.all_pos, index)
        self.revisions.pop(key, None)
        if not shared:
            visible = self.pos.pop(key, None)
            if visible is None:
                return True
            del self.items[visible]
            self._reindex(self.items, self.pos, visible)
        else:
            visible = index
        cursor = self.cursor
        if cursor is not None:
            if not self.items:
                self.cursor = None
            elif cursor > visible or cursor >= len(self.items):
                self.cursor = max(cursor - 1, 0) if cursor > visible else len(self.items) - 1
        return True

    def refilter(self, keep: Hashable | None, previous: CursorState, *, keep_previous: bool = True) -> None:
        """Recompute the visible items; the cursor goes to `keep` (or the previous key) if it is
        visible, else keeps its index, clamped."""
        if keep is None and keep_previous:
            keep = previous[1]
        predicate = self.predicate
        if predicate is None:
            self.items, self.pos = self.all, self.all_pos
        else:
            self.items = [item for item in self.all if predicate(item)]
            self.pos = {self.key(item): index for index, item in enumerate(self.items)}
        if not self.items:
            self.cursor = None
        else:
            index = self.pos.get(keep) if keep is not None else None
            if index is None:
                index = min(previous[0] or 0, len(self.items) - 1)
            self.cursor = index

    def clamp(self, index: int) -> int:
        return max(0, min(index, len(self.items) - 1))

    def _reindex(self, items: list[T], positions: dict[Hashable, int], start: int) -> None:
        # Only the positions after a removal shift.
        for index in range(start, len(items)):
            positions[self.key(items[index])] = index

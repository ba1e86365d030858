"""How the thread view moves: selection, scrolling to show a message, and the key actions.
A mixin of `ThreadView`, kept apart so each module stays readable; line arithmetic is the
layout's (`ThreadLayout`), this only decides where to scroll and what to select."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hmtui.ui.widgets.thread_layout import Entry as _Entry, ThreadLayout


class ThreadMotion:
    """Selection and scrolling for `ThreadView` (see the module docstring)."""

    # A selection that leaves the screen scrolls it by half a screen (mutt's and less's way),
    # not by the message: a scroll redraws the whole pane, so j then redraws it once every few
    # messages instead of on each (config `thread_scroll`; False is "line").
    jump_scroll: bool = False

    if TYPE_CHECKING:  # what the view provides
        from textual.geometry import Offset

        _layout: ThreadLayout
        _selected: _Entry | None
        _follow: bool
        _new_count: int
        _at_start: bool
        _loading_older: bool
        _near_top_sent: bool
        _near_top_lines: int
        _strips: Any  # a BlockCache of built lines (thread_lines)
        scroll_offset: Offset
        max_scroll_y: int

        @property
        def _sized(self) -> bool: ...
        @property
        def _viewport_height(self) -> int: ...
        @property
        def _step(self) -> int: ...
        @property
        def _total_height(self) -> int: ...
        def _top_of(self, entry: _Entry) -> int: ...
        def _locate(self, line: int) -> tuple[_Entry, int] | None: ...
        def refresh(self, *args: object, **kwargs: object) -> object: ...
        def refresh_lines(self, y_start: int, line_count: int = 1) -> None: ...
        def post_message(self, message: object) -> bool: ...
        def _announce(self, message: Any) -> None: ...
        def scroll_to(self, *args: object, **kwargs: object) -> object: ...

    # ------------------------------------------------------------------ actions

    def action_next_message(self) -> None:
        entry = self._selected
        if entry is None or not self._sized:
            return
        height = self._viewport_height
        sy = self.scroll_offset.y
        if not self._visible(entry):
            self._select_middle()
            return
        top = self._top_of(entry)
        bottom = top + 1 + entry.body_h
        if bottom > sy + height and bottom - top > height:
            self._scroll_y_to(min(sy + self._step, bottom - height + 1))
            return
        following = self._layout.next(entry)
        if following is None:
            self._scroll_y_to(self.max_scroll_y)
            return
        self._select(following)
        self._reveal(following, downward=True)

    def action_previous_message(self) -> None:
        entry = self._selected
        if entry is None or not self._sized:
            if self._sized:
                self._scroll_y_to(0)
            return
        height = self._viewport_height
        sy = self.scroll_offset.y
        if not self._visible(entry):
            self._select_middle()
            return
        top = self._top_of(entry)
        reveal_top = top - self._layout.above(entry)
        if reveal_top < sy and 1 + entry.body_h > height:
            self._scroll_y_to(max(sy - self._step, reveal_top))
            return
        previous = self._layout.prev(entry)
        if previous is None:
            self._scroll_y_to(0)
            return
        self._select(previous)
        self._reveal(previous, downward=False)

    def action_oldest(self) -> None:
        if self._layout.newer:
            self._select(self._layout.oldest)
        # Each press asks for one older page itself, also while one is loading (the workspace
        # queues it), so a burst of g is as many pages, not one: the scroll must not ask too.
        asks = self._layout.has_thread and not self._at_start
        if asks:
            self._near_top_sent = True
        self._scroll_y_to(0)
        if asks:
            self.post_message(self.NearTop(self, pressed=True))

    def action_newest(self) -> None:
        if self._layout.newer:
            self._select(self._layout.newest)
        self._scroll_y_to(self.max_scroll_y)
        self._clear_hint()

    def action_page_up(self) -> None:
        self._scroll_y_to(self.scroll_offset.y - self._viewport_height)
        self._select_middle()

    def action_page_down(self) -> None:
        self._scroll_y_to(self.scroll_offset.y + self._viewport_height)
        self._select_middle()


    # ------------------------------------------------------------------ selection and scrolling

    def _select(self, entry: _Entry | None, *, post: bool = True) -> None:
        if entry is self._selected:
            return
        previous, self._selected = self._selected, entry
        for changed in (previous, entry):
            if changed is not None:
                self._refresh_entry(changed)
        if post:
            self._announce(self.SelectionChanged(self, entry.message if entry else None))

    def _refresh_selected(self) -> None:
        if self._selected is not None:
            self._strips.discard_selected()
            self._refresh_entry(self._selected)

    def _refresh_entry(self, entry: _Entry) -> None:
        """Repaint only the lines of one message: moving the selection changes two messages,
        and a full repaint would redraw (and write to the terminal) the whole pane per key."""
        if self._layout.live.get(entry.pos) is not entry:  # not (or no longer) in this thread's memory
            self.refresh()
            return
        self.refresh_lines(self._top_of(entry), 1 + entry.body_h)

    def _visible(self, entry: _Entry) -> bool:
        sy = self.scroll_offset.y
        top = self._top_of(entry)
        return top < sy + self._viewport_height and top + 1 + entry.body_h > sy

    def _reveal(self, entry: _Entry, *, downward: bool) -> None:
        """Scroll so a message (header and body) is visible; a tall one shows its start going down,
        its end going up."""
        height = self._viewport_height
        sy = self.scroll_offset.y
        top = self._top_of(entry)
        start = top - self._layout.above(entry)
        end = top + 1 + entry.body_h  # exclusive
        if end - start > height:
            if end - top > height:
                self._scroll_y_to(top if downward else end - height)
            else:
                self._scroll_y_to(end - height if downward else top)
            return
        if start < sy:
            target = start
            if self.jump_scroll:  # half a screen at least, keeping its end on screen
                target = min(start, max(sy - height // 2, end - height))
            self._scroll_y_to(target)
        elif end > sy + height:
            # Show the blank line after it too when that fits.
            target = min(end + 1, self._total_height) - height
            if self.jump_scroll:  # half a screen at least, keeping its start on screen
                target = max(target, min(sy + height // 2, start))
            self._scroll_y_to(target)

    def _centre(self, entry: _Entry) -> None:
        height = self._viewport_height
        top = self._top_of(entry)
        size = 1 + entry.body_h
        if size >= height:
            self._scroll_y_to(top)
        else:
            self._scroll_y_to(top + size // 2 - height // 2)

    def _select_middle(self) -> None:
        if not self._layout.newer:
            return
        line = self.scroll_offset.y + self._viewport_height // 2
        found = self._locate(line)
        if found is not None:
            self._select(found[0])
        elif line < self._layout.top_h:
            self._select(self._layout.oldest)
        else:
            self._select(self._layout.newest)

    def _scroll_y_to(self, y: float) -> None:
        self.scroll_to(y=max(0, y), animate=False, immediate=True)

    def _anchor(self) -> tuple[_Entry, int, int] | None:
        """What to keep in place across a re-wrap: (message, its screen row, line offset in it)."""
        if self._follow or not self._layout.newer:
            return None
        sy = self.scroll_offset.y
        selected = self._selected
        if selected is not None and self._visible(selected):
            return selected, self._top_of(selected) - sy, 0
        found = self._locate(sy)
        if found is None:
            return None
        return found[0], 0, found[1]

    def _check_near_top(self) -> None:
        if (
            not self._layout.has_thread
            or self._at_start
            or self._loading_older
            or self._near_top_sent
            or not self._sized
        ):
            return
        if self.scroll_offset.y <= self._near_top_lines:
            self._near_top_sent = True
            self.post_message(self.NearTop(self))

    def _clear_hint(self) -> None:
        if self._new_count:
            self._new_count = 0
            self.refresh()

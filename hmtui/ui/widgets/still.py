"""Widgets whose own lines are handed out again while nothing has marked them dirty.

Textual's compositor renders, for every frame, each widget whose *clip* (its container's area)
overlaps what changed, and over its whole region: a `j` that repaints a few lines of the thread
also renders the screen, the row of panes, all three panes, the thread's title, the status line
and the footer, about 300 lines of background, each a cache lookup and a filter (measured in the
pty benchmark: about 0.1 ms a widget, a third of a keypress). Their lines had not changed.

Textual's own cache of a widget's lines (its `_styles_cache`) knows when they change: any
refresh marks lines dirty or clears it. `StillLines.render_lines` returns the list it returned
last time when that cache has nothing dirty, still holds the same first line, and the crop,
the size and the line filters are the same; anything else renders as Textual does.

`PlainLines` shortens the other half of a frame, the lines that did change (see its docstring).
Both lean on Textual's private `StylesCache` (textual 8); `tests/test_still.py` holds them to what
Textual itself draws.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual._styles_cache import StylesCache
from textual.color import Color
from textual.containers import Horizontal, Vertical
from textual.css.styles import StylesBase
from textual.geometry import Region, Size, Spacing
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widgets import Static


class StillLines:
    """Mixin for a Widget (first in the bases): see the module docstring."""

    _still: tuple[Any, ...] | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        cache = self._styles_cache  # type: ignore[attr-defined]
        filters = tuple(map(id, self.get_line_filters()))  # type: ignore[attr-defined]
        size = self.size  # type: ignore[attr-defined]
        memo = self._still
        if (memo is not None and not cache._dirty_lines and memo[0] == crop and memo[1] == size
                and memo[2] == filters and memo[3] is cache._cache.get(crop.y)):
            return memo[4]  # type: ignore[no-any-return]
        strips: list[Strip] = super().render_lines(crop)  # type: ignore[misc]
        first = cache._cache.get(crop.y)
        self._still = (crop, size, filters, first, strips) if first is not None else None
        return strips


class Pane(StillLines, Vertical):
    """A pane of the main screen (a title and what it holds, one above the other)."""


class PaneRow(StillLines, Horizontal):
    """The panes side by side."""


class PaneTitle(StillLines, Static):
    """A pane's one-line title."""


class StillScrollBar(StillLines, ScrollBar):
    """A scroll bar drawn again only when it moves (see `ThreadView.vertical_scrollbar`)."""


class PlainLines(StylesCache):
    """Textual's cache of a widget's styled lines, with a short way for a widget drawn without
    border, outline, padding, tint, hatch or opacity: each content line is the widget's own line
    fitted to the content width (what Textual's general path gives for such a widget, after
    looking the styles up again for every line: about 30 µs a line, most of a `j` in the thread;
    measured). Whether the short way applies is decided once per frame."""

    _plain = False

    def render(self, styles: StylesBase, *args: Any, **kwargs: Any) -> list[Strip]:  # type: ignore[override]
        self._plain = _is_plain(styles, kwargs.get("padding"), kwargs.get("opacity", 1.0))
        try:
            return super().render(styles, *args, **kwargs)
        finally:
            self._plain = False

    def render_line(self, styles: StylesBase, y: int, size: Size, content_size: Size,  # type: ignore[override]
                    padding: Spacing, base_background: Color, background: Color,
                    render_content_line: Callable[[int], Strip], *args: Any) -> Strip:
        if not self._plain:
            return super().render_line(styles, y, size, content_size, padding, base_background, background,
                                       render_content_line, *args)
        inner = self.get_inner_outer(base_background, background)[0]
        if y < content_size.height:
            line = render_content_line(y).adjust_cell_length(content_size.width, inner.rich_style)
        else:
            line = Strip.blank(content_size.width, inner.rich_style)
        return Strip(list(line), size.width)


def _is_plain(styles: StylesBase, padding: Spacing | None, opacity: float) -> bool:
    no_edge = ("", "none")  # a "hidden" edge still takes its cell
    return (
        opacity == 1.0
        and (padding is None or not any(padding))
        and not any(padding_side for padding_side in styles.padding)
        and all(edge in no_edge for edge, _ in styles.border)
        and all(edge in no_edge for edge, _ in styles.outline)
        and not styles.tint.a
        and styles.text_opacity == 1.0
        and (not styles.has_rule("hatch") or styles.hatch == "none")
    )

"""How many terminal cells text takes, measured the way terminals measure it; cutting and padding.

Rich (and so Textual, which measures every strip with `rich.cells`) counts a spacing combining
mark (Unicode category Mc, e.g. the Devanagari vowel sign U+093E in "राहुल वर्मा") as zero cells.
glibc's `wcwidth`, tmux and most terminals give it one. Textual pads each row to its width by
Rich's count, so a row holding two such marks reaches the terminal two cells too wide: it pushes
the border and leaves fragments behind when the list scrolls.

Measuring our own strings right is not enough, because Textual re-measures (to pad, crop and
compose the screen) with Rich. So `align_rich()` corrects Rich's width table itself, in place,
for the Unicode version it uses: every Mc code point becomes one cell. After that Rich, Textual
and this module agree with the terminal. It runs once, when this module is imported, before the
app draws anything (the widgets import this module).

What terminals themselves disagree on is left as Rich has it (tmux 3.3a, measured: it joins
emoji ZWJ sequences into one 2-cell glyph as Rich does; it keeps VS16 "❤️" at 1 cell where Rich
says 2, and gives a skin-tone modifier its own 2 cells where Rich joins it).

No Textual import here: the CLI uses it too.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import rich.cells as _rich_cells
from rich._unicode_data import load as _load_table

ELLIPSIS = "…"

_aligned = False


def _mark_ranges(table: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """The code points of category Mc that `table` counts as zero cells."""
    marks: list[tuple[int, int]] = []
    for start, end, width in table:
        if width != 0:
            continue
        for codepoint in range(start, end + 1):
            if unicodedata.category(chr(codepoint)) == "Mc":
                if marks and marks[-1][1] == codepoint - 1:
                    marks[-1] = (marks[-1][0], codepoint)
                else:
                    marks.append((codepoint, codepoint))
    return marks


def _without(table: list[tuple[int, int, int]], marks: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """`table` with the `marks` ranges cut out (a code point absent from the table is 1 cell)."""
    marked = {cp for start, end in marks for cp in range(start, end + 1)}
    out: list[tuple[int, int, int]] = []
    for start, end, width in table:
        if width != 0:  # the marks are all in zero-width ranges
            out.append((start, end, width))
            continue
        run_start: int | None = None
        for codepoint in range(start, end + 1):
            if codepoint in marked:
                if run_start is not None:
                    out.append((run_start, codepoint - 1, width))
                    run_start = None
            elif run_start is None:
                run_start = codepoint
        if run_start is not None:
            out.append((run_start, end, width))
    return out


def align_rich() -> None:
    """Make Rich count every spacing combining mark as one cell, as terminals do. Idempotent."""
    global _aligned
    if _aligned:
        return
    table = _load_table("auto").widths
    marks = _mark_ranges(list(table))
    if marks and isinstance(table, list):
        table[:] = _without(table, marks)
    # Widths measured before the correction must not be served from Rich's caches.
    _rich_cells.get_character_cell_size.cache_clear()
    _rich_cells.cached_cell_len.cache_clear()
    _char_cells.cache_clear()
    _aligned = True


@lru_cache(maxsize=4096)
def _char_cells(ch: str) -> int:
    if unicodedata.category(ch) == "Mc":
        return 1
    return _rich_cells.get_character_cell_size(ch)


def char_cells(ch: str) -> int:
    """Cells a terminal gives one character on its own (an Mc mark: 1, not Rich's 0)."""
    return _char_cells(ch)


def cell_len(text: str) -> int:
    """Cells `text` takes in a terminal (grapheme-aware, as Rich is: a ZWJ sequence is one glyph)."""
    return _rich_cells.cell_len(text)


def fit(text: str, cells: int, *, ellipsis: str = ELLIPSIS, pad: bool = False) -> str:
    """`text` in at most `cells` cells, ending in `ellipsis` when cut; with `pad`, padded with
    spaces to exactly `cells`. Never splits a grapheme (a wide character that would straddle the
    edge is dropped, and the gap padded)."""
    if cells <= 0:
        return ""
    used = cell_len(text)
    if used > cells:
        room = cells - cell_len(ellipsis)
        if room < 0:
            return " " * cells if pad else ""
        head = _cut(text, room)
        # A wide character that would straddle the edge leaves a gap: pad it, so a cut text is
        # always exactly `cells` wide and the ellipsis sits at the edge.
        text = head + " " * (room - cell_len(head)) + ellipsis
        used = cell_len(text)
    if pad and used < cells:
        text += " " * (cells - used)
    return text


def _cut(text: str, cells: int) -> str:
    """The longest head of `text` (whole graphemes) within `cells` cells."""
    split = getattr(_rich_cells, "split_graphemes", None)
    if split is not None:
        spans, _ = split(text)
    else:  # an older Rich: characters, with zero-width ones kept with the one before
        spans = [(i, i + 1, _rich_cells.get_character_cell_size(ch)) for i, ch in enumerate(text)]
    used = 0
    end = 0
    for start, stop, width in spans:
        if used + width > cells:
            break
        used += width
        end = stop
    return text[:end]


def pad(text: str, cells: int) -> str:
    """`text` padded with spaces, or cut with `…`, to exactly `cells` cells."""
    return fit(text, cells, pad=True)


align_rich()

"""hmtui.cells: text measured as terminals measure it, and Rich (so Textual) agreeing."""

from __future__ import annotations

import pytest
from rich.cells import cell_len as rich_cell_len
from rich.cells import set_cell_size

from hmtui import cells
from hmtui.cli import char_cells, fit_text, text_cells

HINDI = "राहुल वर्मा"  # two U+093E vowel signs (Mc): one cell each in a terminal


def test_a_spacing_mark_is_one_cell_and_a_non_spacing_mark_none() -> None:
    assert cells.char_cells("\u093e") == 1  # DEVANAGARI VOWEL SIGN AA, Mc
    assert cells.char_cells("\u0941") == 0  # DEVANAGARI VOWEL SIGN U, Mn
    assert cells.cell_len(HINDI) == 9
    assert cells.cell_len("สมชาย ใจดี") == 9  # Thai: the mark U+0E35 is Mn, zero
    assert cells.cell_len("王伟") == 4 and cells.cell_len("a") == 1


def test_rich_is_aligned_so_textual_pads_rows_right() -> None:
    # Textual pads and crops every strip with Rich's measure: it must be the terminal's.
    assert rich_cell_len(HINDI) == 9
    assert rich_cell_len(set_cell_size(HINDI, 12)) == 12


def test_a_zwj_sequence_is_one_glyph_as_in_tmux() -> None:
    assert cells.cell_len("👩\u200d💻") == 2


@pytest.mark.parametrize("text", [HINDI, "王伟陈晓明", "👩\u200d💻👨\u200d👩\u200d👧 family", "abcdef", "فاطمة الزهراء"])
@pytest.mark.parametrize("width", range(0, 14))
def test_fit_never_exceeds_and_pad_is_exact(text: str, width: int) -> None:
    fitted = cells.fit(text, width)
    assert cells.cell_len(fitted) <= width
    if cells.cell_len(text) > width and width > 0:
        assert fitted.endswith("…")
    else:
        assert fitted == (text if width > 0 else "")
    assert cells.cell_len(cells.pad(text, width)) == width


def test_fit_keeps_graphemes_whole() -> None:
    # Cutting inside a ZWJ sequence would leave half an emoji (another glyph, another width).
    assert cells.fit("👩\u200d💻👩\u200d💻", 3) == "👩\u200d💻…"
    assert cells.fit("👩\u200d💻👩\u200d💻👩\u200d💻", 4) == "👩\u200d💻 …"  # the gap is padded
    assert cells.fit("e\u0301e\u0301e\u0301", 2) == "e\u0301…"


def test_the_cli_measures_with_the_shared_module() -> None:
    assert char_cells("\u093e") == 1 and text_cells(HINDI) == 9 and text_cells("👩\u200d💻") == 2
    assert fit_text(HINDI, 6, pad=True) == cells.pad(HINDI, 6)

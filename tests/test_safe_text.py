import json

from hmtui.safe_text import clean_text, dumps_terminal_safe, one_line

HOSTILE = "a\x1b[31mred\x1b[0m \x1b]52;c;aGVsbG8=\x07 \x1b]0;pwned\x07 bell\x07 nul\x00 abc\rdef \x9b2J \u202egnp.exe"


def test_no_control_character_survives() -> None:
    for text in (clean_text(HOSTILE), one_line(HOSTILE)):
        assert not any(ord(ch) < 0x20 and ch != "\n" for ch in text)
        assert not any(0x7F <= ord(ch) <= 0x9F for ch in text)
        assert "\u202e" not in text
        # what was an escape sequence is still readable as literal text
        assert "␛[31mred" in text and "abc␍def" in text


def test_newlines_and_crlf() -> None:
    assert clean_text("a\r\nb\nc") == "a\nb\nc"
    assert one_line("a\r\nb\n\n c", 100) == "a b c"
    assert one_line("x" * 50, 10) == "x" * 9 + "…"
    assert clean_text(None) == ""


def test_json_for_a_terminal_decodes_to_the_same_value() -> None:
    value = {"text": HOSTILE, "emoji": "👋 日本語"}
    text = dumps_terminal_safe(value)
    assert json.loads(text) == value
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text)
    assert "👋 日本語" in text

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


# Bidi embeddings, overrides (U+202A-202E) and isolates (U+2066-2069) reorder what a terminal line
# appears to say ("trojan source"): a customer's text could make an amount or a number read
# backwards, or push text over the next column.
BIDI = [chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


def test_bidi_overrides_and_isolates_are_replaced_everywhere() -> None:
    assert len(BIDI) == 9
    for ch in BIDI:
        value = f"pay {ch}05.99${ch} now"
        for text in (clean_text(value), clean_text(value, multiline=False), one_line(value)):
            assert ch not in text
            assert text == "pay \ufffd05.99$\ufffd now"  # a visible mark where it was, nothing reordered
        dumped = dumps_terminal_safe({"text": value})
        assert ch not in dumped and f"\\u{ord(ch):04x}" in dumped
        assert json.loads(dumped) == {"text": value}
    # The marks that only set a direction (LRM, RLM, ALM) cannot reorder other text: kept.
    assert clean_text("a\u200eb\u200fc\u061cd") == "a\u200eb\u200fc\u061cd"


# -- export paths: a server string never picks where a file goes ------------------------------


def test_export_path_stays_in_the_export_folder(tmp_path) -> None:
    from datetime import datetime, timezone

    from hmtui.api import Conversation
    from hmtui.ui.export import export_path

    now = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
    folder = tmp_path / "downloads"
    hostile = ["../../x", "/etc/passwd", "..", "a/../../b", "..\\..\\x", "~/x", "\x00", "", "1/2"]
    names = set()
    for target in hostile:
        for inbox in [*hostile, 501]:
            conversation = Conversation.from_raw({"id": 1, "inbox": inbox, "target": target})
            assert conversation is not None
            for fmt in ("markdown", "jsonl"):
                path = export_path(conversation, fmt, now, directory=folder)
                assert path.parent == folder  # right in the folder, not below, not above
                assert path.resolve().parent == folder.resolve()
                assert path.name.startswith("hmtui-") and ".." not in path.name and "\\" not in path.name
                assert path.name.isprintable()
                names.add(path.name)
    assert "hmtui-501-12-20261120-150000.md" in names  # the digits of "1/2", nothing else
    assert "hmtui-x-unknown-20261120-150000.md" in names  # inbox "../../x", no digits in the target

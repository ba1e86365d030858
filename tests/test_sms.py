"""The SMS segment counter against known GSM-7 and UCS-2 cases."""

from __future__ import annotations

import pytest

from hmtui.sms import GSM_BASIC, GSM_EXTENSION, WARN_SEGMENTS, count


def test_the_tables_are_the_standard_ones() -> None:
    # 128 code points in the basic table, one of them the escape (not a character).
    assert len(GSM_BASIC) == 127
    assert GSM_EXTENSION == frozenset("\f^{}\\[~]|€")
    assert not GSM_BASIC & GSM_EXTENSION
    for ch in "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà":
        assert ch in GSM_BASIC, ch
    # Look-alikes that are not GSM-7: they make a message UCS-2.
    for ch in "`çÀáíóúêâ’“”…\t":
        assert ch not in GSM_BASIC and ch not in GSM_EXTENSION, ch


@pytest.mark.parametrize(
    ("text", "encoding", "segments", "left"),
    [
        ("", "GSM-7", 0, 160),
        ("a", "GSM-7", 1, 159),
        ("a" * 160, "GSM-7", 1, 0),
        ("a" * 161, "GSM-7", 2, 153 * 2 - 161),
        ("a" * 153 * 2, "GSM-7", 2, 0),
        ("a" * (153 * 2 + 1), "GSM-7", 3, 152),
        ("€", "GSM-7", 1, 158),  # an extension character costs 2 septets
        ("a" * 159 + "€", "GSM-7", 2, 145),  # 161 septets: 153 | 6 + 2
        ("a" * 158 + "€", "GSM-7", 1, 0),  # exactly 160 septets
        ("{}[]", "GSM-7", 1, 152),
        ("é" * 160, "GSM-7", 1, 0),  # é is in the basic table
        ("ç", "UCS-2", 1, 69),  # ç is not (only Ç is)
        ("a" * 70, "GSM-7", 1, 90),
        ("ж" * 70, "UCS-2", 1, 0),
        ("ж" * 71, "UCS-2", 2, 67 * 2 - 71),
        ("ж" * 67 * 2, "UCS-2", 2, 0),
        ("ж" * (67 * 2 + 1), "UCS-2", 3, 66),
        ("😀", "UCS-2", 1, 68),  # an emoji is two UTF-16 units
        ("😀" * 35, "UCS-2", 1, 0),
        ("😀" * 36, "UCS-2", 2, 61),  # 33 fit a part (66 units): 3 (6 units) in the second
        ("a" * 159 + "’", "UCS-2", 3, 67 * 3 - 160),  # one curly quote turns 160 chars to UCS-2
    ],
)
def test_known_cases(text: str, encoding: str, segments: int, left: int) -> None:
    result = count(text)
    assert (result.encoding, result.segments) == (encoding, segments)
    assert result.left == left
    assert result.characters == len(text)


def test_an_extension_character_at_a_part_boundary_starts_the_next_part() -> None:
    # 152 septets, then '€' (2): it does not fit the one septet left in part 1, so it opens part
    # 2. 306 septets would be exactly 2 parts by division; a carrier needs 3.
    text = "a" * 152 + "€" + "a" * 152
    result = count(text)
    assert result.units == 306
    assert result.segments == 3  # 152 | 2 + 151 | 1
    assert result.left == 152
    shorter = count("a" * 152 + "€" + "a" * 151)
    assert (shorter.segments, shorter.left) == (2, 0)  # 152 | 2 + 151 = 153
    assert count("a" * 153 + "€" + "a" * 151).segments == 2  # the euro starts part 2 cleanly


def test_a_surrogate_pair_at_a_part_boundary_is_not_split() -> None:
    # 66 units, then an emoji (2): it would straddle units 67 and 68, so it opens part 2.
    text = "ж" * 66 + "😀" + "ж" * 65
    result = count(text)
    assert result.units == 133
    assert result.segments == 2  # 66 | 2 + 65 = 67
    assert result.left == 0
    assert count("ж" * 66 + "😀" + "ж" * 66).segments == 3  # by division 134 units would be 2


def test_the_whole_message_goes_ucs2_for_one_character() -> None:
    result = count("Your order is ready 🙂 see you soon")
    assert result.encoding == "UCS-2"
    assert result.non_gsm == ("🙂",)
    assert result.units == len("Your order is ready  see you soon") + 2


def test_warning_past_five_segments() -> None:
    assert not count("a" * 153 * WARN_SEGMENTS).warning
    assert count("a" * (153 * WARN_SEGMENTS + 1)).warning
    assert count("😀" * (67 * 5 // 2 + 1)).warning
    assert "over 5 segments" in count("a" * 1000).describe()


def test_describe_is_one_line() -> None:
    assert count("hello").describe() == "5 chars · 1 SMS (GSM-7) · 155 left"
    assert count("a" * 161).describe() == "161 chars · 2 SMSs (GSM-7) · 145 left"

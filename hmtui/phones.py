"""Phone numbers as people read them: one formatter for the app and the CLI (no Textual here)."""

from __future__ import annotations

from collections.abc import Sequence

from hmtui.safe_text import one_line

_FORMATTING = set(" +-().")


def format_phone(number: str | None) -> str:
    """A phone number to read: `+1 415 555 0100` for 11-digit NANP numbers, else `+` and the
    digits. Anything that is not a phone number (letters, a short code's name) comes back
    cleaned for display but otherwise as it was; None is ""."""
    if number is None:
        return ""
    text = one_line(number, 40)
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    if not digits or len(digits) > 15 or any(
        not (ch.isascii() and ch.isdigit()) and ch not in _FORMATTING for ch in text
    ):
        return text
    if len(digits) == 11 and digits[0] == "1":
        return f"+1 {digits[1:4]} {digits[4:7]} {digits[7:]}"
    return "+" + digits


def inbox_numbers(phone: str | None, phones: Sequence[str]) -> list[str]:
    """An inbox's numbers, its main one first, each once (as the API spells them)."""
    out: list[str] = []
    for number in (phone, *phones):
        if number and number not in out:
            out.append(number)
    return out

"""How many SMS segments a text costs: the GSM-7 and UCS-2 rules carriers bill by.

A text that fits the GSM 03.38 default alphabet (the basic table, plus the extension table whose
characters cost two septets each, an escape and the character) goes as GSM-7: 160 septets in one
message, or 153 per part once it is split (a part's header takes the other 7). Any other
character makes the *whole* message UCS-2 (UTF-16 on the wire): 70 units in one message, or 67
per part; a character beyond the BMP (most emoji) is a surrogate pair, two units.

When a message is split, a carrier never cuts an escape sequence or a surrogate pair across two
parts: a two-unit character that does not fit the rest of a part starts the next one. So parts
are packed greedily here, not computed by division, and "left in this segment" is what the last
part can still take.

No Textual here: the composer draws `count(text)`; the CLI and tests call it directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The GSM 03.38 basic character set (the escape, 0x1B, is not a character of its own).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs two septets (escape + character).
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67
# Past this many segments the composer warns: the team pays per segment.
WARN_SEGMENTS = 5

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True, slots=True)
class SegmentCount:
    characters: int  # code points typed
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2), in all
    segments: int  # 0 for an empty text
    left: int  # units the last segment can still take before another one starts
    # Characters that forced UCS-2 (in order, each once): what the composer can point at.
    non_gsm: tuple[str, ...] = ()

    @property
    def warning(self) -> bool:
        """Past WARN_SEGMENTS: say so before sending."""
        return self.segments > WARN_SEGMENTS

    def describe(self) -> str:
        """One short line: "42 chars · 1 SMS (GSM-7) · 118 left"."""
        plural = "" if self.segments == 1 else "s"
        text = f"{self.characters} chars · {self.segments} SMS{plural} ({self.encoding}) · {self.left} left"
        if self.warning:
            text += f" · over {WARN_SEGMENTS} segments"
        return text


def is_gsm(ch: str) -> bool:
    return ch in GSM_BASIC or ch in GSM_EXTENSION


def _unit_costs(text: str) -> tuple[Encoding, list[int], tuple[str, ...]]:
    non_gsm = tuple(dict.fromkeys(ch for ch in text if not is_gsm(ch)))
    if not non_gsm:
        return "GSM-7", [2 if ch in GSM_EXTENSION else 1 for ch in text], ()
    # Python strings hold code points: one above U+FFFF is a surrogate pair in UTF-16.
    return "UCS-2", [2 if ord(ch) > 0xFFFF else 1 for ch in text], non_gsm


def _pack(costs: list[int], part: int) -> tuple[int, int]:
    """(parts, units used in the last part), never splitting a two-unit character."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts += 1
            used = 0
        used += cost
    return parts, used


def count(text: str) -> SegmentCount:
    encoding, costs, non_gsm = _unit_costs(text)
    single, part = (GSM_SINGLE, GSM_PART) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    units = sum(costs)
    if units == 0:
        return SegmentCount(len(text), encoding, 0, 0, single, non_gsm)
    if units <= single:
        return SegmentCount(len(text), encoding, units, 1, single - units, non_gsm)
    parts, used = _pack(costs, part)
    return SegmentCount(len(text), encoding, units, parts, part - used, non_gsm)

"""Make untrusted text (anything the server sent) safe to put on a terminal.

Terminal escape sequences all start with a control character (ESC, or a C1 code such as CSI
0x9b), so replacing control characters with visible placeholders defuses ANSI CSI, OSC 0/52, BEL
and friends: what was an escape sequence shows as literal text. Rich/Textual markup is a separate
concern, handled where text meets a widget (never parse server text as markup).
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 controls map to their Unicode "control picture" (U+2400 + code): ␀ ␇ ␛ ...
_C0 = {code: chr(0x2400 + code) for code in range(0x20)}
_C0[0x7F] = "\u2421"  # ␡
# C1 controls (0x80-0x9f; 0x9b is a one-byte CSI on some terminals) have no picture.
_C1 = {code: "\ufffd" for code in range(0x80, 0xA0)}
# Bidi overrides and isolates can reorder what a line appears to say ("trojan source").
_BIDI = {code: "\ufffd" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}

_MULTILINE = {**_C0, **_C1, **_BIDI}
del _MULTILINE[0x0A]  # newline survives in multi-line text
_MULTILINE[0x09] = "    "  # tabs would make cell widths unpredictable
_ONE_LINE = {**_MULTILINE, 0x0A: " "}

_CRLF = re.compile(r"\r\n")

# A lone surrogate (JSON may carry "\udfff"; UTF-8 cannot) would make every write of the text
# fail with UnicodeEncodeError, after everything was fetched: it shows as U+FFFD instead.
_SURROGATES = {code: "\ufffd" for code in range(0xD800, 0xE000)}
_MULTILINE.update(_SURROGATES)
_ONE_LINE.update(_SURROGATES)


def clean_text(value: object, *, multiline: bool = True) -> str:
    """`value` as a string with every control character replaced by a visible placeholder.

    CRLF becomes a newline; a lone CR (which would overwrite the line on a terminal) shows as ␍.
    None becomes "". With multiline=False, newlines become spaces.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if "\r\n" in text:
        text = _CRLF.sub("\n", text)
    return text.translate(_MULTILINE if multiline else _ONE_LINE)


def one_line(value: object, limit: int | None = None) -> str:
    """Clean text flattened to one line, optionally cut to `limit` characters with an ellipsis."""
    text = " ".join(clean_text(value, multiline=False).split())
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


_JSON_UNSAFE = re.compile("[\u007f-\u009f\u202a-\u202e\u2066-\u2069]")


_JSON_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps_terminal_safe(obj: Any, *, ascii_only: bool = False) -> str:
    """JSON for a terminal: json.dumps escapes C0 controls but passes DEL, C1 and bidi controls
    through raw; escape those too. The decoded value is unchanged.

    Lone surrogates are \\u-escaped as well, so the line can always be written as UTF-8 (and
    decodes to the same string). `ascii_only` escapes everything beyond ASCII, for an output
    that cannot encode it (PYTHONIOENCODING=ascii)."""
    text = json.dumps(obj, ensure_ascii=ascii_only, separators=(", ", ": "))
    text = _JSON_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)

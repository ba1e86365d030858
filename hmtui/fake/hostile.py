"""The hostile thread: content a terminal client must show literally, never interpret.

Each entry is ``(role, text, overrides)``; ``overrides`` replaces fields of the
built message, which is how one message gets nulls and wrong types.
"""

from __future__ import annotations

from typing import Any

HOSTILE_NAME = "[bold red]not bold[/] \x1b[31mMallory\x1b[0m \u202eevil\u202c"

# A 5,000-character text: words, so a wrapper has places to break, then one unbroken run.
_LONG = ("lorem ipsum dolor sit amet " * 160)[:4000] + "x" * 1000
assert len(_LONG) == 5000

# "date" gets the message's own Unix seconds as a number at build time.
WRONG_TYPES: dict[str, Any] = {
    "text": None,
    "date": "<epoch>",
    "updated": None,
    "author": 12345,
    "user": "103",
    "type": None,
    "status": 7,
    "media": False,
    "link_url": ["not", "a", "string"],
    "flagged": "yes",
    "broadcast_id": "b-1",
    "local_id": 99,
    "custom": "{}",
    "conversation": None,
}

HOSTILE_MESSAGES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("inbound", "[@click=app.quit]x[/]", {}),
    ("inbound", "[bold red]not bold[/]", {}),
    ("inbound", "[link=https://evil.invalid]x[/link]", {}),
    ("outbound", "[/] unbalanced close [/bold] and \\[escaped] and [b]", {}),
    ("inbound", "\x1b[31mred\x1b[0m then \x1b[2J cleared screen?", {}),
    ("inbound", "title: \x1b]0;pwned\x07 done", {}),
    ("inbound", "clipboard: \x1b]52;c;aGVsbG8=\x07 done", {}),
    ("inbound", "bell\x07 and nul\x00 and del\x7f here", {}),
    ("inbound", "abc\rdef", {}),
    ("inbound", "col1\tcol2\t\tcol3", {}),
    ("inbound", "zero\u200bwidth, joiner\u200d, bom\ufeff, and \u202eRTL override\u202c back", {}),
    ("note", "$(rm -rf ~) `whoami` %s %n {0} {{}} <script>alert(1)</script>", {}),
    ("inbound", _LONG, {}),
    ("inbound", "", WRONG_TYPES),
    ("inbound", "photo", {"type": "media", "media": "https://evil.invalid/\x1b[31m.jpg"}),
    ("inbound", "family 👩\u200d👩\u200d👧\u200d👦 flag 🇯🇵 combining e\u0301 wide 全角ＡＢＣ", {}),
    ("inbound", "Line1\nLine2\n\n\nLine5\n", {}),
    ("outbound", "\x1b[1mBold?\x1b[0m [i]italic?[/i] :smile: :rocket:", {}),
    ("inbound", "[@click=app.quit]x[/] \x1b]0;pwned\x07", {}),
)

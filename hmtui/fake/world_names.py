"""Conversations whose names and texts terminals measure differently from Rich's defaults.

Tests of cell widths (tmux, snapshots) call `add_world_names` on a server's data to put them at
the head of an inbox: the seeded data's own scripts are scattered through the list, and it has no
emoji ZWJ name. Nothing is added unless a test asks, so ids and texts of the seeded data stay as
they are.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

# (name, first message): Devanagari with spacing vowel signs (Mc), Thai with non-spacing marks,
# CJK (two cells a character), emoji ZWJ sequences, and right-to-left scripts.
WORLD_NAMES: tuple[tuple[str, str], ...] = (
    ("राहुल वर्मा", "क्या मैं साइज़ बदल सकता हूँ? मेरा ऑर्डर कहाँ है"),
    ("สมชาย ใจดี", "สวัสดีครับ ขอบคุณมากครับ"),
    ("王伟 陈晓明", "谢谢！我的订单什么时候到？"),
    ("👩‍💻 Dev 👨‍👩‍👧 family", "👩‍💻 here, 👨‍👩‍👧 say hi"),
    ("נועה כהן", "שלום, איפה ההזמנה שלי?"),
    ("فاطمة الزهراء", "مرحبا، أين طلبي؟"),
)

_FIRST_TARGET = 15550142000


def add_world_names(data: Any, inbox_id: int, *, now: datetime) -> list[dict[str, Any]]:
    """Add one open, unread conversation per entry of `WORLD_NAMES` to `inbox_id` of a
    `hmtui.fake.data.FakeData`, each updated a minute apart up to `now` (the first is newest).
    Returns the conversations."""
    added: list[dict[str, Any]] = []
    for index, (name, text) in enumerate(WORLD_NAMES):
        target = str(_FIRST_TARGET + index)
        message = data.add_message(inbox_id, target, text, date=now - timedelta(minutes=index))
        conversation = data.find_conversation(inbox_id, target)
        conversation["name"] = name
        message["author"] = name
        reference = message.get("conversation")
        if isinstance(reference, dict):
            reference["name"] = name
        added.append(conversation)
    return added

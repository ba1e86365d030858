"""Our reading of fields the Heymarket docs leave undocumented.

Everything here is a guess from the documented shapes. Each guess is one small function, so that
correcting it against real data is a one-line change with a test beside it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any


class MessageKind(enum.Enum):
    INBOUND = "inbound"  # from the customer
    OUTBOUND = "outbound"  # from the team, seen by the customer
    NOTE = "note"  # a private comment the customer never sees


_NOTE_TYPES = frozenset({"comment", "note", "private", "internal"})
_INBOUND_TYPES = frozenset({"inbound", "incoming", "received"})
_OUTBOUND_TYPES = frozenset({"outbound", "outgoing", "sent"})
_FAILED_STATUSES = frozenset(
    {"failed", "undelivered", "error", "rejected", "bounced", "blocked", "not_delivered"}
)


def classify_message(raw: Mapping[str, Any]) -> MessageKind:
    """Inbound, outbound or note.

    The docs say only that a member's `user` id is set on what the team sent, and that notes
    exist. So: a note-like `type` (or a `private` flag) is a note; an explicit direction in `type`
    wins next; otherwise a set `user` means the team sent it.
    """
    kind = raw.get("type")
    kind = kind.strip().lower() if isinstance(kind, str) else ""
    if kind in _NOTE_TYPES or raw.get("private") is True:
        return MessageKind.NOTE
    if kind in _INBOUND_TYPES:
        return MessageKind.INBOUND
    if kind in _OUTBOUND_TYPES:
        return MessageKind.OUTBOUND
    user = raw.get("user")
    if isinstance(user, bool):
        return MessageKind.INBOUND
    if isinstance(user, int) and user > 0:
        return MessageKind.OUTBOUND
    if isinstance(user, str) and user.strip() not in ("", "0"):
        return MessageKind.OUTBOUND
    return MessageKind.INBOUND


def delivery_failed(status: object) -> bool:
    """Whether a message's delivery `status` means it never reached the customer."""
    return isinstance(status, str) and status.strip().lower() in _FAILED_STATUSES


def conversation_unread(raw: Mapping[str, Any]) -> bool:
    """Whether a conversation has unread inbound messages.

    Some integrations see an `unread` bool: trust it. Otherwise `read` and `last_inbound` are
    integers of undocumented meaning; we read them as Unix times (last read, last inbound), so a
    newer inbound than the last read is unread.
    """
    unread = raw.get("unread")
    if isinstance(unread, bool):
        return unread
    read, last_inbound = raw.get("read"), raw.get("last_inbound")
    if isinstance(read, int) and isinstance(last_inbound, int) and not isinstance(read, bool):
        return last_inbound > read
    return False


def conversation_closed(status: object) -> bool:
    return isinstance(status, str) and status.strip().lower() == "closed"

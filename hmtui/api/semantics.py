"""Our reading of fields the Heymarket docs leave undocumented.

Everything here is a guess from the documented shapes and from payloads seen in the field (see
"What real payloads look like" in the API notes). Each guess is one small function, so that
correcting it against real data is a one-line change with a test beside it. Where a field could
be read two ways, the reading chosen is the cautious one: never show the team's words as the
customer's, never chase a conversation nobody is waiting on because of a field we cannot read.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
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
# Delivery statuses only a message the team sent can have (an inbound one was "received").
_OUTBOUND_STATUSES = _FAILED_STATUSES | frozenset(
    {"delivered", "sent", "queued", "sending", "accepted", "scheduled", "pending"}
)
_INBOUND_STATUSES = frozenset({"received", "inbound"})

# The Go backend sends an unset time as the zero time, "0001-01-01T00:00:00Z". Nothing real in a
# texting inbox predates 1970, so any earlier time is read as unset.
_FIRST_REAL_YEAR = 1970
_ZERO_TIME = re.compile(r"^\s*0{1,4}-0?[01]-0?[01]")


def is_unset_time(moment: datetime) -> bool:
    """Whether a parsed time is the backend's stand-in for "no time" (the zero time)."""
    return moment.year < _FIRST_REAL_YEAR


def is_zero_time_text(value: object) -> bool:
    """Whether a raw value is the zero time as text ("0001-01-01T00:00:00Z" and the like)."""
    return isinstance(value, str) and bool(_ZERO_TIME.match(value))


def is_unset_id(value: object) -> bool:
    """An id of 0 (or "0") is the backend's "no id", like a missing one."""
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, float)):
        return value == 0
    if isinstance(value, str):
        return value.strip() in ("", "0")
    return value is None


def _has_id(value: object) -> bool:
    if type(value) is int:
        return value != 0
    return isinstance(value, (int, float, str)) and not isinstance(value, bool) and not is_unset_id(value)


def classify_message(raw: Mapping[str, Any]) -> MessageKind:
    """Inbound, outbound or note.

    `type` is a content kind ("text"), not a direction, unless it names one. Then, in order: a
    note-like `type` or a `private` flag is a note; an explicit direction in `type` wins; a
    `broadcast_id` (a broadcast or an automated send, which may carry `user` 0) or a member's
    `user` id means the team sent it; so does a delivery status only a sent message can have, or
    a `local_id` (set by the client that created it). Only what has none of these is inbound.
    """
    kind = raw.get("type")
    kind = kind.strip().lower() if isinstance(kind, str) else ""
    if kind in _NOTE_TYPES or raw.get("private") is True:
        return MessageKind.NOTE
    if kind in _INBOUND_TYPES:
        return MessageKind.INBOUND
    if kind in _OUTBOUND_TYPES:
        return MessageKind.OUTBOUND
    if _has_id(raw.get("broadcast_id")):
        return MessageKind.OUTBOUND
    if _has_id(raw.get("user")):
        return MessageKind.OUTBOUND
    status = raw.get("status")
    status = status.strip().lower() if isinstance(status, str) else ""
    if status in _OUTBOUND_STATUSES:
        return MessageKind.OUTBOUND
    if status in _INBOUND_STATUSES:
        return MessageKind.INBOUND
    local_id = raw.get("local_id")
    if isinstance(local_id, str) and local_id.strip():
        return MessageKind.OUTBOUND
    return MessageKind.INBOUND


def automated_send(raw: Mapping[str, Any]) -> bool:
    """Sent by a broadcast or a workflow rather than by a member (no member `user`)."""
    return _has_id(raw.get("broadcast_id")) and not _has_id(raw.get("user"))


def message_hidden(raw: Mapping[str, Any]) -> bool:
    """A message the backend marks `hidden` is not shown (it stays in the cache and exports)."""
    hidden = raw.get("hidden")
    if isinstance(hidden, str):
        return hidden.strip().lower() in ("true", "1", "yes")
    return hidden is True or (isinstance(hidden, int) and hidden == 1)


def _reason_text(value: object) -> str:
    if value is None:  # nearly always: checked before the costlier Mapping test
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Mapping):
        parts = [_reason_text(value.get(k)) for k in ("code", "error_code", "message", "error", "description", "detail")]
        return " ".join(p for p in parts if p)
    return ""


def failure_reason(raw: Mapping[str, Any]) -> str | None:
    """The carrier's reason for a failed delivery: `raw_error`, then the per-number
    `target_errors` (keyed by phone), joined on one line; None when there is none."""
    parts: list[str] = []
    raw_error = _reason_text(raw.get("raw_error"))
    if raw_error:
        parts.append(raw_error)
    errors = raw.get("target_errors")
    if isinstance(errors, Mapping):
        failing = []
        for number, error in errors.items():
            text = _reason_text(error)
            if text and text not in raw_error:
                parts.append(f"{number}: {text}")
            elif text:
                failing.append(str(number))
        if failing and len(errors) > 1:  # the same reason for some numbers of a group: name them
            parts.append("failed for " + ", ".join(failing))
    elif isinstance(errors, list):
        for error in errors:
            text = _reason_text(error)
            if text and text not in parts:
                parts.append(text)
    return "; ".join(parts) or None


def delivery_failed(status: object, raw: Mapping[str, Any] | None = None) -> bool:
    """Whether a message never reached (some of) its customers: a failed-like `status`, or a
    carrier's reason on a message that does not claim to be delivered."""
    text = status.strip().lower() if isinstance(status, str) else ""
    if text in _FAILED_STATUSES:
        return True
    if raw is not None and text not in ("delivered", "received"):
        return failure_reason(raw) is not None
    return False


def _flag_or_time(value: object) -> tuple[str, float | None]:
    """("flag", 0/1), ("time", unix seconds), or ("none", None) for a `read`-like field."""
    if isinstance(value, bool):
        return "flag", float(value)
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return "none", None
        if value in (0, 1):
            return "flag", float(value)
        return "time", float(value)
    if isinstance(value, str):
        text = value.strip()
        if text in ("0", "1"):
            return "flag", float(text)
        if text.isdigit():
            return "time", float(text)
        if is_zero_time_text(text):
            return "flag", 0.0  # never read
        from hmtui.api.models import parse_datetime  # a time as RFC 3339

        moment = parse_datetime(text)
        if moment is not None:
            return "time", moment.timestamp()
    return "none", None


def conversation_unread(raw: Mapping[str, Any]) -> bool:
    """Whether a conversation has unread inbound messages.

    The `unread` bool wins when present. Otherwise `read` is an integer of undocumented meaning,
    seen both as a 0/1 flag and as a time: a 0 or 1 is a flag (0 = unread); only a time-like
    `read` is compared with `last_inbound` (a newer inbound than the last read is unread).
    """
    unread = raw.get("unread")
    if isinstance(unread, bool):
        return unread
    kind, read = _flag_or_time(raw.get("read"))
    if kind == "flag":
        return read == 0
    if kind == "time":
        inbound_kind, last_inbound = _flag_or_time(raw.get("last_inbound"))
        return inbound_kind == "time" and last_inbound is not None and read is not None and last_inbound > read
    return False


def conversation_closed(status: object) -> bool:
    """Only "closed" is closed: `pending` and statuses we do not know count as open."""
    return isinstance(status, str) and status.strip().lower() == "closed"


def status_label(status: object) -> str:
    """A conversation's status as the server says it ("open" when it says nothing)."""
    return status.strip() if isinstance(status, str) and status.strip() else "open"


def conversation_numbers(raw: Mapping[str, Any]) -> list[str]:
    """Every number (or address) of a conversation: its `targets` (a group MMS), else `target`."""
    numbers: list[str] = []
    targets = raw.get("targets")
    if isinstance(targets, list):
        for value in targets:
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                number = str(value).strip()
                if number not in numbers:
                    numbers.append(number)
    target = raw.get("target")
    if isinstance(target, (str, int)) and not isinstance(target, bool) and str(target).strip():
        if str(target).strip() not in numbers:
            numbers.insert(0, str(target).strip())
    return numbers


def triage_keys(chat_id: object, target: str | None, targets: Sequence[str] | None, action: str) -> dict[str, Any]:
    """How a triage call names its conversation: `chat_id` (the conversation id) for open/close
    when the id is known (the notes: prefer it), `targets` for a group, else `target`."""
    if action in ("open", "close") and isinstance(chat_id, int) and not isinstance(chat_id, bool) and chat_id > 0:
        return {"chat_id": chat_id}
    numbers = [t for t in targets or [] if t]
    if len(numbers) > 1:
        return {"targets": numbers}
    return {"target": target or (numbers[0] if numbers else "")}


def history_unavailable(target: str | None, numbers: list[str]) -> str | None:
    """Why a conversation's history cannot be read by `phoneNumber`, in one calm line, or None."""
    if target:
        return None
    if len(numbers) > 1:
        # Short: it is the whole thread pane's text, and must fit a narrow one.
        return f"Group of {len(numbers)}: its history can't be loaded by number"
    return "This conversation has no number to load its history by."


# -- the queue: who is waiting for a reply, and whose conversation it is ------------------------
#
# `last_inbound` and `replied` are not documented. Seen shapes: `last_inbound` as Unix seconds, a
# numeric string, an RFC 3339 string, the zero time, 0, null or missing; `replied` as a bool, a 0/1
# flag (int or string), "true"/"false", null or missing, and possibly a time.


def _replied_reading(value: object) -> tuple[str, float | None]:
    """("yes"/"no", None), ("time", unix seconds) or ("unknown", None) for a `replied` field."""
    if isinstance(value, bool):
        return ("yes" if value else "no"), None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "yes"):
            return "yes", None
        if text in ("false", "no", ""):
            return "no", None
    kind, number = _flag_or_time(value)
    if kind == "flag":
        return ("yes" if number == 1 else "no"), None
    if kind == "time":
        return "time", number
    return "unknown", None  # missing, null, or a shape we cannot read


def waiting_since(raw: Mapping[str, Any]) -> float | None:
    """Since when (Unix seconds) the customer has waited for a reply, or None if nobody waits.

    A customer waits when the conversation is not closed, has a real `last_inbound` (a time, not
    0, not the zero time), and the team has not answered since: `replied` is false or missing, or
    is a time older than the last inbound. A `replied` of true is overruled when the conversation
    was last `updated` at its last inbound (the customer wrote last: a reply flag that was never
    reset). The time is that of the customer's latest message: the list gives no earlier one.
    """
    if conversation_closed(raw.get("status")):
        return None
    kind, since = _flag_or_time(raw.get("last_inbound"))
    if kind != "time" or since is None:
        return None  # no inbound at all (0, null, the zero time, missing): nobody to answer
    replied, replied_at = _replied_reading(raw.get("replied"))
    if replied == "time":
        return since if replied_at is not None and replied_at < since else None
    if replied == "yes":
        updated_kind, updated = _flag_or_time(raw.get("updated"))
        customer_wrote_last = updated_kind == "time" and updated is not None and updated <= since
        return since if customer_wrote_last else None
    return since  # "no" and "unknown": an inbound nobody is known to have answered


class Owner(enum.Enum):
    """The owner filter of a conversation list, in its cycle order."""

    MINE = "mine"
    UNASSIGNED = "unassigned"
    ALL = "all"


def owner_of(assigned: object, me: object) -> Owner:
    """Whose a conversation is, seen from `me`: MINE, UNASSIGNED (no `assigned`, or the unset id
    0), or ALL (someone else's: it shows only when the filter is All)."""
    if assigned is None or is_unset_id(assigned):
        return Owner.UNASSIGNED
    if me is not None and not is_unset_id(me) and str(assigned).strip() == str(me).strip():
        return Owner.MINE
    return Owner.ALL


def acting_member(configured: object, members: Sequence[object] | None) -> object:
    """Who the client acts as in an inbox: the configured `user_id` if it is a member of the inbox
    (or the inbox lists no members), else the inbox's first member; None when there is neither.
    The same rule as triage's `acting_member` in the main screen."""
    members = list(members or [])
    if configured is not None and (configured in members or not members):
        return configured
    return members[0] if members else configured

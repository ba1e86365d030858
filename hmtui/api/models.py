"""Heymarket objects as dataclasses that keep the raw dict.

Parsing is tolerant: unknown fields stay in `raw`, a missing or wrong-typed field becomes None or
a default, and an item that cannot be used at all (not an object, or without an id) is skipped and
counted by `parse_items`, never raised to the caller.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from hmtui.api.semantics import (
    MessageKind,
    Owner,
    automated_send,
    classify_message,
    conversation_closed,
    conversation_numbers,
    conversation_unread,
    delivery_failed,
    failure_reason,
    history_unavailable,
    is_unset_id,
    is_unset_time,
    message_hidden,
    owner_of,
    status_label,
    waiting_since,
)

Id = int | str
Raw = dict[str, Any]

_RFC3339 = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?\s*$"
)
# Unix times outside this range are more likely a wrong field than a date.
_PLAUSIBLE_UNIX = (946684800, 32503680000)  # 2000-01-01 .. 3000-01-01


def parse_datetime(value: object) -> datetime | None:
    """An aware UTC datetime from RFC 3339 (fraction and offset optional; no offset means UTC),
    or from Unix seconds. Anything else is None, and so is the zero time (an unset time)."""
    moment = _parse_datetime(value)
    if moment is None or is_unset_time(moment):
        return None
    return moment


def _parse_datetime(value: object) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or not _PLAUSIBLE_UNIX[0] < value < _PLAUSIBLE_UNIX[1]:
            return None
        return datetime.fromtimestamp(value, timezone.utc)
    if not isinstance(value, str):
        return None
    if (len(value) == 20 and value[19] == "Z" and value[10] == "T" and value[4] == value[7] == "-"
            and value[13] == value[16] == ":"):
        # What the API sends ("2026-11-20T11:39:35Z"): C's parser, about 2.5 times faster than the
        # pattern below. Anything it refuses (a leap second, say) takes the general way.
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    match = _RFC3339.match(value)
    if not match:
        return None
    year, month, day, hour, minute, second, frac, zulu, sign, off_h, off_m = match.groups()
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        offset = timezone.utc
        if sign:
            delta = timedelta(hours=int(off_h), minutes=int(off_m))
            offset = timezone(-delta if sign == "-" else delta)
        # A leap second (":60") is clamped rather than rejected.
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), min(int(second), 59),
            micro, tzinfo=offset,
        )
    except ValueError:
        return None
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # year 1 with a positive offset
        return None


def format_datetime(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z, whole seconds unless there is a fraction."""
    moment = moment.astimezone(timezone.utc)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_id(value: object, *, own: bool = False) -> Id | None:
    """Ids arrive as ints or strings; a numeric string becomes an int so both compare equal.
    An id of 0 is the backend's "no id": None, like a missing one. Only an object's `own` id
    keeps a 0: an object that came with one is still shown, never dropped for it."""
    if type(value) is int:  # the common case, first
        return value if value or own else None
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if is_unset_id(value) and not (own and value is not None and isinstance(value, (int, float, str))
                                   and str(value).strip() in ("0", "0.0")):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        if value.isdigit() and value.isascii():
            return int(value)
        return value
    return None


def _str(value: object) -> str | None:
    if type(value) is str or value is None:  # nearly every field: checked first, cheaply
        return value  # type: ignore[return-value]
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _bool(value: object, default: bool = False) -> bool:
    return value if isinstance(value, bool) else default


def _ids(value: object) -> list[Id]:
    if not isinstance(value, list):
        return []
    return [i for i in (parse_id(v) for v in value) if i is not None]


def _strs(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [s for s in (_str(v) for v in value) if s]


@dataclass(slots=True)
class Inbox:
    id: Id
    name: str
    phone: str | None
    phones: list[str]
    members: list[Id]
    team: Id | None
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> Inbox | None:
        id_ = parse_id(raw.get("id"), own=True)
        if id_ is None:
            return None
        phones = _strs(raw.get("phones"))
        phone = _str(raw.get("phone")) or (phones[0] if phones else None)
        return cls(
            id=id_,
            name=_str(raw.get("name")) or "",
            phone=phone,
            phones=phones,
            members=_ids(raw.get("members")),
            team=parse_id(raw.get("team")),
            raw=dict(raw),
        )


@dataclass(slots=True)
class TeamMember:
    id: Id
    name: str
    role: str | None
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> TeamMember | None:
        id_ = parse_id(raw.get("id"), own=True)
        if id_ is None:
            return None
        return cls(id=id_, name=_str(raw.get("name")) or "", role=_str(raw.get("role")), raw=dict(raw))


@dataclass(slots=True)
class Team:
    id: Id | None
    name: str
    members: list[TeamMember]
    skipped_members: int
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> Team:
        members, skipped = parse_items(raw.get("members"), TeamMember.from_raw)
        return cls(
            id=parse_id(raw.get("id")),
            name=_str(raw.get("name")) or "",
            members=members,
            skipped_members=skipped,
            raw=dict(raw),
        )

    def member(self, member_id: Id | None) -> TeamMember | None:
        return next((m for m in self.members if m.id == member_id), None)


def _last_message_text(raw: Mapping[str, Any]) -> str | None:
    # `last_msg` is seen only by some integrations, with no documented shape.
    last = raw.get("last_msg")
    if isinstance(last, Mapping):
        last = last.get("text")
    return _str(last)


@dataclass(slots=True)
class Conversation:
    id: Id
    inbox_id: Id | None
    target: str | None
    name: str | None
    status: str | None
    assigned: Id | None
    created: datetime | None
    updated: datetime | None
    unread: bool
    last_message: str | None
    raw: Raw = field(repr=False, compare=False)
    # Every number of the conversation: several for a group MMS (`targets`), else [target].
    numbers: list[str] = field(default_factory=list, compare=False)
    channel: str | None = None

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> Conversation | None:
        id_ = parse_id(raw.get("id"), own=True)
        if id_ is None:
            return None
        assigned = parse_id(raw.get("assigned"))
        return cls(
            id=id_,
            inbox_id=parse_id(raw.get("inbox")),
            target=_str(raw.get("target")),
            name=_str(raw.get("name")),
            status=_str(raw.get("status")),
            assigned=None if assigned == 0 else assigned,
            created=parse_datetime(raw.get("created")),
            updated=parse_datetime(raw.get("updated")),
            unread=conversation_unread(raw),
            last_message=_last_message_text(raw),
            raw=dict(raw),
            numbers=conversation_numbers(raw),
            channel=_str(raw.get("channel")),
        )

    @property
    def closed(self) -> bool:
        return conversation_closed(self.status)

    @property
    def status_label(self) -> str:
        """The status as the server says it: "open", "closed", "pending", or one we do not know."""
        return status_label(self.status)

    @property
    def is_group(self) -> bool:
        return len(self.numbers) > 1

    @property
    def history_unavailable(self) -> str | None:
        """Why this conversation's history cannot be read by phone number (one line), or None."""
        return history_unavailable(self.target, self.numbers)

    def triage_refs(self) -> dict[str, Any]:
        """What a triage call may name this conversation by besides its target (see
        semantics.triage_keys): its id as `chat_id` when it is a real one, a group's numbers."""
        return {"chat_id": self.id if isinstance(self.id, int) else None,
                "targets": list(self.numbers) if self.is_group else None}

    @property
    def waiting_since(self) -> datetime | None:
        """Since when the customer has waited for a reply (their latest message), or None when
        nobody waits (see semantics.waiting_since)."""
        since = waiting_since(self.raw)
        if since is None:
            return None
        return parse_datetime(since)

    def owner(self, me: Id | None) -> Owner:
        """MINE, UNASSIGNED or ALL (someone else's), seen from the acting member `me`."""
        return owner_of(self.assigned, me)

    @property
    def display_name(self) -> str:
        """The contact's name, or their number(s) when there is none (not yet cleaned for display)."""
        name = (self.name or "").strip()
        if name:
            return name
        if self.is_group:
            return ", ".join(self.numbers)
        return self.target or (self.numbers[0] if self.numbers else f"conversation {self.id}")


@dataclass(slots=True)
class Message:
    id: Id
    date: datetime | None
    updated: datetime | None
    text: str | None
    author: str | None
    user: Id | None
    phone: str | None
    target: str | None
    type: str | None
    status: str | None
    media: str | None
    link_url: str | None
    flagged: bool
    kind: MessageKind
    raw: Raw = field(repr=False, compare=False)
    # Not shown in the thread or the text history; kept in the cache and exports, marked.
    hidden: bool = False
    # The carrier's reason for a failed delivery (`raw_error`, `target_errors`), one line.
    failure: str | None = None
    broadcast_id: Id | None = None
    # Sent by a broadcast or workflow (no member): the team's words, with no member to name.
    automated: bool = False
    # The JSON text `raw` was decoded from, when the reader kept it (the cache's rows): whoever
    # stores the message again can take it as it is instead of encoding `raw` once more.
    source: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any], *, owned: bool = False) -> Message | None:
        """`owned`: the caller made `raw` for this message and hands it over (a JSON decode), so it
        is kept as it is instead of copied (a cached whole history is 100,000 of them)."""
        get = raw.get
        id_ = parse_id(get("id"), own=True)
        if id_ is None:
            return None
        date_value, updated_value = get("date"), get("updated")
        date = parse_datetime(date_value)
        # The fields most messages lack (None or absent) skip their readers, which say the same
        # of them: a whole history is parsed here, 100,000 messages and more.
        hidden, broadcast = get("hidden"), get("broadcast_id")
        plain = get("raw_error") is None and get("target_errors") is None
        return cls(
            id_,
            date,
            # Most messages are never edited: the same string, parsed once.
            date if type(updated_value) is str and updated_value == date_value else parse_datetime(updated_value),
            _str(get("text")),
            _str(get("author")),
            parse_id(get("user")),
            _str(get("phone")),
            _str(get("target")),
            _str(get("type")),
            _str(get("status")),
            _media_url(get("media")),
            _str(get("link_url")),
            _bool(get("flagged")),
            classify_message(raw),
            raw if owned and type(raw) is dict else dict(raw),
            False if hidden is None or hidden is False else message_hidden(raw),
            None if plain else failure_reason(raw),
            None if broadcast is None else parse_id(broadcast),
            False if broadcast is None else automated_send(raw),
        )

    @property
    def failed(self) -> bool:
        return delivery_failed(self.status, self.raw)

    @property
    def timestamp(self) -> float | None:
        return self.date.timestamp() if self.date else None


def _media_url(value: object) -> str | None:
    # Documented as "a URL on MMS"; tolerate a list of URLs or objects with a `url`.
    if value is None:
        return None
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, Mapping):
        value = value.get("url")
    text = _str(value)
    return text or None


T = TypeVar("T")


def parse_items(value: object, parse: Callable[[Mapping[str, Any]], T | None]) -> tuple[list[T], int]:
    """Parse a JSON array of objects: (the usable items, how many were skipped)."""
    if not isinstance(value, list):
        return [], 0
    items: list[T] = []
    skipped = 0
    for raw in value:
        item = parse(raw) if isinstance(raw, Mapping) else None
        if item is None:
            skipped += 1
        else:
            items.append(item)
    return items, skipped


def time_id_order(stamp: float, id_: Id) -> tuple[float, int, int | str]:
    """Sort key (ascending = oldest first) of a thread's (time, id); an int id never meets a str one."""
    if isinstance(id_, int) and not isinstance(id_, bool):
        return (stamp, 0, id_)
    return (stamp, 1, str(id_))


def sort_key_newest_first(time: datetime | None, id_: Id) -> tuple[float, int, int | str]:
    """Sort key (ascending = newest first) that never compares an int id with a str id."""
    stamp = time.timestamp() if time else -math.inf
    return (-stamp, 0, -id_) if isinstance(id_, int) else (-stamp, 1, id_)


def sorted_newest_first(items: Iterable[T], time: Callable[[T], datetime | None], id_: Callable[[T], Id]) -> list[T]:
    return sorted(items, key=lambda item: sort_key_newest_first(time(item), id_(item)))

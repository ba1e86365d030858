"""The "live" profile: the same seeded world, served in the shapes the real backend uses.

The tidy profile sends every key (null when empty), an `unread` bool on every conversation, and
single-phone SMS conversations only. Evidence from the field (see "What real payloads look like"
in the API notes) says the live server is messier. This profile sends each of those shapes, so
the client is tested against them; it changes only what goes over the wire (and a few marks on
chosen conversations and messages), so the world under it, and its counts, stay the same:

* empty fields are left out, not null; an unset time is the zero time
  ``0001-01-01T00:00:00Z`` and an unset id is ``0`` (`assigned`, `creator`, `user` of an inbound
  message, `broadcast_id` of one that is not a broadcast);
* a conversation's `read` is a 0/1 flag (0 = unread) and `unread` / `unread_users` are absent;
* broadcasts and automated sends carry `broadcast_id` and `user` 0, no author;
* some messages are `hidden`; failed deliveries carry `raw_error` and `target_errors`;
* a few conversations are group MMS (`targets`: several numbers; one of them without any
  `target`, so its history cannot be read by `phoneNumber`), one is on the `email` channel;
* a few open conversations have the status `pending`, one a status nobody documented;
* one conversation per inbox has the zero time as `updated` (a pager must not take it as a
  cursor).

`LiveMarks.choose` picks the marked conversations and messages from the seeded data, so they are
the same on every run.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hmtui.fake.queue import shape_queue_fields

if TYPE_CHECKING:
    from hmtui.fake.data import FakeData

ZERO_TIME = "0001-01-01T00:00:00Z"
UNKNOWN_STATUS = "on_hold"
EMAIL_TARGET = "jordan.keyes@example.com"

RAW_ERRORS = (
    "30007: Message filtered by the carrier",
    "30003: Unreachable destination handset",
    "30005: Unknown destination handset",
    "30006: Landline or unreachable carrier",
)

# Conversation marks, per inbox: (rank among the inbox's normal open conversations, newest first).
_PENDING = {501: (2,), 502: (6,), 503: (3,), 504: (4,)}
_UNKNOWN = {502: (3,)}
_GROUP_WITH_TARGET = {501: 5, 504: 2}
_GROUP_WITHOUT_TARGET = {502: 4}
_EMAIL = {503: 1}
_ZERO_UPDATED = {501: 9, 502: 9, 503: 9, 504: 9}
# Message marks by hash, per thousand.
_HIDDEN_PER_MILLE = 25
_AUTOMATED_PER_MILLE = 30


@dataclass
class LiveMarks:
    """What the live profile marks in a world: by conversation id, and forced message marks."""

    status: dict[int, str] = field(default_factory=dict)  # pending / unknown, until triage sets one
    groups: dict[int, list[str]] = field(default_factory=dict)  # conversation id -> every number
    headless: set[int] = field(default_factory=set)  # groups sent without a `target`
    email: dict[int, str] = field(default_factory=dict)  # conversation id -> address
    zero_updated: set[int] = field(default_factory=set)
    # Messages a client created through POST /v1/message/send: never marked (a send comes back
    # as it was made, with its `local_id`; a mark could turn it into a broadcast without one).
    sent: set[int] = field(default_factory=set)
    seed: int = 7
    # The showcase reads threads to choose, so it is chosen on first use: making the data set (and
    # starting the server) builds no thread.
    _showcase: int | None = None
    _forced: dict[int, str] = field(default_factory=dict)
    _choose_later: tuple[Any, ...] | None = field(default=None, repr=False)
    _choosing: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def showcase(self) -> int | None:
        """A Support conversation with one of each message mark in its newest page."""
        self._settle_showcase()
        return self._showcase

    @property
    def forced(self) -> dict[int, str]:
        """Message id -> broadcast | hidden | failed, for the showcase."""
        self._settle_showcase()
        return self._forced

    def _settle_showcase(self) -> None:
        if self._choose_later is None:
            return
        with self._choosing:  # the server's handler threads may ask at once
            if self._choose_later is not None:
                self._choose_showcase(*self._choose_later)
                self._choose_later = None

    @classmethod
    def choose(cls, data: FakeData, plans: dict[int, Any]) -> LiveMarks:
        marks = cls(seed=data.seed)
        by_inbox: dict[int, list[dict[str, Any]]] = {}
        for conv in data.conversations:  # newest first
            if plans[conv["id"]].kind == "normal":
                by_inbox.setdefault(conv["inbox"], []).append(conv)
        used: set[int] = set()

        def pick(inbox: int, rank: int, *, open_only: bool = True) -> dict[str, Any] | None:
            rows = [c for c in by_inbox.get(inbox, []) if (c["status"] == "open" or not open_only)]
            rows = [c for c in rows if c["id"] not in used]
            if rank >= len(rows):
                return None
            used.add(rows[rank]["id"])
            return rows[rank]

        rng_numbers = 0
        for inbox, rank in {**_GROUP_WITH_TARGET, **_GROUP_WITHOUT_TARGET}.items():
            conv = pick(inbox, rank)
            if conv is None:
                continue
            rng_numbers += 1
            extra = [f"1503555{(7000 + 37 * rng_numbers + k) % 10000:04d}" for k in range(1, 3)]
            marks.groups[conv["id"]] = [conv["target"], *extra]
            if inbox in _GROUP_WITHOUT_TARGET:
                marks.headless.add(conv["id"])
        for inbox, rank in _EMAIL.items():
            conv = pick(inbox, rank)
            if conv is not None:
                marks.email[conv["id"]] = EMAIL_TARGET
        for table, status in ((_PENDING, "pending"), (_UNKNOWN, UNKNOWN_STATUS)):
            for inbox, ranks in table.items():
                for rank in ranks:
                    conv = pick(inbox, rank)
                    if conv is not None:
                        marks.status[conv["id"]] = status
        for inbox, rank in _ZERO_UPDATED.items():
            conv = pick(inbox, rank, open_only=False)
            if conv is not None:
                marks.zero_updated.add(conv["id"])
        marks._choose_later = (data, by_inbox.get(501, []), used)
        return marks

    def _choose_showcase(self, data: FakeData, rows: list[dict[str, Any]], used: set[int]) -> None:
        """The newest Support conversation whose last messages hold two sends and a reply before
        the last one: the first send becomes a broadcast, the reply hidden, the second failed."""
        for conv in rows:
            if conv["id"] in used:
                continue
            thread = data.messages_for(conv["inbox"], conv["target"])
            window = thread[-8:-1]
            sent = [m for m in window if m["user"] is not None and m["type"] != "comment"]
            replies = [m for m in window if m["user"] is None]
            if len(sent) >= 2 and replies:
                self._showcase = conv["id"]
                self._forced = {sent[0]["id"]: "broadcast", replies[0]["id"]: "hidden", sent[1]["id"]: "failed"}
                used.add(conv["id"])
                return

    # -- the marks of one message ---------------------------------------------------------------

    def _roll(self, msg_id: int) -> int:
        return zlib.crc32(f"{self.seed}:{msg_id}".encode()) % 1000

    def message_mark(self, msg: dict[str, Any], last_id: int | None) -> str | None:
        """broadcast | hidden | failed | None for a message (the thread's last is never hidden,
        so the conversation's summary stays a message one can see)."""
        if msg["id"] in self.sent:
            return None
        forced = self.forced.get(msg["id"])
        if forced is not None:
            return forced
        roll = self._roll(msg["id"])
        if msg["id"] != last_id and roll < _HIDDEN_PER_MILLE:
            return "hidden"
        if msg["user"] is not None and msg["type"] != "comment" and roll >= 1000 - _AUTOMATED_PER_MILLE:
            return "broadcast"
        return None


# -- shaping -------------------------------------------------------------------------------------


def _omit_empty(out: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in out.items() if v is not None and v != "" and v != []}


def conversation_numbers(marks: LiveMarks, conv: dict[str, Any]) -> list[str]:
    return marks.groups.get(conv["id"]) or [marks.email.get(conv["id"], conv["target"])]


def shape_conversation(marks: LiveMarks, conv: dict[str, Any]) -> dict[str, Any]:
    conv_id = conv["id"]
    out = dict(conv)
    out["status"] = marks.status.get(conv_id, conv["status"])
    # `read` as a flag; `unread` and `unread_users` are not sent.
    out["read"] = 0 if conv["unread"] else 1
    out.pop("unread", None)
    out.pop("unread_users", None)
    out["assigned"] = conv["assigned"] if conv["assigned"] is not None else 0
    out["creator"] = conv["creator"] if conv["creator"] is not None else 0
    out["snooze_till"] = ZERO_TIME
    if not conv["last_inbound"]:
        out["last_inbound"] = None
    if conv_id in marks.zero_updated:
        out["updated"] = ZERO_TIME
    if conv_id in marks.email:
        out["target"] = marks.email[conv_id]
        out["channel"] = "email"
    if conv_id in marks.groups:
        out["targets"] = list(marks.groups[conv_id])
        out["type"] = "group"
        out["channel"] = "mms"
        if conv_id in marks.headless:
            out["target"] = None
    out = shape_queue_fields(out)  # last_inbound / replied in the live shapes (hmtui.fake.queue)
    return _omit_empty(out)


def shape_ref(marks: LiveMarks, ref: dict[str, Any]) -> dict[str, Any]:
    out = dict(ref)
    conv_id = ref.get("id")
    if conv_id in marks.email:
        out["target"] = marks.email[conv_id]
    if conv_id in marks.groups:
        out["targets"] = list(marks.groups[conv_id])
        if conv_id in marks.headless:
            out["target"] = None
    return _omit_empty(out)


def shape_message(marks: LiveMarks, msg: dict[str, Any], last_id: int | None) -> dict[str, Any]:
    out = dict(msg)
    ref = msg.get("conversation") or {}
    conv_id = ref.get("id")
    mark = marks.message_mark(msg, last_id)
    inbound = msg["user"] is None
    out["channel"] = "email" if conv_id in marks.email else ("mms" if conv_id in marks.groups else "sms")
    if conv_id in marks.email:
        out["target"] = marks.email[conv_id]
    numbers = marks.groups.get(conv_id)
    if numbers:
        out["targets"] = list(numbers)
        if conv_id in marks.headless:
            out["target"] = None
    # `type` is a content kind: "text" (media has a `media` URL); notes stay "comment".
    if out["type"] == "media":
        out["type"] = "text"
    if inbound:
        out["user"] = 0
        out["updated"] = ZERO_TIME  # never updated
    out["broadcast_id"] = msg["broadcast_id"] or 0
    if msg["broadcast_id"] or mark == "broadcast":
        # A broadcast or a workflow sends as nobody: `user` 0 and no author.
        out["broadcast_id"] = msg["broadcast_id"] or 8800 + marks._roll(msg["id"])
        out["user"] = 0
        out["author"] = None
        out["local_id"] = None
    if mark == "hidden":
        out["hidden"] = True
    if mark == "failed" and not inbound:
        out["status"] = "failed"
    if out["status"] == "failed":
        reason = RAW_ERRORS[marks._roll(msg["id"]) % len(RAW_ERRORS)]
        out["raw_error"] = reason
        failing = numbers[1:] if numbers else [out["target"]]
        out["target_errors"] = {number: reason.split(": ", 1)[-1] for number in failing if number}
    out["conversation"] = shape_ref(marks, ref)
    out.pop("custom", None)
    return _omit_empty({k: v for k, v in out.items() if v is not False or k == "flagged"})


def shape_inbox(inbox: dict[str, Any]) -> dict[str, Any]:
    return _omit_empty(dict(inbox))

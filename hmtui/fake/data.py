"""Seeded, deterministic data for the fake Heymarket server.

Everything is a pure function of ``(seed, anchor)``: the same pair gives
byte-identical JSON. Only ``random.Random`` instances are used, never the global
generator. Conversations are built up front (cheap); a conversation's thread is
built on first access from its own ``Random(f"{seed}:{conversation_id}")``.
Generation lives in ``hmtui.fake.generate``; this module holds the state, its
queries and its mutations.

Conventions the real API does not document, which the client has to guess and
which this data keeps consistent:

* Dates are RFC 3339 UTC strings with whole seconds: ``2026-11-20T14:56:00Z``.
* Inbound message (customer -> team): ``user`` null, ``author`` = the contact's
  name (or number when unnamed), ``status`` ``"received"``, ``type`` ``"text"``
  or ``"media"`` (``media`` an https URL, ``text`` a caption, possibly ``""``).
* Outbound message (team -> customer): ``user`` = member id, ``author`` = that
  member's name, ``type`` ``"text"`` or ``"media"``, ``status`` ``"delivered"``
  (most), ``"sent"`` (not yet confirmed) or ``"failed"``; ``local_id`` set;
  ``updated`` a few seconds after ``date`` once delivered.
* Private note: ``type`` ``"comment"``, ``user`` = member id, ``status`` null.
* ``link_url`` is set when an outbound text carries a link; ``broadcast_id`` is
  set on a few Sales marketing texts.
* Message ``conversation`` is ``{id, inbox, target, name}``.
* Conversation ``read`` / ``last_inbound`` are Unix seconds; ``unread`` is true
  iff ``last_inbound > read`` (``read`` 0 = never read); ``last_msg`` is the text
  of the thread's last message; ``updated`` is that message's ``date``;
  ``created`` is the first message's ``date``; ``assigned`` may be null;
  ``status`` is ``"open"`` or ``"closed"``.
* Message ids are unique across all data and increase with ``date`` within a
  thread; several messages may share one ``date`` second (and so may several
  conversations' ``updated``), with ids breaking the tie.
* A target may have conversations in more than one inbox: a conversation is
  keyed by ``(inbox, target)``, never by target alone.
"""

from __future__ import annotations

import bisect
import heapq
import threading
import time
from datetime import datetime, timezone
from collections.abc import Sequence
from typing import Any, Iterator

from hmtui.fake.generate import (
    HOSTILE_THREAD_INBOX,
    HOSTILE_THREAD_TARGET,
    HUGE_THREAD_INBOX,
    HUGE_THREAD_MESSAGES,
    HUGE_THREAD_TARGET,
    LONG_THREAD_INBOX,
    LONG_THREAD_TARGET,
    Generator,
    PagedThread,
    Thread,
    huge_thread,
    make_conversation,
    make_message,
)
from hmtui.fake.live import LiveMarks

__all__ = [
    "HOSTILE_THREAD_INBOX",
    "HOSTILE_THREAD_TARGET",
    "HUGE_THREAD_INBOX",
    "HUGE_THREAD_MESSAGES",
    "HUGE_THREAD_TARGET",
    "LONG_THREAD_INBOX",
    "LONG_THREAD_TARGET",
    "FakeData",
]


def _epoch(stamp: Any) -> int | None:
    try:
        return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())
    except (TypeError, ValueError):
        return None


def _newest_first(items: list[Any], hi: int) -> Iterator[Any]:
    for i in range(hi - 1, -1, -1):
        yield items[i]


class FakeData:
    """The fake team's state. Do not mutate the returned dicts directly; use the
    methods, which keep the indexes and summaries consistent.

    `anchor` is the data's "now" (UTC; None = the current minute)."""

    team: dict[str, Any]
    inboxes: list[dict[str, Any]]
    conversations: list[dict[str, Any]]  # newest `updated` first at build time

    def __init__(self, seed: int = 7, anchor: datetime | None = None) -> None:
        if anchor is None:
            anchor = datetime.fromtimestamp(int(time.time()) // 60 * 60, timezone.utc)
        elif anchor.tzinfo is None:
            anchor = anchor.replace(tzinfo=timezone.utc)
        self.seed = seed
        self.anchor = anchor
        self.anchor_epoch = int(anchor.timestamp())
        self.lock = threading.RLock()
        self._generator = Generator(seed, self.anchor_epoch)
        built = self._generator.build()
        self.team = built.team
        self.inboxes = built.inboxes
        self._inbox_by_id = {i["id"]: i for i in self.inboxes}
        self._member_ids = {m["id"] for m in self.team["members"]}
        self._plans = {conv["id"]: plan for conv, plan in built.conversations}
        # Conversations added later (add_message) have no plan, only this.
        self._extra_refs: dict[int, dict[str, Any]] = {}
        self._threads: dict[int, Thread | PagedThread] = {}
        self._updated = {conv["id"]: plan.tail[-1][0] for conv, plan in built.conversations}
        self._by_id = {conv["id"]: conv for conv, _ in built.conversations}
        self._by_key = {(conv["inbox"], conv["target"]): conv for conv, _ in built.conversations}
        self._index: dict[int, tuple[list[int], list[tuple[int, int, dict[str, Any]]]]] | None = None
        # Above every generated id, so appended messages keep ids growing with date.
        self._next_message_id = 900_000_001
        # Newest first, like the API.
        self.conversations = sorted(self._by_id.values(), key=lambda c: (-self._updated[c["id"]], -c["id"]))
        # What the live profile marks (groups, email, pending, ...); the tidy one ignores it.
        self.live = LiveMarks.choose(self, self._plans)
        self._aliases = {(self._by_id[cid]["inbox"], addr): self._by_id[cid] for cid, addr in self.live.email.items()}

    # ----------------------------------------------------------------- lookups

    @property
    def member_names(self) -> dict[int, str]:
        return {m["id"]: m["name"] for m in self.team["members"]}

    def inbox_by_id(self, inbox_id: int) -> dict[str, Any] | None:
        return self._inbox_by_id.get(inbox_id)

    def is_member(self, member_id: Any) -> bool:
        return type(member_id) is int and member_id in self._member_ids

    def find_conversation(self, inbox_id: int, target: str) -> dict[str, Any] | None:
        conv = self._by_key.get((inbox_id, target))
        return conv if conv is not None else self._aliases.get((inbox_id, target))

    def find_group(self, inbox_id: int, targets: list[str]) -> dict[str, Any] | None:
        """A group conversation of the live profile by its numbers (in any order)."""
        wanted = set(targets)
        for conv_id, numbers in self.live.groups.items():
            conv = self._by_id[conv_id]
            if conv["inbox"] == inbox_id and set(numbers) == wanted:
                return conv
        if len(wanted) == 1:
            return self.find_conversation(inbox_id, next(iter(wanted)))
        return None

    def last_message_id(self, conv: dict[str, Any]) -> int | None:
        messages = self._thread(conv).messages
        return messages[-1]["id"] if messages else None

    def conversation_by_id(self, conversation_id: int) -> dict[str, Any] | None:
        return self._by_id.get(conversation_id)

    def messages_for(self, inbox_id: int, target: str) -> Sequence[dict[str, Any]]:
        """The whole thread, oldest first (built on first access, then cached; the paged
        thread's is a view that builds what is read)."""
        conv = self.find_conversation(inbox_id, target)
        if conv is None:
            return []
        return self._thread(conv).messages

    # ------------------------------------------------------------------ pages

    def conversation_page(
        self,
        inbox_ids: list[int],
        *,
        before: float | None,
        inclusive: bool,
        closed: bool | None,
        unread: bool | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """The newest `limit` matching conversations updated before `before`, newest first."""
        with self.lock:
            index = self._ensure_index()
            cut = bisect.bisect_right if inclusive else bisect.bisect_left
            runs: list[Iterator[tuple[int, int, dict[str, Any]]]] = []
            for inbox_id in dict.fromkeys(inbox_ids):
                if inbox_id not in index:
                    continue
                epochs, items = index[inbox_id]
                hi = len(items) if before is None else cut(epochs, before)
                runs.append(_newest_first(items, hi))
            out: list[dict[str, Any]] = []
            for _, _, conv in heapq.merge(*runs, key=lambda t: (t[0], t[1]), reverse=True):
                if closed is not None and (conv["status"] == "closed") != closed:
                    continue
                if unread is not None and bool(conv["unread"]) != unread:
                    continue
                out.append(conv)
                if len(out) >= limit:
                    break
            return out

    def message_page(
        self, conv: dict[str, Any], *, before: int | None, inclusive: bool, limit: int
    ) -> list[dict[str, Any]]:
        """The newest `limit` messages dated before `before`, oldest first."""
        with self.lock:
            return self._thread(conv).page(before, inclusive, limit)

    def team_messages(self, order: str = "created_at") -> list[tuple[int, int, dict[str, Any], int]]:
        """Every message of the team as (epoch of `date` or `updated`, id, message, epoch of
        `date`), oldest
        first, for the team-wide feed. Builds every thread once; `_next_message_id` moves on
        each add_message, so it stamps the cache's freshness."""
        with self.lock:
            cache: dict[Any, Any] = self.__dict__.setdefault("_team_cache", {})
            stamp = (order, self._next_message_id, len(self.conversations))
            if stamp not in cache:
                cache.clear()
                rows: list[tuple[int, int, dict[str, Any], int]] = []
                for conv in self.conversations:
                    thread = self._thread(conv)
                    if order == "updated_at":
                        rows.extend((_epoch(m["updated"]) or e, m["id"], m, e) for e, m in zip(thread.epochs, thread.messages))
                    else:
                        rows.extend((e, m["id"], m, e) for e, m in zip(thread.epochs, thread.messages))
                rows.sort(key=lambda t: (t[0], t[1]))
                cache[stamp] = (rows, [r[0] for r in rows])
            return cache[stamp][0]

    def team_message_keys(self, order: str = "created_at") -> list[int]:
        """The first field of each `team_messages(order)` row, for bisect."""
        with self.lock:
            self.team_messages(order)
            return self.__dict__["_team_cache"][(order, self._next_message_id, len(self.conversations))][1]

    # ---------------------------------------------------------------- triage

    def set_status(self, conv: dict[str, Any], status: str) -> None:
        with self.lock:
            conv["status"] = status
            self.live.status.pop(conv["id"], None)  # a triage replaces `pending` and the like

    def mark_read(self, conv: dict[str, Any], now: int) -> None:
        with self.lock:
            conv["read"] = now
            conv["unread"] = False
            conv["unread_users"] = []

    def mark_unread(self, conv: dict[str, Any]) -> None:
        with self.lock:
            conv["read"] = 0
            conv["unread"] = True
            conv["unread_users"] = list(self._inbox_by_id[conv["inbox"]]["members"])

    def reassign(self, conv: dict[str, Any], member_id: int) -> None:
        with self.lock:
            conv["assigned"] = member_id
            if all(m["id"] != member_id for m in conv["members"]):
                conv["members"] = conv["members"] + [{"id": member_id, "name": self.member_names[member_id]}]

    def transfer(self, conv: dict[str, Any], inbox_id: int) -> None:
        """Move a conversation and its thread; ValueError if the target already
        has a conversation in that inbox."""
        with self.lock:
            if conv["inbox"] == inbox_id:
                return
            key = (inbox_id, conv["target"])
            if key in self._by_key:
                raise ValueError("the target already has a conversation in that inbox")
            del self._by_key[(conv["inbox"], conv["target"])]
            conv["inbox"] = inbox_id
            self._by_key[key] = conv
            ref = self._ref(conv)
            ref["inbox"] = inbox_id
            self._index = None

    def add_message(
        self,
        inbox_id: int,
        target: str,
        text: str,
        *,
        inbound: bool = True,
        date: datetime | None = None,
        now: float | None = None,
    ) -> dict[str, Any]:
        """Append a message to a thread (creating the conversation if there is
        none) and update the conversation's summary. A new inbound message
        reopens a closed conversation and marks it unread."""
        with self.lock:
            inbox = self._inbox_by_id.get(inbox_id)
            if inbox is None:
                raise KeyError(f"no inbox {inbox_id}")
            conv = self._by_key.get((inbox_id, target)) or self._new_conversation(inbox, target)
            thread = self._thread(conv)
            if date is not None:
                if date.tzinfo is None:
                    date = date.replace(tzinfo=timezone.utc)
                epoch = int(date.timestamp())
            else:
                epoch = int(time.time() if now is None else now)
                if thread.epochs:
                    epoch = max(epoch, thread.epochs[-1] + 1)
            msg_id = self._next_message_id
            self._next_message_id += 1
            ref = self._ref(conv)
            if inbound:
                author = conv["name"] or conv["target"]
                user, status = None, "received"
            else:
                user = conv["assigned"] if conv["assigned"] is not None else inbox["members"][0]
                author, status = self.member_names.get(user, ""), "delivered"
            msg = make_message(
                msg_id, epoch, epoch, text, author, user, inbox["phone"], target, "text", status,
                None, None, None, None if inbound else f"hm-{msg_id:016x}", ref,
            )
            thread.add(epoch, msg)
            last = thread.messages[-1]
            conv["created"] = thread.messages[0]["date"]
            conv["updated"] = last["date"]
            conv["last_msg"] = last["text"]
            self._updated[conv["id"]] = thread.epochs[-1]
            if inbound:
                conv["last_inbound"] = max(conv["last_inbound"] or 0, epoch)
                if conv["status"] == "closed":
                    conv["status"] = "open"
            else:
                conv["replied"] = True
            conv["unread"] = conv["last_inbound"] > conv["read"]
            conv["unread_users"] = list(inbox["members"]) if conv["unread"] else []
            self._index = None
            return msg

    # ------------------------------------------------------- the paged thread

    def add_huge_thread(self, count: int = HUGE_THREAD_MESSAGES, *, keep_blocks: int | None = None) -> dict[str, Any]:
        """Add the 100,000-message thread (Field Ops, HUGE_THREAD_TARGET) and return its
        conversation. Not part of the default data, so every seeded id and text stays as it
        was; its messages are built a block at a time when a page asks (PagedThread), so adding
        it builds one block, the newest (for the conversation's summary). `keep_blocks`: how
        many built blocks to keep (None: all, as a cache). Idempotent."""
        with self.lock:
            existing = self._by_key.get((HUGE_THREAD_INBOX, HUGE_THREAD_TARGET))
            if existing is not None:
                return existing
            inbox = self._inbox_by_id[HUGE_THREAD_INBOX]
            conv_id = max(self._by_id) + 1
            ref = {"id": conv_id, "inbox": inbox["id"], "target": HUGE_THREAD_TARGET, "name": "Ruth Castellanos"}
            thread = huge_thread(self._generator, ref, count=count, keep_blocks=keep_blocks)
            last = thread.message(-1)  # inbound: the conversation waits for a reply
            first_epoch, last_epoch = thread.epoch(0), thread.epoch(-1)
            members = [{"id": m, "name": self.member_names[m]} for m in thread.plan.participants]
            conv = make_conversation(
                conv_id, inbox["id"], HUGE_THREAD_TARGET, ref["name"], "open", thread.plan.participants[0],
                first_epoch, None, last_epoch, 0, last_epoch, False, members, True, last["text"],
                unread_users=list(inbox["members"]),
            )
            self._extra_refs[conv_id] = ref
            self._threads[conv_id] = thread
            self._updated[conv_id] = last_epoch
            self._by_id[conv_id] = conv
            self._by_key[(inbox["id"], HUGE_THREAD_TARGET)] = conv
            self.conversations.append(conv)
            self._index = None
            return conv

    def paged_thread(self, inbox_id: int, target: str) -> PagedThread | None:
        """The conversation's PagedThread (for counting what it built), if it has one."""
        conv = self.find_conversation(inbox_id, target)
        thread = self._threads.get(conv["id"]) if conv is not None else None
        return thread if isinstance(thread, PagedThread) else None

    # --------------------------------------------------------------- internals

    def _ensure_index(self) -> dict[int, tuple[list[int], list[tuple[int, int, dict[str, Any]]]]]:
        # Rebuilt only after a change to `updated` or `inbox`; sorting ~100 items per inbox is cheap.
        if self._index is None:
            grouped: dict[int, list[tuple[int, int, dict[str, Any]]]] = {}
            for conv in self.conversations:
                grouped.setdefault(conv["inbox"], []).append((self._updated[conv["id"]], conv["id"], conv))
            index = {}
            for inbox_id, items in grouped.items():
                items.sort(key=lambda t: (t[0], t[1]))
                index[inbox_id] = ([t[0] for t in items], items)
            self._index = index
        return self._index

    def _ref(self, conv: dict[str, Any]) -> dict[str, Any]:
        plan = self._plans.get(conv["id"])
        if plan is not None:
            return plan.ref
        return self._extra_refs[conv["id"]]

    def _thread(self, conv: dict[str, Any]) -> Thread | PagedThread:
        with self.lock:
            thread = self._threads.get(conv["id"])
            if thread is None:
                thread = self._generator.thread(self._plans[conv["id"]])
                self._threads[conv["id"]] = thread
            return thread

    def _new_conversation(self, inbox: dict[str, Any], target: str) -> dict[str, Any]:
        conv_id = max(self._by_id) + 1
        epoch = self.anchor_epoch
        conv = make_conversation(
            conv_id, inbox["id"], target, "", "open", None, epoch, None, epoch, 0, 0, False, [], False, ""
        )
        self._extra_refs[conv_id] = {"id": conv_id, "inbox": inbox["id"], "target": target, "name": ""}
        self._threads[conv_id] = Thread([], [])
        self._updated[conv_id] = epoch
        self.conversations.append(conv)
        self._by_id[conv_id] = conv
        self._by_key[(inbox["id"], target)] = conv
        return conv

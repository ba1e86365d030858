"""Generation of the fake data: the team, inboxes and conversations up front,
each conversation's thread lazily from its own seeded ``Random``.

See ``hmtui.fake.data`` for the conventions the generated values follow.
"""

from __future__ import annotations

import bisect
import math
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from random import Random
from typing import Any, overload

from hmtui.fake import texts
from hmtui.fake.hostile import HOSTILE_MESSAGES, HOSTILE_NAME

LONG_THREAD_TARGET = "14155550142"
LONG_THREAD_INBOX = 501
HOSTILE_THREAD_TARGET = "14155550199"
HOSTILE_THREAD_INBOX = 502

LONG_THREAD_MIN_MESSAGES = 20_600
# The 100,000-message thread (FakeData.add_huge_thread; not in the default data). Its number ends
# in 0042: generated US numbers end in 0100-9999, so it can never meet a seeded conversation.
HUGE_THREAD_INBOX = 504
HUGE_THREAD_TARGET = "15035550042"
HUGE_THREAD_MESSAGES = 100_000
HUGE_THREAD_FIRST_ID = 800_000_000  # above the seeded ids, below the appended ones (900,000,001...)
HUGE_BLOCK = 500  # messages built at a time
# Blocks kept once built (an LRU; None: all). All, by default: a walk through the whole thread
# then costs the server what a real one's costs (a slice and its JSON), not the building of it.
HUGE_KEEP_BLOCKS: int | None = None
MEDIA_BASE = "https://media.heymarket-demo.invalid/mms"
LINK_BASE = "https://nwo.heymarket-demo.invalid/t"

_DAY = 86_400

MEMBERS: tuple[tuple[int, str, str], ...] = (
    (101, "Dana Whitfield", "admin"),
    (102, "Marcus Oyelaran", "admin"),
    (103, "Priya Raman", "member"),
    (104, "Tomás Álvarez", "member"),
    (105, "Mei-Lin Chen", "member"),
    (106, "Jordan Brooks", "member"),
    (107, "Aisha Kamara", "member"),
    (108, "Sven Lindqvist", "member"),
)

# (id, name, topic, phones, members, how many ordinary conversations)
INBOXES: tuple[tuple[int, str, str, tuple[str, ...], tuple[int, ...], int], ...] = (
    (501, "Support", "support", ("14155550100",), (101, 102, 103, 104, 106), 120),
    (502, "Sales", "sales", ("16285550111",), (101, 102, 105, 106), 90),
    (503, "Billing", "billing", ("14155550177", "18885550134"), (101, 103, 107), 70),
    (504, "Field Ops", "field", ("15035550190",), (101, 104, 107, 108), 56),
)


def rfc3339(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def next_role(role: str, r: float) -> str:
    """Who writes the next message of a thread, given who wrote this one and a draw `r` in [0, 1):
    customers write in bursts, agents answer, a note now and then."""
    if role == "inbound":
        return "inbound" if r < 0.3 else ("outbound" if r < 0.92 else "note")
    if role == "outbound":
        return "inbound" if r < 0.62 else ("outbound" if r < 0.95 else "note")
    return "outbound" if r < 0.7 else "inbound"


@dataclass
class Thread:
    messages: list[dict[str, Any]]
    epochs: list[int]  # parallel to messages, for bisect; kept sorted

    def page(self, before: int | None, inclusive: bool, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` messages dated before `before` (or at it, if inclusive), oldest first."""
        if before is None:
            hi = len(self.epochs)
        elif inclusive:
            hi = bisect.bisect_right(self.epochs, before)
        else:
            hi = bisect.bisect_left(self.epochs, before)
        return self.messages[max(0, hi - limit) : hi]

    def add(self, epoch: int, msg: dict[str, Any]) -> None:
        """Insert a message at its place by date (after any of the same second)."""
        pos = bisect.bisect_right(self.epochs, epoch)
        self.epochs.insert(pos, epoch)
        self.messages.insert(pos, msg)


@dataclass
class Plan:
    """What a thread must look like, fixed up front so the conversation summary
    (last_msg, last_inbound, created) agrees with the lazily built thread."""

    kind: str  # "normal" | "long" | "hostile" | "huge"
    ordinal: int
    topic: str
    lang: str
    count: int
    created: int
    tail: list[tuple[int, str, str]]  # (epoch, role, text), oldest first
    participants: list[int]
    first_outbound: bool
    ctx: dict[str, str]
    ref: dict[str, Any]  # the {id, inbox, target, name} every message shares
    inbox_phone: str


def make_message(
    msg_id: int, epoch: int, updated: int, text: Any, author: Any, user: Any, phone: str, target: str,
    mtype: Any, status: Any, media: Any, link_url: Any, broadcast_id: Any, local_id: Any,
    ref: dict[str, Any], flagged: bool = False,
) -> dict[str, Any]:
    date = rfc3339(epoch)
    return {
        "id": msg_id,
        "date": date,
        "updated": date if updated == epoch else rfc3339(updated),
        "text": text,
        "author": author,
        "user": user,
        "phone": phone,
        "target": target,
        "type": mtype,
        "status": status,
        "media": media,
        "link_url": link_url,
        "flagged": flagged,
        "broadcast_id": broadcast_id,
        "local_id": local_id,
        "custom": None,
        "super": False,
        "support": False,
        "conversation": ref,
    }


def make_conversation(
    conv_id: int, inbox_id: int, target: str, name: str | None, status: str, assigned: int | None,
    created: int, creator: int | None, updated: int, read: int, last_inbound: int, replied: bool,
    members: list[dict[str, Any]], unread: bool, last_msg: str, *, unread_users: list[int] | None = None,
    blocked: bool = False, muted: bool = False, email_noti: bool = False,
) -> dict[str, Any]:
    return {
        "id": conv_id,
        "inbox": inbox_id,
        "target": target,
        "name": name,
        "status": status,
        "assigned": assigned,
        "blocked": blocked,
        "channel": "sms",
        "created": rfc3339(created),
        "creator": creator,
        "updated": rfc3339(updated),
        "read": read,
        "last_inbound": last_inbound,
        "replied": replied,
        "muted": muted,
        "snooze_till": None,
        "email_noti": email_noti,
        "local_id": None,
        "members": members,
        "noreply": False,
        "op": 101,
        "super": False,
        "support": False,
        "type": "individual",
        "unread": unread,
        "unread_users": unread_users or [],
        "last_msg": last_msg,
    }


@dataclass
class Built:
    team: dict[str, Any]
    inboxes: list[dict[str, Any]]
    conversations: list[tuple[dict[str, Any], Plan]]  # ids assigned, in id order


class Generator:
    """Everything here draws from `random.Random` instances seeded from `seed`."""

    def __init__(self, seed: int, anchor_epoch: int) -> None:
        self.seed = seed
        self.anchor_epoch = anchor_epoch
        self.member_by_id = {mid: (name, role) for mid, name, role in MEMBERS}

    def build(self) -> Built:
        """The team, inboxes and conversations (threads are left to `thread`)."""
        rng = Random(self.seed)
        anchor = self.anchor_epoch
        team = {
            "id": 4821,
            "name": "Northwind Outfitters",
            "list_size": 12_000 + rng.randint(0, 999),
            "members": [{"id": mid, "name": name, "role": role} for mid, name, role in MEMBERS],
        }
        inboxes = []
        for inbox_id, name, _topic, phones, members, _n in INBOXES:
            inboxes.append({
                "id": inbox_id,
                "name": name,
                "phone": phones[0],
                "phones": list(phones),
                "members": list(members),
                "team": team["id"],
                "rev": rng.randint(3, 90),
                "op": 101,
                "allowed_domains": ["northwind-outfitters.example"] if inbox_id != 504 else [],
                "auto_assignable": inbox_id in (501, 503),
                "bco_chats": False,
                "forward_number": "14155550123" if inbox_id == 504 else "",
                "invited": ["new.hire@northwind-outfitters.example"] if inbox_id == 502 else [],
                "widget_code": f"hmw_{rng.getrandbits(48):012x}",
                "widget_settings": {
                    "enabled": inbox_id in (501, 502),
                    "title": f"Text {name}",
                    "greeting": "Hi! Send us a text and we'll reply right here.",
                    "color": "#1f6f5c",
                    "position": "right",
                    "show_on_mobile": True,
                },
            })

        used = {p for i in inboxes for p in i["phones"]} | {LONG_THREAD_TARGET, HOSTILE_THREAD_TARGET, "14155550123"}

        # Rows: (inbox row, target, name, lang, kind, updated epoch).
        rows: list[list[Any]] = []
        for row in INBOXES:
            for _ in range(row[5]):
                lang, name = rng.choice(texts.CONTACT_NAMES)
                roll = rng.random()
                # Some contacts are unnamed; the client then shows the number.
                contact_name: str | None = name if roll > 0.09 else ("" if roll > 0.04 else None)
                target = self._new_number(rng, used)
                offset = 60 + int(90 * _DAY * rng.random() ** 1.6)
                rows.append([row, target, contact_name, lang, "normal", anchor - offset])
        # The same customer texting two departments: same target, two inboxes.
        for k in range(8):
            src = rows[k * 13]
            other = [r for r in INBOXES if r[0] != src[0][0]][k % 3]
            dup = [other, src[1], src[2], src[3], "normal", anchor - 60 - int(90 * _DAY * rng.random() ** 1.6)]
            rows.append(dup)
        # Several conversations within the last hour.
        for k in range(0, 10 * 7, 7):
            rows[k][5] = anchor - rng.randint(60, 3500)
        rows.append([INBOXES[0], LONG_THREAD_TARGET, "Margaret Oduya", "en", "long", anchor - 240])
        rows.append([INBOXES[1], HOSTILE_THREAD_TARGET, HOSTILE_NAME, "en", "hostile", anchor - 3 * 3600 - 17])

        # Ties in `updated` inside one inbox, including one straddling the default
        # 25-item page boundary, so paging by `date` meets them.
        by_inbox: dict[int, list[list[Any]]] = {}
        for r in rows:
            by_inbox.setdefault(r[0][0], []).append(r)
        for inbox_rows in by_inbox.values():
            inbox_rows.sort(key=lambda r: -r[5])
            normal = [r for r in inbox_rows if r[4] == "normal"]
            for a, b in ((24, 25), (49, 50), (10, 11), (60, 61)):
                if b < len(normal):
                    normal[b][5] = normal[a][5]

        plans = [self._plan(rng, r) for r in rows]
        # Ids grow with creation time, as a real sequence would.
        plans.sort(key=lambda p: (p[1].created, p[0]["target"], p[0]["inbox"]))
        conv_id = 2_710_000
        for ordinal, (conv, plan) in enumerate(plans):
            conv_id += 1 + rng.randint(0, 40)
            conv["id"] = conv_id
            plan.ordinal = ordinal
            plan.ref["id"] = conv_id
        return Built(team, inboxes, plans)

    @staticmethod
    def _new_number(rng: Random, used: set[str]) -> str:
        while True:
            roll = rng.random()
            if roll < 0.78:
                number = f"1{rng.choice(texts.US_AREA_CODES)}555{rng.randint(100, 9999):04d}"
            else:
                prefix, digits = rng.choice(texts.OTHER_NUMBER_PREFIXES)
                number = prefix + f"{rng.randrange(10 ** digits):0{digits}d}"
            if number not in used:
                used.add(number)
                return number

    def _plan(self, rng: Random, row: list[Any]) -> tuple[dict[str, Any], Plan]:
        (inbox_id, _iname, topic, phones, inbox_members, _n), target, name, lang, kind, updated = row
        names = self.member_by_id
        if kind == "long":
            assigned: int | None = 103
            status = "open"
        else:
            assigned = None if rng.random() < 0.15 else rng.choice(inbox_members)
            closed = rng.random() < 0.27
            status = "closed" if closed and kind == "normal" else "open"
        participants = [assigned] if assigned is not None else [rng.choice(inbox_members)]
        if rng.random() < 0.3:
            extra = rng.choice(inbox_members)
            if extra not in participants:
                participants.append(extra)
        words = (name or "").split()
        first = words[0] if words and words[0].isalpha() else "there"
        ctx = {
            "first": first,
            "agent": names[participants[0]][0].split()[0],
            "order": f"NW-{rng.randint(100000, 999999)}",
            "ticket": f"{rng.randint(10000, 99999)}",
            "amount": rng.choice(texts.AMOUNTS),
            "day": rng.choice(texts.DAYS),
            "url": f"{LINK_BASE}/{rng.getrandbits(40):010x}",
        }
        ref = {"id": 0, "inbox": inbox_id, "target": target, "name": name}

        if kind == "hostile":
            count = len(HOSTILE_MESSAGES)
            created = updated - 2 * _DAY
            tail = [(updated, HOSTILE_MESSAGES[-1][0], HOSTILE_MESSAGES[-1][1])]
        else:
            roll = rng.random()
            if status == "closed":
                last_role = "outbound" if roll < 0.8 else "note"
            else:
                last_role = "inbound" if roll < 0.55 else ("outbound" if roll < 0.9 else "note")
            if kind == "long":
                last_role = "inbound"
            last_text = self._text(rng, last_role, topic, lang).format_map(ctx)
            if last_role == "inbound":
                tail = [(updated, "inbound", last_text)]
            else:
                gap = rng.randint(30, 3 * 3600)
                question = self._text(rng, "inbound", topic, lang).format_map(ctx)
                tail = [(updated - gap, "inbound", question), (updated, last_role, last_text)]
            if kind == "long":
                count = LONG_THREAD_MIN_MESSAGES + rng.randint(0, 300)
                span = 3 * 365 * _DAY + rng.randint(0, 20 * _DAY)
            else:
                roll = rng.random()
                count = rng.randint(5, 80) if roll < 0.85 else (rng.randint(1, 4) if roll < 0.95 else rng.randint(81, 400))
                count = max(count, len(tail))
                low = max(count * 120, 900) + 8 * 3600
                span = int(math.exp(rng.uniform(math.log(low), math.log(max(low + 1, 150 * _DAY)))))
            body = count - len(tail)
            created = updated - span if body else tail[0][0]

        last_inbound = max((e for e, role, _ in tail if role == "inbound"), default=0)
        age = self.anchor_epoch - updated
        unread = tail[-1][1] == "inbound" and status == "open" and rng.random() < (0.8 if age < 3 * _DAY else 0.4)
        if kind in ("long", "hostile"):
            unread = True
        if unread:
            read = 0 if rng.random() < 0.3 else last_inbound - rng.randint(3600, 5 * _DAY)
        else:
            read = min(self.anchor_epoch, last_inbound + rng.randint(5, 1800))
        creator = participants[0] if (topic == "sales" and rng.random() < 0.4) else None
        conv = make_conversation(
            0, inbox_id, target, name, status, assigned, created, creator, tail[-1][0], read, last_inbound,
            tail[-1][1] == "outbound",
            [{"id": m, "name": names[m][0]} for m in participants],
            unread,
            tail[-1][2],
            unread_users=list(inbox_members) if unread else [],
            blocked=rng.random() < 0.01,
            muted=rng.random() < 0.03,
            email_noti=rng.random() < 0.2,
        )
        plan = Plan(kind, 0, topic, lang, count, created, tail, participants, creator is not None, ctx, ref, phones[0])
        return conv, plan

    @staticmethod
    def _text(rng: Random, role: str, topic: str, lang: str) -> str:
        if role == "inbound":
            if lang != "en" and lang in texts.FOREIGN_INBOUND and rng.random() < 0.5:
                return rng.choice(texts.FOREIGN_INBOUND[lang])
            return rng.choice(texts.INBOUND[topic])
        if role == "outbound":
            return rng.choice(texts.OUTBOUND[topic])
        return rng.choice(texts.NOTES)

    def thread(self, plan: Plan) -> Thread:
        """Build a thread from its plan; the same plan always gives the same thread."""
        rng = Random(f"{self.seed}:{plan.ref['id']}")
        if plan.kind == "hostile":
            return self._generate_hostile(rng, plan)
        body = plan.count - len(plan.tail)
        # A pause before the tail, so the thread does not run into it at full speed.
        end = max(plan.created, plan.tail[0][0] - rng.randint(30, 4 * 3600))
        epochs = self._positions(rng, body, plan.created, end, plan.kind == "long")
        roles: list[str] = []
        role = "outbound" if plan.first_outbound else ("inbound" if rng.random() < 0.85 else "outbound")
        for _ in range(body):
            roles.append(role)
            role = next_role(role, rng.random())
        base = 100_000_000 + plan.ordinal * 100_000
        messages = [self._body_message(rng, plan, base + i, epochs[i], roles[i]) for i in range(body)]
        for j, (epoch, trole, text) in enumerate(plan.tail):
            messages.append(self._body_message(rng, plan, base + body + j, epoch, trole, text))
            epochs.append(epoch)
        return Thread(messages, epochs)

    @staticmethod
    def _positions(rng: Random, n: int, start: int, end: int, bursts: bool) -> list[int]:
        """n non-decreasing epochs from start to end: clusters (conversations)
        separated by long pauses; with `bursts`, runs of 2-6 share one second."""
        if n <= 0:
            return []
        if n == 1:
            return [start]
        expo = rng.expovariate
        gaps = [expo(1.0) * (60.0 if rng.random() < 0.25 else 1.0) for _ in range(n - 1)]
        factor = (end - start) / sum(gaps)
        out = [start]
        acc = 0.0
        for g in gaps:
            acc += g
            out.append(start + int(acc * factor + 0.5))
        out[-1] = end
        if bursts:
            i, rand, randint = 0, rng.random, rng.randint
            while i < n - 1:
                if rand() < 0.012:
                    k = randint(2, 6)
                    for j in range(i + 1, min(i + k, n)):
                        out[j] = out[i]
                    i += k
                else:
                    i += 1
        return out

    def _body_message(
        self, rng: Random, plan: Plan, msg_id: int, epoch: int, role: str, text: str | None = None
    ) -> dict[str, Any]:
        ref = plan.ref
        target = ref["target"]
        media = link = broadcast = local_id = None
        mtype = "text"
        updated = epoch
        if role == "inbound":
            user = None
            author = ref["name"] or target
            status = "received"
            if text is None:
                if rng.random() < 0.06:
                    mtype = "media"
                    media = f"{MEDIA_BASE}/{msg_id}.jpg"
                    text = rng.choice(texts.MEDIA_CAPTIONS)
                else:
                    text = self._text(rng, role, plan.topic, plan.lang).format_map(plan.ctx)
        else:
            parts = plan.participants
            user = parts[0] if len(parts) == 1 or rng.random() < 0.75 else parts[1]
            author = self.member_by_id[user][0]
            if role == "note":
                mtype, status = "comment", None
                if text is None:
                    text = rng.choice(texts.NOTES).format_map(plan.ctx)
            else:
                r = rng.random()
                status = "delivered" if r < 0.88 else ("sent" if r < 0.94 else "failed")
                if status == "delivered":
                    updated = epoch + rng.randint(1, 4)
                local_id = f"hm-{rng.getrandbits(64):016x}"
                if text is None:
                    raw = rng.choice(texts.OUTBOUND[plan.topic])
                    if "{url}" in raw:
                        link = plan.ctx["url"]
                    if plan.topic == "sales" and "STOP" in raw:
                        broadcast = 3_300 + plan.ordinal % 7
                    text = raw.format_map(plan.ctx)
                    if rng.random() < 0.03:
                        mtype = "media"
                        media = f"{MEDIA_BASE}/{msg_id}.jpg"
                elif plan.ctx["url"] in text:
                    link = plan.ctx["url"]
        flagged = rng.random() < 0.004
        return make_message(
            msg_id, epoch, updated, text, author, user, plan.inbox_phone, target, mtype, status, media, link,
            broadcast, local_id, ref, flagged,
        )

    def _generate_hostile(self, rng: Random, plan: Plan) -> Thread:
        n = len(HOSTILE_MESSAGES)
        end = plan.tail[-1][0]
        step = (end - plan.created) // (n - 1)
        base = 100_000_000 + plan.ordinal * 100_000
        messages: list[dict[str, Any]] = []
        epochs: list[int] = []
        for i, (role, text, overrides) in enumerate(HOSTILE_MESSAGES):
            epoch = end if i == n - 1 else plan.created + i * step
            msg = self._body_message(rng, plan, base + i, epoch, role, text)
            for key, value in overrides.items():
                msg[key] = epoch if value == "<epoch>" else value
            messages.append(msg)
            epochs.append(epoch)
        return Thread(messages, epochs)


# ----------------------------------------------------------------------------- the paged thread


class PagedThread:
    """A thread of `count` generated messages that is never built whole.

    Messages come in blocks of HUGE_BLOCK; block `b` covers its own slice of time,
    [start + b * span, start + (b + 1) * span), and is drawn from its own seeded `Random`, so
    any block (its dates, then its messages) can be built without the blocks before it, and
    the same block is always the same. A page by date finds its block by arithmetic and bisects
    only inside it. Built blocks are kept in a small LRU; `generated` counts the messages built
    (rebuilds included), so a test can check that serving a page builds a block or two, not the
    thread. Messages appended later (`add`) must not be older than the newest one.

    `messages` and `epochs` are read-only sequence views, so code written for `Thread` (a
    slice, `[-1]`, `len`) works unchanged; iterating them builds every block once.
    """

    def __init__(self, generator: Generator, plan: Plan, *, count: int, start: int, span: int,
                 first_id: int, block: int = HUGE_BLOCK, keep_blocks: int | None = HUGE_KEEP_BLOCKS) -> None:
        self._generator = generator
        self.plan = plan
        self.count = count
        self.start = start
        self.block = block
        self.blocks = -(-count // block)
        self.block_span = max(1, span // self.blocks)
        self.first_id = first_id
        self.generated = 0
        self._keep = keep_blocks
        self._built: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()
        self._epochs: dict[int, list[int]] = {}  # a block's dates are cheap: all are kept once drawn
        self._extra: list[dict[str, Any]] = []
        self._extra_epochs: list[int] = []
        self.messages: Sequence[dict[str, Any]] = _View(self, self.message)
        self.epochs: Sequence[int] = _View(self, self.epoch)

    def __len__(self) -> int:
        return self.count + len(self._extra)

    # -- one block

    def _block_len(self, b: int) -> int:
        return min(self.block, self.count - b * self.block)

    def block_epochs(self, b: int) -> list[int]:
        epochs = self._epochs.get(b)
        if epochs is None:
            rng = Random(f"{self._generator.seed}:huge:{b}:dates")
            n, low = self._block_len(b), self.start + b * self.block_span
            offsets = sorted(rng.randrange(self.block_span) for _ in range(n))
            i = 1
            while i < n:  # runs of 2-6 messages in one second, so pages by date meet ties
                if rng.random() < 0.012:
                    k = rng.randint(2, 6)
                    for j in range(i, min(i + k, n)):
                        offsets[j] = offsets[i - 1]
                    i += k
                else:
                    i += 1
            epochs = self._epochs[b] = [low + o for o in offsets]
        return epochs

    def _block_messages(self, b: int) -> list[dict[str, Any]]:
        built = self._built.get(b)
        if built is not None:
            self._built.move_to_end(b)
            return built
        epochs = self.block_epochs(b)
        rng = Random(f"{self._generator.seed}:huge:{b}:messages")
        plan, base, last = self.plan, self.first_id + b * self.block, b == self.blocks - 1
        built, role = [], "inbound"
        for i, epoch in enumerate(epochs):
            if last and i == len(epochs) - 1:
                role = "inbound"  # the conversation's summary says its last message came in
            built.append(self._generator._body_message(rng, plan, base + i, epoch, role))
            role = next_role(role, rng.random())
        self.generated += len(built)
        self._built[b] = built
        while self._keep is not None and len(self._built) > self._keep:
            self._built.popitem(last=False)
        return built

    # -- by position, oldest first

    def _position(self, i: int) -> int:
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("thread index out of range")
        return i

    def message(self, i: int) -> dict[str, Any]:
        i = self._position(i)
        if i >= self.count:
            return self._extra[i - self.count]
        return self._block_messages(i // self.block)[i % self.block]

    def epoch(self, i: int) -> int:
        i = self._position(i)
        if i >= self.count:
            return self._extra_epochs[i - self.count]
        return self.block_epochs(i // self.block)[i % self.block]

    # -- what FakeData asks of a thread

    def index_before(self, before: int, inclusive: bool) -> int:
        """How many messages are dated before `before` (at it too, if inclusive)."""
        cut = bisect.bisect_right if inclusive else bisect.bisect_left
        b = (before - self.start) // self.block_span
        if b < 0:
            hi = 0
        elif b >= self.blocks:
            hi = self.count
        else:
            hi = b * self.block + cut(self.block_epochs(b), before)
        if hi == self.count:  # the appended messages are never older than the generated ones
            hi += cut(self._extra_epochs, before)
        return hi

    def page(self, before: int | None, inclusive: bool, limit: int) -> list[dict[str, Any]]:
        hi = len(self) if before is None else self.index_before(before, inclusive)
        return [self.message(i) for i in range(max(0, hi - limit), hi)]

    def add(self, epoch: int, msg: dict[str, Any]) -> None:
        if epoch < self.epoch(-1):
            raise ValueError("a paged thread takes only messages newer than its newest")
        self._extra.append(msg)
        self._extra_epochs.append(epoch)


class _View(Sequence[Any]):
    """A read-only sequence over a PagedThread's messages or dates, by position."""

    def __init__(self, thread: PagedThread, item: Any) -> None:
        self._thread = thread
        self._item = item

    def __len__(self) -> int:
        return len(self._thread)

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self._item(k) for k in range(*i.indices(len(self)))]
        return self._item(i)


def huge_thread(generator: Generator, ref: dict[str, Any], *, count: int = HUGE_THREAD_MESSAGES,
                span: int = 5 * 365 * _DAY, end: int | None = None,
                keep_blocks: int | None = HUGE_KEEP_BLOCKS) -> PagedThread:
    """The 100,000-message thread: Field Ops and a contractor who texts every day for five years.
    Its plan is drawn from its own `Random`, so adding it changes nothing else in the data."""
    rng = Random(f"{generator.seed}:huge")
    inbox = next(row for row in INBOXES if row[0] == HUGE_THREAD_INBOX)
    inbox_id, _name, topic, phones, members, _n = inbox
    participants = [104, 108]
    first = str(ref.get("name") or "there").split()[0]
    ctx = {
        "first": first,
        "agent": generator.member_by_id[participants[0]][0].split()[0],
        "order": f"NW-{rng.randint(100000, 999999)}",
        "ticket": f"{rng.randint(10000, 99999)}",
        "amount": rng.choice(texts.AMOUNTS),
        "day": rng.choice(texts.DAYS),
        "url": f"{LINK_BASE}/{rng.getrandbits(40):010x}",
    }
    end = generator.anchor_epoch - 2 * 3600 if end is None else end
    plan = Plan("huge", 0, topic, "en", count, end - span, [], participants, False, ctx, ref, phones[0])
    return PagedThread(generator, plan, count=count, start=end - span, span=span, first_id=HUGE_THREAD_FIRST_ID,
                       keep_blocks=keep_blocks)

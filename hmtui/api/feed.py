"""The team-wide message feed (`POST /v1/messages/all`): what is new since the last look.

The sources disagree on which side of `created_at` the endpoint answers: the reference says
messages created **before** it, a third-party reference says **on and after** it. `TeamFeed`
assumes neither. It tells the direction from the dates that come back for a cursor, checks it on
every page that has one, and walks the way that works:

- "after": read up from the last seen second (`ascending: true`). The cursor's own second comes
  back each time; ids dedupe it. The walk moves to the newest second of each page.
- "before": read down from the newest page (no cursor) until a page goes below the last seen
  second. Each next cursor is one second past the oldest second seen, so a second split across a
  page boundary is asked for whole again (the Pager's rule).

It never silently misses a message. A page that is full must touch the second it was asked from
(a server that answers some other window, e.g. the newest rows after the cursor, would otherwise
leave a hole). A page that is all one second (a burst sharing a second) is asked again with a
larger `limit`, up to `max_limit`. Every call is capped at `max_requests`. Whenever one of these
stops the walk, the result says so: `complete` is False, and either `more` (after-walk: the
returned position resumes exactly where reading stopped) or `gap` (the window that may hold
unseen messages, for the caller to fall back on, e.g. by paging the lists).

The position is a small JSON-able dict the caller persists:
`{"created_at": "<RFC 3339 second>", "ids": [ids seen at that second], "direction": hint}`.
The first call (no position) returns no messages, only the position: there is no backlog.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal, Protocol

from hmtui.api.models import Id, Message, format_datetime, parse_datetime, parse_id

Direction = Literal["before", "after"]

# A date before this is a zero time ("0001-01-01T00:00:00Z") or junk, never a cursor.
_EARLIEST = 946684800  # 2000-01-01


class FeedSource(Protocol):
    async def all_messages(
        self, *, created_at: datetime | None = None, order: str = "created_at",
        ascending: bool | None = None, limit: int | None = None,
    ) -> list[Message]: ...


@dataclass(frozen=True)
class FeedPosition:
    """The newest second seen (None: the feed was empty then) and the ids seen at it."""

    second: int | None
    ids: frozenset[Id] = frozenset()
    direction: Direction | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "created_at": None if self.second is None else _fmt(self.second),
            "ids": sorted(self.ids, key=lambda i: (isinstance(i, str), i)),
        }
        if self.direction is not None:
            out["direction"] = self.direction
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, object] | None) -> FeedPosition | None:
        """The position a caller kept, or None if there is none (or it is unreadable)."""
        if not isinstance(raw, Mapping) or "created_at" not in raw:
            return None
        created = raw.get("created_at")
        second: int | None = None
        if created is not None:
            moment = parse_datetime(created)
            if moment is None or moment.timestamp() < _EARLIEST:
                return None
            second = math.floor(moment.timestamp())
        ids_raw = raw.get("ids")
        ids = frozenset(i for i in map(parse_id, ids_raw if isinstance(ids_raw, list) else []) if i is not None)
        direction = raw.get("direction")
        return cls(second, ids, direction if direction in ("before", "after") else None)  # type: ignore[arg-type]


@dataclass
class FeedResult:
    messages: list[Message]  # new since the position, oldest first, each once
    position: dict[str, object]  # persist it and pass it to the next call
    requests: int
    direction: Direction | None
    capped: bool = False  # the request cap stopped the walk
    more: bool = False  # stopped early, but `position` resumes exactly where reading stopped
    gap: tuple[datetime | None, datetime] | None = None  # messages created in [from, to] may be unseen
    reason: str | None = None  # why it is incomplete, one line

    @property
    def complete(self) -> bool:
        return not self.more and self.gap is None


def second_of(message: Message) -> int | None:
    """The whole second a message was created, or None when its date is absent or a zero time."""
    stamp = message.timestamp
    if stamp is None or stamp < _EARLIEST:
        return None
    return math.floor(stamp)


def message_conversation(message: Message) -> tuple[Id | None, Id | None, str | None]:
    """(conversation id, inbox id, target) from a feed message's `conversation` object."""
    conv = message.raw.get("conversation")
    if not isinstance(conv, Mapping):
        return None, None, message.target
    target = conv.get("target")
    return (
        parse_id(conv.get("id")),
        parse_id(conv.get("inbox")),
        target if isinstance(target, str) else message.target,
    )


def _fmt(second: int) -> str:
    return format_datetime(datetime.fromtimestamp(second, timezone.utc))


def _at(second: int | None) -> datetime | None:
    return None if second is None else datetime.fromtimestamp(second, timezone.utc)


@dataclass
class _Walk:
    """One call's state: what it found, and what it spent."""

    pos: FeedPosition
    budget: int
    requests: int = 0
    tried_up: bool = False
    new: dict[Id, tuple[int, Message]] = field(default_factory=dict)

    def absorb(self, page: Sequence[tuple[int, Message]]) -> None:
        last = self.pos.second
        for sec, msg in page:
            if last is not None and (sec < last or (sec == last and msg.id in self.pos.ids)):
                continue
            self.new.setdefault(msg.id, (sec, msg))

    def position(self, direction: Direction | None, upto: int | None = None) -> FeedPosition:
        """The newest second read (at most `upto`) and every id seen at it."""
        found = [(s, m) for s, m in self.new.values() if upto is None or s <= upto]
        second = max([s for s, _ in found] + ([self.pos.second] if self.pos.second is not None else []), default=None)
        if second is None:
            return FeedPosition(None, frozenset(), direction)
        ids = {m.id for s, m in found if s == second}
        if second == self.pos.second:
            ids |= self.pos.ids
        return FeedPosition(second, frozenset(ids), direction)

    def messages(self, upto: int | None = None) -> list[Message]:
        rows = [(s, m) for s, m in self.new.values() if upto is None or s <= upto]
        rows.sort(key=lambda r: (r[0], isinstance(r[1].id, str), r[1].id))
        return [m for _, m in rows]


class TeamFeed:
    """Finds new messages across the team with as few `POST /v1/messages/all` calls as it can.

    Plain asyncio; keeps only the learned cursor direction between calls (the caller keeps the
    position). `requests` counts every request it has made.
    """

    def __init__(self, source: FeedSource, *, page_size: int = 30, max_limit: int = 240,
                 max_requests: int = 8) -> None:
        self.source = source
        self.page_size = max(1, page_size)
        self.max_limit = max(self.page_size, max_limit)
        self.max_requests = max(1, max_requests)
        self.direction: Direction | None = None
        self.requests = 0

    async def poll(self, position: Mapping[str, object] | None) -> FeedResult:
        """The messages created since `position`, and the position to pass next time."""
        pos = FeedPosition.from_dict(position)
        if pos is None:
            return await self._start()
        if self.direction is None and pos.direction is not None:
            self.direction = pos.direction  # a hint only: every cursor page is checked
        walk = _Walk(pos, self.max_requests)
        if pos.second is not None and self.direction != "before":
            result = await self._read_up(walk)
            if result is not None:
                return result
        return await self._read_down(walk)

    # -- the walks -------------------------------------------------------------------------------

    async def _fetch(self, walk: _Walk, cursor: int | None, ascending: bool,
                     limit: int) -> tuple[list[tuple[int, Message]], bool]:
        """The page's dated messages, and whether the page was full (dateless ones included)."""
        walk.requests += 1
        self.requests += 1
        page = await self.source.all_messages(
            created_at=_at(cursor), order="created_at", ascending=ascending, limit=limit
        )
        # A message with no usable date cannot be placed before or after anything: skip it.
        dated = [(s, m) for m in page if (s := second_of(m)) is not None]
        return dated, len(page) >= limit

    async def _start(self) -> FeedResult:
        walk = _Walk(FeedPosition(None), self.max_requests)
        limit = self.page_size
        while True:
            page, full = await self._fetch(walk, None, False, limit)
            top = max((s for s, _ in page), default=None)
            # If the whole page is the newest second, some of its ids may be missing: widen.
            if page and full and all(s == top for s, _ in page) and limit < self.max_limit \
                    and walk.requests < walk.budget:
                limit = min(limit * 2, self.max_limit)
                continue
            break
        ids = frozenset(m.id for s, m in page if s == top)
        pos = FeedPosition(top, ids, self.direction)
        return FeedResult([], pos.to_dict(), walk.requests, self.direction)

    async def _read_up(self, walk: _Walk) -> FeedResult | None:
        """Read up from the last seen second; None if the server turns out to answer "before"."""
        assert walk.pos.second is not None
        walk.tried_up = True
        cursor = walk.pos.second  # always a second known to hold a message seen
        # Everything up to `cursor` is read (a down-walk may have read newer pages first): a
        # stop here keeps the position, and returns the messages, no further than it.
        limit = self.page_size
        while True:
            if walk.requests >= walk.budget:
                return self._stopped(walk, "after", more=True, capped=True, upto=cursor,
                                     reason=f"request cap ({walk.budget}) reached; the next call continues")
            page, full = await self._fetch(walk, cursor, True, limit)
            secs = [s for s, _ in page]
            if not page:
                if full:
                    return self._stopped(walk, None, gap=(cursor, None), upto=cursor,
                                         reason="the feed's messages carry no dates")
                if self.direction == "after":
                    return self._done(walk, "after")
                return None  # no evidence either way: the down-walk settles it
            before_ok, after_ok = max(secs) <= cursor, min(secs) >= cursor
            if before_ok and not after_ok:
                if cursor == walk.pos.second:
                    self.direction = "before"
                    return None
                self.direction = None
                return self._stopped(walk, None, gap=(walk.pos.second, max(secs)),
                                     reason="the feed's cursor changed direction mid-walk")
            if not before_ok and not after_ok:
                self.direction = None
                return self._stopped(walk, None, gap=(walk.pos.second, max(secs)),
                                     reason="the feed answered on both sides of its cursor")
            if not before_ok:
                self.direction = "after"
            walk.absorb(page)
            if not full:
                return self._done(walk, "after")
            if cursor not in secs:
                # A full page that skips the cursor's own second is not the window next to it.
                return self._stopped(walk, None, gap=(cursor, min(secs)),
                                     reason="the feed skipped ahead of its cursor")
            top = max(secs)
            if top == cursor:
                if limit < self.max_limit:
                    limit = min(limit * 2, self.max_limit)
                    continue
                # More than max_limit messages in one second: move past it, and say so.
                result = self._stopped(walk, "after", gap=(cursor, cursor), upto=cursor,
                                       reason=f"over {self.max_limit} messages share one second")
                result.position.update(created_at=_fmt(cursor + 1), ids=[])
                return result
            cursor, limit = top, self.page_size

    async def _read_down(self, walk: _Walk) -> FeedResult:
        """Read down from the newest message to the last seen second."""
        last = walk.pos.second
        cursor: int | None = None
        boundary = last  # a second known to hold a message the next full page must reach
        oldest: int | None = None
        limit = self.page_size
        while True:
            if walk.requests >= walk.budget:
                return self._stopped(walk, self.direction, capped=True, gap=(last, oldest),
                                     reason=f"request cap ({walk.budget}) reached")
            page, full = await self._fetch(walk, cursor, False, limit)
            secs = [s for s, _ in page]
            if full and not page:
                return self._stopped(walk, self.direction, gap=(last, oldest),
                                     reason="the feed's messages carry no dates")
            if cursor is not None and page:
                if max(secs) > cursor:
                    if min(secs) >= cursor and last is not None and not walk.tried_up:
                        # It answers "on and after" (a stale hint said otherwise): read up instead.
                        self.direction = "after"
                        result = await self._read_up(walk)
                        if result is not None:
                            return result
                    self.direction = None
                    return self._stopped(walk, None, gap=(last, oldest),
                                         reason="the feed ignored its cursor")
                if min(secs) < cursor:
                    self.direction = "before"
            walk.absorb(page)
            if not full:
                return self._done(walk, self.direction)
            if boundary is not None and max(secs) < boundary:
                # A full page that does not reach the second it was asked from is not the
                # window next to it (a server sorting the other way, say): there may be a hole.
                return self._stopped(walk, self.direction, gap=(last, min(secs)),
                                     reason="the feed answered a page that skips what was asked")
            if last is not None and min(secs) < last:
                return self._done(walk, self.direction)
            low = min(secs)
            if oldest is not None and low >= oldest:
                if limit < self.max_limit:
                    limit = min(limit * 2, self.max_limit)
                    continue
                return self._stopped(walk, self.direction, gap=(last, oldest),
                                     reason=f"over {self.max_limit} messages share one second")
            oldest, boundary = low, low
            cursor, limit = low + 1, self.page_size

    # -- results ---------------------------------------------------------------------------------

    def _done(self, walk: _Walk, direction: Direction | None) -> FeedResult:
        return FeedResult(walk.messages(), walk.position(direction).to_dict(), walk.requests, direction)

    def _stopped(self, walk: _Walk, direction: Direction | None, *, capped: bool = False, more: bool = False,
                 gap: tuple[int | None, int | None] | None = None, upto: int | None = None,
                 reason: str) -> FeedResult:
        pos = walk.position(direction, upto).to_dict()
        window = None
        if gap is not None:
            # The window's top is the oldest second read (or "now": everything after the start).
            top = gap[1] if gap[1] is not None else walk.position(direction).second
            window = (_at(gap[0]), _at(top) or datetime.now(timezone.utc))
        return FeedResult(walk.messages(upto), pos, walk.requests, direction, capped=capped, more=more,
                          gap=window, reason=reason)

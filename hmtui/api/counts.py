"""`POST /v1/conversations/count`: reading its answer, and whether its filters can be trusted.

The reference documents the endpoint as "the total number of conversations" with one body field,
`date`; no inbox, `closed` or `unread` filter is documented, and its sibling
`/v1/messages/all/count` answers a bare string. So the answer is read from a bare number, a
numeric string or an object with a count field, and a count asked for one inbox is taken to be
the **team-wide** total until the server has shown that it honours the filter:

- the inbox filter, once two inboxes' counts differ from each other and from the unfiltered count
  (a server that ignores it answers the same total to all three);
- `closed` / `unread`, once, with the inbox filter proven, some inbox's count with that filter
  differs from the same inbox's count without it.

Until then a badge must not use the count (it comes from list pages and the team-wide feed).
Proof is kept, never withdrawn: a server that filtered once is not expected to stop.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from hmtui.api.models import Id

# Keys an object-shaped answer might carry its count under, in order of preference.
_COUNT_KEYS = ("count", "total", "total_count", "conversations", "data")


def parse_count(value: object, *, _depth: int = 0) -> int | None:
    """A non-negative int from a bare number, a numeric string ("347", " 347 ") or an object with
    a count field ({"count": 347}, {"count": "347"}); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() and value >= 0 else None
    if isinstance(value, str):
        text = value.strip()
        return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None
    if isinstance(value, Mapping) and _depth == 0:
        for key in _COUNT_KEYS:
            if key in value:
                return parse_count(value[key], _depth=1)
    return None


# (inbox id or None for unfiltered, closed filter, unread filter)
Scope = tuple[Id | None, bool | None, bool | None]


@dataclass
class CountTrust:
    """What the count endpoint has shown about its filters; feed it every count it answers."""

    seen: dict[Scope, int] = field(default_factory=dict)
    inbox_filter: bool = False
    closed_filter: bool = False
    unread_filter: bool = False

    def observe(self, count: int, *, inbox_id: Id | None = None,
                closed: bool | None = None, unread: bool | None = None) -> None:
        self.seen[(inbox_id, closed, unread)] = count
        self._decide()

    def trusted(self, *, closed: bool | None = None, unread: bool | None = None) -> bool:
        """Whether a per-inbox count asked with these filters may feed a badge."""
        if not self.inbox_filter:
            return False
        if closed is not None and not self.closed_filter:
            return False
        if unread is not None and not self.unread_filter:
            return False
        return True

    def _decide(self) -> None:
        seen = self.seen
        if not self.inbox_filter:
            total = seen.get((None, None, None))
            per_inbox = {count for (inbox, c, u), count in seen.items() if inbox is not None and c is None and u is None}
            # Two inbox counts that differ from each other: at most one of them can equal the
            # total, so also demand that both differ from it.
            distinct = per_inbox - {total}
            self.inbox_filter = total is not None and len(distinct) >= 2
        if not self.inbox_filter:
            return
        for (inbox, closed, unread), count in seen.items():
            if inbox is None:
                continue
            if closed is not None and unread is None:
                base = seen.get((inbox, None, None))
                if base is not None and base != count:
                    self.closed_filter = True
            if unread is not None and closed is None:
                base = seen.get((inbox, None, None))
                if base is not None and base != count:
                    self.unread_filter = True
            if closed is not None and unread is not None:
                # Both filters at once prove each only against its one-filter sibling.
                if seen.get((inbox, closed, None), count) != count:
                    self.unread_filter = True
                if seen.get((inbox, None, unread), count) != count:
                    self.closed_filter = True


class CountSource(Protocol):
    async def count_conversations(self, *, inbox_id: Id | None = None, closed: bool | None = None,
                                  unread: bool | None = None, before: datetime | None = None) -> int: ...


async def probe_count_filters(source: CountSource, inbox_ids: Sequence[Id], *,
                              trust: CountTrust | None = None, max_inboxes: int = 3) -> CountTrust:
    """Ask just enough counts to learn whether the server filters them (at most 3 + `max_inboxes`
    requests): the team total, inboxes until two of them prove the inbox filter, then `closed`
    and `unread` for one of those. Failures propagate; what was learned stays in `trust`."""
    trust = trust if trust is not None else CountTrust()
    trust.observe(await source.count_conversations())
    asked: list[Id] = []
    for inbox_id in list(inbox_ids)[:max_inboxes]:
        trust.observe(await source.count_conversations(inbox_id=inbox_id), inbox_id=inbox_id)
        asked.append(inbox_id)
        if trust.inbox_filter:
            break
    if trust.inbox_filter:
        # Prefer an inbox whose count is not 0: a filter cannot show itself on an empty inbox.
        inbox_id = max(asked, key=lambda i: trust.seen.get((i, None, None), 0))
        trust.observe(await source.count_conversations(inbox_id=inbox_id, closed=False),
                      inbox_id=inbox_id, closed=False)
        trust.observe(await source.count_conversations(inbox_id=inbox_id, unread=True),
                      inbox_id=inbox_id, unread=True)
    return trust

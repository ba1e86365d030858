"""Paging back through a newest-first collection whose cursor is a time bound.

Heymarket pages conversations by `date` and messages by `timestamp` ("only items before it"), and
does not say whether the bound is inclusive or exclusive, nor in which order a page comes back.
`Pager` works whichever way the server behaves:

- Each page is absorbed as a set: its order does not matter, its oldest item moves the cursor,
  and items are deduplicated by id, so none is yielded twice.
- The next bound is one second past the oldest second seen. Under an exclusive cursor that
  re-asks for the whole oldest second, so items sharing that second across a page boundary are
  not lost; under an inclusive one it costs a few repeats that dedupe drops.
- When a page brings nothing new (a run of same-second items at least a page long, or the true
  end), it steps the bound down a second at a time, at most twice, before it concludes the
  history is exhausted. An empty page ends it at once. So it can never loop forever.
- A date far outside the rest of its page (a message dated 1970 among this week's, a zero time,
  a year 2999) is suspect: the item is still yielded, but it never moves the cursor, which
  follows the oldest *trusted* date of the page. Jumping to an outlier would skip everything
  between it and the page, and then call the history complete. Not trusting a genuine old date
  costs at most a request or two: the step-down asks below the trusted cursor anyway.
- `complete` says the history is known to be exhausted: an empty page, or nothing new after the
  step-down below the trusted cursor. Giving up (undated items, a hostile server) exhausts the
  pager without making it complete, so a cache never records such a thread as whole.
"""

from __future__ import annotations

import math
from datetime import datetime
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

from hmtui.api.id_index import IdSet
from hmtui.api.models import Id, sort_key_newest_first

T = TypeVar("T")

Fetch = Callable[[int | None], Awaitable[Sequence[T]]]

# A server that keeps producing fresh items at the same second (or a hostile one) must not keep us
# at one cursor; after this many passes at the same second we only step down.
_MAX_PASSES_AT_ONE_SECOND = 2
# ...and after this many fresh pages without the oldest second moving at all, it gives up.
_GIVE_UP_PASSES = 100
# A date is suspect when it lies beyond the page's middle half (its quartiles) by more than
# OUTLIER_FACTOR interquartile ranges, and by more than OUTLIER_MIN_GAP seconds (so a page whose
# dates are all one second does not make its neighbours suspect).
OUTLIER_FACTOR = 5.0
OUTLIER_MIN_GAP = 7 * 86_400.0
# Fewer dates than this say nothing about what is far from them.
_MIN_DATES_FOR_OUTLIERS = 4


def suspect_times(times: Sequence[float]) -> set[int]:
    """Indexes of the dates in `times` (Unix seconds) that lie far outside the others.

    Quartiles are robust: up to a quarter of a page can be wrong at either end without moving
    them, whatever the wrong dates are (1970, the zero time 0001-01-01, the far future).
    """
    if len(times) < _MIN_DATES_FOR_OUTLIERS:
        return set()
    ordered = sorted(times)
    n = len(ordered)
    q1, q3 = ordered[(n - 1) // 4], ordered[(3 * (n - 1)) // 4]
    reach = max(OUTLIER_FACTOR * (q3 - q1), OUTLIER_MIN_GAP)
    low, high = q1 - reach, q3 + reach
    return {i for i, t in enumerate(times) if t < low or t > high}


def trusted_oldest(times: Sequence[float]) -> float | None:
    """The oldest of `times` that is not suspect (None for no dates)."""
    suspects = suspect_times(times)
    trusted = [t for i, t in enumerate(times) if i not in suspects]
    return min(trusted) if trusted else None


class Pager(Generic[T]):
    """Walks a collection from newest to oldest, one fetch at a time.

    `fetch(bound)` returns one page of items older than `bound` (Unix seconds; None for the
    newest page). `older()` returns the next batch of unseen items, newest first, and is what a
    lazy-loading view calls when it nears the top; `newer()` fetches what arrived since.
    """

    def __init__(
        self,
        fetch: Fetch[T],
        *,
        item_id: Callable[[T], Id],
        item_time: Callable[[T], datetime | None],
    ) -> None:
        self._fetch = fetch
        self._item_id = item_id
        self._item_time = item_time
        self._seen = IdSet()  # compact: a thread's whole history of ids is kept
        self._oldest: float | None = None  # Unix seconds of the oldest item seen
        self._passes_at_oldest = 0
        self._started = False
        self.exhausted = False
        # Exhausted on evidence (see the module docstring); only then may a cache call it whole.
        self.complete = False
        self.requests = 0

    @property
    def seen_count(self) -> int:
        return len(self._seen)

    @property
    def oldest(self) -> float | None:
        return self._oldest

    def resume(self, ids: Sequence[Id], oldest: float | None) -> None:
        """Continue from items already known (a cache), as if they had been fetched. `oldest` is
        the cursor to continue from: the oldest *trusted* date known (Store.thread_state's
        `cursor`), not merely the oldest, or one outlier in the cache would end the history."""
        self._seen.update(ids)
        if oldest is not None and (self._oldest is None or oldest < self._oldest):
            self._oldest = oldest
        self._started = self._started or bool(ids)

    async def older(self) -> list[T]:
        """The next batch of items not seen before, newest first; [] once exhausted."""
        if self.exhausted:
            return []
        if not self._started:
            self._started = True
            page = await self._get(None)
            fresh = self._absorb(page)
            if not fresh:
                self.exhausted = True
                self.complete = not page
            return fresh
        if self._oldest is None:
            self.exhausted = True
            return []
        if self._passes_at_oldest >= _GIVE_UP_PASSES:
            self.exhausted = True
            return []
        base = math.floor(self._oldest)
        rungs = [base + 1, base, base - 1]
        if self._passes_at_oldest >= _MAX_PASSES_AT_ONE_SECOND:
            rungs = rungs[1:]
        for bound in rungs:
            if bound <= 0:
                self.exhausted = True  # a cursor at 1970 is no evidence of the end
                return []
            page = await self._get(bound)
            if not page:
                break
            fresh = self._absorb(page)
            if fresh:
                return fresh
        # An empty page, or nothing new even below the trusted cursor's second: the end.
        self.exhausted = self.complete = True
        return []

    async def newer(self) -> list[T]:
        """Items that arrived since the newest one seen, newest first.

        Starts from the newest page and walks back until a page touches what was already known,
        so a burst of more than a page of new items leaves no gap.
        """
        if not self._started:
            return await self.older()
        fresh_all: list[T] = []
        walked: set[Hashable] = set()
        bound: int | None = None
        for _ in range(10_000):
            page = await self._get(bound)
            if not page:
                break
            touched_known = any(
                (key := self._item_id(item)) in self._seen and key not in walked for item in page
            )
            fresh = self._absorb(page, move_oldest=self._oldest is None)
            walked.update(self._item_id(item) for item in fresh)
            fresh_all.extend(fresh)
            oldest = trusted_oldest([t.timestamp() for t in map(self._item_time, page) if t is not None])
            if touched_known or not fresh or oldest is None:
                break
            bound = math.floor(oldest) + 1
        return self._sorted(fresh_all)

    async def __aiter__(self) -> AsyncIterator[T]:
        while not self.exhausted:
            for item in await self.older():
                yield item

    async def _get(self, bound: int | None) -> Sequence[T]:
        self.requests += 1
        return await self._fetch(bound)

    def _absorb(self, page: Sequence[T], *, move_oldest: bool = True) -> list[T]:
        fresh: list[T] = []
        for item in page:
            key = self._item_id(item)
            if key in self._seen:
                continue
            self._seen.add(key)
            fresh.append(item)
        if move_oldest:
            # The whole page (seen items too) is the evidence of what is far; only its fresh,
            # trusted dates move the cursor.
            dated = [(item, t.timestamp()) for item in page if (t := self._item_time(item)) is not None]
            suspects = suspect_times([t for _, t in dated])
            fresh_ids = {id(item) for item in fresh}
            times = [t for i, (item, t) in enumerate(dated) if i not in suspects and id(item) in fresh_ids]
            if times:
                oldest = min(times)
                if self._oldest is None or math.floor(oldest) < math.floor(self._oldest):
                    self._passes_at_oldest = 0
                else:
                    self._passes_at_oldest += 1
                if self._oldest is None or oldest < self._oldest:
                    self._oldest = oldest
            elif fresh and self._oldest is not None:
                # Only suspects were new: a pass that did not move the cursor (bounded too).
                self._passes_at_oldest += 1
        return self._sorted(fresh)

    def _sorted(self, items: list[T]) -> list[T]:
        return sorted(items, key=lambda item: sort_key_newest_first(self._item_time(item), self._item_id(item)))

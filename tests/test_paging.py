"""The Pager against an in-memory server that can take every undocumented behaviour."""

import math
import random
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from hmtui.api.paging import Pager


@dataclass(frozen=True)
class Item:
    id: int
    time: datetime | None


class MemoryServer:
    """Newest `page_size` items before a bound (inclusive or exclusive), in a chosen order."""

    def __init__(self, items, *, page_size=50, cursor="exclusive", order="newest", seed=1):
        self.items = sorted(items, key=lambda i: (i.time.timestamp(), i.id))
        self.page_size, self.cursor, self.order = page_size, cursor, order
        self.rng = random.Random(seed)
        self.requests: list[int | None] = []

    async def fetch(self, bound):
        self.requests.append(bound)
        if bound is None:
            eligible = self.items
        elif self.cursor == "exclusive":
            eligible = [i for i in self.items if math.floor(i.time.timestamp()) < bound]
        else:
            eligible = [i for i in self.items if math.floor(i.time.timestamp()) <= bound]
        page = eligible[-self.page_size:]
        if self.order == "newest":
            page = page[::-1]
        elif self.order == "shuffled":
            page = page[:]
            self.rng.shuffle(page)
        return page

    def pager(self):
        return Pager(self.fetch, item_id=lambda i: i.id, item_time=lambda i: i.time)


def at(second: float) -> datetime:
    return datetime.fromtimestamp(second, timezone.utc)


def tied_items(count: int, *, seed: int = 3, max_tie: int = 6, start: int = 1_700_000_000) -> list[Item]:
    """Items walking back in time, with runs of up to `max_tie` sharing one second."""
    rng = random.Random(seed)
    items, second, next_id = [], start, 1
    while len(items) < count:
        for _ in range(min(rng.choice([1, 1, 1, 2, 3, max_tie]), count - len(items))):
            items.append(Item(next_id, at(second)))
            next_id += 1
        second -= rng.randint(1, 90)
    return items


def tie_at_every_boundary(page_size: int, pages: int) -> list[Item]:
    """A run of 4 same-second items straddling each page boundary (newest-first pages)."""
    items, second, next_id = [], 1_700_000_000, 1
    for _ in range(pages):
        for _ in range(page_size - 4):
            items.append(Item(next_id, at(second)))
            next_id += 1
            second -= 5
        for _ in range(4):
            items.append(Item(next_id, at(second)))
            next_id += 1
        second -= 5
    return items


async def collect(pager):
    return [item async for item in pager]


@pytest.mark.parametrize("cursor", ["exclusive", "inclusive"])
@pytest.mark.parametrize("order", ["newest", "oldest", "shuffled"])
@pytest.mark.parametrize("make", [lambda: tied_items(1234), lambda: tie_at_every_boundary(20, 12)], ids=["random-ties", "boundary-ties"])
async def test_every_item_once_newest_first(cursor, order, make) -> None:
    items = make()
    server = MemoryServer(items, page_size=20, cursor=cursor, order=order)
    got = await collect(server.pager())
    assert sorted(i.id for i in got) == sorted(i.id for i in items)  # none lost, none twice
    times = [i.time for i in got]
    assert times == sorted(times, reverse=True)
    # Never far from the minimum number of requests.
    assert len(server.requests) <= math.ceil(len(items) / 20) * 1.3 + 3


async def test_exclusive_cursor_costs_little_more_than_the_minimum() -> None:
    items = tied_items(20_000, max_tie=4)
    server = MemoryServer(items, page_size=50, cursor="exclusive")
    got = await collect(server.pager())
    assert len(got) == 20_000
    assert len(server.requests) / math.ceil(20_000 / 50) <= 1.1


async def test_a_tie_longer_than_a_page_ends_without_looping() -> None:
    items = [Item(i, at(1_700_000_000)) for i in range(1, 31)] + [Item(100 + i, at(1_600_000_000 - i)) for i in range(10)]
    for cursor in ("exclusive", "inclusive"):
        server = MemoryServer(items, page_size=10, cursor=cursor)
        got = await collect(server.pager())
        ids = [i.id for i in got]
        assert len(ids) == len(set(ids))
        # The API cannot reach past the first page of a 30-long tie, but what lies older is found.
        assert {100 + i for i in range(10)} <= set(ids)
        assert len(server.requests) < 20


async def test_a_server_that_ignores_the_cursor_cannot_loop() -> None:
    page = [Item(i, at(1_700_000_000 - i)) for i in range(10)]

    async def fetch(bound):
        return page

    pager = Pager(fetch, item_id=lambda i: i.id, item_time=lambda i: i.time)
    assert len(await collect(pager)) == 10
    assert pager.requests <= 4


async def test_a_hostile_server_inventing_items_at_one_second_is_bounded() -> None:
    counter = iter(range(10**9))

    async def fetch(bound):
        return [Item(next(counter), at(1_700_000_000)) for _ in range(5)]

    pager = Pager(fetch, item_id=lambda i: i.id, item_time=lambda i: i.time)
    got = await collect(pager)
    assert pager.exhausted and pager.requests < 300 and len(got) < 1000


async def test_empty_history_is_one_request() -> None:
    server = MemoryServer([], page_size=10)
    pager = server.pager()
    assert await collect(pager) == []
    assert server.requests == [None]


async def test_older_is_one_step_per_call_for_lazy_loading() -> None:
    items = tied_items(100)
    server = MemoryServer(items, page_size=25)
    pager = server.pager()
    first = await pager.older()
    assert len(first) == 25 and len(server.requests) == 1
    second = await pager.older()
    assert len(server.requests) == 2
    assert first[-1].time >= second[0].time
    assert not {i.id for i in first} & {i.id for i in second}


async def test_items_without_a_time_do_not_break_paging() -> None:
    items = [Item(1, None), Item(2, at(1_700_000_000)), Item(3, at(1_699_999_000))]

    async def fetch(bound):
        return [i for i in items if bound is None or (i.time and i.time.timestamp() < bound)]

    got = await collect(Pager(fetch, item_id=lambda i: i.id, item_time=lambda i: i.time))
    assert sorted(i.id for i in got) == [1, 2, 3]


@pytest.mark.parametrize("cursor", ["exclusive", "inclusive"])
async def test_newer_brings_what_arrived_without_gaps(cursor) -> None:
    items = tied_items(300)
    server = MemoryServer(items, page_size=20, cursor=cursor, order="shuffled")
    pager = server.pager()
    await collect(pager)
    newest = max(i.time.timestamp() for i in items)
    # A burst of more than a page arrives, with ties.
    burst = [Item(10_000 + n, at(newest + 1 + n // 3)) for n in range(47)]
    server.items += burst
    got = await pager.newer()
    assert sorted(i.id for i in got) == sorted(i.id for i in burst)
    assert await pager.newer() == []

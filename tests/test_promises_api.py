"""README promises of the API layer that no other test pinned down (issue 14: seeded one by one).

Each test names the README sentence it holds the code to; /work/notes/promises.md lists the bug
seeded for each.
"""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from hmtui.api import ForbiddenError, HeymarketClient, NotFoundError, ServerError
from hmtui.api.paging import Pager
from hmtui.api.retry import RetryPolicy, parse_retry_after

from helpers import CREDS, FakeClock, RecordingSleep, json_response, mock_client


def script(*responses):
    """A handler answering with each response in turn, then []; it records every request."""
    queue = list(responses)
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        item = queue.pop(0) if queue else json_response([])
        if isinstance(item, Exception):
            raise item
        return item

    handler.calls = calls  # type: ignore[attr-defined]
    return handler


def html_500() -> httpx.Response:
    return httpx.Response(500, content=b"<html>500</html>", headers={"Content-Type": "text/html"})


# -- "reads retry up to 5 tries" ------------------------------------------------------------------


async def test_a_client_with_the_default_policy_makes_5_tries_in_all() -> None:
    assert RetryPolicy().attempts == 5
    handler = script(*[html_500() for _ in range(20)])
    sleep = RecordingSleep()
    client = HeymarketClient(CREDS, base_url="https://api.example.invalid", transport=httpx.MockTransport(handler),
                             clock=FakeClock(), sleep=sleep)
    async with client:
        with pytest.raises(ServerError):
            await client.inboxes()
    assert len(handler.calls) == 5 and len(sleep.delays) == 4


# -- "honouring Retry-After, capped at 60 s" -------------------------------------------------------


async def test_a_long_retry_after_is_waited_only_60_s_with_the_default_policy() -> None:
    sleep = RecordingSleep()
    handler = script(json_response({}, 429, **{"Retry-After": "3600"}), json_response([{"id": 1}]))
    async with mock_client(handler, sleep=sleep) as client:
        assert [i.id for i in await client.inboxes()] == [1]
    assert sleep.delays == [60.0]
    assert RetryPolicy().delay(1, 3600) == 60.0


def test_a_retry_after_date_in_the_past_means_now() -> None:
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:30 GMT", now=100) == 0.0


# -- "otherwise exponential backoff with jitter, capped at 20 s" ----------------------------------


async def test_backoff_without_retry_after_never_exceeds_20_s() -> None:
    sleep = RecordingSleep()
    handler = script(*[json_response({}, 429) for _ in range(11)], json_response([]))
    async with mock_client(handler, sleep=sleep, attempts=12) as client:
        await client.inboxes()
    assert len(sleep.delays) == 11
    assert max(sleep.delays) <= 20.0
    # ...and the cap is reached: from the 7th retry on the ceiling is 20 s, so at least half of it.
    assert all(10.0 <= delay <= 20.0 for delay in sleep.delays[6:])


# -- "Open, close, read and unread set a state, so they retry like reads" -------------------------


@pytest.mark.parametrize("action", ["open", "close", "mark_read", "mark_unread"])
async def test_every_state_setting_action_retries_after_a_5xx(action) -> None:
    handler = script(html_500(), httpx.ReadTimeout("slow"), httpx.Response(200, text="ok"))
    async with mock_client(handler) as client:
        await getattr(client, action)(1, 2, "14155550100")
    assert len(handler.calls) == 3


# -- 403 and 404 are not in the README's list of what is retried -----------------------------------


@pytest.mark.parametrize("status, error", [(403, ForbiddenError), (404, NotFoundError)])
async def test_403_and_404_are_not_retried(status, error) -> None:
    handler = script(*[json_response({"message": "no"}, status) for _ in range(5)])
    async with mock_client(handler) as client:
        with pytest.raises(error):
            await client.inboxes()
    assert len(handler.calls) == 1


# -- Paging: "An empty page ends it." -------------------------------------------------------------


async def test_an_empty_page_ends_the_history_at_once() -> None:
    first = [(n, datetime.fromtimestamp(1_700_000_000 - n * 10, timezone.utc)) for n in range(10)]
    bounds: list[int | None] = []

    async def fetch(bound):
        bounds.append(bound)
        return first if bound is None else []

    pager = Pager(fetch, item_id=lambda i: i[0], item_time=lambda i: i[1])
    got = [item async for item in pager]
    assert len(got) == 10
    # The newest page, then one older page that came back empty: nothing more is asked for.
    assert len(bounds) == 2 and pager.exhausted


# -- Found by mutmut on hmtui/api/retry.py: Retry-After read exactly ------------------------------


async def test_retry_after_0_means_retry_at_once() -> None:
    assert parse_retry_after("0", now=0) == 0.0
    assert parse_retry_after("0.5", now=0) == 0.5
    sleep = RecordingSleep()
    handler = script(json_response({}, 429, **{"Retry-After": "0"}), json_response([]))
    async with mock_client(handler, sleep=sleep) as client:
        await client.inboxes()
    assert sleep.delays == [0.0]


def test_a_retry_after_date_without_a_zone_is_utc(monkeypatch) -> None:
    import time

    monkeypatch.setenv("TZ", "America/Los_Angeles")  # a naive date must not be read as local time
    time.tzset()
    try:
        assert parse_retry_after("Thu, 01 Jan 1970 00:00:30 -0000", now=10) == 20.0
        assert parse_retry_after("Thu, 01 Jan 1970 00:00:30 GMT", now=10) == 20.0
    finally:
        monkeypatch.undo()
        time.tzset()


def test_backoff_is_half_fixed_half_random() -> None:
    class Extreme:
        def __init__(self, pick_high: bool) -> None:
            self.pick_high = pick_high

        def uniform(self, low: float, high: float) -> float:
            return high if self.pick_high else low

    for retry, ceiling in [(1, 0.5), (3, 2.0), (10, 20.0)]:
        assert RetryPolicy(rng=Extreme(True)).backoff(retry) == ceiling  # type: ignore[arg-type]
        assert RetryPolicy(rng=Extreme(False)).backoff(retry) == ceiling / 2  # type: ignore[arg-type]


# -- Found by mutmut on hmtui/api/paging.py --------------------------------------------------------


async def test_an_empty_history_is_exhausted_after_its_one_request() -> None:
    bounds: list[int | None] = []

    async def fetch(bound):
        bounds.append(bound)
        return []

    pager = Pager(fetch, item_id=lambda i: i[0], item_time=lambda i: i[1])
    assert await pager.older() == []
    assert pager.exhausted and bounds == [None]  # a lazy view asks no more


async def test_refreshes_between_pages_never_lose_items_sharing_a_second_at_the_boundary() -> None:
    """ "items sharing a second across a page boundary are never lost", even when `newer()`
    refreshes ran between two `older()` pages (the TUI's background refresh does exactly that)."""
    base = 1_700_000_000
    # 10 items per page; items 8..13 share one second, straddling the first page boundary.
    times = {n: base - n * 10 for n in range(0, 8)}
    times.update({n: base - 100 for n in range(8, 14)})
    times.update({n: base - 100 - (n - 13) * 10 for n in range(14, 30)})
    items = [(n, datetime.fromtimestamp(t, timezone.utc)) for n, t in times.items()]

    async def fetch(bound):  # exclusive cursor, newest first
        eligible = [i for i in items if bound is None or i[1].timestamp() < bound]
        return sorted(eligible, key=lambda i: (-i[1].timestamp(), i[0]))[:10]

    pager = Pager(fetch, item_id=lambda i: i[0], item_time=lambda i: i[1])
    got = await pager.older()
    for burst in range(3):  # three refreshes, each bringing one new message
        new = (100 + burst, datetime.fromtimestamp(base + 10 * (burst + 1), timezone.utc))
        items.append(new)
        assert [i[0] for i in await pager.newer()] == [new[0]]
    while not pager.exhausted:
        got += await pager.older()
    assert sorted(i[0] for i in got) == list(range(30))

"""Issue 15, items 5 and 16: one mis-dated message cannot cut a history short (nor mark it
complete in the cache), and the fake server's request log stays bounded."""

from __future__ import annotations

import json
import math
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx
import jwt
import pytest

from hmtui.api.models import Message
from hmtui.api.paging import Pager, suspect_times, trusted_oldest
from hmtui.cache import Store, store_path
from hmtui.cache import schema as cache_schema
from hmtui.fake import LONG_THREAD_INBOX, LONG_THREAD_TARGET

from conftest import env_for, run_cli

T0 = 1_750_000_000
EPOCH_1970 = datetime(1970, 1, 1, tzinfo=timezone.utc)
ZERO_TIME = datetime(1, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Item:
    id: int
    time: datetime | None


def at(second: float) -> datetime:
    return datetime.fromtimestamp(second, timezone.utc)


class OutlierServer:
    """Newest-first pages of `page_size` under an exclusive bound, ordered by each item's *true*
    second, while the date the item carries may be a lie (as a server sorting on another field
    would show it)."""

    def __init__(self, count: int, *, page_size: int = 50, liars: dict[int, datetime] | None = None,
                 step: int = 60) -> None:
        self.true = {i: T0 - i * step for i in range(1, count + 1)}  # id 1 is the newest
        self.liars = liars or {}
        self.page_size = page_size
        self.bounds: list[int | None] = []

    def item(self, i: int) -> Item:
        return Item(i, self.liars.get(i, at(self.true[i])))

    async def fetch(self, bound: int | None) -> list[Item]:
        self.bounds.append(bound)
        ids = [i for i in sorted(self.true) if bound is None or self.true[i] < bound]
        return [self.item(i) for i in ids[: self.page_size]]

    def pager(self) -> Pager[Item]:
        return Pager(self.fetch, item_id=lambda i: i.id, item_time=lambda i: i.time)


async def collect(pager: Pager[Item]) -> list[Item]:
    return [item async for item in pager]


# -- the pager ------------------------------------------------------------------------------------


@pytest.mark.parametrize("liar", [EPOCH_1970, ZERO_TIME, datetime(2999, 1, 1, tzinfo=timezone.utc)],
                         ids=["1970", "zero-time", "year-2999"])
@pytest.mark.parametrize("position", [10, 50], ids=["mid-page", "page-end"])
async def test_one_outlier_in_the_first_page_loses_nothing(liar, position) -> None:
    server = OutlierServer(1000, liars={position: liar})
    pager = server.pager()
    got = await collect(pager)
    assert sorted(i.id for i in got) == list(range(1, 1001))  # none lost, none twice
    assert pager.exhausted and pager.complete
    # The outlier never became the cursor: no bound jumped to 1970 (or before).
    assert all(b is None or b > T0 - 2000 * 60 for b in server.bounds)
    assert len(server.bounds) <= math.ceil(1000 / 50) + 4


async def test_an_outlier_in_every_page_still_reaches_the_end() -> None:
    liars = {i: EPOCH_1970 for i in range(7, 1000, 50)}  # one in every page
    server = OutlierServer(1000, liars=liars)
    got = await collect(server.pager())
    assert len({i.id for i in got}) == 1000


async def test_a_genuinely_old_message_at_the_end_still_completes() -> None:
    # The oldest message really is from long ago (and served last): the history still ends, complete.
    server = OutlierServer(120, step=60)
    server.true[121] = 100_000  # 1970-01-02, served last because it is the oldest
    pager = server.pager()
    got = await collect(pager)
    assert len(got) == 121 and pager.complete


async def test_newer_does_not_jump_past_a_gap_on_an_outlier() -> None:
    server = OutlierServer(200, page_size=20)
    pager = server.pager()
    await pager.older()  # ids 1..20 known
    # 60 new messages arrive (more than a page), one of them mis-dated in the first new page.
    for n in range(1, 61):
        server.true[-n] = T0 + n * 60
    server.liars[-55] = EPOCH_1970
    newer = await pager.newer()
    assert {i.id for i in newer} == {-n for n in range(1, 61)}


async def test_giving_up_is_exhausted_but_not_complete() -> None:
    counter = iter(range(10**9))

    async def hostile(bound):
        return [Item(next(counter), at(T0)) for _ in range(5)]

    pager = Pager(hostile, item_id=lambda i: i.id, item_time=lambda i: i.time)
    await collect(pager)
    assert pager.exhausted and not pager.complete

    async def undated(bound):
        return [Item(1, None), Item(2, None)]

    pager = Pager(undated, item_id=lambda i: i.id, item_time=lambda i: i.time)
    await collect(pager)
    assert pager.exhausted and not pager.complete


async def test_outlier_only_pages_are_bounded() -> None:
    counter = iter(range(10**9))
    core = [Item(-i, at(T0 - i)) for i in range(10)]

    async def fetch(bound):  # the same core, plus a fresh 1970 item every time
        return [*core, Item(next(counter), EPOCH_1970)]

    pager = Pager(fetch, item_id=lambda i: i.id, item_time=lambda i: i.time)
    await collect(pager)
    assert pager.exhausted and pager.requests < 400


async def test_an_empty_thread_is_complete() -> None:
    async def fetch(bound):
        return []

    pager = Pager(fetch, item_id=lambda i: i.id, item_time=lambda i: i.time)
    assert await collect(pager) == [] and pager.complete


def test_suspects_are_far_dates_only() -> None:
    week = [T0 - i * 3600 for i in range(50)]
    assert suspect_times(week) == set()
    assert suspect_times([*week[:10], 0.0, *week[10:]]) == {10}
    assert suspect_times([*week, ZERO_TIME.timestamp(), 32503680000.0]) == {50, 51}
    assert suspect_times([float(T0)] * 50) == set()  # one second, no spread: nothing is far
    monthly = [T0 - i * 30 * 86400 for i in range(50)]  # a slow thread over four years
    assert suspect_times(monthly) == set()
    assert suspect_times([float(T0), 0.0]) == set()  # too few dates to judge
    assert trusted_oldest([*week, 0.0]) == min(week)
    assert trusted_oldest([]) is None


# -- the cache ------------------------------------------------------------------------------------


def message(i: int, date: str) -> Message:
    m = Message.from_raw({"id": i, "date": date, "text": f"m{i}"})
    assert m is not None
    return m


def test_the_resume_cursor_ignores_an_outlier_in_the_cache(tmp_path: Path) -> None:
    store = Store.open("https://api.heymarket.com", "acct", directory=tmp_path)
    messages = [message(i, at(T0 - i * 60).strftime("%Y-%m-%dT%H:%M:%SZ")) for i in range(1, 51)]
    messages.append(message(999, "1970-01-01T00:00:00Z"))
    store.put_messages(1, "15551230000", messages)
    state = store.thread_state(1, "15551230000")
    assert state.oldest == 0.0  # the raw minimum is still there for whoever wants it
    assert state.cursor == T0 - 50 * 60  # ...but a pager resumes from the trusted one
    store.close()


async def test_a_pager_resumed_from_the_cache_continues_past_an_outlier(tmp_path: Path) -> None:
    server = OutlierServer(300, liars={20: EPOCH_1970})
    first = await server.pager().older()
    store = Store.open("https://api.heymarket.com", "acct", directory=tmp_path)
    store.put_messages(1, "t", [message(i.id, i.time.strftime("%Y-%m-%dT%H:%M:%SZ")) for i in first])
    state = store.thread_state(1, "t")
    pager = server.pager()
    pager.resume(store.message_ids(1, "t"), state.cursor)
    rest = await collect(pager)
    assert len(first) + len(rest) == 300 and pager.complete
    store.close()


def test_threads_marked_complete_by_an_older_version_are_checked_again(tmp_path: Path) -> None:
    path = store_path("https://api.heymarket.com", "acct", tmp_path)
    tmp_path.mkdir(exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    cache_schema.migrate(conn, cache_schema.MIGRATIONS[:2])
    conn.execute("INSERT INTO threads (inbox_id, target, complete) VALUES (1, 't', 1)")
    conn.close()
    store = Store.open("https://api.heymarket.com", "acct", directory=tmp_path)
    assert store.thread_state(1, "t").complete is False
    store.mark_thread_complete(1, "t")
    store.close()
    store = Store.open("https://api.heymarket.com", "acct", directory=tmp_path)
    assert store.thread_state(1, "t").complete is True  # the migration runs once
    store.close()


# -- end to end: `hmtui history` against the fake server ---------------------------------------------


def test_history_of_the_long_thread_with_a_1970_message_is_whole(server, isolated_env, tmp_path) -> None:
    thread = server.data.messages_for(LONG_THREAD_INBOX, LONG_THREAD_TARGET)
    total = len(thread)
    assert total > 20_000
    liar = thread[-10]  # in the newest page; the fake keeps serving it there (its index is by true date)
    liar["date"] = "1970-01-01T00:00:00Z"
    env = env_for(server, isolated_env)
    result = run_cli("history", "--inbox", str(LONG_THREAD_INBOX), "--phone", LONG_THREAD_TARGET, "--json", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    got = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(got) == total and len({m["id"] for m in got}) == total
    assert any(m["id"] == liar["id"] and m["date"].startswith("1970") for m in got)
    cache = Store.open(server.url, server.secret_id, directory=tmp_path / "cache" / "hmtui")
    state = cache.thread_state(LONG_THREAD_INBOX, LONG_THREAD_TARGET)
    assert state.count == total and state.complete  # complete, and rightly so: all of it is there
    cache.close()


def test_history_that_gives_up_does_not_mark_the_thread_complete(server, isolated_env, tmp_path) -> None:
    # Every message undated: the pager can only give up after the first page.
    for m in server.data.messages_for(LONG_THREAD_INBOX, LONG_THREAD_TARGET)[-50:]:
        m["date"] = "not a date"
    env = env_for(server, isolated_env)
    server.options.message_page_size = 50
    result = run_cli("history", "--inbox", str(LONG_THREAD_INBOX), "--phone", LONG_THREAD_TARGET, "--json", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    cache = Store.open(server.url, server.secret_id, directory=tmp_path / "cache" / "hmtui")
    state = cache.thread_state(LONG_THREAD_INBOX, LONG_THREAD_TARGET)
    assert state.count == 50 and not state.complete
    cache.close()


# -- item 16: the fake server's request log -----------------------------------------------------------


def test_the_request_log_is_bounded_and_counts_stay_exact(server) -> None:
    limit = server.requests.maxlen
    assert limit is not None and limit <= 10_000  # a demo left open all day cannot grow without end
    server.requests = type(server.requests)(maxlen=40)  # a small bound, so the test makes few requests
    token = jwt.encode({"iss": server.secret_id, "iat": int(time.time())},
                       f"{server.secret_id}||{server.secret_key}", algorithm="HS256")
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http:
        for _ in range(150):
            assert http.get("/v1/team").status_code == 200
        assert http.get("/v1/inboxes").status_code == 200
    assert len(server.requests) == 40
    assert server.counts["GET /v1/team"] == 150 and server.counts["GET /v1/inboxes"] == 1
    assert server.requests[-1].path == "/v1/inboxes"  # the newest are kept
    assert sum(1 for r in server.requests if r.path == "/v1/team") == 39

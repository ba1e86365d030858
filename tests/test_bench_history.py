"""`hmtui.workspace.history.load_history`: the whole history, pipelined, against the fake server's
paged thread (`add_huge_thread` at a small size), in both profiles.

Everything is counted (requests, batches, cache writes, messages), nothing timed.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from hmtui.api import Credentials, HeymarketClient, Message, RetryPolicy
from hmtui.cache import Store, StoreWriter
from hmtui.fake import HUGE_THREAD_INBOX as INBOX, HUGE_THREAD_TARGET as TARGET, FakeHeymarket, Fault
from hmtui.workspace import history
from hmtui.workspace.history import HistoryResult, Progress, load_history

from conftest import huge_server

from helpers import RecordingSleep

SIZE = 3_000  # the paged thread at a --quick-like size: 60 pages of 50


@pytest.fixture
def huge(make_server: Callable[..., FakeHeymarket]) -> Iterator[FakeHeymarket]:
    yield from huge_server(make_server, SIZE)


def client_for(server: FakeHeymarket) -> HeymarketClient:
    return HeymarketClient(Credentials(server.secret_id, server.secret_key), base_url=server.url,
                           retry=RetryPolicy(attempts=2), timeout=httpx.Timeout(30.0), sleep=RecordingSleep())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open("https://api.heymarket.test", "history", directory=tmp_path)
    yield store
    store.close()


def expected_ids(server: FakeHeymarket) -> list[int]:
    """The thread's ids newest first, as the API serves them."""
    return [m["id"] for m in reversed(list(server.data.messages_for(INBOX, TARGET)))]


class Recorder:
    """The view's side: every batch, and the pager's request count when it was handed over."""

    def __init__(self, pager: object | None = None) -> None:
        self.batches: list[list[Message]] = []
        self.requests_at: list[int] = []
        self.progress: list[Progress] = []
        self.pager = pager
        self.hook: Callable[[Recorder], None] | None = None

    def __call__(self, batch: object) -> None:
        self.batches.append(list(batch))  # type: ignore[call-overload]
        if self.pager is not None:
            self.requests_at.append(self.pager.requests)  # type: ignore[attr-defined]
        if self.hook is not None:
            self.hook(self)

    @property
    def ids(self) -> list[object]:
        return [m.id for batch in self.batches for m in batch]


async def reference_requests(server: FakeHeymarket) -> int:
    """What a plain Pager walk of the whole thread asks of this server."""
    async with client_for(server) as client:
        pager = client.message_pager(INBOX, TARGET)
        while not pager.exhausted:
            await pager.older()
        return pager.requests


async def test_the_whole_thread_comes_once_each_in_as_many_requests_as_a_plain_walk(huge: FakeHeymarket) -> None:
    walk = await reference_requests(huge)
    before = huge.counts["GET /v1/messages"]
    async with client_for(huge) as client:
        pager = client.message_pager(INBOX, TARGET)
        seen = Recorder(pager)
        result = await load_history(pager, inbox_id=INBOX, target=TARGET, on_batch=seen, on_progress=seen.progress.append)
    assert seen.ids == expected_ids(huge)  # newest first: no duplicate, no gap, nothing extra
    assert result == HistoryResult(loaded=SIZE, from_cache=0, from_server=SIZE, requests=walk, complete=True)
    assert huge.counts["GET /v1/messages"] - before == walk >= math.ceil(SIZE / 50)
    assert pager.exhausted and pager.complete
    assert seen.progress[-1] == Progress(SIZE, None, walk, 0, "done")
    assert [p.loaded for p in seen.progress] == sorted(p.loaded for p in seen.progress)


async def test_the_next_page_is_requested_before_the_last_is_handed_over(huge: FakeHeymarket) -> None:
    async with client_for(huge) as client:
        pager = client.message_pager(INBOX, TARGET)
        seen = Recorder(pager)
        await load_history(pager, inbox_id=INBOX, target=TARGET, on_batch=seen, hand_over_at=1)
    pages = [len(b) for b in seen.batches]
    handed_pages = 0
    for n, (size, requests) in enumerate(zip(pages, seen.requests_at)):
        handed_pages += max(1, round(size / 50))
        if n < len(pages) - 1:
            # the request for the page after these was made before they reached the view
            assert requests > handed_pages, (n, requests, handed_pages)


async def test_a_slow_view_gets_fewer_larger_batches(huge: FakeHeymarket) -> None:
    async with client_for(huge) as client:
        pager = client.message_pager(INBOX, TARGET)
        seen = Recorder(pager)

        seen.hook = lambda recorder: busy(0.03)  # a view whose layout takes longer than a request
        await load_history(pager, inbox_id=INBOX, target=TARGET, on_batch=seen, hand_over_at=1)
    assert seen.ids == expected_ids(huge)
    assert len(seen.batches) < pager.requests
    assert max(len(b) for b in seen.batches) <= history.PREFETCH * 50


async def test_server_pages_are_handed_over_in_large_batches_with_progress_for_each(huge: FakeHeymarket) -> None:
    async with client_for(huge) as client:
        pager = client.message_pager(INBOX, TARGET)
        seen = Recorder(pager)
        result = await load_history(pager, inbox_id=INBOX, target=TARGET, on_batch=seen,
                                    on_progress=seen.progress.append, hand_over_at=1000)
    sizes = [len(b) for b in seen.batches]
    assert sum(sizes) == SIZE and all(1000 <= n < 1000 + history.PREFETCH * 50 for n in sizes[:-1])
    assert len(sizes) <= SIZE // 1000 + 1
    # progress comes page by page, whatever the hand-overs
    server_steps = [p for p in seen.progress if p.phase == "server"]
    assert len(server_steps) >= result.requests // history.PREFETCH
    assert server_steps[-1].loaded == SIZE


async def test_the_cache_comes_first_in_large_pages_and_the_server_continues_below_it(
        huge: FakeHeymarket, store: Store) -> None:
    everything = expected_ids(huge)
    async with client_for(huge) as client:
        # An earlier session cached the newest 1,000 (20 pages); the view shows the newest 50.
        first = client.message_pager(INBOX, TARGET)
        cached: list[Message] = []
        while len(cached) < 1000:
            cached += await first.older()
        store.put_messages(INBOX, TARGET, cached)
        shown = cached[:50]
        writer = StoreWriter(store)
        submitted: list[tuple[str, int]] = []
        submit = writer.submit

        def record(name: str, *args: object, **kwargs: object) -> None:
            submitted.append((name, len(args[2]) if name == "put_messages" else 0))  # type: ignore[arg-type]
            submit(name, *args, **kwargs)

        writer.submit = record  # type: ignore[method-assign]
        pager = client.message_pager(INBOX, TARGET)
        pager.resume([m.id for m in shown], shown[-1].date.timestamp())  # type: ignore[union-attr]
        seen = Recorder(pager)
        result = await load_history(pager, inbox_id=INBOX, target=TARGET, on_batch=seen, store=store,
                                    writer=writer, shown_oldest=shown[-1], cache_page=400)
        writer.close()
    from_cache = len(cached) - 50
    assert [len(b) for b in seen.batches[:3]] == [400, 400, from_cache - 800]
    assert seen.ids == everything[50:]
    assert (result.loaded, result.from_cache, result.from_server) == (SIZE - 50, from_cache, SIZE - len(cached))
    assert result.complete and not writer.errors
    # Written in large transactions, then marked whole.
    puts = [n for name, n in submitted if name == "put_messages"]
    assert sum(puts) == SIZE - len(cached)
    assert len(puts) == math.ceil((SIZE - len(cached)) / history.WRITE_CHUNK)
    assert all(n >= history.WRITE_CHUNK for n in puts[:-1])
    assert submitted[-1] == ("mark_thread_complete", 0)
    state = store.thread_state(INBOX, TARGET)
    assert state.count == SIZE and state.complete


async def cache_whole_thread(client: HeymarketClient, store: Store) -> None:
    """The whole thread in the cache, marked whole, as a finished load leaves it."""
    pager = client.message_pager(INBOX, TARGET)
    everything: list[Message] = []
    while not pager.exhausted:
        everything += await pager.older()
    store.put_messages(INBOX, TARGET, everything)
    store.mark_thread_complete(INBOX, TARGET)


async def test_a_whole_cache_makes_no_request(huge: FakeHeymarket, store: Store) -> None:
    async with client_for(huge) as client:
        await cache_whole_thread(client, store)
        before = huge.counts["GET /v1/messages"]
        fresh = client.message_pager(INBOX, TARGET)
        seen = Recorder()
        result = await load_history(fresh, inbox_id=INBOX, target=TARGET, on_batch=seen, store=store,
                                    on_progress=seen.progress.append)
    assert huge.counts["GET /v1/messages"] == before
    assert seen.ids == expected_ids(huge)
    assert result == HistoryResult(SIZE, SIZE, 0, 0, True)
    assert fresh.exhausted and fresh.complete
    assert seen.progress[-1] == Progress(SIZE, SIZE, 0, SIZE, "done")


async def test_damaged_cached_rows_are_skipped_and_the_pages_go_on_past_them(huge: FakeHeymarket,
                                                                               store: Store) -> None:
    """Each page's cursor is its last row's (date, id), damaged or not: a row that no longer
    decodes (the last of a page among them) is left out, and the rest of the cache still comes
    without a request. Meanwhile the collector does not run by itself (the load collects), and
    runs again after."""
    import gc
    import sqlite3

    async with client_for(huge) as client:
        await cache_whole_thread(client, store)
        newest_first = expected_ids(huge)
        damaged = {newest_first[399], newest_first[400], newest_first[1234]}  # page ends and a middle row
        conn = sqlite3.connect(store.path)
        with conn:
            conn.executemany("UPDATE messages SET raw = 'not json' WHERE id = ?", [(i,) for i in damaged])
        conn.close()
        before = huge.counts["GET /v1/messages"]
        collecting: list[bool] = []
        seen = Recorder()
        seen.hook = lambda recorder: collecting.append(gc.isenabled())
        assert gc.isenabled()
        result = await load_history(client.message_pager(INBOX, TARGET), inbox_id=INBOX, target=TARGET,
                                    on_batch=seen, store=store, cache_page=400)
    assert seen.ids == [i for i in newest_first if i not in damaged]
    assert huge.counts["GET /v1/messages"] == before and result.complete
    assert collecting and not any(collecting) and gc.isenabled()


async def test_a_failure_mid_way_keeps_what_came_and_the_pager_goes_on(huge: FakeHeymarket, store: Store) -> None:
    everything = expected_ids(huge)
    async with client_for(huge) as client:
        pager = client.message_pager(INBOX, TARGET)
        seen = Recorder(pager)

        def break_server(recorder: Recorder) -> None:
            if len(recorder.ids) >= 1000 and not huge._faults:  # noqa: SLF001
                huge.inject(Fault("500", times=2, path="/v1/messages"))  # both tries of one request

        seen.hook = break_server
        writer = StoreWriter(store)
        result = await load_history(pager, inbox_id=INBOX, target=TARGET, on_batch=seen, store=store, writer=writer)
        writer.flush()
        assert result.error is not None and "500" in result.error
        assert not result.complete and 1000 <= result.loaded < SIZE
        assert seen.ids == everything[: result.loaded]  # what came before the failure, all of it
        assert sorted(store.message_ids(INBOX, TARGET)) == sorted(seen.ids)  # and cached
        assert pager.seen_count == result.loaded
        # The same pager (and view) carries on to the start, with nothing skipped or repeated.
        oldest = seen.batches[-1][-1]
        again = await load_history(pager, inbox_id=INBOX, target=TARGET, on_batch=seen, writer=writer,
                                   shown_oldest=oldest)
        writer.close()
    assert again.complete and again.error is None
    assert seen.ids == everything
    assert store.thread_state(INBOX, TARGET).count == SIZE


def busy(seconds: float) -> None:
    import time

    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


@pytest.mark.parametrize("when", ["in_the_view", "with_a_page_taken"])
async def test_a_cancel_leaves_view_cache_and_pager_agreeing(huge: FakeHeymarket, store: Store, when: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    everything = expected_ids(huge)
    turns = history._yield_to_request  # noqa: SLF001
    handed = [0]

    async def cancel_in_turn() -> None:
        # The cancel lands after a page has been taken from the queue, before it is handed over.
        await turns()
        if handed[0] >= 1000:
            asyncio.current_task().cancel()  # type: ignore[union-attr]
            await asyncio.sleep(0)

    if when == "with_a_page_taken":
        monkeypatch.setattr(history, "_yield_to_request", cancel_in_turn)
    async with client_for(huge) as client:
        pager = client.message_pager(INBOX, TARGET)
        seen = Recorder(pager)
        writer = StoreWriter(store)
        task = asyncio.ensure_future(load_history(pager, inbox_id=INBOX, target=TARGET, on_batch=seen, writer=writer))

        def cancel(recorder: Recorder) -> None:
            handed[0] = len(recorder.ids)
            if len(recorder.ids) >= 1000 and when == "in_the_view":
                task.cancel()

        seen.hook = cancel
        with pytest.raises(asyncio.CancelledError):
            await task
        writer.flush()
        loaded = len(seen.ids)
        assert 1000 <= loaded < SIZE
        assert seen.ids == everything[:loaded]
        assert pager.seen_count == loaded  # nothing the pager took in was kept from the view
        assert sorted(store.message_ids(INBOX, TARGET)) == sorted(seen.ids)  # nothing half-written
        seen.hook = None
        monkeypatch.setattr(history, "_yield_to_request", turns)
        rest = await load_history(pager, inbox_id=INBOX, target=TARGET, on_batch=seen, writer=writer,
                                  shown_oldest=seen.batches[-1][-1])
        writer.close()
    assert rest.complete and rest.loaded == SIZE - loaded
    assert seen.ids == everything
    assert store.thread_state(INBOX, TARGET).count == SIZE


async def test_a_cancel_during_a_fresh_pagers_first_request_loses_nothing(huge: FakeHeymarket) -> None:
    huge.options.latency = 0.2  # the first request is surely in flight when the cancel comes
    async with client_for(huge) as client:
        pager = client.message_pager(INBOX, TARGET)
        seen = Recorder(pager)
        task = asyncio.ensure_future(load_history(pager, inbox_id=INBOX, target=TARGET, on_batch=seen))
        for _ in range(50):
            await asyncio.sleep(0)
        assert pager.requests == 1 and not seen.batches
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert [len(b) for b in seen.batches] == [50]  # the first page was let finish and handed over
        huge.options.latency = 0.0
        rest = await load_history(pager, inbox_id=INBOX, target=TARGET, on_batch=seen,
                                  shown_oldest=seen.batches[-1][-1])
    assert rest.complete
    assert seen.ids == expected_ids(huge)

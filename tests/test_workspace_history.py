"""The whole history of a thread through the workspace (issue 10 items 3 and 4, issue 11's
"load all"), without Textual, against the fake server's paged thread at a small size.

Everything is counted (requests on the fake server, messages, announcements), nothing timed."""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Callable, Iterator

import pytest

from hmtui.api import Conversation
from hmtui.fake import HUGE_THREAD_INBOX as INBOX, HUGE_THREAD_TARGET as TARGET, FakeHeymarket
from hmtui.workspace import thread as thread_module
from hmtui.workspace.events import Recorder
from hmtui.workspace.whole_history import estimate_total

from conftest import huge_server

SIZE = 1_500  # 30 pages of 50
REQUESTS = "GET /v1/messages"


@pytest.fixture
def huge(make_server: Callable[..., FakeHeymarket]) -> Iterator[FakeHeymarket]:
    yield from huge_server(make_server, SIZE)


def the_conversation(server: FakeHeymarket) -> Conversation:
    raw = next(c for c in server.data.conversations if c["inbox"] == INBOX and c["target"] == TARGET)
    conversation = Conversation.from_raw(raw)
    assert conversation is not None
    return conversation


def server_ids(server: FakeHeymarket) -> set[object]:
    return {m["id"] for m in server.data.messages_for(INBOX, TARGET)}


async def opened(ws, server: FakeHeymarket) -> None:
    ws.start()
    await ws.idle()
    ws.open(the_conversation(server))
    await ws.idle()
    assert len(ws.thread.state.loaded) == 50  # the newest page, one request


async def plain_walk(ws) -> int:
    """The fewest requests for the whole thread: what a bare walk of its pager asks (pages of
    the server's own size, it takes no page size; each asked once; then the proof of the start)."""
    pager = ws.client.message_pager(INBOX, TARGET)
    while not pager.exhausted:
        await pager.older()
    return pager.requests


async def test_the_whole_history_comes_once_each_in_the_fewest_requests(make_workspace, huge) -> None:
    async with make_workspace(huge) as ws:
        walk = await plain_walk(ws)
        await opened(ws, huge)
        before = huge.counts[REQUESTS]
        ws.thread.load_all()
        await ws.idle()
        requests = huge.counts[REQUESTS] - before
        state, rec = ws.thread.state, ws.listener
        assert set(state.loaded) == server_ids(huge)
        # Every page but the one already shown, once: no repeat, no small page.
        assert requests == walk - 1, (requests, walk)
        assert walk <= math.ceil(SIZE / 50) + 3
        prepended = [len(args[0]) for args in rec.named("thread_prepended")]
        assert sum(prepended) == SIZE - 50  # each message handed to the view once
        assert rec.named("thread_prepended")[-1][1] is True  # the start: the view stops asking
        assert rec.named("thread_show_oldest")  # lands on the first message
        labels = [args[0] for args in rec.named("history_progress")]
        assert labels[-1] is None  # the progress is gone when done
        assert any(f"{SIZE:,} of about {SIZE:,} messages" in (label or "") for label in labels), labels
        assert any(f"{requests} requests" in (label or "") for label in labels)
        assert not state.loading_all and not state.loading_older
        assert ws.thread.whole


async def test_the_load_keeps_no_message_it_handed_over(make_workspace, huge) -> None:
    """Memory stays flat in the history's length (issue 11): with no cache to write to, the load
    once kept every message it handed over until it ended (100,000 of them, 200 MiB)."""
    from hmtui.api.models import Message

    def messages_alive() -> int:
        # In a whole suite, earlier tests leave Messages behind (garbage not yet collected, and
        # some kept): collect, and count against what was alive before the load.
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is Message)

    alive: list[int] = []

    class Counting(Recorder):
        def __getattribute__(self, name: str) -> object:
            if name == "thread_prepended":  # not recorded: the recorder would keep every message
                return lambda messages, at_start: alive.append(messages_alive() - before)
            return super().__getattribute__(name)

    async with make_workspace(huge) as ws:
        ws.listener = Counting()
        await opened(ws, huge)
        before = messages_alive()
        ws.thread.load_all()
        await ws.idle()
        assert len(ws.thread.state.loaded) == SIZE
        # What is alive at each hand-over: that batch and the pages queued behind it, never all.
        assert len(alive) >= 3
        assert max(alive) < SIZE * 2 // 3, alive


async def test_a_cancel_keeps_what_came_and_a_second_load_goes_on_from_there(make_workspace, huge) -> None:
    class StopAfter(Recorder):
        ws = None

        def history_progress(self, label: str | None) -> None:
            asked = re.search(r"(\d+) requests", label or "")
            if asked and int(asked.group(1)) >= 5 and self.ws is not None:
                self.ws.thread.cancel_load_all()  # escape, in the middle

    async with make_workspace(huge) as ws:
        ws.listener = StopAfter()
        ws.listener.ws = ws
        walk = await plain_walk(ws)
        await opened(ws, huge)
        before = huge.counts[REQUESTS]
        ws.thread.load_all()
        await ws.idle()
        state = ws.thread.state
        assert 50 < len(state.loaded) < SIZE
        assert len(state.loaded) == state.pager.seen_count  # view and pager agree: no gap later
        assert not state.loading_all and not ws.thread.whole
        assert any("Stopped loading the history" in text for _, text in ws.listener.notices)
        assert not ws.listener.named("thread_show_oldest")
        ws.listener.ws = None
        ws.thread.load_all()
        await ws.idle()
        assert set(state.loaded) == server_ids(huge)
        # At most the one request that was on its way when the cancel came is asked again.
        assert huge.counts[REQUESTS] - before <= walk


async def test_the_cache_comes_first_then_the_server(make_workspace, huge, tmp_path) -> None:
    from hmtui.cache import Store, StoreWriter

    store = Store.open(huge.url, huge.secret_id, directory=tmp_path / "cache")
    writer = StoreWriter(store)
    try:
        async with make_workspace(huge, store=store, writer=writer) as ws:
            await opened(ws, huge)
            ws.thread.load_all()
            await ws.idle()
        writer.flush(30.0)
        assert store.thread_state(INBOX, TARGET).complete
        async with make_workspace(huge, store=store, writer=writer) as ws:
            ws.start()
            await ws.idle()
            before = huge.counts[REQUESTS]
            ws.open(the_conversation(huge))
            await ws.idle()
            ws.thread.load_all()
            await ws.idle()
            assert set(ws.thread.state.loaded) == server_ids(huge)
            assert huge.counts[REQUESTS] - before <= 1  # only "anything newer?": the rest is cached
            assert ws.listener.named("thread_show_oldest")
    finally:
        writer.close()
        store.close()


async def test_each_press_of_g_while_a_page_loads_queues_one_more_page(make_workspace, huge) -> None:
    async with make_workspace(huge) as ws:
        await opened(ws, huge)
        before = huge.counts[REQUESTS]
        for _ in range(4):  # a burst: the first starts a page, the other three come while it loads
            ws.thread.near_top(pressed=True)
        await ws.idle()
        assert huge.counts[REQUESTS] - before == 4
        state = ws.thread.state
        # Four pages above the first (a page re-asks its oldest second: a few repeats, dropped).
        assert len(state.loaded) == state.pager.seen_count > 50 + 4 * 40
        assert len(ws.listener.named("thread_show_oldest")) == 3  # each queued press lands on the top
        # The view's own "near the top" (no press) while a page loads is still one page, not more.
        before = huge.counts[REQUESTS]
        ws.thread.near_top()
        ws.thread.near_top()
        await ws.idle()
        assert huge.counts[REQUESTS] - before == 1


async def test_a_held_g_queues_a_bounded_number_of_pages(make_workspace, huge) -> None:
    async with make_workspace(huge) as ws:
        await opened(ws, huge)
        before = huge.counts[REQUESTS]
        for _ in range(200):
            ws.thread.near_top(pressed=True)
        await ws.idle()
        assert huge.counts[REQUESTS] - before == 1 + thread_module.MAX_QUEUED_OLDER


async def test_find_says_it_searched_the_loaded_history_until_the_whole_thread_is_there(make_workspace, huge) -> None:
    async with make_workspace(huge) as ws:
        await opened(ws, huge)
        thread = ws.thread
        word = next(w for m in thread.state.tail for w in (m.text or "").split() if len(w) > 4 and w.isalpha())
        thread.set_find(word)
        hits = len(thread.state.find_hits)
        assert ws.listener.named("loading")[-1] == ("find", f"{hits} in the loaded history")
        thread.step_find(-1, None, from_end=True)
        assert ws.listener.named("loading")[-1] == ("find", f"match {hits} of {hits} in the loaded history")
        thread.load_all()
        await ws.idle()
        thread.set_find(word)
        total = len(thread.state.find_hits)
        assert total >= hits
        thread.step_find(-1, None, from_end=True)
        assert ws.listener.named("loading")[-1] == ("find", f"match {total} of {total}")


def test_the_estimate_follows_the_dates() -> None:
    assert estimate_total(100, newest=1000.0, oldest=900.0, start=0.0) == 1000
    assert estimate_total(100, newest=1000.0, oldest=900.0, start=950.0) == 100  # already there
    assert estimate_total(100, newest=1000.0, oldest=1000.0, start=0.0) is None
    assert estimate_total(100, newest=1000.0, oldest=900.0, start=None) is None

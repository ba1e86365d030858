"""The fake server's 100,000-message thread (`FakeData.add_huge_thread`): built a block at a time,
deterministic by block, and invisible to the default data.

Laziness is proved by counting what was built (`PagedThread.generated`), never by timing.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx

from hmtui.api import Credentials, HeymarketClient, RetryPolicy
from hmtui.fake import FakeData, FakeHeymarket, FakeOptions, HUGE_THREAD_INBOX, HUGE_THREAD_MESSAGES, HUGE_THREAD_TARGET
from hmtui.fake.generate import HUGE_BLOCK, PagedThread

from conftest import ANCHOR, SEED


def _data() -> FakeData:
    return FakeData(seed=SEED, anchor=ANCHOR)


def _thread(data: FakeData) -> PagedThread:
    thread = data.paged_thread(HUGE_THREAD_INBOX, HUGE_THREAD_TARGET)
    assert thread is not None
    return thread


def _epoch(stamp: str) -> int:
    return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def test_adding_the_huge_thread_builds_one_block_not_the_thread() -> None:
    data = _data()
    conv = data.add_huge_thread()
    thread = _thread(data)
    assert len(thread) == HUGE_THREAD_MESSAGES
    assert thread.generated == HUGE_BLOCK  # the newest block, for the conversation's summary
    assert conv["last_msg"] == thread.message(-1)["text"]
    assert conv["updated"] == thread.message(-1)["date"] and conv["created"] == thread.message(0)["date"]
    assert thread.message(-1)["user"] is None and conv["unread"]
    assert thread.generated == 2 * HUGE_BLOCK  # reading the oldest message built the oldest block
    assert data.add_huge_thread() is conv  # idempotent
    assert thread.generated == 2 * HUGE_BLOCK


def test_the_default_data_is_unchanged_by_the_huge_thread() -> None:
    plain, grown = _data(), _data()
    grown.add_huge_thread()
    huge = grown.find_conversation(HUGE_THREAD_INBOX, HUGE_THREAD_TARGET)
    assert plain.find_conversation(HUGE_THREAD_INBOX, HUGE_THREAD_TARGET) is None
    others = [c for c in grown.conversations if c is not huge]
    assert json.dumps(others, sort_keys=True) == json.dumps(plain.conversations, sort_keys=True)
    for conv in plain.conversations:
        assert grown.messages_for(conv["inbox"], conv["target"]) == plain.messages_for(conv["inbox"], conv["target"])
    assert grown.live.showcase == plain.live.showcase


def test_any_page_is_the_same_without_the_pages_before_it() -> None:
    walked, direct = _data(), _data()
    walked.add_huge_thread(keep_blocks=2)
    direct.add_huge_thread(keep_blocks=2)
    t_walked, t_direct = _thread(walked), _thread(direct)
    middle = t_direct.epoch(HUGE_THREAD_MESSAGES - 6_007)  # a dozen blocks down
    before = t_direct.generated
    page = direct.message_page(direct.find_conversation(HUGE_THREAD_INBOX, HUGE_THREAD_TARGET),
                               before=middle, inclusive=False, limit=50)
    assert len(page) == 50
    assert t_direct.generated - before <= 2 * HUGE_BLOCK  # one block, or two where the page straddles
    # The same page reached from the newest end, with blocks evicted and rebuilt on the way.
    conv = walked.find_conversation(HUGE_THREAD_INBOX, HUGE_THREAD_TARGET)
    cursor: int | None = None
    while cursor is None or cursor > middle:
        got = walked.message_page(conv, before=cursor, inclusive=False, limit=2000)
        cursor = min(_epoch(m["date"]) for m in got)
    assert walked.message_page(conv, before=middle, inclusive=False, limit=50) == page
    assert t_walked.generated > 6_000  # it did walk there, evicting blocks on the way


def test_the_huge_thread_is_ordered_unique_and_has_ties() -> None:
    data = _data()
    data.add_huge_thread(keep_blocks=1)
    thread = _thread(data)
    epochs = list(thread.epochs)
    assert len(epochs) == HUGE_THREAD_MESSAGES and epochs == sorted(epochs)
    assert len(epochs) - len(set(epochs)) > 500  # same-second runs for pages to straddle
    ids = [thread.message(i)["id"] for i in range(0, HUGE_THREAD_MESSAGES, 9_973)]
    assert ids == sorted(set(ids))
    assert thread.index_before(epochs[-1] + 1, False) == HUGE_THREAD_MESSAGES
    assert thread.index_before(epochs[0], False) == 0
    assert thread.index_before(epochs[0], True) == epochs.count(epochs[0])


def test_a_message_appended_to_the_huge_thread_is_served_first() -> None:
    data = _data()
    conv = data.add_huge_thread(count=1200)
    msg = data.add_message(HUGE_THREAD_INBOX, HUGE_THREAD_TARGET, "new one", now=ANCHOR.timestamp())
    newest = data.message_page(conv, before=None, inclusive=False, limit=3)
    assert newest[-1] is msg and conv["last_msg"] == "new one"
    assert len(_thread(data)) == 1201


async def test_the_server_pages_the_huge_thread_building_only_what_it_serves() -> None:
    server = FakeHeymarket(seed=SEED, anchor=ANCHOR, options=FakeOptions(rate_limit=0))
    server.data.add_huge_thread()
    thread = _thread(server.data)
    with server:
        client = HeymarketClient(Credentials(server.secret_id, server.secret_key), base_url=server.url,
                                 retry=RetryPolicy(attempts=1), timeout=httpx.Timeout(30.0))
        async with client:
            pager = client.message_pager(HUGE_THREAD_INBOX, HUGE_THREAD_TARGET)
            got = []
            for _ in range(30):  # 1,500 messages: three blocks
                got += await pager.older()
    # Each page re-asks its oldest second (see hmtui.api.paging), so 30 pages bring a little less.
    newest = len(thread) - 1
    assert 1400 <= len(got) <= 1500
    assert [m.id for m in got] == [thread.message(newest - k)["id"] for k in range(len(got))]
    assert thread.generated <= 4 * HUGE_BLOCK

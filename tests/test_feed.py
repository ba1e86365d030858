"""The team-wide feed (`POST /v1/messages/all`): the fake server's route and `TeamFeed`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hmtui.api import Credentials, HeymarketClient, Message, RetryPolicy
from hmtui.api.feed import FeedPosition, TeamFeed, message_conversation
from hmtui.fake import FakeHeymarket, FakeOptions

from conftest import new_server
from helpers import RecordingSleep

DIRECTIONS = ["before", "after"]


@pytest.fixture(scope="module")
def module_server() -> Iterator[FakeHeymarket]:
    with new_server() as server:
        yield server


@pytest.fixture
def server(module_server: FakeHeymarket) -> FakeHeymarket:
    """One server for the module (building every thread for the feed is the slow part). Tests
    only add messages, each burst after everything before it, so they do not see each other's."""
    # rate_limit=0: the module's tests share this server's minute, far past 500 requests in all.
    module_server.options = FakeOptions(rate_limit=0)
    module_server.reset_counts()
    return module_server


def client_for(server: FakeHeymarket) -> HeymarketClient:
    return HeymarketClient(
        Credentials(server.secret_id, server.secret_key), base_url=server.url,
        retry=RetryPolicy(attempts=2), timeout=httpx.Timeout(10.0), sleep=RecordingSleep(),
    )


def burst(server: FakeHeymarket, n: int, *, start: datetime | None = None, per_second: int = 1) -> list[int]:
    """Add n inbound messages across conversations, `per_second` sharing each second (from a
    minute after the newest message, unless `start`); their ids."""
    if start is None:
        start = at(newest_second(server) + 60)
    convs = server.data.conversations
    ids = []
    for i in range(n):
        conv = convs[(i * 7) % len(convs)]
        when = start + timedelta(seconds=i // per_second)
        ids.append(server.add_message(conv["inbox"], conv["target"], f"burst {i}", date=when)["id"])
    return ids


def newest_second(server: FakeHeymarket) -> int:
    return server.data.team_messages()[-1][0]


def at(second: int) -> datetime:
    return datetime.fromtimestamp(second, timezone.utc)


async def poll_until_complete(feed: TeamFeed, position: dict[str, Any], rounds: int = 50):
    got: list[Message] = []
    for _ in range(rounds):
        result = await feed.poll(position)
        got.extend(result.messages)
        position = result.position
        if result.complete:
            return got, position, result
        assert result.more and result.gap is None, result.reason  # only a resumable stop may be retried
    raise AssertionError("never completed")


# -- the fake server's route ---------------------------------------------------------------------


async def test_fake_feed_route_shapes_cursor_and_validation(server: FakeHeymarket) -> None:
    rows = server.data.team_messages()
    async with client_for(server) as client:
        newest = await client.all_messages()
        assert [m.id for m in newest] == [r[1] for r in rows[::-1][:30]]  # empty body: newest 30
        assert all(isinstance(m.raw["conversation"], dict) for m in newest)
        cut = at(rows[-100][0])
        server.options.feed_cursor = "before"
        before = await client.all_messages(created_at=cut, limit=5)
        assert before and all(m.timestamp < cut.timestamp() for m in before)
        assert [m.timestamp for m in before] == sorted((m.timestamp for m in before), reverse=True)
        server.options.feed_cursor = "after"
        after = await client.all_messages(created_at=cut, ascending=True, limit=5)
        assert after[0].timestamp == cut.timestamp()  # on and after: the cursor's second again
        assert all(m.timestamp >= cut.timestamp() for m in after)
    # `date` is accepted for `created_at`.
    with httpx.Client(base_url=server.url) as raw:
        from test_fake_server import sign

        auth = {"Authorization": f"Bearer {sign()}"}
        alias = raw.post("/v1/messages/all", json={"date": cut.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                   "ascending": True, "limit": 5}, headers=auth)
        assert [m["id"] for m in alias.json()] == [m.id for m in after]
        empty = raw.post("/v1/messages/all", content=b"", headers=auth)
        assert [m["id"] for m in empty.json()] == [m.id for m in newest]
        for body, field in [({"created_at": "yesterday"}, "created_at"), ({"date": 5}, "date"),
                            ({"order": "id"}, "order"), ({"ascending": "yes"}, "ascending"),
                            ({"limit": 0}, "limit"), ({"limit": "30"}, "limit"), ([], "body")]:
            answer = raw.post("/v1/messages/all", json=body, headers=auth)
            assert answer.status_code == 400 and answer.json()["field"] == field, body


async def test_fake_feed_shows_added_messages(server: FakeHeymarket) -> None:
    ids = burst(server, 3)
    async with client_for(server) as client:
        newest = await client.all_messages(limit=3)
    assert [m.id for m in newest] == ids[::-1]
    conv_id, inbox_id, target = message_conversation(newest[0])
    assert server.data.conversation_by_id(conv_id)["inbox"] == inbox_id and target


async def test_fake_feed_orders_by_updated_and_follows_a_transfer(server: FakeHeymarket) -> None:
    async with client_for(server) as client:
        by_updated = await client.all_messages(order="updated_at", limit=1000)
        assert [m.id for m in by_updated] == [r[1] for r in server.data.team_messages("updated_at")[::-1][:1000]]
        [msg_id] = burst(server, 1)
        conv = server.data.conversation_by_id(message_conversation((await client.all_messages(limit=1))[0])[0])
        other = next(i["id"] for i in server.data.inboxes
                     if i["id"] != conv["inbox"] and server.data.find_conversation(i["id"], conv["target"]) is None)
        await client.transfer(conv["id"], other)
        [after] = await client.all_messages(limit=1)
    assert after.id == msg_id and message_conversation(after)[1] == other


async def test_an_empty_feed_at_the_start_then_everything_is_new() -> None:
    source = SqlSource(0, "before", "asked")
    feed = TeamFeed(source, page_size=2, max_requests=20)
    start = await feed.poll(None)
    assert start.messages == [] and start.position["created_at"] is None
    new = source.add(5)
    result = await feed.poll(start.position)
    assert result.complete and [m.id for m in result.messages] == new


# -- TeamFeed against the fake server ------------------------------------------------------------


@pytest.mark.parametrize("direction", DIRECTIONS)
async def test_first_call_gives_only_the_position(server: FakeHeymarket, direction: str) -> None:
    server.options.feed_cursor = direction
    async with client_for(server) as client:
        feed = TeamFeed(client)
        first = await feed.poll(None)
        assert first.messages == [] and first.complete
        assert FeedPosition.from_dict(first.position).second == newest_second(server)
        again = await feed.poll(first.position)
    assert again.messages == [] and again.complete


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("page_size", [1, 2, 30])
@pytest.mark.parametrize("n, per_second", [(1, 1), (5, 1), (45, 1), (7, 7), (70, 35)])
async def test_bursts_and_ties_are_found_exactly_once(
    server: FakeHeymarket, direction: str, page_size: int, n: int, per_second: int
) -> None:
    server.options.feed_cursor = direction
    async with client_for(server) as client:
        feed = TeamFeed(client, page_size=page_size, max_limit=128, max_requests=400)
        start = await feed.poll(None)
        ids = burst(server, n, per_second=per_second)
        result = await feed.poll(start.position)
        assert result.complete, result.reason
        assert [m.id for m in result.messages] == ids  # each once, oldest first
        assert result.direction == direction
        idle = await feed.poll(result.position)
        assert idle.messages == [] and idle.complete
    assert feed.requests == server.counts["POST /v1/messages/all"]


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("page_size", [1, 2, 30])
async def test_new_messages_in_the_last_seen_second_are_found(
    server: FakeHeymarket, direction: str, page_size: int
) -> None:
    server.options.feed_cursor = direction
    async with client_for(server) as client:
        feed = TeamFeed(client, page_size=page_size, max_requests=400)
        first_ids = burst(server, 3, per_second=3)
        start = await feed.poll(None)
        assert set(FeedPosition.from_dict(start.position).ids) == set(first_ids)
        # Same second as the position, arriving after it was taken.
        late = burst(server, 4, start=at(newest_second(server)), per_second=4)
        result = await feed.poll(start.position)
    assert result.complete and [m.id for m in result.messages] == late


@pytest.mark.parametrize("direction", DIRECTIONS)
async def test_an_idle_poll_costs_one_request(server: FakeHeymarket, direction: str) -> None:
    server.options.feed_cursor = direction
    async with client_for(server) as client:
        feed = TeamFeed(client)
        position = (await feed.poll(None)).position
        position = (await feed.poll(position)).position  # learns the direction
        burst(server, 4)
        position = (await feed.poll(position)).position
        server.reset_counts()
        for _ in range(5):
            result = await feed.poll(position)
            assert result.messages == [] and result.complete
    assert server.counts["POST /v1/messages/all"] == 5


async def test_the_cap_stops_the_before_walk_and_names_the_gap(server: FakeHeymarket) -> None:
    server.options.feed_cursor = "before"
    async with client_for(server) as client:
        feed = TeamFeed(client, page_size=2, max_requests=3)
        start = await feed.poll(None)
        ids = burst(server, 50)
        server.reset_counts()
        result = await feed.poll(start.position)
    assert result.capped and not result.complete and not result.more
    assert result.requests == 3 == server.counts["POST /v1/messages/all"]
    got = [m.id for m in result.messages]
    assert got and set(got) < set(ids)
    # The gap covers every message it did not return.
    low, high = result.gap
    missing = [r for r in server.data.team_messages() if r[1] in set(ids) - set(got)]
    assert all(low.timestamp() <= r[0] <= high.timestamp() for r in missing)


async def test_the_cap_pauses_the_after_walk_and_the_next_call_resumes(server: FakeHeymarket) -> None:
    server.options.feed_cursor = "after"
    async with client_for(server) as client:
        feed = TeamFeed(client, page_size=2, max_requests=3)
        start = await feed.poll(None)
        ids = burst(server, 50)
        first = await feed.poll(start.position)
        assert first.capped and first.more and first.gap is None
        got, _, _ = await poll_until_complete(feed, first.position)
    assert [m.id for m in first.messages] + [m.id for m in got] == ids


@pytest.mark.parametrize("n", [3, 80])
async def test_a_server_that_ignores_the_cursor_stops_and_never_loops(server: FakeHeymarket, n: int) -> None:
    server.options.feed_cursor = "ignored"
    async with client_for(server) as client:
        feed = TeamFeed(client, page_size=30, max_requests=8)
        start = await feed.poll(None)
        ids = burst(server, n)
        server.reset_counts()
        result = await feed.poll(start.position)
    assert server.counts["POST /v1/messages/all"] <= 8
    if n < 30:  # fits the newest page: nothing is missed
        assert result.complete and [m.id for m in result.messages] == ids
    else:
        assert not result.complete and result.gap is not None and not result.more
        assert set(m.id for m in result.messages) <= set(ids)


def test_a_position_survives_json_and_garbage_is_no_position() -> None:
    pos = FeedPosition(1795186560, frozenset({3, 1, "x"}), "after")
    assert FeedPosition.from_dict(pos.to_dict()) == pos
    for junk in [None, {}, {"created_at": "soon"}, {"created_at": "0001-01-01T00:00:00Z"}, []]:
        assert FeedPosition.from_dict(junk) is None  # type: ignore[arg-type]


# -- TeamFeed against hostile answers, without HTTP ----------------------------------------------


def _msg(i: int, second: int) -> Message:
    msg = Message.from_raw({"id": i, "date": at(second).strftime("%Y-%m-%dT%H:%M:%SZ"), "text": "t"})
    assert msg is not None
    return msg


class SqlSource:
    """All messages 1..n at one per second from BASE; honours the cursor as `direction` says and
    sorts "asc" or "desc" whatever `ascending` asks (a server that ignores it), or as "asked"."""

    BASE = 1_795_000_000

    def __init__(self, n: int, direction: str, sort: str) -> None:
        self.rows = [_msg(i, self.BASE + i) for i in range(1, n + 1)]
        self.direction, self.sort, self.calls = direction, sort, 0

    async def all_messages(self, *, created_at=None, order="created_at", ascending=None, limit=None):
        self.calls += 1
        rows = self.rows
        if created_at is not None:
            c = created_at.timestamp()
            rows = [m for m in rows if (m.timestamp >= c) == (self.direction == "after")]
        asc = ascending if self.sort == "asked" else self.sort == "asc"
        rows = rows if asc else rows[::-1]
        return rows[: limit or 30]

    def add(self, k: int) -> list[int]:
        start = len(self.rows)
        self.rows += [_msg(i, self.BASE + i) for i in range(start + 1, start + k + 1)]
        return list(range(start + 1, start + k + 1))


@pytest.mark.parametrize("direction, sort", [("after", "desc"), ("before", "asc")])
async def test_a_page_from_the_wrong_end_is_a_gap_not_a_quiet_miss(direction: str, sort: str) -> None:
    source = SqlSource(100, direction, "desc")
    feed = TeamFeed(source, page_size=10, max_requests=8)
    position = (await feed.poll(None)).position
    source.sort = sort  # now it answers the window at the far end of the cursor
    new = source.add(40)
    result = await feed.poll(position)
    got = {m.id for m in result.messages}
    assert result.complete is False and result.gap is not None, "40 new messages, fewer seen, and no gap"
    assert got < set(new)


@pytest.mark.parametrize("hint, actual", [("before", "after"), ("after", "before")])
async def test_a_stale_direction_hint_costs_requests_not_messages(server: FakeHeymarket, hint: str, actual: str) -> None:
    server.options.feed_cursor = actual  # type: ignore[assignment]
    async with client_for(server) as client:
        start = await TeamFeed(client).poll(None)
        ids = burst(server, 45)
        feed = TeamFeed(client, page_size=10, max_requests=20)  # a new process, an old position
        result = await feed.poll({**start.position, "direction": hint})
    assert result.complete, result.reason
    assert [m.id for m in result.messages] == ids and result.direction == actual


class DatelessSource(SqlSource):
    """Every page spends 3 of its `limit` on messages with a zero date."""

    async def all_messages(self, *, created_at=None, order="created_at", ascending=None, limit=None):
        page = await super().all_messages(created_at=created_at, ascending=ascending, limit=(limit or 30) - 3)
        junk = [Message.from_raw({"id": f"z{i}", "date": "0001-01-01T00:00:00Z"}) for i in range(3)]
        return junk + page


@pytest.mark.parametrize("direction", DIRECTIONS)
async def test_dateless_messages_do_not_make_a_full_page_look_short(direction: str) -> None:
    source = DatelessSource(100, direction, "asked")
    feed = TeamFeed(source, page_size=10, max_requests=30)
    position = (await feed.poll(None)).position
    new = source.add(25)
    result = await feed.poll(position)
    assert result.complete, result.reason
    assert [m.id for m in result.messages] == new


async def test_a_capped_read_up_after_a_stale_hint_skips_nothing(server: FakeHeymarket) -> None:
    server.options.feed_cursor = "after"
    async with client_for(server) as client:
        start = await TeamFeed(client).poll(None)
        ids = burst(server, 60)
        feed = TeamFeed(client, page_size=10, max_requests=3)
        first = await feed.poll({**start.position, "direction": "before"})  # newest page, then up
        assert first.more and first.gap is None
        got, _, _ = await poll_until_complete(feed, first.position)
    assert [m.id for m in first.messages] + [m.id for m in got] == ids

"""The refresh spends a fixed request budget (issue 8, section 4): the workspace's `Refresher`
against a big fake team, in simulated time, with no Textual."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
import pytest

from hmtui.api import Conversation, Credentials, HeymarketClient, Inbox, RetryPolicy
from hmtui.fake import FakeHeymarket
from hmtui.fake.bigteam import grow_team
from hmtui.workspace.refresh import Cadence, InboxCounts, NewMessage, RefreshObserver, Refresher

from conftest import new_server
from helpers import RecordingSleep

IDLE_BUDGET = 30  # requests in an idle minute, default config, 12 inboxes


class FakeTime:
    """A clock and a sleep that only move simulated time."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += max(0.0, delay)
        await asyncio.sleep(0)


class Recorder(RefreshObserver):
    def __init__(self) -> None:
        self.counts: dict[object, InboxCounts] = {}
        self.history: list[tuple[object, InboxCounts]] = []
        self.toasts: list[NewMessage] = []

    def counts_changed(self, inbox_id, counts) -> None:  # type: ignore[no-untyped-def]
        self.counts[inbox_id] = counts
        self.history.append((inbox_id, counts))

    def new_message(self, new) -> None:  # type: ignore[no-untyped-def]
        self.toasts.append(new)


@contextmanager
def big_server(*, inboxes: int = 12, open_per_inbox: int = 300, **options: object) -> Iterator[FakeHeymarket]:
    # The refresher runs in simulated time: an idle hour passes in seconds of the server's real
    # clock, so its per-minute limit would count an hour's requests as one minute's.
    options.setdefault("rate_limit", 0)
    server = new_server(**options)
    grow_team(server.data, inboxes=inboxes, big=10, open_per_inbox=open_per_inbox)
    with server:
        yield server


def member(inbox: Inbox) -> object:
    return inbox.members[0] if inbox.members else None


@asynccontextmanager
async def refresher_for(server: FakeHeymarket, **kw: object) -> AsyncIterator[tuple[Refresher, Recorder, FakeTime, dict]]:
    client = HeymarketClient(Credentials(server.secret_id, server.secret_key), base_url=server.url,
                             retry=RetryPolicy(attempts=2), timeout=httpx.Timeout(20.0), sleep=RecordingSleep())
    clock, recorder = FakeTime(), Recorder()
    view: dict[str, object] = {}  # what a screen would show: "inbox", "conversation"

    async def list_head() -> None:
        inbox = view.get("inbox")
        if isinstance(inbox, Inbox):
            await client.conversations(inbox.id, member(inbox), closed=False)

    async def thread() -> None:
        conv = view.get("conversation")
        if isinstance(conv, Conversation):
            await client.messages(conv.inbox_id, conv.target or "")

    refresher = Refresher(
        client, member_for=member, observer=recorder, clock=clock, sleep=clock.sleep,
        list_head=list_head, thread=thread,
        current=lambda: view.get("conversation"),  # type: ignore[arg-type, return-value]
        selected=lambda: getattr(view.get("inbox"), "id", None), **kw,  # type: ignore[arg-type]
    )
    try:
        inboxes = await client.inboxes()
        view["inbox"] = inboxes[0]
        view["conversation"] = (await client.conversations(inboxes[0].id, member(inboxes[0]), closed=False))[0]
        yield refresher, recorder, clock, view
    finally:
        await client.aclose()


def total(server: FakeHeymarket) -> int:
    return sum(server.counts.values())


async def idle_minute(server: FakeHeymarket, **options: object) -> int:
    """Requests in the idle minute after start-up (the start count done)."""
    async with refresher_for(server) as (refresher, _, _, _):
        await refresher.start()
        server.reset_counts()
        await refresher.run(60.0)
        return total(server)


# -- the budget ----------------------------------------------------------------------------------


@pytest.mark.parametrize("count_filters", [False, True])
async def test_an_idle_minute_on_a_12_inbox_team_stays_in_budget(count_filters: bool) -> None:
    with big_server(count_filters=count_filters) as server:
        assert len(server.data.inboxes) == 12
        spent = await idle_minute(server)
    assert spent <= IDLE_BUDGET, spent


async def test_the_idle_cost_does_not_grow_with_conversations_per_inbox() -> None:
    with big_server(count_filters=False) as server:
        small = await idle_minute(server)
    with big_server(count_filters=False, open_per_inbox=3000) as server:
        large = await idle_minute(server)
    assert large <= small and large <= IDLE_BUDGET, (small, large)


async def test_the_idle_cost_grows_sub_linearly_with_inboxes() -> None:
    with big_server(count_filters=False) as server:
        twelve = await idle_minute(server)
    with big_server(count_filters=False, inboxes=24) as server:
        twenty_four = await idle_minute(server)
    assert twenty_four < 1.5 * twelve and twenty_four <= IDLE_BUDGET, (twelve, twenty_four)


async def test_an_idle_hour_stays_in_budget_every_minute() -> None:
    with big_server(count_filters=False) as server:
        async with refresher_for(server) as (refresher, _, _, _):
            await refresher.start()
            for _ in range(60):
                server.reset_counts()
                await refresher.run(60.0)
                assert total(server) <= IDLE_BUDGET


# -- the start count -----------------------------------------------------------------------------


async def test_the_count_at_start_is_paced_and_marked_as_counting() -> None:
    with big_server(count_filters=False) as server:
        async with refresher_for(server) as (refresher, recorder, clock, _):
            began = clock()
            server.reset_counts()
            await refresher.start()
            spent, took = total(server), clock() - began
            cadence = refresher.cadence
            # Past the burst, about count_rate requests a second (a pager step may take two).
            assert spent > cadence.count_burst + 30
            assert took >= (spent - cadence.count_burst) / (2 * cadence.count_rate)
            # Meanwhile the badges said they were still counting; at the end, exact or "200+".
            assert any(c.counting for _, c in recorder.history)
            last = recorder.counts
            assert all(not c.counting for c in last.values())
            big = server.data.inboxes[0]["id"]
            assert last[big].open >= 200 and last[big].more
            small = server.data.inboxes[-1]["id"]
            expected = sum(1 for c in server.data.conversations if c["inbox"] == small and c["status"] != "closed")
            assert last[small].open == expected and not last[small].more


async def test_a_trusted_count_endpoint_counts_each_inbox_in_two_requests() -> None:
    with big_server(count_filters=True) as server:
        async with refresher_for(server) as (refresher, recorder, _, _):
            server.reset_counts()
            await refresher.start()
            assert server.counts["POST /v1/conversations"] == 0
            assert server.counts["POST /v1/conversations/count"] <= 6 + 2 * 12
            big = server.data.inboxes[0]["id"]
            assert recorder.counts[big] == InboxCounts(*_open_unread(server, big), False, False)


# -- keeping badges exact ------------------------------------------------------------------------


def _open_unread(server: FakeHeymarket, inbox_id: object) -> tuple[int, int]:
    convs = [c for c in server.data.conversations if c["inbox"] == inbox_id]
    return sum(c["status"] != "closed" for c in convs), sum(bool(c["unread"]) for c in convs)


@pytest.mark.parametrize("count_filters", [False, True])
async def test_the_feed_keeps_badges_exact_after_an_inbound_message(count_filters: bool) -> None:
    with big_server(count_filters=count_filters) as server:
        async with refresher_for(server) as (refresher, recorder, _, _):
            await refresher.start()
            inbox_id = server.data.inboxes[-1]["id"]  # a small inbox: exact counts
            before = recorder.counts[inbox_id]
            server.add_message(inbox_id, "14155559001", "a new customer")
            server.reset_counts()
            await refresher.cycle()
            after = recorder.counts[inbox_id]
            assert (after.open, after.unread) == _open_unread(server, inbox_id)
            assert (after.open, after.unread) == (before.open + 1, before.unread + 1)
            assert server.counts["POST /v1/conversations"] == 0  # no paging for it


@pytest.mark.parametrize("count_filters", [False, True])
async def test_a_recount_catches_a_close_made_elsewhere(count_filters: bool) -> None:
    with big_server(count_filters=count_filters) as server:
        async with refresher_for(server) as (refresher, recorder, _, _):
            await refresher.start()
            inbox_id = server.data.inboxes[-1]["id"]  # a small inbox: exact counts
            server.add_message(inbox_id, "14155559002", "hello")
            await refresher.cycle()
            conv = next(c for c in server.data.conversations if c["inbox"] == inbox_id and c["status"] != "closed")
            opened = recorder.counts[inbox_id].open
            assert opened == 1
            server.data.set_status(conv, "closed")  # another agent, in the web app: no feed message
            cadence = refresher.cadence
            # Every inbox is recounted within one round of recounts.
            await refresher.run(cadence.recount_every * (len(server.data.inboxes) + 1))
            assert recorder.counts[inbox_id].open == opened - 1


async def test_own_triage_moves_the_badges_at_once() -> None:
    with big_server(count_filters=False) as server:
        async with refresher_for(server) as (refresher, recorder, _, view):
            await refresher.start()
            conv = view["conversation"]
            assert isinstance(conv, Conversation)
            before = recorder.counts[conv.inbox_id]
            import dataclasses
            closed = dataclasses.replace(conv, status="closed", unread=False)
            refresher.note_triage(conv, closed)
            after = recorder.counts[conv.inbox_id]
            assert after.open == before.open - 1 or before.more
            refresher.note_triage(closed, conv)  # rolled back
            assert recorder.counts[conv.inbox_id] == before


# -- toasts --------------------------------------------------------------------------------------


async def test_no_toast_for_the_backlog_nor_for_the_conversation_on_screen() -> None:
    with big_server(count_filters=False) as server:
        async with refresher_for(server) as (refresher, recorder, _, view):
            await refresher.start()
            await refresher.run(60.0)
            assert recorder.toasts == []  # the backlog raised none
            shown = view["conversation"]
            assert isinstance(shown, Conversation)
            server.add_message(shown.inbox_id, shown.target, "on screen")
            other = next(c for c in server.data.conversations if c["inbox"] == server.data.inboxes[2]["id"])
            server.add_message(other["inbox"], other["target"], "elsewhere")
            server.reset_counts()
            await refresher.cycle()
            assert [t.conversation_id for t in recorder.toasts] == [other["id"]]
            assert server.counts["GET /v1/messages"] == 1  # the open thread was refreshed at once


async def test_a_server_without_a_usable_count_endpoint_falls_back_to_paging() -> None:
    from hmtui.fake.server import Fault

    with big_server(inboxes=4, open_per_inbox=0) as server:  # the small seeded team
        server.inject(Fault(kind="malformed", path="/v1/conversations/count", every=1))
        async with refresher_for(server) as (refresher, recorder, _, _):
            await refresher.start()
            assert refresher.started and server.counts["POST /v1/conversations"] > 0
            for inbox in server.data.inboxes:
                counts = recorder.counts[inbox["id"]]
                assert (counts.open, counts.unread) == _open_unread(server, inbox["id"])

"""The API layer against the fake server over real loopback HTTP."""

from __future__ import annotations

import math

import httpx
import pytest

from hmtui.api import (
    ApiTimeoutError,
    AuthError,
    BadRequestError,
    Credentials,
    HeymarketClient,
    MessageKind,
    RateLimitedError,
    RetryPolicy,
    ServerError,
)
from hmtui.fake import LONG_THREAD_INBOX, LONG_THREAD_TARGET, Fault

from conftest import live_runs_one
from helpers import RecordingSleep, eventually


def client_for(server, *, attempts: int = 5, timeout: float = 10.0, sleep=None, **kw) -> HeymarketClient:
    return HeymarketClient(
        Credentials(server.secret_id, server.secret_key),
        base_url=server.url,
        retry=RetryPolicy(attempts=attempts),
        timeout=httpx.Timeout(timeout),
        sleep=sleep or RecordingSleep(),
        **kw,
    )


def member_for(server, inbox_id):
    return next(i for i in server.data.inboxes if i["id"] == inbox_id)["members"][0]


def tie_seconds(messages) -> int:
    seconds = [m["date"] for m in messages]
    return len(seconds) - len(set(seconds))


@pytest.mark.parametrize("cursor", ["exclusive", "inclusive"])
@pytest.mark.parametrize("order", ["newest", "oldest", "shuffled"])
async def test_messages_every_cursor_and_order_lose_nothing_and_double_nothing(server, profile, cursor, order) -> None:
    live_runs_one(profile, (cursor, order), ("inclusive", "shuffled"))
    server.options.cursor, server.options.order = cursor, order
    server.options.message_page_size = 50
    expected = server.data.messages_for(LONG_THREAD_INBOX, LONG_THREAD_TARGET)
    assert tie_seconds(expected) > 100  # page boundaries fall inside ties
    async with client_for(server) as client:
        got = [m async for m in client.iter_messages(LONG_THREAD_INBOX, LONG_THREAD_TARGET)]
    assert [m.id for m in got] == [m["id"] for m in reversed(expected)]
    requests = server.counts["GET /v1/messages"]
    assert requests <= math.ceil(len(expected) / 50) * 1.1 + 3


@pytest.mark.parametrize("cursor", ["exclusive", "inclusive"])
@pytest.mark.parametrize("order", ["newest", "oldest", "shuffled"])
async def test_conversations_every_cursor_and_order(server, profile, cursor, order) -> None:
    live_runs_one(profile, (cursor, order), ("exclusive", "oldest"))
    server.options.cursor, server.options.order, server.options.conversation_page_size = cursor, order, 6
    async with client_for(server) as client:
        for inbox in server.data.inboxes:
            got = [c async for c in client.iter_conversations(inbox["id"], inbox["members"][0])]
            expected = [c for c in server.data.conversations if c["inbox"] == inbox["id"]]
            assert sorted(c.id for c in got) == sorted(c["id"] for c in expected)
            assert len(got) == len({c.id for c in got})
            # (The live profile sends the zero time as one `updated` per inbox: no time at all.)
            dated = [c.updated for c in got if c.updated is not None]
            assert dated == sorted(dated, reverse=True)


async def test_conversation_ties_straddle_page_boundaries_in_the_data(server) -> None:
    # The fake data must really hold same-second conversations, or the tests above prove little.
    by_inbox: dict = {}
    for c in server.data.conversations:
        by_inbox.setdefault(c["inbox"], []).append(c["updated"])
    assert any(len(v) != len(set(v)) for v in by_inbox.values())


async def test_pages_and_models_match_the_fake_conventions(shared_server) -> None:
    async with client_for(shared_server) as client:
        page = await client.messages(LONG_THREAD_INBOX, LONG_THREAD_TARGET)
        kinds = {m.kind for m in page}
        assert kinds <= set(MessageKind) and MessageKind.INBOUND in kinds
        team = await client.team()
        assert len(team.members) >= 4
        inboxes = await client.inboxes()
        assert len(inboxes) >= 3 and all(i.members for i in inboxes)
        convo = (await client.conversations(inboxes[0].id, inboxes[0].members[0]))[0]
        again = await client.conversation(convo.id)
        assert again.id == convo.id and again.target == convo.target


async def test_retries_through_injected_429s_and_html_500s(server) -> None:
    sleep = RecordingSleep()
    server.inject(Fault("429", times=2, path="/v1/inboxes", retry_after=2))
    server.inject(Fault("429", times=1, path="/v1/inboxes"))
    server.inject(Fault("500", times=1, path="/v1/inboxes"))
    async with client_for(server, sleep=sleep) as client:
        assert len(await client.inboxes()) >= 3
    assert sleep.delays[:2] == [2.0, 2.0] and len(sleep.delays) == 4
    assert server.counts["GET /v1/inboxes"] == 5


async def test_a_storm_ends_in_one_error(server) -> None:
    server.inject(Fault("429", every=1))
    async with client_for(server, attempts=3) as client:
        with pytest.raises(RateLimitedError, match="request id"):
            await client.inboxes()
    server.clear_faults()
    server.inject(Fault("500", every=1))
    async with client_for(server, attempts=2) as client:
        with pytest.raises(ServerError) as caught:
            await client.inboxes()
    assert "<" not in str(caught.value)


async def test_a_stall_past_the_timeout_is_retried(server, gated_stalls) -> None:
    # The gate holds every stall until the test ends: the timeout is certain, and the 2 s left to
    # the retry is ample for a real answer even on a loaded machine.
    server.inject(Fault("stall", times=1, stall=1.0, path="/v1/inboxes"))
    async with client_for(server, timeout=2.0) as client:
        assert len(await client.inboxes()) >= 3
    assert gated_stalls.slept == [1.0] and server.counts["GET /v1/inboxes"] == 2
    server.inject(Fault("stall", every=1, stall=1.0, path="/v1/inboxes"))
    async with client_for(server, timeout=2.0, attempts=2) as client:
        with pytest.raises(ApiTimeoutError):
            await client.inboxes()
    # Both attempts timed out at the client; on a loaded machine the server thread may read the
    # second one after that.
    eventually(lambda: len(gated_stalls.slept) == 3, "the server held the second attempt too")
    assert gated_stalls.slept == [1.0] * 3 and server.counts["GET /v1/inboxes"] == 4


async def test_wrong_credentials_are_an_auth_error(shared_server) -> None:
    bad = HeymarketClient(Credentials(shared_server.secret_id, "not-the-key"), base_url=shared_server.url)
    async with bad as client:
        with pytest.raises(AuthError) as caught:
            await client.inboxes()
    assert "not-the-key" not in str(caught.value)


async def test_a_forced_401_is_healed_by_re_signing(server) -> None:
    server.inject(Fault("401", times=1))
    async with client_for(server) as client:
        assert len(await client.inboxes()) >= 3
    assert server.counts["GET /v1/inboxes"] == 2


async def test_triage_actions_reach_the_server(server) -> None:
    convo = next(c for c in server.data.conversations if c["status"] == "open" and not c["unread"])
    inbox, target, member = convo["inbox"], convo["target"], member_for(server, convo["inbox"])
    other_member = next(m["id"] for m in server.data.team["members"] if m["id"] != convo["assigned"])
    other_inbox = next(i["id"] for i in server.data.inboxes if i["id"] != inbox)
    async with client_for(server) as client:
        await client.close(inbox, member, target)
        assert (await client.conversation(convo["id"])).closed
        await client.open(inbox, member, target)
        assert not (await client.conversation(convo["id"])).closed
        await client.mark_unread(inbox, member, target)
        assert (await client.conversation(convo["id"])).unread
        await client.mark_read(inbox, member, target)
        assert not (await client.conversation(convo["id"])).unread
        await client.reassign(inbox, member, other_member, target)
        assert (await client.conversation(convo["id"])).assigned == other_member
        await client.transfer(convo["id"], other_inbox)
        assert (await client.conversation(convo["id"])).inbox_id == other_inbox
        with pytest.raises(BadRequestError):
            await client.reassign(other_inbox, member, 987654, target)
    paths = [r.path for r in server.requests if r.method == "POST"]
    for action in ("close", "open", "unread", "read", "reassign", "transfer"):
        assert f"/v1/conversations/{action}" in paths


async def test_a_reassign_whose_answer_is_lost_is_not_repeated(server) -> None:
    convo = server.data.conversations[0]
    other = next(m["id"] for m in server.data.team["members"] if m["id"] != convo["assigned"])
    server.inject(Fault("500", times=1, path="/v1/conversations/reassign", after=True))
    async with client_for(server) as client:
        with pytest.raises(ServerError):
            await client.reassign(convo["inbox"], member_for(server, convo["inbox"]), other, convo["target"])
    assert server.counts["POST /v1/conversations/reassign"] == 1
    assert server.data.conversation_by_id(convo["id"])["assigned"] == other  # it did act


async def test_newer_fetches_only_what_arrived(server) -> None:
    async with client_for(server) as client:
        pager = client.message_pager(LONG_THREAD_INBOX, LONG_THREAD_TARGET)
        await pager.older()
        before = server.counts["GET /v1/messages"]
        added = [server.add_message(LONG_THREAD_INBOX, LONG_THREAD_TARGET, f"new {n}") for n in range(3)]
        got = await pager.newer()
        assert sorted(m.id for m in got) == sorted(m["id"] for m in added)
        assert server.counts["GET /v1/messages"] - before == 1

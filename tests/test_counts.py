"""`POST /v1/conversations/count`: the fake server's route, the client's reading of every answer
shape, and the decision of whether a per-inbox count may feed a badge."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone

import httpx
import pytest

from hmtui.api import Credentials, HeymarketClient, MalformedResponseError, RetryPolicy
from hmtui.api.counts import CountTrust, parse_count, probe_count_filters
from hmtui.fake import FakeHeymarket, FakeOptions

from conftest import new_server
from helpers import RecordingSleep, json_response, mock_client

SHAPES = ["number", "string", "object"]


@pytest.fixture(scope="module")
def module_server() -> Iterator[FakeHeymarket]:
    with new_server() as server:
        yield server


@pytest.fixture
def server(module_server: FakeHeymarket) -> FakeHeymarket:
    """Counting changes nothing, so one server serves the module; options are reset per test."""
    # rate_limit=0: the module's tests share this server's minute, far past 500 requests in all.
    module_server.options = FakeOptions(rate_limit=0)
    module_server.reset_counts()
    return module_server


def client_for(server: FakeHeymarket) -> HeymarketClient:
    return HeymarketClient(
        Credentials(server.secret_id, server.secret_key), base_url=server.url,
        retry=RetryPolicy(attempts=2), timeout=httpx.Timeout(10.0), sleep=RecordingSleep(),
    )


def expected(server: FakeHeymarket, inbox: int | None = None, closed: bool | None = None,
             unread: bool | None = None) -> int:
    return sum(
        1 for c in server.data.conversations
        if (inbox is None or c["inbox"] == inbox)
        and (closed is None or (c["status"] == "closed") == closed)
        and (unread is None or c["unread"] == unread)
    )


# -- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer, count", [
    (347, 347), (0, 0), (347.0, 347), ("347", 347), (" 347\n", 347), ({"count": 347}, 347),
    ({"count": "347"}, 347), ({"total": 12}, 12),
])
def test_parse_count_reads_every_shape(answer: object, count: int) -> None:
    assert parse_count(answer) == count


@pytest.mark.parametrize("answer", [
    -1, 3.5, float("nan"), True, None, "", "3.5", "-3", "abc", "٣", [347], {"n": 3}, {"count": None},
    {"count": {"count": 3}}, {"count": True}, "9" * 40,
])
def test_parse_count_refuses_anything_else(answer: object) -> None:
    assert parse_count(answer) is None


@pytest.mark.parametrize("body", [b'"abc"', b'{"total": "x"}', b"[3]", b"null", b'{"count": -2}'])
async def test_client_count_malformed_is_a_malformed_response(body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    async with mock_client(handler, attempts=1) as client:
        with pytest.raises(MalformedResponseError, match="count"):
            await client.count_conversations()


async def test_client_count_sends_filters_and_date() -> None:
    seen: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return json_response("5")

    async with mock_client(handler) as client:
        assert await client.count_conversations() == 5
        before = datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc)
        assert await client.count_conversations(inbox_id=501, closed=False, unread=True, before=before) == 5
    assert seen == [{}, {"date": "2026-11-20T14:00:00Z",
                         "filters": {"inboxes": [501], "closed": False, "unread": True}}]


# -- the fake server, every shape and both filter settings ---------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("filters", [True, False])
async def test_count_against_the_fake(server: FakeHeymarket, shape: str, filters: bool) -> None:
    server.options.count_shape, server.options.count_filters = shape, filters  # type: ignore[assignment]
    total = expected(server)
    assert total == len(server.data.conversations)
    async with client_for(server) as client:
        assert await client.count_conversations() == total
        for inbox in (501, 502):
            got = await client.count_conversations(inbox_id=inbox)
            assert got == (expected(server, inbox) if filters else total)
            got = await client.count_conversations(inbox_id=inbox, closed=False, unread=True)
            assert got == (expected(server, inbox, closed=False, unread=True) if filters else total)
        # `date`: only conversations updated before it.
        cut = server.data.conversations[10]["updated"]
        older = await client.count_conversations(before=datetime.fromisoformat(cut.replace("Z", "+00:00")))
        assert older == sum(1 for c in server.data.conversations if c["updated"] < cut)


@pytest.mark.parametrize("shape", SHAPES)
def test_fake_count_answers_in_its_shape(server: FakeHeymarket, shape: str) -> None:
    from test_fake_server import sign

    server.options.count_shape = shape  # type: ignore[assignment]
    with httpx.Client(base_url=server.url) as raw:
        answer = raw.post("/v1/conversations/count", content=b"",
                          headers={"Authorization": f"Bearer {sign()}"}).json()
    n = len(server.data.conversations)
    assert answer == {"number": n, "string": str(n), "object": {"count": n}}[shape]
    assert server.counts["POST /v1/conversations/count"] == 1  # not folded into /{id}


@pytest.mark.parametrize("body, field", [
    (b"[]", "body"), (b"{", "body"), (b'{"date": "noon"}', "date"), (b'{"filters": [501]}', "filters"),
    (b'{"filters": {"inboxes": "501"}}', "filters.inboxes"), (b'{"filters": {"inboxes": ["501"]}}', "filters.inboxes"),
    (b'{"filters": {"closed": "yes"}}', "filters.closed"), (b'{"filters": {"unread": 1}}', "filters.unread"),
])
@pytest.mark.parametrize("filters", [True, False])
def test_fake_count_bad_body_is_400_naming_the_field(server: FakeHeymarket, body: bytes, field: str,
                                                     filters: bool) -> None:
    from test_fake_server import sign

    server.options.count_filters = filters
    with httpx.Client(base_url=server.url) as raw:
        answer = raw.post("/v1/conversations/count", content=body,
                          headers={"Authorization": f"Bearer {sign()}", "Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["field"] == field


# -- may a badge use it? -------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("filters", [True, False])
async def test_probe_trusts_the_count_only_when_the_server_filters(server: FakeHeymarket, shape: str,
                                                                   filters: bool) -> None:
    server.options.count_shape, server.options.count_filters = shape, filters  # type: ignore[assignment]
    async with client_for(server) as client:
        trust = await probe_count_filters(client, [i["id"] for i in server.data.inboxes])
    assert trust.trusted() is filters
    assert trust.trusted(closed=False) is filters
    assert trust.trusted(unread=True) is filters
    assert trust.trusted(closed=False, unread=True) is filters
    assert server.counts["POST /v1/conversations/count"] <= 6


def test_trust_needs_two_inboxes_that_differ_from_each_other_and_the_total() -> None:
    trust = CountTrust()
    trust.observe(347, inbox_id=1)
    trust.observe(120, inbox_id=2)
    assert not trust.trusted()  # no unfiltered count to compare with yet
    trust.observe(347)
    assert not trust.trusted()  # inbox 1 answered the total: that may be the filter ignored
    trust.observe(120, inbox_id=3)
    assert not trust.trusted()  # two inboxes, one answer: no proof
    trust.observe(90, inbox_id=4)
    assert trust.trusted()
    assert not trust.trusted(unread=True) and not trust.trusted(closed=False)


def test_trust_in_a_filter_needs_that_filter_to_change_an_answer() -> None:
    trust = CountTrust()
    for inbox, n in ((None, 300), (1, 120), (2, 90)):
        trust.observe(n, inbox_id=inbox)
    trust.observe(120, inbox_id=1, unread=True)  # ignored, it seems
    trust.observe(80, inbox_id=1, closed=False)
    assert not trust.trusted(unread=True) and trust.trusted(closed=False)
    assert not trust.trusted(closed=False, unread=True)
    trust.observe(7, inbox_id=2, unread=True)
    assert trust.trusted(closed=False, unread=True)
    # Proof is kept: a later answer that happens to equal the total withdraws nothing.
    trust.observe(300, inbox_id=5)
    assert trust.trusted(unread=True)


def test_a_filtered_count_before_the_inbox_filter_is_proven_proves_nothing() -> None:
    trust = CountTrust()
    trust.observe(300)
    trust.observe(300, inbox_id=1)
    trust.observe(20, inbox_id=1, unread=True)
    assert not trust.trusted(unread=True)

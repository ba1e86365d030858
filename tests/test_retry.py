"""Retries, timeouts and error messages, with httpx.MockTransport and a sleep that only records."""

import httpx
import pytest

from hmtui.api import (
    ApiTimeoutError,
    BadRequestError,
    MalformedResponseError,
    NetworkError,
    RateLimitedError,
    ServerError,
)
from hmtui.api.retry import RetryPolicy, parse_retry_after

from helpers import RecordingSleep, json_response, mock_client

HTML_500 = b"<html><body><h1>500 Internal Server Error</h1><p>nginx</p></body></html>"


def html_500(request_id="rid-500"):
    return httpx.Response(500, content=HTML_500, headers={"Content-Type": "text/html", "X-Request-Id": request_id})


def script(*responses):
    """A handler answering with each response (or raising each exception) in turn, then []."""
    queue = list(responses)
    calls = []

    def handler(request):
        calls.append(request)
        item = queue.pop(0) if queue else json_response([])
        if isinstance(item, Exception):
            raise item
        return item

    handler.calls = calls
    return handler


async def test_429_honours_retry_after() -> None:
    sleep = RecordingSleep()
    handler = script(json_response({}, 429, **{"Retry-After": "3"}), json_response([{"id": 1}]))
    async with mock_client(handler, sleep=sleep) as client:
        assert [i.id for i in await client.inboxes()] == [1]
    assert sleep.delays == [3.0]


async def test_429_without_retry_after_backs_off_exponentially_with_jitter_and_a_cap() -> None:
    sleep = RecordingSleep()
    handler = script(*[json_response({}, 429) for _ in range(9)], json_response([]))
    async with mock_client(handler, sleep=sleep, attempts=10) as client:
        await client.inboxes()
    policy = RetryPolicy()
    assert len(sleep.delays) == 9
    for n, delay in enumerate(sleep.delays, start=1):
        ceiling = min(policy.max_delay, policy.base_delay * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert sleep.delays[3] > sleep.delays[0]
    assert max(sleep.delays) <= policy.max_delay


async def test_429_storm_gives_up_after_the_bound_with_one_clear_error() -> None:
    sleep = RecordingSleep()
    handler = script(*[json_response({}, 429, request_id=f"r{n}") for n in range(50)])
    async with mock_client(handler, sleep=sleep, attempts=4) as client:
        with pytest.raises(RateLimitedError) as caught:
            await client.inboxes()
    assert len(handler.calls) == 4 and len(sleep.delays) == 3
    assert "429" in str(caught.value) and "r3" in str(caught.value)


def test_retry_after_is_capped_and_read_as_seconds_or_a_date() -> None:
    policy = RetryPolicy(max_retry_after=60)
    assert policy.delay(1, 3600) == 60
    assert parse_retry_after("2.5", now=0) == 2.5
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:30 GMT", now=10) == 20
    assert parse_retry_after("soon", now=0) is None
    assert parse_retry_after("-4", now=0) is None


async def test_html_500_is_retried_then_reported_readably_with_its_request_id() -> None:
    handler = script(*[html_500() for _ in range(5)])
    async with mock_client(handler) as client:
        with pytest.raises(ServerError) as caught:
            await client.inboxes()
    message = str(caught.value)
    assert len(handler.calls) == 5
    assert message == "GET /v1/inboxes: server error (500) (request id rid-500)"


async def test_html_500_then_success() -> None:
    handler = script(html_500(), json_response([{"id": 7}]))
    async with mock_client(handler) as client:
        assert [i.id for i in await client.inboxes()] == [7]


async def test_timeouts_are_retried_then_reported() -> None:
    handler = script(*[httpx.ReadTimeout("slow") for _ in range(5)])
    async with mock_client(handler) as client:
        with pytest.raises(ApiTimeoutError) as caught:
            await client.inboxes()
    assert len(handler.calls) == 5
    assert "did not answer in time" in str(caught.value)


async def test_connect_errors_are_retried() -> None:
    handler = script(httpx.ConnectError("refused"), json_response([{"id": 3}]))
    async with mock_client(handler) as client:
        assert [i.id for i in await client.inboxes()] == [3]
    handler = script(*[httpx.ConnectError("Connection refused") for _ in range(5)])
    async with mock_client(handler) as client:
        with pytest.raises(NetworkError, match="cannot reach api.example.invalid"):
            await client.inboxes()


async def test_malformed_json_is_retried_then_a_clear_error() -> None:
    bad = lambda: httpx.Response(200, content=b'[{"id": 1, "te', headers={"X-Request-Id": "rid-bad"})
    handler = script(bad(), json_response([{"id": 1}]))
    async with mock_client(handler) as client:
        assert len(await client.inboxes()) == 1
    handler = script(*[bad() for _ in range(5)])
    async with mock_client(handler) as client:
        with pytest.raises(MalformedResponseError, match="malformed JSON.*rid-bad"):
            await client.inboxes()


async def test_a_non_list_body_is_malformed_not_a_crash() -> None:
    handler = script(*[json_response({"unexpected": True}) for _ in range(5)])
    async with mock_client(handler) as client:
        with pytest.raises(MalformedResponseError, match="expected a list of inbox objects"):
            await client.inboxes()


async def test_400_is_not_retried_and_says_which_field() -> None:
    handler = script(json_response({"error": "filters.inboxes is required"}, 400, request_id="rid-400"))
    async with mock_client(handler) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.conversations(1, 2)
    assert len(handler.calls) == 1
    assert "filters.inboxes is required" in str(caught.value) and "rid-400" in str(caught.value)


async def test_error_details_are_one_safe_line() -> None:
    handler = script(json_response({"message": "bad\x1b[2J\nfield"}, 400))
    async with mock_client(handler) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.inboxes()
    assert "\x1b" not in str(caught.value) and "\n" not in str(caught.value)


async def test_idempotent_triage_retries_on_5xx() -> None:
    handler = script(html_500(), httpx.Response(200, text="ok"))
    async with mock_client(handler) as client:
        await client.close(1, 2, "14155550100")
    assert len(handler.calls) == 2


@pytest.mark.parametrize("action", ["reassign", "transfer"])
async def test_non_idempotent_triage_is_not_repeated_when_it_may_have_acted(action) -> None:
    async def call(client):
        if action == "reassign":
            await client.reassign(1, 2, 3, "14155550100")
        else:
            await client.transfer(9, 502)

    for failure in (html_500(), httpx.ReadTimeout("slow")):
        handler = script(failure, httpx.Response(200, text="ok"))
        async with mock_client(handler) as client:
            with pytest.raises((ServerError, ApiTimeoutError)):
                await call(client)
        assert len(handler.calls) == 1
    # ...but a 429 or a refused connection never reached the handler: safe to repeat.
    for failure in (json_response({}, 429), httpx.ConnectError("refused")):
        handler = script(failure, httpx.Response(200, text="ok"))
        async with mock_client(handler) as client:
            await call(client)
        assert len(handler.calls) == 2


async def test_on_retry_reports_each_wait() -> None:
    events = []
    handler = script(json_response({}, 429, **{"Retry-After": "1"}), html_500(), json_response([]))
    async with mock_client(handler, on_retry=events.append) as client:
        await client.inboxes()
    assert [(e.retry, e.delay) for e in events][0] == (1, 1.0)
    assert len(events) == 2 and isinstance(events[1].error, ServerError)


async def test_requests_are_counted_by_endpoint() -> None:
    async with mock_client(script()) as client:
        await client.inboxes()
        await client.messages(501, "+1 (415) 555-0142", before=100)
    assert client.requests == {"GET /v1/inboxes": 1, "GET /v1/messages": 1}

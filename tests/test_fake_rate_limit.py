"""The fake server's per-minute rate limit (FakeOptions.rate_limit), and the client's limiter
against it. The server and the client share one fake clock, advanced only by the client's sleeps:
no test waits for real."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from hmtui.api import Credentials, HeymarketClient, RateLimitedError, RetryPolicy
from hmtui.api.limiter import RequestLimiter
from hmtui.fake import FakeHeymarket, FakeOptions

from conftest import ANCHOR, SEED, run_cli


class SharedClock:
    """Seconds since the epoch, moved only by `advance` and by the sleeps it is handed to."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))  # near real time, so the JWTs it stamps look sane
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> SharedClock:
    return SharedClock()


def limited_server(clock: SharedClock, rate_limit: int) -> FakeHeymarket:
    return FakeHeymarket(seed=SEED, anchor=ANCHOR, clock=clock, options=FakeOptions(rate_limit=rate_limit))


@pytest.fixture
def server_factory(clock: SharedClock) -> Iterator:
    started: list[FakeHeymarket] = []

    def make(rate_limit: int) -> FakeHeymarket:
        server = limited_server(clock, rate_limit).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def client_for(server: FakeHeymarket, clock: SharedClock, *, attempts: int = 1,
               limiter: RequestLimiter | None = None) -> HeymarketClient:
    return HeymarketClient(Credentials(server.secret_id, server.secret_key), base_url=server.url, clock=clock,
                           sleep=clock.sleep, retry=RetryPolicy(attempts=attempts), limiter=limiter)


def test_default_is_heymarkets_500_a_minute() -> None:
    assert FakeOptions().rate_limit == 500


def test_the_501st_request_in_a_minute_gets_a_429_with_retry_after(server_factory, clock) -> None:
    server = server_factory(500)

    async def scenario() -> tuple[RateLimitedError, httpx.Response]:
        async with client_for(server, clock) as client:
            for i in range(500):
                if i % 50 == 0:
                    clock.advance(1.0)  # 10 s in all: still one minute
                await client.inboxes()
            with pytest.raises(RateLimitedError) as info:
                await client.inboxes()
            raw = await client._http.get("/v1/team", headers={"Authorization": f"Bearer {client.signer.token()}"})
            return info.value, raw

    error, raw = asyncio.run(scenario())
    assert error.retry_after == 51  # the first request (at t=+1 s) leaves the window at t=+61 s; now is +10 s
    assert raw.status_code == 429 and raw.headers["retry-after"] == "51"
    assert raw.json()["error"] == "Too Many Requests" and "500 requests per minute" in raw.json()["message"]
    assert raw.headers["x-request-id"]
    # Refusals are counted like any request, and recorded with their status.
    assert server.counts["GET /v1/inboxes"] == 501 and server.counts["GET /v1/team"] == 1
    assert [r.status for r in list(server.requests)[-3:]] == [200, 429, 429]


def test_the_window_rolls_with_the_clock(server_factory, clock) -> None:
    server = server_factory(3)
    retry_afters: list[float | None] = []

    async def attempt(client: HeymarketClient) -> str:
        try:
            await client.inboxes()
            return "ok"
        except RateLimitedError as exc:
            retry_afters.append(exc.retry_after)
            return "429"

    async def scenario() -> list[str]:
        seen = []
        async with client_for(server, clock) as client:
            for step in (0, 10, 10, 10):  # served at +0, +10, +20; refused at +30
                clock.advance(step)
                seen.append(await attempt(client))
            clock.advance(29.5)  # +59.5: the slot of +0 frees in half a second
            seen.append(await attempt(client))
            clock.advance(0.5)  # +60: it has
            seen.append(await attempt(client))
            seen.append(await attempt(client))  # full again until +10 leaves, at +70
        return seen

    assert asyncio.run(scenario()) == ["ok", "ok", "ok", "429", "429", "ok", "429"]
    assert retry_afters == [30, 1, 10]


def test_a_refused_request_takes_no_slot_and_no_fault(server_factory, clock) -> None:
    from hmtui.fake import Fault

    server = server_factory(1)

    async def scenario() -> list[int]:
        statuses = []
        async with client_for(server, clock) as client:
            for step in (0, 30, 30, 0):
                clock.advance(step)
                if step == 30 and not server._faults:
                    server.inject(Fault("500", times=1))
                try:
                    await client.inboxes()
                except Exception:  # noqa: BLE001  (the 429s and the 500 are what is looked at)
                    pass
                statuses.append(server.requests[-1].status)
        return statuses

    # +0 served. +30 refused, and the fault injected then is not spent on the refusal. +60 the
    # slot of +0 is free (the refusal at +30 took none), so it is served, with the fault's 500.
    assert asyncio.run(scenario()) == [200, 429, 500, 429]


def test_rate_limit_zero_is_off(server_factory, clock) -> None:
    server = server_factory(0)

    async def scenario() -> None:
        async with client_for(server, clock) as client:
            for _ in range(20):  # all at one instant
                await client.inboxes()

    asyncio.run(scenario())
    assert server.counts["GET /v1/inboxes"] == 20
    assert {r.status for r in server.requests} == {200}


def test_the_client_honouring_retry_after_gets_through(server_factory, clock) -> None:
    server = server_factory(3)

    async def scenario() -> int:
        async with client_for(server, clock, attempts=3) as client:
            for _ in range(4):
                await client.inboxes()
            return len(await client.inboxes())

    assert asyncio.run(scenario()) > 0
    # The 4th waited out the Retry-After (60 s: the three served at +0 fill the minute), then got
    # through; the 5th waits no more (60 s on, the window is empty).
    assert clock.sleeps == [60.0]
    assert [r.status for r in server.requests] == [200, 200, 200, 429, 200, 200]


def burst(server: FakeHeymarket, clock: SharedClock, limiter: RequestLimiter | None, n: int = 200) -> None:
    # One after another, as fast as the client lets them go. (Concurrent requests would let the
    # fake clock run ahead of the real requests still queued for a connection.)
    async def scenario() -> None:
        async with client_for(server, clock, limiter=limiter) as client:
            for i in range(n):
                await (client.inboxes() if i % 2 else client.team())

    asyncio.run(scenario())


def test_a_burst_of_200_paced_at_60_a_minute_sees_no_429(server_factory, clock) -> None:
    # The server allows 100 a minute (say, what the rest of the team leaves). Paced at 60 a minute
    # with a burst of 6, no rolling minute holds more than 66 of ours.
    server = server_factory(100)
    limiter = RequestLimiter(60, clock, clock.sleep)
    burst(server, clock, limiter)
    assert [r.status for r in server.requests].count(429) == 0
    assert sum(server.counts.values()) == 200
    # The waits are the fake clock's: the burst is free, then one second a request.
    assert sum(clock.sleeps) == pytest.approx(200 - limiter.burst)
    assert all(s == pytest.approx(1.0) for s in clock.sleeps)


def test_the_same_burst_unpaced_is_refused(server_factory, clock) -> None:
    server = server_factory(100)
    with pytest.raises(RateLimitedError):
        burst(server, clock, None)
    assert [r.status for r in server.requests].count(429) > 0


def test_fake_server_command_takes_the_new_flags(isolated_env) -> None:
    from hmtui.cli import _fake_server, build_parser

    args = build_parser().parse_args(["fake-server", "--rate-limit", "0", "--no-count-filters",
                                      "--count-shape", "object", "--feed-cursor", "after"])
    options = _fake_server(args).options
    assert (options.rate_limit, options.count_filters, options.count_shape, options.feed_cursor) == (
        0, False, "object", "after")
    defaults = _fake_server(build_parser().parse_args(["demo"])).options
    assert (defaults.rate_limit, defaults.count_filters, defaults.count_shape, defaults.feed_cursor) == (
        500, None, None, "before")  # None: the profile decides (tests/test_live_profile.py)
    result = run_cli("fake-server", "--rate-limit", "-1", env=isolated_env)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "--rate-limit" in result.stderr and "must be 0 or more" in result.stderr
    result = run_cli("demo", "--count-shape", "list", env=isolated_env)
    assert result.returncode == 2 and "--count-shape" in result.stderr

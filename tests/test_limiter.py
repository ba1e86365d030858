"""The client-side request limiter (hmtui/api/limiter.py), on virtual time: no test sleeps for real."""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from hmtui import cli
from hmtui.api.limiter import Priority, RequestLimiter, background, current_priority, interactive
from hmtui.config import DEFAULT_MAX_REQUESTS_PER_MINUTE, Config, ConfigError, load_config

from conftest import env_for, run_cli
from helpers import json_response, mock_client


class VirtualTime:
    """A clock and a sleep for it: sleepers wake in order of their deadline when `run` advances
    the clock to it, so concurrent waits overlap as they would in real time."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + delay, next(self._seq), future))
        await future

    async def run(self, *tasks: asyncio.Task[Any]) -> None:
        """Run until every task is done, advancing the clock only when all of them are blocked."""
        for _ in range(100_000):
            for _ in range(20):  # let every runnable task reach its next wait
                await asyncio.sleep(0)
            if all(task.done() for task in tasks):
                for task in tasks:
                    task.result()
                return
            if not self._sleepers:
                raise AssertionError("deadlock: tasks wait on something other than time")
            wake, _, future = heapq.heappop(self._sleepers)
            if future.cancelled():  # its sleeper was cancelled: time does not move for it
                continue
            self.now = max(self.now, wake)
            future.set_result(None)
        raise AssertionError("did not finish")


def limiter_on(vt: VirtualTime, per_minute: int = 60, **kw: Any) -> RequestLimiter:
    return RequestLimiter(per_minute, vt.clock, vt.sleep, **kw)


def run(vt: VirtualTime, *coros: Awaitable[Any]) -> None:
    async def main() -> None:
        tasks = [asyncio.ensure_future(c) for c in coros]
        await vt.run(*tasks)

    asyncio.run(main())


# -- the bucket ------------------------------------------------------------------------------------


def test_defaults_burst_a_tenth_of_a_minute_and_a_reserve() -> None:
    limiter = RequestLimiter(60)
    assert (limiter.burst, limiter.reserve) == (6, 2)
    assert (RequestLimiter(500).burst, RequestLimiter(1).burst, RequestLimiter(1).reserve) == (50, 1, 0)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "60"])
def test_per_minute_must_be_a_positive_whole_number(bad: Any) -> None:
    with pytest.raises(ValueError):
        RequestLimiter(bad)


@pytest.mark.parametrize("per_minute, gap", [(60, 1.0), (120, 0.5), (30, 2.0)])
def test_n_requests_cost_the_burst_free_then_one_gap_each(per_minute: int, gap: float) -> None:
    vt = VirtualTime()
    limiter = limiter_on(vt, per_minute)
    n = limiter.burst + 4

    async def requests() -> None:
        for _ in range(n):
            await limiter.acquire()

    run(vt, requests())
    assert vt.sleeps == pytest.approx([gap] * 4)
    assert vt.now - 1000.0 == pytest.approx(4 * gap)
    assert limiter.stats.granted[Priority.INTERACTIVE] == n


def test_an_idle_bucket_refills_to_its_burst_and_no_further() -> None:
    vt = VirtualTime()
    limiter = limiter_on(vt, 60)

    async def scenario() -> None:
        for _ in range(6):
            await limiter.acquire()
        vt.now += 3600  # an hour idle: still only a burst's worth saved up
        for _ in range(7):
            await limiter.acquire()

    run(vt, scenario())
    assert vt.sleeps == pytest.approx([1.0])


def test_interactive_jumps_ahead_of_queued_background_requests() -> None:
    vt = VirtualTime()
    limiter = limiter_on(vt, 60, burst=1, reserve=0)
    order: list[str] = []

    async def one(name: str, prio: Priority) -> None:
        await limiter.acquire(prio)
        order.append(name)

    async def scenario() -> None:
        await limiter.acquire()  # the bucket is empty now
        queued = [asyncio.ensure_future(one(f"b{i}", Priority.BACKGROUND)) for i in range(4)]
        for _ in range(5):
            await asyncio.sleep(0)  # the background requests are all queued, b0 waiting on the bucket
        key = asyncio.ensure_future(one("key", Priority.INTERACTIVE))
        await asyncio.gather(key, *queued)

    run(vt, scenario())
    assert order[0] == "key", order
    assert order[1:] == ["b0", "b1", "b2", "b3"]  # background among itself: first come, first served


def test_background_waits_while_interactive_requests_wait() -> None:
    vt = VirtualTime()
    limiter = limiter_on(vt, 60, burst=1, reserve=0)
    order: list[str] = []

    async def one(name: str, prio: Priority) -> None:
        await limiter.acquire(prio)
        order.append(name)

    async def scenario() -> None:
        await limiter.acquire()
        keys = [asyncio.ensure_future(one(f"k{i}", Priority.INTERACTIVE)) for i in range(3)]
        await asyncio.sleep(0)
        refresh = asyncio.ensure_future(one("refresh", Priority.BACKGROUND))
        await asyncio.gather(refresh, *keys)

    run(vt, scenario())
    assert order == ["k0", "k1", "k2", "refresh"]


def test_the_reserve_keeps_a_token_for_a_key_while_background_work_drains_the_bucket() -> None:
    vt = VirtualTime()
    limiter = limiter_on(vt, 60)  # burst 6, reserve 2
    key_waited: list[float] = []
    refreshed = 0

    async def refresh() -> None:
        nonlocal refreshed
        with background():
            for _ in range(30):
                await limiter.acquire()
                refreshed += 1

    async def key_presses() -> None:
        for _ in range(5):
            # At random points of the drain: after a few background grants each time.
            target = refreshed + 3
            while refreshed < target:
                await asyncio.sleep(0)
            start = vt.now
            sleeps = len(vt.sleeps)
            await limiter.acquire()
            key_waited.append(vt.now - start)
            assert len(vt.sleeps) == sleeps  # the key itself never slept

    run(vt, refresh(), key_presses())
    assert key_waited == [0.0] * 5
    assert limiter.stats.waits[Priority.INTERACTIVE] == 0
    assert limiter.stats.granted == {Priority.INTERACTIVE: 5, Priority.BACKGROUND: 30}
    # The background drain is paced at the full rate once at the reserve: it is not starved.
    assert vt.now - 1000.0 == pytest.approx(30 + 5 - (6 - 2), abs=1.0)


def test_background_flag_is_a_context_and_survives_into_tasks() -> None:
    seen: list[Priority] = []

    async def child() -> None:
        seen.append(current_priority())

    async def scenario() -> None:
        seen.append(current_priority())
        with background():
            await asyncio.create_task(child())
            with interactive():
                seen.append(current_priority())
            task = asyncio.ensure_future(child())
        await task  # created inside the block: background, though awaited outside
        seen.append(current_priority())

    asyncio.run(scenario())
    B, I = Priority.BACKGROUND, Priority.INTERACTIVE
    assert seen == [I, B, I, B, I]


def test_a_cancelled_interactive_wait_lets_background_go_on() -> None:
    vt = VirtualTime()
    limiter = limiter_on(vt, 60, burst=1, reserve=0)
    done: list[str] = []

    async def scenario() -> None:
        await limiter.acquire()
        key = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(0)
        key.cancel()

        async def bg() -> None:
            await limiter.acquire(Priority.BACKGROUND)
            done.append("bg")

        await asyncio.gather(bg(), return_exceptions=True)

    run(vt, scenario())
    assert done == ["bg"]


# -- in the client ---------------------------------------------------------------------------------


def test_every_retry_attempt_takes_a_token() -> None:
    vt = VirtualTime()
    limiter = limiter_on(vt, 60)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return json_response({"error": "Unauthorized"}, status=401)  # re-sign: another attempt
        if calls <= 3:
            return json_response({"error": "boom"}, status=500)
        return json_response([])

    client = mock_client(handler, attempts=5, limiter=limiter)

    async def scenario() -> None:
        assert await client.inboxes() == []
        await client.aclose()

    run(vt, scenario())
    assert calls == 4
    assert limiter.stats.granted[Priority.INTERACTIVE] == 4


def test_client_requests_under_background_are_background() -> None:
    vt = VirtualTime()
    limiter = limiter_on(vt, 60)
    client = mock_client(lambda request: json_response([]), limiter=limiter)

    async def scenario() -> None:
        await client.inboxes()
        with background():
            await asyncio.gather(client.inboxes(), client.inboxes())
        await client.aclose()

    run(vt, scenario())
    assert limiter.stats.granted == {Priority.INTERACTIVE: 1, Priority.BACKGROUND: 2}


def test_a_client_without_a_limiter_never_waits() -> None:
    client = mock_client(lambda request: json_response([]))
    assert client.limiter is None

    async def scenario() -> None:
        for _ in range(300):
            await client.inboxes()
        await client.aclose()

    asyncio.run(scenario())
    assert client.requests["GET /v1/inboxes"] == 300


# -- config and CLI --------------------------------------------------------------------------------


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_config_default_and_value(tmp_path: Path) -> None:
    assert load_config({}, write_config(tmp_path, "")).max_requests_per_minute == DEFAULT_MAX_REQUESTS_PER_MINUTE == 60
    assert load_config({}, write_config(tmp_path, "max_requests_per_minute = 500\n")).max_requests_per_minute == 500
    assert load_config({}, write_config(tmp_path, "max_requests_per_minute = 1\n")).max_requests_per_minute == 1


@pytest.mark.parametrize("value", ["0", "-5", "501", "60.0", "true", '"60"'])
def test_config_rejects_a_bad_value_in_one_line(tmp_path: Path, value: str) -> None:
    path = write_config(tmp_path, f"max_requests_per_minute = {value}\n")
    with pytest.raises(ConfigError) as info:
        load_config({}, path)
    message = str(info.value)
    assert "\n" not in message
    assert "max_requests_per_minute must be a whole number from 1 to 500" in message


def test_cli_bad_value_is_a_one_line_usage_error(shared_server, isolated_env, tmp_path: Path) -> None:
    write_config(tmp_path, "max_requests_per_minute = 0\n")  # isolated_env's HMTUI_CONFIG
    result = run_cli("inboxes", env=env_for(shared_server, isolated_env))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "max_requests_per_minute" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def _clients_built(monkeypatch: pytest.MonkeyPatch, config: Config, handler_name: str) -> Any:
    seen: list[Any] = []

    async def record(client: Any, config: Config, args: argparse.Namespace) -> int:
        seen.append(client)
        return 0

    monkeypatch.setattr(cli, handler_name, record)
    config.secret_id, config.secret_key = "id", "key-0123456789"
    config.base_url = "http://127.0.0.1:9"
    assert asyncio.run(cli._with_client(config, argparse.Namespace(), getattr(cli, handler_name))) == 0
    return seen[0]


def test_the_config_value_reaches_the_tui_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = load_config({}, write_config(tmp_path, "max_requests_per_minute = 123\n"))
    client = _clients_built(monkeypatch, config, "cmd_tui")
    assert isinstance(client.limiter, RequestLimiter)
    assert client.limiter.per_minute == 123
    assert client.limiter.burst == 12


def test_one_shot_commands_are_not_paced_by_the_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = load_config({}, write_config(tmp_path, "max_requests_per_minute = 123\n"))
    assert _clients_built(monkeypatch, config, "cmd_history").limiter is None


def test_the_demo_builds_its_client_with_the_limiter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(__import__("os").environ):
        if key.startswith(("HEYMARKET_", "HMTUI_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HMTUI_CONFIG", str(write_config(tmp_path, "max_requests_per_minute = 7\n")))
    seen: list[Any] = []

    async def record(client: Any, config: Config, args: argparse.Namespace) -> int:
        seen.append(client.limiter)
        return 0

    monkeypatch.setattr(cli, "cmd_tui", record)
    args = cli.build_parser().parse_args(["demo"])
    assert cli.run_demo(args) == 0
    assert seen[0] is not None and seen[0].per_minute == 7
    # With no pace of its own in the config, the demo keeps to its private server's limit.
    monkeypatch.setenv("HMTUI_CONFIG", str(write_config(tmp_path, "")))
    assert cli.run_demo(cli.build_parser().parse_args(["demo"])) == 0
    assert seen[1].per_minute == 500


# -- in the app ------------------------------------------------------------------------------------


async def test_the_apps_badge_scan_is_background_and_opening_a_thread_interactive(server) -> None:
    from app_harness import make_app, settle

    app = make_app(server)
    # Generous, so nothing waits: this counts which priority each request had.
    app.client.limiter = limiter = RequestLimiter(60_000, burst=10_000)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        scanned = limiter.stats.granted[Priority.BACKGROUND]
        opened = limiter.stats.granted[Priority.INTERACTIVE]
        assert scanned >= len(server.data.inboxes)  # at least a page per inbox, all background
        await pilot.press("j", "enter")
        await settle(pilot)
        assert limiter.stats.granted[Priority.INTERACTIVE] > opened
        await app.main.refresh_all()  # a manual refresh: only its badge scan is background
    total = limiter.stats.granted[Priority.INTERACTIVE] + limiter.stats.granted[Priority.BACKGROUND]
    assert total == sum(app.client.requests.values())

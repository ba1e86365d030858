"""Running the Textual app against the fake server, deterministically."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from hmtui.api import Credentials, HeymarketClient, RetryPolicy
from hmtui.config import Config
from hmtui.ui.app import HmtuiApp
from hmtui.ui.scenes import pending_work, settle  # noqa: F401  (re-exported for the tests)

from conftest import ANCHOR
from helpers import RecordingSleep

UTC = timezone.utc
# Rounds of wait_until() before a condition that never comes true fails the test.
WAIT_ROUNDS = 1500
WAIT_SECONDS = 60.0


def frozen_clock(moment: datetime = ANCHOR):
    return lambda: moment


def make_app(server, *, tmp_path: Path | None = None, attempts: int = 3, timeout: float = 30.0,
             config: Config | None = None, refresh_interval: float | None = 0, retry: RetryPolicy | None = None,
             sleep: Callable[[float], Awaitable[None]] | None = None,
             transport: httpx.AsyncBaseTransport | None = None, clock: Callable[[], datetime] | None = None,
             **kw: Any) -> HmtuiApp:
    """The app on the fake server. `refresh_interval=None` takes the config's (the CLI's way);
    the default 0 turns the background refresh off, so tests drive refreshes themselves. The
    timeout is generous: on a loaded machine a loopback answer can take seconds, and a retry
    the test did not plan for changes what it counts (tests of timeouts pass their own)."""
    client = HeymarketClient(
        Credentials(server.secret_id, server.secret_key),
        base_url=server.url,
        retry=retry or RetryPolicy(attempts=attempts),
        timeout=httpx.Timeout(timeout),
        sleep=sleep or RecordingSleep(),
        transport=transport,
    )
    kw.setdefault("reraise", True)  # an unexpected error in the app fails the test
    app = HmtuiApp(
        client,
        config=config or Config(),
        clock=clock or frozen_clock(),
        tz=UTC,
        refresh_interval=refresh_interval,
        export_dir=tmp_path,
        **kw,
    )
    app.preview_delay = 0.0
    record_notifications(app)
    return app


def record_notifications(app: HmtuiApp) -> None:
    """Keep every notification the app raises in `app.notified`. The app's own list drops a toast
    when its timeout (8-10 s) has passed, which on a busy machine can be before the test looks."""
    notified: list[Any] = []
    notifications = app._notifications
    add = notifications.add

    def recording_add(notification: Any) -> None:
        notified.append(notification)
        add(notification)

    notifications.add = recording_add  # type: ignore[method-assign]
    app.notified = notified  # type: ignore[attr-defined]


@asynccontextmanager
async def running(server, *, size=(160, 45), settle_first: bool = True,
                  prepare: Callable[[HmtuiApp], None] | None = None, notifications: bool = False,
                  **kw: Any) -> AsyncIterator[tuple[HmtuiApp, Any]]:
    """The app, running headless. With the background refresh on, the app is never idle for
    long: pass settle_first=False and wait on conditions instead. `prepare(app)` runs before
    the app starts (to watch it from its first frame)."""
    app = make_app(server, **kw)
    if prepare is not None:
        prepare(app)
    try:
        async with app.run_test(size=size, notifications=notifications) as pilot:  # True: toasts are drawn
            if settle_first:
                await settle(pilot)
            yield app, pilot
    finally:
        # A freeze (start-up's, hmtui/startup.py) outlives the app: undo it before the next test.
        gc.unfreeze()


async def wait_until(pilot, condition: Callable[[], object], what: str, *, rounds: int = WAIT_ROUNDS,
                     within: float = WAIT_SECONDS) -> None:
    """Pause until `condition()` holds: at least `rounds` pilot pauses and at least `within`
    seconds, so a hang fails. Both bounds: a pause of an idle app takes microseconds, and what
    another thread or a timer makes true (a loopback answer, the refresh loop) takes real time,
    a lot of it on a loaded machine."""
    deadline = time.monotonic() + within
    paused = 0
    while not condition():
        if paused >= rounds and time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await (pilot.pause() if paused < rounds else pilot.pause(0.01))
        paused += 1


class GatedTransport(httpx.AsyncBaseTransport):
    """Real loopback HTTP that records every request the app attempts (even to a stopped
    server), and can hold the requests to a path until the test lets them go: the moment between
    a keypress and the server's answer, made to last as long as the test needs."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._held: dict[str, asyncio.Event] = {}
        self.attempts: list[tuple[str, str]] = []
        self.waiting = 0
        self.on_request: Callable[[httpx.Request], None] | None = None

    def hold(self, path: str) -> None:
        self._held[path] = asyncio.Event()

    def release(self, path: str) -> None:
        self._held.pop(path).set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts.append((request.method, request.url.path))
        if self.on_request is not None:
            self.on_request(request)
        gate = next((event for path, event in self._held.items() if request.url.path.startswith(path)), None)
        if gate is not None:
            self.waiting += 1
            try:
                await gate.wait()
            finally:
                self.waiting -= 1
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class GatedSleep:
    """The client's wait between retries: records each delay and waits until released, so a
    test can look at the app in the middle of a retry."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._released = asyncio.Event()

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await self._released.wait()

    def release(self) -> None:
        self._released.set()


class MovableClock:
    """A frozen clock a test can move forward."""

    def __init__(self, moment: datetime = ANCHOR) -> None:
        self.now = moment

    def __call__(self) -> datetime:
        return self.now


def use_env(monkeypatch, env: dict[str, str]) -> None:
    """Make `env` this process's whole hmtui environment (for running the CLI in-process)."""
    for key in list(os.environ):
        if key.startswith(("HEYMARKET_", "HMTUI_")):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def run_tui_like_the_cli(argv: list[str], monkeypatch,
                         scenario: Callable[[HmtuiApp, Any], Awaitable[Any]]) -> tuple[int, HmtuiApp, Any]:
    """`hmtui ARGV` in this process: the CLI builds the app (its client, config, store, retries)
    exactly as it does for a user, and the app runs headless, driven by `scenario(app, pilot)`
    instead of a terminal. Returns the CLI's exit code, the app, and what the scenario returned
    (the app's screens are gone once it exits). Call from a sync test (the CLI runs its own event
    loop); set the environment first (use_env)."""
    from hmtui import cli

    seen: dict[str, Any] = {}

    async def run_headless(self: HmtuiApp, **_: Any) -> Any:
        seen["app"] = self
        async with self.run_test(size=(160, 45)) as pilot:
            await settle(pilot)
            seen["result"] = await scenario(self, pilot)
            await settle(pilot)
        return self.return_value

    monkeypatch.setattr(HmtuiApp, "run_async", run_headless)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        code = cli.main(argv)
    finally:
        # The CLI set up logging for a process of its own: give the test process its own back.
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)
        gc.unfreeze()
    assert "app" in seen, f"hmtui {' '.join(argv)} did not start the app (exit code {code})"
    return code, seen["app"], seen.get("result")


def files_under(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []


def screen_text(widget) -> list[str]:
    """The lines a Line-API widget shows right now."""
    return [widget.render_line(y).text for y in range(widget.size.height)]

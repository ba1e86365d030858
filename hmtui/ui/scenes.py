"""Deterministic scenes of the app on the fake server, for snapshot tests and `screenshots/`.

`python -m hmtui.ui.scenes [DIR]` writes one SVG per scene (default: screenshots/). The snapshot
tests drive the same scenes, so the README's pictures are what the tests check.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from hmtui.api import Credentials, HeymarketClient, RetryPolicy
from hmtui.config import Config
from hmtui.fake import LONG_THREAD_INBOX, LONG_THREAD_TARGET, FakeHeymarket, FakeOptions

# The data's "now" and the app's frozen clock: every scene renders the same on every machine.
ANCHOR = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
SEED = 7
# Shown instead of the loopback port, which changes from run to run.
DISPLAY_BASE_URL = "https://api.heymarket.demo"


class LoopbackTransport(httpx.AsyncBaseTransport):
    """Sends requests for DISPLAY_BASE_URL to the fake server over real loopback HTTP, and can
    pretend the network is gone."""

    def __init__(self, server_url: str) -> None:
        self._target = httpx.URL(server_url)
        self._inner = httpx.AsyncHTTPTransport()
        self.offline = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.offline:
            raise httpx.ConnectError("All connection attempts failed", request=request)
        request.url = request.url.copy_with(scheme=self._target.scheme, host=self._target.host, port=self._target.port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def start_server(**options: Any) -> FakeHeymarket:
    return FakeHeymarket(seed=SEED, anchor=ANCHOR, options=FakeOptions(**options)).start()


def make_app(server: FakeHeymarket, *, attempts: int = 2, config: Config | None = None, **kw: Any) -> Any:
    from hmtui.ui.app import HmtuiApp

    async def no_wait(_: float) -> None:
        return None

    transport = LoopbackTransport(server.url)
    client = HeymarketClient(
        Credentials(server.secret_id, server.secret_key),
        base_url=DISPLAY_BASE_URL,
        transport=transport,
        retry=RetryPolicy(attempts=attempts),
        sleep=no_wait,
    )
    app = HmtuiApp(client, config=config or Config(), clock=lambda: ANCHOR, tz=timezone.utc,
                   refresh_interval=0, **kw)
    app.preview_delay = 0.0
    app.transport = transport
    return app


async def settle(pilot: Any) -> None:
    """Wait until every worker the app started has finished and the screen has caught up."""
    from textual.worker import WorkerFailed

    for _ in range(6):
        await pilot.pause()
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:
            pass  # the app reports worker failures itself; tests look at what it showed
    await pilot.pause()


async def _main(pilot: Any) -> None:
    await settle(pilot)


async def _long_thread(pilot: Any) -> None:
    await settle(pilot)
    screen = pilot.app.screen_stack[0]
    conversations = screen.conversations
    index = next(n for n, c in enumerate(conversations.items) if c.target == LONG_THREAD_TARGET)
    conversations.move_cursor(index)
    await pilot.press("enter")
    await settle(pilot)
    for _ in range(3):  # three older pages: history loaded lazily above the first screen
        await pilot.press("g")
        await settle(pilot)
    await pilot.press("j", "j", "j")
    await settle(pilot)


async def _help(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await settle(pilot)


async def _offline(pilot: Any) -> None:
    await settle(pilot)
    pilot.app.transport.offline = True
    await pilot.press("r")
    await settle(pilot)


@dataclass(frozen=True)
class Scene:
    name: str
    size: tuple[int, int]
    run: Callable[[Any], Awaitable[None]]
    kwargs: tuple[tuple[str, Any], ...] = ()


SCENES = [
    Scene("main", (150, 42), _main),
    Scene("long-thread", (150, 42), _long_thread, (("start_inbox", LONG_THREAD_INBOX),)),
    Scene("help", (150, 42), _help),
    Scene("narrow", (90, 36), _main),
    Scene("offline", (150, 42), _offline),
]


async def render_scene(scene: Scene) -> str:
    """The SVG of one scene."""
    server = start_server()
    try:
        app = make_app(server, **dict(scene.kwargs))
        async with app.run_test(size=scene.size) as pilot:
            await scene.run(pilot)
            return app.export_screenshot(title=f"hmtui: {scene.name}")
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else Path("screenshots")
    out.mkdir(parents=True, exist_ok=True)
    for scene in SCENES:
        path = out / f"{scene.name}.svg"
        path.write_text(asyncio.run(render_scene(scene)), encoding="utf-8")
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
    app.fake_server = server  # a scene may make the fake refuse a send (hmtui/fake/sending.py)
    # A toast expires by the wall clock, not the frozen one: in a picture it stays, however long
    # the machine took to get there.
    notify = app.notify

    def lasting_notify(*args: Any, **kwargs: Any) -> None:
        kwargs["timeout"] = 24 * 3600
        notify(*args, **kwargs)

    app.notify = lasting_notify
    return app


# Workers that live as long as the app (the background refresh): never "finished", so settling
# does not wait for them; a test that runs one waits on what it does instead.
LONG_LIVED_GROUPS = frozenset({"refresh-loop"})
# How many rounds settle() waits before it calls the app hung. A round is at least one event-loop
# pass of ~20 ms (Textual's idle wait), so this bound is reached only by real work that never
# ends (a stalled worker, a timer that re-arms itself), never by a slow machine.
SETTLE_ROUNDS = 1500


class AppDidNotSettle(AssertionError):
    """The app kept working (or waiting) past settle()'s bound: a hang, reported as a failure."""


def pending_work(app: Any, *, timers: bool = True) -> list[str]:
    """What the app still has to do: running workers, queued messages, one-shot timers (the
    debounces) and cache writes not yet written. Empty when the app is idle."""
    from textual.worker import WorkerState

    busy: list[str] = []
    for worker in app.workers:
        if worker.group in LONG_LIVED_GROUPS:
            continue
        if worker.state in (WorkerState.PENDING, WorkerState.RUNNING):
            busy.append(f"worker {worker.group}/{worker.name}")
    nodes = [app]
    for screen in app.screen_stack:
        nodes.extend(screen.walk_children(with_self=True))
    for node in nodes:
        if node.message_queue_size or node._pending_message is not None:  # noqa: SLF001
            busy.append(f"messages for {node!r}")
    # One-shot timers of the app and its screens: the debounces (preview, find, search). Widgets'
    # own timers (a toast's expiry, a blinking cursor) are not the app's work.
    for node in ([app, *app.screen_stack] if timers else []):
        for timer in list(node._timers):  # noqa: SLF001
            task = timer._task  # noqa: SLF001
            if timer._repeat == 0 and task is not None and not task.done():  # noqa: SLF001
                busy.append(f"timer {timer.name} of {node!r}")
    # The workspace's own debounces (the list cursor's preview, the sidebar's inbox).
    workspace = getattr(app, "workspace", None)
    if timers and workspace is not None and workspace.timers_pending:
        busy.append("workspace preview timer")
    writer = getattr(app, "writer", None)
    if writer is not None and writer.pending:
        busy.append(f"{writer.pending} cache writes")
    return busy


async def settle(pilot: Any, *, rounds: int = SETTLE_ROUNDS, timers: bool = True) -> None:
    """Wait until the app is idle: every worker it started has finished (the refresh loop
    aside), no message is queued, no debounce timer is pending and the cache writer has written
    everything; then let the screen catch up. Bounded: an app that never gets idle raises
    AppDidNotSettle, naming what it was still doing, instead of stalling the test run."""
    app = pilot.app
    quiet_rounds = 0
    bindings_refreshed = False
    for _ in range(rounds):
        await pilot.pause()
        busy = pending_work(app, timers=timers)
        if not busy:
            # Idle twice in a row: a worker that just finished may have posted one last message.
            quiet_rounds += 1
            if quiet_rounds >= 2:
                if bindings_refreshed:
                    return
                # The footer dims the keys whose action cannot run now; it learns of a change
                # only when bindings are refreshed, which Textual does at its own moments. Do it
                # once, and let the footer redraw, so what is shown does not depend on timing.
                app.screen.refresh_bindings()
                bindings_refreshed, quiet_rounds = True, 0
            continue
        quiet_rounds = 0
        tasks = [w._task for w in app.workers  # noqa: SLF001
                 if w.group not in LONG_LIVED_GROUPS and w._task is not None and not w._task.done()]  # noqa: SLF001
        if tasks:
            # Wake as soon as one finishes; asyncio.wait never cancels what it waits on.
            await asyncio.wait(tasks, timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
        writer = getattr(app, "writer", None)
        if writer is not None and writer.pending:
            await asyncio.to_thread(writer.flush, 0.5)
    raise AppDidNotSettle(f"the app was still busy after {rounds} rounds: {', '.join(pending_work(app)) or '?'}")


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
    await pilot.press("ctrl+r")
    await settle(pilot)


async def _type(pilot: Any, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)
    # Deterministic pictures: the draft saved now (its ✎ drawn), not after its real-time debounce,
    # and the text cursor not blinking.
    composer = pilot.app.screen_stack[0].composer
    if composer is not None:
        composer.save_draft_now()
        for area in composer.query("TextArea"):
            area.cursor_blink = False


async def _reply(pilot: Any) -> None:
    """The composer open under the thread, a reply half-typed (issue 9)."""
    await settle(pilot)
    await pilot.press("r")
    await settle(pilot)
    await _type(pilot, "Hi Margaret, your order shipped this morning: tracking NW-192432")
    await settle(pilot)


async def _note(pilot: Any) -> None:
    """A private note being written: drawn distinctly, the customer never sees it."""
    await settle(pilot)
    await pilot.press("i")
    await settle(pilot)
    await _type(pilot, "VIP customer, second late order this month: offer free shipping")
    await settle(pilot)


async def _failed_send(pilot: Any) -> None:
    """A reply the server refused: it stays in the thread, marked with the server's reason."""
    await settle(pilot)
    current = pilot.app.workspace.current
    pilot.app.fake_server.sender.opted_out.add(current.target)  # tidy answers it with a 400
    await pilot.press("r")
    await settle(pilot)
    await _type(pilot, "Your refund is on its way")
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("escape")  # back in the thread, on the failed message: enter retries, d deletes
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
    Scene("reply", (150, 42), _reply),
    Scene("note", (150, 42), _note),
    Scene("failed-send", (150, 42), _failed_send),
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

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for `helpers`

from hmtui.fake import FakeHeymarket, FakeOptions  # noqa: E402

# Every test's data is a pure function of this seed and this "now".
ANCHOR = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
SEED = 7


PROFILES = ("tidy", "live")


def new_server(profile: str = "tidy", **options: object) -> FakeHeymarket:
    return FakeHeymarket(seed=SEED, anchor=ANCHOR, options=FakeOptions(profile=profile, **options))  # type: ignore[arg-type]


@pytest.fixture(scope="session", params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    """The fake server's payload shapes: "tidy" (every key, nulls) or "live" (the real
    backend's shapes, see hmtui.fake.live). Every integration test runs against both; a test
    that pins a tidy-only fact says so with `@pytest.mark.parametrize("profile", ["tidy"],
    indirect=True)` (or the `tidy_only` mark below) and a reason."""
    return request.param


@pytest.fixture
def make_server(profile: str) -> Callable[..., FakeHeymarket]:
    """A factory of servers (not started) in this test's profile, with FakeOptions knobs."""
    def make(**options: object) -> FakeHeymarket:
        return new_server(profile, **options)

    return make


@pytest.fixture(scope="session")
def shared_server(profile: str) -> Iterator[FakeHeymarket]:
    """One server per profile for tests that do not change its state or options."""
    # rate_limit=0: this server's minute is the whole suite's, not one test's, so 500 requests a
    # minute would be crossed by tests that each make a few. Tests of the limit use a fresh server.
    with new_server(profile, rate_limit=0) as server:
        yield server


def huge_server(make_server: Callable[..., FakeHeymarket], count: int) -> Iterator[FakeHeymarket]:
    """A fresh server (no request limit) whose paged thread has `count` messages: for a fixture
    to `yield from`."""
    server = make_server(rate_limit=0)
    server.data.add_huge_thread(count=count)
    with server:
        yield server


@pytest.fixture
def server(profile: str) -> Iterator[FakeHeymarket]:
    """A fresh server a test may mutate."""
    with new_server(profile) as server:
        yield server


def live_runs_one(profile: str, combo: tuple[object, ...], chosen: tuple[object, ...]) -> None:
    """In a matrix of cursors and orders, the live profile runs only `chosen`: its shapes are
    independent of how the server pages, and each combination costs a full paging (suite time)."""
    if profile == "live" and combo != chosen:
        pytest.skip("the live profile runs one cursor/order combination of this matrix")


# For a test that pins a fact of the tidy profile only (give the reason beside it).
tidy_only = pytest.mark.parametrize("profile", ["tidy"], indirect=True)
live_only = pytest.mark.parametrize("profile", ["live"], indirect=True)


@pytest.fixture(autouse=True)
def no_inherited_terminal_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """COLUMNS/LINES of whoever runs pytest (a terminal, an IDE, pytest-xdist's workers set 80)
    must not decide a table's width: a test that wants a width sets it."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """An environment with no credentials, and config, cache and logs under tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEYMARKET_", "HMTUI_"))}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        HMTUI_CONFIG=str(tmp_path / "config.toml"),
        PYTHONIOENCODING="utf-8",
    )
    return env


def env_for(server: FakeHeymarket, base: dict[str, str]) -> dict[str, str]:
    return {
        **base,
        "HEYMARKET_BASE_URL": server.url,
        "HEYMARKET_SECRET_ID": server.secret_id,
        "HEYMARKET_SECRET_KEY": server.secret_key,
    }


def run_cli(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hmtui", *args],
        env=env, capture_output=True, text=True, encoding="utf-8", timeout=timeout, stdin=subprocess.DEVNULL,
    )


class GatedSleep:
    """Stands in for the fake server module's `time`: a stall (or latency) holds until the test
    opens `gate`, so "still stalled" and "answered" are facts the test controls, not races
    against a clock on a loaded machine."""

    def __init__(self) -> None:
        import threading

        self.entered = threading.Event()
        self.gate = threading.Event()
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.entered.set()
        assert self.gate.wait(120), "the test never opened the gate"

    def __getattr__(self, name: str) -> object:
        import time

        return getattr(time, name)


@pytest.fixture
def gated_stalls(monkeypatch: pytest.MonkeyPatch) -> Iterator[GatedSleep]:
    """Every stall of an in-process fake server waits for the test's gate (opened at the end)."""
    import hmtui.fake.server

    stand_in = GatedSleep()
    monkeypatch.setattr(hmtui.fake.server, "time", stand_in)
    yield stand_in
    stand_in.gate.set()  # never leave a server thread stuck


# -- the workspace, without Textual (tests/test_workspace_*.py) ---------------------------------

@pytest.fixture
def make_workspace():
    """`async with make_workspace(server, **kw) as ws`: a Workspace on the fake server with a
    recording listener (`ws.listener`), no preview delay, no background refresh, the client's
    waits between retries recorded and skipped. kw goes to Workspace (store, start_inbox, ...)."""
    from contextlib import asynccontextmanager

    import httpx

    from hmtui.api import Credentials, HeymarketClient, RetryPolicy
    from hmtui.workspace.events import Recorder
    from hmtui.workspace.workspace import Workspace

    from helpers import RecordingSleep

    @asynccontextmanager
    async def make(server: FakeHeymarket, *, attempts: int = 2, transport: object = None, **kw: object):
        client = HeymarketClient(
            Credentials(server.secret_id, server.secret_key), base_url=server.url,
            retry=RetryPolicy(attempts=attempts), timeout=httpx.Timeout(5.0), sleep=RecordingSleep(),
            transport=transport,  # type: ignore[arg-type]
        )
        kw.setdefault("clock", lambda: ANCHOR)
        kw.setdefault("preview_delay", 0.0)
        ws = Workspace(client, listener=Recorder(), **kw)  # type: ignore[arg-type]
        try:
            yield ws
        finally:
            ws.close()
            await client.aclose()
            gc.unfreeze()  # loading history freezes it (long_lived.py); the freeze outlives the test

    return make

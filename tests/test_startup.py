"""The entry point starts without the cyclic garbage collector (hmtui/startup.py) and always
gives it back: at once for a CLI command, after the first frame for the TUI."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from hmtui import startup

from app_harness import running
from conftest import isolated_env, run_cli  # noqa: F401  (isolated_env is a fixture)


@pytest.fixture
def collector() -> Iterator[None]:
    was = gc.isenabled()
    yield
    startup._paused = False
    gc.unfreeze()
    (gc.enable if was else gc.disable)()


def test_pause_and_resume_once(collector) -> None:
    startup.pause_gc()
    assert not gc.isenabled()
    startup.resume_gc()
    assert gc.isenabled() and gc.get_freeze_count() > 0
    gc.disable()  # someone else's choice after resuming is not undone by a second resume
    startup.resume_gc()
    assert not gc.isenabled()


def test_resume_without_pause_changes_nothing(collector) -> None:
    gc.disable()
    startup.resume_gc()
    assert not gc.isenabled() and gc.get_freeze_count() == 0


def test_a_cli_command_runs_with_the_collector(isolated_env) -> None:
    script = ("import gc, sys; sys.argv = ['hmtui', 'accounts']; import hmtui.__main__ as m; "
              "paused = not gc.isenabled(); m.run(); print('paused', paused, 'after', gc.isenabled(), file=sys.stderr)")
    import subprocess

    result = subprocess.run([sys.executable, "-c", script], env=isolated_env, capture_output=True, text=True,
                            timeout=120, stdin=subprocess.DEVNULL)
    assert "paused True after True" in result.stderr, result.stderr[-2000:]


async def test_the_tui_resumes_the_collector_after_its_first_frame(collector, server) -> None:
    startup.pause_gc()
    async with running(server) as (app, pilot):
        await pilot.pause()
        assert gc.isenabled()

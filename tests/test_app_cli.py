"""The app as the CLI builds it (run in-process and driven headless): what `hmtui` and
`hmtui demo` put together from the config and flags, not what the test harness does."""

from __future__ import annotations

import os

from hmtui.cache import NullStore
from hmtui.fake import Fault

from app_harness import files_under, run_tui_like_the_cli, settle, use_env
from conftest import env_for


async def open_a_thread(app, pilot) -> int:
    await pilot.press("j", "enter")
    await settle(pilot)
    return app.main.thread.message_count


def test_hmtui_demo_never_caches(isolated_env, tmp_path, monkeypatch) -> None:
    use_env(monkeypatch, isolated_env)
    code, app, messages = run_tui_like_the_cli(["demo"], monkeypatch, open_a_thread)
    assert code == 0
    assert messages  # the demo really ran and read a thread
    assert isinstance(app.store, NullStore) and app.writer is None
    assert files_under(tmp_path / "cache") == []
    assert not [p for p in files_under(tmp_path) if ".sqlite" in p.name or p.suffix == ".db"]


async def status_state(app, pilot) -> str:
    return app.main.status.state


def write_config(tmp_path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    os.chmod(path, 0o600)


def test_the_config_retries_is_how_often_the_tui_asks_again(server, isolated_env, tmp_path, monkeypatch) -> None:
    use_env(monkeypatch, env_for(server, isolated_env))
    server.inject(Fault("500", every=1, path="/v1/inboxes"))
    for retries in (0, 2):
        write_config(tmp_path, f"retries = {retries}\nrefresh_interval = 600\n")
        server.reset_counts()
        code, app, state = run_tui_like_the_cli(["--no-cache"], monkeypatch, status_state)
        assert code == 0
        # "retries after the first try": the first try, and `retries` more.
        assert server.counts["GET /v1/inboxes"] == 1 + retries
        assert state == "offline"

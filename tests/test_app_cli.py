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


async def open_a_thread_and_search_it(app, pilot) -> tuple[int, object, list]:
    count = await open_a_thread(app, pilot)
    cached = [m for c in app.store.conversations(app.store.inboxes()[0].id)
              for m in app.store.messages(c.inbox_id, c.target, limit=5) if m.text and m.text.split()]
    word = max(cached[0].text.split(), key=len).strip(".,;:!?'\"()")
    return count, app.store.path, app.store.search(word)


def test_hmtui_demo_caches_in_a_temporary_file_deleted_on_exit(isolated_env, tmp_path, monkeypatch) -> None:
    """Issue 10 item 2: the demo can search; its cache is its own, and gone after it."""
    import tempfile

    use_env(monkeypatch, isolated_env)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    code, app, (messages, path, hits) = run_tui_like_the_cli(["demo"], monkeypatch, open_a_thread_and_search_it)
    assert code == 0
    assert messages  # the demo really ran and read a thread
    assert app.writer is not None and not isinstance(app.store, NullStore)
    assert hits  # search finds what the demo showed
    assert path is not None and path.is_relative_to(tmp_path / "tmp")
    assert not path.exists() and list((tmp_path / "tmp").iterdir()) == []  # deleted on exit
    # Nothing in the user's own cache directory, nor anywhere else.
    assert not [p for p in files_under(tmp_path) if ".sqlite" in p.name or p.suffix == ".db"]


def test_hmtui_demo_no_cache_keeps_nothing(isolated_env, tmp_path, monkeypatch) -> None:
    import tempfile

    use_env(monkeypatch, isolated_env)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    code, app, messages = run_tui_like_the_cli(["demo", "--no-cache"], monkeypatch, open_a_thread)
    assert code == 0 and messages
    assert isinstance(app.store, NullStore) and app.writer is None
    assert [p.name for p in files_under(tmp_path)] == ["hmtui.log"]  # the log only


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

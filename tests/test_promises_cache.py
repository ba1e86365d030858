"""README promises of the local cache that no other test pinned down (issue 14: seeded one by one).

/work/notes/promises.md lists the bug seeded for each test.
"""

from __future__ import annotations

from pathlib import Path

from hmtui.cache import store_path
from hmtui.fake import LONG_THREAD_INBOX

from helpers import this_accounts_cache_info
from conftest import env_for, run_cli


def info(env: dict[str, str]) -> dict[str, str]:
    result = run_cli("cache", "info", env={**env, "COLUMNS": "250"})  # wide enough for whole names
    assert result.returncode == 0, result.stderr
    return this_accounts_cache_info(result.stdout)


# -- "in the platformdirs user cache dir: ~/.cache/hmtui/ on Linux" --------------------------------


def test_the_cache_file_lives_in_the_user_cache_dir(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    path = store_path("https://api.heymarket.com", "some-secret-id")
    assert path.parent == tmp_path / "xdg-cache" / "hmtui"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert store_path("https://api.heymarket.com", "some-secret-id").parent == Path(tmp_path / "home/.cache/hmtui")


# -- "What `inboxes`, `conversations` and `history` fetch goes into the local cache too." ----------


def test_inboxes_and_conversations_fetched_by_the_cli_are_cached(shared_server, isolated_env) -> None:
    env = env_for(shared_server, isolated_env)
    assert run_cli("inboxes", env=env).returncode == 0
    counts = info(env)
    assert counts["inboxes"] == str(len(shared_server.data.inboxes))
    assert counts["conversations"] == "0"
    result = run_cli("conversations", "--inbox", str(LONG_THREAD_INBOX), "--limit", "5", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert info(env)["conversations"] == "5"
    # The table path (no --json) keeps them too.
    result = run_cli("conversations", "--inbox", str(LONG_THREAD_INBOX), "--limit", "7", env=env)
    assert result.returncode == 0, result.stderr
    assert info(env)["conversations"] == "7"

"""Issue 10, items 12 to 17: the CLI's tables, its empty results, the cache commands, retries
and phone numbers, as a new user meets them."""

from __future__ import annotations

import io
import json
import os
import re
import socket
from collections import Counter
from pathlib import Path

from hmtui.api import ApiTimeoutError, NetworkError, RateLimitedError, RetryEvent
from hmtui.cache import Store, store_path
from hmtui.cli import RetryNotice, text_cells, write_table
from hmtui.phones import format_phone

from conftest import env_for, run_cli

NAMES = [
    "Harper Nguyen",
    "A" * 55,  # the 55-character name that made 228-column lines
    "राहुल वर्मा",  # Devanagari: spacing vowel signs take a cell in terminals, none in Rich
    "王小明 李华",  # CJK: two cells each
    "👩‍💻 Dana",  # emoji
    "فاطمة الزهراء",  # RTL
]


def table(width: int | None, names: list[str] = NAMES) -> list[str]:
    rows = [[str(1000 + i), name, "+1 415 555 0100", "2026-11-20 10:00", "x " * 60] for i, name in enumerate(names)]
    out = io.StringIO()
    write_table(["ID", "NAME", "NUMBER", "UPDATED", "LAST MESSAGE"], rows, out, last_width=60, width=width,
                shrink=(1, 4))
    return out.getvalue().splitlines()


def no_columns(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}


# -- 12: tables fit the terminal ---------------------------------------------------------------


def test_table_is_capped_to_the_width_and_cut_with_an_ellipsis() -> None:
    for width in (80, 100, 140):
        lines = table(width)
        assert max(text_cells(line) for line in lines) <= width, (width, lines)
        assert any("A" * 10 + "…" in line for line in lines)  # the long name is cut, visibly
        assert "+1 415 555 0100" in lines[1] and "2026-11-20 10:00" in lines[1]  # kept whole


def test_table_columns_line_up_in_terminal_cells_under_every_script() -> None:
    lines = table(100)
    # The NUMBER column starts at the same cell in every row, Hindi and CJK names included.
    number_at = {line.index("+1 415") for line in lines[1:]}
    cells_before = {text_cells(line[:line.index("+1 415")]) for line in lines[1:]}
    assert len(cells_before) == 1, (cells_before, number_at, lines)
    assert text_cells(lines[0][:lines[0].index("NUMBER")]) in cells_before


def test_devanagari_vowel_signs_count_one_cell() -> None:
    assert text_cells("ा") == 1 and text_cells("王") == 2 and text_cells("a") == 1


def test_conversations_lines_fit_columns_or_100_when_piped(shared_server, isolated_env) -> None:
    env = no_columns(env_for(shared_server, isolated_env))
    for extra, width in (({}, 100), ({"COLUMNS": "80"}, 80), ({"COLUMNS": "140"}, 140)):
        result = run_cli("conversations", "--inbox", "501", env={**env, **extra})
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) > 5
        assert max(text_cells(line) for line in lines) <= width, (width, max(lines, key=text_cells))
        assert lines[0].startswith("ID")
        # The names and messages were cut, not the line: every row keeps its whole date.
        # (The live profile sends a few a zero `updated`: those rows have no date to keep.)
        undated = sum(1 for c in shared_server.data.conversations if c["inbox"] == 501
                      and str(shared_server.shape_conversation(c).get("updated", "")).startswith("0001-"))
        dated = sum(1 for line in lines[1:] if re.search(r"  \d{4}-\d\d-\d\d \d\d:\d\d  ", line))
        assert dated >= len(lines) - 1 - undated, width


# -- 13 and 14: say when nothing was found -----------------------------------------------------


def test_history_of_an_unknown_number_says_so_on_stderr(shared_server, isolated_env) -> None:
    result = run_cli("history", "--inbox", "503", "--phone", "0000", env=env_for(shared_server, isolated_env))
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr.strip() == "hmtui: no messages found for 0000 in inbox 503"


def test_search_says_no_matches_and_how_many_more_past_the_limit(shared_server, isolated_env) -> None:
    env = env_for(shared_server, isolated_env)
    conversation = next(c for c in shared_server.data.conversations if c["inbox"] == 503)
    history = run_cli("history", "--inbox", "503", "--phone", conversation["target"], "--json", env=env)
    assert history.returncode == 0, history.stderr
    words: Counter[str] = Counter()
    for line in history.stdout.splitlines():
        words.update(set(re.findall(r"\b[a-z]{4,}\b", (json.loads(line).get("text") or "").lower())))
    word, seen = words.most_common(1)[0]
    assert seen >= 3

    none = run_cli("search", "zzqxjv", env=env)
    assert none.returncode == 0 and none.stdout == ""
    assert none.stderr.strip() == "hmtui: no matches for 'zzqxjv' in the cache"

    every = run_cli("search", word, "--json", "--limit", "10000", env=env)
    total = len(every.stdout.splitlines())
    assert total >= 3 and every.stderr == ""
    capped = run_cli("search", word, "--limit", "2", env=env)
    assert capped.returncode == 0
    assert len(capped.stdout.splitlines()) == 3  # header and 2 hits
    assert f"hmtui: {total - 2:,} more not shown (--limit 2)" in capped.stderr


# -- 15: the cache commands ---------------------------------------------------------------------


def cache_files(env: dict[str, str]) -> list[Path]:
    return sorted((Path(env["XDG_CACHE_HOME"]) / "hmtui").glob("*.sqlite3*"))


def test_loopback_servers_on_ephemeral_ports_share_one_file(tmp_path) -> None:
    assert store_path("http://127.0.0.1:40001", "id", tmp_path) == store_path("http://127.0.0.1:51234", "id", tmp_path)
    assert store_path("http://localhost:40001", "id", tmp_path).name.startswith("loopback-")
    # A fixed port (a proxy someone runs on purpose) and other hosts keep their own file.
    assert store_path("http://127.0.0.1:8001", "id", tmp_path) != store_path("http://127.0.0.1:8002", "id", tmp_path)
    assert store_path("http://10.0.0.5:40001", "id", tmp_path) != store_path("http://10.0.0.5:40002", "id", tmp_path)


def test_cache_info_and_clear_need_no_credentials_and_leave_no_file(shared_server, server, isolated_env) -> None:
    for fake in (shared_server, server):  # two fake servers, two ports
        assert run_cli("inboxes", env=env_for(fake, isolated_env)).returncode == 0
    files = [p for p in cache_files(isolated_env) if p.name.endswith(".sqlite3")]
    assert len(files) == 1 and files[0].name.startswith("loopback-")
    # A second file of another account, so info lists every one.
    Store.open("https://api.heymarket.com", "another-account", directory=files[0].parent).close()

    info = run_cli("cache", "info", env=no_columns(isolated_env))  # no credentials at all
    assert info.returncode == 0, info.stderr
    assert info.stderr == ""
    for path in cache_files(isolated_env):
        if path.name.endswith(".sqlite3"):
            assert path.name in info.stdout
    assert "api.heymarket.com-" in info.stdout
    row = next(line for line in info.stdout.splitlines() if line.startswith(files[0].name))
    assert row.split()[2:4] == ["4", "0"]  # 4 inboxes, no conversations

    mine = run_cli("cache", "clear", env=env_for(server, isolated_env))
    assert mine.returncode == 0, mine.stderr
    assert not files[0].exists() and not any(p.name.startswith(files[0].name) for p in cache_files(isolated_env))

    refused = run_cli("cache", "clear", env=isolated_env)
    assert refused.returncode == 2 and "--all" in refused.stderr

    assert cache_files(isolated_env)  # the other account's file is still there
    cleared = run_cli("cache", "clear", "--all", env=isolated_env)
    assert cleared.returncode == 0, cleared.stderr
    assert cache_files(isolated_env) == []
    after = run_cli("cache", "info", env=isolated_env)
    assert after.returncode == 0 and "no cache files" in after.stdout
    assert cache_files(isolated_env) == []  # info created nothing


# -- 16: say that it is retrying ----------------------------------------------------------------


def test_retry_notice_is_one_line_once_per_command() -> None:
    out = io.StringIO()
    notice = RetryNotice(out, "api.example.com")
    error = NetworkError("cannot reach api.example.com (connection refused)", method="GET", path="/v1/inboxes")
    for retry in (1, 2, 3):
        notice(RetryEvent("GET", "/v1/inboxes", retry, 1.0, error))
    assert out.getvalue() == "hmtui: cannot reach api.example.com, retrying…\n"
    slow = io.StringIO()
    RetryNotice(slow, "h")(RetryEvent("GET", "/", 1, 1.0, ApiTimeoutError("timed out", method="GET", path="/")))
    assert slow.getvalue() == "hmtui: h did not answer in time, retrying…\n"
    other = io.StringIO()
    RetryNotice(other, "h")(RetryEvent("GET", "/v1/inboxes", 1, 1.0, RateLimitedError("rate limited")))
    assert other.getvalue().count("\n") == 1 and "retrying…" in other.getvalue()


def test_unreachable_server_says_it_is_retrying_before_failing(isolated_env, tmp_path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "config.toml").write_text("retries = 2\n")
    os.chmod(tmp_path / "config.toml", 0o600)
    env = {**isolated_env, "HEYMARKET_SECRET_ID": "x", "HEYMARKET_SECRET_KEY": "y",
           "HEYMARKET_BASE_URL": f"http://127.0.0.1:{port}"}
    result = run_cli("inboxes", env=env)
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"hmtui: cannot reach 127.0.0.1:{port}, retrying…"
    assert len(lines) == 2 and lines[1].startswith("hmtui: error: ")  # told once, though it retried twice
    assert f"cannot reach 127.0.0.1:{port}" in lines[1] and "Traceback" not in result.stderr


# -- 17: phone numbers as the app shows them ----------------------------------------------------


def test_inboxes_shows_every_number_formatted_like_the_app(shared_server, isolated_env) -> None:
    from hmtui.ui.widgets.inbox_sidebar import format_phone as app_format_phone

    assert app_format_phone is format_phone  # one formatter for the app and the CLI
    result = run_cli("inboxes", env=no_columns(env_for(shared_server, isolated_env)))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "PHONE", "MEMBERS"]
    billing = next(line for line in lines if line.startswith("503"))
    assert "+1 415 555 0177, +1 888 555 0134" in billing
    assert "+1 415 555 0100" in result.stdout and "14155550100" not in result.stdout
    raw = run_cli("inboxes", "--json", env=env_for(shared_server, isolated_env))
    assert "14155550100" in raw.stdout  # --json stays raw


def test_cache_info_marks_this_accounts_file_even_when_its_name_is_cut(server, isolated_env) -> None:
    env = env_for(server, isolated_env)
    assert run_cli("inboxes", env=env).returncode == 0
    for columns in ("80", "250"):  # 80: the name is cut to fit, the mark and the numbers are not
        info = run_cli("cache", "info", env={**env, "COLUMNS": columns})
        assert info.returncode == 0, info.stderr
        marked = [line for line in info.stdout.splitlines() if line.split()[:1] == ["*"]]
        assert len(marked) == 1, info.stdout
        assert marked[0].split()[-1] == "0"  # the messages column: whole, not cut
        assert "this account" in info.stderr

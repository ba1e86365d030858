"""README promises of the CLI that no other test pinned down (issue 14: seeded one by one).

/work/notes/promises.md lists the bug seeded for each test.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hmtui.api.models import Message
from hmtui.cache import Store
from hmtui.cli import _fake_server, build_parser
from hmtui.fake import HOSTILE_THREAD_INBOX, Fault
from hmtui.fake.hostile import HOSTILE_NAME

from conftest import env_for, run_cli

RAW_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# -- "Global options, before or after the command" ------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["--no-cache", "--debug", "inboxes"],
    ["inboxes", "--no-cache", "--debug"],
    ["--no-cache", "history", "--inbox", "1", "--phone", "1", "--debug"],
    ["--debug", "search", "x", "--no-cache"],
])
def test_global_flags_count_before_or_after_the_command(argv) -> None:
    args = build_parser().parse_args(argv)
    assert args.no_cache is True and args.debug is True


def test_without_the_flags_they_are_off() -> None:
    args = build_parser().parse_args(["inboxes"])
    assert args.no_cache is False and args.debug is False and args.base_url is None


# -- `hmtui fake-server` / `hmtui demo`: "(same server options)" -----------------------------------


@pytest.mark.parametrize("command", ["fake-server", "demo"])
def test_fake_server_options_reach_the_server(command) -> None:
    args = build_parser().parse_args([command, "--seed", "3", "--cursor", "inclusive", "--order", "shuffled",
                                      "--page-size", "7", "--message-page-size", "9", "--latency", "0.25"])
    server = _fake_server(args)  # built, not started
    assert (server.options.cursor, server.options.order) == ("inclusive", "shuffled")
    assert server.options.conversation_page_size == 7 and server.options.message_page_size == 9
    assert server.options.latency == 0.25
    assert server.data.seed == 3


def test_fake_server_defaults() -> None:
    server = _fake_server(build_parser().parse_args(["fake-server"]))
    assert (server.options.cursor, server.options.order, server.options.latency) == ("exclusive", "newest", 0.0)
    assert server.data.seed == 7


# -- "Exit codes: ... 130 interrupted" -------------------------------------------------------------


def test_an_interrupted_command_exits_130_with_one_line(server, isolated_env) -> None:
    server.inject(Fault("stall", every=1, stall=300.0))  # every request hangs until we interrupt
    # The request must still be in flight when the interrupt comes, however slow the machine.
    config = Path(isolated_env["HMTUI_CONFIG"])
    config.write_text("timeout = 600\n", encoding="utf-8")
    config.chmod(0o600)
    # The CLI starts with SIGINT's default action, as from a terminal: pytest run as a background
    # job (`pytest &` in a script) ignores SIGINT, and a child inherits that (it then ran on to its
    # timeout: this test failed in such runs, never in CI's foreground one).
    proc = subprocess.Popen([sys.executable, "-m", "hmtui", "inboxes"], env=env_for(server, isolated_env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        # Wait on the work, not the clock: until the request has reached the server (or the CLI
        # ended without sending it). The bound only keeps a broken build from polling forever.
        for _ in range(60_000):
            if server.counts["GET /v1/inboxes"] or proc.poll() is not None:
                break
            time.sleep(0.01)
        assert server.counts["GET /v1/inboxes"], f"the CLI never sent its request: {proc.poll()}"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (proc.returncode, err.strip(), out) == (130, "hmtui: interrupted", "")


# -- "Output that came from the server has its control characters replaced ...; the JSON output
#    escapes them instead, so it decodes to the server's exact values." ---------------------------


def test_conversations_table_and_json_defuse_a_hostile_contact_name(shared_server, isolated_env) -> None:
    env = {**env_for(shared_server, isolated_env), "COLUMNS": "400"}  # wide enough for whole names
    table = run_cli("conversations", "--inbox", str(HOSTILE_THREAD_INBOX), env=env)
    assert table.returncode == 0, table.stderr
    assert not RAW_UNSAFE.search(table.stdout.replace("\n", ""))
    assert "␛[31mMallory" in table.stdout and "[bold red]not bold[/]" in table.stdout
    result = run_cli("conversations", "--inbox", str(HOSTILE_THREAD_INBOX), "--json", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert not any(RAW_UNSAFE.search(line) for line in lines)
    got = [json.loads(line) for line in lines]
    hostile = [c for c in got if c.get("name") == HOSTILE_NAME]
    assert len(hostile) == 1
    expected = shared_server.shape_conversation(  # as this profile sends it
        next(c for c in shared_server.data.conversations if c["id"] == hostile[0]["id"]))
    assert hostile[0] == expected


# -- `hmtui search QUERY [--inbox ID] [--limit N]`: "every cached message containing all the words" --


def _cached_messages(env: dict[str, str], monkeypatch) -> None:
    """Fill the cache the CLI will open (same platformdirs path) without any server."""
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    store = Store.open(env["HEYMARKET_BASE_URL"], env["HEYMARKET_SECRET_ID"])
    try:
        def message(n: int, text: str) -> Message:
            item = Message.from_raw({"id": n, "text": text, "date": 1_750_000_000 + n})
            assert item is not None
            return item

        # 150 messages with "walrus" in inbox 11, and one in inbox 22; "walrus tusk" only in 2.
        store.put_messages(11, "15550100001", [message(n, f"the walrus number {n}") for n in range(1, 151)])
        store.put_messages(22, "15550100002", [message(1000, "walrus elsewhere"),
                                               message(1001, "a walrus tusk"), message(1002, "tusk alone")])
        store.put_messages(11, "15550100003", [message(2000, "tusk of a walrus")])
    finally:
        store.close()


@pytest.fixture
def search_env(isolated_env, monkeypatch) -> dict[str, str]:
    env = {**isolated_env, "HEYMARKET_BASE_URL": "http://127.0.0.1:9", "HEYMARKET_SECRET_ID": "search-id",
           "HEYMARKET_SECRET_KEY": "search-key-0123456789"}
    _cached_messages(env, monkeypatch)
    return env


def test_search_needs_all_the_words(search_env) -> None:
    result = run_cli("search", "walrus tusk", "--json", env=search_env)
    assert result.returncode == 0, result.stderr
    assert sorted(json.loads(line)["id"] for line in result.stdout.splitlines()) == [1001, 2000]


def test_search_inbox_filter_and_the_default_limit_of_100(search_env) -> None:
    result = run_cli("search", "walrus", "--json", "--inbox", "22", env=search_env)
    assert result.returncode == 0, result.stderr
    assert sorted(json.loads(line)["id"] for line in result.stdout.splitlines()) == [1000, 1001]
    result = run_cli("search", "walrus", "--json", env=search_env)
    assert len(result.stdout.splitlines()) == 100  # 153 match; the default is "at most 100"
    result = run_cli("search", "walrus", "--json", "--limit", "3", env=search_env)
    assert len(result.stdout.splitlines()) == 3


# -- Configuration: "hmtui warns if it is readable by group or others"; the documented defaults ----


def test_a_config_readable_by_the_group_only_warns_too(tmp_path) -> None:
    import os

    from hmtui.config import load_config

    path = tmp_path / "config.toml"
    path.write_text('secret_id = "id"\n')
    os.chmod(path, 0o640)
    assert len(load_config({}, path).warnings) == 1
    os.chmod(path, 0o600)
    assert load_config({}, path).warnings == []


def test_the_documented_config_defaults(tmp_path) -> None:
    from hmtui.config import load_config

    config = load_config({}, tmp_path / "missing.toml")
    # retries = 4 "retries after the first try", timeout = 20, cache = true, refresh_interval = 15
    assert (config.retries, config.timeout, config.cache, config.refresh_interval) == (4, 20.0, True, 15.0)
    assert config.user_id is None and config.keymap == {}


# -- Logs: "never the secret key or a whole token" -------------------------------------------------


def test_the_log_redactor_removes_the_key_and_any_token_from_messages_and_tracebacks() -> None:
    import logging

    import jwt

    from hmtui.logs import RedactingFilter

    key = "the-secret-key-0123456789"
    token = jwt.encode({"iss": "someone", "iat": 1_800_000_000}, "k" * 32, algorithm="HS256")
    redactor = RedactingFilter([key])
    record = logging.LogRecord("hmtui.api", logging.INFO, __file__, 1, "sent %s with %s", (token, key), None)
    try:
        raise RuntimeError(f"failed with Bearer {token} and {key}")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert redactor.filter(record)
    text = logging.Formatter().format(record)
    assert key not in text and token not in text and token.split(".")[1] not in text
    assert text.count("[redacted]") >= 4


# -- "control characters ... replaced by visible placeholders (␛, ␇, ...)" -------------------------


def test_every_control_character_becomes_a_visible_placeholder() -> None:
    from hmtui.safe_text import clean_text, one_line

    assert clean_text("a\x1bb\x07c\x00d\x7fe") == "a␛b␇c␀d␡e"
    assert clean_text("x\x9by") == "x\ufffdy"  # a one-byte CSI
    assert clean_text("a\tb") == "a    b"
    for text in (clean_text("".join(map(chr, range(0xA0)))), one_line("".join(map(chr, range(0xA0))))):
        assert not RAW_UNSAFE.search(text.replace("\n", ""))

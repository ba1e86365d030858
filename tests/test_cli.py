"""Each CLI command end to end, in a subprocess, against the fake server over loopback."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys

import pytest

from hmtui.fake import HOSTILE_THREAD_INBOX, HOSTILE_THREAD_TARGET, LONG_THREAD_INBOX, LONG_THREAD_TARGET, Fault

from conftest import env_for, run_cli

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def lines_json(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def assert_one_line_error(result, code: int = 1, *, retried: bool = False) -> str:
    assert result.returncode == code, result
    err = result.stderr.strip()
    if retried:  # one "…, retrying…" notice comes first (see test_cli_polish)
        notice, _, err = err.partition("\n")
        assert notice.startswith("hmtui: ") and notice.endswith(", retrying…"), notice
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and result.stdout == ""
    assert err.startswith("hmtui: ")
    return err


def conversations_of(server, inbox_id):
    return [c for c in server.data.conversations if c["inbox"] == inbox_id]


# -- inboxes -------------------------------------------------------------------------------------


def test_inboxes_table(shared_server, isolated_env) -> None:
    result = run_cli("inboxes", env=env_for(shared_server, isolated_env))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "PHONE", "MEMBERS"]
    for inbox in shared_server.data.inboxes:
        assert any(line.startswith(str(inbox["id"])) and inbox["name"] in line for line in lines[1:])


def test_inboxes_json_lines_are_the_raw_objects(shared_server, isolated_env) -> None:
    result = run_cli("inboxes", "--json", env=env_for(shared_server, isolated_env))
    assert result.returncode == 0
    assert lines_json(result.stdout) == shared_server.data.inboxes


# -- conversations -------------------------------------------------------------------------------


def test_conversations_json_returns_every_conversation_once_newest_first(server, isolated_env) -> None:
    server.options.conversation_page_size = 7  # many pages, many boundaries
    inbox = LONG_THREAD_INBOX
    result = run_cli("conversations", "--inbox", str(inbox), "--json", env=env_for(server, isolated_env))
    assert result.returncode == 0, result.stderr
    got = lines_json(result.stdout)
    ids = [c["id"] for c in got]
    assert len(ids) == len(set(ids))
    assert set(ids) == {c["id"] for c in conversations_of(server, inbox)}
    updated = [c["updated"] for c in got]
    assert updated == sorted(updated, reverse=True)


@pytest.mark.parametrize("cursor", ["exclusive", "inclusive"])
@pytest.mark.parametrize("order", ["newest", "oldest", "shuffled"])
def test_conversations_every_cursor_and_order(server, isolated_env, cursor, order) -> None:
    server.options.cursor, server.options.order, server.options.conversation_page_size = cursor, order, 9
    for inbox in server.data.inboxes:
        result = run_cli("conversations", "--inbox", str(inbox["id"]), "--json", env=env_for(server, isolated_env))
        ids = [c["id"] for c in lines_json(result.stdout)]
        assert sorted(ids) == sorted(c["id"] for c in conversations_of(server, inbox["id"]))


def test_conversations_filters_limit_and_table(shared_server, isolated_env) -> None:
    env = env_for(shared_server, isolated_env)
    inbox = LONG_THREAD_INBOX
    everything = conversations_of(shared_server, inbox)
    result = run_cli("conversations", "--inbox", str(inbox), "--status", "open", "--json", env=env)
    got = lines_json(result.stdout)
    assert got and all(c["status"] == "open" for c in got)
    assert len(got) == sum(c["status"] == "open" for c in everything)
    result = run_cli("conversations", "--inbox", str(inbox), "--status", "closed", "--unread", "--json", env=env)
    got = lines_json(result.stdout)
    assert all(c["status"] == "closed" and c["unread"] for c in got)
    result = run_cli("conversations", "--inbox", str(inbox), "--limit", "5", env=env)
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and len(lines) == 6
    assert lines[0].split()[:3] == ["ID", "NAME", "NUMBER"]


def test_conversations_member_id_comes_from_user_then_config_then_inbox(server, isolated_env, tmp_path) -> None:
    env = env_for(server, isolated_env)
    inbox = server.data.inboxes[0]
    members = inbox["members"]

    def sent_member():
        body = [r for r in server.requests if r.path == "/v1/conversations"][-1].body
        return body["id"]

    run_cli("conversations", "--inbox", str(inbox["id"]), "--limit", "1", env=env)
    assert sent_member() == members[0]
    (tmp_path / "config.toml").write_text(f"user_id = {members[1]}\n")
    os.chmod(tmp_path / "config.toml", 0o600)
    run_cli("conversations", "--inbox", str(inbox["id"]), "--limit", "1", env=env)
    assert sent_member() == members[1]
    run_cli("conversations", "--inbox", str(inbox["id"]), "--limit", "1", "--user", str(members[-1]), env=env)
    assert sent_member() == members[-1]


def test_conversations_unknown_inbox(shared_server, isolated_env) -> None:
    result = run_cli("conversations", "--inbox", "999999", env=env_for(shared_server, isolated_env))
    err = assert_one_line_error(result, 2)
    assert "no inbox with id 999999" in err


def test_conversations_server_refusal_is_one_line(shared_server, isolated_env) -> None:
    result = run_cli("conversations", "--inbox", str(LONG_THREAD_INBOX), "--user", "424242",
                     env=env_for(shared_server, isolated_env))
    err = assert_one_line_error(result)
    assert "(400)" in err and "request id" in err


# -- history -------------------------------------------------------------------------------------


def long_thread(server):
    return server.data.messages_for(LONG_THREAD_INBOX, LONG_THREAD_TARGET)


@pytest.mark.parametrize("cursor", ["exclusive", "inclusive"])
def test_history_json_of_the_long_thread_is_every_message_once_oldest_first(server, isolated_env, cursor) -> None:
    server.options.cursor = cursor
    expected = long_thread(server)
    assert len(expected) >= 20_000
    result = run_cli("history", "--inbox", str(LONG_THREAD_INBOX), "--phone", LONG_THREAD_TARGET, "--json",
                     env=env_for(server, isolated_env))
    assert result.returncode == 0, result.stderr
    got = lines_json(result.stdout)
    assert [m["id"] for m in got] == [m["id"] for m in expected]
    assert got[0] == expected[0]  # the API's fields, unchanged


def test_history_survives_a_429_storm(server, isolated_env) -> None:
    server.inject(Fault("429", every=5, path="/v1/messages", retry_after=0))
    server.inject(Fault("429", times=3, path="/v1/messages"))  # no Retry-After: real backoff sleeps
    result = run_cli("history", "--inbox", str(LONG_THREAD_INBOX), "--phone", LONG_THREAD_TARGET, "--json",
                     env=env_for(server, isolated_env))
    assert result.returncode == 0, result.stderr
    got = [m["id"] for m in lines_json(result.stdout)]
    assert got == [m["id"] for m in long_thread(server)]
    assert server.counts["GET /v1/messages"] > len(got) / 50 * 1.2  # the 429s really happened


def test_history_text_shows_hostile_content_defused(shared_server, isolated_env) -> None:
    result = run_cli("history", "--inbox", str(HOSTILE_THREAD_INBOX), "--phone", HOSTILE_THREAD_TARGET,
                     env=env_for(shared_server, isolated_env))
    assert result.returncode == 0, result.stderr
    assert not CONTROL.search(result.stdout)
    assert "[@click=app.quit]x[/]" in result.stdout  # literally
    assert "␛[31m" in result.stdout


def test_history_bad_phone_is_a_usage_error(shared_server, isolated_env) -> None:
    result = run_cli("history", "--inbox", "501", "--phone", "nobody", env=env_for(shared_server, isolated_env))
    assert "--phone must be a phone number" in assert_one_line_error(result, 2)


# -- failures ------------------------------------------------------------------------------------


def test_missing_credentials(isolated_env) -> None:
    result = run_cli("inboxes", env=isolated_env)
    err = assert_one_line_error(result, 2)
    for needle in ("HEYMARKET_SECRET_ID", "HEYMARKET_SECRET_KEY", isolated_env["HMTUI_CONFIG"], "hmtui demo"):
        assert needle in err


def test_wrong_key(shared_server, isolated_env) -> None:
    env = {**env_for(shared_server, isolated_env), "HEYMARKET_SECRET_KEY": "wrong-key-that-must-not-leak"}
    result = run_cli("inboxes", env=env)
    err = assert_one_line_error(result)
    assert "credentials rejected" in err and "wrong-key-that-must-not-leak" not in err


def test_unreachable_server(isolated_env, tmp_path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "config.toml").write_text("retries = 1\n")
    os.chmod(tmp_path / "config.toml", 0o600)
    env = {**isolated_env, "HEYMARKET_SECRET_ID": "x", "HEYMARKET_SECRET_KEY": "y",
           "HEYMARKET_BASE_URL": f"http://127.0.0.1:{port}"}
    err = assert_one_line_error(run_cli("inboxes", env=env), retried=True)
    assert f"cannot reach 127.0.0.1:{port}" in err


def test_timeout(server, isolated_env, tmp_path) -> None:
    server.inject(Fault("stall", every=1, stall=2.0))
    (tmp_path / "config.toml").write_text("timeout = 0.3\nretries = 1\n")
    os.chmod(tmp_path / "config.toml", 0o600)
    err = assert_one_line_error(run_cli("inboxes", env=env_for(server, isolated_env)), retried=True)
    assert "did not answer in time" in err


def test_html_500(server, isolated_env, tmp_path) -> None:
    server.inject(Fault("500", every=1))
    (tmp_path / "config.toml").write_text("retries = 1\n")
    os.chmod(tmp_path / "config.toml", 0o600)
    err = assert_one_line_error(run_cli("inboxes", env=env_for(server, isolated_env)), retried=True)
    assert "server error (500)" in err and "<html" not in err and "request id" in err


def test_malformed_json(server, isolated_env, tmp_path) -> None:
    server.inject(Fault("malformed", every=1))
    (tmp_path / "config.toml").write_text("retries = 0\n")
    os.chmod(tmp_path / "config.toml", 0o600)
    err = assert_one_line_error(run_cli("inboxes", env=env_for(server, isolated_env)))
    assert "malformed JSON" in err


@pytest.mark.parametrize(
    "args, needle",
    [
        (["frobnicate"], "invalid choice"),
        (["conversations"], "--inbox"),
        (["conversations", "--inbox", "501", "--limit", "0"], "at least 1"),
        (["conversations", "--inbox", "501", "--status", "maybe"], "invalid choice"),
        (["--base-url", "ftp://nope", "inboxes"], "invalid base URL"),
    ],
)
def test_bad_arguments(shared_server, isolated_env, args, needle) -> None:
    err = assert_one_line_error(run_cli(*args, env=env_for(shared_server, isolated_env)), 2)
    assert needle in err


def test_base_url_option_overrides_the_environment(shared_server, isolated_env) -> None:
    env = {**env_for(shared_server, isolated_env), "HEYMARKET_BASE_URL": "http://127.0.0.1:1"}
    result = run_cli("--base-url", shared_server.url, "inboxes", env=env)
    assert result.returncode == 0, result.stderr
    result = run_cli("inboxes", "--base-url", shared_server.url, env=env)
    assert result.returncode == 0, result.stderr


def test_config_readable_by_others_warns(shared_server, isolated_env, tmp_path) -> None:
    (tmp_path / "config.toml").write_text("retries = 1\n")
    os.chmod(tmp_path / "config.toml", 0o644)
    result = run_cli("inboxes", env=env_for(shared_server, isolated_env))
    assert result.returncode == 0
    assert "readable by other users" in result.stderr and "chmod 600" in result.stderr


# -- logging never leaks secrets ----------------------------------------------------------------


def test_debug_logs_requests_to_stderr_and_the_log_file_without_secrets(shared_server, isolated_env, tmp_path) -> None:
    env = env_for(shared_server, isolated_env)
    result = run_cli("--debug", "inboxes", env=env)
    assert result.returncode == 0
    assert "GET /v1/inboxes -> 200" in result.stderr
    log_files = list((tmp_path / "state").rglob("hmtui.log"))
    assert log_files, "the log goes to the platformdirs log dir"
    for text in (result.stderr, result.stdout, log_files[0].read_text()):
        assert shared_server.secret_key not in text
        assert not re.search(r"eyJ[\w-]+\.eyJ[\w-]+\.", text)


def test_debug_shows_the_traceback_without_it_none(shared_server, isolated_env) -> None:
    env = {**env_for(shared_server, isolated_env), "HEYMARKET_SECRET_KEY": "nope"}
    assert "Traceback" not in run_cli("inboxes", env=env).stderr
    assert "Traceback" in run_cli("--debug", "inboxes", env=env).stderr


# -- the fake server and the demo ----------------------------------------------------------------


def test_fake_server_command_prints_its_url_and_demo_credentials(isolated_env) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "hmtui", "fake-server", "--seed", "3"], env=isolated_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first).group()
        exports = dict(re.findall(r"export (\w+)=(\S+)", "".join(proc.stdout.readline() for _ in range(3))))
        assert exports["HEYMARKET_BASE_URL"] == url
        env = {**isolated_env, **exports}
        result = run_cli("inboxes", "--json", env=env)
        assert result.returncode == 0 and len(lines_json(result.stdout)) >= 3
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def run_in_terminal(args: list[str], env: dict[str, str], *, until: str, keys: bytes, deadline: float = 60):
    """Run hmtui in a pseudo-terminal, wait for `until` on screen, type `keys`, return (exit code, screen)."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: exec hmtui
        os.execvpe(sys.executable, [sys.executable, "-m", "hmtui", *args], {**env, "TERM": "xterm-256color",
                                                                             "COLUMNS": "120", "LINES": "40"})
    screen = b""
    sent = False
    end = time.monotonic() + deadline
    try:
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                screen += chunk
            if not sent and until.encode() in screen:
                os.write(fd, keys)
                sent = True
        if not sent:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), screen.decode("utf-8", "replace")
    finally:
        os.close(fd)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def test_demo_opens_the_terminal_ui_and_q_quits_with_0(isolated_env) -> None:
    code, screen = run_in_terminal(["demo"], isolated_env, until="Field Ops", keys=b"q")
    assert code == 0, screen[-2000:]
    for name in ("Support", "Sales", "Billing", "Field Ops"):
        assert name in screen
    assert "Traceback" not in screen


def test_tui_opens_straight_into_a_conversation(shared_server, isolated_env) -> None:
    args = ["--inbox", str(LONG_THREAD_INBOX), "--phone", LONG_THREAD_TARGET]
    newest = shared_server.data.messages_for(LONG_THREAD_INBOX, LONG_THREAD_TARGET)[-1]
    marker = newest["text"].split()[0]
    code, screen = run_in_terminal(args, env_for(shared_server, isolated_env), until=marker, keys=b"q")
    assert code == 0, screen[-2000:]


def test_tui_phone_without_inbox_is_a_usage_error(shared_server, isolated_env) -> None:
    result = run_cli("--phone", "14155550142", env=env_for(shared_server, isolated_env))
    assert "--phone needs --inbox" in assert_one_line_error(result, 2)


def test_python_dash_m_and_version(isolated_env) -> None:
    result = run_cli("--version", env=isolated_env)
    assert result.returncode == 0 and result.stdout.startswith("hmtui ")

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

from hmtui.phones import format_phone
from hmtui.fake import HOSTILE_THREAD_INBOX, HOSTILE_THREAD_TARGET, LONG_THREAD_INBOX, LONG_THREAD_TARGET, Fault

from conftest import env_for, live_runs_one, run_cli
from helpers import eventually

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
    assert lines_json(result.stdout) == shared_server.shape_inboxes(shared_server.data.inboxes)


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
    # (The live profile sends one conversation per inbox with the zero time: no time at all.)
    updated = [c["updated"] for c in got if not c["updated"].startswith("0001-")]
    assert updated == sorted(updated, reverse=True)


@pytest.mark.parametrize("cursor", ["exclusive", "inclusive"])
@pytest.mark.parametrize("order", ["newest", "oldest", "shuffled"])
def test_conversations_every_cursor_and_order(server, profile, isolated_env, cursor, order) -> None:
    live_runs_one(profile, (cursor, order), ("inclusive", "shuffled"))
    server.options.cursor, server.options.order, server.options.conversation_page_size = cursor, order, 9
    for inbox in server.data.inboxes:
        result = run_cli("conversations", "--inbox", str(inbox["id"]), "--json", env=env_for(server, isolated_env))
        ids = [c["id"] for c in lines_json(result.stdout)]
        assert sorted(ids) == sorted(c["id"] for c in conversations_of(server, inbox["id"]))


def closed(conversation) -> bool:
    """Of the fake server's stored (tidy) conversation, whichever profile serves it."""
    return conversation["status"] == "closed"


def unread(conversation) -> bool:
    return bool(conversation["unread"])


def newest_first(conversations):
    return sorted(conversations, key=lambda c: c["updated"], reverse=True)


def test_conversations_filters_limit_and_table(server, isolated_env) -> None:
    env = env_for(server, isolated_env)
    inbox = LONG_THREAD_INBOX
    # The seeded data has no closed unread conversation: make three, so the pair of filters has
    # something to select and something to leave out on both sides.
    closed_ones = newest_first(c for c in conversations_of(server, inbox) if closed(c))
    for conversation in closed_ones[1:8:3]:
        server.data.mark_unread(conversation)
    everything = conversations_of(server, inbox)

    def ids(args: list[str]) -> list[int]:
        result = run_cli("conversations", "--inbox", str(inbox), *args, "--json", env=env)
        assert result.returncode == 0, result.stderr
        got = lines_json(result.stdout)
        if not server.live:  # the live profile sends some a zero `updated`: those sort as undated
            assert [c["updated"] for c in got] == sorted((c["updated"] for c in got), reverse=True)
        by_id = {c["id"]: server.shape_conversation(c) for c in everything}
        assert all(c == by_id[c["id"]] for c in got)  # the server's objects, unchanged
        return [c["id"] for c in got]

    def expected(keep) -> list[int]:
        return [c["id"] for c in newest_first(c for c in everything if keep(c))]

    cases = {
        ("--status", "open"): lambda c: not closed(c),
        ("--status", "closed"): lambda c: closed(c),
        ("--status", "closed", "--unread"): lambda c: closed(c) and unread(c),
        ("--status", "open", "--unread"): lambda c: not closed(c) and unread(c),
        ("--unread",): lambda c: unread(c),
        (): lambda c: True,
    }
    for args, keep in cases.items():
        want = expected(keep)
        assert 0 < len(want) < len(everything) or not args, args  # each filter selects, and leaves out
        assert sorted(ids(list(args))) == sorted(want), args
    assert len(expected(cases[("--status", "closed", "--unread")])) == 3

    result = run_cli("conversations", "--inbox", str(inbox), "--limit", "5", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "NUMBER", "STATUS", "UNREAD", "ASSIGNED", "UPDATED", "LAST", "MESSAGE"]
    newest = newest_first(everything)
    assert newest[4]["updated"] != newest[5]["updated"]  # the first five are well defined
    assert [int(line.split()[0]) for line in lines[1:]] == [c["id"] for c in newest[:5]]
    for line, conversation in zip(lines[1:], newest):
        shown = server.shape_conversation(conversation)  # the status as this profile sends it
        assert format_phone(conversation["target"]) in line and shown["status"] in line
        assert ("unread" in line.split()) == unread(conversation)
    result = run_cli("conversations", "--inbox", str(inbox), "--status", "closed", "--unread", "--limit", "2",
                     "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert [c["id"] for c in lines_json(result.stdout)] == expected(cases[("--status", "closed", "--unread")])[:2]


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
def test_history_json_of_the_long_thread_is_every_message_once_oldest_first(server, profile, isolated_env, cursor) -> None:
    live_runs_one(profile, (cursor,), ("inclusive",))
    server.options.cursor = cursor
    expected = long_thread(server)
    assert len(expected) >= 20_000
    result = run_cli("history", "--inbox", str(LONG_THREAD_INBOX), "--phone", LONG_THREAD_TARGET, "--json",
                     env=env_for(server, isolated_env))
    assert result.returncode == 0, result.stderr
    got = lines_json(result.stdout)
    assert [m["id"] for m in got] == [m["id"] for m in expected]
    assert got[0] == server.shape_messages(expected[:1])[0]  # the API's fields, unchanged


def test_history_survives_a_429_storm(server, isolated_env) -> None:
    # rate_limit=0: the storm's retries take the thread's 417 pages past 500 requests in a minute;
    # this test is about injected 429s, and a real Retry-After of up to 60 s would be waited out.
    server.options.rate_limit = 0
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


RAW_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_history_json_of_the_hostile_thread_is_escaped_and_decodes_to_the_exact_values(shared_server,
                                                                                       isolated_env) -> None:
    # As this profile sends them (the live one leaves out empty fields, and so on).
    expected = shared_server.shape_messages(shared_server.data.messages_for(HOSTILE_THREAD_INBOX, HOSTILE_THREAD_TARGET))
    raw_texts = "".join(m.get("text") or "" for m in expected)
    for needle in ("\x1b", "\x07", "\x00", "\x7f", "\u202e"):
        assert needle in raw_texts  # the thread really is hostile, or this proves nothing
    result = run_cli("history", "--inbox", str(HOSTILE_THREAD_INBOX), "--phone", HOSTILE_THREAD_TARGET, "--json",
                     env=env_for(shared_server, isolated_env))
    assert result.returncode == 0, result.stderr
    # Not one control, DEL, C1 or bidi character reaches the terminal raw: each is a \u escape.
    assert not RAW_UNSAFE.search(result.stdout.replace("\n", ""))
    assert result.stdout.count("\n") == len(expected)
    for escape in ("\\u001b", "\\u0007", "\\u0000", "\\u007f", "\\u202e"):
        assert escape in result.stdout
    assert lines_json(result.stdout) == expected  # every field, exactly as the server sent it


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


def test_timeout(server, gated_stalls, isolated_env, tmp_path) -> None:
    server.inject(Fault("stall", every=1, stall=2.0))  # held by the gate: past any timeout
    (tmp_path / "config.toml").write_text("timeout = 0.3\nretries = 1\n")
    os.chmod(tmp_path / "config.toml", 0o600)
    err = assert_one_line_error(run_cli("inboxes", env=env_for(server, isolated_env)), retried=True)
    assert "did not answer in time" in err
    # The first try and one retry (a loaded server thread may count the second after the CLI left).
    eventually(lambda: server.counts["GET /v1/inboxes"] >= 2, f"the server saw the retry: {dict(server.counts)} {err}")
    assert server.counts["GET /v1/inboxes"] == 2


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


def read_lines(stream, count: int, deadline: float = 60) -> str:
    """The first `count` lines of a child's output, or a failure after `deadline` s: never a hang."""
    import select
    import time

    text = b""
    end = time.monotonic() + deadline
    while text.count(b"\n") < count and time.monotonic() < end:
        ready, _, _ = select.select([stream], [], [], 0.5)
        if ready:
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            text += chunk
    assert text.count(b"\n") >= count, f"wanted {count} lines, got {text!r}"
    return text.decode()


def test_fake_server_command_prints_its_url_and_demo_credentials(isolated_env) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "hmtui", "fake-server", "--seed", "3"], env=isolated_env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert proc.stdout is not None
        output = read_lines(proc.stdout, 4)
        url = re.search(r"http://127\.0\.0\.1:\d+", output.splitlines()[0]).group()
        exports = dict(re.findall(r"export (\w+)=(\S+)", output))
        assert exports["HEYMARKET_BASE_URL"] == url
        env = {**isolated_env, **exports}
        result = run_cli("inboxes", "--json", env=env)
        assert result.returncode == 0 and len(lines_json(result.stdout)) >= 3
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:  # never leave it running
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def run_in_terminal(args: list[str], env: dict[str, str], *, steps: list[tuple[str, bytes]],
                    deadline: float = 60) -> tuple[int, str]:
    """Run hmtui in a pseudo-terminal and play `steps`: for each (text, keys), wait until `text` shows
    in what the app drew since the previous step, then type `keys`. Return (exit code, screen).

    Never hangs: past `deadline` the child's whole process group is killed and the test fails with
    the step it was waiting on; the group is killed in any case on the way out."""
    import pty
    import select
    import time

    pid, fd = pty.fork()  # the child is a session (and process group) leader: pgid == pid
    if pid == 0:  # the child: exec hmtui
        os.execvpe(sys.executable, [sys.executable, "-m", "hmtui", *args], {**env, "TERM": "xterm-256color",
                                                                             "COLUMNS": "120", "LINES": "40"})
    screen = b""
    mark = 0  # where the current step starts looking
    step = 0
    code: int | None = None
    end = time.monotonic() + deadline
    try:
        while time.monotonic() < end:  # reads until the child closes the terminal (it exited)
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                screen += chunk
            if step < len(steps) and steps[step][0].encode() in screen[mark:]:
                os.write(fd, steps[step][1])
                mark = len(screen)
                step += 1
        while code is None and time.monotonic() < end:  # the terminal closed: collect the exit code
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
            else:
                select.select([], [], [], 0.05)
        text = screen.decode("utf-8", "replace")
        waiting = f"waiting for {steps[step][0]!r}" if step < len(steps) else "after the last step"
        assert code is not None, f"hmtui still running after {deadline} s, {waiting}:\n{text[-3000:]}"
        assert step == len(steps), f"hmtui exited ({code}) {waiting}:\n{text[-3000:]}"
        return code, text
    finally:
        if code is None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        os.close(fd)


CTRL_Q = b"\x11"  # Textual's quit, which an Input with focus does not swallow


def test_demo_opens_the_terminal_ui_and_q_quits_with_0(isolated_env) -> None:
    code, screen = run_in_terminal(["demo"], isolated_env, steps=[("Field Ops", b"q")])
    assert code == 0, screen[-2000:]
    for name in ("Support", "Sales", "Billing", "Field Ops"):
        assert name in screen
    assert "Traceback" not in screen


def words(text: str) -> list[str]:
    return [w.strip(".,;:!?#'\"()") for w in text.split()]


def a_conversation_far_down_another_inbox(data) -> tuple[dict, str]:
    """A conversation well below the first screen of an inbox that is not the first one, and a word
    of its newest messages found in no other conversation (its thread, or any list preview)."""
    words_of = {}
    for conversation in data.conversations:
        texts = [m["text"] or "" for m in data.messages_for(conversation["inbox"], conversation["target"])]
        words_of[conversation["id"]] = (texts, {w for t in texts + [conversation.get("last_msg") or ""] for w in words(t)})
    inbox = data.inboxes[2]["id"]
    rows = sorted((c for c in data.conversations if c["inbox"] == inbox), key=lambda c: c["updated"], reverse=True)
    for conversation in rows[40:]:
        texts, _ = words_of[conversation["id"]]
        elsewhere = set().union(*(w for cid, (_, w) in words_of.items() if cid != conversation["id"]))
        for text in reversed(texts[-2:]):
            # Short words only: a long one (a URL) could be folded across two screen lines.
            for word in words(text):
                if 6 <= len(word) <= 20 and word not in elsewhere:
                    return conversation, word
    raise AssertionError("the seeded data has no such conversation")


def test_tui_opens_straight_into_a_conversation(shared_server, isolated_env) -> None:
    conversation, word = a_conversation_far_down_another_inbox(shared_server.data)
    args = ["--inbox", str(conversation["inbox"]), "--phone", conversation["target"]]
    # "/" finds in the thread only when the thread has focus (elsewhere it filters the list).
    code, screen = run_in_terminal(args, env_for(shared_server, isolated_env),
                                   steps=[(word, b"/"), ("ind (enter; then n / N)", CTRL_Q)])  # find's placeholder (its f may carry the cursor)
    assert code == 0, screen[-2000:]
    assert "filter by name, number or text" not in screen
    assert "Traceback" not in screen


def test_tui_phone_without_inbox_is_a_usage_error(shared_server, isolated_env) -> None:
    result = run_cli("--phone", "14155550142", env=env_for(shared_server, isolated_env))
    assert "--phone needs --inbox" in assert_one_line_error(result, 2)


def test_python_dash_m_and_version(isolated_env) -> None:
    result = run_cli("--version", env=isolated_env)
    assert result.returncode == 0 and result.stdout.startswith("hmtui ")

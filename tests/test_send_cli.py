"""`hmtui send` and `hmtui outbox`: exit codes and lines, against the fake server over loopback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from hmtui.api.send import SEND_PATH
from hmtui.fake import Fault

from conftest import env_for, run_cli, tidy_only

SEND = f"POST {SEND_PATH}"


@pytest.fixture
def cli_env(isolated_env, tmp_path):
    # One retry: an unreachable server is given up on in one short backoff, not four.
    config = tmp_path / "config.toml"
    config.write_text("retries = 1\n")
    config.chmod(0o600)
    return isolated_env


def a_conversation(server):
    conv = next(c for c in server.data.conversations
                if c["status"] == "open" and c["id"] not in server.data.live.groups
                and c["id"] not in server.data.live.email)
    return str(conv["inbox"]), conv["target"]


def dead_env(server, env):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return {**env_for(server, env), "HEYMARKET_BASE_URL": f"http://127.0.0.1:{port}"}


def test_send_prints_the_message_id(server, cli_env, profile) -> None:
    inbox, target = a_conversation(server)
    done = run_cli("send", "--inbox", inbox, "--phone", target, "See you at 5", env=env_for(server, cli_env))
    assert done.returncode == 0, done.stderr
    [message] = server.sender.sent
    assert done.stdout.strip() == str(message["id"])
    assert message["text"] == "See you at 5" and message["local_id"]
    assert server.counts[SEND] == 1
    if profile == "live":
        assert "queued for delivery" in done.stderr


def test_send_a_note_from_stdin(server, cli_env) -> None:
    inbox, target = a_conversation(server)
    done = subprocess.run([sys.executable, "-m", "hmtui", "send", "--inbox", inbox, "--phone", target, "--note", "-"],
                          input="line one\nline two\n", env=env_for(server, cli_env), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    [message] = server.sender.sent
    assert message["text"] == "line one\nline two" and message["private"] is True


@pytest.mark.parametrize("args, says", [
    (["--phone", "14155550100", ""], "empty"),
    (["--phone", "14155550100", "   "], "empty"),
    (["--phone", "not a number", "hi"], "--phone"),
    (["hi"], "--phone"),
    (["--phone", "14155550100", "--media", "file:///etc/passwd", "hi"], "--media"),
])
def test_bad_input_is_exit_2_with_one_line_and_no_request(shared_server, cli_env, args, says) -> None:
    before = shared_server.counts[SEND]
    done = run_cli("send", "--inbox", "501", *args, env=env_for(shared_server, cli_env))
    assert done.returncode == 2 and says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert shared_server.counts[SEND] == before


@tidy_only  # the tidy profile refuses an opted-out number with a 400 (live holds it: next test)
def test_a_refusal_is_one_line_exit_1_and_never_retried(server, cli_env) -> None:
    inbox, target = a_conversation(server)
    server.sender.opted_out.add(target)
    done = run_cli("send", "--inbox", inbox, "--phone", target, "promo", env=env_for(server, cli_env))
    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert "refused" in line and "opted out" in line
    assert server.counts[SEND] == 1
    assert run_cli("outbox", env=env_for(server, cli_env)).stderr.strip() == "hmtui: the outbox is empty"


@pytest.mark.parametrize("profile", ["live"], indirect=True)
def test_a_compliance_hold_is_exit_1_never_sent(server, cli_env) -> None:
    inbox, target = a_conversation(server)
    server.sender.opted_out.add(target)
    done = run_cli("send", "--inbox", inbox, "--phone", target, "promo", env=env_for(server, cli_env))
    assert done.returncode == 1 and "held by the server, not sent" in done.stderr and done.stdout == ""


def test_unreachable_is_exit_1_not_sent_and_leaves_nothing(server, cli_env) -> None:
    inbox, target = a_conversation(server)
    env = dead_env(server, cli_env)
    done = run_cli("send", "--inbox", inbox, "--phone", target, "hello?", env=env)
    assert done.returncode == 1 and "not sent" in done.stderr and done.stdout == ""
    assert "Traceback" not in done.stderr
    assert run_cli("outbox", env=env).stderr.strip() == "hmtui: the outbox is empty"


def test_queue_leaves_it_in_the_outbox_and_outbox_send_delivers_it_once(server, cli_env) -> None:
    inbox, target = a_conversation(server)
    offline = dead_env(server, cli_env)
    done = run_cli("send", "--inbox", inbox, "--phone", target, "--queue", "from the tunnel", env=offline)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("queued ") and "left in the outbox" in done.stderr
    local_id = done.stdout.split()[1]
    listing = run_cli("outbox", env={**offline, "COLUMNS": "160"})
    assert listing.returncode == 0 and "from the tunnel" in listing.stdout
    [row] = [line for line in listing.stdout.splitlines() if line.startswith(local_id[:8])]
    assert "waiting" in row and "not sent" in row

    online = env_for(server, cli_env)  # the same account (loopback servers share a cache file)
    sent = run_cli("outbox", "send", env=online)
    assert sent.returncode == 0, sent.stderr
    [message] = server.sender.sent
    assert sent.stdout.strip() == f"sent {local_id} as {message['id']}" and message["local_id"] == local_id
    again = run_cli("outbox", "send", env=online)
    assert again.returncode == 0 and "nothing waits" in again.stderr
    assert server.counts[SEND] == 1


def test_outbox_drop_discards_one(server, cli_env) -> None:
    inbox, target = a_conversation(server)
    offline = dead_env(server, cli_env)
    ids = []
    for text in ("one", "two"):
        done = run_cli("send", "--inbox", inbox, "--phone", target, "--queue", text, env=offline)
        ids.append(done.stdout.split()[1])
    dropped = run_cli("outbox", "drop", ids[0][:8], env=offline)
    assert dropped.returncode == 0 and dropped.stdout.strip() == f"dropped {ids[0]}"
    listing = run_cli("outbox", "--json", env=offline)
    assert ids[0] not in listing.stdout and ids[1] in listing.stdout
    missing = run_cli("outbox", "drop", "nope-nope", env=offline)
    assert missing.returncode == 2 and "no message" in missing.stderr
    assert run_cli("outbox", "drop", env=offline).returncode == 2


def test_queue_needs_the_cache(shared_server, cli_env) -> None:
    done = run_cli("send", "--no-cache", "--inbox", "501", "--phone", "14155550100", "--queue", "hi",
                   env=env_for(shared_server, cli_env))
    assert done.returncode == 2 and "--queue needs the cache" in done.stderr


def test_an_answer_lost_is_kept_for_a_checked_resend(server, cli_env) -> None:
    """The server acted but every answer and read-back was lost: not said to be sent, not said to
    be unsent either; `outbox send` reads the thread back and finds it, sending nothing."""
    server.options.send_dedupe = False
    inbox, target = a_conversation(server)
    server.inject(Fault("500", times=1, path=SEND_PATH, after=True))
    server.inject(Fault("500", times=4, path="/v1/messages"))  # two read-backs of two tries each
    done = run_cli("send", "--inbox", inbox, "--phone", target, "did it go", env=env_for(server, cli_env))
    assert done.returncode == 1 and "kept in the outbox" in done.stderr and "not confirmed" in done.stderr
    sent = run_cli("outbox", "send", env=env_for(server, cli_env))
    assert sent.returncode == 0 and sent.stdout.startswith("sent ")
    assert server.counts[SEND] == 1 and len(server.sender.sent) == 1


def test_the_demo_turns_the_fake_customer_on(monkeypatch, tmp_path) -> None:
    import os

    from hmtui import cli

    for key in list(os.environ):
        if key.startswith(("HEYMARKET_", "HMTUI_")):
            monkeypatch.delenv(key)
    config = tmp_path / "config.toml"
    config.write_text("")
    config.chmod(0o600)
    monkeypatch.setenv("HMTUI_CONFIG", str(config))
    servers: list = []
    real_fake_server = cli._fake_server

    def recording_fake_server(args, **kw):
        servers.append(real_fake_server(args, **kw))
        return servers[-1]

    seen: list[tuple[float | None, bool]] = []

    async def record(client, config, args) -> int:
        server = servers[-1]
        seen.append((server.options.customer_replies, server.customer._thread is not None))
        return 0

    monkeypatch.setattr(cli, "_fake_server", recording_fake_server)
    monkeypatch.setattr(cli, "cmd_tui", record)
    assert cli.run_demo(cli.build_parser().parse_args(["demo"])) == 0
    assert cli.run_demo(cli.build_parser().parse_args(["demo", "--customer-replies", "0"])) == 0
    assert seen == [(cli.DEMO_CUSTOMER_DELAY, True), (0.0, False)]
    assert all(s.customer._thread is None for s in servers)  # stopped with the server

"""Issue 15, item 9: a lone surrogate in server text, or an output that cannot encode Unicode,
never fails a command (nor leaves an export half written); JSON stays exact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hmtui.api.models import Message
from hmtui.safe_text import clean_text, dumps_terminal_safe, one_line
from hmtui.ui.export import render_jsonl, render_markdown, write_export

from conftest import env_for, run_cli

BAD = "bad \udfff here \ud800"


def small_thread(server) -> tuple[int, str, list[dict]]:
    conv = next(c for c in server.data.conversations
                if 2 <= len(server.data.messages_for(c["inbox"], c["target"])) <= 40)
    return conv["inbox"], conv["target"], server.data.messages_for(conv["inbox"], conv["target"])


def poison(server) -> tuple[int, str, dict]:
    """A lone surrogate in a message's text and author, and in an inbox's name."""
    inbox, target, thread = small_thread(server)
    thread[-1]["text"] = BAD
    thread[-1]["author"] = "Ann \udfff"
    server.data.inboxes[0]["name"] += " \udfff"
    return inbox, target, thread[-1]


def test_safe_text_replaces_lone_surrogates() -> None:
    assert clean_text(BAD) == "bad \ufffd here \ufffd"
    assert one_line(BAD) == "bad \ufffd here \ufffd"
    clean_text(BAD).encode("utf-8")  # no UnicodeEncodeError
    assert clean_text("😀 é") == "😀 é"  # a real (paired) astral character is untouched


def test_json_escapes_lone_surrogates_and_stays_exact() -> None:
    value = {"text": BAD, "emoji": "😀 é"}
    line = dumps_terminal_safe(value)
    line.encode("utf-8")
    assert json.loads(line) == value and "😀 é" in line
    ascii_line = dumps_terminal_safe(value, ascii_only=True)
    assert ascii_line.isascii() and json.loads(ascii_line) == value


@pytest.mark.parametrize("json_flag", [False, True], ids=["text", "json"])
def test_history_and_inboxes_with_a_lone_surrogate(server, isolated_env, json_flag) -> None:
    inbox, target, bad = poison(server)
    env = env_for(server, isolated_env)
    extra = ["--json"] if json_flag else []
    history = run_cli("history", "--inbox", str(inbox), "--phone", target, *extra, env=env)
    inboxes = run_cli("inboxes", *extra, env=env)
    for result in (history, inboxes):
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr and "UnicodeEncodeError" not in result.stderr
    if json_flag:
        records = [json.loads(line) for line in history.stdout.splitlines()]
        assert records[-1]["text"] == BAD  # exact: \u-escaped on the wire, decoded back
        assert [json.loads(line) for line in inboxes.stdout.splitlines()] == server.shape_inboxes(server.data.inboxes)
    else:
        assert "bad \ufffd here \ufffd" in history.stdout
        assert "\ufffd" in inboxes.stdout


def test_an_ascii_only_output_prints_with_replacement(server, isolated_env) -> None:
    inbox, target, bad = poison(server)
    env = {**env_for(server, isolated_env), "PYTHONIOENCODING": "ascii"}
    server.data.messages_for(inbox, target)[-2]["text"] = "café 😀"
    text = run_cli("history", "--inbox", str(inbox), "--phone", target, env=env)
    assert text.returncode == 0, text.stderr
    assert text.stdout.isascii() and "caf? ?" in text.stdout and "bad ? here ?" in text.stdout
    table = run_cli("inboxes", env=env)
    assert table.returncode == 0, table.stderr
    as_json = run_cli("history", "--inbox", str(inbox), "--phone", target, "--json", env=env)
    assert as_json.returncode == 0 and as_json.stdout.isascii()
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert records[-2]["text"] == "café 😀" and records[-1]["text"] == BAD  # JSON loses nothing


def test_an_export_with_a_lone_surrogate_is_written_whole(server, tmp_path: Path) -> None:
    from hmtui.api.models import Conversation
    from datetime import timezone

    inbox, target, bad = poison(server)
    raws = server.data.messages_for(inbox, target)
    messages = [m for m in (Message.from_raw(r) for r in raws) if m is not None]
    path = tmp_path / "thread.jsonl"
    write_export(path, render_jsonl(messages))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(raws) and json.loads(lines[-1])["text"] == BAD
    conversation = Conversation.from_raw(server.data.find_conversation(inbox, target))
    assert conversation is not None
    md = tmp_path / "thread.md"
    write_export(md, render_markdown(conversation, messages, timezone.utc))
    assert "bad \ufffd here \ufffd" in md.read_text(encoding="utf-8")
    # Even text that skipped the cleaning is written whole, never a 0-byte file.
    raw = tmp_path / "raw.md"
    write_export(raw, "before " + BAD + " after\n")
    assert raw.read_text(encoding="utf-8").endswith(" after\n")

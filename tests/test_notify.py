"""Notifications (issue 12), as pure logic: the sequences each terminal gets, hostile server
text made inert in them and in a command's arguments, the command run without a shell and
without blocking, which messages notify (once ever, never the backlog, in scope), and the
terminal title with its restore."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from hmtui.cache import NullStore, Store
from hmtui.fake.hostile import HOSTILE_MESSAGES, HOSTILE_NAME
from hmtui.notify import (
    BEL,
    ESC,
    OSC9,
    OSC99,
    OSC777,
    TITLE_POP,
    TITLE_PUSH,
    Inbound,
    Notifier,
    NotifyGate,
    TerminalTitle,
    notification_sequence,
    payload_text,
    run_command,
    summary,
    terminal_protocol,
    title_sequence,
    title_text,
)

HOSTILE = [HOSTILE_NAME, *(text for _, text, _ in HOSTILE_MESSAGES if text)]
PWNED = "title: \x1b]0;pwned\x07 done"
assert PWNED in HOSTILE

TERMINALS = {
    "iterm2": ({"TERM_PROGRAM": "iTerm.app"}, OSC9),
    "iterm2 over ssh": ({"LC_TERMINAL": "iTerm2", "TERM": "xterm-256color"}, OSC9),
    "wezterm": ({"TERM_PROGRAM": "WezTerm"}, OSC9),
    "windows terminal": ({"WT_SESSION": "abc"}, OSC9),
    "foot": ({"TERM": "foot"}, OSC777),
    "urxvt": ({"TERM": "rxvt-unicode-256color"}, OSC777),
    "ghostty": ({"TERM_PROGRAM": "ghostty", "TERM": "xterm-ghostty"}, OSC777),
    "kitty": ({"KITTY_WINDOW_ID": "1", "TERM": "xterm-kitty"}, OSC99),
    "kitty in tmux": ({"KITTY_WINDOW_ID": "1", "TERM": "tmux-256color", "TMUX": "/tmp/t,1,0"}, OSC99),
    "xterm": ({"TERM": "xterm-256color"}, None),
}


def inert(text: str) -> bool:
    """No character a terminal or an option parser could act on."""
    return not any(unicodedata.category(ch) in ("Cc", "Cf") and ch != "\u200d" for ch in text)


@pytest.mark.parametrize("name", TERMINALS)
def test_the_terminal_is_told_from_its_environment(name: str) -> None:
    environ, protocol = TERMINALS[name]
    assert terminal_protocol(environ) == protocol


def test_payload_text_strips_every_control_escape_and_bidi_override() -> None:
    for text in HOSTILE:
        cleaned = payload_text(text, 200)
        assert inert(cleaned), repr(cleaned)
        assert "\n" not in cleaned and len(cleaned) <= 200
    assert payload_text(PWNED, 100) == "title: ]0;pwned done"
    assert payload_text("a\u202eevil\u202c b", 100) == "aevil b"
    assert payload_text("x" * 300, 10) == "x" * 9 + "…"
    # Emoji sequences keep their joiner (a family stays one family).
    assert "\u200d" in payload_text("👩\u200d👩\u200d👧", 20)


def _body_of(sequence: str, protocol: str) -> str:
    """The payload between the introducer and the terminator, asserting the sequence's frame."""
    if protocol == OSC9:
        assert sequence.startswith(f"{ESC}]9;") and sequence.endswith(BEL)
        return sequence[4:-1]
    if protocol == OSC777:
        assert sequence.startswith(f"{ESC}]777;notify;") and sequence.endswith(BEL)
        return sequence[len(f"{ESC}]777;notify;"):-1]
    parts = re.fullmatch(r"\x1b\]99;i=hmtui1:d=0:p=title;(.*?)\x1b\\\x1b\]99;i=hmtui1:d=1:p=body;(.*)\x1b\\",
                         sequence, flags=re.S)
    assert parts is not None, repr(sequence)
    return parts.group(1) + parts.group(2)


@pytest.mark.parametrize("protocol", [OSC9, OSC777, OSC99])
@pytest.mark.parametrize("hostile", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_cannot_end_the_sequence_or_set_the_title(protocol: str, hostile: str) -> None:
    sequence = notification_sequence(protocol, hostile, hostile)
    payload = _body_of(sequence, protocol)
    assert ESC not in payload and BEL not in payload and inert(payload)
    # Exactly the sequence's own ESCs and BELs: nothing ends it early or starts another.
    own_escapes = 4 if protocol == OSC99 else 1
    assert sequence.count(ESC) == own_escapes
    assert sequence.count(BEL) == (0 if protocol == OSC99 else 1)
    assert f"{ESC}]0;" not in sequence and f"{ESC}]52;" not in sequence


def test_osc777_fields_and_osc9_progress_cannot_be_forged() -> None:
    # A ';' in the title would move text into the body field.
    assert notification_sequence(OSC777, "a;b", "c") == f"{ESC}]777;notify;a,b;c{BEL}"
    # "9;4;..." is Windows Terminal's progress bar: the text never starts with a number.
    assert notification_sequence(OSC9, "4;3;100", "") == f"{ESC}]9;hmtui: 4;3;100{BEL}"
    assert notification_sequence(OSC9, "Priya", "hi") == f"{ESC}]9;Priya: hi{BEL}"


def test_tmux_passthrough_doubles_every_escape() -> None:
    notifier = Notifier("terminal", environ={"TERM_PROGRAM": "iTerm.app", "TMUX": "/tmp/t,1,0"}, write=lambda _: None)
    written = notifier.notify("Priya", PWNED).written
    assert written == f"{ESC}Ptmux;{ESC}{ESC}]9;Priya: title: ]0;pwned done{BEL}{ESC}\\"
    kitty = Notifier("terminal", environ=TERMINALS["kitty in tmux"][0], write=lambda _: None)
    inner = kitty.notify(HOSTILE_NAME, PWNED).written
    assert inner.startswith(f"{ESC}Ptmux;") and inner.endswith(f"{ESC}\\")
    # Inside the wrapper every ESC is doubled, so tmux never sees the wrapper end early.
    assert f"{ESC}\\" not in inner[len(f"{ESC}Ptmux;"):-2].replace(ESC + ESC, "")


def test_methods_and_auto() -> None:
    written: list[str] = []
    assert Notifier("bell", environ={}, write=written.append).notify("a", "b").written == BEL
    assert Notifier("off", environ={}, write=written.append).notify("a", "b").method == "off"
    assert written == [BEL]
    assert Notifier("auto", environ={"TERM": "foot"}).method == "terminal"
    assert Notifier("auto", environ={"TERM": "xterm"}).method == "bell"
    assert Notifier("auto", ["notify-send"], environ={"TERM": "foot"}).method == "command"
    assert Notifier("terminal", environ={"TERM": "xterm"}).method == "bell"  # no known sequence


RECORDER = """import json, sys
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(sys.argv[2:], f)
"""


def test_the_command_gets_title_and_body_as_two_inert_arguments_without_a_shell(tmp_path: Path) -> None:
    script = tmp_path / "record.py"
    script.write_text(RECORDER)
    out = tmp_path / "argv.json"
    marker = tmp_path / "shell-ran"
    notifier = Notifier("command", [sys.executable, str(script), str(out)], environ={})
    hostile_body = f"\x1b]0;pwned\x07 $(touch {marker}) `touch {marker}`; touch {marker}"
    delivery = notifier.notify("--icon=/etc/passwd " + HOSTILE_NAME, hostile_body)
    assert delivery.thread is not None
    delivery.thread.join(120)
    title, body = json.loads(out.read_text(encoding="utf-8"))
    assert not title.startswith("-") and inert(title) and inert(body)
    assert "pwned" in body and ESC not in body and BEL not in body
    assert not marker.exists()  # no shell ever saw it


def test_a_slow_command_is_killed_and_never_blocks_the_caller(tmp_path: Path) -> None:
    script = tmp_path / "hang.py"
    script.write_text("import time\ntime.sleep(600)\n")
    assert run_command([sys.executable, str(script)], timeout=0.5) is None
    assert run_command([str(tmp_path / "missing")]) is None  # cannot run: logged, never raised
    notifier = Notifier("command", [sys.executable, str(script)], environ={}, timeout=0.5)
    delivery = notifier.notify("t", "b")  # returns at once: the wait is in the thread
    assert delivery.thread is not None and delivery.thread.daemon
    delivery.thread.join(120)
    assert not delivery.thread.is_alive()


# -- which messages notify -------------------------------------------------------------------------

START = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
ME, OTHER = 101, 202


def inbound(id_: int, *, assigned: int | None = None, inbox: int = 1, target: str = "15550001",
            minutes: float = 1) -> Inbound:
    return Inbound(id=id_, inbox_id=inbox, target=target, assigned=assigned, date=START + timedelta(minutes=minutes),
                   title=HOSTILE_NAME, body=PWNED)


def test_the_backlog_never_notifies_and_each_id_notifies_once_across_restarts(tmp_path: Path) -> None:
    store = Store.open("https://api.heymarket.com", "id", directory=tmp_path)
    gate = NotifyGate(store, scope="all", me=ME, started=START)
    gate.prime([1, 2, 3])  # what the first load found
    old = inbound(4, minutes=-60)  # an older page found later: backlog too
    assert gate.admit([inbound(1), inbound(2), old]) == []
    assert [m.id for m in gate.admit([inbound(5), inbound(5), inbound(1)])] == [5]
    assert gate.admit([inbound(5)]) == []
    store.close()
    # A restart: the new process's first load missed message 5 (an older page), yet it stays quiet.
    store = Store.open("https://api.heymarket.com", "id", directory=tmp_path)
    again = NotifyGate(store, scope="all", me=ME, started=START)
    assert store.notified_ids([5, 6]) == {5}
    assert [m.id for m in again.admit([inbound(5), inbound(6)])] == [6]
    store.close()


def test_scope_mine_all_none(tmp_path: Path) -> None:
    batch = [inbound(10, assigned=ME), inbound(11, assigned=None), inbound(12, assigned=OTHER),
             inbound(13, assigned=ME, inbox=9)]
    got = {}
    for scope in ("mine", "all", "none"):
        gate = NotifyGate(NullStore(), scope=scope, me=ME, started=START, my_inboxes=[1])
        got[scope] = [m.id for m in gate.admit(batch)]
    assert got == {"mine": [10, 11], "all": [10, 11, 12], "none": []}
    # A change of scope later does not bring back what was judged already.
    gate = NotifyGate(NullStore(), scope="none", me=ME, started=START)
    assert gate.admit(batch) == []
    gate.scope = "all"
    assert gate.admit(batch) == []


def test_the_conversation_on_screen_is_quiet_only_while_focused() -> None:
    gate = NotifyGate(NullStore(), scope="all", me=ME, started=START)
    shown = (1, "15550001")
    assert gate.admit([inbound(20)], on_screen=shown, focused=True) == []
    assert [m.id for m in gate.admit([inbound(21)], on_screen=shown, focused=False)] == [21]
    assert [m.id for m in gate.admit([inbound(22, target="15550002")], on_screen=shown, focused=True)] == [22]


def test_a_burst_is_one_notification() -> None:
    many = [inbound(i, target=f"1555000{i % 2}") for i in range(30, 40)]
    assert summary(many) == [("hmtui", "10 new messages from 2 customers")]
    assert summary(many[:2]) == [(m.title, m.body) for m in many[:2]]


# -- the terminal title ---------------------------------------------------------------------------


def test_the_title_shows_the_unread_count_and_is_restored() -> None:
    assert title_text(3) == "hmtui · 3 unread"
    assert title_text(0) == "hmtui"
    assert title_text(1200, "work") == "hmtui · work · 1,200 unread"
    assert title_sequence(PWNED) == f"{ESC}]2;title: ]0;pwned done{BEL}"
    written: list[str] = []
    title = TerminalTitle(written.append)
    title.show(3)
    title.show(3)  # unchanged: nothing written
    title.show(2, HOSTILE_NAME)
    title.restore()
    title.restore()
    assert written[0] == TITLE_PUSH and written[-1] == TITLE_POP
    assert written[1:-1] == [f"{ESC}]2;hmtui · 3 unread{BEL}", written[2]]
    assert written[2].count(ESC) == 1 and written[2].count(BEL) == 1 and inert(written[2][4:-1])

"""Replying from the main screen (issue 9), in the pilot against the fake server: `r` / `i` open
the composer on the current conversation, enter sends exactly once to it, the thread marks the
send until the server's copy replaces it, a refusal stays failed (enter retries, d deletes),
ctrl+s closes only after a confirmed send, a draft stays with its conversation, and quitting
with unsent messages kept in memory asks first."""

from __future__ import annotations

import re

import pytest
from textual.content import Content

from hmtui.api.send import SEND_PATH
from hmtui.fake import HOSTILE_THREAD_INBOX, HOSTILE_THREAD_TARGET, Fault
from hmtui.ui.screens.picker import PickerScreen
from hmtui.workspace.send_marks import send_state
from hmtui.ui.widgets.composer import Composer

from app_harness import running, screen_text, settle, wait_until

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# tidy answers an opted-out number with a 400 (a refusal); live holds it (hmtui/fake/sending.py).
TIDY = pytest.mark.parametrize("profile", ["tidy"], indirect=True)


def sends(server) -> list[dict]:
    return [r.body for r in server.requests if r.method == "POST" and r.path == SEND_PATH]


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


def record_marks(app) -> list[list[str | None]]:
    """Every drawing of the thread's sends: the states of the local messages in it."""
    seen: list[list[str | None]] = []
    view = app.workspace.replies.listener
    draw = view.sends_changed

    def recording(messages):
        seen.append([send_state(m) for m in messages if send_state(m) is not None])
        draw(messages)

    view.sends_changed = recording
    return seen


async def open_composer(app, pilot, key: str = "r") -> Composer:
    await pilot.press(key)
    await wait_until(pilot, lambda: app.main.composer is not None, "the composer opens")
    return app.main.composer


async def test_r_opens_the_composer_and_enter_sends_once_and_the_mark_is_replaced(server) -> None:
    async with running(server) as (app, pilot):
        seen = record_marks(app)
        current = app.workspace.current
        composer = await open_composer(app, pilot)
        assert composer.key.inbox_id == current.inbox_id and composer.key.target == current.target
        assert composer.kind == "reply" and app.focused is not None and composer in app.focused.ancestors_with_self
        await type_text(pilot, "On my way")
        await pilot.press("enter")
        await wait_until(pilot, lambda: sends(server), "the send")
        await settle(pilot)
        await app.workspace.idle()
        await settle(pilot)
        [body] = sends(server)
        assert (body["inbox_id"], body["phone_number"], body["text"]) == (current.inbox_id, current.target, "On my way")
        assert not body.get("private")
        flat = [state for drawn in seen for state in drawn]
        assert "sending" in flat and "sent" in flat
        assert flat.index("sending") < flat.index("sent")
        # The server's copy replaced the mark: one message with that text, no local state.
        copies = [m for m in app.main.thread.messages() if m.text == "On my way"]
        assert len(copies) == 1 and send_state(copies[0]) is None
        assert copies[0].raw.get("local_id") == body["local_id"]
        assert app.main.composer is not None and app.main.composer.text == ""  # stays open, emptied


async def test_i_sends_a_private_note(server) -> None:
    async with running(server) as (app, pilot):
        composer = await open_composer(app, pilot, "i")
        assert composer.kind == "note" and composer.has_class("-note")
        await type_text(pilot, "VIP be nice")
        await pilot.press("enter")
        await wait_until(pilot, lambda: sends(server), "the send")
        await app.workspace.idle()
        [body] = sends(server)
        assert body["private"] is True and body["text"] == "VIP be nice"


@TIDY
async def test_a_refusal_is_marked_failed_enter_retries_d_deletes(server) -> None:
    async with running(server) as (app, pilot):
        current = app.workspace.current
        server.sender.opted_out.add(current.target)
        await open_composer(app, pilot)
        await type_text(pilot, "first try")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.workspace.replies.outbox.failed(), "the refusal")
        await settle(pilot)
        thread = app.main.thread
        [failed] = [m for m in thread.messages() if send_state(m) == "failed"]
        assert failed.text == "first try"
        assert any("✗" in line for line in screen_text(thread))
        assert len(sends(server)) == 1  # a refusal is final: one request
        await pilot.press("escape")  # leave the composer: the thread, on the newest (failed) message
        await settle(pilot)
        assert app.focused is thread and thread.selected_message.id == failed.id
        server.sender.opted_out.discard(current.target)
        await pilot.press("enter")  # retry, same local_id
        await wait_until(pilot, lambda: len(sends(server)) == 2, "the retry")
        await app.workspace.idle()
        await settle(pilot)
        first, again = sends(server)
        assert first["local_id"] == again["local_id"]
        assert not app.workspace.replies.outbox.entries()
        assert [send_state(m) for m in thread.messages() if m.text == "first try"] == [None]
        # Another refusal, deleted with d: gone from the outbox and the thread, never sent again.
        server.sender.opted_out.add(current.target)
        await open_composer(app, pilot)
        await type_text(pilot, "second")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.workspace.replies.outbox.failed(), "the second refusal")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert not app.workspace.replies.outbox.entries()
        assert not [m for m in thread.messages() if m.text == "second"]
        await app.workspace.idle()
        assert len(sends(server)) == 3


@TIDY
async def test_ctrl_s_closes_the_conversation_only_after_a_confirmed_send(server) -> None:
    async with running(server) as (app, pilot):
        current = app.workspace.current
        server.sender.opted_out.add(current.target)
        await open_composer(app, pilot)
        await type_text(pilot, "bye")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.workspace.replies.outbox.failed(), "the refusal")
        await app.workspace.idle()
        await settle(pilot)
        assert server.data.conversation_by_id(current.id)["status"] == "open"
        assert app.workspace.current.id == current.id and app.main.composer is not None
        server.sender.opted_out.discard(current.target)
        app.workspace.replies.drop(app.workspace.replies.outbox.failed()[0].local_id)
        await type_text(pilot, "bye now")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: server.data.conversation_by_id(current.id)["status"] == "closed",
                         "the close after the send")
        await settle(pilot)
        # Moved on as the triage keys do: the composer (of the closed one) is gone.
        assert app.workspace.current is None or app.workspace.current.id != current.id
        assert app.main.composer is None
        assert [b["text"] for b in sends(server)] == ["bye", "bye now"]


async def test_switching_conversation_keeps_the_draft_and_never_sends_to_the_other(server) -> None:
    async with running(server) as (app, pilot):
        ws = app.workspace
        first = ws.current
        await open_composer(app, pilot)
        await type_text(pilot, "for the first")
        other = next(c for c in ws.conversations.visible if c.id != first.id and not c.is_group)
        ws.open(other)  # the current conversation moves while the composer is open
        await settle(pilot)
        assert app.main.composer is None  # removed, never retargeted
        draft = ws.store.draft(first.inbox_id, first.target)
        assert draft is not None and draft.text == "for the first"
        assert first.target in app.main.conversations._drafts  # ✎ in the list
        assert any("✎" in line for line in screen_text(app.main.conversations))
        composer = await open_composer(app, pilot)
        assert composer.key.target == other.target and composer.text == ""
        await type_text(pilot, "for the other")
        await pilot.press("enter")
        await wait_until(pilot, lambda: sends(server), "the send")
        await ws.idle()
        [body] = sends(server)
        assert body["phone_number"] == other.target and body["text"] == "for the other"
        assert ws.store.draft(first.inbox_id, first.target).text == "for the first"
        # Back on the first: its draft comes back.
        await pilot.press("escape")
        ws.open(first)
        await settle(pilot)
        composer = await open_composer(app, pilot)
        assert composer.key.target == first.target and composer.text == "for the first"


async def test_hostile_names_are_literal_in_the_composer_title(server) -> None:
    async with running(server, start_inbox=HOSTILE_THREAD_INBOX, start_phone=HOSTILE_THREAD_TARGET) as (app, pilot):
        await settle(pilot)
        composer = await open_composer(app, pilot)
        # Textual keeps a border title as markup, escaped from the Text: what it draws is this.
        title = Content.from_markup(composer.border_title).plain
        assert "[bold red]not bold[/]" in title and not CONTROL.search(title)
        assert "Mallory" in title


async def test_quitting_with_unsent_messages_and_no_cache_asks_first(server) -> None:
    async with running(server) as (app, pilot):
        server.inject(Fault("drop", every=1, path=SEND_PATH))  # never answered: it stays queued
        await open_composer(app, pilot)
        await type_text(pilot, "are you there")
        await pilot.press("enter")
        await wait_until(pilot, lambda: sends(server), "the attempt")
        await app.workspace.idle()
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        assert "would be lost" in app.screen.title_text
        await pilot.press("escape")  # stay
        await settle(pilot)
        assert app.is_running and app.return_code is None
        await pilot.press("q")
        await settle(pilot)
        await pilot.press("G", "enter")  # "Quit and lose them"
        await settle(pilot)
    assert app.return_code == 0


# -- in a real terminal ---------------------------------------------------------------------------


def test_a_reply_typed_in_a_real_terminal_is_sent_once_and_marked_sent(server, isolated_env, profile) -> None:
    import time

    from conftest import env_for
    from fuzz_keys import Terminal

    env = env_for(server, isolated_env)
    term = Terminal([], env)
    try:
        assert term.wait_for("@Priya Raman"), term.diagnose(env)
        mark = len(term.output)
        term.write(b"r")
        assert term.wait_for("Reply to", start=mark), term.diagnose(env)
        term.write(b"typed in")
        assert term.wait_for("typed in", start=mark), term.diagnose(env)
        # alt+enter as xterm and tmux send it (ESC CR): a newline, never a send. The composer is
        # imported only when r opens it, after the driver made its key parser: the app's start
        # must have installed the parser that reads it.
        term.write(b"\x1b\r")
        term.pump(0.3)
        term.write(b"a pty")
        assert term.wait_for("a pty", start=mark), term.diagnose(env)
        assert not sends(server)
        mark = len(term.output)
        term.write(b"\r")
        end = time.monotonic() + 60  # only stops a hung test; the wait is on the request
        while not sends(server) and time.monotonic() < end:
            term.read(0.2)
        # The live backend accepts a text as "queued" (not yet delivered): the mark says so.
        assert term.wait_for("sent" if profile == "tidy" else "queued", start=mark), term.diagnose(env)
        term.write(b"\x1b")  # leave the composer
        term.pump(0.3)
        term.write(b"q")
        assert term.wait_exit() == 0, term.diagnose(env)
        assert "Traceback" not in term.text() and "Unexpected error" not in term.text()
    finally:
        term.close()
    [body] = sends(server)
    assert body["text"] == "typed in\na pty"
    created = [m for m in server.data.messages_for(body["inbox_id"], body["phone_number"])
               if m.get("local_id") == body["local_id"]]
    assert len(created) == 1

"""Keys typed faster than the app draws (issue 15, items 1 and 2): in the pilot, as bursts posted
without letting the app run in between, and in a real pty, where the driver reads them at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from hmtui.fake import FakeHeymarket
from hmtui.ui.screens.main import MainScreen
from hmtui.ui.screens.picker import PickerScreen
from hmtui.ui.widgets.conversation_list import ConversationList

from app_harness import running, settle
from conftest import env_for
from fuzz_keys import Terminal, burst, drain

TRIAGE = tuple(f"/v1/conversations/{kind}" for kind in ("open", "close", "read", "unread", "reassign", "transfer"))


def triage_requests(server: FakeHeymarket, path: str | None = None) -> list:
    return [r for r in server.requests if r.method == "POST" and r.path in TRIAGE and (path is None or r.path == path)]


def first_conversation(app):
    return app.main.query_one(ConversationList).items[0]


def picker_move(server: FakeHeymarket, app, conversation) -> tuple[str, object]:
    """The key that moves the assign picker off the current assignee, and who it lands on."""
    inbox = next(i for i in app.main.inboxes if i.id == conversation.inbox_id)
    members = [m.id for m in app.main.team.members if not inbox.members or m.id in inbox.members]
    index = members.index(conversation.assigned) if conversation.assigned in members else 0
    return ("down", members[index + 1]) if index + 1 < len(members) else ("up", members[index - 1])


async def alive(pilot, app) -> None:
    """The app still answers a key: `?` opens the help, escape closes it."""
    burst(app, ["question_mark"])
    await drain(pilot, app)
    assert type(app.screen).__name__ == "HelpScreen"
    burst(app, ["escape"])
    await drain(pilot, app)
    assert isinstance(app.screen, MainScreen)


# -- item 1: two Enters in one read ---------------------------------------------------------------


async def test_enter_enter_in_the_assign_picker_sends_the_choice_once(server) -> None:
    async with running(server) as (app, pilot):
        conversation = first_conversation(app)
        move, member = picker_move(server, app, conversation)
        server.requests.clear()
        burst(app, ["a", move, "enter", "enter"])
        await drain(pilot, app)
        await settle(pilot)
        sent = triage_requests(server)
        assert [r.path for r in sent] == ["/v1/conversations/reassign"]
        assert server.data.conversation_by_id(conversation.id)["assigned"] == member
        assert isinstance(app.screen, MainScreen) and app.return_code is None
        await alive(pilot, app)


async def test_enter_enter_in_the_transfer_picker_sends_it_once(server) -> None:
    async with running(server) as (app, pilot):
        conversation = first_conversation(app)
        server.requests.clear()
        burst(app, ["t", "enter", "enter"])
        await drain(pilot, app)
        await settle(pilot)
        assert [r.path for r in triage_requests(server)] == ["/v1/conversations/transfer"]
        assert server.data.conversation_by_id(conversation.id)["inbox"] != conversation.inbox_id
        await alive(pilot, app)


async def test_enter_enter_in_the_export_picker_writes_one_file(server, tmp_path: Path) -> None:
    async with running(server, tmp_path=tmp_path) as (app, pilot):
        await pilot.press("enter")  # the thread has the focus: e exports it
        await settle(pilot)
        burst(app, ["e", "enter", "enter"])
        await drain(pilot, app)
        await settle(pilot)
        assert len(list(tmp_path.glob("*.md"))) == 1
        assert isinstance(app.screen, MainScreen) and app.return_code is None
        await alive(pilot, app)


async def test_enter_enter_in_the_command_palette_runs_one_command(server) -> None:
    async with running(server) as (app, pilot):
        conversation = first_conversation(app)
        move, member = picker_move(server, app, conversation)
        server.requests.clear()
        # The palette's first Enter opens the assign picker; what follows goes to the picker.
        burst(app, ["ctrl+p", *"reassign", "enter", move, "enter", "enter"])
        await drain(pilot, app)
        await settle(pilot)
        assert [r.path for r in triage_requests(server)] == ["/v1/conversations/reassign"]
        assert server.data.conversation_by_id(conversation.id)["assigned"] == member
        burst(app, ["ctrl+p", "enter", "enter"])
        await drain(pilot, app)
        await settle(pilot)
        assert app.return_code is None
        while not isinstance(app.screen, MainScreen):
            burst(app, ["escape"])
            await drain(pilot, app)
        await alive(pilot, app)


async def test_a_modal_dismissed_twice_pops_only_itself(server) -> None:
    async with running(server) as (app, pilot):
        results = []
        picker = PickerScreen("Pick", [(1, "one"), (2, "two")])
        await app.push_screen(picker, results.append)
        await pilot.pause()
        picker.dismiss(1)
        picker.dismiss(2)  # the second Enter's: the screen is gone, nothing else may be popped
        await drain(pilot, app)
        assert results == [1]
        assert isinstance(app.screen, MainScreen)


async def test_an_action_for_a_screen_no_longer_on_top_does_nothing(server) -> None:
    async with running(server) as (app, pilot):
        server.requests.clear()
        await app.push_screen(PickerScreen("Pick", [(1, "one")]))
        await pilot.pause()
        # e.g. a palette command picked twice: the second is run with a modal on top.
        assert await app.run_action("toggle_closed", app.main)
        await settle(pilot)
        assert triage_requests(server) == []
        assert isinstance(app.screen, PickerScreen)


# -- item 2: keys right after a focus change ------------------------------------------------------


async def test_keys_typed_fast_after_slash_go_to_the_filter_not_to_triage(server) -> None:
    async with running(server) as (app, pilot):
        server.requests.clear()
        burst(app, ["enter", "escape", "slash", "c"])
        await drain(pilot, app)
        await settle(pilot)
        assert triage_requests(server) == []
        filter_input = app.main.query_one("#filter")
        assert app.focused is filter_input and filter_input.value == "c"


async def test_slash_lead_pasted_is_a_filter_not_an_export(server) -> None:
    async with running(server) as (app, pilot):
        await pilot.press("enter")
        await settle(pilot)
        burst(app, ["slash", *"lead"])  # in the thread, "/" opens find
        await drain(pilot, app)
        assert isinstance(app.screen, MainScreen)
        find = app.main.query_one("#find")
        assert app.focused is find and find.value == "lead"
        burst(app, ["escape", "escape", "slash", *"cuat"])  # back in the list: the filter
        await drain(pilot, app)
        await settle(pilot)
        assert app.main.query_one("#filter").value == "cuat"
        assert isinstance(app.screen, MainScreen) and triage_requests(server) == []


async def test_keys_typed_after_the_key_that_opens_a_picker_reach_the_picker(server) -> None:
    async with running(server) as (app, pilot):
        conversation = first_conversation(app)
        move, member = picker_move(server, app, conversation)
        server.requests.clear()
        burst(app, ["a", move, "enter"])
        await drain(pilot, app)
        await settle(pilot)
        assert len(triage_requests(server, "/v1/conversations/reassign")) == 1
        assert server.data.conversation_by_id(conversation.id)["assigned"] == member


# -- the same in a real terminal ------------------------------------------------------------------


@pytest.fixture
def terminal_env(server, isolated_env) -> dict[str, str]:
    return env_for(server, isolated_env)


def open_terminal(env: dict[str, str]) -> Terminal:
    term = Terminal(["--no-cache"], env)
    # The list with its assignees: the inboxes, the conversations and the team have loaded.
    assert term.wait_for("@Priya Raman"), term.text()[-2000:]
    return term


def quit_with_0(term: Terminal, mark: int) -> None:
    term.write(b"q")
    assert term.wait_exit() == 0, term.text(mark)[-3000:]
    assert "Traceback" not in term.text() and "Error" not in term.text(mark)


def test_pty_a_then_enter_enter_in_one_read_reassigns_once(server, terminal_env) -> None:
    term = open_terminal(terminal_env)
    try:
        mark = len(term.output)
        term.write(b"a\x1b[B\r\r")  # one read: a, down, enter, enter
        assert term.wait_for("Assigned ", start=mark), term.text(mark)[-3000:]
        term.write(b"?")  # it still answers a key
        assert term.wait_for("remap any of them", start=mark), term.text(mark)[-3000:]
        term.write(b"\x1b")
        term.pump(0.2)
        quit_with_0(term, mark)
        assert [r.path for r in triage_requests(server)] == ["/v1/conversations/reassign"]
    finally:
        term.close()


def test_pty_slash_c_typed_fast_filters_and_closes_nothing(server, terminal_env) -> None:
    term = open_terminal(terminal_env)
    try:
        server.requests.clear()
        mark = len(term.output)
        term.write(b"\r")  # open the conversation
        term.pump(0.05)
        term.write(b"\x1b")
        term.pump(0.15)  # a lone ESC is only a key once the terminal's escape delay (100 ms) passes
        for key in (b"/", b"c"):  # about 50 ms apart, as a quick typist types
            term.write(key)
            term.pump(0.05)
        term.write(b"/c")  # and pasted (the filter is open: this is text too)
        term.write(b"\r")  # leave the filter, keeping its text
        assert term.wait_for("c/c", start=mark), term.text(mark)[-3000:]
        term.pump(0.3)
        assert triage_requests(server) == []
        term.write(b"/")
        term.pump(0.05)
        term.write(b"lead")
        assert term.wait_for("“lead”", start=mark), term.text(mark)[-3000:]
        term.write(b"\x1b")
        term.pump(0.15)
        assert "Export the whole thread" not in term.text(mark)
        quit_with_0(term, mark)
        assert "Closed" not in term.text() and triage_requests(server) == []
    finally:
        term.close()

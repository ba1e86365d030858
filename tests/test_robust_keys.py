"""Keys typed faster than the app draws (issue 15, items 1 and 2): in the pilot, as bursts posted
without letting the app run in between, and in a real pty, where the driver reads them at once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hmtui.fake import FakeHeymarket
from hmtui.ui.screens.main import MainScreen
from hmtui.ui.screens.picker import PickerScreen
from hmtui.ui.widgets.conversation_list import ConversationList

from app_harness import running, settle
from conftest import env_for
from fuzz_keys import _ESCAPES, Terminal, burst, drain

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
    assert term.wait_for("@Priya Raman"), term.diagnose(env)
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
        term.write(b"?")  # closes the help
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
        term.pump(0.3)  # a lone ESC is only a key once the terminal's escape delay (100 ms) passes
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
        term.write(b"\r")
        term.pump(0.2)
        assert "Export the whole thread" not in term.text(mark)
        quit_with_0(term, mark)
        assert "Closed" not in term.text() and triage_requests(server) == []
    finally:
        term.close()


# -- item 3: unexpected errors are handled in one place -------------------------------------------


def notifications(app) -> list[str]:
    return [n.message for n in app.notified]


async def test_an_exception_in_a_key_action_shows_one_line_and_the_app_goes_on(server, monkeypatch, caplog) -> None:
    def broken(self) -> None:
        raise RuntimeError("boom in an action")

    monkeypatch.setattr(MainScreen, "action_copy_number", broken)
    async with running(server, reraise=False) as (app, pilot):
        burst(app, ["y", "y"])  # twice: one toast, and the app still runs
        await drain(pilot, app)
        shown = [m for m in notifications(app) if "boom" in m]
        assert len(shown) == 1 and shown[0].startswith("Unexpected error: RuntimeError: boom in an action")
        assert "\n" not in shown[0]
        logged = [r for r in caplog.records if r.exc_info and "boom in an action" in str(r.exc_info[1])]
        assert len(logged) == 1  # the traceback, once
        await alive(pilot, app)
        assert app.return_code is None


async def test_an_exception_in_a_widget_handler_keeps_that_widget_working(server, monkeypatch) -> None:
    def broken(self, conversation) -> None:
        raise ValueError("boom in a handler")

    # Called by the screen's handler of the list's Selected message (enter).
    monkeypatch.setattr(MainScreen, "open_thread", broken)
    async with running(server, reraise=False) as (app, pilot):
        conversations = app.main.query_one(ConversationList)
        burst(app, ["enter"])
        await drain(pilot, app)
        assert any(m.startswith("Unexpected error: ValueError: boom in a handler") for m in notifications(app))
        burst(app, ["j", "j"])  # the list and the screen still answer
        await drain(pilot, app)
        assert conversations.cursor == 2
        await alive(pilot, app)


async def test_an_exception_in_a_worker_shows_one_line(server, monkeypatch) -> None:
    from hmtui.api import HeymarketClient

    async def broken(self):
        raise KeyError("boom in a worker")

    monkeypatch.setattr(HeymarketClient, "team", broken)
    async with running(server, reraise=False) as (app, pilot):
        await settle(pilot)
        assert any(m.startswith("Unexpected error: KeyError: 'boom in a worker'") for m in notifications(app))
        await alive(pilot, app)


async def test_the_test_harness_re_raises_an_unexpected_error(server, monkeypatch) -> None:
    def broken(self) -> None:
        raise RuntimeError("must fail the test")

    monkeypatch.setattr(MainScreen, "action_copy_number", broken)
    with pytest.raises(RuntimeError, match="must fail the test"):
        async with running(server) as (app, pilot):
            await pilot.press("y")
            await settle(pilot)


# A worker's request fails in a way nobody expected, deep in the client, where a local variable
# holds the Authorization header (Textual's traceback would print it).
INJECT_TEAM_FAILURE = """
import sys, httpx
_send = httpx.AsyncClient.send
async def send(self, request, *args, **kwargs):
    if request.url.path.endswith("/v1/team"):
        raise RuntimeError("injected failure")
    return await _send(self, request, *args, **kwargs)
httpx.AsyncClient.send = send
from hmtui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _plain(raw: bytes) -> str:
    return _ESCAPES.sub(b"", raw).decode("utf-8", "replace")


def log_text(env: dict[str, str]) -> str:
    logs = list(Path(env["XDG_STATE_HOME"]).rglob("hmtui.log*"))
    return "".join(p.read_text("utf-8", "replace") for p in logs)


def test_pty_a_worker_error_is_one_line_and_the_log_has_the_traceback(server, terminal_env) -> None:
    term = Terminal(["--no-cache"], terminal_env, script=INJECT_TEAM_FAILURE)
    try:
        # A toast wraps its line: look for its parts.
        assert term.wait_for("Unexpected error"), term.text()[-3000:]
        assert term.wait_for("injected"), term.text()[-3000:]
        term.write(b"?")
        assert term.wait_for("remap any of them"), term.text()[-3000:]
        term.write(b"?")  # closes the help
        term.pump(0.2)
        term.write(b"q")
        assert term.wait_exit() == 0, term.text()[-3000:]
        assert "Traceback" not in term.text()
        logged = log_text(terminal_env)
        assert "Traceback" in logged and "RuntimeError: injected failure" in logged
        assert "eyJ" not in logged and server.secret_key not in logged
    finally:
        term.close()


def test_pty_debug_shows_the_traceback_without_locals_or_token(server, terminal_env) -> None:
    term = Terminal(["--no-cache", "--debug"], terminal_env, script=INJECT_TEAM_FAILURE)
    try:
        code = term.wait_exit()
        screen = term.text()
        assert code == 1, screen[-3000:]
        shown = screen[screen.rfind("Traceback"):]
        assert "Traceback" in screen and "RuntimeError: injected failure" in shown, screen[-3000:]
        assert "eyJ" not in screen and "Bearer" not in screen and server.secret_key not in screen
        assert "locals" not in shown
    finally:
        term.close()


def test_pty_debug_log_lines_go_to_the_file_not_over_the_screen(server, terminal_env) -> None:
    term = Terminal(["--no-cache", "--debug"], terminal_env)
    try:
        assert term.wait_for("@Priya Raman"), term.diagnose(terminal_env)
        start = len(server.requests)
        term.write(b"\x12")  # ctrl+r, a refresh: requests, so log lines
        term.pump(0.1)
        for _ in range(200):
            if len(server.requests) > start + 2:
                break
            term.pump(0.05)
        mark = len(term.output)
        term.write(b"q")
        assert term.wait_exit() == 0, term.text()[-3000:]
        tui = term.output.find(b"\x1b[?1049h")  # from when the TUI takes the screen
        assert tui >= 0
        during = _plain(term.output[tui:mark])
        assert "HTTP Request" not in during and " DEBUG " not in during and " INFO " not in during
        assert "HTTP Request" in log_text(terminal_env)
    finally:
        term.close()


async def test_next_unread_whose_load_is_replaced_by_another_key_is_not_an_error(server) -> None:
    # Found by the fuzz: `n` into the next inbox waits for its list; a key that reloads the list
    # meanwhile (2: closed) cancels that load, and the wait raised WorkerCancelled.
    async with running(server) as (app, pilot):
        conversations = app.main.query_one(ConversationList)
        # Nothing unread left in this list: n goes to the next inbox with unread.
        lists = app.workspace.conversations  # the workspace holds the list; the widget draws it
        lists.items = [dataclasses.replace(c, unread=False) for c in lists.items]
        conversations.set_items(lists.items)
        await pilot.pause()
        first_inbox = app.main.inbox
        server.options.latency = 0.2
        burst(app, ["n", "2"])
        await drain(pilot, app)
        await settle(pilot)
        assert app.main.inbox is not first_inbox  # n moved on
        assert app.return_code is None

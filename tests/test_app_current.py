"""Issue 8's scenario on the real screen (140x45, the demo's data): the conversation acted on is
the one the thread header names, and the toast names the same one. Plus its variants: a filter
and Enter, an inbox switch, a start on `--inbox/--phone`."""

from __future__ import annotations

from hmtui.fake import LONG_THREAD_INBOX
from hmtui.ui.screens.picker import PickerScreen
from hmtui.ui.widgets.conversation_list import ConversationList
from hmtui.ui.widgets.thread_view import ThreadView

from app_harness import running, settle

SIZE = (140, 45)


def header(app) -> str:
    return str(app.screen_stack[0].query_one("#thread-title").render())


def on_screen(app):
    """The conversation the screen shows: the one the header names, whose messages the thread holds."""
    screen = app.screen_stack[0]
    current = screen.workspace.current
    assert current is not None
    assert header(app).startswith(current.display_name[:30])
    thread = screen.query_one(ThreadView)
    targets = {m.target for m in thread.messages() if m.target}
    assert targets <= {current.target}, "the thread shows another conversation's messages"
    return current


def toasts(app) -> list[str]:
    return [n.message for n in app.notified]


async def transfer_what_is_shown(app, pilot) -> tuple[object, str]:
    """t, pick the first inbox: returns (the conversation shown when t was pressed, the toast)."""
    shown = on_screen(app)
    await pilot.press("t")
    await settle(pilot)
    picker = app.screen
    assert isinstance(picker, PickerScreen)
    assert shown.display_name[:30] in picker._title  # the picker names what it acts on
    before = len(app.notified)
    await pilot.press("enter")
    await settle(pilot)
    [toast] = [m for m in toasts(app)[before:] if m.startswith(("Transferred", "Could not"))]
    return shown, toast


async def test_enter_u_escape_t_transfers_the_conversation_on_screen(server) -> None:
    async with running(server, size=SIZE) as (app, pilot):
        conversations = app.screen_stack[0].query_one(ConversationList)
        first, second = conversations.items[0], conversations.items[1]
        await pilot.press("enter")
        await settle(pilot)
        assert on_screen(app).id == first.id
        await pilot.press("u")
        await settle(pilot)
        # The cursor moved on, and so did the thread: one current conversation.
        assert conversations.highlighted.id == second.id
        assert on_screen(app).id == second.id
        await pilot.press("escape")
        shown, toast = await transfer_what_is_shown(app, pilot)
        assert shown.id == second.id
        assert toast.startswith(f"Transferred {second.display_name}")
        assert server.data.conversation_by_id(second.id)["inbox"] != first.inbox_id
        assert server.data.conversation_by_id(first.id)["inbox"] == first.inbox_id


async def test_filter_then_enter_acts_on_the_match_on_screen(server) -> None:
    async with running(server, size=SIZE) as (app, pilot):
        conversations = app.screen_stack[0].query_one(ConversationList)
        wanted = next(c for c in conversations.items[3:] if c.name and c.name.isascii() and " " in c.name)
        await pilot.press("slash")
        await pilot.press(*wanted.name)
        await pilot.press("enter")
        await settle(pilot)
        assert on_screen(app).name == wanted.name
        shown, toast = await transfer_what_is_shown(app, pilot)
        assert shown.name == wanted.name and toast.startswith(f"Transferred {wanted.name}")
        assert server.data.conversation_by_id(shown.id)["inbox"] != wanted.inbox_id


async def test_an_inbox_switch_acts_on_the_new_inbox_conversation_on_screen(server) -> None:
    async with running(server, size=SIZE) as (app, pilot):
        screen = app.screen_stack[0]
        before = screen.workspace.current
        await pilot.press("escape")  # the sidebar
        await pilot.press("j")  # the next inbox, previewed
        await settle(pilot)
        shown = on_screen(app)
        assert shown.inbox_id != before.inbox_id == server.data.inboxes[0]["id"]
        await pilot.press("c")
        await settle(pilot)
        assert server.data.conversation_by_id(shown.id)["status"] == "closed"
        assert server.data.conversation_by_id(before.id)["status"] == "open"
        assert f"Closed {shown.display_name}" in toasts(app)


async def test_a_start_on_inbox_and_phone_acts_on_that_conversation(server) -> None:
    rows = sorted((c for c in server.data.conversations if c["inbox"] == LONG_THREAD_INBOX and c["status"] == "open"),
                  key=lambda c: c["updated"], reverse=True)
    wanted = rows[4]
    async with running(server, size=SIZE, start_inbox=LONG_THREAD_INBOX, start_phone=wanted["target"]) as (app, pilot):
        assert on_screen(app).id == wanted["id"]
        await pilot.press("escape")  # from the thread to the list
        await settle(pilot)
        shown, toast = await transfer_what_is_shown(app, pilot)
        assert shown.id == wanted["id"]
        assert server.data.conversation_by_id(wanted["id"])["inbox"] != LONG_THREAD_INBOX
        assert server.data.conversation_by_id(rows[0]["id"])["inbox"] == LONG_THREAD_INBOX

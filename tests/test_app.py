"""The Textual app against the fake server over loopback: every key and flow."""

from __future__ import annotations

import json
import re

from hmtui.config import Config
from hmtui.fake import HOSTILE_THREAD_INBOX, HOSTILE_THREAD_TARGET, LONG_THREAD_INBOX, LONG_THREAD_TARGET, Fault
from hmtui.safe_text import one_line
from hmtui.ui.screens.help import HelpScreen
from hmtui.ui.screens.picker import PickerScreen
from hmtui.ui.widgets.conversation_list import ConversationList
from hmtui.ui.widgets.inbox_sidebar import InboxSidebar
from hmtui.ui.widgets.thread_view import ThreadView

from app_harness import GatedTransport, running, screen_text, settle, wait_until

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def inbox_conversations(server, inbox_id, status="open"):
    items = [c for c in server.data.conversations if c["inbox"] == inbox_id]
    if status != "all":
        items = [c for c in items if c["status"] == status]
    return sorted(items, key=lambda c: c["updated"], reverse=True)


def first_inbox(server):
    return server.data.inboxes[0]["id"]


def widgets(app):
    screen = app.screen_stack[0]
    return screen, screen.query_one(InboxSidebar), screen.query_one(ConversationList), screen.query_one(ThreadView)


def notifications(app) -> list[str]:
    return [n.message for n in app.notified]


# -- start-up and layout --------------------------------------------------------------------------


async def test_opens_on_the_first_inbox_with_its_conversations_and_the_newest_thread(server) -> None:
    async with running(server) as (app, pilot):
        screen, sidebar, conversations, thread = widgets(app)
        assert [i.name for i in sidebar.items] == [i["name"] for i in server.data.inboxes]
        expected = inbox_conversations(server, server.data.inboxes[0]["id"])
        # A conversation sent with no time (the zero time, live profile) has no place in the order.
        undated = {c["id"] for c in expected if server.shape_conversation(c)["updated"].startswith("0001-")}
        shown = [c.id for c in conversations.items]
        assert [i for i in shown if i not in undated] == [c["id"] for c in expected if c["id"] not in undated][
            : len(shown) - len(undated & set(shown))]
        assert conversations.has_focus
        # The highlighted conversation's thread is previewed, opened on its newest message.
        newest = server.data.messages_for(expected[0]["inbox"], expected[0]["target"])[-1]
        assert thread.selected_message.id == newest["id"]
        assert screen.status.state == "ok"
        # Badges come from the server's counts.
        open_count, unread_count = sidebar.counts(server.data.inboxes[0]["id"])
        assert open_count == len(expected)
        assert unread_count == sum(1 for c in server.data.conversations
                                   if c["inbox"] == server.data.inboxes[0]["id"] and c["unread"])


async def test_start_straight_into_a_conversation(server) -> None:
    async with running(server, start_inbox=LONG_THREAD_INBOX, start_phone="+1 415-555-0142") as (app, pilot):
        screen, _, _, thread = widgets(app)
        assert thread.has_focus
        assert screen.conversation.target == LONG_THREAD_TARGET
        assert thread.message_count == 50


async def test_tab_moves_between_panes_and_escape_goes_back(server) -> None:
    async with running(server) as (app, pilot):
        screen, sidebar, conversations, thread = widgets(app)
        await pilot.press("tab")
        assert thread.has_focus
        await pilot.press("escape")
        assert conversations.has_focus
        await pilot.press("escape")
        assert sidebar.has_focus
        await pilot.press("tab")
        assert conversations.has_focus
        await pilot.press("enter")
        await settle(pilot)
        assert thread.has_focus


async def test_sidebar_switches_inbox(server) -> None:
    async with running(server) as (app, pilot):
        screen, sidebar, conversations, _ = widgets(app)
        sidebar.focus()
        await pilot.press("j", "enter")
        await settle(pilot)
        second = server.data.inboxes[1]
        assert screen.inbox.id == second["id"]
        assert conversations.has_focus
        assert {c.inbox_id for c in conversations.items} == {second["id"]}


async def test_list_movement_and_paging_loads_more(server) -> None:
    server.options.conversation_page_size = 10
    async with running(server) as (app, pilot):
        _, _, conversations, thread = widgets(app)
        # Pages of 10 fill the pane first (no blank rows the app could fill), then stop.
        rows = conversations.size.height // ConversationList.ROW_HEIGHT
        filled = conversations.total_count
        assert rows <= filled < rows + 10
        await pilot.press("j", "j")
        assert conversations.cursor == 2
        await pilot.press("G")
        await settle(pilot)
        assert conversations.total_count > filled  # nearing the end loaded the next page
        await pilot.press("g")
        assert conversations.cursor == 0
        await pilot.press("pagedown")
        assert conversations.cursor > 2
        await settle(pilot)
        expected = inbox_conversations(server, server.data.inboxes[0]["id"])
        ids = [c.id for c in conversations.items]
        assert len(ids) == len(set(ids)) and set(ids) <= {c["id"] for c in expected}


async def test_status_filters_1_2_3(server) -> None:
    async with running(server) as (app, pilot):
        _, _, conversations, _ = widgets(app)
        inbox = server.data.inboxes[0]["id"]
        await pilot.press("2")
        await settle(pilot)
        assert conversations.items and all(c.closed for c in conversations.items)
        await pilot.press("3")
        await settle(pilot)
        # All: the newest page of every conversation, open and closed together, in order.
        everything = inbox_conversations(server, inbox, "all")
        shown = [c.id for c in conversations.items]
        # The live profile sends some a zero `updated`: undated, they sort apart; compare the rest.
        undated = {c["id"] for c in everything
                   if str(server.shape_conversation(c).get("updated", "")).startswith("0001-")}
        dated = [i for i in shown if i not in undated]
        assert dated == [c["id"] for c in everything if c["id"] not in undated][: len(dated)] and len(shown) >= 25
        assert {c.closed for c in conversations.items} == {True, False}
        await pilot.press("1")
        await settle(pilot)
        assert conversations.items and all(not c.closed for c in conversations.items)


async def test_filter_by_name_number_or_snippet(server) -> None:
    async with running(server) as (app, pilot):
        screen, _, conversations, _ = widgets(app)
        target = conversations.items[3]
        await pilot.press("slash")
        await pilot.press(*list(target.target[-7:]))
        assert [c.id for c in conversations.items] == [target.id]
        await pilot.press("enter")
        assert conversations.has_focus and conversations.filter_text
        await pilot.press("escape")
        assert conversations.filter_text == "" and len(conversations.items) > 1


async def test_next_unread_across_inboxes(server) -> None:
    async with running(server) as (app, pilot):
        screen, sidebar, conversations, _ = widgets(app)
        await pilot.press("n")
        await settle(pilot)
        first = conversations.highlighted
        assert first.unread
        index = conversations.cursor
        assert index > 0 and all(not c.unread for c in conversations.items[1:index])
        await pilot.press("n")
        await settle(pilot)
        assert conversations.highlighted.unread and conversations.cursor > index
        await pilot.press("N")
        await settle(pilot)
        assert conversations.highlighted.id == first.id
        # Jump past the last unread here: the next inbox with unread opens on its first unread.
        for _ in range(200):
            before = screen.inbox.id
            await pilot.press("n")
            await settle(pilot)
            if screen.inbox.id != before:
                break
        assert screen.inbox.id == server.data.inboxes[1]["id"]
        assert conversations.highlighted.unread


# -- lazy history -------------------------------------------------------------------------------------


async def open_long_thread(pilot, app):
    screen, _, conversations, thread = widgets(app)
    index = next(n for n, c in enumerate(conversations.items) if c.target == LONG_THREAD_TARGET)
    conversations.move_cursor(index)
    await pilot.press("enter")
    await settle(pilot)
    assert thread.has_focus
    return screen, thread


async def test_reaching_the_top_loads_the_older_page_without_moving_the_screen(server) -> None:
    async with running(server) as (app, pilot):
        screen, thread = await open_long_thread(pilot, app)
        assert thread.message_count == 50
        server.reset_counts()
        # Walk up message by message until the older page arrives.
        for _ in range(60):
            if thread.message_count > 50:
                break
            await pilot.press("k")
        # Exactly one request, whatever the number of keypresses near the top.
        await settle(pilot)
        assert server.counts["GET /v1/messages"] == 1
        # A page is 50, less what shares a second with the page before (asked again, deduplicated).
        loaded = thread.message_count
        assert 90 <= loaded <= 100
        await pilot.press("g")  # the oldest loaded, and the next page
        await settle(pilot)
        assert loaded + 40 <= thread.message_count <= loaded + 50
        ids = [m.id for m in thread.messages()]
        assert len(ids) == len(set(ids))
        expected = [m["id"] for m in server.data.messages_for(LONG_THREAD_INBOX, LONG_THREAD_TARGET)]
        assert ids == expected[-len(ids):]


async def test_prepend_keeps_the_lines_on_screen_still(server) -> None:
    async with running(server) as (app, pilot):
        screen, thread = await open_long_thread(pilot, app)
        before = screen_text(thread)
        worker = screen.load_older()
        await worker.wait()
        await pilot.pause()
        assert thread.message_count > 50
        assert screen_text(thread)[1:] == before[1:]  # (line 0 may say "loading older…")


async def test_reading_back_to_the_first_message_loses_and_doubles_nothing(server) -> None:
    server.options.message_page_size = 500  # fewer round trips; paging rules are tested elsewhere
    async with running(server) as (app, pilot):
        screen, thread = await open_long_thread(pilot, app)
        for _ in range(100):
            if thread.at_start:
                break
            await pilot.press("g")
            await settle(pilot)
        assert thread.at_start
        expected = [m["id"] for m in server.data.messages_for(LONG_THREAD_INBOX, LONG_THREAD_TARGET)]
        assert thread.loaded_ids() == expected
        assert "start of conversation" in screen_text(thread)[0]


# -- triage -------------------------------------------------------------------------------------------


async def test_close_moves_on_shows_the_change_and_reaches_the_server(server) -> None:
    async with running(server) as (app, pilot):
        screen, sidebar, conversations, _ = widgets(app)
        first = conversations.items[0]
        open_before, _ = sidebar.counts(first.inbox_id)
        await pilot.press("c")
        assert conversations.get_item(first.id).closed  # at once, before the server answered
        assert conversations.cursor == 1
        await settle(pilot)
        assert server.data.conversation_by_id(first.id)["status"] == "closed"
        assert any(m.startswith("Closed ") for m in notifications(app))
        assert sidebar.counts(first.inbox_id)[0] == open_before - 1
        # c again on it reopens.
        conversations.move_cursor(0)
        await pilot.press("c")
        await settle(pilot)
        assert server.data.conversation_by_id(first.id)["status"] == "open"


async def test_a_refused_action_is_rolled_back_and_says_why(server) -> None:
    transport = GatedTransport()
    async with running(server, transport=transport) as (app, pilot):
        screen, sidebar, conversations, _ = widgets(app)
        first = conversations.items[0]
        counts_before = sidebar.counts(first.inbox_id)
        server.inject(Fault("500", every=1, path="/v1/conversations/close"))
        transport.hold("/v1/conversations/close")
        await pilot.press("c")
        await wait_until(pilot, lambda: transport.waiting, "the close request on its way")
        # Shown at once, while the server has not answered yet...
        assert conversations.get_item(first.id).closed
        assert sidebar.counts(first.inbox_id)[0] == counts_before[0] - 1
        transport.release("/v1/conversations/close")
        await settle(pilot)
        assert not conversations.get_item(first.id).closed
        assert sidebar.counts(first.inbox_id) == counts_before  # ...and given back
        assert server.data.conversation_by_id(first.id)["status"] == "open"
        assert any(m.startswith("Could not close") and "server error (500)" in m for m in notifications(app))


async def test_a_refused_transfer_puts_the_conversation_back_and_says_why(server) -> None:
    transport = GatedTransport()
    async with running(server, transport=transport) as (app, pilot):
        screen, sidebar, conversations, _ = widgets(app)
        shown = [c.id for c in conversations.items]
        conversations.move_cursor(2)
        await settle(pilot)
        moving = conversations.highlighted
        server.inject(Fault("500", every=1, path="/v1/conversations/transfer"))
        transport.hold("/v1/conversations/transfer")
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        destination = app.screen._choices[0][0]
        await pilot.press("enter")
        await wait_until(pilot, lambda: transport.waiting, "the transfer request on its way")
        assert conversations.get_item(moving.id) is None  # it left the list at once...
        transport.release("/v1/conversations/transfer")
        await settle(pilot)
        assert [c.id for c in conversations.items] == shown  # ...and came back where it was
        assert conversations.highlighted.id == shown[3]  # the cursor stays where the user moved on to
        assert server.data.conversation_by_id(moving.id)["inbox"] == first_inbox(server)
        assert not [c for c in server.data.conversations if c["inbox"] == destination and c["id"] == moving.id]
        assert any(m.startswith("Could not transfer") and "server error (500)" in m for m in notifications(app))


async def test_read_unread_toggle(server) -> None:
    async with running(server) as (app, pilot):
        _, sidebar, conversations, _ = widgets(app)
        first = conversations.items[0]
        was_unread = first.unread
        assert was_unread  # the seeded data's newest conversation: marking it read lowers the badge
        open_count, unread_count = sidebar.counts(first.inbox_id)
        await pilot.press("u")
        await settle(pilot)
        assert server.data.conversation_by_id(first.id)["unread"] is False
        assert conversations.get_item(first.id).unread is False
        assert sidebar.counts(first.inbox_id) == (open_count, unread_count - 1)
        # u again marks it unread: the badge goes back up.
        conversations.move_cursor(0)
        await pilot.press("u")
        await settle(pilot)
        assert server.data.conversation_by_id(first.id)["unread"] is True
        assert sidebar.counts(first.inbox_id) == (open_count, unread_count)


async def test_reassign_with_a_picker(server) -> None:
    async with running(server) as (app, pilot):
        _, _, conversations, _ = widgets(app)
        first = conversations.items[0]
        await pilot.press("a")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        choices = picker._choices
        # Exactly the inbox's members, in the team's order, each by name: nobody from outside it.
        inbox = server.data.inbox_by_id(first.inbox_id)
        team = server.data.team["members"]
        assert [value for value, _ in choices] == [m["id"] for m in team if m["id"] in inbox["members"]]
        assert len(choices) < len(team)  # the seeded inbox leaves some of the team out
        names = {m["id"]: m["name"] for m in team}
        assert all(label.startswith(names[value]) for value, label in choices)
        options = picker.query_one("OptionList")
        assert [str(options.get_option_at_index(n).prompt) for n in range(options.option_count)] == \
            [one_line(label, 70) for _, label in choices]
        options = picker.query_one("OptionList")
        await pilot.press("down")
        if choices[options.highlighted][0] == first.assigned:
            await pilot.press("up", "up")
        chosen = choices[options.highlighted][0]
        assert chosen != first.assigned
        await pilot.press("enter")
        await settle(pilot)
        assert server.data.conversation_by_id(first.id)["assigned"] == chosen
        assert conversations.get_item(first.id).assigned == chosen
        assert any(m.startswith("Assigned ") for m in notifications(app))


async def test_transfer_with_a_picker(server) -> None:
    async with running(server) as (app, pilot):
        _, _, conversations, _ = widgets(app)
        first = conversations.items[0]
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        # Every other inbox, in the sidebar's order; never the conversation's own.
        choices = app.screen._choices
        assert [value for value, _ in choices] == [i["id"] for i in server.data.inboxes if i["id"] != first.inbox_id]
        assert all(label.startswith(i["name"]) for (_, label), i in
                   zip(choices, [i for i in server.data.inboxes if i["id"] != first.inbox_id]))
        destination = choices[0][0]
        await pilot.press("enter")
        await settle(pilot)
        assert server.data.conversation_by_id(first.id)["inbox"] == destination
        assert conversations.get_item(first.id) is None  # it left this inbox's list
        assert any(m.startswith("Transferred ") for m in notifications(app))


async def test_escape_cancels_a_picker(server) -> None:
    async with running(server) as (app, pilot):
        _, _, conversations, _ = widgets(app)
        first = conversations.items[0]
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, PickerScreen)
        assert server.data.conversation_by_id(first.id)["assigned"] == first.assigned
        assert not [r for r in server.requests if r.path == "/v1/conversations/reassign"]


# -- refresh ------------------------------------------------------------------------------------------


async def test_refresh_appends_new_messages_and_toasts_other_conversations(server) -> None:
    async with running(server) as (app, pilot):
        screen, sidebar, conversations, thread = widgets(app)
        opened = screen.conversation
        count = thread.message_count
        assert not [n for n in notifications(app) if "New message" in n]  # the backlog raised none
        server.add_message(opened.inbox_id, opened.target, "a brand new message here")
        elsewhere = next(c for c in server.data.conversations if c["inbox"] == server.data.inboxes[2]["id"])
        server.add_message(elsewhere["inbox"], elsewhere["target"], "hello from elsewhere")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert thread.message_count == count + 1
        assert thread.messages()[-1].text == "a brand new message here"
        toasts = [n for n in notifications(app) if n.startswith("New message from")]
        assert len(toasts) == 1 and server.data.inboxes[2]["name"] in toasts[0]
        assert screen.status.refreshed_at is not None


async def test_refresh_when_scrolled_up_keeps_the_view_and_hints(server) -> None:
    async with running(server) as (app, pilot):
        screen, thread = await open_long_thread(pilot, app)
        await pilot.press("pageup", "pageup")
        before = screen_text(thread)
        server.add_message(LONG_THREAD_INBOX, LONG_THREAD_TARGET, "one")
        server.add_message(LONG_THREAD_INBOX, LONG_THREAD_TARGET, "two")
        await pilot.press("ctrl+r")
        await settle(pilot)
        after = screen_text(thread)
        assert any("2 new ↓" in line for line in after)
        assert after[1:-1] == before[1:-1] or after[:-1] == before[:-1]


# -- safety -------------------------------------------------------------------------------------------


async def test_hostile_texts_are_shown_literally_and_do_nothing(server) -> None:
    async with running(server, start_inbox=HOSTILE_THREAD_INBOX, start_phone=HOSTILE_THREAD_TARGET) as (app, pilot):
        screen, sidebar, conversations, thread = widgets(app)
        lines: list[str] = []
        for _ in range(40):
            lines += screen_text(thread)
            await pilot.press("k")
        text = "\n".join(lines)
        assert "[@click=app.quit]x[/]" in text
        assert not CONTROL.search(text)
        title = str(screen.query_one("#thread-title").render())
        assert not CONTROL.search(title)
        # Click on every line of the thread: nothing quits.
        for y in range(thread.size.height):
            await pilot.click(ThreadView, offset=(5, y))
        assert app.is_running
        # The hostile conversation's row in the list is literal too.
        rows = "\n".join(screen_text(conversations))
        assert not CONTROL.search(rows)


# -- other keys ---------------------------------------------------------------------------------------


async def test_copy_number(server) -> None:
    async with running(server) as (app, pilot):
        _, _, conversations, _ = widgets(app)
        await pilot.press("y")
        assert app.clipboard == "+" + conversations.items[0].target


async def test_open_link_opens_only_http_urls(server, monkeypatch) -> None:
    opened: list[str] = []
    async with running(server) as (app, pilot):
        monkeypatch.setattr(app, "open_url", lambda url, **kw: opened.append(url))
        import webbrowser

        monkeypatch.setattr(webbrowser, "get", lambda *a: object())  # a browser exists here
        screen, thread = await open_long_thread(pilot, app)
        while not any(m.media or m.link_url for m in thread.messages()):
            await (screen.load_older()).wait()
        messages = thread.messages()
        with_media = next(m for m in reversed(messages) if m.media or m.link_url)
        thread.scroll_to_message(with_media.id)
        await pilot.press("o")
        assert opened == [with_media.media or with_media.link_url]
        # Links a hostile sender controls: only http(s) ever reaches the browser.
        links = {
            "only schemes that run or read things": ("javascript:alert(document.cookie)", "file:///etc/passwd"),
            "a disguised scheme, then a web link": (" JavaScript:alert(1)", "https://example.com/ok"),
            "a file link, then a web link": ("FILE:///home/user/.ssh/id_rsa", "HTTP://EXAMPLE.COM/x"),
            "a data URL alone": ("data:text/html,<script>alert(1)</script>", None),
        }
        added = {}
        for text, (media, link) in links.items():
            raw = server.add_message(LONG_THREAD_INBOX, LONG_THREAD_TARGET, text)
            raw["media"], raw["link_url"] = media, link
            added[text] = raw["id"]
        await pilot.press("ctrl+r")
        await settle(pilot)
        outcome = {}
        for text, message_id in added.items():
            opened.clear()
            thread.scroll_to_message(message_id)
            assert thread.selected_message.id == message_id
            await pilot.press("o")
            outcome[text] = list(opened)
        assert outcome == {
            "only schemes that run or read things": [],
            "a disguised scheme, then a web link": ["https://example.com/ok"],
            "a file link, then a web link": ["HTTP://EXAMPLE.COM/x"],
            "a data URL alone": [],
        }
        assert notifications(app).count("The selected message has no link or media to open") == 2


async def test_export_writes_the_whole_thread(server, tmp_path) -> None:
    async with running(server, tmp_path=tmp_path) as (app, pilot):
        screen, thread = await open_long_thread(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("down", "enter")  # JSON Lines
        await settle(pilot)
        files = list(tmp_path.glob("*.jsonl"))
        assert len(files) == 1
        expected = server.data.messages_for(LONG_THREAD_INBOX, LONG_THREAD_TARGET)
        ids = [json.loads(line)["id"] for line in files[0].read_text().splitlines()]
        assert ids == [m["id"] for m in expected]
        assert any(str(files[0]) in n for n in notifications(app))
        assert files[0].stat().st_mode & 0o777 == 0o600


async def test_export_markdown(server, tmp_path) -> None:
    async with running(server, tmp_path=tmp_path, start_inbox=HOSTILE_THREAD_INBOX,
                       start_phone=HOSTILE_THREAD_TARGET) as (app, pilot):
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        [path] = list(tmp_path.glob("*.md"))
        text = path.read_text()
        assert text.startswith("# Conversation with")
        assert not CONTROL.search(text.replace("\n", ""))
        # Every message of the thread, in order: one "**author** · time" line each, then its text.
        expected = server.data.messages_for(HOSTILE_THREAD_INBOX, HOSTILE_THREAD_TARGET)
        headers = [line for line in text.splitlines() if line.startswith("**")]
        assert len(headers) == len(expected) > 10
        plain = [m["text"] for m in expected if isinstance(m.get("text"), str) and m["text"].isascii()
                 and m["text"].isprintable() and m["text"].strip()]
        assert len(plain) >= 5
        positions = [text.index(f"> {body}") for body in plain]
        assert positions == sorted(positions)
        assert "[@click=app.quit]x[/]" in text  # literal, as sent


async def test_help_screen_lists_every_binding(server) -> None:
    async with running(server) as (app, pilot):
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for binding_id in ("conversation.close", "conversation.unread", "conversation.reassign",
                           "conversation.transfer", "thread.oldest", "conversations.filter", "app.quit"):
            assert binding_id in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_offers_the_actions(server) -> None:
    async with running(server) as (app, pilot):
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*list("close or reopen"))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        first = server.data.conversation_by_id(widgets(app)[2].items[0].id)
        assert first["status"] == "closed"


def help_keys(app) -> dict[str, str]:
    """binding id -> the keys the help screen shows for it."""
    text = str(app.screen.query_one("#help-text").render())
    keys = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and "." in parts[-1]:
            keys[parts[-1]] = line[:24].strip()
    return keys


async def test_the_help_screen_shows_remapped_keys(server) -> None:
    config = Config(keymap={"conversation.close": "x", "thread.oldest": "home", "app.refresh": "f5,ctrl+r"})
    async with running(server, config=config) as (app, pilot):
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        keys = help_keys(app)
        assert keys["conversation.close"] == "x"
        assert keys["thread.oldest"] == "home"
        assert keys["app.refresh"] == "f5, ctrl+r"
        assert keys["conversation.unread"] == "u"  # what is not remapped shows its default
        assert keys["conversations.filter"] == "/"
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_keys_can_be_remapped_from_the_config(server) -> None:
    config = Config(keymap={"conversation.close": "x"})
    async with running(server, config=config) as (app, pilot):
        _, _, conversations, _ = widgets(app)
        first = conversations.items[0]
        await pilot.press("c")
        await settle(pilot)
        assert server.data.conversation_by_id(first.id)["status"] == "open"
        await pilot.press("x")
        await settle(pilot)
        assert server.data.conversation_by_id(first.id)["status"] == "closed"


async def test_moving_the_list_cursor_previews_the_thread(server) -> None:
    async with running(server) as (app, pilot):
        screen, _, conversations, thread = widgets(app)
        assert conversations.has_focus
        for steps in (1, 3):
            await pilot.press(*["j"] * steps)
            await settle(pilot)
            resting = conversations.highlighted
            assert screen.conversation.id == resting.id
            newest = server.data.messages_for(resting.inbox_id, resting.target)[-1]
            assert thread.selected_message.id == newest["id"]
            assert resting.display_name in str(screen.query_one("#thread-title").render())
            assert conversations.has_focus  # previewing keeps the cursor in the list


async def test_a_refresh_lifts_a_conversation_with_a_new_message_to_the_top(server) -> None:
    async with running(server) as (app, pilot):
        screen, _, conversations, _ = widgets(app)
        before = [c.id for c in conversations.items]
        lifted = conversations.items[5]
        server.add_message(lifted.inbox_id, lifted.target, "lifted to the top by this")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert [c.id for c in conversations.items] == [lifted.id] + [i for i in before if i != lifted.id]
        assert conversations.highlighted.id == before[0]  # the cursor stays on what it was on
        assert conversations.items[0].updated > conversations.items[1].updated
        assert any("lifted to the top by this" in line for line in screen_text(conversations))


async def test_find_in_the_thread_n_after_N_goes_back_to_the_newer_match(server) -> None:
    async with running(server) as (app, pilot):
        screen, thread = await open_long_thread(pilot, app)
        loaded = thread.messages()
        words = [w.strip(".,!?").lower() for m in loaded for w in (m.text or "").split()]
        word = next(w for w in words if w.isalpha() and len(w) > 4
                    and 3 <= len(thread.matching_ids(w)) <= 10)
        matches = thread.matching_ids(word)  # oldest first
        await pilot.press("slash", *list(word), "enter")
        await settle(pilot)
        seen = [thread.selected_message.id]
        for key in ("N", "N", "n", "n", "n"):
            await pilot.press(key)
            await settle(pilot)
            seen.append(thread.selected_message.id)
        # enter: the newest; N, N: two older; n, n: back to the newest; n past it: around to the oldest.
        assert seen == [matches[-1], matches[-2], matches[-3], matches[-2], matches[-1], matches[0]]


async def test_q_quits_with_exit_code_0(server) -> None:
    async with running(server) as (app, pilot):
        await pilot.press("q")
    assert app.return_code == 0


# -- failures -----------------------------------------------------------------------------------------


async def test_offline_shows_in_the_status_line_once_and_keeps_the_screen(server) -> None:
    async with running(server) as (app, pilot):
        screen, _, conversations, _ = widgets(app)
        shown = [c.id for c in conversations.items]
        server.stop()
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert screen.status.state == "offline"
        assert "offline" in screen.status.describe()
        assert [c.id for c in conversations.items] == shown
        # Offline is a state, not an error: no error toast, one calm notice at the transition.
        assert [n for n in app.notified if n.severity == "error"] == []
        assert len([n for n in app.notified if "offline" in n.message]) == 1


async def test_rejected_credentials(server) -> None:
    server.inject(Fault("401", every=1))
    async with running(server) as (app, pilot):
        screen, *_ = widgets(app)
        assert screen.status.state == "auth"
        assert "credentials rejected" in screen.status.describe()
        assert server.secret_key not in screen.status.describe()


async def test_narrow_terminal_collapses_the_sidebar_and_nothing_overlaps(server) -> None:
    async with running(server, size=(80, 30)) as (app, pilot):
        screen, sidebar, conversations, thread = widgets(app)
        assert screen.has_class("-narrow")
        assert not sidebar.display or sidebar.region.area == 0
        assert conversations.region.area and thread.region.area
        assert not conversations.region.overlaps(thread.region)
        await pilot.press("escape")
        await pilot.pause()
        assert sidebar.has_focus and sidebar.region.area
        assert not sidebar.region.overlaps(thread.region)
        await pilot.press("enter")
        await settle(pilot)
        assert conversations.region.area


async def test_the_config_chooses_how_the_thread_scrolls(server) -> None:
    for setting, jump in (("jump", True), ("line", False)):
        async with running(server, config=Config(thread_scroll=setting)) as (app, pilot):
            assert app.query_one(ThreadView).jump_scroll is jump

"""Issue 10's main-screen items that the workspace split touches: focus and width at 80x24, a
list that fills a tall terminal, one phone format in the header, honest toasts."""

from __future__ import annotations

import webbrowser

from hmtui.fake import LONG_THREAD_INBOX, LONG_THREAD_TARGET
from hmtui.ui.widgets.conversation_list import ConversationList
from hmtui.ui.widgets.inbox_sidebar import InboxSidebar, format_phone

from app_harness import running, screen_text, settle


async def test_at_80x24_escape_then_j_walks_the_inboxes_keeping_focus(server) -> None:
    async with running(server, size=(80, 24)) as (app, pilot):
        screen = app.main
        sidebar = screen.query_one(InboxSidebar)
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is sidebar
        await pilot.press("j")
        await settle(pilot)
        assert app.focused is sidebar, "the sidebar kept the focus"
        second = server.data.inboxes[1]["id"]
        assert screen.workspace.inbox.id == second
        # The thread follows: it shows the new inbox's conversation, not the old one's.
        assert screen.workspace.current is not None and screen.workspace.current.inbox_id == second
        await pilot.press("j")
        await settle(pilot)
        assert screen.workspace.inbox.id == server.data.inboxes[2]["id"]
        await pilot.press("enter")
        await settle(pilot)
        assert app.focused is screen.query_one(ConversationList)


async def test_at_80_columns_the_list_takes_the_whole_width(server) -> None:
    async with running(server, size=(80, 24)) as (app, pilot):
        assert app.main.query_one("#list-pane").region.width == 80


async def test_at_200x60_the_list_fetches_more_to_fill_the_screen(server) -> None:
    async with running(server, size=(200, 60)) as (app, pilot):
        conversations = app.main.query_one(ConversationList)
        rows = conversations.size.height // ConversationList.ROW_HEIGHT
        assert len(conversations.items) >= rows > server.options.conversation_page_size
        assert screen_text(conversations)[-1].strip(), "no blank rows at the bottom"


async def test_the_thread_header_formats_a_number_like_the_list(server) -> None:
    nameless = next(c for c in server.data.conversations if c["inbox"] == server.data.inboxes[0]["id"]
                    and c["status"] == "open" and not c.get("name") and not c.get("group"))
    async with running(server, start_inbox=nameless["inbox"], start_phone=nameless["target"]) as (app, pilot):
        title = str(app.main.query_one("#thread-title").render())
        assert title.startswith(format_phone(nameless["target"]))
        assert nameless["target"] not in title


async def test_the_thread_header_is_cut_with_an_ellipsis(server) -> None:
    async with running(server, size=(110, 30), start_inbox=LONG_THREAD_INBOX, start_phone=LONG_THREAD_TARGET) as (app, pilot):
        title = app.main.query_one("#thread-title")
        line = title.render_line(0).text.rstrip()
        assert line.endswith("…"), line


async def test_o_without_a_browser_says_so_and_copies_the_link(server, monkeypatch) -> None:
    def no_browser(*_: object) -> object:
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "get", no_browser)
    async with running(server) as (app, pilot):
        opened: list[str] = []
        copied: list[str] = []
        monkeypatch.setattr(app, "open_url", lambda url, **kw: opened.append(url))
        monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
        screen = app.main
        raw = server.add_message(screen.workspace.current.inbox_id, screen.workspace.current.target, "see this")
        raw["link_url"] = "https://example.com/look"
        await pilot.press("ctrl+r")
        await settle(pilot)
        screen.thread.scroll_to_message(raw["id"])
        await pilot.press("o")
        assert opened == [] and copied == ["https://example.com/look"]
        assert "No web browser found: sent the link to the terminal's clipboard" in [n.message for n in app.notified]


async def test_y_says_the_number_was_sent_to_the_terminal_clipboard(server) -> None:
    async with running(server) as (app, pilot):
        await pilot.press("y")
        number = "+" + app.main.workspace.current.target
        assert f"Sent {number} to the terminal's clipboard" in [n.message for n in app.notified]


async def test_the_find_placeholder_shows_whole_at_120x40(server) -> None:
    async with running(server, size=(120, 40)) as (app, pilot):
        await pilot.press("enter")  # into the thread
        await pilot.press("slash")  # find
        await settle(pilot)
        find = app.main.query_one("#find")
        assert app.focused is find
        text = find.render_line(1).text if find.size.height > 1 else find.render_line(0).text
        assert find.placeholder.strip() in text, (find.placeholder, text)
        assert find.placeholder.count("(") == find.placeholder.count(")")

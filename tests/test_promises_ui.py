"""README promises of the TUI that no other test pinned down (issue 14: seeded one by one).

/work/notes/promises.md lists the bug seeded for each test.
"""

from __future__ import annotations

from datetime import datetime, timezone

import platformdirs
import pytest

from hmtui.api import Conversation
from hmtui.safe_text import one_line
from hmtui.ui.export import export_path
from hmtui.ui.widgets.conversation_list import ConversationList
from hmtui.ui.widgets.inbox_sidebar import InboxSidebar
from hmtui.ui.widgets.thread_view import ThreadView

from app_harness import running, settle


def widgets(app):
    screen = app.screen_stack[0]
    return screen, screen.query_one(InboxSidebar), screen.query_one(ConversationList), screen.query_one(ThreadView)


def toasts(app, prefix: str) -> list[str]:
    # Every toast raised (app.notified, see app_harness): the app's own list drops a toast once
    # its wall-clock timeout passes, which on a loaded machine can be before the test looks.
    return [n.message for n in app.notified if n.message.startswith(prefix)]


# -- "On a terminal narrower than 100 columns the sidebar collapses" -------------------------------


@pytest.mark.parametrize("width, narrow", [(99, True), (100, False)])
async def test_the_sidebar_collapses_below_100_columns_exactly(server, width, narrow) -> None:
    async with running(server, size=(width, 30)) as (app, pilot):
        screen, sidebar, conversations, thread = widgets(app)
        assert screen.has_class("-narrow") is narrow
        assert bool(sidebar.display and sidebar.region.area) is not narrow
        assert conversations.region.area and thread.region.area


# -- "/ filter the conversation list by name, number or text" --------------------------------------


def _word(text: str | None) -> str:
    words = [w for w in one_line(text or "").casefold().split() if w.isalpha() and len(w) >= 5]
    return max(words, key=len) if words else ""


async def test_the_filter_matches_a_name_and_a_last_message_text(server) -> None:
    async with running(server) as (app, pilot):
        _, _, conversations, _ = widgets(app)
        items: list[Conversation] = list(conversations.items)
        # By name: a word of one contact's name.
        by_name = next(c for c in items if _word(c.display_name))
        name_word = _word(by_name.display_name)
        await pilot.press("slash", *list(name_word))
        shown = list(conversations.items)
        assert by_name.id in [c.id for c in shown]
        assert all(name_word in (one_line(c.display_name) + " " + one_line(c.last_message or "")).casefold()
                   for c in shown)
        await pilot.press("escape")  # clears the filter
        assert len(conversations.items) == len(items)
        # By text: a word found in a last message but in no name or number.
        def only_in_text(c: Conversation) -> bool:
            word = _word(c.last_message)
            return bool(word) and all(word not in one_line(o.display_name).casefold() for o in items)

        by_text = next(c for c in items if only_in_text(c))
        text_word = _word(by_text.last_message)
        await pilot.press("slash", *list(text_word))
        shown = list(conversations.items)
        assert by_text.id in [c.id for c in shown]
        assert all(text_word in one_line(c.last_message or "").casefold() for c in shown)


# -- "... and toasts new inbound messages elsewhere": once per message ----------------------------


async def test_a_new_message_elsewhere_toasts_once_not_on_every_refresh(server) -> None:
    async with running(server) as (app, pilot):
        elsewhere = next(c for c in server.data.conversations if c["inbox"] == server.data.inboxes[2]["id"])
        server.add_message(elsewhere["inbox"], elsewhere["target"], "hello from elsewhere")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert len(toasts(app, "New message from")) == 1
        for _ in range(2):  # nothing new arrives: no new toast
            await pilot.press("ctrl+r")
            await settle(pilot)
        assert len(toasts(app, "New message from")) == 1
        server.add_message(elsewhere["inbox"], elsewhere["target"], "and a second one")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert len(toasts(app, "New message from")) == 2


# -- "e: export the whole thread ... to your downloads folder" ------------------------------------


def test_an_export_goes_to_the_downloads_folder_by_default() -> None:
    conversation = Conversation.from_raw({"id": 9, "inbox": 501, "target": "14155550142", "name": "A"})
    assert conversation is not None
    now = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
    for fmt, suffix in [("markdown", ".md"), ("jsonl", ".jsonl")]:
        path = export_path(conversation, fmt, now)
        assert path.parent == platformdirs.user_downloads_path()
        assert path.name == f"hmtui-501-14155550142-20261120-150000{suffix}"

"""The whole history in the app (issue 10 item 3): ctrl+g and the palette load every older
message with progress in the status line, escape stops it, it lands on the first message; a
burst of g is as many pages. The fake server's paged thread at a small size; requests counted."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from hmtui.fake import HUGE_THREAD_INBOX as INBOX, HUGE_THREAD_TARGET as TARGET, FakeHeymarket
from hmtui.ui.widgets.key_footer import KeyFooter
from hmtui.ui.widgets.status_line import StatusLine
from hmtui.ui.widgets.thread_view import ThreadView

from app_harness import GatedTransport, running, settle, wait_until
from conftest import huge_server

SIZE = 1_000
REQUESTS = "GET /v1/messages"


@pytest.fixture
def huge(make_server: Callable[..., FakeHeymarket]) -> Iterator[FakeHeymarket]:
    yield from huge_server(make_server, SIZE)


async def settle_footer(pilot) -> None:
    """Let the footer repaint (a held request keeps the app from settling)."""
    for _ in range(3):
        await pilot.pause()


def oldest_id(server: FakeHeymarket) -> object:
    return server.data.messages_for(INBOX, TARGET)[0]["id"]


def progress_seen(app) -> list[str]:
    """Every label the status line showed for the history load (recorded as it is started)."""
    status = app.screen.query_one(StatusLine)
    seen: list[str] = []
    start = status.start

    def record(key: str, label: str) -> None:
        if key == "history":
            seen.append(label)
        start(key, label)

    status.start = record  # type: ignore[method-assign]
    return seen


async def test_ctrl_g_loads_the_whole_history_shows_progress_and_lands_on_the_first_message(huge) -> None:
    async with running(huge, size=(140, 45), start_inbox=INBOX, start_phone=TARGET) as (app, pilot):
        view = app.screen.query_one(ThreadView)
        seen = progress_seen(app)
        view.focus()
        before = huge.counts[REQUESTS]
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: view.at_start and not app.screen.workspace.thread.state.loading_all,
                         "the whole history loaded")
        await settle(pilot)
        assert view.message_count == SIZE
        assert view.selected_message.id == oldest_id(huge)  # landed on the first message
        assert view.scroll_offset.y == 0
        assert seen
        assert any(f"of about" in label and "requests" in label for label in seen), seen
        assert "history" not in " ".join(app.screen.query_one(StatusLine).loading)
        requests = huge.counts[REQUESTS] - before
        assert requests <= SIZE // 50 + 3  # pages of the server's size, none asked twice


async def test_the_palette_command_loads_the_whole_history(huge) -> None:
    async with running(huge, size=(140, 45), start_inbox=INBOX, start_phone=TARGET) as (app, pilot):
        view = app.screen.query_one(ThreadView)
        view.focus()
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"whole history")
        await settle(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: view.at_start, "the whole history loaded")
        await settle(pilot)
        assert view.message_count == SIZE
        assert view.selected_message.id == oldest_id(huge)


async def test_escape_stops_the_load_and_keeps_what_came(huge) -> None:
    transport = GatedTransport()
    async with running(huge, size=(140, 45), start_inbox=INBOX, start_phone=TARGET, transport=transport,
                       notifications=True) as (app, pilot):
        view = app.screen.query_one(ThreadView)
        state = app.screen.workspace.thread.state
        view.focus()
        shown = view.message_count
        transport.hold("/v1/messages")
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: transport.waiting, "the first older page on its way")
        await settle_footer(pilot)
        assert "esc Stop loading" in app.screen.query_one(KeyFooter).render_line(0).text  # how to stop it
        await pilot.press("escape")
        transport.release("/v1/messages")
        await wait_until(pilot, lambda: not state.loading_all, "the load stopped")
        await settle(pilot)
        assert shown <= view.message_count < SIZE
        assert view.message_count == state.pager.seen_count  # nothing lost, nothing doubled
        assert not view.at_start
        assert app.focused is view  # escape stopped the load; it did not leave the thread
        assert any("Stopped loading the history" in str(n.message) for n in app.notified)
        # ctrl+g again goes on from there to the start.
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: view.at_start, "the rest loaded")
        await settle(pilot)
        assert view.message_count == SIZE


async def test_a_burst_of_g_while_a_page_loads_is_as_many_pages(huge) -> None:
    transport = GatedTransport()
    async with running(huge, size=(140, 45), start_inbox=INBOX, start_phone=TARGET,
                       transport=transport) as (app, pilot):
        view = app.screen.query_one(ThreadView)
        view.focus()
        await settle(pilot)
        before = huge.counts[REQUESTS]
        transport.hold("/v1/messages")
        await pilot.press("g")
        await wait_until(pilot, lambda: transport.waiting, "the first older page on its way")
        await pilot.press("g", "g", "g")  # while it loads: each must queue one more page
        transport.release("/v1/messages")
        await wait_until(pilot, lambda: not app.screen.workspace.tasks.running("older"), "the pages loaded")
        await settle(pilot)
        assert huge.counts[REQUESTS] - before == 4
        # As four presses one after the other: each queued press went to the new top; the last
        # page came in above the message the last press selected, keeping the screen still.
        assert 0 < view.messages().index(view.selected_message) <= 50


async def test_find_says_loaded_history_offers_ctrl_g_and_counts_the_whole_thread_after(huge) -> None:
    async with running(huge, size=(140, 45), start_inbox=INBOX, start_phone=TARGET) as (app, pilot):
        view = app.screen.query_one(ThreadView)
        status = app.screen.query_one(StatusLine)
        view.focus()
        word = next(w for m in view.messages() for w in (m.text or "").split() if len(w) > 4 and w.isalpha())
        await pilot.press("slash", *word, "enter")
        await settle(pilot)
        line = status.describe()
        assert "in the loaded history" in line and "match " in line, line
        footer = app.screen.query_one(KeyFooter)
        assert "^g Whole history" in footer.render_line(0).text  # the rest is offered, with its key
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: view.at_start, "the whole history loaded")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        line = status.describe()
        total = len(app.screen.workspace.thread.state.find_hits)
        assert re.search(rf"match \d+ of {total}\b", line) and "loaded history" not in line, line
        assert "Whole history" not in footer.render_line(0).text  # nothing more to offer

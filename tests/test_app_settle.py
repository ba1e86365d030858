"""The harness itself: settle() waits for the app's work and fails on a hang, and nothing a test
does to the process (gc.freeze) outlives it."""

from __future__ import annotations

import gc

import pytest

from hmtui.ui.scenes import AppDidNotSettle

from app_harness import GatedTransport, running, settle, wait_until
from test_app import open_long_thread, widgets


async def test_settle_waits_for_a_pending_debounce_and_what_it_starts(server) -> None:
    async with running(server) as (app, pilot):
        screen, _, conversations, thread = widgets(app)
        app.preview_delay = 2.0  # the cursor must rest this long before the thread is fetched
        await pilot.press("j")
        assert screen.conversation.id != conversations.highlighted.id  # not yet: debounced
        await settle(pilot)
        assert screen.conversation.id == conversations.highlighted.id
        assert thread.message_count


async def test_settle_fails_on_a_hang_instead_of_stalling(server) -> None:
    transport = GatedTransport()
    async with running(server, transport=transport) as (app, pilot):
        transport.hold("/v1/conversations/close")
        await pilot.press("c")
        await wait_until(pilot, lambda: transport.waiting, "the close request on its way")
        with pytest.raises(AppDidNotSettle, match="worker triage"):
            await settle(pilot, rounds=20)
        transport.release("/v1/conversations/close")
        await settle(pilot)


async def test_reading_history_freezes_nothing(server) -> None:
    """The pane keeps a window, so nothing is frozen out of the collector's sight any more:
    freezing each page also froze its cyclic garbage for good (20 MiB over 100,000 messages)."""
    async with running(server) as (app, pilot):
        await open_long_thread(pilot, app)
        await pilot.press("g")  # an older page
        await settle(pilot)
        assert gc.get_freeze_count() == 0
    assert gc.get_freeze_count() == 0

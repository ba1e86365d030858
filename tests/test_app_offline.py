"""Offline is a state, not an error (issue 8 item 3, issue 10 item 11): the status line says
"offline · retrying in N s", ctrl+r retries now, no error toast while offline (one calm notice at
the transition), and toasts sit at the top right, never over the thread's newest message."""

from __future__ import annotations

from textual.widgets._toast import Toast

from hmtui.cache import Store
from hmtui.fake import LONG_THREAD_INBOX, LONG_THREAD_TARGET
from hmtui.ui.widgets.thread_view import ThreadView

from app_harness import running, settle, wait_until
from test_workspace_connection import Switch


def store_for(server, tmp_path) -> Store:
    return Store.open(server.url, server.secret_id, directory=tmp_path / "cache")


async def test_offline_says_when_it_retries_and_ctrl_r_retries_now(server) -> None:
    switch = Switch()
    async with running(server, transport=switch) as (app, pilot):
        status = app.main.status
        switch.offline = True
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert status.state == "offline"
        app.workspace.connection.next_try(30.0)  # what the background refresh does before it waits
        await pilot.pause()
        assert "offline · retrying in 30 s" in status.describe()
        assert "ctrl+r" in status.describe()
        assert [n for n in app.notified if n.severity == "error"] == []
        switch.offline = False
        before = switch.requests
        await pilot.press("ctrl+r")  # now, not in 30 s
        await settle(pilot)
        assert switch.requests > before
        assert status.state == "ok" and "offline" not in status.describe()
        refreshed = switch.requests
        await pilot.press("r")  # r replies now (issue 9): it opens the composer, it does not refresh
        await settle(pilot)
        assert switch.requests == refreshed and app.main.composer is not None


async def test_opening_with_the_server_down_puts_no_toast_over_the_newest_message(server, tmp_path) -> None:
    async with running(server, store=store_for(server, tmp_path), start_inbox=LONG_THREAD_INBOX,
                       start_phone=LONG_THREAD_TARGET) as (app, pilot):
        assert app.main.thread.message_count
    switch = Switch()
    switch.offline = True
    async with running(server, store=store_for(server, tmp_path), start_inbox=LONG_THREAD_INBOX,
                       start_phone=LONG_THREAD_TARGET, transport=switch, size=(140, 45),
                       notifications=True) as (app, pilot):
        thread = app.main.query_one(ThreadView)
        assert thread.message_count  # the cached thread
        assert app.main.status.state == "offline"
        assert [n for n in app.notified if n.severity == "error"] == []
        assert len(app.notified) <= 1  # one calm notice at the transition, at most
        toasts = list(app.screen.query(Toast))
        assert toasts, "the calm notice is shown"
        newest = thread.region.y + thread.region.height - 1  # the newest message's last line
        for toast in toasts:
            region = toast.region
            assert region.y + region.height <= thread.region.y + thread.region.height // 2 < newest
            assert region.x + region.width >= app.size.width - 2  # at the right edge (its scrollbar aside)


async def test_a_refused_triage_still_toasts_an_error(server) -> None:
    from hmtui.fake import Fault

    async with running(server, notifications=True) as (app, pilot):
        server.inject(Fault("500", every=1, path="/v1/conversations/close"))
        await pilot.press("c")
        await settle(pilot)
        errors = [n.message for n in app.notified if n.severity == "error"]
        assert any(m.startswith("Could not close") for m in errors)
        await wait_until(pilot, lambda: list(app.screen.query(Toast)), "the toast shows")
        assert all(t.region.y <= 3 for t in app.screen.query(Toast))  # at the top


async def test_work_that_ends_while_the_app_quits_draws_nothing_and_raises_nothing(server) -> None:
    """Quitting removes the widgets before the workspace's jobs are cancelled: a count or a
    refresh that lands in between found no sidebar (NoMatches, an unexpected error at exit)."""
    from hmtui.workspace.refresh import InboxCounts

    landed: list[str] = []

    def prepare(app) -> None:
        close = app.workspace.close

        def late_work_then_close() -> None:  # called from the app's unmount: the screens are gone
            listener = app.workspace.listener
            inbox = app.workspace.conversations.inboxes[0]
            listener.counts_changed(inbox.id, InboxCounts(open=3, unread=1))
            listener.list_changed(app.workspace.conversations.items, None)
            listener.thread_cleared("gone")
            listener.connection_changed()
            landed.append("announced")
            close()

        app.workspace.close = late_work_then_close

    async with running(server, prepare=prepare) as (app, pilot):
        assert app.main.sidebar.items
    assert landed == ["announced"]

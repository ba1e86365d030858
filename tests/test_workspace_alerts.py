"""The notification decision is the workspace's (plain asyncio, no Textual): a refresh's new
inbound message notifies once; the backlog and a focused on-screen conversation stay quiet."""

from __future__ import annotations

from hmtui.notify import Notifier
from hmtui.workspace.alerts import attach

from conftest import ANCHOR


async def test_the_workspace_decides_what_notifies(server, make_workspace) -> None:
    written: list[str] = []
    async with make_workspace(server) as ws:
        notifier = Notifier("terminal", environ={"TERM_PROGRAM": "iTerm.app"}, write=written.append)
        alerts = attach(ws, notifier, scope="all", started=ANCHOR, write=written.append, account="work")
        ws.start()
        await ws.idle()
        await ws.refresh_all(force=True)
        assert alerts.delivered == []  # the backlog
        here = ws.current
        assert here is not None
        other = next(c for c in server.data.conversations if c["inbox"] != here.inbox_id)
        server.add_message(other["inbox"], other["target"], "new \x07 one")
        server.add_message(here.inbox_id, here.target, "on screen")
        await ws.refresh_all(force=True)
        assert [d.written.count("\x07") for d in alerts.delivered] == [1]
        await ws.refresh_all(force=True)
        assert len(alerts.delivered) == 1
        assert any(w.startswith("\x1b]2;hmtui · work · ") for w in written)  # the title names the account


async def test_the_first_refresh_after_start_notifies_its_new_message(server, make_workspace) -> None:
    """The backlog is what the feed started on, not what the first refresh reads (which would
    hide the first new message in the feed's newest second)."""
    async with make_workspace(server) as ws:
        notifier = Notifier("bell", environ={}, write=lambda text: None)
        alerts = attach(ws, notifier, scope="all", started=ANCHOR, write=None, account=None)
        ws.start()
        await ws.idle()
        here = ws.current
        other = next(c for c in server.data.conversations if here is None or c["inbox"] != here.inbox_id)
        server.add_message(other["inbox"], other["target"], "the first new one")
        await ws.refresh_all(force=True)
        assert [d.method for d in alerts.delivered] == ["bell"]
        assert alerts.gate._seen  # primed: the feed's starting messages are known, never notified

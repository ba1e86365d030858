"""The connection state, without Textual: online, retrying until T, offline (told once, calmly),
back online; and a refresh merging into the list while a thread is open."""

from __future__ import annotations

import httpx

from hmtui.fake import Fault
from hmtui.workspace.connection import AUTH, OFFLINE, ONLINE, RETRYING


class Switch(httpx.AsyncBaseTransport):
    """Loopback HTTP that can be cut (every request fails to connect) and restored."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.offline = False
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.offline:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_offline_then_back_online(make_workspace, server) -> None:
    switch = Switch()
    async with make_workspace(server, transport=switch) as ws:
        states: list[str] = []
        ws.connection.on_change = lambda: states.append(ws.connection.state)
        ws.start()
        await ws.idle()
        assert ws.connection.state == ONLINE
        switch.offline = True
        await ws.refresh_now().wait()
        # The client retried once (RETRYING, with when), then gave up: OFFLINE.
        assert states[-2:] == [RETRYING, OFFLINE]
        assert ws.connection.lost == "hmtui is offline"
        await ws.refresh_now().wait()
        await ws.refresh_now().wait()
        # Told once, calmly; no error toast however many requests find it out.
        assert [n for n in ws.listener.notices if n[0] == "error"] == []
        assert len([n for n in ws.listener.notices if "offline" in n[1]]) == 1
        # The background refresh says when it tries again: "offline · retrying in N s".
        ws.connection.next_try(30.0)
        assert ws.connection.retry_at is not None and ws.connection.state == OFFLINE
        switch.offline = False
        await ws.refresh_now().wait()
        assert ws.connection.state == ONLINE and ws.connection.lost is None
        # A second outage is a new transition: one more notice.
        switch.offline = True
        await ws.refresh_now().wait()
        assert len([n for n in ws.listener.notices if "offline" in n[1]]) == 2


async def test_starting_with_the_server_down_is_one_calm_notice(make_workspace, server) -> None:
    switch = Switch()
    switch.offline = True
    async with make_workspace(server, transport=switch) as ws:
        ws.start()
        await ws.idle()
        assert ws.connection.state == OFFLINE
        assert [n for n in ws.listener.notices if n[0] == "error"] == []
        assert len(ws.listener.notices) == 1


async def test_rejected_credentials_still_toast_and_show(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.start()
        await ws.idle()
        server.inject(Fault("401", every=1))
        await ws.refresh_now().wait()
        assert ws.connection.state == AUTH
        assert ws.connection.lost == "the credentials were rejected"
        assert [n for n in ws.listener.notices if n[0] == "error"]


async def test_a_refresh_merges_the_list_head_while_a_thread_is_open(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.start()
        await ws.idle()
        opened = ws.conversations.visible[3]
        ws.open(opened)
        await ws.idle()
        loaded = len(ws.thread.state.loaded)
        lifted = ws.conversations.visible[5]
        server.add_message(lifted.inbox_id, lifted.target, "lift me to the top")
        server.add_message(opened.inbox_id, opened.target, "and one for the open thread")
        await ws.refresh_now().wait()
        await ws.idle()
        assert ws.conversations.items[0].id in {lifted.id, opened.id}
        assert {c.id for c in ws.conversations.items[:2]} == {lifted.id, opened.id}
        # The open thread stays current and gets its new message appended, not reloaded.
        assert ws.current.id == opened.id
        assert len(ws.thread.state.loaded) == loaded + 1
        assert ws.listener.named("thread_appended")
        assert ws.listener.named("list_changed")[-1][1] == opened.id  # the cursor stays on it

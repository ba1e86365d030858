"""Replies and notes as workspace operations, without Textual, against the fake server: the
workspace owns the outbox (durable with the store, in memory without), sends exactly once as the
acting member, draws the marks in the current thread until the server's copy replaces them,
retries and drops failed ones, and flushes the outbox at start and when the connection returns."""

from __future__ import annotations

import pytest

from hmtui.api.send import SEND_PATH
from hmtui.cache import Store
from hmtui.api import NetworkError
from hmtui.fake import Fault
from hmtui.workspace.connection import ONLINE
from hmtui.workspace.send_marks import local_id_of, send_state
from hmtui.workspace.replies import ReplyListener

SEND = f"POST {SEND_PATH}"
# tidy answers an opted-out number with a 400 (a refusal); live holds it (a 200): see hmtui/fake/sending.py
TIDY = pytest.mark.parametrize("profile", ["tidy"], indirect=True)


class Sends(ReplyListener):
    def __init__(self) -> None:
        self.drawn: list[list] = []
        self.confirmed: list = []

    def sends_changed(self, messages) -> None:
        self.drawn.append(list(messages))

    def send_confirmed(self, entry, result) -> None:
        self.confirmed.append((entry, result))


def sent_bodies(server) -> list[dict]:
    return [r.body for r in server.requests if r.method == "POST" and r.path == SEND_PATH]


def marks(messages) -> list[str | None]:
    return [send_state(m) for m in messages if send_state(m) is not None]


async def opened(ws):
    ws.start()
    await ws.idle()
    conversation = next(c for c in ws.conversations.visible if not c.is_group and c.target)
    ws.open(conversation)
    await ws.idle()
    return conversation


async def test_a_reply_is_sent_once_as_the_acting_member_and_its_mark_is_replaced(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.replies.listener = sends = Sends()
        conv = await opened(ws)
        before = len(ws.thread.state.loaded)
        entry, job = ws.replies.send(conv.inbox_id, conv.target, "On my way", kind="reply")
        # In the outbox, and drawn as queued, before any attempt.
        assert ws.replies.outbox.entry(entry.local_id) is not None
        assert marks(sends.drawn[0]) == ["queued"]
        await job.wait()
        await ws.idle()
        [body] = sent_bodies(server)
        inbox = ws.conversations.inbox_by_id(conv.inbox_id)
        assert body["inbox_id"] == conv.inbox_id and body["phone_number"] == conv.target
        assert body["text"] == "On my way" and body["local_id"] == entry.local_id
        assert body["creator_id"] == ws.acting_member(inbox) and not body.get("private")
        states = [marks(d) for d in sends.drawn]
        assert ["sending"] in states and ["sent"] in states
        # The server's copy came back (fetched right after the confirmation): no mark, no duplicate.
        last = sends.drawn[-1]
        assert marks(last) == []
        copies = [m for m in last if m.text == "On my way"]
        assert len(copies) == 1 and copies[0].raw.get("local_id") == entry.local_id
        assert len(ws.thread.state.loaded) == before + 1
        assert ws.replies.outbox.entries() == []


async def test_a_note_goes_private(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        conv = await opened(ws)
        _, job = ws.replies.send(conv.inbox_id, conv.target, "VIP, be nice", kind="note")
        await job.wait()
        [body] = sent_bodies(server)
        assert body["private"] is True and body["text"] == "VIP, be nice"


@TIDY
async def test_a_refusal_stays_failed_then_retry_sends_it_with_the_same_local_id(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.replies.listener = sends = Sends()
        conv = await opened(ws)
        server.sender.opted_out.add(conv.target)
        entry, job = ws.replies.send(conv.inbox_id, conv.target, "Hello?")
        await job.wait()
        assert len(sent_bodies(server)) == 1  # a refusal is final: one request
        [failed] = [m for m in sends.drawn[-1] if send_state(m) == "failed"]
        assert local_id_of(failed) == entry.local_id and failed.failure
        assert any(sev == "error" and text.startswith("Not sent") for sev, text in ws.listener.notices)
        server.sender.opted_out.discard(conv.target)
        retry = ws.replies.retry(entry.local_id)
        assert retry is not None
        await retry.wait()
        await ws.idle()
        bodies = sent_bodies(server)
        assert len(bodies) == 2 and bodies[1]["local_id"] == entry.local_id
        assert ws.replies.outbox.entries() == []


@TIDY
async def test_drop_removes_a_failed_message_from_the_outbox_and_the_thread(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.replies.listener = sends = Sends()
        conv = await opened(ws)
        server.sender.opted_out.add(conv.target)
        entry, job = ws.replies.send(conv.inbox_id, conv.target, "Hello?")
        await job.wait()
        assert ws.replies.drop(entry.local_id)
        assert ws.replies.outbox.entries() == [] and marks(sends.drawn[-1]) == []
        await ws.idle()
        assert len(sent_bodies(server)) == 1


@TIDY
async def test_send_and_close_closes_only_after_a_confirmed_send(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        conv = await opened(ws)
        server.sender.opted_out.add(conv.target)
        _, job = ws.replies.send(conv.inbox_id, conv.target, "Bye", close_after=True, expected=conv.id)
        await job.wait()
        await ws.idle()
        assert server.data.conversation_by_id(conv.id)["status"] == "open"  # refused: not closed
        server.sender.opted_out.discard(conv.target)
        _, job = ws.replies.send(conv.inbox_id, conv.target, "Bye now", close_after=True, expected=conv.id)
        await job.wait()
        await ws.idle()
        assert server.data.conversation_by_id(conv.id)["status"] == "closed"


async def test_without_cache_the_outbox_is_in_memory_and_quitting_would_lose_it(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        conv = await opened(ws)
        server.inject(Fault("drop", every=1, path=SEND_PATH))
        entry, job = ws.replies.send(conv.inbox_id, conv.target, "Still there?")
        await job.wait()
        assert not ws.replies.outbox.durable
        assert [e.local_id for e in ws.replies.lost_on_quit()] == [entry.local_id]
        assert "1 waiting" in ws.replies.quit_summary()


async def test_the_outbox_is_flushed_at_start_and_kept_with_the_store(make_workspace, server, tmp_path) -> None:
    store = Store.open(server.url, server.secret_id, directory=tmp_path / "cache")
    conv = server.data.conversations[0]
    async with make_workspace(server, store=store) as ws:
        assert ws.replies.outbox.durable
        # Made while nothing could be sent (not started): it waits in the store's table.
        entry = ws.replies.outbox.create(conv["inbox"], conv["target"], "queued before start", creator_id=None)
    assert not sent_bodies(server)
    async with make_workspace(server, store=store) as ws:
        ws.start()
        await ws.idle()
        bodies = sent_bodies(server)
        assert [b["local_id"] for b in bodies] == [entry.local_id]
        assert ws.replies.outbox.entries() == []
    store.close()


async def test_the_outbox_is_flushed_when_the_connection_comes_back(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        conv = await opened(ws)
        server.inject(Fault("drop", every=1, path=SEND_PATH))
        entry, job = ws.replies.send(conv.inbox_id, conv.target, "later")
        await job.wait()
        assert [e.local_id for e in ws.replies.outbox.waiting()] == [entry.local_id]
        ws.report(NetworkError("connection refused"))  # what a failed refresh reports
        assert ws.connection.state != ONLINE
        server.clear_faults()
        await ws.refresh_all(force=True)  # the connection is back: succeeded() flushes
        await ws.idle()
        assert ws.replies.outbox.entries() == []
        texts = [m for m in server.data.messages_for(conv.inbox_id, conv.target) if m.get("local_id") == entry.local_id]
        assert len(texts) == 1  # exactly once, though the first attempts may have reached it

"""The outbox against the fake server over loopback: written first, sent once, survives a restart."""

from __future__ import annotations

import asyncio
import socket
import sqlite3

import httpx

from hmtui.api import Credentials, HeymarketClient, MessageKind, RetryPolicy
from hmtui.api.send import SEND_PATH
from hmtui.cache import Store
from hmtui.cache.local_tables import OutboxEntry
from hmtui.workspace.outbox import Outbox, OutboxObserver, acting_member

from helpers import RecordingSleep

SEND = f"POST {SEND_PATH}"


def client_for(url: str, server, *, attempts: int = 3, **kw) -> HeymarketClient:
    return HeymarketClient(Credentials(server.secret_id, server.secret_key), base_url=url,
                           retry=RetryPolicy(attempts=attempts), timeout=httpx.Timeout(10.0), sleep=RecordingSleep(),
                           **kw)


def dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def open_store(server, tmp_path) -> Store:
    store = Store.open(server.url, server.secret_id, directory=tmp_path / "cache")
    assert store.writable
    return store


def a_conversation(server):
    conv = next(c for c in server.data.conversations
                if c["status"] == "open" and c["id"] not in server.data.live.groups
                and c["id"] not in server.data.live.email)
    return conv["inbox"], conv["target"], server.data.inbox_by_id(conv["inbox"])["members"][0]


class Recorder(OutboxObserver):
    def __init__(self) -> None:
        self.events: list[tuple[str, str, object]] = []

    def queued(self, entry):
        self.events.append(("queued", entry.local_id, entry.last_error))

    def sending(self, entry):
        self.events.append(("sending", entry.local_id, None))

    def sent(self, entry, result):
        self.events.append(("sent", entry.local_id, (result.id, result.date)))

    def held(self, entry, result):
        self.events.append(("held", entry.local_id, result.held))

    def failed(self, entry, reason):
        self.events.append(("failed", entry.local_id, reason))

    def warning(self, text):
        self.events.append(("warning", "", text))


def copies(server, local_id):
    return [m for m in server.sender.sent if m["local_id"] == local_id]


async def test_a_reply_is_written_before_its_first_attempt_and_leaves_once_confirmed(server, tmp_path) -> None:
    inbox, target, member = a_conversation(server)
    store = open_store(server, tmp_path)
    seen_by_server: list[OutboxEntry | None] = []
    server.sender.listeners.append(lambda msg: seen_by_server.append(store.outbox_entry(msg["local_id"])))
    recorder = Recorder()
    async with client_for(server.url, server) as client:
        outbox = Outbox(client, store, observer=recorder)
        entry = await outbox.submit(inbox, target, "Be right there", creator_id=member)
    # When the server acted, the row was already in the file, marked as being sent.
    assert len(seen_by_server) == 1 and seen_by_server[0] is not None
    assert seen_by_server[0].state == "sending" and seen_by_server[0].unclear
    assert outbox.entries() == [] and store.outbox_entries() == []
    kinds = [kind for kind, _, _ in recorder.events]
    assert kinds == ["queued", "sending", "sent"]
    msg_id, date = recorder.events[-1][2]
    assert date is not None
    cached = [m for m in store.messages(inbox, target) if m.id == msg_id]
    assert len(cached) == 1 and cached[0].raw["local_id"] == entry.local_id
    assert cached[0].kind is MessageKind.OUTBOUND
    store.close()


async def test_a_note_goes_private(server, tmp_path) -> None:
    inbox, target, member = a_conversation(server)
    store = open_store(server, tmp_path)
    async with client_for(server.url, server) as client:
        entry = await Outbox(client, store).submit(inbox, target, "VIP, be nice", creator_id=member, kind="note")
    assert copies(server, entry.local_id)[0]["private"] is True
    assert store.messages(inbox, target)[0].kind is MessageKind.NOTE
    store.close()


async def test_confirming_is_one_transaction(server, tmp_path, monkeypatch) -> None:
    """The outbox row and the thread's message change together: a failure recording the message
    keeps the row (as unclear), so the next flush reads the thread back instead of resending."""
    server.options.send_dedupe = False
    inbox, target, member = a_conversation(server)
    store = open_store(server, tmp_path)
    real_put = Store.put_messages

    def broken_put(self, *args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error (injected)")

    monkeypatch.setattr(Store, "put_messages", broken_put)
    recorder = Recorder()
    async with client_for(server.url, server) as client:
        outbox = Outbox(client, store, observer=recorder)
        entry = await outbox.submit(inbox, target, "hello", creator_id=member)
        rows = store.outbox_entries()
        assert [r.local_id for r in rows] == [entry.local_id] and rows[0].unclear
        assert not any(m.raw.get("local_id") == entry.local_id for m in store.messages(inbox, target))
        assert any(kind == "warning" for kind, _, _ in recorder.events)
        monkeypatch.setattr(Store, "put_messages", real_put)
        await outbox.flush()
    assert len(copies(server, entry.local_id)) == 1 and server.counts[SEND] == 1
    assert store.outbox_entries() == []
    assert any(m.raw.get("local_id") == entry.local_id for m in store.messages(inbox, target))
    store.close()


async def test_a_send_made_offline_is_delivered_once_after_a_restart(server, tmp_path) -> None:
    inbox, target, member = a_conversation(server)
    store = open_store(server, tmp_path)
    recorder = Recorder()
    async with client_for(dead_url(), server) as offline:
        outbox = Outbox(offline, store, observer=recorder)
        entry = await outbox.submit(inbox, target, "sent from the train", creator_id=member)
    assert entry.state == "queued" and not entry.unclear and entry.attempts == 3
    assert "not sent" in (entry.last_error or "")
    assert recorder.events[-1][0] == "queued" and server.sender.sent == []
    store.close()  # the app quits

    store = open_store(server, tmp_path)  # ... and starts again
    [waiting] = store.outbox_entries()
    assert (waiting.local_id, waiting.text, waiting.kind, waiting.inbox_id, waiting.target) == (
        entry.local_id, "sent from the train", "reply", inbox, target)
    async with client_for(server.url, server) as online:
        outbox = Outbox(online, store)
        await outbox.flush()
        await outbox.flush()  # a second start (or the connection coming back) sends nothing again
    assert len(copies(server, entry.local_id)) == 1 and server.counts[SEND] == 1
    assert store.outbox_entries() == []
    store.close()


async def test_a_crash_mid_send_is_read_back_after_the_restart_not_resent(server, tmp_path) -> None:
    server.options.send_dedupe = False  # only the read-back can prevent the second copy
    inbox, target, member = a_conversation(server)
    store = open_store(server, tmp_path)
    async with client_for(server.url, server) as client:
        outbox = Outbox(client, store)
        entry = outbox.create(inbox, target, "did it go?", creator_id=member)
        # The app died after the request left and before the answer came back: the server has
        # the message, the outbox row says an attempt was under way.
        store.outbox_save(entry.with_(state="sending", unclear=True, attempts=1))
        await client.send_message(inbox, member, "did it go?", phone_number=target, local_id=entry.local_id)
    store.close()
    store = open_store(server, tmp_path)
    async with client_for(server.url, server) as client:
        await Outbox(client, store).flush()
    assert len(copies(server, entry.local_id)) == 1 and server.counts[SEND] == 1
    assert store.outbox_entries() == []
    store.close()


async def test_the_outbox_goes_oldest_first_each_once_even_when_flushed_twice_at_once(server, tmp_path) -> None:
    server.options.send_dedupe = False
    inbox, target, member = a_conversation(server)
    store = open_store(server, tmp_path)
    async with client_for(dead_url(), server, attempts=1) as offline:
        outbox = Outbox(offline, store)
        made = [outbox.create(inbox, target, f"message {n}", creator_id=member) for n in range(3)]
    async with client_for(server.url, server) as online:
        outbox = Outbox(online, store)
        await asyncio.gather(outbox.flush(), outbox.flush())
    assert [m["local_id"] for m in server.sender.sent] == [e.local_id for e in made]
    assert server.counts[SEND] == 3 and store.outbox_entries() == []
    store.close()


async def test_a_flush_stops_at_an_unreachable_server(server, tmp_path) -> None:
    inbox, target, member = a_conversation(server)
    store = open_store(server, tmp_path)
    async with client_for(dead_url(), server, attempts=2) as offline:
        outbox = Outbox(offline, store)
        for n in range(3):
            outbox.create(inbox, target, f"m{n}", creator_id=member)
        done = await outbox.flush()
    assert len(done) == 1 and len(store.outbox_entries()) == 3  # the rest were not tried in vain
    store.close()


async def test_a_refusal_stays_failed_with_the_reason_until_retried_or_dropped(server, tmp_path) -> None:
    inbox, target, _ = a_conversation(server)
    outsider = next(m["id"] for m in server.data.team["members"]
                    if m["id"] not in server.data.inbox_by_id(inbox)["members"])
    store = open_store(server, tmp_path)
    recorder = Recorder()
    async with client_for(server.url, server) as client:
        outbox = Outbox(client, store, observer=recorder)
        entry = await outbox.submit(inbox, target, "hi", creator_id=outsider)
        assert entry.state == "failed" and "creator_id" in (entry.last_error or "")
        assert recorder.events[-1][0] == "failed" and "creator_id" in str(recorder.events[-1][2])
        assert server.counts[SEND] == 1
        await outbox.flush()  # failed ones wait for the user, they are not flushed
        assert server.counts[SEND] == 1
        assert [e.local_id for e in outbox.failed()] == [entry.local_id]
        again = await outbox.retry(entry.local_id)
        assert again is not None and again.state == "failed" and server.counts[SEND] == 2
        assert outbox.drop(entry.local_id) and outbox.entries() == []
    assert server.sender.sent == []
    store.close()


async def test_a_compliance_hold_leaves_the_outbox_and_is_never_sent(server, tmp_path, profile) -> None:
    inbox, target, member = a_conversation(server)
    server.sender.opted_out.add(target)
    store = open_store(server, tmp_path)
    recorder = Recorder()
    async with client_for(server.url, server) as client:
        outbox = Outbox(client, store, observer=recorder)
        await outbox.submit(inbox, target, "promo", creator_id=member)
    kind = recorder.events[-1][0]
    if profile == "live":  # a 200 with compliance_results
        assert kind == "held" and store.outbox_entries() == []
    else:  # a 400 with error_code
        assert kind == "failed" and len(store.outbox_entries()) == 1
    assert "sent" not in [k for k, _, _ in recorder.events]
    store.close()


async def test_without_a_cache_the_outbox_lives_in_memory(server) -> None:
    inbox, target, member = a_conversation(server)
    store = Store.disabled()
    async with client_for(dead_url(), server, attempts=1) as offline:
        outbox = Outbox(offline, store)
        entry = await outbox.submit(inbox, target, "kept in memory", creator_id=member)
    assert not outbox.durable and [e.local_id for e in outbox.waiting()] == [entry.local_id]
    async with client_for(server.url, server) as online:
        outbox.client = online
        await outbox.flush()
    assert outbox.entries() == [] and len(copies(server, entry.local_id)) == 1


def test_drafts_are_kept_per_conversation_and_survive_a_reopen(tmp_path) -> None:
    store = Store.open("http://127.0.0.1:8080", "sid", directory=tmp_path)
    store.put_draft(501, "14155550100", "half a thought", updated=10.0)
    store.put_draft(502, "14155550100", "another inbox, same number", kind="note", updated=20.0)
    store.put_draft(501, "14155550101", "x", updated=5.0)
    store.put_draft(501, "14155550101", "", updated=6.0)  # emptied: gone
    store.close()
    store = Store.open("http://127.0.0.1:8080", "sid", directory=tmp_path)
    assert store.draft(501, "14155550100").text == "half a thought"
    assert store.draft(502, "14155550100").kind == "note"
    assert store.draft(501, "14155550101") is None
    assert [(d.inbox_id, d.target) for d in store.drafts()] == [(502, "14155550100"), (501, "14155550100")]
    assert [d.inbox_id for d in store.drafts(501)] == [501]
    store.delete_draft(501, "14155550100")
    assert store.draft(501, "14155550100") is None
    store.close()


def test_drafts_without_a_cache_are_in_memory() -> None:
    store = Store.disabled()
    store.put_draft(501, "14155550100", "typed")
    assert store.draft(501, "14155550100").text == "typed" and not store.local_tables_durable
    assert len(store.drafts()) == 1


async def test_templates_page_by_date_and_cache(server, tmp_path) -> None:
    store = open_store(server, tmp_path)
    async with client_for(server.url, server) as client:
        first = await client.templates()
        every = [t async for t in client.iter_templates()]
    assert len(first) == 30 and len(every) == len(server.templates.items) == 42
    assert len({t.id for t in every}) == 42
    assert "first_name" in every[0].tokens
    store.put_templates(every)
    assert [t.id for t in store.templates()] == [t.id for t in every]
    store.close()


async def test_a_template_sent_unedited_is_filled_by_the_server(server) -> None:
    inbox, target, member = a_conversation(server)
    conv = server.data.find_conversation(inbox, target)
    template = server.templates.items[0]
    async with client_for(server.url, server) as client:
        result = await client.send_message(inbox, member, template["text"], phone_number=target,
                                           template_id=template["id"])
    body = next(r.body for r in server.requests if r.path == SEND_PATH)
    assert body["template_id"] == template["id"] and "text" not in body
    text = next(m for m in server.sender.sent if m["id"] == result.id)["text"]
    first = (conv["name"] or "").split()
    assert "{{first_name}}" not in text or not first
    if first:
        assert text.startswith(f"Hi {first[0]},")


def test_the_acting_member_is_resolved_like_triage() -> None:
    from hmtui.api.models import Inbox

    inbox = Inbox(id=1, name="x", phone=None, phones=[], members=[7, 8], team=None, raw={})
    assert acting_member(inbox, 8) == 8
    assert acting_member(inbox, 99) == 7  # not a member of this inbox
    assert acting_member(inbox, None) == 7
    assert acting_member(None, 5) == 5


async def test_the_fake_customer_answers_a_reply_not_a_note(make_server, profile) -> None:
    from helpers import FakeClock

    clock = FakeClock(start=1_795_000_000.0)
    server = make_server(customer_replies=4.0)
    server.clock = clock
    with server:
        inbox, target, member = a_conversation(server)
        async with client_for(server.url, server, clock=clock) as client:
            await client.send_message(inbox, member, "a note", phone_number=target, private=True)
            assert server.customer.pending == 0
            await client.send_message(inbox, member, "Your table is ready", phone_number=target)
            assert server.customer.pending == 1
            clock.advance(3)
            assert server.customer.run_due() == []
            clock.advance(2)
            [answer] = server.customer.run_due()
            history = await client.messages(inbox, target)
    assert history[-1].id == answer["id"] or history[0].id == answer["id"]
    mine = next(m for m in history if m.id == answer["id"])
    assert mine.kind is MessageKind.INBOUND


async def test_the_customer_is_off_unless_asked(server) -> None:
    inbox, target, member = a_conversation(server)
    async with client_for(server.url, server) as client:
        await client.send_message(inbox, member, "hello", phone_number=target)
    assert server.customer.pending == 0


def test_a_version_3_cache_gains_the_local_tables_and_keeps_its_messages(tmp_path) -> None:
    import json

    from hmtui.cache import schema, store_path

    path = store_path("http://127.0.0.1:8080", "sid", tmp_path)
    conn = sqlite3.connect(path, isolation_level=None)
    schema.migrate(conn, schema.MIGRATIONS[:3])
    raw = {"id": 5, "date": "2026-11-20T15:00:00Z", "text": "from version three"}
    conn.execute("INSERT INTO messages (inbox_id, target, id, date, text, author, numbers, raw)"
                 " VALUES (501, '14155550100', 5, 1795100000.0, ?, NULL, '', ?)", (raw["text"], json.dumps(raw)))
    conn.close()
    store = Store.open("http://127.0.0.1:8080", "sid", directory=tmp_path)
    assert store.warnings == [] and store.local_tables_durable
    assert [m.id for m in store.messages(501, "14155550100")] == [5]
    entry = OutboxEntry(local_id="L-1", inbox_id=501, target="14155550100", kind="reply", text="hi",
                        creator_id=7, created=1.0)
    store.outbox_save(entry)
    store.put_draft(501, "14155550100", "draft")
    store.close()
    check = sqlite3.connect(path)
    assert check.execute("SELECT version FROM schema_version").fetchone() == (schema.SCHEMA_VERSION,) == (4,)
    assert check.execute("SELECT local_id FROM outbox").fetchall() == [("L-1",)]
    check.close()


async def test_a_message_queued_before_its_sender_was_known_is_sent_as_the_inbox_member(server, tmp_path) -> None:
    inbox, target, member = a_conversation(server)
    store = open_store(server, tmp_path)
    async with client_for(dead_url(), server, attempts=1) as offline:
        entry = Outbox(offline, store).create(inbox, target, "made offline", creator_id=None)
        await Outbox(offline, store).flush()
    assert store.outbox_entry(entry.local_id).creator_id is None
    async with client_for(server.url, server) as online:
        await Outbox(online, store).flush()
    [sent] = copies(server, entry.local_id)
    assert sent["user"] == member and store.outbox_entries() == []
    store.close()

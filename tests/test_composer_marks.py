"""Drawing this client's sends in the thread (`hmtui.workspace.send_marks`): states, labels, and the
de-duplication against what a refresh brings back (by local_id, then by id)."""

from __future__ import annotations

from datetime import datetime, timezone

from hmtui.api.models import Message, MessageKind
from hmtui.api.send import SendResult
from hmtui.cache.local_tables import OutboxEntry
from hmtui.workspace.send_marks import LocalSends, SendMarks, dedupe, local_id_of, local_message, send_label, send_state

T0 = 1_764_000_000.0


def entry(local_id: str = "aaaa-1", *, kind: str = "reply", target: str = "14155550142", text: str = "On my way",
          last_error: str | None = None) -> OutboxEntry:
    return OutboxEntry(local_id=local_id, inbox_id=501, target=target, kind=kind, text=text,  # type: ignore[arg-type]
                       creator_id=7, created=T0, last_error=last_error)


def server(id_: int, text: str, *, local_id: str | None = None) -> Message:
    raw = {"id": id_, "date": "2025-11-24T16:00:00Z", "text": text, "user": 7, "target": "14155550142",
           "type": "text", "status": "delivered"}
    if local_id is not None:
        raw["local_id"] = local_id
    message = Message.from_raw(raw)
    assert message is not None
    return message


def result(id_: int = 9001, *, queued: bool = False, held: str | None = None) -> SendResult:
    return SendResult(id=id_, local_id="aaaa-1", date=datetime(2025, 11, 24, 16, 0, tzinfo=timezone.utc),
                      queued=queued, held=held)


def test_each_state_draws_as_the_thread_expects() -> None:
    sending = local_message(entry(), "sending")
    assert sending.kind is MessageKind.OUTBOUND and sending.status == "sending" and not sending.failed
    assert str(sending.id).startswith("local:") and send_label(sending) == "sending…"
    queued = local_message(entry(last_error="connection refused"), "queued", reason="connection refused")
    assert queued.status == "queued" and send_label(queued) == "queued: connection refused"
    failed = local_message(entry(), "failed", reason="creator_id is not a member of this inbox")
    assert failed.failed and failed.failure == "creator_id is not a member of this inbox"
    assert send_label(failed) == ("✗ failed: creator_id is not a member of this inbox · enter retries · d deletes")
    assert local_id_of(failed) == "aaaa-1"
    sent = local_message(entry(), "sent", result=result())
    assert sent.id == 9001 and sent.date == datetime(2025, 11, 24, 16, 0, tzinfo=timezone.utc)
    assert sent.status == "sent" and send_label(sent) == "sent"
    assert local_message(entry(), "sent", result=result(queued=True)).status == "queued"
    held = local_message(entry(), "held", reason="opted out", result=result(held="opted out"))
    assert held.status == "held" and send_label(held) == "held, not sent: opted out" and held.failed


def test_a_note_is_a_note_and_still_carries_its_mark() -> None:
    note = local_message(entry(kind="note", text="VIP"), "sending")
    assert note.kind is MessageKind.NOTE and note.raw["private"] is True
    assert note.status is None  # the thread draws no status on a note: the label carries it
    assert send_label(note) == "sending…" and send_state(note) == "sending"


def test_a_server_message_has_no_mark() -> None:
    assert send_label(server(1, "hi")) is None and local_id_of(server(1, "hi", local_id="x")) is None


def test_dedupe_replaces_by_local_id_then_by_id() -> None:
    pending = local_message(entry("L1"), "sending")
    sent_without_echo = local_message(entry("L2"), "sent", result=result(9002))
    still_pending = local_message(entry("L3"), "queued")
    refreshed = [server(1, "older"), server(9999, "On my way", local_id="L1"),  # echoes local_id
                 server(9002, "On my way")]  # a server that dropped local_id: matched by id
    merged = dedupe(refreshed, [pending, sent_without_echo, still_pending])
    assert [m.id for m in merged] == [1, 9999, 9002, still_pending.id]
    # A pending message never matches a server message by id: its id is local, even when its
    # local_id happens to read like a server id.
    merged = dedupe([server(5, "x")], [local_message(entry("5"), "sending")])
    assert len(merged) == 2 and merged[-1].raw["local_id"] == "5"


def test_local_sends_follows_the_outbox_for_its_conversation_only() -> None:
    sends = LocalSends(501, "+1 (415) 555-0142")  # the same number, formatted
    e = entry("L1")
    sends.queued(e)
    sends.sending(e)
    sends.sending(entry("other", target="19995550000"))  # another conversation: ignored
    assert [m.status for m in sends.merge([server(1, "older")])] == ["delivered", "sending"]
    sends.sent(e, result(9001))
    assert sends.state("L1") == "sent"
    merged = sends.merge([server(1, "older")])
    assert [m.id for m in merged] == [1, 9001]  # appears at once with the server's id
    merged = sends.merge([server(1, "older"), server(9001, "On my way", local_id="L1")])
    assert [m.id for m in merged] == [1, 9001] and send_state(merged[1]) is None  # the server's copy
    assert sends.messages() == []  # forgotten once the server has it


def test_a_failed_send_stays_until_dropped() -> None:
    sends = LocalSends(501, "14155550142")
    e = entry("L1")
    sends.failed(e, "400: text is required")
    for _ in range(2):
        merged = sends.merge([server(1, "older")])
        assert send_state(merged[-1]) == "failed"
    sends.drop("L1")
    assert sends.merge([server(1, "older")])[-1].id == 1


async def test_send_marks_follow_a_real_outbox_on_the_fake_server(server, tmp_path) -> None:
    """The outbox's own events, on the fake server: sending → sent, then the refresh's copy
    (with its local_id) replaces the local one; a refused message stays, failed with the reason."""
    import httpx

    from helpers import RecordingSleep
    from hmtui.api import Credentials, HeymarketClient, RetryPolicy
    from hmtui.cache import Store
    from hmtui.workspace.outbox import Outbox

    changed: list[tuple[object, str]] = []
    marks = SendMarks(on_change=lambda inbox, target: changed.append((inbox, target)))
    conv = next(c for c in server.data.conversations
                if c["status"] == "open" and c["id"] not in server.data.live.groups
                and c["id"] not in server.data.live.email)
    inbox, target = conv["inbox"], conv["target"]
    member = server.data.inbox_by_id(inbox)["members"][0]
    store = Store.open(server.url, server.secret_id, directory=tmp_path / "cache")
    client = HeymarketClient(Credentials(server.secret_id, server.secret_key), base_url=server.url,
                             retry=RetryPolicy(attempts=3), timeout=httpx.Timeout(10.0), sleep=RecordingSleep())
    try:
        outbox = Outbox(client, store, observer=marks)
        entry = outbox.create(inbox, target, "On my way", creator_id=member)
        assert send_state(marks.merge(inbox, target, [])[-1]) == "queued"
        await outbox.send(entry)
        local = marks.merge(inbox, target, [])
        assert send_state(local[-1]) == "sent" and not str(local[-1].id).startswith("local:")
        refreshed = await client.messages(inbox, target)
        merged = marks.merge(inbox, target, refreshed)
        ours = [m for m in merged if m.raw.get("local_id") == entry.local_id]
        assert len(ours) == 1 and send_state(ours[0]) is None  # the server's copy, once
        assert changed and changed[0] == (inbox, target)
        # A refusal (a creator who is no member) stays in the thread, failed, with the reason.
        bad = outbox.create(inbox, target, "Nope", creator_id=999999)
        await outbox.send(bad)
        drawn = marks.merge(inbox, target, refreshed)
        assert send_state(drawn[-1]) == "failed" and "creator_id" in (send_label(drawn[-1]) or "")
    finally:
        await client.aclose()
        store.close()

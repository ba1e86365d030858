"""Triage as one operation, without Textual: optimistic change, server call, confirm or roll back
(the list, the current conversation and the badges all come back on a refusal)."""

from __future__ import annotations

from hmtui.fake import Fault


async def test_a_refused_close_rolls_back_the_list_and_the_badges(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.start()
        await ws.idle()
        first = ws.current
        inbox_id = first.inbox_id
        badges_before = ws.refresher.counts(inbox_id)
        assert badges_before.open is not None
        server.inject(Fault("500", every=1, path="/v1/conversations/close"))
        assert ws.toggle_closed()
        # Shown at once, before the server answers: closed in the list, one fewer open.
        assert ws.conversations.get(first.id).closed
        assert ws.refresher.counts(inbox_id).open == badges_before.open - 1
        await ws.idle()
        assert not ws.conversations.get(first.id).closed
        assert ws.refresher.counts(inbox_id) == badges_before
        assert server.data.conversation_by_id(first.id)["status"] == "open"
        [(severity, text)] = [n for n in ws.listener.notices if n[1].startswith("Could not close")]
        assert severity == "error" and first.display_name in text
        assert ws.listener.named("counts_changed")[-1] == (inbox_id, badges_before)
        assert not ws.triage.outcomes[-1].ok


async def test_a_refused_mark_read_rolls_back_the_unread_badge(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.start()
        await ws.idle()
        unread = next(c for c in ws.conversations.visible if c.unread)
        ws.open(unread)
        await ws.idle()
        before = ws.refresher.counts(unread.inbox_id)
        server.inject(Fault("500", every=1, path="/v1/conversations/read"))
        assert ws.toggle_unread()
        assert ws.refresher.counts(unread.inbox_id).unread == before.unread - 1
        await ws.idle()
        assert ws.conversations.get(unread.id).unread
        assert ws.refresher.counts(unread.inbox_id) == before


async def test_a_refused_transfer_puts_it_back_where_it_was(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.start()
        await ws.idle()
        order = [c.id for c in ws.conversations.items]
        moving = ws.conversations.visible[2]
        ws.open(moving)
        await ws.idle()
        destination = ws.transfer_choices()[0]
        server.inject(Fault("500", every=1, path="/v1/conversations/transfer"))
        assert ws.transfer(destination.id, expected=moving.id)
        assert ws.conversations.get(moving.id) is None  # it left the list at once
        advanced = ws.current
        assert advanced.id == order[3]  # and the next one is on screen
        await ws.idle()
        assert [c.id for c in ws.conversations.items] == order  # back where it was
        assert ws.current.id == advanced.id  # the screen stays where the user moved on to
        assert ws.listener.named("list_changed")[-1][1] == advanced.id
        assert server.data.conversation_by_id(moving.id)["inbox"] == moving.inbox_id
        assert any(text.startswith("Could not transfer") for _, text in ws.listener.notices)


async def test_triage_acts_as_the_configured_member_or_the_inbox_first(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.start()
        await ws.idle()
        inbox = ws.inbox
        assert ws.acting_member(inbox) == inbox.members[0]  # no user_id configured
    async with make_workspace(server, user_id=inbox.members[-1]) as ws:
        ws.start()
        await ws.idle()
        assert ws.acting_member(ws.inbox) == inbox.members[-1]
    async with make_workspace(server, user_id=999_999) as ws:  # not a member of this inbox
        ws.start()
        await ws.idle()
        assert ws.acting_member(ws.inbox) == inbox.members[0]


async def test_offline_triage_says_so_in_a_sentence_and_does_nothing(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.start()
        await ws.idle()
        first = ws.current
        server.stop()
        await ws.refresh_now().wait()
        assert ws.connection.lost == "hmtui is offline"
        assert not ws.toggle_closed()
        assert ws.listener.notices[-1] == ("warning", "Closing a conversation needs a connection: hmtui is offline")
        assert not ws.conversations.get(first.id).closed

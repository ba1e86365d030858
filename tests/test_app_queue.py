"""Issue 12's queue in the TUI: `m` (Mine / Unassigned / All, remembered per inbox), `w` (the
waiting sort, "waiting 2h 14m" in the rows) and `W` (the longest-waiting customer across inboxes),
against the fake's seeded world, whose answers are known (hmtui.fake.queue.waiting_answer)."""

from __future__ import annotations

from pathlib import Path

from hmtui.api.semantics import Owner, acting_member
from hmtui.cache import Store
from hmtui.fake.queue import waiting_answer
from hmtui.ui.widgets.conversation_list import ConversationList
from hmtui.workspace.queue import waiting_text

from app_harness import running, screen_text, settle, wait_until
from conftest import ANCHOR


def shown_ids(app) -> list[object]:
    return [c.id for c in app.main.query_one(ConversationList).items]


def list_title(app) -> str:
    return str(app.main.query_one("#list-title").render())


def me_of(app) -> object:
    inbox = app.workspace.inbox
    return acting_member(None, inbox.members)


async def test_m_cycles_mine_unassigned_all_with_the_seeded_answer(server) -> None:
    async with running(server) as (app, pilot):
        ws = app.workspace
        inbox_id = ws.inbox.id
        me = me_of(app)
        truth = {c["id"]: c["assigned"] for c in server.data.conversations if c["inbox"] == inbox_id}
        loaded = list(ws.conversations.items)
        assert "Mine" not in list_title(app) and "Unassigned" not in list_title(app)

        await pilot.press("m")
        await settle(pilot)
        mine = shown_ids(app)
        assert mine and all(truth[i] == me for i in mine)
        # Every loaded conversation the server says is mine is shown, in the list's order.
        loaded = list(ws.conversations.items)
        assert mine == [c.id for c in loaded if truth[c.id] == me]
        assert "Mine" in list_title(app)
        assert ws.current is not None and truth[ws.current.id] == me  # current follows the filter

        await pilot.press("m")
        await settle(pilot)
        unassigned = shown_ids(app)
        loaded = list(ws.conversations.items)
        assert unassigned and unassigned == [c.id for c in loaded if truth[c.id] is None]
        assert "Unassigned" in list_title(app)

        await pilot.press("m")
        await settle(pilot)
        assert shown_ids(app) == [c.id for c in ws.conversations.items]
        assert ws.owner_of_inbox(inbox_id) is Owner.ALL


async def test_n_follows_the_owner_choice(server) -> None:
    async with running(server) as (app, pilot):
        me = me_of(app)
        await pilot.press("m", "m")  # Unassigned
        await settle(pilot)
        truth = {c["id"]: c["assigned"] for c in server.data.conversations}
        for _ in range(3):
            await pilot.press("n")
            await settle(pilot)
            current = app.workspace.current
            assert current is not None
            if current.inbox_id == app.workspace.inbox.id and app.workspace.conversations.owner is Owner.UNASSIGNED:
                assert truth[current.id] is None, "n landed on an assigned conversation under Unassigned"
        assert me is not None


async def test_the_owner_choice_is_remembered_per_inbox_and_across_a_restart(make_server, tmp_path: Path) -> None:
    with make_server() as server:
        def store() -> Store:
            return Store.open(server.url, server.secret_id, directory=tmp_path)

        async with running(server, store=store()) as (app, pilot):
            ws = app.workspace
            first, second = ws.inboxes[0], ws.inboxes[1]
            await pilot.press("m")  # Mine in the first inbox
            await settle(pilot)
            assert ws.conversations.owner is Owner.MINE
            ws.select_inbox(second)
            await settle(pilot)
            assert ws.conversations.owner is Owner.ALL  # the second inbox keeps its own choice
            assert "Mine" not in list_title(app)
            ws.select_inbox(first)
            await settle(pilot)
            assert ws.conversations.owner is Owner.MINE and "Mine" in list_title(app)
        async with running(server, store=store()) as (app, pilot):
            assert app.workspace.inbox.id == first.id
            assert app.workspace.conversations.owner is Owner.MINE
            assert "Mine" in list_title(app)


async def test_w_sorts_by_waiting_and_rows_say_how_long_with_a_frozen_clock(server) -> None:
    answer = waiting_answer(server.data)
    async with running(server) as (app, pilot):
        ws = app.workspace
        loaded = {c.id for c in ws.conversations.items}
        expected = [w for w in answer if w.inbox_id == ws.inbox.id and w.conversation_id in loaded]
        assert expected
        await pilot.press("w")
        await settle(pilot)
        shown = shown_ids(app)
        assert shown[: len(expected)] == [w.conversation_id for w in expected]
        assert "waiting" in list_title(app)
        rows = screen_text(app.main.query_one(ConversationList))
        from datetime import datetime, timezone

        label = waiting_text(datetime.fromtimestamp(expected[0].since, timezone.utc), ANCHOR)
        assert label.startswith("waiting ") and label in rows[0], (label, rows[0])
        await pilot.press("w")
        await settle(pilot)
        assert not any("waiting " in line for line in screen_text(app.main.query_one(ConversationList)))


async def test_W_jumps_to_the_longest_waiting_customer_across_inboxes(server) -> None:
    answer = waiting_answer(server.data)
    longest = answer[0]
    async with running(server) as (app, pilot):
        ws = app.workspace
        assert ws.inbox.id != longest.inbox_id  # the jump must cross inboxes
        await pilot.press("W")
        await settle(pilot)
        assert ws.inbox.id == longest.inbox_id
        assert ws.current is not None and ws.current.id == longest.conversation_id
        conversations = app.main.query_one(ConversationList)
        assert conversations.highlighted is not None and conversations.highlighted.id == longest.conversation_id
        assert app.main.sidebar.highlighted is not None and app.main.sidebar.highlighted.id == longest.inbox_id


async def test_W_follows_each_inboxs_owner_choice(server) -> None:
    answer = waiting_answer(server.data)
    async with running(server) as (app, pilot):
        ws = app.workspace
        members = {i.id: acting_member(None, i.members) for i in ws.inboxes}
        for inbox in ws.inboxes:
            ws.queue_prefs.set_owner(inbox.id, Owner.MINE)
        mine = [w for w in answer if w.assigned == members[w.inbox_id]]
        await pilot.press("W")
        await settle(pilot)
        await wait_until(pilot, lambda: ws.current is not None and ws.current.id == mine[0].conversation_id,
                         "the jump lands on my longest waiter")
        assert mine[0].conversation_id != answer[0].conversation_id
        assert ws.conversations.owner is Owner.MINE

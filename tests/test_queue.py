"""Working the queue against the fake server over loopback: Mine / Unassigned / All, the waiting
sort, the longest-waiting jump across inboxes, and the owner choice remembered across a restart.

The answer key (`hmtui.fake.queue.waiting_answer`) is read from the fake's threads (who wrote the
last message that is not a note); the client reads the undocumented `last_inbound` / `replied`
fields, in the tidy profile's shapes and in the live one's (strings, the zero time, omitted)."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from hmtui.api import Credentials, HeymarketClient, RetryPolicy
from hmtui.api.models import Conversation, Inbox
from hmtui.cache.store import NullStore, Store
from hmtui.fake.queue import waiting_answer
from hmtui.workspace.queue import (
    DEFAULT_OWNER,
    Owner,
    QueuePrefs,
    acting_member,
    filter_by_owner,
    longest_waiting,
    owner_accept,
    sort_by_waiting,
)

from helpers import RecordingSleep


def client_for(server) -> HeymarketClient:
    return HeymarketClient(
        Credentials(server.secret_id, server.secret_key),
        base_url=server.url,
        retry=RetryPolicy(attempts=3),
        timeout=httpx.Timeout(10.0),
        sleep=RecordingSleep(),
    )


async def load(server, *, closed: bool | None = None) -> tuple[list[Inbox], dict[object, list[Conversation]]]:
    """Every inbox's whole list (paged to the end), as the workspace would hold it."""
    async with client_for(server) as client:
        inboxes = await client.inboxes()
        lists: dict[object, list[Conversation]] = {}
        for inbox in inboxes:
            me = acting_member(None, inbox.members)
            lists[inbox.id] = [c async for c in client.iter_conversations(inbox.id, me, closed=closed)]
    return inboxes, lists


def ids(conversations) -> list[object]:
    return [c.id for c in conversations]


async def test_the_seeded_world_has_a_queue_worth_testing(shared_server) -> None:
    """The answer key itself: waiters in every inbox, mine, someone else's and unassigned, and
    the longest waiter is not in the first inbox (so the jump must cross inboxes)."""
    answer = waiting_answer(shared_server.data)
    inboxes = shared_server.data.inboxes
    for inbox in inboxes:
        mine = inbox["members"][0]
        waiters = [w for w in answer if w.inbox_id == inbox["id"]]
        assert any(w.assigned == mine for w in waiters)
        assert any(w.assigned is None for w in waiters)
        assert any(w.assigned not in (None, mine) for w in waiters)
    assert answer[0].inbox_id != inboxes[0]["id"]
    # Some customers wrote in the same second (in one inbox): the sort's tie-break is exercised.
    same_second = {(w.inbox_id, w.since) for w in answer}
    assert len(same_second) < len(answer)


async def test_mine_unassigned_and_all_give_exactly_the_seeded_answer(shared_server) -> None:
    inboxes, lists = await load(shared_server)
    data = shared_server.data
    for inbox in inboxes:
        me = acting_member(None, inbox.members)
        convs = lists[inbox.id]
        truth = [c for c in data.conversations if c["inbox"] == inbox.id]
        assert set(ids(filter_by_owner(convs, Owner.ALL, me))) == {c["id"] for c in truth}
        assert set(ids(filter_by_owner(convs, Owner.MINE, me))) == {c["id"] for c in truth if c["assigned"] == me}
        assert set(ids(filter_by_owner(convs, Owner.UNASSIGNED, me))) == {
            c["id"] for c in truth if c["assigned"] is None
        }
        # Each filter keeps the list's order (newest first), and the three never overlap wrongly.
        assert ids(filter_by_owner(convs, Owner.MINE, me)) == [c.id for c in convs if c.assigned == me]
        assert filter_by_owner(convs, Owner.MINE, me)  # not vacuous


async def test_the_waiting_sort_is_the_known_order(shared_server) -> None:
    inboxes, lists = await load(shared_server)
    answer = waiting_answer(shared_server.data)
    for inbox in inboxes:
        ordered = sort_by_waiting(lists[inbox.id])
        expected = [w.conversation_id for w in answer if w.inbox_id == inbox.id]
        assert ids(ordered[: len(expected)]) == expected
        assert ordered[len(expected)].waiting_since is None  # then nobody else waits
        since = {w.conversation_id: w.since for w in answer}
        assert [int(c.waiting_since.timestamp()) for c in ordered[: len(expected)]] == [
            since[i] for i in expected
        ]
        # The rest keep the list's own order.
        rest = [c for c in lists[inbox.id] if c.id not in set(expected)]
        assert ids(ordered[len(expected):]) == ids(rest)


async def test_the_longest_waiting_jump_crosses_inboxes(shared_server) -> None:
    inboxes, lists = await load(shared_server)
    answer = waiting_answer(shared_server.data)
    result = longest_waiting(lists, complete=lists.keys())
    assert result.complete
    assert result.best is not None
    assert (result.best.inbox_id, result.best.conversation.id) == (answer[0].inbox_id, answer[0].conversation_id)
    assert int(result.best.since.timestamp()) == answer[0].since


async def test_the_jump_follows_each_inboxs_owner_choice(shared_server) -> None:
    inboxes, lists = await load(shared_server)
    members = {i.id: acting_member(None, i.members) for i in inboxes}
    owners = {i.id: Owner.MINE for i in inboxes}
    answer = waiting_answer(shared_server.data)
    mine = [w for w in answer if w.assigned == members[w.inbox_id]]
    result = longest_waiting(lists, complete=lists.keys(), accept=owner_accept(owners, members))
    assert result.best is not None and result.best.conversation.id == mine[0].conversation_id
    assert mine[0].conversation_id != answer[0].conversation_id  # the filter changed the answer


async def test_a_partial_load_says_what_to_fetch_and_fetching_it_finds_the_answer(shared_server) -> None:
    """With only first pages loaded, the jump names the inboxes still to page (open ones, to the
    end); paging them as the plan says gives the known answer."""
    answer = waiting_answer(shared_server.data)
    async with client_for(shared_server) as client:
        inboxes = await client.inboxes()
        first_pages = {}
        for inbox in inboxes:
            first_pages[inbox.id] = await client.conversations(inbox.id, acting_member(None, inbox.members))
        partial = longest_waiting(first_pages)
        assert not partial.complete
        assert set(partial.fetch.inbox_ids) == {i.id for i in inboxes}
        assert partial.best is None or partial.best.conversation.id != answer[0].conversation_id
        lists = {}
        for inbox in inboxes:
            me = acting_member(None, inbox.members)
            assert partial.fetch.body(inbox.id, me) == {"id": me, "filters": {"inboxes": [inbox.id], "closed": False}}
            lists[inbox.id] = [c async for c in client.iter_conversations(inbox.id, me, closed=partial.fetch.closed)]
    full = longest_waiting(lists, complete=partial.fetch.inbox_ids)
    assert full.complete and full.best is not None
    assert full.best.conversation.id == answer[0].conversation_id


async def test_a_new_inbound_and_a_reply_move_the_queue(server) -> None:
    """A reply takes a customer out of the queue; a new message from an answered customer puts
    them back, at their new time (the fake keeps `replied` true: `updated` tells)."""
    answer = waiting_answer(server.data)
    longest = answer[0]
    conv = server.data.conversation_by_id(longest.conversation_id)
    server.add_message(longest.inbox_id, conv["target"], "On it, sorry for the wait", inbound=False,
                       date=datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc))
    _, lists = await load(server)
    after = longest_waiting(lists, complete=lists.keys())
    assert after.best is not None and after.best.conversation.id == answer[1].conversation_id
    waiting_ids = {c.id for cs in lists.values() for c in cs if c.waiting_since is not None}
    assert longest.conversation_id not in waiting_ids
    assert waiting_ids == {w.conversation_id for w in waiting_answer(server.data)}

    server.add_message(longest.inbox_id, conv["target"], "Still there?",
                       date=datetime(2026, 11, 20, 14, 30, tzinfo=timezone.utc))
    _, lists = await load(server)
    back = {c.id: c for cs in lists.values() for c in cs}[longest.conversation_id]
    assert back.waiting_since == datetime(2026, 11, 20, 14, 30, tzinfo=timezone.utc)


def test_the_owner_choice_is_remembered_per_inbox_across_a_restart(tmp_path) -> None:
    store = Store.open("http://127.0.0.1:1", "demo-id", directory=tmp_path)
    assert store.path is not None and not store.warnings
    prefs = QueuePrefs(store)
    assert prefs.owner(501) is DEFAULT_OWNER is Owner.ALL
    assert prefs.cycle(501) is Owner.MINE
    assert prefs.cycle(502) is Owner.MINE
    assert prefs.cycle(502) is Owner.UNASSIGNED
    store.close()

    again = Store.open("http://127.0.0.1:1", "demo-id", directory=tmp_path)  # a new process
    assert again.path == store.path
    prefs = QueuePrefs(again)
    assert (prefs.owner(501), prefs.owner(502), prefs.owner(503)) == (Owner.MINE, Owner.UNASSIGNED, Owner.ALL)
    assert prefs.cycle(502) is Owner.ALL
    assert prefs.cycle(502) is Owner.MINE
    again.close()


def test_without_a_cache_the_choice_lasts_the_session() -> None:
    prefs = QueuePrefs(NullStore())
    assert prefs.cycle("501") is Owner.MINE
    assert prefs.owner("501") is Owner.MINE
    assert QueuePrefs(NullStore()).owner("501") is Owner.ALL
    assert prefs.last_error is None


def test_an_unknown_stored_choice_reads_as_all(tmp_path) -> None:
    store = Store.open("http://127.0.0.1:1", "demo-id", directory=tmp_path)
    store.put_pref("queue.owner.501", "everyone-but-me")
    assert QueuePrefs(store).owner(501) is Owner.ALL
    store.close()



@pytest.mark.parametrize("profile", ["live"], indirect=True)
async def test_the_live_profile_sends_every_shape_the_notes_show(server) -> None:
    """The queue tests above run against these: `last_inbound` as Unix seconds, a numeric
    string, RFC 3339, the zero time and left out; `replied` true and left out (false). Customers
    who never wrote (the team texted first) are in nobody's queue."""
    started = [server.add_message(502, f"1503555{k:04d}", "Your order shipped", inbound=False,
                                  date=datetime(2026, 11, 20, 13, k, tzinfo=timezone.utc))["conversation"]["id"]
               for k in range(4)]
    _, lists = await load(server)
    by_id = {c.id: c for cs in lists.values() for c in cs}
    assert all(by_id[i].waiting_since is None for i in started)
    assert not set(started) & {w.conversation_id for w in waiting_answer(server.data)}
    async with client_for(server) as client:
        raws = []
        for inbox in await client.inboxes():
            me = acting_member(None, inbox.members)
            raws += [c.raw async for c in client.iter_conversations(inbox.id, me)]
    shapes = set()
    for raw in raws:
        value = raw.get("last_inbound", "left out")
        if value == "0001-01-01T00:00:00Z":
            shapes.add("zero time")
        elif isinstance(value, int):
            shapes.add("unix")
        elif isinstance(value, str) and value.isdigit():
            shapes.add("numeric string")
        elif isinstance(value, str) and value.endswith("Z"):
            shapes.add("rfc3339")
        else:
            shapes.add(value)
        shapes.add(f"replied {raw.get('replied', 'left out')}")
    assert shapes == {"unix", "numeric string", "rfc3339", "zero time", "left out", "replied True",
                      "replied left out"}

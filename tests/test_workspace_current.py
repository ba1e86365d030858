"""The workspace's one current conversation, after every kind of move, without Textual.

"Current" is what the thread shows, what the header names and what `c u a t y e` act on; these
tests drive the workspace directly against the fake server and check that the three never part."""

from __future__ import annotations

from hmtui.api import normalize_phone
from hmtui.fake import LONG_THREAD_INBOX, LONG_THREAD_TARGET
from hmtui.workspace.events import Recorder


def shown(ws) -> object:
    """The conversation the thread was last drawn for (its header: the last current_changed)."""
    rec: Recorder = ws.listener
    changes = rec.named("current_changed")
    return changes[-1][0] if changes else None


def assert_one_current(ws) -> None:
    header = shown(ws)
    assert ws.current is not None and header is not None
    assert header.id == ws.current.id
    # The thread holds this conversation's messages (or nothing yet), never another's.
    targets = {m.target for m in ws.thread.state.tail if m.target}
    assert not targets or targets <= {ws.current.target, normalize_phone(ws.current.target or "")}


async def started(make_workspace, server, **kw):
    ws_cm = make_workspace(server, **kw)
    ws = await ws_cm.__aenter__()
    ws.start()
    await ws.idle()
    return ws_cm, ws


async def test_start_opens_the_first_conversation_and_the_cursor_is_on_it(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.start()
        await ws.idle()
        first = ws.conversations.visible[0]
        assert ws.current.id == first.id
        assert_one_current(ws)
        assert ws.thread.state.loaded  # its thread arrived


async def test_cursor_preview_changes_current_after_the_delay_and_before_any_action(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.start()
        await ws.idle()
        second = ws.conversations.visible[1]
        ws.preview_delay = 3600.0  # the cursor rests; the delay has not passed
        ws.preview(second)
        assert ws.preview_pending and ws.current.id != second.id
        # An action key applies the pending preview first: it acts on what the screen will show.
        assert ws.toggle_closed()
        await ws.idle()
        assert server.data.conversation_by_id(second.id)["status"] == "closed"
        assert ws.triage.outcomes[-1].before.id == second.id


async def test_auto_advance_after_triage_makes_the_next_one_current(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.start()
        await ws.idle()
        first, second = ws.conversations.visible[:2]
        ws.open(first)
        ws.toggle_unread()
        # The thread follows the cursor: the next conversation is current, at once.
        assert ws.current.id == second.id
        assert ws.listener.named("cursor_moved")[-1] == (second.id,)
        await ws.idle()
        assert_one_current(ws)
        # The scenario of issue 8: t now transfers the one on screen (the second).
        other = ws.transfer_choices()[0]
        assert ws.transfer(other.id, expected=second.id)
        await ws.idle()
        assert server.data.conversation_by_id(second.id)["inbox"] == other.id
        assert server.data.conversation_by_id(first.id)["inbox"] == first.inbox_id
        assert ws.triage.outcomes[-1].text.startswith(f"Transferred {second.display_name}")


async def test_an_action_aimed_at_another_conversation_does_nothing(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.start()
        await ws.idle()
        first, second = ws.conversations.visible[:2]
        ws.open(second)
        assert not ws.toggle_closed(expected=first.id)  # a picker opened for the first one
        assert server.data.conversation_by_id(first.id)["status"] == "open"
        assert server.data.conversation_by_id(second.id)["status"] == "open"


async def test_a_filter_that_hides_the_current_one_makes_the_first_match_current(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.start()
        await ws.idle()
        first = ws.current
        wanted = next(c for c in ws.conversations.visible[1:] if c.name and c.name != first.name)
        ws.set_filter(wanted.name)
        await ws.idle()
        assert ws.current.id == ws.conversations.visible[0].id
        assert wanted.name in ws.current.display_name
        assert_one_current(ws)
        # A filter that still shows the current one leaves it alone.
        here = ws.current
        ws.set_filter("")
        assert ws.current.id == here.id


async def test_an_inbox_switch_makes_its_first_conversation_current(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.start()
        await ws.idle()
        before = ws.current
        other = ws.inboxes[1]
        ws.select_inbox(other)
        await ws.idle()
        assert ws.current is not None and ws.current.inbox_id == other.id != before.inbox_id
        assert ws.current.id == ws.conversations.visible[0].id
        assert_one_current(ws)


async def test_a_deep_link_is_current_and_the_list_adopts_it(make_workspace, server) -> None:
    async with make_workspace(server, start_inbox=LONG_THREAD_INBOX, start_phone="+1 415-555-0142") as ws:
        ws.start()
        await ws.idle()
        assert ws.current.target == LONG_THREAD_TARGET
        assert not ws.current.raw.get("hmtui_placeholder")  # the list's real conversation
        assert ws.listener.named("focus_thread")
        assert len(ws.thread.state.loaded) == server.options.message_page_size
        assert_one_current(ws)


async def test_a_deep_link_below_the_first_row_is_what_actions_act_on(make_workspace, server) -> None:
    rows = sorted((c for c in server.data.conversations if c["inbox"] == LONG_THREAD_INBOX and c["status"] == "open"),
                  key=lambda c: c["updated"], reverse=True)
    wanted = rows[4]
    async with make_workspace(server, start_inbox=LONG_THREAD_INBOX, start_phone=wanted["target"]) as ws:
        ws.start()
        await ws.idle()
        assert ws.current.id == wanted["id"]
        assert ws.conversations.visible[0].id != wanted["id"]
        assert ws.listener.named("cursor_moved")[-1] == (wanted["id"],)
        assert_one_current(ws)
        assert ws.toggle_closed()
        await ws.idle()
        assert server.data.conversation_by_id(wanted["id"])["status"] == "closed"
        assert server.data.conversation_by_id(rows[0]["id"])["status"] == "open"


async def test_a_search_result_is_current_and_its_message_shown(make_workspace, server, tmp_path) -> None:
    from hmtui.cache import Store, StoreWriter

    store = Store.open(server.url, server.secret_id, directory=tmp_path / "cache")
    writer = StoreWriter(store)
    try:
        async with make_workspace(server, store=store, writer=writer) as ws:
            ws.start()
            await ws.idle()
            other = ws.inboxes[1]
            ws.select_inbox(other)
            await ws.idle()
            target = ws.conversations.visible[-1]
            ws.open(target)
            await ws.idle()
            word = next(w for m in ws.thread.state.tail for w in (m.text or "").split() if len(w) > 6 and w.isalpha())
            writer.flush(5.0)
            ws.select_inbox(ws.inboxes[0])
            await ws.idle()
            assert ws.current.inbox_id != other.id
            hits = [h for h in ws.search(word) if h.target == target.target]
            assert hits
            assert ws.open_search_hit(hits[0], word)
            await ws.idle()
            assert ws.current.target == target.target and ws.inbox.id == other.id
            assert ws.listener.named("show_message")[-1] == (hits[0].message.id,)
            assert_one_current(ws)
    finally:
        writer.close()
        store.close()


async def test_next_unread_makes_it_current(make_workspace, server) -> None:
    async with make_workspace(server) as ws:
        ws.start()
        await ws.idle()
        await ws.next_unread(1).wait()
        await ws.idle()
        assert ws.current is not None and ws.current.unread
        assert ws.listener.named("cursor_moved")[-1] == (ws.current.id,)
        assert_one_current(ws)

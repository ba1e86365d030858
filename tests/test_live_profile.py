"""The live profile end to end: the fake server in the real backend's shapes, read by the client,
the CLI and the app. Each test names the rule it proves (hmtui.api.semantics)."""

from __future__ import annotations

import json

import pytest

from hmtui.api import Credentials, HeymarketClient, MessageKind, RetryPolicy
from hmtui.cli import char_cells
from hmtui.fake.live import EMAIL_TARGET, UNKNOWN_STATUS, ZERO_TIME
from hmtui.ui.widgets.conversation_list import ConversationList
from hmtui.ui.widgets.thread_view import ThreadView

from app_harness import running, screen_text, settle
from conftest import env_for, live_only, run_cli

pytestmark = live_only


def client_for(server) -> HeymarketClient:
    return HeymarketClient(Credentials(server.secret_id, server.secret_key), base_url=server.url,
                           retry=RetryPolicy(attempts=2))


def cells(line: str, start: int, width: int) -> str:
    """The text at terminal cells [start, start + width) of a table line (CJK names are 2 cells)."""
    out, at = [], 0
    for ch in line:
        if start <= at < start + width:
            out.append(ch)
        at += char_cells(ch)  # as the CLI measures (and terminals do): a vowel sign is a cell
    return "".join(out)


def shaped_conversations(server, inbox_id):
    return [server.shape_conversation(c) for c in server.data.conversations if c["inbox"] == inbox_id]


def showcase(server):
    conv = server.data.conversation_by_id(server.data.live.showcase)
    forced = {mark: msg_id for msg_id, mark in server.data.live.forced.items()}
    by_id = {m["id"]: m for m in server.data.messages_for(conv["inbox"], conv["target"])}
    return conv, {mark: by_id[msg_id] for mark, msg_id in forced.items()}


def test_the_profile_really_sends_the_live_shapes(shared_server) -> None:
    # Without these the tests below prove little.
    every = [c for i in shared_server.data.inboxes for c in shaped_conversations(shared_server, i["id"])]
    assert all("unread" not in c and c["read"] in (0, 1) for c in every)
    assert all(c["snooze_till"] == ZERO_TIME for c in every)
    assert any("name" not in c for c in every) and any(c["assigned"] == 0 for c in every)
    assert {"pending", UNKNOWN_STATUS} <= {c["status"] for c in every}
    assert any(len(c.get("targets", [])) > 1 and "target" not in c for c in every)
    assert any(c.get("channel") == "email" and c["target"] == EMAIL_TARGET for c in every)
    assert sum(c["updated"] == ZERO_TIME for c in every) == len(shared_server.data.inboxes)
    conv, marked = showcase(shared_server)
    shaped = {m["id"]: m for m in shared_server.shape_messages(list(marked.values()))}
    assert shaped[marked["broadcast"]["id"]]["user"] == 0 and shaped[marked["broadcast"]["id"]]["broadcast_id"]
    assert shaped[marked["hidden"]["id"]]["hidden"] is True
    assert shaped[marked["failed"]["id"]]["raw_error"] and shaped[marked["failed"]["id"]]["target_errors"]


# -- the CLI (the "done when") -----------------------------------------------------------


def test_cli_conversations_marks_unread_exactly_those_with_read_0(shared_server, isolated_env) -> None:
    env = env_for(shared_server, isolated_env)
    for inbox in shared_server.data.inboxes:
        result = run_cli("conversations", "--inbox", str(inbox["id"]), env=env)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        start = lines[0].index("UNREAD")
        unread = {int(line.split()[0]) for line in lines[1:] if cells(line, start, 6) == "unread"}
        expected = {c["id"] for c in shaped_conversations(shared_server, inbox["id"]) if c["read"] == 0}
        assert unread == expected
        assert 0 < len(unread) < len(lines) - 1


def test_cli_history_shows_broadcasts_as_the_teams_hides_hidden_and_gives_the_reason(shared_server, isolated_env) -> None:
    conv, marked = showcase(shared_server)
    env = env_for(shared_server, isolated_env)
    result = run_cli("history", "--inbox", str(conv["inbox"]), "--phone", conv["target"], env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    lines = out.splitlines()
    # The broadcast: the team's arrow, not the customer's.
    first_line = marked["broadcast"]["text"].split("\n")[0]
    headers = [lines[i - 1] for i, line in enumerate(lines) if i and line.strip() == first_line.strip()]
    assert any(" -> " in h and "[broadcast]" in h and "team (automated)" in h for h in headers), headers
    assert not any(" <- " in h for h in headers if "[broadcast]" in h)
    # The hidden message is not shown (its words may recur in messages that are shown)...
    shaped = shared_server.shape_messages(shared_server.data.messages_for(conv["inbox"], conv["target"]))
    same = [m for m in shaped if m["text"] == marked["hidden"]["text"]]
    assert any(m.get("hidden") for m in same)
    assert out.count("\n      " + marked["hidden"]["text"] + "\n") == sum(not m.get("hidden") for m in same)
    # ...and the failed one says why.
    assert "[failed]" in out and "not delivered: 300" in out
    # The JSON export keeps the hidden message, marked.
    result = run_cli("history", "--inbox", str(conv["inbox"]), "--phone", conv["target"], "--json", env=env)
    hidden = [m for m in map(json.loads, result.stdout.splitlines()) if m["id"] == marked["hidden"]["id"]]
    assert hidden and hidden[0]["hidden"] is True


# -- the client ----------------------------------------------------------------------------------


async def test_client_reads_every_conversation_through_zero_times_and_read_flags(shared_server) -> None:
    async with client_for(shared_server) as client:
        for inbox in shared_server.data.inboxes:
            got = [c async for c in client.iter_conversations(inbox["id"], inbox["members"][0])]
            shaped = {c["id"]: c for c in shaped_conversations(shared_server, inbox["id"])}
            # The zero `updated` of one conversation did not end the paging.
            assert sorted(c.id for c in got) == sorted(shaped)
            assert {c.id for c in got if c.unread} == {i for i, c in shaped.items() if c["read"] == 0}
            for c in got:
                assert c.assigned is None or c.assigned > 0
                assert c.updated is None or c.updated.year > 2000
                if c.status in ("pending", UNKNOWN_STATUS):
                    assert not c.closed and c.status_label == c.status
            groups = [c for c in got if c.is_group]
            for group in groups:
                assert group.numbers == shared_server.data.live.groups[group.id]


async def test_client_reads_broadcasts_hidden_and_failures_in_a_thread(shared_server) -> None:
    conv, marked = showcase(shared_server)
    async with client_for(shared_server) as client:
        page = {m.id: m for m in await client.messages(conv["inbox"], conv["target"])}
    broadcast = page[marked["broadcast"]["id"]]
    assert broadcast.kind is MessageKind.OUTBOUND and broadcast.automated and broadcast.user is None
    assert page[marked["hidden"]["id"]].hidden
    failed = page[marked["failed"]["id"]]
    assert failed.failed and failed.failure and failed.failure.startswith("300")
    # Inbound messages carry `user` 0 and `broadcast_id` 0: the customer's, with no time `updated`.
    inbound = [m for m in page.values() if m.raw.get("user") == 0 and not m.raw.get("broadcast_id")]
    assert inbound and all(m.kind is MessageKind.INBOUND and m.updated is None for m in inbound)


async def test_client_triages_a_group_by_chat_id_and_targets(server) -> None:
    conv_id = next(iter(server.data.live.headless))
    inbox = server.data.conversation_by_id(conv_id)["inbox"]
    member = server.data.inbox_by_id(inbox)["members"][0]
    async with client_for(server) as client:
        group = await client.conversation(conv_id)
        assert group.target is None and group.is_group
        await client.close(inbox, member, group.target or "", **group.triage_refs())
        assert server.data.conversation_by_id(conv_id)["status"] == "closed"
        await client.mark_read(inbox, member, group.target or "", **group.triage_refs())
        assert server.data.conversation_by_id(conv_id)["unread"] is False
        await client.open(inbox, member, group.target or "", **group.triage_refs())
    bodies = [r.body for r in server.requests if r.path.startswith("/v1/conversations/") and r.method == "POST"]
    assert bodies[0] == {"inbox_id": inbox, "user_id": member, "chat_id": conv_id}
    assert bodies[1]["targets"] == server.data.live.groups[conv_id] and "target" not in bodies[1]
    assert all(r.status == 200 for r in server.requests)


async def test_a_pending_conversation_becomes_open_or_closed_by_triage(server) -> None:
    conv_id, status = next(iter(server.data.live.status.items()))
    conv = server.data.conversation_by_id(conv_id)
    async with client_for(server) as client:
        assert (await client.conversation(conv_id)).status == status
        await client.close(conv["inbox"], server.data.inbox_by_id(conv["inbox"])["members"][0], conv["target"],
                           chat_id=conv_id)
        assert (await client.conversation(conv_id)).status == "closed"


# -- the app -------------------------------------------------------------------------------------


async def test_app_thread_hides_hidden_shows_the_reason_and_the_broadcast_as_the_teams(server) -> None:
    conv, marked = showcase(server)
    async with running(server, start_inbox=conv["inbox"], start_phone=conv["target"]) as (app, pilot):
        thread = app.screen_stack[0].query_one(ThreadView)
        assert marked["hidden"]["id"] not in {m.id for m in thread.shown_messages()}
        assert thread.hidden_count >= 1
        assert marked["hidden"]["id"] in {m.id for m in thread.messages()}  # kept for an export
        thread.scroll_to_message(marked["failed"]["id"])
        await settle(pilot)
        text = "\n".join(screen_text(thread))
        assert "✗ not delivered: 300" in text
        assert "Team (automated) · broadcast" in text


async def test_app_group_without_a_number_says_so_in_one_line_and_asks_nothing(server) -> None:
    conv_id = next(iter(server.data.live.headless))
    inbox = server.data.conversation_by_id(conv_id)["inbox"]
    async with running(server, start_inbox=inbox) as (app, pilot):
        screen = app.screen_stack[0]
        conversations = screen.query_one(ConversationList)
        for _ in range(10):
            group = next((c for c in conversations.all_items if c.id == conv_id), None)
            if group is not None:
                break
            await settle(pilot)
        assert group is not None
        server.reset_counts()
        screen.open_thread(group)
        await settle(pilot)
        await app.workers.wait_for_complete()
        thread = screen.query_one(ThreadView)
        lines = [line.strip() for line in screen_text(thread) if line.strip()]
        assert any("Group of 3" in line for line in lines)
        assert server.counts["GET /v1/messages"] == 0
        assert not [n for n in app.notified if n.severity == "error"]
        # The row lists its numbers.
        rows = "\n".join(screen_text(conversations))
        assert "group of 3" in rows or "+1 503 555" in rows


# -- the cache and the export keep hidden messages, marked -----------------------------------------


async def test_the_cache_and_the_export_keep_hidden_messages_marked(shared_server, tmp_path) -> None:
    from datetime import timezone

    from hmtui.api.models import Conversation
    from hmtui.cache import Store
    from hmtui.ui.export import render_jsonl, render_markdown

    conv, marked = showcase(shared_server)
    async with client_for(shared_server) as client:
        page = await client.messages(conv["inbox"], conv["target"])
        conversation = await client.conversation(conv["id"])
    store = Store.open(shared_server.url, shared_server.secret_id, directory=tmp_path / "cache")
    try:
        store.put_messages(conv["inbox"], conv["target"], page)
        cached = {m.id: m for m in store.messages(conv["inbox"], conv["target"])}
    finally:
        store.close()
    assert cached[marked["hidden"]["id"]].hidden and cached[marked["hidden"]["id"]].raw["hidden"] is True
    assert cached[marked["failed"]["id"]].failure == page[[m.id for m in page].index(marked["failed"]["id"])].failure
    ordered = sorted(page, key=lambda m: (m.date, m.id))
    assert '"hidden":true' in render_jsonl(ordered).replace(" ", "")
    markdown = render_markdown(conversation, ordered, timezone.utc)
    assert "(hidden)" in markdown and "not delivered: 300" in markdown
    assert isinstance(conversation, Conversation)


async def test_the_count_is_a_team_wide_string_and_the_feed_is_in_live_shapes(server) -> None:
    """The notes: the count endpoint answers the team's total as a bare string, whatever the
    filters; /v1/messages/all sends its messages in the same shapes as /v1/messages."""
    import httpx

    from hmtui.api.counts import probe_count_filters

    token_client = client_for(server)
    headers = {"Authorization": f"Bearer {token_client.signer.token()}"}
    with httpx.Client(base_url=server.url, headers=headers) as raw:
        one = raw.post("/v1/conversations/count", json={"filters": {"inboxes": [server.data.inboxes[0]["id"]]}})
        total = raw.post("/v1/conversations/count", json={})
        assert one.json() == total.json() == str(len(server.data.conversations))
        feed = raw.post("/v1/messages/all", json={"limit": 30}).json()
    assert feed and all(None not in m.values() for m in feed)  # empty fields left out, not null
    assert all("unread" not in (m.get("conversation") or {}) for m in feed)
    async with token_client as client:
        assert await client.count_conversations() == len(server.data.conversations)
        trust = await probe_count_filters(client, [i["id"] for i in server.data.inboxes])
    assert not trust.trusted()  # a badge must not use it

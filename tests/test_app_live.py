"""The app as it runs on its own: the background refresh, retries in the status line, and the
config's user_id, refresh_interval and retries at work in the TUI (the other app tests turn the
background refresh off and drive refreshes by key)."""

from __future__ import annotations

from datetime import timedelta

from hmtui.api import RetryPolicy
from hmtui.config import Config

from app_harness import GatedSleep, GatedTransport, MovableClock, running, settle, wait_until
from test_app import first_inbox, notifications, widgets


def posted(server, path: str) -> list[dict]:
    return [r.body for r in server.requests if r.method == "POST" and r.path == path]


async def test_the_background_refresh_runs_every_refresh_interval_of_the_config(server) -> None:
    # refresh_interval=None: the app takes it from the config, as `hmtui` does.
    config = Config(refresh_interval=0.2)
    async with running(server, config=config, refresh_interval=None, settle_first=False) as (app, pilot):
        screen, _, conversations, thread = widgets(app)
        assert app.refresh_interval == 0.2
        await wait_until(pilot, lambda: screen.conversation is not None and thread.message_count, "the first thread")
        opened = screen.conversation
        server.add_message(opened.inbox_id, opened.target, "arrived with no key pressed")
        await wait_until(pilot, lambda: thread.messages()[-1].text == "arrived with no key pressed",
                         "the background refresh bringing the new message")
        # And again: it is a loop, not one refresh.
        server.add_message(opened.inbox_id, opened.target, "and a second one")
        await wait_until(pilot, lambda: thread.messages()[-1].text == "and a second one", "a second refresh")
        assert screen.status.refreshed_at is not None


async def test_no_background_refresh_with_refresh_interval_0(server) -> None:
    async with running(server, refresh_interval=0) as (app, pilot):
        assert app.main.status.refreshed_at is not None  # started and loaded...
        assert not [w for w in app.workers if w.group == "refresh-loop"]  # ...with no loop to refresh


async def test_the_config_user_id_is_who_the_tui_acts_as(server) -> None:
    inbox = server.data.inboxes[0]
    member = inbox["members"][2]  # a member, but not the first (whom the app uses by default)
    other = next(i for i in server.data.inboxes if member not in i["members"])
    async with running(server, config=Config(user_id=member)) as (app, pilot):
        screen, sidebar, conversations, _ = widgets(app)
        listed = {(b["filters"]["inboxes"][0], b["id"]) for b in posted(server, "/v1/conversations")}
        assert (inbox["id"], member) in listed and (inbox["id"], inbox["members"][0]) not in listed
        # An inbox the configured user is not in is acted on as its first member (its badge may
        # come from the count endpoint, which names no member, so ask the screen).
        other_inbox = next(i for i in screen.inboxes if i.id == other["id"])
        assert screen.acting_member(other_inbox) == other["members"][0]
        assert (other["id"], member) not in listed
        first = conversations.items[0]
        await pilot.press("c")
        await settle(pilot)
        assert [b["user_id"] for b in posted(server, "/v1/conversations/close")] == [member]
        assert server.data.conversation_by_id(first.id)["status"] == "closed"


def gated_retries(transport=None) -> dict:
    """A client whose waits between retries (long ones: 8-16 s) last until the test releases them."""
    return dict(retry=RetryPolicy(attempts=3, base_delay=16.0), sleep=GatedSleep(), transport=transport)


async def test_the_status_line_counts_down_retrying_in_n_s(server) -> None:
    clock = MovableClock()
    options = gated_retries()
    gate = options["sleep"]
    async with running(server, clock=clock, **options) as (app, pilot):
        screen = app.main
        server.stop()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: gate.delays, "the first retry's wait")
        delay = gate.delays[0]
        assert 8 <= delay <= 16  # equal jitter: half of the 16 s ceiling, plus up to half again
        assert screen.status.state == "retrying"
        assert f"retrying in {round(delay)} s" in screen.status.describe()
        clock.now += timedelta(seconds=5)
        assert f"retrying in {round(delay - 5)} s" in screen.status.describe()
        gate.release()
        await settle(pilot)
        assert screen.status.state == "offline"
        assert "retrying" not in screen.status.describe()


async def test_actions_know_at_the_first_failed_connect(server) -> None:
    transport = GatedTransport()
    options = gated_retries(transport)
    gate = options["sleep"]
    async with running(server, **options) as (app, pilot):
        screen, sidebar, conversations, _ = widgets(app)
        first = conversations.items[0]
        counts = sidebar.counts(first_inbox(server))
        server.stop()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: gate.delays, "the first failed connect")
        assert len(gate.delays) == 1  # one try has failed; the client has more to go
        await pilot.press("c")
        await pilot.pause()
        # Said at once, and nothing changed on screen or tried on the wire.
        assert any(n.startswith("Closing a conversation needs a connection: hmtui is offline")
                   for n in notifications(app))
        assert not conversations.get_item(first.id).closed
        assert sidebar.counts(first_inbox(server)) == counts
        triage = ("open", "close", "read", "unread", "reassign", "transfer")
        assert not [a for a in transport.attempts
                    if a[0] == "POST" and a[1].rsplit("/", 1)[-1] in triage]
        gate.release()
        await settle(pilot)
        assert screen.status.state == "offline"

"""Issue 12's notifications, terminal title, theme and accounts in the TUI, over loopback."""

from __future__ import annotations

from pathlib import Path

from hmtui.cache import Store
from hmtui.config import load_config
from hmtui.fake import FakeHeymarket, FakeOptions
from hmtui.notify import ESC, TITLE_POP, TITLE_PUSH, Notifier, title_sequence
from hmtui.ui.widgets.conversation_list import ConversationList

from app_harness import running, settle, use_env, wait_until
from conftest import ANCHOR, SEED

HOSTILE = "\x1b]0;pwned\x07 is my order here?\x07"


def recording(app, written: list[str]) -> None:
    """The app's terminal writes go to `written`; notifications use OSC 9 (WezTerm's)."""
    app.terminal_write = written.append  # type: ignore[method-assign]
    app.workspace.alerts.notifier = Notifier("terminal", environ={"TERM_PROGRAM": "WezTerm"},
                                             write=written.append)


def elsewhere_unassigned(server, app) -> dict:
    """An open, unassigned conversation of another inbox than the one on screen."""
    here = app.workspace.inbox.id
    return next(c for c in server.data.conversations
                if c["inbox"] != here and c["assigned"] is None and c["status"] == "open")


async def test_a_new_inbound_notifies_once_the_backlog_never_and_hostile_text_stays_inert(server) -> None:
    written: list[str] = []
    async with running(server, prepare=lambda app: recording(app, written)) as (app, pilot):
        alerts = app.workspace.alerts
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert alerts.delivered == []  # the start-up backlog stays quiet
        conv = elsewhere_unassigned(server, app)
        server.add_message(conv["inbox"], conv["target"], HOSTILE)
        # On screen: an unassigned customer of this inbox (in scope "mine", so only focus quiets it).
        opened = next(c for c in app.workspace.conversations.items if c.assigned is None and not c.closed)
        app.workspace.open(opened)
        await settle(pilot)
        server.add_message(opened.inbox_id, opened.target, "on screen, terminal focused")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert len(alerts.delivered) == 1, alerts.delivered
        sequence = alerts.delivered[0].written
        # One OSC 9, ended by its own BEL: the payload cannot end it early or set the title.
        assert sequence.startswith(f"{ESC}]9;") and sequence.endswith("\x07")
        assert sequence.count(ESC) == 1 and sequence.count("\x07") == 1
        assert f"{ESC}]0;" not in sequence and "is my order here?" in sequence  # literal text only
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert len(alerts.delivered) == 1  # each message once, across refreshes

        app.app_focus = False  # the terminal reported a blur: the conversation on screen notifies too
        await pilot.pause()
        server.add_message(opened.inbox_id, opened.target, "on screen, terminal elsewhere")
        app.workspace.refresh_now()  # not a key: a key gives the focus back (Textual)
        await settle(pilot)
        assert len(alerts.delivered) == 2
        assert "terminal elsewhere" in alerts.delivered[1].written


async def test_notifications_follow_the_scope_and_the_owner_choice(server) -> None:
    written: list[str] = []
    async with running(server, prepare=lambda app: recording(app, written)) as (app, pilot):
        ws, alerts = app.workspace, app.workspace.alerts
        here = ws.inbox
        me = ws.acting_member(here)
        other = next(c for c in server.data.conversations
                     if c["inbox"] == here.id and c["assigned"] not in (None, me) and c["status"] == "open"
                     and c["id"] != ws.current.id)
        server.add_message(here.id, other["target"], "for a colleague")  # scope "mine": quiet
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert alerts.delivered == []
        mine_or_not = next(c for c in server.data.conversations
                           if c["inbox"] == here.id and c["assigned"] is None and c["id"] != ws.current.id
                           and c["status"] == "open")
        await pilot.press("m")  # Mine: an unassigned customer of this inbox no longer notifies
        await settle(pilot)
        server.add_message(here.id, mine_or_not["target"], "unassigned, filtered out")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert alerts.delivered == []


async def test_the_title_counts_unread_is_written_on_change_and_restored(server) -> None:
    written: list[str] = []
    async with running(server, prepare=lambda app: recording(app, written)) as (app, pilot):
        ws = app.workspace
        unread = sum(ws.refresher.counts(i.id).unread or 0 for i in ws.inboxes)
        assert unread > 0
        titles = [w for w in written if w.startswith(f"{ESC}]2;")]
        assert written[0] == TITLE_PUSH
        assert titles[-1] == title_sequence(f"hmtui · {unread} unread")
        assert len(titles) == len(set(titles))  # written only when it changes
        before = len(written)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert [w for w in written[before:] if w.startswith(f"{ESC}]2;")] == []  # nothing changed
    assert written[-1] == TITLE_POP


async def test_the_palettes_theme_is_remembered_and_the_configs_wins(server, tmp_path: Path) -> None:
    def store() -> Store:
        return Store.open(server.url, server.secret_id, directory=tmp_path)

    async with running(server, store=store()) as (app, pilot):
        assert app.theme != "nord"
        app.theme = "nord"  # what the palette's theme switch does
        await settle(pilot)
    async with running(server, store=store()) as (app, pilot):
        assert app.theme == "nord"
    from hmtui.config import Config

    async with running(server, store=store(), config=Config(theme="gruvbox")) as (app, pilot):
        app.theme = app.config.theme  # as the CLI does after building the app
        await settle(pilot)
        assert app.theme == "gruvbox"


async def test_two_accounts_on_two_fake_servers_never_mix_in_the_tui(tmp_path: Path, monkeypatch) -> None:
    use_env(monkeypatch, {})
    with FakeHeymarket(seed=SEED, anchor=ANCHOR, options=FakeOptions(rate_limit=0)) as one, \
            FakeHeymarket(seed=SEED + 1, anchor=ANCHOR, options=FakeOptions(rate_limit=0)) as two:
        path = tmp_path / "config.toml"
        path.write_text('default_account = "one"\n' + "".join(
            f'[accounts.{name}]\nbase_url = "{s.url}"\nsecret_id = "{s.secret_id}"\nsecret_key = "{s.secret_key}"\n'
            for name, s in (("one", one), ("two", two))))
        path.chmod(0o600)
        config = load_config({}, path)
        assert config.account == "one"
        store_one = Store.open(one.url, one.secret_id, account="one", directory=tmp_path)
        monkeypatch.setattr("platformdirs.user_cache_path", lambda *a, **k: tmp_path / "cache")
        async with running(one, config=config, store=store_one) as (app, pilot):
            status = app.main.status.describe()
            assert status.startswith("one · ")
            names_one = {c.display_name for c in app.main.query_one(ConversationList).items}
            assert app.other_accounts() == ["two"]
            from hmtui.ui.commands import HmtuiCommands

            titles = [title for title, _, _ in HmtuiCommands(app.screen)._commands()]
            assert "Switch account: two" in titles and "Switch account: one" not in titles
            assert await app.switch_account("two")
            await settle(pilot)
            await wait_until(pilot, lambda: app.main.query_one(ConversationList).items, "two's list")
            await settle(pilot)
            assert app.config.account == "two"
            assert app.main.status.describe().startswith("two · ")
            shown = [c for c in app.main.query_one(ConversationList).items]
            truth_two = {c["id"] for c in two.data.conversations}
            assert shown and all(c.id in truth_two for c in shown)
            names_two = {c.display_name for c in shown}
            assert names_two != names_one
            assert app.store.path is not None and app.store.path.name.startswith("two.")
            assert one.requests and two.requests
            one_before = len(one.requests)
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert len(one.requests) == one_before  # the old account's client is gone

"""The local cache in the app and the CLI: cache-first start, offline reading, search."""

from __future__ import annotations

import asyncio

import json
import os

from hmtui.cache import Store
from hmtui.fake import LONG_THREAD_INBOX, LONG_THREAD_TARGET
from hmtui.ui.screens.main import CACHE_PAGE

from app_harness import GatedTransport, files_under, run_tui_like_the_cli, running, settle, use_env, wait_until
from conftest import env_for, run_cli
from test_app import open_long_thread, widgets


def store_for(server, tmp_path) -> Store:
    return Store.open(server.url, server.secret_id, directory=tmp_path / "cache")


async def read_long_thread(server, tmp_path, pages: int = 3) -> list:
    """A first session: open the long thread and read back a few pages; returns the ids shown."""
    async with running(server, store=store_for(server, tmp_path)) as (app, pilot):
        screen, thread = await open_long_thread(pilot, app)
        for _ in range(pages):
            await pilot.press("g")
            await settle(pilot)
        return [m.id for m in thread.messages()]


def watch_frames(app, transport: GatedTransport) -> tuple[list[tuple[int, int, int]], list[int]]:
    """What each painted frame showed (thread messages, inboxes, conversations), and how many
    frames had been painted when each request was attempted."""
    frames: list[tuple[int, int, int]] = []
    requests: list[int] = []
    display = app._display

    def counting_display(screen, renderable) -> None:
        if renderable is not None and app.screen_stack and app.screen is app.main:
            main = app.main
            frames.append((main.thread.message_count, len(main.sidebar.items), len(main.conversations.items)))
        display(screen, renderable)

    app._display = counting_display
    transport.on_request = lambda request: requests.append(len(frames))
    return frames, requests


async def test_a_thread_read_once_opens_offline_in_the_first_frame_marked_offline(server, tmp_path) -> None:
    """Opening offline is fast because it waits for nothing: the first frame already holds the
    cached inboxes, list and thread, and no request is tried before it is painted. (Counted,
    not timed: frames and requests, not seconds.)"""
    shown = await read_long_thread(server, tmp_path)
    server.stop()
    transport = GatedTransport()
    watched: dict[str, tuple] = {}
    async with running(server, store=store_for(server, tmp_path), start_inbox=LONG_THREAD_INBOX,
                       start_phone=LONG_THREAD_TARGET, transport=transport,
                       prepare=lambda app: watched.setdefault("log", watch_frames(app, transport))) as (app, pilot):
        frames, requests = watched["log"]
        screen, sidebar, conversations, thread = widgets(app)
        first_page = min(CACHE_PAGE, len(shown))
        assert frames and frames[0] == (first_page, len(server.data.inboxes), len(conversations.items))
        assert requests and requests[0] >= 1  # the network was tried, but only after that frame
        assert screen.status.state == "offline"
        assert "offline" in screen.status.describe()
        assert [i.name for i in sidebar.items] == [i["name"] for i in server.data.inboxes]
        assert conversations.items
        # The newest cached page is on screen; scrolling back reads the rest from the cache.
        assert [m.id for m in thread.messages()] == shown[-len(thread.messages()):]
        for _ in range(10):
            await pilot.press("g")
            await settle(pilot)
        assert [m.id for m in thread.messages()] == shown
        # Triage needs a connection.
        conversations.focus()
        await pilot.press("c")
        await settle(pilot)
        assert any("needs a connection" in n.message for n in app.notified)


async def test_a_restart_fetches_only_what_is_newer(server, tmp_path) -> None:
    shown = await read_long_thread(server, tmp_path, pages=2)
    server.add_message(LONG_THREAD_INBOX, LONG_THREAD_TARGET, "arrived while hmtui was closed")
    server.reset_counts()
    async with running(server, store=store_for(server, tmp_path), start_inbox=LONG_THREAD_INBOX,
                       start_phone=LONG_THREAD_TARGET) as (app, pilot):
        _, _, _, thread = widgets(app)
        assert server.counts["GET /v1/messages"] == 1  # the newest page, which meets the cache
        assert thread.messages()[-1].text == "arrived while hmtui was closed"
        # Reading back goes through the cache before it asks the server for anything.
        for _ in range(4):
            await pilot.press("g")
            await settle(pilot)
        ids = [m.id for m in thread.messages()]
        assert ids[-len(shown) - 1:-1] == shown
        assert server.counts["GET /v1/messages"] >= 2  # past the cache, the server again
        expected = [m["id"] for m in server.data.messages_for(LONG_THREAD_INBOX, LONG_THREAD_TARGET)]
        assert ids == expected[-len(ids):] and len(ids) == len(set(ids))


async def test_the_app_recovers_by_itself_when_the_server_comes_back(server, tmp_path) -> None:
    await read_long_thread(server, tmp_path, pages=0)
    # The background refresh on (every 0.1 s), and no key pressed: the loop does the recovering.
    # Its backoff doubles each failed try; waited in full, the try after the server is back could
    # be a minute away on a slow machine. Each wait is cut to 0.1 s; the delays asked are kept.
    asked: list[float] = []

    async def short_sleep(delay: float) -> None:
        asked.append(delay)
        await asyncio.sleep(min(delay, 0.1))

    def prepare(app) -> None:
        app.workspace.sleep = short_sleep

    async with running(server, store=store_for(server, tmp_path), refresh_interval=0.1,
                       settle_first=False, prepare=prepare) as (app, pilot):
        screen, *_ = widgets(app)
        await wait_until(pilot, lambda: screen.status.state == "ok" and screen.status.refreshed_at, "online")
        server.stop()
        await wait_until(pilot, lambda: screen.status.state == "offline", "the refresh finding the server gone")
        assert app.connection_lost
        server.start()  # same port
        await wait_until(pilot, lambda: screen.status.state == "ok", "the refresh finding the server back")
        assert app.connection_lost is None
        assert server.counts["GET /v1/inboxes"] >= 1
        assert max(asked) > 0.1  # it did back off while the server was gone


def test_cli_search_finds_a_thread_read_once_and_cache_info_and_clear(server, isolated_env, tmp_path) -> None:
    env = env_for(server, isolated_env)
    result = run_cli("history", "--inbox", str(LONG_THREAD_INBOX), "--phone", LONG_THREAD_TARGET, "--json", env=env)
    assert result.returncode == 0, result.stderr
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    word = next(w for m in reversed(messages) for w in (m.get("text") or "").split() if w.isalpha() and len(w) > 6)
    server.stop()  # search is local: no server needed
    found = run_cli("search", word, "--json", env=env)
    assert found.returncode == 0, found.stderr
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert hits and all(word.lower() in (h.get("text") or "").lower() for h in hits)
    table = run_cli("search", word, env=env)
    assert table.returncode == 0 and word.lower() in table.stdout.lower()
    info = run_cli("cache", "info", env={**env, "COLUMNS": "250"})  # wide enough for whole names
    assert info.returncode == 0
    assert f"{len(messages):,}" in info.stdout
    lines = info.stdout.splitlines()
    folder = next(line.split(None, 2)[2] for line in lines if line.startswith("cache directory"))
    mine = next(line.split()[1] for line in lines if line.split()[:1] == ["*"])
    path = os.path.join(folder, mine)
    assert os.stat(path).st_mode & 0o777 == 0o600
    cleared = run_cli("cache", "clear", env=env)
    assert cleared.returncode == 0 and not os.path.exists(path)


def test_no_cache_writes_nothing(server, isolated_env, tmp_path) -> None:
    env = env_for(server, isolated_env)
    result = run_cli("--no-cache", "history", "--inbox", str(LONG_THREAD_INBOX), "--phone", LONG_THREAD_TARGET,
                     "--json", env=env)
    assert result.returncode == 0
    (tmp_path / "config.toml").write_text("cache = false\n")
    os.chmod(tmp_path / "config.toml", 0o600)
    result = run_cli("inboxes", env=env)
    assert result.returncode == 0
    cache_root = tmp_path / "cache"
    assert not cache_root.exists() or not any(p.is_file() for p in cache_root.rglob("*"))
    assert "turned off" in run_cli("search", "hello", env=env).stderr


def test_no_cache_app_writes_nothing(server, isolated_env, tmp_path, monkeypatch) -> None:
    """`hmtui --no-cache`, built by the CLI: it reads a thread back and leaves no file in the
    cache dir. Without the flag, the same session does write there (so the dir is the right one)."""
    use_env(monkeypatch, env_for(server, isolated_env))
    cache_dir = tmp_path / "cache"

    async def read_back(app, pilot) -> int:
        await open_long_thread(pilot, app)
        await pilot.press("g")
        await settle(pilot)
        return app.main.thread.message_count, app.store.enabled, app.writer is not None

    code, app, (read, caching, writing) = run_tui_like_the_cli(["--no-cache"], monkeypatch, read_back)
    assert code == 0 and read > 50  # it did read, and page back
    assert not caching and not writing
    assert files_under(cache_dir) == []
    code, app, (read, caching, writing) = run_tui_like_the_cli([], monkeypatch, read_back)
    assert code == 0 and read > 50 and caching and writing
    assert [p for p in files_under(cache_dir) if p.name.endswith(".sqlite3") or ".sqlite" in p.name or p.suffix == ".db"]


def word_in(text: str | None) -> str | None:
    return next((w for w in (text or "").split() if w.isalpha() and len(w) > 6), None)


async def test_find_in_the_thread_steps_through_matches_even_beyond_what_is_shown(server, tmp_path) -> None:
    shown = await read_long_thread(server, tmp_path, pages=4)
    async with running(server, store=store_for(server, tmp_path), start_inbox=LONG_THREAD_INBOX,
                       start_phone=LONG_THREAD_TARGET) as (app, pilot):
        screen, _, _, thread = widgets(app)
        loaded = {m.id for m in thread.messages()}
        cached = server.data.messages_for(LONG_THREAD_INBOX, LONG_THREAD_TARGET)[-len(shown):]
        # A word whose oldest cached match is older than anything on screen.
        word = next(w for m in cached if m["id"] not in loaded and (w := word_in(m.get("text"))))
        await pilot.press("slash", *list(word), "enter")
        await settle(pilot)
        assert thread.highlight == word
        matches = [m["id"] for m in cached if word.lower() in (m.get("text") or "").lower()]
        assert thread.selected_message.id == matches[-1]  # enter goes to the newest match
        for expected in reversed(matches[:-1]):
            await pilot.press("N")
            await settle(pilot)
            assert thread.selected_message.id == expected
        assert matches[0] not in loaded and thread.has_message(matches[0])  # read in from the cache
        await pilot.press("escape")
        assert thread.highlight is None


async def test_ctrl_f_searches_everything_cached_and_opens_the_thread_at_the_message(server, tmp_path) -> None:
    await read_long_thread(server, tmp_path, pages=1)
    from hmtui.ui.screens.search import SearchScreen

    async with running(server, store=store_for(server, tmp_path)) as (app, pilot):
        screen, sidebar, conversations, thread = widgets(app)
        app.writer.flush()
        target = next(m for m in server.data.messages_for(LONG_THREAD_INBOX, LONG_THREAD_TARGET)[-90:] if word_in(m.get("text")))
        word = word_in(target.get("text"))
        sidebar.focus()
        await pilot.press("j")  # another inbox, another thread on screen
        await settle(pilot)
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        app.screen.delay = 0
        await pilot.press(*list(word))
        await settle(pilot)
        results = [r.payload.message.id for r in app.screen.query_one("SearchResults").items]
        assert target["id"] in results
        while app.screen.query_one("SearchResults").highlighted is None or \
                app.screen.query_one("SearchResults").highlighted.payload.message.id != target["id"]:
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.inbox.id == LONG_THREAD_INBOX
        assert screen.conversation.target == LONG_THREAD_TARGET
        assert thread.selected_message.id == target["id"]
        assert thread.highlight == word


async def test_a_corrupt_cache_is_set_aside_with_one_warning_and_the_app_works(server, tmp_path) -> None:
    from hmtui.cache import store_path

    path = store_path(server.url, server.secret_id, directory=tmp_path / "cache")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    async with running(server, store=store_for(server, tmp_path)) as (app, pilot):
        screen, sidebar, conversations, thread = widgets(app)
        warnings = [n for n in app.notified if n.severity == "warning"]
        assert len(warnings) == 1 and "corrupt" in warnings[0].message.lower()
        assert len(sidebar.items) == len(server.data.inboxes) and conversations.items
    assert list(path.parent.glob("*.corrupt-*"))


async def test_offline_a_conversation_never_opened_says_so(server, tmp_path) -> None:
    await read_long_thread(server, tmp_path, pages=0)
    server.stop()
    async with running(server, store=store_for(server, tmp_path)) as (app, pilot):
        screen, _, conversations, thread = widgets(app)
        never_opened = next(n for n, c in enumerate(conversations.items) if c.target != LONG_THREAD_TARGET)
        conversations.move_cursor(never_opened)
        await pilot.press("enter")
        await settle(pilot)
        assert "not cached, and hmtui is offline" in "\n".join(
            thread.render_line(y).text for y in range(thread.size.height))
        await pilot.press("escape", "c")
        await settle(pilot)
        assert any("needs a connection" in n.message for n in app.notified)
        assert not [r for r in server.requests if r.method == "POST" and "close" in r.path]

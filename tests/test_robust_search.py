"""Issue 15, item 15: a search query is bounded (terms, wildcards) and runs off the event loop."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Input

from hmtui.api.models import Message, format_datetime
from hmtui.cache import Store
from hmtui.cache.search import MAX_TERMS, PREFIX_MIN_CHARS, fts_query, parse_query
from hmtui.ui.screens.search import SearchResult, SearchScreen

from conftest import run_cli

UTC = timezone.utc
WHEN = datetime(2026, 11, 20, 14, 3, tzinfo=UTC)
PASTE = " ".join(f"w{i:03d}*" for i in range(300))  # the paste that froze the app for 6 s


# -- the bounds, in the query parser ---------------------------------------------------------------


def test_a_long_query_keeps_its_first_terms_and_says_how_many_it_dropped() -> None:
    parsed = parse_query(PASTE)
    assert len(parsed.include) == MAX_TERMS == 16
    assert [t.text for t in parsed.include][:2] == ["w000", "w001"]
    assert parsed.dropped == 300 - MAX_TERMS
    assert parsed.notice() == f"searched the first 16 terms ({300 - MAX_TERMS} more ignored)"


def test_exclusions_count_towards_the_bound() -> None:
    parsed = parse_query(" ".join(f"t{i}" for i in range(10)) + " " + " ".join(f"-x{i}" for i in range(10)))
    assert len(parsed.include) + len(parsed.exclude) == MAX_TERMS
    assert parsed.dropped == 4


def test_a_one_character_wildcard_is_a_whole_word() -> None:
    parsed = parse_query("a* invoice* b")
    assert PREFIX_MIN_CHARS == 2
    assert [(t.text, t.prefix) for t in parsed.include] == [("a", False), ("invoice", True), ("b", False)]
    assert fts_query(parsed) == '"a" AND "invoice" * AND "b"'
    assert "a*" in parsed.notice() and "whole words" in parsed.notice()


def test_a_huge_paste_is_read_only_up_to_its_cap() -> None:
    parsed = parse_query("hello " + "x" * 1_000_000)
    assert [t.text for t in parsed.include][0] == "hello"
    assert sum(len(t.text) for t in parsed.include) < 1_100
    assert parse_query("short query").notice() == ""


# -- the bounds, in the SQL the cache actually runs -------------------------------------------------


@pytest.fixture
def store(tmp_path: Path):
    store = Store.open("http://127.0.0.1:1", "secret-id", directory=tmp_path / "cache")
    messages = [Message.from_raw({"id": i, "date": format_datetime(WHEN), "text": f"w{i:03d}xyz hello"})
                for i in range(1, 40)]
    store.put_messages(501, "14155550100", [m for m in messages if m is not None])
    yield store
    store.close()


def _matches_run(store: Store, query: str) -> list[str]:
    """The MATCH expressions of the SQL statements the search ran (bound values expanded)."""
    statements: list[str] = []
    conn = store._rconn
    assert conn is not None
    conn.set_trace_callback(statements.append)
    try:
        store.search(query)
    finally:
        conn.set_trace_callback(None)
    found = [m.group(1) for s in statements for m in re.finditer(r"MATCH\s+'((?:[^']|'')*)'", s)]
    assert found, statements
    return found


def test_the_sql_run_for_a_300_term_paste_has_at_most_16_terms(store: Store) -> None:
    for expression in _matches_run(store, PASTE):
        assert expression.count(" AND ") + 1 <= MAX_TERMS
        assert expression.count('" *') <= MAX_TERMS  # prefix wildcards
        assert '"w016"' not in expression  # the 17th term and beyond are not searched for


def test_the_sql_run_for_one_character_wildcards_has_none(store: Store) -> None:
    for expression in _matches_run(store, "a* b* hello"):
        assert '" *' not in expression


def test_cli_search_says_what_it_left_out(tmp_path: Path, isolated_env) -> None:
    env = {**isolated_env, "HEYMARKET_BASE_URL": "http://127.0.0.1:9", "HEYMARKET_SECRET_ID": "id-123",
           "HEYMARKET_SECRET_KEY": "key-0123456789abcdef"}
    result = run_cli("search", PASTE, env=env)
    assert result.returncode == 0, result
    assert "hmtui: note: searched the first 16 terms (284 more ignored)" in result.stderr


# -- the search runs off the event loop ------------------------------------------------------------


class BlockingSearch:
    """A search that blocks (like a slow query) until released; records what it was asked."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.running = threading.Event()
        self.queries: list[str] = []
        self.finished: list[str] = []

    def __call__(self, query: str) -> Sequence[SearchResult]:
        self.queries.append(query)
        self.running.set()
        if query == "x":  # the slow one
            self.release.wait(5)  # bounded: before the fix this blocked the event loop itself
        self.finished.append(query)
        return [SearchResult(key=(query, n), inbox_name="Sales", contact=f"{query} {n}", when=WHEN,
                             snippet=f"hit {n} for {query}", payload=(query, n)) for n in range(2)]


class SearchApp(App[None]):
    def __init__(self, search: BlockingSearch) -> None:
        super().__init__()
        self.search = search
        self.dismissed: object = None

    def on_mount(self) -> None:
        screen = SearchScreen(self.search, tz=UTC)
        screen.delay = 0
        self.push_screen(screen, lambda value: setattr(self, "dismissed", value))


async def _until(pilot, condition, rounds: int = 200) -> bool:
    for _ in range(rounds):
        if condition():
            return True
        await pilot.pause(0.01)
    return condition()


async def test_keys_are_handled_while_a_slow_query_runs_and_its_stale_results_are_dropped() -> None:
    search = BlockingSearch()
    app = SearchApp(search)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            screen = app.screen
            assert isinstance(screen, SearchScreen)
            await pilot.press("x")
            assert await _until(pilot, search.running.is_set)
            # The slow query is running: the app still takes keys, and says it is searching.
            await pilot.press("y")
            field = screen.query_one("#search-input", Input)
            assert field.value == "xy"
            assert "x" not in search.finished  # still blocked
            assert await _until(pilot, lambda: "xy" in search.finished)
            search.release.set()
            await app.workers.wait_for_complete()
            assert await _until(pilot, lambda: "x" in search.finished)
            await pilot.pause()
            # Only the newest query's results are shown; the slow one's came too late.
            keys = [item.key for item in screen.results.items]
            assert keys == [("xy", 0), ("xy", 1)]
            assert "2 results" in str(screen.query_one("#search-count").render())
    finally:
        search.release.set()


async def test_enter_while_searching_opens_the_first_hit_when_it_arrives() -> None:
    search = BlockingSearch()
    app = SearchApp(search)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("x")
            assert await _until(pilot, search.running.is_set)
            await pilot.press("enter", "enter")  # the second finds the screen done, and is harmless
            assert app.dismissed is None  # nothing to open yet
            search.release.set()
            assert await _until(pilot, lambda: app.dismissed is not None)
            assert isinstance(app.dismissed, SearchResult) and app.dismissed.key == ("x", 0)
            assert app.is_running
    finally:
        search.release.set()


async def test_the_screen_says_what_the_query_left_out() -> None:
    search = BlockingSearch()
    search.release.set()
    app = SearchApp(search)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        screen.query_one("#search-input", Input).value = " ".join(f"t{i}" for i in range(20))
        assert await _until(pilot, lambda: "ignored" in str(screen.query_one("#search-count").render()))
        count = str(screen.query_one("#search-count").render())
        assert "2 results" in count and "first 16 terms (4 more ignored)" in count

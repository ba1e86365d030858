"""Search UI: ThreadView highlighting / matching_ids, and the SearchScreen modal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from rich.segment import Segment
from textual.app import App, ComposeResult

from hmtui.api.models import Message, format_datetime
from hmtui.ui.screens.search import SearchResult, SearchResults, SearchScreen
from hmtui.ui.widgets.thread_view import ThreadView

from app_harness import settle

UTC = timezone.utc
BASE = datetime(2026, 11, 20, 14, 3, tzinfo=UTC)
MISSING = object()


def msg(i: int, text: str) -> Message:
    message = Message.from_raw({"id": i, "date": format_datetime(BASE), "text": text})
    assert message is not None
    return message


MESSAGES = [
    msg(1, "Hello there, the Invoice is attached"),
    msg(2, "nothing to see"),
    msg(3, "invoice PAID, thanks for the invoice"),
    msg(4, "paid in full"),
]


class ThreadApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ThreadView(tz=UTC)

    def on_mount(self) -> None:
        self.query_one(ThreadView).set_thread(MESSAGES, contact="Jane")


def find_line(view: ThreadView, needle: str) -> list[Segment]:
    for y in range(view.size.height):
        segments = list(view.render_line(y))
        if needle in "".join(s.text for s in segments):
            return segments
    raise AssertionError(f"{needle!r} not on screen")


def matched(view: ThreadView, segments: list[Segment]) -> list[str]:
    """The texts drawn with the match background."""
    match_bg = view.get_component_rich_style("thread-view--match").bgcolor
    assert match_bg is not None
    return [s.text for s in segments if s.style is not None and s.style.bgcolor == match_bg]


async def test_set_highlight_styles_exactly_the_matched_cells() -> None:
    app = ThreadApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ThreadView)
        await settle(pilot)
        line = "invoice PAID, thanks for the invoice"
        assert matched(view, find_line(view, line)) == []
        view.set_highlight("INVOICE paid")
        assert view.highlight == "INVOICE paid"
        segments = find_line(view, line)
        assert matched(view, segments) == ["invoice", "PAID", "invoice"]
        # The matched cells sit exactly where the words are.
        text = "".join(s.text for s in segments)
        offset = text.index(line)
        position = 0
        for segment in segments:
            in_match = segment.text in matched(view, [segment])
            if in_match:
                start = position - offset
                assert line[start : start + len(segment.text)].casefold() == segment.text.casefold()
            position += len(segment.text)
        assert matched(view, find_line(view, "Hello there")) == ["Invoice"]
        assert matched(view, find_line(view, "nothing to see")) == []
        view.set_highlight(None)
        assert view.highlight is None
        assert matched(view, find_line(view, line)) == []
        view.set_highlight("paid")
        assert matched(view, find_line(view, "paid in full")) == ["paid"]
        view.set_highlight("")
        assert matched(view, find_line(view, "paid in full")) == []


async def test_matching_ids_every_term_case_insensitive() -> None:
    app = ThreadApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ThreadView)
        await settle(pilot)
        assert view.matching_ids("INVOICE") == [1, 3]
        assert view.matching_ids("invoice paid") == [3]
        assert view.matching_ids("Paid") == [3, 4]
        assert view.matching_ids("paid nowhere") == []
        assert view.matching_ids("  ") == []


def result(i: int, snippet: str = "", **fields: Any) -> SearchResult:
    values: dict[str, Any] = {
        "key": i,
        "inbox_name": "Sales",
        "contact": f"Contact {i}",
        "when": BASE,
        "snippet": snippet or f"snippet {i}",
        "payload": ("payload", i),
    }
    values.update(fields)
    return SearchResult(**values)


class SearchApp(App[None]):
    def __init__(self, results: Sequence[SearchResult]) -> None:
        super().__init__()
        self.results = list(results)
        self.queries: list[str] = []
        self.dismissed: object = MISSING

    def search(self, query: str) -> Sequence[SearchResult]:
        self.queries.append(query)
        return self.results

    def on_mount(self) -> None:
        screen = SearchScreen(self.search, tz=UTC)
        screen.delay = 0
        self.push_screen(screen, self.done)

    def done(self, value: SearchResult | None) -> None:
        self.dismissed = value


def screen_text(screen: SearchScreen) -> list[str]:
    view = screen.query_one(SearchResults)
    return ["".join(s.text for s in view.render_line(y)) for y in range(view.size.height)]


async def test_typing_searches_and_shows_rows() -> None:
    app = SearchApp([result(1), result(2)])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        assert "type to search" in str(screen.query_one("#search-count").render())
        await pilot.press("h", "i")
        await settle(pilot)
        assert app.queries[-1] == "hi"
        lines = screen_text(screen)
        assert "Sales · Contact 1" in lines[0] and "20 Nov 2026 14:03" in lines[0]
        assert "snippet 1" in lines[1]
        assert "Sales · Contact 2" in lines[2]
        assert "2 results" in str(screen.query_one("#search-count").render())


async def test_enter_on_result_returns_it() -> None:
    app = SearchApp([result(1), result(2), result(3)])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.dismissed, SearchResult)
        assert app.dismissed.key == 2
        assert app.dismissed.payload == ("payload", 2)


async def test_enter_in_input_returns_first() -> None:
    app = SearchApp([result(1), result(2)])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("x", "enter")
        await settle(pilot)
        assert isinstance(app.dismissed, SearchResult)
        assert app.dismissed.key == 1


async def test_escape_returns_none() -> None:
    app = SearchApp([result(1)])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.dismissed is None
        assert not isinstance(app.screen, SearchScreen)


async def test_hostile_strings_shown_literally() -> None:
    hostile = "[@click=app.quit]x[/] \x1b[31mred"
    app = SearchApp([result(1, snippet=hostile, contact="[b]Bob[/b]\x07", inbox_name="\x1b]0;pwn\x07Inbox")])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("x")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        lines = screen_text(screen)
        assert "[@click=app.quit]x[/] ␛[31mred" in lines[1]
        assert "[b]Bob[/b]␇" in lines[0] and "␛]0;pwn␇Inbox" in lines[0]
        for line in lines:
            assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in line)
        view = screen.query_one(SearchResults)
        for y in range(2):
            for segment in view.render_line(y):
                assert segment.style is None or not segment.style.meta
        assert app.is_running


async def test_debounced_search_and_tab_into_results() -> None:
    app = SearchApp([result(1), result(2)])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        # Long enough that "b" always follows "a" within it, however slow the machine.
        screen.delay = 2.0
        await pilot.press("a", "b")
        assert app.queries == []  # not yet: debounced
        await settle(pilot)  # waits for the pending debounce to fire and its search to finish
        assert app.queries == ["ab"]  # one search, for what was typed once typing paused
        await pilot.press("tab")
        assert app.focused is screen.query_one(SearchResults)
        await pilot.press("up")  # from the first row back to the query
        assert app.focused is screen.query_one("#search-input")
        await pilot.press("ctrl+n", "down", "enter")
        await settle(pilot)
        assert isinstance(app.dismissed, SearchResult) and app.dismissed.key == 2

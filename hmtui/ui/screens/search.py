"""A modal to search every cached message (ctrl+f in the app).

The app passes a `search(query)` function returning `SearchResult`s built from its cache's hits;
the screen dismisses with the chosen result (its `payload` untouched) or None. Every string shown
may come from the server: it goes through `one_line` and into `Segment`s, never markup.

`search` runs on a thread, never on the event loop (a slow query must not freeze the app): one
at a time, and a newer query makes an older one's results be dropped unseen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import Input, Static

from hmtui.cache.search import parse_query
from hmtui.cells import cell_len
from hmtui.safe_text import one_line
from hmtui.ui.screens.modal import HmtuiModal
from hmtui.ui.widgets.virtual_list import VirtualList, fit_cells, parts_strip

OPEN_BINDING = Binding("ctrl+f", "search", "Search", id="search.open")
"""The app's binding that opens the screen (the app implements `action_search`)."""

DEFAULT_DELAY = 0.15


@dataclass(frozen=True)
class SearchResult:
    """One hit, as shown and returned."""

    key: Hashable  # unique per row
    inbox_name: str
    contact: str  # contact name or number
    when: datetime | None
    snippet: str  # one line around the match
    payload: object  # returned to the app untouched


def format_when(when: datetime | None, tz: tzinfo) -> str:
    """E.g. "20 Nov 2026 14:03" in `tz` ("" when unknown)."""
    if not isinstance(when, datetime):
        return ""
    try:
        local = when.astimezone(tz)
    except (ValueError, OverflowError, OSError):
        return ""
    return f"{local.day} {local:%b %Y %H:%M}"


def count_text(query: str, count: int) -> str:
    if not query.strip():
        return "type to search"
    if count == 0:
        return "no results"
    return "1 result" if count == 1 else f"{count} results"


class SearchResults(VirtualList[SearchResult]):
    """The hits: line 1 "inbox · contact" and the time, line 2 the snippet (dim)."""

    ROW_HEIGHT = 2
    BINDING_PREFIX = "search.results"

    def __init__(self, *, tz: tzinfo, id: str | None = None) -> None:
        super().__init__(empty_text="", id=id)
        self._tz = tz

    def item_key(self, item: SearchResult) -> Hashable:
        return item.key

    def render_row(self, item: SearchResult, width: int, selected: bool, focused: bool) -> list[Strip]:
        base = self.row_style(selected)
        when = format_when(item.when, self._tz)
        inbox = one_line(item.inbox_name, 80)
        contact = one_line(item.contact, 80)
        title = " · ".join(part for part in (inbox, contact) if part) or "(unknown)"
        right = f" {when} " if when else " "
        room = max(width - 1 - cell_len(right), 0)
        title = fit_cells(title, room)
        gap = max(width - 1 - cell_len(title) - cell_len(right), 0)
        line1 = parts_strip(
            [(" ", None), (title, Style(bold=True)), (" " * gap, None), (right, self.component_color("virtual-list--dim"))],
            width,
            base,
        )
        snippet = fit_cells(one_line(item.snippet), max(width - 3, 0))
        line2 = parts_strip([("   ", None), (snippet, self.component_color("virtual-list--dim"))], width, base)
        return [line1, line2]

    def action_cursor_up(self) -> None:
        # Up from the first row goes back to the query.
        if not self.cursor:
            self.screen.query_one("#search-input", Input).focus()
            return
        super().action_cursor_up()


class SearchScreen(HmtuiModal[SearchResult | None]):
    """Type to search; Enter opens the highlighted hit (in the input: the first); Escape closes."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="search.close"),
        Binding("down,ctrl+n,tab", "to_results", "Results", id="search.results", show=False),
        Binding("ctrl+p", "to_input", "Query", id="search.query", show=False),
    ]

    DEFAULT_CSS = """
    SearchScreen { align: center middle; }
    SearchScreen > #search-box {
        width: 100; max-width: 95%; height: 80%;
        border: round $accent; background: $surface;
    }
    SearchScreen #search-input { margin: 0 0 0 0; }
    SearchScreen #search-count { height: 1; padding: 0 1; color: $text-muted; }
    SearchScreen #search-results { height: 1fr; }
    """

    def __init__(
        self,
        search: Callable[[str], Sequence[SearchResult]],
        *,
        tz: tzinfo,
        initial: str = "",
    ) -> None:
        super().__init__()
        self._search = search
        self._tz = tz
        self._initial = initial
        self.delay: float = DEFAULT_DELAY
        self._timer: Timer | None = None
        self._pending: str | None = None  # a query typed but not searched yet
        self._query: str | None = None  # the query searched last (its results may be on their way)
        self._shown: str | None = None  # the query the results on screen are for
        self._then: str | None = None  # "open" / "focus": what Enter / Down asked for, once results arrive
        self._finished = False

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box") as box:
            box.border_title = "Search"
            yield Input(value=self._initial, placeholder="search every cached message", id="search-input")
            yield Static(Text(count_text("", 0)), id="search-count")
            yield SearchResults(tz=self._tz, id="search-results")

    def on_mount(self) -> None:
        self.query_one("#search-input", Input).focus()
        if self._initial.strip():
            self.run_search(self._initial)

    @property
    def results(self) -> SearchResults:
        return self.query_one("#search-results", SearchResults)

    # ------------------------------------------------------------------ searching

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        query = event.value
        if query == self._query and self._pending is None:
            return
        self._pending = query
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.delay <= 0:
            self.call_later(self._run_pending)
        else:
            self._timer = self.set_timer(self.delay, self._run_pending)

    def _run_pending(self) -> None:
        self._timer = None
        query, self._pending = self._pending, None
        if query is not None:
            self.run_search(query)

    def run_search(self, query: str) -> None:
        """Search (on a thread) and show the hits when they come, the cursor on the first."""
        self._query = query
        if not query.strip():
            self.workers.cancel_group(self, "search")
            self._show(query, [], failed=False)
            return
        self.query_one("#search-count", Static).update(Text("searching…"))
        self._search_worker(query)

    @property
    def searching(self) -> bool:
        """A query's results are still on their way."""
        return self._query is not None and self._query != self._shown

    @work(exclusive=True, group="search", exit_on_error=False)
    async def _search_worker(self, query: str) -> None:
        # exclusive: a newer query cancels this worker, and the results it was waiting for are
        # dropped. The thread finishes its (bounded) query on its own.
        try:
            results = list(await asyncio.to_thread(self._search, query))
        except Exception:  # a broken cache must not take the app down
            self._show(query, [], failed=True)
            return
        self._show(query, results, failed=False)

    def _show(self, query: str, results: Sequence[SearchResult], *, failed: bool) -> None:
        if query != self._query or not self.is_attached:
            return  # a stale answer
        self._shown = query
        view = self.results
        view.set_items(results)
        if results:
            view.move_cursor(0)
        count = "search failed" if failed else count_text(query, len(view.items))
        notice = parse_query(query).notice() if query.strip() else ""
        self.query_one("#search-count", Static).update(Text(f"{count} · {notice}" if notice else count))
        then, self._then = self._then, None
        if then == "open" and view.items:
            self._finish(view.items[0])
        elif then == "focus":
            self.action_to_results()

    def _flush(self) -> None:
        """Run a search still waiting for its debounce."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._pending is not None:
            self._run_pending()

    # ------------------------------------------------------------------ choosing

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._flush()
        if self.searching:
            self._then = "open"  # the first hit, once it is known
            return
        items = self.results.items
        if items:
            self._finish(items[0])

    def on_virtual_list_selected(self, event: VirtualList.Selected) -> None:
        event.stop()
        if isinstance(event.item, SearchResult):
            self._finish(event.item)

    def action_to_results(self) -> None:
        self._flush()
        if self.searching:
            self._then = "focus"
            return
        view = self.results
        if view.items:
            if view.cursor is None:
                view.move_cursor(0)
            view.focus()

    def action_to_input(self) -> None:
        self.query_one("#search-input", Input).focus()

    def action_close(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._finish(None)

    def _finish(self, result: SearchResult | None) -> None:
        """Dismiss once: keys already queued (a second Enter) find the screen done."""
        if self._finished:
            return
        self._finished = True
        self._then = None
        self.workers.cancel_group(self, "search")
        self.dismiss(result)

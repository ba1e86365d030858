"""The conversation pane: one Line API widget for the whole thread, fast with 20,000+ messages.

What is on which line (entries, heights, bisect, day separators, wrapping, find over the loaded
history) is `hmtui.ui.widgets.thread_layout.ThreadLayout`, a pure model; this widget draws it.
Strips are built only for messages on screen (LRU cache).

With a page source (`set_page_source`: the workspace's spill), the view *windows* the thread: it
keeps in memory only the messages within WINDOW_KEEP of the screen (about LIVE_MAX), and reads the
ones it scrolls towards back in pages, off the event loop, before they are needed (WINDOW_AHEAD).
A message not back yet draws as a dim placeholder of its known height; estimates of heights are
corrected as messages come back, and the screen is kept still (the lines above move it).

Every string from the server goes through `clean_text` / `one_line` and into `Segment`s or plain
`Text` — never markup.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from time import monotonic

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message as _TMessage
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.timer import Timer

from hmtui.api.models import Id, Message
from hmtui.cells import cell_len
from hmtui.safe_text import one_line
from hmtui.ui.errors import Guarded
from hmtui.ui.widgets import thread_layout as layout
from hmtui.ui.widgets.still import PlainLines, StillScrollBar
from hmtui.ui.widgets.thread_layout import FALLBACK_WIDTH as _FALLBACK_WIDTH
from hmtui.ui.widgets.thread_layout import Entry as _Entry
from hmtui.ui.widgets.thread_layout import ThreadLayout
from hmtui.ui.widgets.thread_lines import BlockCache, ThreadLines
from hmtui.ui.widgets.thread_motion import ThreadMotion

log = logging.getLogger(__name__)

PageSource = Callable[[float | None, float | None], Awaitable[Sequence[Message]]]
LIVE_MAX = 800  # messages in memory before the far ones are dropped (windowed only)
# A read starts only when a missing message comes within WINDOW_NEAR of the screen, and then reads
# out to WINDOW_AHEAD: a j that scrolls by one message would otherwise read (and repaint) each time.
WINDOW_NEAR = 50
WINDOW_AHEAD = 200  # messages read back beyond each edge of the screen
WINDOW_KEEP = 300  # messages kept beyond each edge of the screen when dropping (> WINDOW_AHEAD)
# Messages whose drawn lines are kept: a few screens' worth (each costs about 3 KiB of strips).
STRIP_CACHE = 256
READ_MAX = 400  # messages asked for in one read
SCROLLBAR_EVERY = 0.1  # seconds between repaints of the scrollbar alone (see _repaint_scrollbar_soon)


class ThreadView(ThreadLines, ThreadMotion, Guarded, ScrollView, can_focus=True):
    """The messages of one conversation, oldest at the top."""

    # The motions are priority bindings: they apply only while the pane has focus (it has no
    # focusable children), and Textual then runs them as the key arrives, without forwarding it
    # to the pane and bubbling it back up through every container first (measured on a real pty:
    # a few tenths of a millisecond of each `j`).
    BINDINGS = [
        Binding("j,down", "next_message", "Next", id="thread.next", priority=True),
        Binding("k,up", "previous_message", "Previous", id="thread.previous", priority=True),
        Binding("g,home", "oldest", "Oldest", id="thread.oldest", priority=True),
        Binding("G,end", "newest", "Newest", id="thread.newest", priority=True),
        Binding("pageup", "page_up", "Page up", id="thread.page_up", show=False, priority=True),
        Binding("pagedown", "page_down", "Page down", id="thread.page_down", show=False, priority=True),
        # On a message that failed to send (the screen's main_reply.py acts; elsewhere nothing).
        Binding("enter", "screen.retry_send", "Retry send", id="thread.retry_send", show=False),
        Binding("d", "screen.delete_send", "Delete unsent", id="thread.delete_send", show=False),
    ]

    ALLOW_SELECT = False  # lines are drawn per row; mouse clicks select messages instead

    COMPONENT_CLASSES = {
        "thread-view--inbound",
        "thread-view--outbound",
        "thread-view--note",
        "thread-view--failed",
        "thread-view--meta",
        "thread-view--link",
        "thread-view--muted",
        "thread-view--separator",
        "thread-view--status",
        "thread-view--contact",
        "thread-view--cursor",
        "thread-view--cursor-blurred",
        "thread-view--new-hint",
        "thread-view--match",
    }

    DEFAULT_CSS = """
    ThreadView {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: scroll;
        &:focus { background-tint: $foreground 3%; }
    }
    ThreadView > .thread-view--inbound { color: $primary; text-style: bold; }
    ThreadView > .thread-view--outbound { color: $success; text-style: bold; }
    ThreadView > .thread-view--note { color: $warning; text-style: bold; }
    ThreadView > .thread-view--failed { color: $error; text-style: bold; }
    ThreadView > .thread-view--meta { color: $text-muted; }
    ThreadView > .thread-view--link { color: $text-primary; text-style: underline; }
    ThreadView > .thread-view--muted { color: $text-muted; text-style: italic; }
    ThreadView > .thread-view--separator { color: $text-muted; }
    ThreadView > .thread-view--status { color: $text-muted; text-style: italic; }
    ThreadView > .thread-view--contact { color: $foreground; text-style: bold; }
    ThreadView > .thread-view--cursor { color: $accent; background: $accent 30%; }
    ThreadView > .thread-view--cursor-blurred { color: $foreground-muted; background: $foreground 8%; }
    ThreadView > .thread-view--new-hint { color: $text; background: $accent; text-style: bold; }
    ThreadView > .thread-view--match { color: $background; background: $warning; text-style: bold; }
    """

    class NearTop(_TMessage):
        """The viewport is near the top of the loaded history and older messages may exist.
        `pressed`: the user asked (`g`), so a press while a page loads is one more page."""

        def __init__(self, view: ThreadView, *, pressed: bool = False) -> None:
            self.view = view
            self.pressed = pressed
            super().__init__()

        @property
        def control(self) -> ThreadView:
            return self.view

    class SelectionChanged(_TMessage):
        """The selected message changed (posted only with `announce_selection`: nothing in the
        app listens, and a message bubbling up through every container on each `j` delayed its
        frame by a few tenths of a millisecond, measured on a real pty)."""

        def __init__(self, view: ThreadView, message: Message | None) -> None:
            self.view = view
            self.message = message
            super().__init__()

        @property
        def control(self) -> ThreadView:
            return self.view

    def __init__(
        self,
        *,
        tz: tzinfo,
        member_names: Mapping[Id, str] | None = None,
        near_top_lines: int = 20,
        clock: Callable[[], datetime] | None = None,
        announce_selection: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._tz = tz
        self.announce_selection = announce_selection
        # "Today" for the headers' dates: this clock, else the app's (tests freeze it).
        self._clock = clock
        self._today: object = None
        self._member_names: dict[Id, str] = dict(member_names or {})
        self._near_top_lines = near_top_lines
        # The lambda looks `_measure` up on each call, so a test can count the wraps.
        self._layout = ThreadLayout(tz, measure_entry=lambda entry, width: self._measure(entry, width))
        self._width = 0  # the width the layout was computed for (0: not sized yet)
        self._placeholder = "No conversation selected"
        self._contact = ""
        self._at_start = False
        self._loading_older = False
        self._near_top_sent = False
        self._selected: _Entry | None = None
        self._new_count = 0
        self._follow = True  # the view is at the bottom (kept across resizes)
        self._pending: tuple[str, Id | None] | None = None  # a scroll to apply once sized
        self._strips = BlockCache(STRIP_CACHE)
        self._bar_timer: Timer | None = None
        self._frame_region: Region | None = None  # set while render_lines draws a frame
        self._styles_cache = PlainLines()  # its lines need none of Textual's borders or tints
        self._bar_painted = float("-inf")  # monotonic time of the scrollbar's last repaint of its own
        self._style_cache: dict[str, Style] = {}
        self._highlight: str | None = None
        self._highlight_re: re.Pattern[str] | None = None
        self._page_source: PageSource | None = None
        self._window_gen = 0  # a read for another thread (or an older state) is dropped
        self._reading = False
        self._read_again = False

    # ------------------------------------------------------------------ public API

    @property
    def layout_model(self) -> ThreadLayout:
        """The pure layout this widget draws (read it; change it through the methods below)."""
        return self._layout

    @property
    def at_start(self) -> bool:
        return self._at_start

    @property
    def loading_older(self) -> bool:
        return self._loading_older

    @property
    def message_count(self) -> int:
        """Loaded messages, the hidden ones included."""
        return self._layout.message_count

    @property
    def hidden_count(self) -> int:
        return len(self._layout.hidden)

    @property
    def selected_message(self) -> Message | None:
        return self._selected.message if self._selected is not None else None

    def messages(self) -> list[Message]:
        """The loaded messages in memory, oldest first, the hidden ones included (they are not
        drawn): all of them unless the view windows the thread (see `loaded_ids`)."""
        return self._layout.messages()

    def shown_messages(self) -> list[Message]:
        """The loaded messages in memory that are drawn (not the hidden ones), oldest first."""
        return self._layout.shown_messages()

    def has_message(self, message_id: Id) -> bool:
        return self._layout.has_message(message_id)

    def loaded_ids(self) -> list[Id]:
        """Every loaded, drawn message's id, oldest first, whether in memory or not."""
        return self._layout.ids_in_order()

    def set_member_names(self, names: Mapping[Id, str]) -> None:
        self._member_names = dict(names)
        self._strips.clear()
        self.refresh()

    def set_page_source(self, source: PageSource | None) -> None:
        """Where messages dropped from memory are read back from (lo, hi: times, None for
        undated; every loaded message with lo <= time <= hi, oldest first). None: keep every
        loaded message in memory (the default)."""
        self._page_source = source

    @property
    def windowed(self) -> bool:
        return self._page_source is not None

    def set_thread(self, messages: Sequence[Message], *, contact: str, at_start: bool = False) -> None:
        """Show a conversation (replacing any other), at its newest message."""
        self._window_gen += 1
        self._layout.set_thread(messages)
        self._strips.clear()
        self._unpace_scrollbar()
        self._contact = one_line(contact)
        self._at_start = at_start
        self._loading_older = False
        self._near_top_sent = False
        self._new_count = 0
        self._update_virtual_size()
        self._select(self._layout.newest, post=False)
        self._announce(self.SelectionChanged(self, self.selected_message))
        self._follow = True
        if self._sized:
            self._scroll_y_to(self.max_scroll_y)
            self._check_near_top()
        else:
            self._pending = ("bottom", None)
        self.refresh()
        self._ensure_window()

    def clear_thread(self, placeholder: str = "No conversation selected") -> None:
        had_selection = self._selected is not None
        self._window_gen += 1
        self._layout.reset()
        self._strips.clear()
        self._unpace_scrollbar()
        self._placeholder = one_line(placeholder)
        self._contact = ""
        self._at_start = False
        self._loading_older = False
        self._near_top_sent = False
        self._new_count = 0
        self._selected = None
        self._pending = None
        self._follow = True
        self._update_virtual_size()
        if self._sized:
            self._scroll_y_to(0)
        if had_selection:
            self._announce(self.SelectionChanged(self, None))
        self.refresh()

    def prepend(self, older: Sequence[Message], *, at_start: bool = False) -> None:
        """Put older messages on top without moving what is on screen."""
        self._at_start = at_start
        self._near_top_sent = False
        was_empty = not self._layout.newer
        top_h = self._layout.top_h
        added = self._layout.prepend(older, keep=self._keep_on_prepend())
        if not added:
            self.refresh()
            self._check_near_top()
            return
        sy = self.scroll_offset.y
        if not was_empty and self._sized and sy >= top_h:
            # The screen showed only message blocks, which a prepend leaves as they are: the same
            # lines move down by `added`, so nothing is repainted but the scrollbar (a whole-
            # history load prepends hundreds of times, each a full repaint of an unchanged pane).
            self._update_virtual_size(repaint=False)
            self._shift_scroll(sy + added)
        else:
            self._update_virtual_size()
            if was_empty:  # nothing loaded before: this is the whole thread
                if self._selected is None:
                    self._select(self._layout.newest)
                if self._sized:
                    self._scroll_y_to(self.max_scroll_y)
            elif self._sized:
                self._scroll_y_to(sy + added)
            self.refresh()
        self._check_near_top()
        self._ensure_window()

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """Textual's own (textual/widget.py), made a `StillScrollBar`: every frame that repaints
        lines of the thread also renders the scroll bar beside them, unchanged."""
        if self._vertical_scrollbar is not None:
            return self._vertical_scrollbar
        self._vertical_scrollbar = bar = StillScrollBar(vertical=True, name="vertical",
                                                        thickness=self.scrollbar_size_vertical)
        bar.display = False
        self.app._start_widget(self, bar)
        return bar

    def _announce(self, message: SelectionChanged) -> None:
        if self.announce_selection:
            self.post_message(message)

    def _shift_scroll(self, y: int) -> None:
        """Scroll to `y` without repainting the pane (its lines are known to be the same)."""
        self.set_reactive(ThreadView.scroll_target_y, y)
        self.set_reactive(ThreadView.scroll_y, y)
        self._repaint_scrollbar_soon()

    def _repaint_scrollbar_soon(self) -> None:
        """The scrollbar takes the pane's size and offset now, and repaints at most every
        SCROLLBAR_EVERY seconds: a whole-history load moves it a few hundred times, and a
        scrollbar's repaint costs about a request's round trip (profiled: Rich renders it)."""
        if not self.show_vertical_scrollbar:
            return
        bar = self.vertical_scrollbar
        bar.set_reactive(ScrollBar.window_virtual_size, self.virtual_size.height)
        bar.set_reactive(ScrollBar.position, self.scroll_y)
        if self._bar_timer is not None:
            return  # a repaint is due already, and will draw these
        wait = self._bar_painted + SCROLLBAR_EVERY - monotonic()
        if wait <= 0:
            self._repaint_scrollbar()
        else:
            self._bar_timer = self.set_timer(wait, self._repaint_scrollbar)

    def _unpace_scrollbar(self) -> None:
        """Another thread: the scrollbar's next repaint of its own is at once (only a stream of
        prepends, as a whole-history load makes, waits its turn)."""
        if self._bar_timer is not None:
            self._bar_timer.stop()
            self._bar_timer = None
        self._bar_painted = float("-inf")

    def _repaint_scrollbar(self) -> None:
        self._bar_timer = None
        self._bar_painted = monotonic()
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.refresh()

    def _keep_on_prepend(self) -> int | None:
        """How many of a prepended batch get entries: windowed, only those within WINDOW_AHEAD of
        the screen (the rest are index rows, read back if the screen goes to them)."""
        if self._page_source is None or not self._layout.newer:
            return None
        span = self._screen_positions()
        if span is None:
            return None
        return max(WINDOW_AHEAD - (span[0] - self._layout.first_pos), 0)

    def append(self, newer: Sequence[Message]) -> None:
        """Put new messages at the bottom; follow them if the view was at the bottom."""
        was_bottom = not self._sized or self.is_vertical_scroll_end
        was_newest_selected = self._selected is not None and self._selected is self._layout.newest
        entries, changed = self._layout.append(newer)
        if not entries:
            return
        if changed is not None:
            self._strips.discard(changed)
        self._update_virtual_size()
        if self._selected is None or (was_bottom and was_newest_selected):
            self._select(self._layout.newest)
        if was_bottom:
            if self._sized:
                self._scroll_y_to(self.max_scroll_y)
        else:
            self._new_count += len(entries)
        self.refresh()
        self._ensure_window()

    def sync_marks(self, messages: Sequence[Message], is_mark: Callable[[Message], bool]) -> None:
        """The newest messages with the send marks the server has not returned (`is_mark`
        tells them apart): marks that are gone are taken out, changed ones redrawn, new ones and
        any message not loaded yet put at the bottom. The rest of the history stays as it is."""
        layout = self._layout
        marks = {m.id: m for m in messages if isinstance(m, Message) and is_mark(m)}
        changed = False
        for entry in [e for e in layout.live.values() if e.pinned]:
            message = entry.message
            if message is None or message.id in marks:
                continue
            self._strips.discard(entry)
            if self._selected is entry:
                self._selected = None
            changed = layout.remove(message.id) or changed
        for message in marks.values():
            entry = layout.get(message.id)
            if entry is not None and entry.message is not message:
                self._strips.discard(entry)
                layout.replace(message)
                entry.pinned = changed = True
        fresh = [m for m in messages if isinstance(m, Message) and not layout.has_message(m.id)]
        if fresh:
            self.append(fresh)
            for message in fresh:
                entry = layout.get(message.id) if message.id in marks else None
                if entry is not None:
                    entry.pinned = True
        if changed:
            if self._selected is None and layout.newer:
                self._select(layout.newest)
            self._update_virtual_size()
            if self._follow and self._sized:
                self._scroll_y_to(self.max_scroll_y)
            self.refresh()

    def set_loading_older(self, loading: bool) -> None:
        self._loading_older = loading
        if not loading:
            self._near_top_sent = False
        self.refresh_lines(0, 1)
        self.refresh()
        if not loading:
            self._check_near_top()

    def show_oldest(self) -> None:
        """Select the oldest loaded message and scroll to the top (asks for nothing)."""
        if self._layout.newer:
            self._select(self._layout.oldest)
        if self._sized:
            self._scroll_y_to(0)
        else:
            self._pending = None

    def scroll_to_message(self, message_id: Id) -> None:
        """Select a message and centre it."""
        entry = self._layout.get(message_id)
        if entry is None:
            return
        self._select(entry)
        if not self._sized:
            self._pending = ("message", message_id)
            return
        self._centre(entry)

    # ------------------------------------------------------------------ search highlighting

    @property
    def highlight(self) -> str | None:
        """The query whose terms are highlighted in message bodies (None: none)."""
        return self._highlight

    def set_highlight(self, query: str | None) -> None:
        """Highlight every occurrence (case-insensitive) of each whitespace-separated term of
        `query` in message bodies; None or "" clears. Only messages drawn are re-rendered."""
        terms = layout.terms(query)
        highlight = " ".join(terms) or None
        if highlight == self._highlight:
            return
        self._highlight = highlight
        self._highlight_re = layout.terms_pattern(terms)
        self._strips.clear()
        self.refresh()

    def matching_ids(self, query: str) -> list[Id]:
        """Ids of the loaded messages whose body contains every term of `query`
        (case-insensitive), oldest first. O(loaded messages)."""
        return self._layout.matching_ids(query)

    # ------------------------------------------------------------------ events

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        at_bottom = round(new_value) >= self.max_scroll_y
        self._follow = at_bottom
        if at_bottom:
            self._clear_hint()
        self._check_near_top()
        self._ensure_window()

    # ------------------------------------------------------------------ the window

    def _screen_positions(self) -> tuple[int, int] | None:
        layout = self._layout
        if not layout.newer:
            return None
        sy = self.scroll_offset.y
        top = layout.pos_at(sy)
        bottom = layout.pos_at(sy + self._viewport_height - 1)
        first = top[0] if top is not None else layout.first_pos
        last = bottom[0] if bottom is not None else layout.last_pos
        return first, max(first, last)

    def _ensure_window(self) -> None:
        """Read back what is about to be on screen, and drop what is far from it (windowed)."""
        if self._page_source is None:
            return
        span = self._screen_positions()
        if span is None:
            return
        first, last = span
        layout = self._layout
        if len(layout.live) > LIVE_MAX:
            lo, hi = first - WINDOW_KEEP, last + WINDOW_KEEP
            selected = self._selected
            for entry in layout.evict(lambda e: lo <= e.pos <= hi or e is selected):
                self._strips.discard(entry)
        if layout.missing(first - WINDOW_NEAR, last + WINDOW_NEAR) is None:
            return
        want = layout.missing(first - WINDOW_AHEAD, last + WINDOW_AHEAD)
        if want is None:
            return
        if self._reading:
            self._read_again = True
            return
        # The part on screen first, then outwards, at most READ_MAX at a time.
        lo, hi = want
        if hi - lo >= READ_MAX:
            centre = (first + last) // 2
            lo = max(lo, min(centre - READ_MAX // 2, hi - READ_MAX + 1))
            hi = lo + READ_MAX - 1
        self._reading = True
        self.run_worker(self._read_back(lo, hi, self._window_gen), group="thread-window", exit_on_error=False)

    async def _read_back(self, lo: int, hi: int, gen: int) -> None:
        layout, source = self._layout, self._page_source
        try:
            if source is None:
                return
            lo_stamp, hi_stamp = layout.stamp_at(lo), layout.stamp_at(hi)
            try:
                messages = await source(None if lo_stamp == float("-inf") else lo_stamp,
                                        None if hi_stamp == float("-inf") else hi_stamp)
            except Exception as error:  # noqa: BLE001  (the spill failed: stop dropping messages)
                log.warning("the thread's window could not be read back: %s", error)
                self._page_source = None
                return
            if gen != self._window_gen:
                return
            span = self._screen_positions()
            selected = self._selected
            waiting = selected is not None and selected.message is None
            changed = layout.fill(messages)
            if waiting and selected is self._selected and selected.message is not None:
                self._announce(self.SelectionChanged(self, selected.message))  # it has its message now
            if changed:
                above = sum(delta for pos, delta in changed if span is not None and pos < span[0])
                self._update_virtual_size()
                if self._follow and self._sized:
                    self._scroll_y_to(self.max_scroll_y)
                elif above and self._sized:
                    self._scroll_y_to(self.scroll_offset.y + above)
            for pos in range(lo, hi + 1):
                entry = layout.live.get(pos)
                if entry is not None:
                    self._strips.discard(entry)
            # A read that lands off screen changes nothing drawn (a height it corrected has
            # already resized or scrolled the view): repainting the pane would double a key's cost.
            span = self._screen_positions()
            if span is None or (lo <= span[1] and hi >= span[0]):
                self.refresh()
        finally:
            self._reading = False
        # Again if the screen moved meanwhile, another thread opened, or this read brought
        # something (so a read that brings nothing is not repeated in a loop).
        again = self._read_again or gen != self._window_gen or layout.missing(lo, hi) != (lo, hi)
        self._read_again = False
        if again:
            self._ensure_window()

    def on_resize(self, event: events.Resize) -> None:
        self._apply_size()

    def _apply_size(self) -> None:
        """Lay out for the current width and do what waited for a size (scroll to the newest)."""
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        first = self._width == 0
        if width != self._width:
            anchor = None if first else self._anchor()
            self._width = width
            self._layout_all()
            if anchor is not None:
                entry, screen_row, offset = anchor
                self._scroll_y_to(self._top_of(entry) + min(offset, entry.height - 1) - screen_row)
        if self._pending is not None:
            what, message_id = self._pending
            self._pending = None
            entry = self._layout.get(message_id) if message_id is not None else None
            if what == "message" and entry is not None:
                self._centre(entry)
            else:
                self._scroll_y_to(self.max_scroll_y)
        elif self._follow:
            self._scroll_y_to(self.max_scroll_y)
        self._check_near_top()
        self.refresh()
        self._ensure_window()

    def on_focus(self, event: events.Focus) -> None:
        self._refresh_selected()

    def on_blur(self, event: events.Blur) -> None:
        self._refresh_selected()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        height = self._viewport_height
        if self._new_count and offset.y == height - 1 and offset.x >= self._width - cell_len(self._hint_text):
            self.action_newest()
            return
        found = self._locate(self.scroll_offset.y + offset.y)
        if found is not None:
            self._select(found[0])

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_cache.clear()
        self._strips.clear()

    # ------------------------------------------------------------------ rendering

    def render_lines(self, crop: Region) -> list[Strip]:
        # The content region is the same for every line of a frame, and working it out walks the
        # styles (7 µs): once per frame, not per line.
        self._frame_region = self.scrollable_content_region
        try:
            return super().render_lines(crop)
        finally:
            self._frame_region = None

    def render_line(self, y: int) -> Strip:
        if self._pending is not None and self._width == 0 and self.size.width:
            # The first frame is drawn before the Resize event arrives: lay out now, so a thread
            # opens at its newest message in that frame instead of one frame later.
            self._apply_size()
            self._frame_region = None
        region = self._frame_region or self.scrollable_content_region
        width = region.width
        base = self._base_style
        if y == 0:
            self._check_today()
        if not self._layout.has_thread:
            if y == region.height // 2:
                return self._centred(self._placeholder, self._style("thread-view--muted"), width, base)
            return Strip.blank(width, base)
        line = self.scroll_offset.y + y
        strip = self._line(line, base)
        if self._new_count and y == region.height - 1:
            hint = self._hint_text
            hint_width = min(cell_len(hint), width)
            strip = Strip.join(
                [
                    strip.crop_extend(0, width - hint_width, base),
                    Strip([Segment(hint, self._style("thread-view--new-hint"))]).crop_extend(0, hint_width, base),
                ]
            )
        return strip.crop_extend(0, width, base)

    def _line(self, line: int, base: Style) -> Strip:
        width = self._layout_width
        if line == 0:
            return self._status_strip(width, base)
        if line < self._layout.top_h:
            label = self._layout.oldest_label
            if label is not None:
                return self._separator(label, width, base)
            return Strip.blank(width, base)
        if not self._layout.newer:
            if line == 1:
                return self._centred("no messages", self._style("thread-view--muted"), width, base)
            return Strip.blank(width, base)
        found = self._locate(line)
        if found is None:
            return Strip.blank(width, base)
        entry, offset = found
        if entry.message is None:  # on its way back from the spill
            if offset == 0:
                return self._centred("·  ·  ·", self._style("thread-view--muted"), width, base)
            return Strip.blank(width, base)
        selected = entry is self._selected
        strips = self._strips.get(entry, selected)
        if strips is None:
            strips = self._build(entry, width, base)
            self._strips.put(entry, selected, strips)
        return strips[offset] if offset < len(strips) else Strip.blank(width, base)


    # ------------------------------------------------------------------ layout

    @property
    def _sized(self) -> bool:
        return self._width > 0 and self.size.height > 0

    @property
    def _layout_width(self) -> int:
        return self._width or _FALLBACK_WIDTH

    @property
    def _viewport_height(self) -> int:
        return max(self.scrollable_content_region.height, 1)

    @property
    def _step(self) -> int:
        return max(self._viewport_height // 2, 1)

    @staticmethod
    def _indent(width: int) -> int:
        return layout.indent(width)

    def _body_width(self, width: int) -> int:
        return layout.body_width(width)

    def _measure(self, entry: _Entry, width: int) -> None:
        layout.measure(entry, width)

    def _layout_all(self) -> None:
        self._strips.clear()
        self._layout.relayout(self._layout_width)
        self._update_virtual_size()

    @property
    def _total_height(self) -> int:
        return self._layout.total_height

    def _update_virtual_size(self, *, repaint: bool = True) -> None:
        size = Size(self._layout_width, self._layout.total_height)
        if size == self.virtual_size:
            return
        styles = self.styles
        if (self._sized and size.width == self.virtual_size.width and styles.overflow_y == "scroll"
                and not styles.height.is_auto):
            # Only the height changed, and the pane's size does not depend on it (its height is
            # not auto; its scrollbar is always shown): no layout of the whole screen, which the
            # reactive would ask for. A whole-history load grows the height hundreds of times,
            # and each layout was a full-screen render that held the next request back.
            self.set_reactive(ThreadView.virtual_size, size)
            if repaint:  # else the caller repaints what changed (see prepend)
                self._scroll_update(size)
                self.refresh()
            return
        self.virtual_size = size

    def _top_of(self, entry: _Entry) -> int:
        return self._layout.top_of(entry)

    def _locate(self, line: int) -> tuple[_Entry, int] | None:
        return self._layout.locate(line)


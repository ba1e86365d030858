"""The conversation pane: one Line API widget for the whole thread, fast with 20,000+ messages.

What is on which line (entries, heights, bisect, day separators, wrapping, find over the loaded
history) is `hmtui.ui.widgets.thread_layout.ThreadLayout`, a pure model; this widget draws it.
Strips are built only for messages on screen (LRU cache).

Every string from the server goes through `clean_text` / `one_line` and into `Segment`s or plain
`Text` — never markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, tzinfo

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message as _TMessage
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hmtui.api.models import Id, Message
from hmtui.api.semantics import MessageKind
from hmtui.cells import cell_len
from hmtui.safe_text import one_line
from hmtui.ui.errors import Guarded
from hmtui.ui.widgets import thread_layout as layout
from hmtui.ui.widgets.thread_layout import (
    BODY as _BODY,
    ERROR as _ERROR,
    FALLBACK_WIDTH as _FALLBACK_WIDTH,
    GUTTER as _GUTTER,
    GUTTER_WIDTH as _GUTTER_WIDTH,
    LINK as _LINK,
    MUTED as _MUTED,
    Entry as _Entry,
    ThreadLayout,
    header_when,
    str_or_none as _str_or_none,
    wrap as _wrap,
    wrap_console as _wrap_console,
)

_STATUS_LOADING = "loading older…"
_STATUS_START = "start of conversation"
_STATUS_MORE = "↑ older messages load as you scroll up"


class ThreadView(Guarded, ScrollView, can_focus=True):
    """The messages of one conversation, oldest at the top."""

    BINDINGS = [
        Binding("j,down", "next_message", "Next", id="thread.next"),
        Binding("k,up", "previous_message", "Previous", id="thread.previous"),
        Binding("g,home", "oldest", "Oldest", id="thread.oldest"),
        Binding("G,end", "newest", "Newest", id="thread.newest"),
        Binding("pageup", "page_up", "Page up", id="thread.page_up", show=False),
        Binding("pagedown", "page_down", "Page down", id="thread.page_down", show=False),
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
        """The viewport is near the top of the loaded history and older messages may exist."""

        def __init__(self, view: ThreadView) -> None:
            self.view = view
            super().__init__()

        @property
        def control(self) -> ThreadView:
            return self.view

    class SelectionChanged(_TMessage):
        """The selected message changed."""

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
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._tz = tz
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
        self._strips: LRUCache[_Entry, list[Strip]] = LRUCache(1024)
        self._style_cache: dict[str, Style] = {}
        self._highlight: str | None = None
        self._highlight_re: re.Pattern[str] | None = None

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
        """Every loaded message, oldest first, the hidden ones included (they are not drawn)."""
        return self._layout.messages()

    def shown_messages(self) -> list[Message]:
        """The loaded messages that are drawn (not the hidden ones), oldest first."""
        return self._layout.shown_messages()

    def has_message(self, message_id: Id) -> bool:
        return self._layout.has_message(message_id)

    def set_member_names(self, names: Mapping[Id, str]) -> None:
        self._member_names = dict(names)
        self._strips.clear()
        self.refresh()

    def set_thread(self, messages: Sequence[Message], *, contact: str, at_start: bool = False) -> None:
        """Show a conversation (replacing any other), at its newest message."""
        self._layout.set_thread(messages)
        self._strips.clear()
        self._contact = one_line(contact)
        self._at_start = at_start
        self._loading_older = False
        self._near_top_sent = False
        self._new_count = 0
        self._update_virtual_size()
        self._select(self._layout.newest, post=False)
        self.post_message(self.SelectionChanged(self, self.selected_message))
        self._follow = True
        if self._sized:
            self._scroll_y_to(self.max_scroll_y)
            self._check_near_top()
        else:
            self._pending = ("bottom", None)
        self.refresh()

    def clear_thread(self, placeholder: str = "No conversation selected") -> None:
        had_selection = self._selected is not None
        self._layout.reset()
        self._strips.clear()
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
            self.post_message(self.SelectionChanged(self, None))
        self.refresh()

    def prepend(self, older: Sequence[Message], *, at_start: bool = False) -> None:
        """Put older messages on top without moving what is on screen."""
        self._at_start = at_start
        self._near_top_sent = False
        was_empty = not self._layout.newer
        added = self._layout.prepend(older)
        if not added:
            self.refresh()
            self._check_near_top()
            return
        self._update_virtual_size()
        if was_empty:  # nothing loaded before: this is the whole thread
            if self._selected is None:
                self._select(self._layout.newest)
            if self._sized:
                self._scroll_y_to(self.max_scroll_y)
        elif self._sized:
            self._scroll_y_to(self.scroll_offset.y + added)
        self.refresh()
        self._check_near_top()

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

    def set_loading_older(self, loading: bool) -> None:
        self._loading_older = loading
        if not loading:
            self._near_top_sent = False
        self.refresh_lines(0, 1)
        self.refresh()
        if not loading:
            self._check_near_top()

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

    def _body_segments(self, line: str, style: Style) -> list[Segment]:
        """A body line's segments, with the highlighted terms in the match style."""
        pattern = self._highlight_re
        if pattern is None or not line:
            return [Segment(line, style)]
        segments: list[Segment] = []
        match_style: Style | None = None
        position = 0
        for found in pattern.finditer(line):
            start, end = found.span()
            if start == end:
                continue
            if match_style is None:
                match = self._style("thread-view--match")
                match_style = style + Style(color=match.color, bgcolor=match.bgcolor, bold=True)
            if start > position:
                segments.append(Segment(line[position:start], style))
            segments.append(Segment(line[start:end], match_style))
            position = end
        if position < len(line):
            segments.append(Segment(line[position:], style))
        return segments

    # ------------------------------------------------------------------ actions

    def action_next_message(self) -> None:
        entry = self._selected
        if entry is None or not self._sized:
            return
        height = self._viewport_height
        sy = self.scroll_offset.y
        if not self._visible(entry):
            self._select_middle()
            return
        top = self._top_of(entry)
        bottom = top + 1 + entry.body_h
        if bottom > sy + height and bottom - top > height:
            self._scroll_y_to(min(sy + self._step, bottom - height + 1))
            return
        following = self._layout.next(entry)
        if following is None:
            self._scroll_y_to(self.max_scroll_y)
            return
        self._select(following)
        self._reveal(following, downward=True)

    def action_previous_message(self) -> None:
        entry = self._selected
        if entry is None or not self._sized:
            if self._sized:
                self._scroll_y_to(0)
            return
        height = self._viewport_height
        sy = self.scroll_offset.y
        if not self._visible(entry):
            self._select_middle()
            return
        top = self._top_of(entry)
        reveal_top = top - self._layout.above(entry)
        if reveal_top < sy and 1 + entry.body_h > height:
            self._scroll_y_to(max(sy - self._step, reveal_top))
            return
        previous = self._layout.prev(entry)
        if previous is None:
            self._scroll_y_to(0)
            return
        self._select(previous)
        self._reveal(previous, downward=False)

    def action_oldest(self) -> None:
        if self._layout.newer:
            self._select(self._layout.oldest)
        self._scroll_y_to(0)
        self._check_near_top()

    def action_newest(self) -> None:
        if self._layout.newer:
            self._select(self._layout.newest)
        self._scroll_y_to(self.max_scroll_y)
        self._clear_hint()

    def action_page_up(self) -> None:
        self._scroll_y_to(self.scroll_offset.y - self._viewport_height)
        self._select_middle()

    def action_page_down(self) -> None:
        self._scroll_y_to(self.scroll_offset.y + self._viewport_height)
        self._select_middle()

    # ------------------------------------------------------------------ events

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        at_bottom = round(new_value) >= self.max_scroll_y
        self._follow = at_bottom
        if at_bottom:
            self._clear_hint()
        self._check_near_top()

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

    def render_line(self, y: int) -> Strip:
        if self._pending is not None and self._width == 0 and self.size.width:
            # The first frame is drawn before the Resize event arrives: lay out now, so a thread
            # opens at its newest message in that frame instead of one frame later.
            self._apply_size()
        region = self.scrollable_content_region
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
            oldest = self._layout.oldest
            if oldest is not None and oldest.label is not None:
                return self._separator(oldest.label, width, base)
            return Strip.blank(width, base)
        if not self._layout.newer:
            if line == 1:
                return self._centred("no messages", self._style("thread-view--muted"), width, base)
            return Strip.blank(width, base)
        found = self._locate(line)
        if found is None:
            return Strip.blank(width, base)
        entry, offset = found
        strips = self._strips.get(entry)
        if strips is None:
            strips = self._build(entry, width, base)
            self._strips[entry] = strips
        return strips[offset] if offset < len(strips) else Strip.blank(width, base)

    def _status_strip(self, width: int, base: Style) -> Strip:
        if self._loading_older:
            status = _STATUS_LOADING
        elif self._at_start:
            status = _STATUS_START
        else:
            status = _STATUS_MORE
        text = Text(end="", no_wrap=True)
        text.append(" " + status, self._style("thread-view--status"))
        contact = self._contact
        room = width - cell_len(text.plain) - 3
        if contact and room > 3:
            name = Text(contact, end="", no_wrap=True)
            name.truncate(room, overflow="ellipsis")
            gap = width - cell_len(text.plain) - name.cell_len - 1
            text.append(" " * max(gap, 1), base)
            text.append(name.plain, self._style("thread-view--contact"))
        return self._text_strip(text, width, base)

    def _separator(self, label: str, width: int, base: Style) -> Strip:
        label = f" {label} "
        label_width = cell_len(label)
        if label_width >= width:
            return self._centred(label.strip(), self._style("thread-view--separator"), width, base)
        left = (width - label_width) // 2
        right = width - label_width - left
        return Strip([Segment("─" * left + label + "─" * right, self._style("thread-view--separator"))], width)

    def _centred(self, text: str, style: Style, width: int, base: Style) -> Strip:
        content = Text(text, end="", no_wrap=True)
        content.truncate(width, overflow="ellipsis")
        left = max((width - content.cell_len) // 2, 0)
        line = Text(" " * left, end="", no_wrap=True)
        line.append_text(Text(content.plain, style=style))
        return self._text_strip(line, width, base)

    def _text_strip(self, text: Text, width: int, base: Style) -> Strip:
        text.no_wrap = True
        text.end = ""
        text.truncate(width, overflow="ellipsis")
        return Strip(_segments(text, base)).adjust_cell_length(width, base)

    def _build(self, entry: _Entry, width: int, base: Style) -> list[Strip]:
        """Every line of a message's block."""
        message = entry.message
        kind = message.kind if isinstance(message.kind, MessageKind) else MessageKind.INBOUND
        indent = 0 if kind is MessageKind.INBOUND else self._indent(width)
        failed = kind is MessageKind.OUTBOUND and _failed(message)
        if kind is MessageKind.NOTE:
            kind_style = self._style("thread-view--note")
        elif failed:
            kind_style = self._style("thread-view--failed")
        elif kind is MessageKind.OUTBOUND:
            kind_style = self._style("thread-view--outbound")
        else:
            kind_style = self._style("thread-view--inbound")
        selected = entry is self._selected
        cursor = self._style("thread-view--cursor" if self.has_focus else "thread-view--cursor-blurred")
        gutter_style = base + Style(color=(cursor if selected else kind_style).color, bold=True)
        pad = Segment(" " * indent, base) if indent else None
        gutter = Segment(_GUTTER, gutter_style)

        strips: list[Strip] = []
        # Header.
        header = self._header_text(entry, kind, kind_style, failed)
        header_width = max(width - indent - _GUTTER_WIDTH, 1)
        header.truncate(header_width, overflow="ellipsis", pad=selected)
        header_segments = _segments(header, base)
        if selected and cursor.bgcolor is not None:
            highlight = Style(bgcolor=cursor.bgcolor)
            header_segments = [Segment(s.text, (s.style or base) + highlight) for s in header_segments]
        strips.append(self._strip([pad, gutter, *header_segments], width, base))
        # Body.
        body_width = self._body_width(width)
        styles = {
            _BODY: base,
            _LINK: base + self._style("thread-view--link"),
            _MUTED: base + self._style("thread-view--muted"),
            _ERROR: base + self._style("thread-view--failed"),
        }
        for text, length, para_kind in entry.paras:
            style = styles[para_kind]
            lines = [text] if length <= body_width else _wrap(text, body_width, para_kind)
            for line in lines:
                if para_kind == _BODY and self._highlight_re is not None:
                    strips.append(self._strip([pad, gutter, *self._body_segments(line, style)], width, base))
                else:
                    strips.append(self._strip([pad, gutter, Segment(line, style)], width, base))
        strips.append(Strip.blank(width, base))
        if entry.sep_label is not None:
            strips.append(self._separator(entry.sep_label, width, base))
        return strips

    def _header_text(self, entry: _Entry, kind: MessageKind, kind_style: Style, failed: bool) -> Text:
        message = entry.message
        meta = self._style("thread-view--meta")
        author = self._author(message, kind)
        time = header_when(message.date if isinstance(message.date, datetime) else None, self._now(), self._tz)
        text = Text(end="", no_wrap=True)
        if kind is MessageKind.NOTE:
            text.append("🔒 note", kind_style)
            text.append(" · ", meta)
            text.append(author, kind_style)
        else:
            text.append(author, kind_style)
        if kind is MessageKind.OUTBOUND and getattr(message, "broadcast_id", None) is not None:
            text.append(" · broadcast", meta)
        text.append(" · ", meta)
        text.append(time, meta)
        status = _str_or_none(message.status)
        if kind is MessageKind.OUTBOUND and status is not None:
            text.append(" · ", meta)
            if failed:
                text.append("✗ " + one_line(status, 40), self._style("thread-view--failed"))
            else:
                text.append(one_line(status, 40), meta)
        return text

    def _now(self) -> datetime | None:
        """The clock the headers' dates are relative to: the widget's, else the app's."""
        clock = self._clock or getattr(self.app, "clock", None)
        try:
            return clock() if callable(clock) else None
        except Exception:  # a clock that fails shows clock times only
            return None

    def _check_today(self) -> None:
        """Forget built headers when the day changed (they say "14:05" only for today)."""
        now = self._now()
        today = now.astimezone(self._tz).date() if now is not None else None
        if today != self._today:
            self._today = today
            self._strips.clear()

    def _author(self, message: Message, kind: MessageKind) -> str:
        author = _str_or_none(message.author)
        if author is None and kind is not MessageKind.INBOUND:
            try:
                author = _str_or_none(self._member_names.get(message.user))  # type: ignore[arg-type]
            except TypeError:
                author = None
        if author is None and kind is MessageKind.OUTBOUND and getattr(message, "automated", False):
            author = "Team (automated)"  # a broadcast or workflow: the team's words, no member
        if author is None and kind is MessageKind.INBOUND:
            author = self._contact or None
        return one_line(author, 60) if author else "unknown"

    @staticmethod
    def _strip(segments: Iterable[Segment | None], width: int, base: Style) -> Strip:
        return Strip([s for s in segments if s is not None]).adjust_cell_length(width, base)

    def _style(self, name: str) -> Style:
        style = self._style_cache.get(name)
        if style is None:
            style = self._style_cache[name] = self.get_component_rich_style(name)
        return style

    @property
    def _base_style(self) -> Style:
        """The widget's own style (looking it up walks the DOM, so it is cached)."""
        style = self._style_cache.get("")
        if style is None:
            style = self._style_cache[""] = self.rich_style
        return style

    @property
    def _hint_text(self) -> str:
        return f" {self._new_count} new ↓ "

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

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self._layout_width, self._layout.total_height)

    def _top_of(self, entry: _Entry) -> int:
        return self._layout.top_of(entry)

    def _locate(self, line: int) -> tuple[_Entry, int] | None:
        return self._layout.locate(line)

    # ------------------------------------------------------------------ selection and scrolling

    def _select(self, entry: _Entry | None, *, post: bool = True) -> None:
        if entry is self._selected:
            return
        for old in (self._selected, entry):
            if old is not None:
                self._strips.discard(old)
        self._selected = entry
        self.refresh()
        if post:
            self.post_message(self.SelectionChanged(self, entry.message if entry else None))

    def _refresh_selected(self) -> None:
        if self._selected is not None:
            self._strips.discard(self._selected)
        self.refresh()

    def _visible(self, entry: _Entry) -> bool:
        sy = self.scroll_offset.y
        top = self._top_of(entry)
        return top < sy + self._viewport_height and top + 1 + entry.body_h > sy

    def _reveal(self, entry: _Entry, *, downward: bool) -> None:
        """Scroll so a message (header and body) is visible; a tall one shows its start going down,
        its end going up."""
        height = self._viewport_height
        sy = self.scroll_offset.y
        top = self._top_of(entry)
        start = top - self._layout.above(entry)
        end = top + 1 + entry.body_h  # exclusive
        if end - start > height:
            if end - top > height:
                self._scroll_y_to(top if downward else end - height)
            else:
                self._scroll_y_to(end - height if downward else top)
            return
        if start < sy:
            self._scroll_y_to(start)
        elif end > sy + height:
            # Show the blank line after it too when that fits.
            self._scroll_y_to(min(end + 1, self._total_height) - height)

    def _centre(self, entry: _Entry) -> None:
        height = self._viewport_height
        top = self._top_of(entry)
        size = 1 + entry.body_h
        if size >= height:
            self._scroll_y_to(top)
        else:
            self._scroll_y_to(top + size // 2 - height // 2)

    def _select_middle(self) -> None:
        if not self._layout.newer:
            return
        line = self.scroll_offset.y + self._viewport_height // 2
        found = self._locate(line)
        if found is not None:
            self._select(found[0])
        elif line < self._layout.top_h:
            self._select(self._layout.oldest)
        else:
            self._select(self._layout.newest)

    def _scroll_y_to(self, y: float) -> None:
        self.scroll_to(y=max(0, y), animate=False, immediate=True)

    def _anchor(self) -> tuple[_Entry, int, int] | None:
        """What to keep in place across a re-wrap: (message, its screen row, line offset in it)."""
        if self._follow or not self._layout.newer:
            return None
        sy = self.scroll_offset.y
        selected = self._selected
        if selected is not None and self._visible(selected):
            return selected, self._top_of(selected) - sy, 0
        found = self._locate(sy)
        if found is None:
            return None
        return found[0], 0, found[1]

    def _check_near_top(self) -> None:
        if (
            not self._layout.has_thread
            or self._at_start
            or self._loading_older
            or self._near_top_sent
            or not self._sized
        ):
            return
        if self.scroll_offset.y <= self._near_top_lines:
            self._near_top_sent = True
            self.post_message(self.NearTop(self))

    def _clear_hint(self) -> None:
        if self._new_count:
            self._new_count = 0
            self.refresh()


def _segments(text: Text, base: Style) -> list[Segment]:
    """A plain Text's segments over the widget's base style (no markup is involved)."""
    return [
        Segment(segment.text, base + segment.style if isinstance(segment.style, Style) else base)
        for segment in text.render(_wrap_console())
    ]


def _failed(message: Message) -> bool:
    try:
        return bool(message.failed)
    except Exception:  # a Message built by hand with odd fields
        return False

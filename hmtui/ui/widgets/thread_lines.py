"""How the thread view draws lines: a message's block (header, body, highlights), the status
line, day separators. A mixin of `ThreadView`, kept apart so each module stays readable; it reads
the view's state (`_layout`, `_selected`, `_tz`, styles) and builds `Strip`s.

Every string from the server goes into `Segment`s or plain `Text`, never markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.strip import Strip

from hmtui.api.models import Id, Message
from hmtui.api.semantics import MessageKind
from hmtui.cells import cell_len
from hmtui.safe_text import one_line
from hmtui.workspace.send_marks import send_label
from hmtui.ui.widgets.thread_index import (
    BODY as _BODY,
    ERROR as _ERROR,
    LINK as _LINK,
    MUTED as _MUTED,
    str_or_none as _str_or_none,
)
from hmtui.ui.widgets.thread_layout import (
    GUTTER as _GUTTER,
    GUTTER_WIDTH as _GUTTER_WIDTH,
    Entry as _Entry,
    ThreadLayout,
    header_when,
    wrap as _wrap,
    wrap_console as _wrap_console,
)

_STATUS_LOADING = "loading older…"
_STATUS_START = "start of conversation"
_STATUS_MORE = "↑ older messages load as you scroll up"


class BlockCache:
    """Built lines of messages: each as drawn unselected (least recently used dropped), and the
    selected message's apart. Moving the selection then builds one message, not two: the one it
    leaves still has its unselected lines."""

    def __init__(self, size: int) -> None:
        self._plain: LRUCache[_Entry, list[Strip]] = LRUCache(size)
        self._selected: tuple[_Entry, list[Strip]] | None = None

    def get(self, entry: _Entry, selected: bool) -> list[Strip] | None:
        if selected:
            held = self._selected
            return held[1] if held is not None and held[0] is entry else None
        return self._plain.get(entry)

    def put(self, entry: _Entry, selected: bool, strips: list[Strip]) -> None:
        if selected:
            self._selected = (entry, strips)
        else:
            self._plain[entry] = strips

    def discard(self, entry: _Entry) -> None:
        """Forget both forms of a message's lines (it changed)."""
        self._plain.discard(entry)
        if self._selected is not None and self._selected[0] is entry:
            self._selected = None

    def discard_selected(self) -> None:
        """Forget the selected form only (the cursor's style changed)."""
        self._selected = None

    def clear(self) -> None:
        self._plain.clear()
        self._selected = None

    def __len__(self) -> int:
        return len(self._plain) + (self._selected is not None)


class ThreadLines:
    """Line building for `ThreadView` (see the module docstring)."""

    if TYPE_CHECKING:  # what the view provides
        _layout: ThreadLayout
        _selected: _Entry | None
        _tz: tzinfo
        _clock: Callable[[], datetime] | None
        _today: object
        _contact: str
        _member_names: dict[Id, str]
        _loading_older: bool
        _at_start: bool
        _new_count: int
        _highlight_re: re.Pattern[str] | None
        _strips: BlockCache
        _style_cache: dict[str, Style]
        has_focus: bool
        app: object
        rich_style: Style

        def _indent(self, width: int) -> int: ...
        def _body_width(self, width: int) -> int: ...
        def get_component_rich_style(self, name: str) -> Style: ...

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
        plain = self._strips.get(entry, False) if selected else None
        if plain:
            # The unselected lines are at hand (the selection moves onto a message it showed):
            # the body differs only by its gutter's colour, so it is not wrapped again.
            return strips + _regutter(plain[1:], 1 if pad else 0,
                                      Segment(_GUTTER, base + Style(color=kind_style.color, bold=True)), gutter)
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
        mark = send_label(message)
        if mark is not None and kind is MessageKind.NOTE:  # a note has no status: its send's mark
            text.append(" · ", meta)
            text.append(one_line(mark, 80), self._style("thread-view--failed") if mark.startswith("✗") else meta)
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


def _regutter(lines: Sequence[Strip], at: int, old: Segment, new: Segment) -> list[Strip]:
    """`lines` with the gutter segment `old` (their segment number `at`) replaced by `new`;
    lines without it (the blank line, a day separator) as they are."""
    out: list[Strip] = []
    for line in lines:
        segments = list(line)
        if len(segments) > at and segments[at] == old:
            segments[at] = new
            out.append(Strip(segments, line.cell_length))
        else:
            out.append(line)
    return out


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

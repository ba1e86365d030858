"""The thread's layout, without a terminal: which message is on which virtual line.

Layout (virtual lines, top to bottom)::

    status line            ("loading older…", "start of conversation", or "↑ older messages …")
    [day separator]        (the oldest message's day, when it has a date)
    message block * n      header, wrapped body, blank, [day separator of the next message]

A message's block carries the separator that comes *after* it, so prepending older messages never
changes the height of a message already loaded, and appending changes at most the previously newest.

Messages live in two lists so both ends grow in O(batch): `older` holds prepended messages
newest-first (each prepend appends to it, growing "upwards"), `newer` holds the rest oldest-first.
Each has running sums of block heights, so the message at a line is a bisect and a message's
line is one lookup.

No Textual here (Rich only, to wrap text by cells): `ThreadView` draws this model, and tests
check it directly. Every string from the server goes through `clean_text` / `one_line`.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, tzinfo

from rich.cells import chop_cells
from rich.console import Console
from rich.text import Text

from hmtui.api.models import Id, Message
from hmtui.api.semantics import MessageKind
from hmtui.cells import cell_len
from hmtui.safe_text import clean_text, one_line
from hmtui.ui.timefmt import clock_time, day_key, label_of_day

FALLBACK_WIDTH = 80  # used to lay out before the widget has a size
GUTTER = "▌ "
GUTTER_WIDTH = 2
MIN_BODY = 4

# Paragraph kinds: how a body line is styled.
BODY, LINK, MUTED, ERROR = 0, 1, 2, 3

_console: Console | None = None


def wrap_console() -> Console:
    global _console
    if _console is None:
        _console = Console(width=FALLBACK_WIDTH, legacy_windows=False, color_system=None)
    return _console


def wrap(text: str, width: int, kind: int = 0) -> list[str]:
    """`text` (one paragraph, no newlines) wrapped to `width` cells; long words are folded.
    A link line is cut by cells, not at spaces."""
    if kind == LINK:
        return chop_cells(text, width) or [""]
    lines = Text(text, end="").wrap(wrap_console(), width, overflow="fold", no_wrap=False)
    return [line.plain for line in lines] or [""]


def sort_key(message: Message) -> tuple[float, int, int | str]:
    date = message.date
    stamp = date.timestamp() if isinstance(date, datetime) else -math.inf
    id_ = message.id
    if isinstance(id_, int) and not isinstance(id_, bool):
        return (stamp, 0, id_)
    return (stamp, 1, str(id_))


def str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def header_when(moment: datetime | None, now: datetime | None, tz: tzinfo) -> str:
    """A message header's time: "14:05" today, "Tue 3 Nov 14:05" another day this year,
    "Tue 3 Nov 2025 14:05" another year ("today" is `now`'s local day; None: clock time only)."""
    if moment is None or now is None:
        return clock_time(moment, tz)
    try:
        local = moment.astimezone(tz)
        today = now.astimezone(tz)
    except (ValueError, OverflowError, OSError):
        return clock_time(moment, tz)
    if local.date() == today.date():
        return f"{local:%H:%M}"
    if local.year == today.year:
        return f"{local:%a} {local.day} {local:%b %H:%M}"
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


class Entry:
    """One loaded message and its layout."""

    __slots__ = ("message", "older", "index", "key", "label", "paras", "body_h", "height", "sep_label")

    def __init__(self, message: Message, tz: tzinfo) -> None:
        self.message = message
        self.older = False  # which list it is in
        self.index = 0  # its index in that list
        date = message.date if isinstance(message.date, datetime) else None
        self.key = day_key(date, tz)
        self.label = label_of_day(self.key) if self.key is not None else None
        self.paras = paragraphs(message)
        self.body_h = 0
        self.height = 0
        self.sep_label: str | None = None  # the day separator drawn after this message


def paragraphs(message: Message) -> list[tuple[str, int, int]]:
    """The body as (text, cell length, kind) paragraphs, cleaned."""
    paras: list[tuple[str, int, int]] = []
    text = str_or_none(message.text)
    if text is not None:
        cleaned = clean_text(text).rstrip()
        if cleaned.strip():
            for para in cleaned.split("\n"):
                para = para.rstrip()
                paras.append((para, cell_len(para), BODY))
    for icon, value in (("📎 ", message.media), ("🔗 ", message.link_url)):
        url = str_or_none(value)
        if url is not None:
            line = icon + one_line(url)
            paras.append((line, cell_len(line), LINK))
    if not paras:
        paras.append(("(no text)", 9, MUTED))
    # The carrier's reason for a failed delivery, under the words that did not arrive.
    reason = str_or_none(message.failure) if message.kind is MessageKind.OUTBOUND else None
    if reason is not None:
        line = "✗ not delivered: " + one_line(reason, 300)
        paras.append((line, cell_len(line), ERROR))
    return paras


def indent(width: int) -> int:
    """Cells an outbound message or note is indented by at this width."""
    return min(width // 5, 40) if width >= 40 else 0


def body_width(width: int) -> int:
    return max(width - GUTTER_WIDTH - indent(width), MIN_BODY)


def measure(entry: Entry, width: int) -> None:
    """Set a message's body and block heights for `width` (wrapping only paragraphs too long)."""
    room = body_width(width)
    body = 0
    for text, length, kind in entry.paras:
        body += 1 if length <= room else len(wrap(text, room, kind))
    entry.body_h = body
    entry.height = body + 2 + (entry.sep_label is not None)


def terms(query: str | None) -> list[str]:
    """The distinct whitespace-separated terms of a search query (cleaned, in order)."""
    if not query:
        return []
    seen: set[str] = set()
    found: list[str] = []
    for term in clean_text(query, multiline=False).split():
        folded = term.casefold()
        if folded not in seen:
            seen.add(folded)
            found.append(term)
    return found


def terms_pattern(found: Sequence[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for any of `found` (longest first, so the longest wins)."""
    if not found:
        return None
    ordered = sorted(found, key=len, reverse=True)
    return re.compile("|".join(re.escape(term) for term in ordered), re.IGNORECASE)


Measure = Callable[[Entry, int], None]


class ThreadLayout:
    """The loaded messages of one thread, their heights at one width, and line arithmetic.

    `measure` is how an entry's height is found (default `measure`); the widget passes its own
    so that tests can count the wraps."""

    def __init__(self, tz: tzinfo, *, measure_entry: Measure | None = None) -> None:
        self.tz = tz
        self._measure: Measure = measure_entry or measure
        self.width = FALLBACK_WIDTH
        self.reset()

    def reset(self) -> None:
        self.older: list[Entry] = []  # newest-first
        self.older_cum: list[int] = []  # older_cum[j] = sum of heights of older[0..j]
        self.newer: list[Entry] = []  # oldest-first
        self.newer_cum: list[int] = []
        self.by_id: dict[Id, Entry] = {}
        # Messages marked `hidden`: not drawn, but kept (an export writes them, marked).
        self.hidden: dict[Id, Message] = {}
        self.top_h = 1
        self.has_thread = False

    # -- reading -----------------------------------------------------------------------------

    @property
    def message_count(self) -> int:
        """Loaded messages, the hidden ones included."""
        return len(self.older) + len(self.newer) + len(self.hidden)

    def messages(self) -> list[Message]:
        """Every loaded message, oldest first, the hidden ones included (they are not drawn)."""
        shown = self.shown_messages()
        if not self.hidden:
            return shown
        return sorted([*shown, *self.hidden.values()], key=sort_key)

    def shown_messages(self) -> list[Message]:
        return [e.message for e in reversed(self.older)] + [e.message for e in self.newer]

    def entries(self) -> Iterable[Entry]:
        """The drawn entries, oldest first."""
        yield from reversed(self.older)
        yield from self.newer

    def has_message(self, message_id: Id) -> bool:
        return message_id in self.by_id or message_id in self.hidden

    def get(self, message_id: Id) -> Entry | None:
        try:
            return self.by_id.get(message_id)
        except TypeError:  # an unhashable id
            return None

    def matching_ids(self, query: str) -> list[Id]:
        """Ids of the loaded messages whose body contains every term of `query`
        (case-insensitive), oldest first. O(loaded messages)."""
        patterns = [re.compile(re.escape(term), re.IGNORECASE) for term in terms(query)]
        if not patterns:
            return []
        found: list[Id] = []
        for entry in self.entries():
            body = "\n".join(text for text, _, kind in entry.paras if kind == BODY)
            if body and all(pattern.search(body) for pattern in patterns):
                found.append(entry.message.id)
        return found

    # -- changing --------------------------------------------------------------------------

    def new_entries(self, messages: Iterable[Message], loaded: Mapping[Id, object] | set[Id]) -> list[Entry]:
        """Entries for the messages not yet loaded, oldest first, without duplicates (hidden ones
        are kept aside in `hidden`)."""
        seen: set[Id] = set()
        fresh: list[Message] = []
        for message in messages:
            if not isinstance(message, Message):
                continue
            try:
                if message.id in loaded or message.id in seen or message.id in self.hidden:
                    continue
                seen.add(message.id)
            except TypeError:  # an unhashable id
                continue
            if message.hidden:
                self.hidden[message.id] = message
                continue
            fresh.append(message)
        fresh.sort(key=sort_key)
        return [Entry(message, self.tz) for message in fresh]

    def set_thread(self, messages: Sequence[Message]) -> None:
        """Replace everything with these messages."""
        self.reset()
        entries = self.new_entries(messages, set())
        self.has_thread = True
        self.link_separators(entries, None)
        self.push_newer(entries)
        self.set_top()

    def prepend(self, older: Sequence[Message]) -> int:
        """Put older messages on top; the lines added above what was loaded (0: none new).
        No loaded message changes height."""
        self.has_thread = True
        entries = self.new_entries(older, self.by_id)
        if not entries:
            return 0
        old_height = self.total_height
        if not self.newer:  # nothing loaded yet: this is the whole thread
            self.link_separators(entries, None)
            self.push_newer(entries)
            self.set_top()
            return self.total_height - old_height
        self.link_separators(entries, self.oldest)
        for entry in reversed(entries):
            self._measure(entry, self.width)
            entry.older = True
            entry.index = len(self.older)
            self.older.append(entry)
            self.older_cum.append((self.older_cum[-1] if self.older_cum else 0) + entry.height)
            self.by_id[entry.message.id] = entry
        self.set_top()
        return self.total_height - old_height

    def append(self, newer: Sequence[Message]) -> tuple[list[Entry], Entry | None]:
        """Put new messages at the bottom: (the entries added, the previously newest entry if its
        height changed because a day separator now follows it)."""
        entries = self.new_entries(newer, self.by_id)
        if not entries:
            return [], None
        self.has_thread = True
        changed: Entry | None = None
        if self.newer:
            last = self.newer[-1]
            self.link_separators([last, entries[0]], None)
            old = last.height
            self._measure(last, self.width)
            if last.height != old:
                self.newer_cum[-1] += last.height - old
                changed = last
        self.link_separators(entries, None)
        self.push_newer(entries)
        self.set_top()
        return entries, changed

    def relayout(self, width: int) -> None:
        """Measure every message again for a new width."""
        self.width = width
        for entries, cum in ((self.older, self.older_cum), (self.newer, self.newer_cum)):
            cum.clear()
            total = 0
            for entry in entries:
                self._measure(entry, width)
                total += entry.height
                cum.append(total)
        self.set_top()

    @staticmethod
    def link_separators(entries: Sequence[Entry], following: Entry | None) -> None:
        """Set each entry's separator from the entry after it (the last one's from `following`)."""
        for i, entry in enumerate(entries):
            after = entries[i + 1] if i + 1 < len(entries) else following
            if after is not None and after.key is not None and after.key != entry.key:
                entry.sep_label = after.label
            else:
                entry.sep_label = None

    def push_newer(self, entries: Sequence[Entry]) -> None:
        total = self.newer_cum[-1] if self.newer_cum else 0
        for entry in entries:
            self._measure(entry, self.width)
            entry.older = False
            entry.index = len(self.newer)
            self.newer.append(entry)
            total += entry.height
            self.newer_cum.append(total)
            self.by_id[entry.message.id] = entry

    def set_top(self) -> None:
        oldest = self.oldest
        self.top_h = 2 if oldest is not None and oldest.label is not None else 1

    # -- line arithmetic -------------------------------------------------------------------

    @property
    def older_total(self) -> int:
        return self.older_cum[-1] if self.older_cum else 0

    @property
    def total_height(self) -> int:
        if not self.newer:
            return 2 if self.has_thread else 0
        return self.top_h + self.older_total + (self.newer_cum[-1] if self.newer_cum else 0)

    @property
    def oldest(self) -> Entry | None:
        if self.older:
            return self.older[-1]
        return self.newer[0] if self.newer else None

    @property
    def newest(self) -> Entry | None:
        return self.newer[-1] if self.newer else None

    def next(self, entry: Entry) -> Entry | None:
        if entry.older:
            if entry.index > 0:
                return self.older[entry.index - 1]
            return self.newer[0] if self.newer else None
        return self.newer[entry.index + 1] if entry.index + 1 < len(self.newer) else None

    def prev(self, entry: Entry) -> Entry | None:
        if entry.older:
            return self.older[entry.index + 1] if entry.index + 1 < len(self.older) else None
        if entry.index > 0:
            return self.newer[entry.index - 1]
        return self.older[0] if self.older else None

    def top_of(self, entry: Entry) -> int:
        """The virtual line of a message's header."""
        if entry.older:
            return self.top_h + self.older_total - self.older_cum[entry.index]
        before = self.newer_cum[entry.index - 1] if entry.index else 0
        return self.top_h + self.older_total + before

    def above(self, entry: Entry) -> int:
        """Lines above a message's header worth showing with it (its day separator, or the top)."""
        previous = self.prev(entry)
        if previous is None:
            return self.top_of(entry)
        return 1 if previous.sep_label is not None else 0

    def locate(self, line: int) -> tuple[Entry, int] | None:
        """The message drawn at a virtual line, and the line's offset in its block."""
        y = line - self.top_h
        if y < 0:
            return None
        older_total = self.older_total
        if y < older_total:
            j = bisect_left(self.older_cum, older_total - y)
            return self.older[j], y - (older_total - self.older_cum[j])
        y -= older_total
        i = bisect_right(self.newer_cum, y)
        if i >= len(self.newer):
            return None
        return self.newer[i], y - (self.newer_cum[i - 1] if i else 0)

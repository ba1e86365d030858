"""The thread's layout, without a terminal: which message is on which virtual line.

Layout (virtual lines, top to bottom)::

    status line            ("loading older…", "start of conversation", or "↑ older messages …")
    [day separator]        (the oldest message's day, when it has a date)
    message block * n      header, wrapped body, blank, [day separator of the next message]

A message's block carries the separator that comes *after* it, so prepending older messages never
changes the height of a message already loaded, and appending changes at most the previously newest.

Messages live in two arrays-of-rows so both ends grow in O(batch): `older` holds prepended
messages newest-first (each prepend appends to it, growing "upwards"), `newer` holds the rest
oldest-first. Each has running sums of block heights, so the message at a line is a bisect and a
message's line is one lookup. The text of a message is held only near the screen when the view
windows the thread (see `ThreadLayout`).

No Textual here (Rich only, to wrap text by cells): `ThreadView` draws this model, and tests
check it directly. Every string from the server goes through `clean_text` / `one_line`.
"""

from __future__ import annotations

import math
import operator
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from datetime import datetime, tzinfo

from rich.cells import chop_cells
from rich.console import Console
from rich.text import Text

from hmtui.api.id_index import IdMap
from hmtui.api.models import Id, Message, time_id_order
from hmtui.safe_text import clean_text
from hmtui.ui.timefmt import clock_time, day_key, label_of_day
from hmtui.ui.widgets.thread_index import (
    BODY,
    LINK,
    IndexSide,
    day_code,
    day_of_code,
    estimate_body,
    index_rows,
    paragraphs,
)

FALLBACK_WIDTH = 80  # used to lay out before the widget has a size
GUTTER = "▌ "
GUTTER_WIDTH = 2
MIN_BODY = 4

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
    return id_order(date.timestamp() if isinstance(date, datetime) else -math.inf, message.id)


id_order = time_id_order  # the thread's order of (time, id), shared with the spill
_DATE_ID = operator.attrgetter("date", "id")  # the same order for dated messages with int ids


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
    """One message of the thread and its layout. Only the messages near the screen have one
    (see `ThreadLayout`); a *stub* (`message` None) stands for a message whose text is on its
    way back from the spill: it has the height the index knows and draws as a placeholder."""

    __slots__ = ("message", "pos", "key", "label", "paras", "body_h", "height", "sep_label", "pinned")

    def __init__(self, message: Message | None, tz: tzinfo, pos: int = 0) -> None:
        self.pos = pos  # its place in the thread (see ThreadLayout)
        self.body_h = 0
        self.height = 0
        self.sep_label: str | None = None  # the day separator drawn after this message
        self.pinned = False  # not in the spill (a send mark): never evicted
        self.message: Message | None = None
        self.key: tuple[int, int, int] | None = None
        self.label: str | None = None
        self.paras: list[tuple[str, int, int]] = []
        if message is not None:
            self.load(message, tz)

    def load(self, message: Message, tz: tzinfo) -> None:
        self.message = message
        date = message.date if isinstance(message.date, datetime) else None
        self.key = day_key(date, tz)
        self.label = label_of_day(self.key) if self.key is not None else None
        self.paras = paragraphs(message)

    @property
    def older(self) -> bool:
        return self.pos < 0


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


def _stamp(message: Message) -> float:
    date = message.date
    return date.timestamp() if isinstance(date, datetime) else -math.inf


class ThreadLayout:
    """The messages of one thread, their heights at one width, and line arithmetic.

    Every loaded message has a *position*: 0, 1, 2… for the first batch and what is appended
    after it, -1, -2… for what is prepended (older) above it, so positions never change and
    ascending is oldest first. An *index* (`IndexSide`, thread_index.py) keeps a few numbers per
    position in arrays (time, height and running sums, day, what a height is estimated from):
    about 40 bytes a message, so a thread of 100,000 costs a few MiB. `Entry` objects (the text,
    cleaned and split) exist only for the positions in `live`: all of them unless the view
    windows the thread (ThreadView, with a page source), then only those near the screen; a
    position without one gets a stub (`entry(pos)`) until `fill` brings its message back.

    Heights are measured when a message arrives and when it is drawn; a new width re-measures only
    the live messages and estimates the rest (`estimate_body`), and `fill` corrects an estimate
    when the message comes back (it returns the changes, so the view can keep the screen still).

    `measure` is how an entry's height is found (default `measure`); the widget passes its own
    so that tests can count the wraps."""

    def __init__(self, tz: tzinfo, *, measure_entry: Measure | None = None) -> None:
        self.tz = tz
        self._measure: Measure = measure_entry or measure
        self.width = FALLBACK_WIDTH
        self.reset()

    def reset(self) -> None:
        self.older = IndexSide()  # positions -1, -2, … (newest first)
        self.newer = IndexSide()  # positions 0, 1, … (oldest first)
        self.ids = IdMap()  # message id → position
        self.live: dict[int, Entry] = {}
        self.removed = 0  # positions of removed messages (a send mark the server replaced)
        # Messages marked `hidden`: not drawn, but kept (an export writes them, marked).
        self.hidden: dict[Id, Message] = {}
        self.top_h = 1
        self.has_thread = False

    # -- positions ---------------------------------------------------------------------------

    def _at(self, pos: int) -> tuple[IndexSide, int]:
        return (self.older, -pos - 1) if pos < 0 else (self.newer, pos)

    @property
    def first_pos(self) -> int:
        return -len(self.older)

    @property
    def last_pos(self) -> int:
        return len(self.newer) - 1

    def _valid(self, pos: int) -> bool:
        return self.first_pos <= pos <= self.last_pos

    def height_at(self, pos: int) -> int:
        side, i = self._at(pos)
        return side.height[i]

    def stamp_at(self, pos: int) -> float:
        side, i = self._at(pos)
        return side.stamp[i]

    def pos_of(self, message_id: Id) -> int | None:
        try:
            pos = self.ids.get(message_id)
        except TypeError:  # an unhashable id
            return None
        if pos is None or not self._valid(int(pos)) or self.height_at(int(pos)) == 0:
            return None
        return int(pos)

    def _step(self, pos: int, step: int) -> int | None:
        """The next position in a direction that holds a message (removed ones are skipped)."""
        pos += step
        while self._valid(pos):
            if self.height_at(pos):
                return pos
            pos += step
        return None

    def _sep_after(self, pos: int) -> str | None:
        following = self._step(pos, 1)
        if following is None:
            return None
        here, there = self._day(pos), self._day(following)
        return label_of_day(day_of_code(there)) if there and there != here else None  # type: ignore[arg-type]

    def _day(self, pos: int) -> int:
        side, i = self._at(pos)
        return side.day[i]

    # -- reading -----------------------------------------------------------------------------

    @property
    def message_count(self) -> int:
        """Loaded messages, the hidden ones included."""
        return len(self.older) + len(self.newer) - self.removed + len(self.hidden)

    def messages(self) -> list[Message]:
        """The live messages, oldest first, the hidden ones included (they are not drawn): every
        loaded message unless the view windows the thread."""
        shown = self.shown_messages()
        if not self.hidden:
            return shown
        return sorted([*shown, *self.hidden.values()], key=sort_key)

    def shown_messages(self) -> list[Message]:
        return [e.message for e in self.entries() if e.message is not None]

    def entries(self) -> Iterable[Entry]:
        """The live entries that are drawn, oldest first (stubs included)."""
        for pos in sorted(self.live):
            if self.height_at(pos):
                yield self.live[pos]

    def has_message(self, message_id: Id) -> bool:
        return self.pos_of(message_id) is not None or message_id in self.hidden

    def ids_in_order(self) -> list[Id]:
        """The ids of every loaded message, oldest first, the hidden ones included, as
        `messages` would give them with all in memory (O(n log n): tests and tools, not keys)."""
        placed = sorted(((pos, key) for key in self.ids.keys() if (pos := self.pos_of(key)) is not None),
                        key=lambda pair: pair[0])
        if not self.hidden:
            return [key for _, key in placed]
        keyed = [(id_order(self.stamp_at(pos), key), key) for pos, key in placed]
        keyed += [(sort_key(m), m.id) for m in self.hidden.values()]
        return [key for _, key in sorted(keyed, key=lambda pair: pair[0])]

    def get(self, message_id: Id) -> Entry | None:
        pos = self.pos_of(message_id)
        return self.entry(pos) if pos is not None else None

    def entry(self, pos: int) -> Entry:
        """The entry at a position: the live one, or a stub made for it (see the class)."""
        found = self.live.get(pos)
        if found is not None:
            return found
        stub = Entry(None, self.tz, pos)
        side, i = self._at(pos)
        stub.height = side.height[i]
        stub.key = day_of_code(side.day[i])
        stub.label = label_of_day(stub.key) if stub.key is not None else None
        stub.sep_label = self._sep_after(pos)
        stub.body_h = max(stub.height - 2 - (stub.sep_label is not None), 1)
        self.live[pos] = stub
        return stub

    def matching_ids(self, query: str) -> list[Id]:
        """Ids of the live messages whose body contains every term of `query`
        (case-insensitive), oldest first. O(live messages)."""
        patterns = [re.compile(re.escape(term), re.IGNORECASE) for term in terms(query)]
        if not patterns:
            return []
        found: list[Id] = []
        for entry in self.entries():
            if entry.message is None:
                continue
            body = "\n".join(text for text, _, kind in entry.paras if kind == BODY)
            if body and all(pattern.search(body) for pattern in patterns):
                found.append(entry.message.id)
        return found

    # -- changing --------------------------------------------------------------------------

    def new_entries(self, messages: Iterable[Message], loaded: object = None) -> list[Entry]:
        """Entries for the messages not yet loaded, oldest first, without duplicates (hidden ones
        are kept aside in `hidden`). `loaded` is not used (kept for callers of the old form)."""
        return [Entry(message, self.tz) for message in self._fresh(messages)]

    def _fresh(self, messages: Iterable[Message]) -> list[Message]:
        """The messages not yet loaded, oldest first, without duplicates; hidden ones go aside."""
        batch = [message for message in messages if isinstance(message, Message)]
        fresh = self._all_new(batch)
        if fresh is None:
            fresh = self._new_of(batch)
        # Pages come newest first: reversed, they are usually in order already. A whole history
        # passes here, so the common case is checked in C: dated messages with int ids, whose
        # (date, id) orders as `sort_key` does.
        fresh.reverse()
        keys: list[object]
        if all(type(message.id) is int and message.date is not None for message in fresh):
            keys = list(map(_DATE_ID, fresh))
        else:
            keys = [sort_key(message) for message in fresh]
        if not all(map(operator.lt, keys, islice(keys, 1, None))):
            fresh.sort(key=sort_key)
        return fresh

    def _all_new(self, batch: list[Message]) -> list[Message] | None:
        """`batch` less its hidden messages when none of it is loaded, hidden or repeated (a
        page of a whole history), decided without a lookup per message; None: not known."""
        ids = [message.id for message in batch]
        try:
            if len(set(ids)) != len(ids) or not self.hidden.keys().isdisjoint(ids) or not self.ids.surely_new(ids):
                return None
        except TypeError:  # an unhashable id
            return None
        if not any(message.hidden for message in batch):
            return batch
        shown = []
        for message in batch:
            if message.hidden:
                self.hidden[message.id] = message
            else:
                shown.append(message)
        return shown

    def _new_of(self, batch: list[Message]) -> list[Message]:
        seen: set[Id] = set()
        fresh: list[Message] = []
        hidden, placed = self.hidden, self.ids.get
        for message in batch:
            key = message.id
            try:
                if key in seen or key in hidden or (placed(key) is not None and self.pos_of(key) is not None):
                    continue
                seen.add(key)
            except TypeError:  # an unhashable id
                continue
            if message.hidden:
                hidden[key] = message
                continue
            fresh.append(message)
        return fresh

    def set_thread(self, messages: Sequence[Message]) -> None:
        """Replace everything with these messages."""
        self.reset()
        entries = self.new_entries(messages)
        self.has_thread = True
        self.link_separators(entries, None)
        self.push_newer(entries)
        self.set_top()

    def prepend(self, older: Sequence[Message], keep: int | None = None) -> int:
        """Put older messages on top; the lines added above what was loaded (0: none new).
        No loaded message changes height.

        `keep`: how many of the newest of them get an entry (None: all). The rest get only their
        row in the index, with an estimated height (`index_rows`): a whole-history load prepends
        thousands of messages far above the screen, and would otherwise build, measure and then
        drop an entry for each."""
        self.has_thread = True
        fresh = self._fresh(older)
        if not fresh:
            return 0
        old_height = self.total_height
        if not self.newer:  # nothing loaded yet: this is the whole thread
            entries = [Entry(message, self.tz) for message in fresh]
            self.link_separators(entries, None)
            self.push_newer(entries)
            self.set_top()
            return self.total_height - old_height
        first = self._step(self.first_pos - 1, 1)
        following = self._day(first) if first is not None else 0
        cut = 0 if keep is None else max(len(fresh) - max(keep, 0), 0)
        entries = [Entry(message, self.tz) for message in fresh[cut:]]
        self.link_separators(entries, day_of_code(following))
        for entry in reversed(entries):
            self._measure(entry, self.width)
            entry.pos = -len(self.older) - 1
            self.older.push(entry, _stamp(entry.message))  # type: ignore[arg-type]
            self._own(entry)
        if cut:
            self._push_older_rows(fresh[:cut], day_code(entries[0].key) if entries else following)
        self.set_top()
        return self.total_height - old_height

    def _push_older_rows(self, messages: Sequence[Message], following: int) -> None:
        """Index rows, and no entries, for `messages` (oldest first, older than everything
        loaded); `following` is the day code of the message after the newest of them."""
        room = body_width(self.width)
        rows = index_rows(reversed(messages), self.tz, room, following)
        first = -len(self.older) - 1
        self.ids.update(zip([message.id for message in reversed(messages)], range(first, first - len(messages), -1)))
        self.older.extend(*rows)

    def append(self, newer: Sequence[Message]) -> tuple[list[Entry], Entry | None]:
        """Put new messages at the bottom: (the entries added, the previously newest entry if its
        height changed because a day separator now follows it)."""
        entries = self.new_entries(newer)
        if not entries:
            return [], None
        self.has_thread = True
        changed: Entry | None = None
        last = self._step(self.last_pos + 1, -1)
        if last is not None:
            entry = self.entry(last)
            self.link_separators([entry, entries[0]], None)
            old = entry.height
            if entry.message is not None:
                self._measure(entry, self.width)
            else:
                entry.height = entry.body_h + 2 + (entry.sep_label is not None)
            if entry.height != old:
                self._set_height(last, entry.height)
                changed = entry
        self.link_separators(entries, None)
        self.push_newer(entries)
        self.set_top()
        return entries, changed

    def replace(self, message: Message) -> Entry | None:
        """A message loaded before, changed (a send mark's state): its entry again; None if it
        is not loaded."""
        pos = self.pos_of(message.id)
        if pos is None:
            return None
        entry = self.entry(pos)
        entry.load(message, self.tz)
        entry.sep_label = self._sep_after(pos)
        self._measure(entry, self.width)
        self._set_height(pos, entry.height)
        return entry

    def remove(self, message_id: Id) -> bool:
        """Take a message out (a send mark the server replaced, or dropped): its position stays,
        empty. False if it was not loaded."""
        pos = self.pos_of(message_id)
        if pos is None:
            return False
        previous = self._step(pos, -1)
        self._set_height(pos, 0)
        self.live.pop(pos, None)
        self.removed += 1
        if previous is not None:  # the separator after it may change
            entry = self.entry(previous)
            entry.sep_label = self._sep_after(previous)
            height = entry.body_h + 2 + (entry.sep_label is not None)
            if height != entry.height:
                entry.height = height
                self._set_height(previous, height)
        self.set_top()
        return True

    def _set_height(self, pos: int, height: int) -> None:
        side, i = self._at(pos)
        if side.height[i] != height:
            side.height[i] = height
            side.resum(i)

    def _own(self, entry: Entry) -> None:
        self.ids[entry.message.id] = entry.pos  # type: ignore[union-attr]
        self.live[entry.pos] = entry

    def fill(self, messages: Iterable[Message]) -> list[tuple[int, int]]:
        """Messages read back from the spill: their stubs (or missing entries) get them, measured.
        Returns (position, height change) for each estimate that was off."""
        changed: list[tuple[int, int]] = []
        starts = {id(self.older): None, id(self.newer): None}
        for message in messages:
            if not isinstance(message, Message):
                continue
            pos = self.pos_of(message.id)
            if pos is None:
                continue
            entry = self.live.get(pos)
            if entry is not None and entry.message is not None:
                continue
            if entry is None:
                entry = Entry(message, self.tz, pos)
                self.live[pos] = entry
            else:
                entry.load(message, self.tz)
            entry.sep_label = self._sep_after(pos)
            self._measure(entry, self.width)
            side, i = self._at(pos)
            if side.height[i] != entry.height:
                changed.append((pos, entry.height - side.height[i]))
                side.height[i] = entry.height
                start = starts[id(side)]
                starts[id(side)] = i if start is None else min(start, i)
        for side in (self.older, self.newer):
            start = starts[id(side)]
            if start is not None:
                side.resum(start)
        return changed

    def evict(self, keep: Callable[[Entry], bool]) -> list[Entry]:
        """Drop the live entries `keep` refuses (the view keeps those near the screen)."""
        gone = [entry for entry in self.live.values() if not entry.pinned and not keep(entry)]
        for entry in gone:
            del self.live[entry.pos]
        return gone

    def missing(self, lo: int, hi: int) -> tuple[int, int] | None:
        """The first and last positions in [lo, hi] without a message in memory (None: none)."""
        lo, hi = max(lo, self.first_pos), min(hi, self.last_pos)
        first = last = None
        live = self.live
        for pos in range(lo, hi + 1):
            entry = live.get(pos)
            if (entry is None or entry.message is None) and self.height_at(pos):
                if first is None:
                    first = pos
                last = pos
        return None if first is None else (first, last)  # type: ignore[return-value]

    def relayout(self, width: int) -> None:
        """Heights for a new width: the live messages measured, the others estimated (one pass
        over the arrays; a removed message's neighbours may be a separator off until drawn)."""
        self.width = width
        room = body_width(width)
        live = self.live
        first_newer_day = self.newer.day[0] if self.newer else 0
        for side, newer in ((self.older, False), (self.newer, True)):
            height, day, npara, cells, longest = side.height, side.day, side.npara, side.cells, side.longest
            count = len(height)
            for i in range(count):
                if not height[i]:
                    continue
                pos = i if newer else -i - 1
                entry = live.get(pos)
                if entry is not None and entry.message is not None:
                    self._measure(entry, width)
                    height[i] = entry.height
                    continue
                if newer:
                    following = day[i + 1] if i + 1 < count else 0
                else:
                    following = day[i - 1] if i else first_newer_day
                sep = 1 if following and following != day[i] else 0
                body = npara[i] if longest[i] <= room else estimate_body(npara[i], cells[i], longest[i], room)
                height[i] = body + 2 + sep
                if entry is not None:  # a stub
                    entry.height, entry.body_h = height[i], body
            side.resum(0)
        self.set_top()

    @staticmethod
    def link_separators(entries: Sequence[Entry], following: Entry | tuple[int, int, int] | None) -> None:
        """Set each entry's separator from the entry after it (the last one's from `following`:
        an entry or a day key)."""
        for i, entry in enumerate(entries):
            after = entries[i + 1] if i + 1 < len(entries) else following
            key = after.key if isinstance(after, Entry) else after
            if key is not None and key != entry.key:
                entry.sep_label = label_of_day(key)
            else:
                entry.sep_label = None

    def push_newer(self, entries: Sequence[Entry]) -> None:
        for entry in entries:
            self._measure(entry, self.width)
            entry.pos = len(self.newer)
            self.newer.push(entry, _stamp(entry.message))  # type: ignore[arg-type]
            self._own(entry)

    def set_top(self) -> None:
        first = self._step(self.first_pos - 1, 1)
        self.top_h = 2 if first is not None and self._day(first) else 1

    # -- line arithmetic -------------------------------------------------------------------

    @property
    def older_total(self) -> int:
        return self.older.total

    @property
    def total_height(self) -> int:
        if not self.newer:
            return 2 if self.has_thread else 0
        return self.top_h + self.older.total + self.newer.total

    @property
    def oldest(self) -> Entry | None:
        pos = self._step(self.first_pos - 1, 1)
        return self.entry(pos) if pos is not None else None

    @property
    def newest(self) -> Entry | None:
        pos = self._step(self.last_pos + 1, -1)
        return self.entry(pos) if pos is not None else None

    @property
    def oldest_label(self) -> str | None:
        """The day label drawn above the oldest message."""
        pos = self._step(self.first_pos - 1, 1)
        key = day_of_code(self._day(pos)) if pos is not None else None
        return label_of_day(key) if key is not None else None

    def next(self, entry: Entry) -> Entry | None:
        pos = self._step(entry.pos, 1)
        return self.entry(pos) if pos is not None else None

    def prev(self, entry: Entry) -> Entry | None:
        pos = self._step(entry.pos, -1)
        return self.entry(pos) if pos is not None else None

    def top_of(self, entry: Entry | int) -> int:
        """The virtual line of a message's header (an entry, or a position)."""
        pos = entry.pos if isinstance(entry, Entry) else entry
        if pos < 0:
            j = -pos - 1
            return self.top_h + self.older.total - self.older.cum[j]
        before = self.newer.cum[pos - 1] if pos else 0
        return self.top_h + self.older.total + before

    def above(self, entry: Entry) -> int:
        """Lines above a message's header worth showing with it (its day separator, or the top)."""
        previous = self._step(entry.pos, -1)
        if previous is None:
            return self.top_of(entry)
        return 1 if self._sep_after(previous) is not None else 0

    def pos_at(self, line: int) -> tuple[int, int] | None:
        """The position drawn at a virtual line, and the line's offset in its block."""
        y = line - self.top_h
        if y < 0:
            return None
        older_total = self.older.total
        if y < older_total:
            cum = self.older.cum
            j = bisect_left(cum, older_total - y)
            return -j - 1, y - (older_total - cum[j])
        y -= older_total
        cum = self.newer.cum
        i = bisect_right(cum, y)
        if i >= len(cum):
            return None
        return i, y - (cum[i - 1] if i else 0)

    def locate(self, line: int) -> tuple[Entry, int] | None:
        """The message drawn at a virtual line (a stub if it is not in memory), and the line's
        offset in its block."""
        found = self.pos_at(line)
        if found is None:
            return None
        return self.entry(found[0]), found[1]

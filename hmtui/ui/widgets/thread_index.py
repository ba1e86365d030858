"""The thread's compact index and the shapes of its texts (no Textual here).

Every loaded message has a row of numbers in arrays (`IndexSide`): its time, its block height
and their running sums, its local day, and what that height is estimated from at another width
(paragraphs, cells, longest paragraph). A message's *shape* is those three numbers, as its
paragraphs (`paragraphs`: the cleaned body, attachments, failure reason) give them; `text_shape`
gets them without building the paragraphs for nearly every text, `index_rows` for a whole batch,
and `estimate_body` turns them into body lines at a width. `ThreadLayout`
(hmtui/ui/widgets/thread_layout.py) keeps the rows and the few entries near the screen.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterable
from datetime import datetime, tzinfo
from itertools import accumulate, islice
from typing import TYPE_CHECKING

from hmtui.api.models import Message
from hmtui.api.semantics import MessageKind
from hmtui.cells import cell_len
from hmtui.safe_text import clean_text, one_line

if TYPE_CHECKING:
    from hmtui.ui.widgets.thread_layout import Entry

MEDIA_ICON = "📎 "  # before a media URL

# Paragraph kinds: how a body line is styled.
BODY, LINK, MUTED, ERROR = 0, 1, 2, 3


def str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def day_code(key: tuple[int, int, int] | None) -> int:
    """A day key in 4 bytes (0: undated)."""
    return 0 if key is None else key[0] * 10_000 + key[1] * 100 + key[2]


def day_of_code(code: int) -> tuple[int, int, int] | None:
    return None if code == 0 else (code // 10_000, code // 100 % 100, code % 100)


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
    for icon, value in ((MEDIA_ICON, message.media), ("🔗 ", message.link_url)):
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


def estimate_body(npara: int, cells: int, longest: int, room: int) -> int:
    """Body lines of a message not measured at this width: exact when no paragraph wraps (most
    texts), else about what folding the cells into `room` takes; corrected when it is drawn."""
    if longest <= room:
        return npara
    return max(npara, npara - 1 + -(-cells // max(room, 1)))


# Anything but printable ASCII and newlines: such a text is not one cell a character.
_NOT_PLAIN = re.compile(r"[^\x20-\x7e\n]")
# What `clean_text` would change (hmtui/safe_text.py: C0 but the newline, DEL, C1, bidi controls,
# surrogates; a CR is a C0): a text with none of it is its own cleaned form.
_UNCLEAN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_PLAIN_URL = re.compile(r"[\x21-\x7e]+")  # what `one_line` leaves as it is, one cell a character
_MEDIA_ICON_CELLS = cell_len(MEDIA_ICON)


def text_shape(message: Message) -> tuple[int, int, int]:
    """(paragraphs, cells, longest paragraph) of a message's block as `paragraphs` splits it.
    A text that cleaning leaves as it is (nearly all: emoji and other scripts too), alone or with
    a plain ASCII media URL, is measured without building the paragraphs."""
    text, media = message.text, message.media
    if (type(text) is str and message.link_url is None and message.failure is None and text.strip()
            and (media is None or (type(media) is str and _PLAIN_URL.fullmatch(media)))):
        if not _NOT_PLAIN.search(text):
            lengths = [len(line.rstrip()) for line in text.rstrip().split("\n")]
        elif not _UNCLEAN.search(text):
            lengths = [cell_len(line.rstrip()) for line in text.rstrip().split("\n")]
        else:
            lengths = []
        if lengths:
            if media is not None:
                lengths.append(_MEDIA_ICON_CELLS + len(media))  # the "📎 url" line
            return len(lengths), sum(lengths), max(lengths)
    lengths = [length for _, length, _ in paragraphs(message)]
    return len(lengths), sum(lengths), max(lengths)


def index_rows(messages: Iterable[Message], tz: tzinfo, room: int, following: int
               ) -> tuple[list[float], list[int], list[int], list[int], list[int], list[int]]:
    """The index's columns (stamp, estimated height, day code, paragraphs, cells, longest) for
    `messages`, newest first; `following` is the day code of the message after the first one
    (its day separator is drawn when the days differ)."""
    stamps: list[float] = []
    heights: list[int] = []
    days: list[int] = []
    nparas: list[int] = []
    cellss: list[int] = []
    longests: list[int] = []
    plain = _NOT_PLAIN.search
    for message in messages:
        date = message.date
        if isinstance(date, datetime):
            stamp = date.timestamp()
            local = date.astimezone(tz)
            day = local.year * 10_000 + local.month * 100 + local.day  # day_code(day_key(date, tz))
        else:
            stamp, day = -math.inf, 0
        text = message.text
        # text_shape's plain case, inline: it is most messages, and this loop is a whole history.
        if (type(text) is str and "\n" not in text and message.media is None and message.link_url is None
                and message.failure is None and not plain(text) and (cells := len(text.rstrip()))):
            npara, longest = 1, cells
        else:
            npara, cells, longest = text_shape(message)
            npara, cells, longest = min(npara, 65_535), min(cells, 2**31 - 1), min(longest, 2**31 - 1)
        body = npara if longest <= room else estimate_body(npara, cells, longest, room)
        heights.append(body + 2 + (1 if following and following != day else 0))
        stamps.append(stamp)
        days.append(day)
        nparas.append(npara)
        cellss.append(cells)
        longests.append(longest)
        following = day
    return stamps, heights, days, nparas, cellss, longests


class IndexSide:
    """One direction of growth of the thread's index: a row per message, in arrays."""

    __slots__ = ("stamp", "height", "cum", "day", "npara", "cells", "longest")

    def __init__(self) -> None:
        self.stamp = array("d")  # Unix seconds (-inf: undated)
        self.height = array("i")  # block height at the layout's width (0: removed)
        self.cum = array("q")  # running sums of `height`
        self.day = array("i")  # day_code of the local day
        self.npara = array("H")  # what a height is estimated from at another width
        self.cells = array("i")
        self.longest = array("i")

    def __len__(self) -> int:
        return len(self.height)

    @property
    def total(self) -> int:
        return self.cum[-1] if self.cum else 0

    def push(self, entry: Entry, stamp: float) -> None:
        lengths = [length for _, length, _ in entry.paras] or [0]
        self.stamp.append(stamp)
        self.height.append(entry.height)
        self.cum.append(self.total + entry.height)
        self.day.append(day_code(entry.key))
        self.npara.append(min(len(entry.paras), 65_535))
        self.cells.append(min(sum(lengths), 2**31 - 1))
        self.longest.append(min(max(lengths), 2**31 - 1))

    def extend(self, stamps: list[float], heights: list[int], days: list[int], npara: list[int],
               cells: list[int], longest: list[int]) -> None:
        """Rows for many messages at once (each column extended in one call)."""
        base = self.total
        self.stamp.extend(stamps)
        self.height.extend(heights)
        self.cum.extend(islice(accumulate(heights, initial=base), 1, None))
        self.day.extend(days)
        self.npara.extend(npara)
        self.cells.extend(cells)
        self.longest.extend(longest)

    def resum(self, start: int) -> None:
        """Running sums again from `start` (one pass in C)."""
        if start >= len(self.height):
            return
        base = self.cum[start - 1] if start else 0
        self.cum[start:] = array("q", accumulate(self.height[start:], initial=base))[1:]

"""The thread's pure layout model (hmtui.ui.widgets.thread_layout): no terminal, no Textual."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from hmtui.api.models import Message, format_datetime
from hmtui.ui.widgets.thread_layout import Entry, ThreadLayout, body_width, header_when, wrap

BASE = datetime(2024, 1, 9, 9, 0, tzinfo=timezone.utc)  # a Tuesday
UTC = timezone.utc


def msg(i: int, *, date: Any = None, text: str | None = None, **fields: Any) -> Message:
    if date is None:
        date = BASE + timedelta(minutes=10 * i)
    raw: dict[str, Any] = {"id": i, "date": format_datetime(date) if isinstance(date, datetime) else date,
                           "text": f"message {i}" if text is None else text}
    raw.update(fields)
    message = Message.from_raw(raw)
    assert message is not None
    return message


def lines_of(model: ThreadLayout) -> list[tuple[int, int] | None]:
    """What every virtual line shows: (message id, offset in its block), or None above them."""
    out: list[tuple[int, int] | None] = []
    for line in range(model.total_height):
        found = model.locate(line)
        out.append(None if found is None else (found[0].message.id, found[1]))
    return out


def test_no_textual_in_the_layout_module() -> None:
    import subprocess

    code = ("import sys, hmtui.ui.widgets.thread_layout, hmtui.ui.widgets.thread_index;"
            " print('textual' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_heights_and_positions() -> None:
    model = ThreadLayout(UTC)
    model.set_thread([msg(i) for i in range(3)])
    # One day: a separator on top (status + day), then header, body, blank per message.
    assert model.top_h == 2
    assert [e.height for e in model.entries()] == [3, 3, 3]
    assert model.total_height == 2 + 9
    assert [model.top_of(e) for e in model.entries()] == [2, 5, 8]


def test_a_long_body_wraps_to_the_width() -> None:
    model = ThreadLayout(UTC)
    words = " ".join(["word"] * 40)  # 199 cells
    model.set_thread([msg(0, text=words)])
    entry = model.newest
    assert entry is not None
    room = body_width(model.width)
    assert entry.body_h == len(wrap(words, room)) >= len(words) // room > 1
    narrow = entry.body_h
    model.relayout(200)
    assert entry.body_h < narrow and model.total_height == model.top_h + entry.height


@pytest.mark.parametrize("count", [1, 2, 7])
def test_locate_at_every_boundary(count: int) -> None:
    model = ThreadLayout(UTC)
    model.set_thread([msg(i) for i in range(count)])
    model.prepend([msg(-i) for i in range(1, count + 1)])  # both lists in use
    shown = lines_of(model)
    assert shown[: model.top_h] == [None] * model.top_h
    assert shown[model.total_height - 1] is not None
    assert model.locate(model.total_height) is None and model.locate(-1) is None
    for entry in model.entries():
        top = model.top_of(entry)
        assert model.locate(top) == (entry, 0)  # the first line of a block
        assert model.locate(top + entry.height - 1) == (entry, entry.height - 1)  # its last
        following = model.next(entry)
        if following is not None:
            assert model.top_of(following) == top + entry.height
            assert model.prev(following) is entry


def test_prepend_keeps_every_loaded_message_where_it_was_relative_to_the_added_lines() -> None:
    model = ThreadLayout(UTC)
    model.set_thread([msg(i) for i in range(10)])
    anchor = model.get(4)
    before = model.top_of(anchor)
    heights = [e.height for e in model.entries()]
    added = model.prepend([msg(-i) for i in range(1, 6)])
    # A reader at `anchor` stays put when the view scrolls by exactly the lines added.
    assert model.top_of(anchor) == before + added and added == 5 * 3
    assert [e.height for e in model.entries()][5:] == heights  # no loaded message changed height
    assert model.prepend([msg(-1), msg(2)]) == 0  # duplicates add nothing
    assert [m.id for m in model.shown_messages()] == list(range(-5, 10))


def test_separators_at_day_changes_and_append_touches_only_the_newest() -> None:
    day = timedelta(days=1)
    model = ThreadLayout(UTC)
    model.set_thread([msg(0), msg(1), msg(2, date=BASE + day), msg(3, date=BASE + day)])
    assert [e.sep_label for e in model.entries()] == [None, "Wednesday, 10 January 2024", None, None]
    assert model.get(1).height == 4  # header, body, blank, separator
    _, changed = model.append([msg(4, date=BASE + 3 * day)])
    assert changed is model.get(3) and changed.sep_label == "Friday, 12 January 2024"
    entries, changed = model.append([msg(5, date=BASE + 3 * day + timedelta(hours=1))])
    assert [e.message.id for e in entries] == [5] and changed is None
    # Prepending an older day: the separator goes on the prepended message, the top shows its day.
    model.prepend([msg(-1, date=BASE - day)])
    assert model.get(-1).sep_label == "Tuesday, 9 January 2024"
    assert model.oldest is not None and model.oldest.label == "Monday, 8 January 2024"


def test_undated_messages_have_no_separator_and_hidden_ones_are_kept_apart() -> None:
    model = ThreadLayout(UTC)
    model.set_thread([msg(1, date="not a date"), msg(2), msg(3, hidden=True)])
    assert model.top_h == 1  # the oldest (undated) has no day to show on top
    assert [m.id for m in model.shown_messages()] == [1, 2]
    assert [m.id for m in model.messages()] == [1, 2, 3] and model.message_count == 3


def test_find_over_the_loaded_history() -> None:
    model = ThreadLayout(UTC)
    model.set_thread([msg(1, text="Where is my ORDER?"), msg(2, text="order shipped"), msg(3, text="ok")])
    model.prepend([msg(0, text="an order, please")])
    assert model.matching_ids("order") == [0, 1, 2]
    assert model.matching_ids("order shipped") == [2]
    assert model.matching_ids("  ") == []


def test_measure_is_the_callers() -> None:
    measured: list[int] = []

    def counting(entry: Entry, width: int) -> None:
        from hmtui.ui.widgets.thread_layout import measure

        measured.append(entry.message.id)
        measure(entry, width)

    model = ThreadLayout(UTC, measure_entry=counting)
    model.set_thread([msg(i) for i in range(5)])
    model.prepend([msg(-1)])
    assert sorted(measured) == [-1, 0, 1, 2, 3, 4]


NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (NOW - timedelta(hours=3), "12:00"),  # today: the time only
        (NOW - timedelta(days=1), "Thu 19 Nov 15:00"),  # another day: its date
        (datetime(2026, 1, 3, 8, 5, tzinfo=UTC), "Sat 3 Jan 08:05"),
        (datetime(2025, 11, 3, 14, 5, tzinfo=UTC), "Mon 3 Nov 2025 14:05"),  # another year: the year
        (None, "--:--"),
    ],
)
def test_header_when(moment: datetime | None, shown: str) -> None:
    assert header_when(moment, NOW, UTC) == shown


def test_header_when_is_relative_to_the_local_day() -> None:
    tz = timezone(timedelta(hours=-8))
    late = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)  # 23:30 the day before in UTC-8
    assert header_when(late, NOW, tz) == "Thu 19 Nov 23:30"
    assert header_when(late, NOW, UTC) == "07:30"
    assert header_when(late, None, UTC) == "07:30"  # no clock: the time only


SHAPES = [
    "plain words", "two\nlines", "trailing spaces   \n  indented\n\n", "   ", "", "tab\there",
    "crlf\r\nline", "lone\rcr", "\x1b[31mred\x1b[0m", "wide 日本語 text", "emoji 👍🏽 ok", "bidi \u202e txet",
    "x" * 500, "a\n" * 40, "\ud800 surrogate", "\x7f del", "nbsp\u00a0here",
    "👍", "📍 at the door ", "wide trail 日本\u3000", "zwj 👩\u200d👩\u200d👧 family", "c1 \x85 next", "\u2066isolate",
    "emoji\nand lines 👍 \n\n", "\u3000", "combining e\u0301 accent", "日" * 300,
]


@pytest.mark.parametrize("text", SHAPES)
@pytest.mark.parametrize("fields", [{}, {"media": "https://x.test/a.png"}, {"link_url": "https://x.test"},
                                    {"type": "outbound", "status": "failed", "raw_error": "carrier said no"},
                                    {"media": "https://x.test/ü a\tb.png "}, {"media": " "}, {"media": ["https://x.test/c"]}])
def test_the_cheap_shape_of_a_text_is_the_one_its_paragraphs_have(text: str, fields: dict[str, Any]) -> None:
    from hmtui.ui.widgets.thread_index import paragraphs, text_shape

    message = msg(1, text=text, **fields)
    lengths = [length for _, length, _ in paragraphs(message)]
    assert text_shape(message) == (len(lengths), sum(lengths), max(lengths))


def test_the_index_rows_of_a_history_are_its_texts_shapes_and_local_days() -> None:
    """`index_rows` measures the common plain text inline (a whole history goes through it):
    every text of SHAPES, with each set of fields, in a zone where UTC's day is not the local
    one, gets the shape `text_shape` gives and the day `day_key` gives."""
    from hmtui.ui.timefmt import day_key
    from hmtui.ui.widgets.thread_index import day_code, index_rows, text_shape

    tz = timezone(timedelta(hours=-8))
    fields = [{}, {"media": "https://x.test/a.png"}, {"link_url": "https://x.test"},
              {"type": "outbound", "status": "failed", "raw_error": "carrier said no"},
              {"media": "https://x.test/ü a\tb.png "}]
    messages = [msg(k, date=BASE + timedelta(hours=5 * k), text=text, **extra)
                for k, (text, extra) in enumerate((t, f) for t in SHAPES for f in fields)]
    messages.append(msg(999, date="not a date", text="undated"))
    stamps, _, days, nparas, cellss, longests = index_rows(messages, tz, 40, 0)
    assert list(zip(nparas, cellss, longests)) == [text_shape(m) for m in messages]
    assert days == [day_code(day_key(m.date, tz)) if m.date is not None else 0 for m in messages]
    assert stamps[:-1] == [m.date.timestamp() for m in messages[:-1]] and stamps[-1] == float("-inf")


@pytest.mark.parametrize("width", [30, 100])
def test_a_prepend_that_keeps_few_entries_lays_out_what_a_full_one_does(width: int) -> None:
    """Issue 11: a windowed prepend makes index rows, not entries, for what is far from the
    screen. Their estimated heights are what measuring gives for texts that fit a line, the
    separators are the same, and once filled the two layouts cannot be told apart."""
    texts = ["short", "a somewhat longer line that wraps at thirty cells", "two\nlines", "日本語のテキスト" * 3, ""]
    older = [msg(i, date=BASE + timedelta(hours=7 * i), text=texts[i % len(texts)]) for i in range(60)]
    newest = [msg(100 + i, date=BASE + timedelta(days=30, minutes=i)) for i in range(5)]
    full, lazy = ThreadLayout(UTC), ThreadLayout(UTC)
    for model in (full, lazy):
        model.relayout(width)
        model.set_thread(newest)
    assert full.prepend(older) == lazy.prepend(older, keep=10) > 0
    assert full.total_height == lazy.total_height
    assert lazy.ids_in_order() == full.ids_in_order()
    assert len(lazy.live) == len(newest) + 10
    for pos in range(full.first_pos, full.last_pos + 1):
        stub, entry = lazy.entry(pos), full.entry(pos)
        assert stub.sep_label == entry.sep_label
        if entry.message is not None and max(length for _, length, _ in entry.paras) <= body_width(width):
            assert stub.height == entry.height  # a text that fits: the estimate is exact
    lazy.fill(older)
    assert [lazy.height_at(p) for p in range(lazy.first_pos, lazy.last_pos + 1)] == \
        [full.height_at(p) for p in range(full.first_pos, full.last_pos + 1)]
    assert lines_of(lazy) == lines_of(full)
    # Another prepend after the rows, kept whole, joins them with the right separator.
    oldest = [msg(200 + i, date=BASE - timedelta(days=3, minutes=i)) for i in range(3)]
    assert full.prepend(oldest) == lazy.prepend(oldest, keep=5)
    assert lines_of(lazy) == lines_of(full)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_quick_check_for_new_messages_keeps_what_the_full_one_does(seed: int,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A prepend decides in one go that a page of a whole history is all new (`_all_new`) and in
    order; pages with repeats, loaded ids, hidden or removed messages, ties in time, undated
    messages or out-of-order ones take the message-by-message way. Both ways lay out the same."""
    import random

    from hmtui.ui.widgets.thread_layout import ThreadLayout as Layout

    rng = random.Random(seed)
    pages: list[list[Message]] = []
    next_id, when = 10_000, BASE + timedelta(days=400)
    made: list[Message] = []
    for _ in range(40):
        kind = rng.choice(["run", "run", "repeat", "loaded", "hidden", "tie", "undated", "shuffled"])
        page = []
        for _ in range(rng.randrange(1, 12)):
            next_id -= 1
            when -= timedelta(minutes=rng.randrange(1, 90))
            page.append(msg(next_id, date=when))
        if kind == "repeat":
            page.append(page[0])
        elif kind == "loaded" and pages:
            page.insert(0, rng.choice(made[len(pages[0]):] or made[-1:]))  # never the removed one
        elif kind == "hidden":
            page[-1] = msg(page[-1].id, date=when, hidden=True)
        elif kind == "tie":
            page.append(msg(next_id - 1, date=when))
            next_id -= 1
        elif kind == "undated":
            page.append(msg(next_id - 1, date="not a date"))
            next_id -= 1
        elif kind == "shuffled":
            rng.shuffle(page)
        made += page
        pages.append(page)
    removed = pages[0][0].id

    def lay_out(quick: bool) -> ThreadLayout:
        with monkeypatch.context() as patch:
            if not quick:
                patch.setattr(Layout, "_all_new", lambda self, batch: None)
            model = Layout(UTC)
            model.relayout(60)
            model.set_thread([msg(1, date=BASE + timedelta(days=500))])
            for k, page in enumerate(pages):
                model.prepend(page, keep=rng_keep[k])
                if k == 5:
                    model.remove(removed)
            model.prepend([m for m in made if m.id == removed])  # a removed message comes back
            return model

    rng_keep = [rng.choice([None, 0, 3]) for _ in pages]
    quick, slow = lay_out(True), lay_out(False)
    assert quick.ids_in_order() == slow.ids_in_order()
    # Each page goes above the last, in time order; the removed message comes back on top.
    from hmtui.ui.widgets.thread_layout import sort_key

    expected: list[Any] = [1]
    seen: set[Any] = {1}
    for page in pages:
        fresh = {m.id: m for m in page if m.id not in seen and not m.hidden}
        seen.update(m.id for m in page)
        expected = [m.id for m in sorted(fresh.values(), key=sort_key)] + expected
    expected.remove(removed)
    made_ids = [m.id for m in made]
    drawn = sorted((pos, key) for key in set(made_ids) | {1} if (pos := quick.pos_of(key)) is not None)
    assert [key for _, key in drawn] == [removed, *expected]
    assert sorted(quick.hidden) == sorted(slow.hidden) and quick.hidden
    assert [quick.height_at(p) for p in range(quick.first_pos, quick.last_pos + 1)] == \
        [slow.height_at(p) for p in range(slow.first_pos, slow.last_pos + 1)]
    assert quick.total_height == slow.total_height

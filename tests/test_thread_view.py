"""ThreadView: the Line API conversation pane (rendering, movement, paging hooks, speed)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from textual import events
from textual.app import App, ComposeResult

from hmtui.api.models import Message, format_datetime
from hmtui.api.semantics import MessageKind
from hmtui.fake.hostile import HOSTILE_MESSAGES, HOSTILE_NAME, WRONG_TYPES
from hmtui.ui.widgets.thread_view import ThreadView

BASE = datetime(2024, 1, 9, 9, 0, tzinfo=timezone.utc)  # a Tuesday
SIZE = (100, 30)
ALEX = 7


def msg(i: int, *, date: Any = None, **fields: Any) -> Message:
    """A message `i` ten minutes after the one before; `date` may be a datetime or a raw value."""
    if date is None:
        date = BASE + timedelta(minutes=10 * i)
    raw: dict[str, Any] = {
        "id": i,
        "date": format_datetime(date) if isinstance(date, datetime) else date,
        "text": f"message {i}",
    }
    raw.update(fields)
    message = Message.from_raw(raw)
    assert message is not None
    return message


def thread(start: int, count: int) -> list[Message]:
    return [msg(i) for i in range(start, start + count)]


class ThreadApp(App[None]):
    def __init__(self, messages: list[Message] | None = None, *, at_start: bool = False, **view: Any) -> None:
        super().__init__()
        self.initial = messages
        self.at_start = at_start
        self.view_options = view
        self.near_top: list[ThreadView.NearTop] = []
        self.selections: list[Message | None] = []

    def compose(self) -> ComposeResult:
        options = {"tz": timezone.utc, "member_names": {ALEX: "Alex Rivera"}, "announce_selection": True,
                   **self.view_options}
        yield ThreadView(**options)

    def on_mount(self) -> None:
        view = self.query_one(ThreadView)
        view.focus()
        if self.initial is not None:
            view.set_thread(self.initial, contact="Jane Doe", at_start=self.at_start)

    def on_thread_view_near_top(self, event: ThreadView.NearTop) -> None:
        self.near_top.append(event)

    def on_thread_view_selection_changed(self, event: ThreadView.SelectionChanged) -> None:
        self.selections.append(event.message)


def screen(view: ThreadView) -> list[str]:
    return [view.render_line(y).text for y in range(view.size.height)]


def all_strips(view: ThreadView) -> list[Any]:
    """Every line of the content, by scrolling through it a screen at a time."""
    strips = []
    height = view.size.height
    total = view.virtual_size.height
    for top in range(0, total, height):
        view.scroll_to(y=top, animate=False)
        start = view.scroll_offset.y
        for y in range(height):
            if start + y >= top and start + y < min(top + height, total):
                strips.append(view.render_line(y))
    return strips


def selected_id(view: ThreadView) -> Any:
    assert view.selected_message is not None
    return view.selected_message.id


def row_of(view: ThreadView, text: str) -> int:
    lines = screen(view)
    rows = [y for y, line in enumerate(lines) if text in line]
    assert rows, f"{text!r} not on screen"
    return rows[0]


async def test_opens_at_newest_with_it_selected() -> None:
    messages = thread(0, 50)
    random.Random(1).shuffle(messages)
    app = ThreadApp(messages)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = app.query_one(ThreadView)
        assert view.message_count == 50
        assert [m.id for m in view.messages()] == list(range(50))
        assert selected_id(view) == 49
        assert app.selections and app.selections[-1] is not None and app.selections[-1].id == 49
        assert view.max_scroll_y > 0 and view.scroll_offset.y == view.max_scroll_y
        lines = screen(view)
        assert any("message 49" in line for line in lines)
        assert not any("message 20" in line for line in lines)
        assert app.near_top == []  # far from the top


async def test_undated_messages_sort_oldest() -> None:
    undated = Message.from_raw({"id": 999, "text": "no date"})
    assert undated is not None
    app = ThreadApp([msg(2), undated, msg(1)])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = app.query_one(ThreadView)
        assert [m.id for m in view.messages()] == [999, 1, 2]
        assert "--:--" in screen(view)[1]


async def test_j_k_move_and_keep_selection_visible() -> None:
    app = ThreadApp(thread(0, 50))
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        await pilot.press("k", "k")
        assert selected_id(view) == 47
        await pilot.press("up")
        assert selected_id(view) == 46
        await pilot.press("j")
        assert selected_id(view) == 47
        await pilot.press("down")
        assert selected_id(view) == 48
        start = view.scroll_offset.y
        for expected in range(47, 30, -1):
            await pilot.press("k")
            assert selected_id(view) == expected
            row_of(view, f"message {expected}")  # its body is on screen
        assert view.scroll_offset.y < start
        for expected in range(32, 42):
            await pilot.press("j")
            assert selected_id(view) == expected
            row_of(view, f"message {expected}")


async def test_k_past_oldest_scrolls_to_top() -> None:
    app = ThreadApp(thread(0, 14), at_start=True)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        await pilot.press(*["k"] * 16)
        assert selected_id(view) == 0
        assert view.scroll_offset.y == 0
        assert "start of conversation" in screen(view)[0]


async def test_g_and_G() -> None:
    app = ThreadApp(thread(0, 50))
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        await pilot.press("g")
        assert selected_id(view) == 0
        assert view.scroll_offset.y == 0
        lines = screen(view)
        assert "older messages load as you scroll up" in lines[0]
        assert "Jane Doe" in lines[0]  # the contact, in the header line
        assert "Tuesday, 9 January 2024" in lines[1]
        await pilot.press("G")
        assert selected_id(view) == 49
        assert view.scroll_offset.y == view.max_scroll_y
        await pilot.press("home")
        assert selected_id(view) == 0
        await pilot.press("end")
        assert selected_id(view) == 49


async def test_page_up_and_down() -> None:
    app = ThreadApp(thread(0, 50))
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        height = view.size.height
        bottom = view.scroll_offset.y
        await pilot.press("pageup")
        assert view.scroll_offset.y == bottom - height
        middle = screen(view)[height // 2 - 2 : height // 2 + 3]
        assert any(f"message {selected_id(view)}" in line for line in middle)
        assert selected_id(view) < 45
        first = selected_id(view)
        await pilot.press("pageup")
        assert view.scroll_offset.y == bottom - 2 * height
        assert first - 12 < selected_id(view) < first - 7
        await pilot.press("pagedown", "pagedown")
        assert view.scroll_offset.y == bottom
        middle = screen(view)[height // 2 - 2 : height // 2 + 3]
        assert any(f"message {selected_id(view)}" in line for line in middle)


async def test_tall_message_is_read_before_moving_on() -> None:
    long_text = ("lorem ipsum dolor sit amet " * 200)[:5000]
    messages = thread(0, 10) + [msg(10, text=long_text)] + thread(11, 10)
    app = ThreadApp(messages)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        view.scroll_to_message(9)
        await pilot.pause()
        assert selected_id(view) == 9
        await pilot.press("j")
        assert selected_id(view) == 10
        assert "Jane Doe" in screen(view)[0] or "Jane Doe" in screen(view)[1]  # its header at the top
        scrolls = []
        while selected_id(view) == 10:
            scrolls.append(view.scroll_offset.y)
            await pilot.press("j")
            assert len(scrolls) < 30
        assert len(scrolls) >= 3 and scrolls == sorted(scrolls)
        assert selected_id(view) == 11
        # Going back up reads it upwards too.
        await pilot.press("k")
        assert selected_id(view) == 10
        ups = 0
        while selected_id(view) == 10:
            await pilot.press("k")
            ups += 1
            assert ups < 30
        assert ups >= 3 and selected_id(view) == 9


async def test_near_top_once_per_approach() -> None:
    app = ThreadApp(thread(100, 50))
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        for _ in range(3):
            await pilot.press("pageup")
        await pilot.pause()
        assert view.scroll_offset.y > 20 and app.near_top == []
        await pilot.press("pageup")
        await pilot.pause()
        assert view.scroll_offset.y <= 20
        assert len(app.near_top) == 1 and app.near_top[0].view is view
        await pilot.press("pageup", "k", "k", "pagedown", "pageup")
        await pilot.pause()
        assert len(app.near_top) == 1  # not again until the app answers
        # ...but a press of g asks itself, every time (the app queues a page per press).
        await pilot.press("g")
        await pilot.pause()
        assert [m.pressed for m in app.near_top] == [False, True]
        view.set_loading_older(True)
        await pilot.pause()
        assert screen(view)[0].strip().startswith("loading older…")
        view.prepend(thread(50, 50))
        view.set_loading_older(False)
        await pilot.pause()
        assert view.scroll_offset.y > 20
        assert len(app.near_top) == 2
        for _ in range(6):
            await pilot.press("pageup")
        await pilot.pause()
        assert len(app.near_top) == 3 and not app.near_top[-1].pressed  # a new approach


async def test_near_top_from_mouse_wheel() -> None:
    app = ThreadApp(thread(0, 30))
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        for _ in range(40):
            view.post_message(events.MouseScrollUp(view, 5, 5, 0, -1, 0, False, False, False))
        await pilot.pause()
        await pilot.pause()
        assert view.scroll_offset.y <= 20
        assert len(app.near_top) == 1


async def test_no_near_top_at_start_or_while_loading() -> None:
    app = ThreadApp(thread(0, 50), at_start=True)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        await pilot.press("g")
        await pilot.pause()
        assert app.near_top == []
        assert "start of conversation" in screen(view)[0]
    app = ThreadApp(thread(0, 50))
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        view.set_loading_older(True)
        await pilot.press("g")
        await pilot.pause()
        # A press while loading is the user's request for one more page (the app queues it);
        # the view's own "near the top" waits for the page.
        assert [m.pressed for m in app.near_top] == [True]
        assert view.loading_older
        view.set_loading_older(False)  # still at the top: ask again
        await pilot.pause()
        assert [m.pressed for m in app.near_top] == [True, False]
        assert not view.loading_older


async def test_g_posts_near_top() -> None:
    app = ThreadApp(thread(0, 50))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await pilot.pause()
        assert len(app.near_top) == 1


async def test_a_prepend_above_the_screen_repaints_only_the_scrollbar(monkeypatch) -> None:
    """A whole-history load prepends hundreds of times above an unchanged screen: the pane is
    not repainted (its lines only move down), the scrollbar takes the new size and offset at once
    and repaints at most every SCROLLBAR_EVERY seconds; a prepend that reaches the screen (its top
    shows the status line) repaints as before."""
    from hmtui.ui.widgets import thread_view

    monkeypatch.setattr(thread_view, "SCROLLBAR_EVERY", 3600.0)  # one repaint, then a timer
    painted: list[str] = []
    app = ThreadApp(thread(1000, 60))
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        bar = view.vertical_scrollbar

        async def frame() -> None:  # what the screen's update timer does, now
            await pilot.pause()
            app.screen._on_timer_update()

        await frame()
        # The pane's lines are built by render_line (render_lines of the pane itself only crops
        # its cached lines for the scrollbar's column); the scrollbar renders whole.
        pane_line, bar_lines = view.render_line, bar.render_lines
        monkeypatch.setattr(view, "render_line", lambda y: painted.append("pane") or pane_line(y))
        monkeypatch.setattr(bar, "render_lines", lambda crop: painted.append("bar") or bar_lines(crop))
        layouts = app.screen._refresh_layout  # the new height needs no layout of the screen
        monkeypatch.setattr(app.screen, "_refresh_layout", lambda *a, **k: painted.append("layout") or layouts(*a, **k))
        before, y = screen(view), view.scroll_offset.y
        painted.clear()  # screen() draws the lines itself
        assert y >= 2
        for start in (900, 800):
            height = view.virtual_size.height
            view.prepend(thread(start, 100))
            await frame()
            drawn = painted[:]
            assert screen(view) == before
            painted[:] = drawn
            assert view.scroll_offset.y == y + view.virtual_size.height - height
            y = view.scroll_offset.y
            assert (bar.position, bar.window_virtual_size) == (view.scroll_y, view.virtual_size.height)
        assert painted == ["bar"]  # the first prepend's repaint; the second one's waits its turn
        assert view._bar_timer is not None
        view._repaint_scrollbar()
        await frame()
        assert painted == ["bar", "bar"] and view._bar_timer is None
        # At the top the status line is on screen: the prepend under it repaints the pane.
        view.scroll_to(y=0, animate=False, immediate=True)
        await frame()
        painted.clear()
        view.prepend(thread(700, 100))
        await frame()
        assert "pane" in painted
        assert view.message_count == 360
        # Another thread: its first prepend's scrollbar repaints at once, whatever came before.
        view.set_thread(thread(2000, 60), contact="Jane Doe")
        await frame()
        view._repaint_scrollbar_soon()  # as a stream's repaint just now
        painted.clear()
        view.set_thread(thread(3000, 60), contact="Jane Doe")
        await frame()
        painted.clear()
        view.prepend(thread(2900, 100))
        await frame()
        assert painted.count("bar") == 1 and "pane" not in painted and view._bar_timer is None


async def test_prepend_keeps_screen_and_dedupes() -> None:
    # The loaded messages start on Wednesday; the older page is Tuesday's.
    start = BASE + timedelta(days=1)
    loaded = [msg(i, date=start + timedelta(minutes=10 * i)) for i in range(100, 150)]
    older = [msg(i, date=BASE + timedelta(minutes=10 * i)) for i in range(70, 100)]
    app = ThreadApp(loaded)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        view.scroll_to_message(110)
        await pilot.pause()
        before_y = view.scroll_offset.y
        assert before_y >= 2  # the status line is off screen
        before = screen(view)
        height_before = view.virtual_size.height
        view.prepend(older + loaded[:3])  # three already loaded
        await pilot.pause()
        assert screen(view) == before
        assert view.scroll_offset.y == before_y + view.virtual_size.height - height_before
        assert view.message_count == 80
        assert [m.id for m in view.messages()] == list(range(70, 150))
        assert selected_id(view) == 110
        view.prepend([msg(69, date=BASE)], at_start=True)
        await pilot.pause()
        assert view.at_start
        await pilot.press("g")
        lines = screen(view)
        assert "start of conversation" in lines[0]
        assert "Tuesday, 9 January 2024" in lines[1]
        assert selected_id(view) == 69
        # The day boundary between the two pages got its separator, once.
        text = [strip.text for strip in all_strips(view)]
        assert sum("Wednesday, 10 January 2024" in line for line in text) == 1
        assert sum("Tuesday, 9 January 2024" in line for line in text) == 1


async def test_append_at_bottom_follows() -> None:
    app = ThreadApp(thread(0, 50))
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        view.append([msg(51), msg(50)])
        await pilot.pause()
        assert view.scroll_offset.y == view.max_scroll_y
        lines = screen(view)
        assert any("message 51" in line for line in lines)
        assert not any(" new ↓" in line for line in lines)
        assert selected_id(view) == 51
        view.append([msg(51)])  # a duplicate
        assert view.message_count == 52


async def test_append_scrolled_up_shows_hint_and_g_clears() -> None:
    app = ThreadApp(thread(0, 50))
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        await pilot.press("pageup", "pageup")
        y = view.scroll_offset.y
        selected = selected_id(view)
        before = screen(view)
        view.append([msg(50), msg(51)])
        await pilot.pause()
        after = screen(view)
        assert view.scroll_offset.y == y
        assert after[:-1] == before[:-1]
        assert after[-1].rstrip().endswith("2 new ↓")
        assert after[-1][:40] == before[-1][:40]  # an overlay: nothing moved
        assert selected_id(view) == selected
        await pilot.press("G")
        lines = screen(view)
        assert not any("new ↓" in line for line in lines)
        assert any("message 51" in line for line in lines)
        assert view.scroll_offset.y == view.max_scroll_y
        # Scrolling to the bottom clears it too.
        await pilot.press("pageup")
        view.append([msg(52)])
        await pilot.pause()
        assert "1 new ↓" in screen(view)[-1]
        view.scroll_to(y=view.max_scroll_y, animate=False)
        await pilot.pause()
        assert not any("new ↓" in line for line in screen(view))


async def test_day_separators() -> None:
    dates = [BASE, BASE + timedelta(hours=1), BASE + timedelta(days=1), BASE + timedelta(days=3, hours=2)]
    app = ThreadApp([msg(i, date=d) for i, d in enumerate(dates)], at_start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = app.query_one(ThreadView)
        lines = [line.strip() for line in screen(view)]
        separators = [line for line in lines if line.startswith("────")]
        assert len(separators) == 3
        assert "Tuesday, 9 January 2024" in separators[0]
        assert "Wednesday, 10 January 2024" in separators[1]
        assert "Friday, 12 January 2024" in separators[2]
        assert separators[0].endswith("────")
        # Each separator comes right before its day's first message.
        order = [i for i, line in enumerate(lines) if line.startswith("────") or line.startswith("▌")]
        kinds = [("sep" if lines[i].startswith("────") else lines[i]) for i in order]
        assert kinds[0] == "sep" and "09:00" in kinds[1] and "10:00" in kinds[3]
        assert kinds[5] == "sep" and "09:00" in kinds[6]
        assert kinds[8] == "sep" and "11:00" in kinds[9]
    # Days are local days.
    new_york = timezone(timedelta(hours=-5))
    late = datetime(2024, 1, 10, 3, 0, tzinfo=timezone.utc)  # 22:00 on Tuesday in UTC-5
    app = ThreadApp([msg(1, date=late)], tz=new_york)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = screen(app.query_one(ThreadView))
        assert any("Tuesday, 9 January 2024" in line for line in lines)
        assert any("22:00" in line for line in lines)


def _segments(view: ThreadView, text: str) -> list[Any]:
    for strip in all_strips(view):
        if text in strip.text:
            return list(strip)
    raise AssertionError(f"{text!r} not rendered")


async def test_failed_note_media_rendering() -> None:
    messages = [
        msg(1, text="hi there"),
        msg(2, text="sent fine", user=ALEX, status="delivered"),
        msg(3, text="did not go", user=ALEX, status="undelivered"),
        msg(4, text="internal only", type="note", user=ALEX),
        msg(5, text="look", media="https://cdn.example/pic.jpg", link_url="https://example.com/x"),
        msg(6, text=None),
        msg(7, text="by name", user=ALEX, author="Sam Author", status="sent"),
    ]
    app = ThreadApp(messages, at_start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = app.query_one(ThreadView)
        lines = screen(view)
        text = "\n".join(lines)
        assert "Jane Doe · 09:10" in text  # inbound: the contact
        assert "Alex Rivera · 09:20 · delivered" in text  # outbound: the member's name
        assert "✗ undelivered" in text
        assert "🔒 note · Alex Rivera · 09:40" in text
        assert "📎 https://cdn.example/pic.jpg" in text
        assert "🔗 https://example.com/x" in text
        assert "(no text)" in text
        assert "Sam Author · 10:10 · sent" in text
        # Inbound hugs the left edge; outbound is indented.
        inbound = lines[row_of(view, "Jane Doe · 09:10")]
        outbound = lines[row_of(view, "Alex Rivera · 09:20")]
        assert inbound.startswith("▌")
        assert outbound.startswith("    ") and outbound.lstrip().startswith("▌")
        # Failed stands out: bold, the error colour.
        failed = next(s for s in _segments(view, "✗ undelivered") if "✗ undelivered" in s.text)
        error = view.get_component_rich_style("thread-view--failed")
        assert failed.style.bold and failed.style.color == error.color
        delivered = next(s for s in _segments(view, "· delivered") if "delivered" in s.text)
        assert delivered.style.color != error.color
        # Links are styled but not clickable.
        for needle in ("📎 https://cdn.example/pic.jpg", "🔗 https://example.com/x"):
            for segment in _segments(view, needle):
                assert segment.style is None or (segment.style.link is None and not segment.style.meta)
        link = next(s for s in _segments(view, "📎") if "📎" in s.text)
        assert link.style.underline


async def test_selection_is_marked_and_dims_without_focus() -> None:
    app = ThreadApp(thread(0, 5), at_start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = app.query_one(ThreadView)

        def header_bg(i: int) -> Any:
            row = row_of(view, f"message {i}") - 1
            segments = [s for s in view.render_line(row) if "Jane Doe" in s.text]
            return segments[0].style.bgcolor

        focused = view.get_component_rich_style("thread-view--cursor").bgcolor
        assert header_bg(4) == focused
        assert header_bg(3) != focused
        await pilot.press("k")
        assert header_bg(3) == focused and header_bg(4) != focused
        view.blur()
        await pilot.pause()
        blurred = view.get_component_rich_style("thread-view--cursor-blurred").bgcolor
        assert blurred != focused
        assert header_bg(3) == blurred and header_bg(4) != blurred
        # Lines drawn before the focus change do not keep the focused background.
        body = [s for s in view.render_line(row_of(view, "message 1")) if "message 1" in s.text][0]
        assert body.style.bgcolor == view.rich_style.bgcolor


async def test_hostile_text_is_literal() -> None:
    messages = []
    for i, (role, text, overrides) in enumerate(HOSTILE_MESSAGES):
        fields: dict[str, Any] = {"text": text}
        if role == "outbound":
            fields.update(user=ALEX, status="delivered")
        if role == "note":
            fields.update(type="note", user=ALEX)
        if i == 1:
            fields["author"] = HOSTILE_NAME
        fields.update(overrides)
        if fields.get("date") == "<epoch>":
            fields["date"] = int((BASE + timedelta(minutes=10 * i)).timestamp())
        messages.append(msg(i, **fields))
    app = ThreadApp(messages)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = app.query_one(ThreadView)
        view.set_thread(messages, contact="\x1b]0;pwned\x07[b]Eve[/b]", at_start=True)
        await pilot.pause()
        strips = all_strips(view)
        text = "\n".join(strip.text for strip in strips)
        assert "[@click=app.quit]x[/]" in text
        assert "[bold red]not bold[/]" in text  # as an author, too
        assert "[link=https://evil.invalid]x[/link]" in text
        assert "[b]Eve[/b]" in text
        for bad in ("\x1b", "\x07", "\x00", "\r", "\x9b", "\x7f", "\u202e"):
            assert bad not in text, repr(bad)
        for strip in strips:
            for segment in strip:
                if segment.style is not None:
                    assert not segment.style.meta and segment.style.link is None
        # Clicking the would-be action does nothing but select it.
        view.scroll_to_message(0)
        await pilot.pause()
        row = row_of(view, "[@click=app.quit]x[/]")
        col = screen(view)[row].index("[@click")
        assert await pilot.click(ThreadView, offset=(col + 2, row))
        await pilot.pause()
        assert app.is_running and app.return_code is None
        assert selected_id(view) == 0


async def test_wrong_types_do_not_crash() -> None:
    epoch = int(BASE.timestamp())
    from_raw = msg(1, **{**WRONG_TYPES, "date": epoch})
    by_hand = Message(
        id=2, date="yesterday", updated=None, text=12345, author=["x"], user={"a": 1},  # type: ignore[arg-type]
        phone=None, target=None, type=None, status={"failed": True}, media=5, link_url=object(),  # type: ignore[arg-type]
        flagged=False, kind="bogus", raw={},  # type: ignore[arg-type]
    )
    also = Message(
        id=3, date=None, updated=None, text=None, author=None, user=[1],  # type: ignore[arg-type]
        phone=None, target=None, type=None, status=None, media=None, link_url=None,
        flagged=False, kind=MessageKind.OUTBOUND, raw={},
    )
    app = ThreadApp([from_raw, by_hand, also])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = app.query_one(ThreadView)
        text = "\n".join(screen(view))
        assert text.count("(no text)") == 3
        assert "unknown" in text
        assert view.message_count == 3
        await pilot.press("k", "k", "k", "g", "j", "G")


async def test_resize_rewraps_and_keeps_selection() -> None:
    words = "the quick brown fox jumps over the lazy dog " * 6
    messages = [msg(i, text=f"{i}: {words}") for i in range(60)]
    app = ThreadApp(messages)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        await pilot.press("pageup", "pageup")
        selected = selected_id(view)
        row = row_of(view, f"{selected}: the quick")
        height_100 = view.virtual_size.height
        await pilot.resize_terminal(60, 30)
        await pilot.pause()
        assert view.virtual_size.height > height_100
        assert selected_id(view) == selected
        assert row_of(view, f"{selected}: the quick") == row
        assert all(len(line) <= 60 for line in screen(view))
        await pilot.resize_terminal(200, 30)
        await pilot.pause()
        assert view.virtual_size.height < height_100
        assert selected_id(view) == selected
        assert row_of(view, f"{selected}: the quick") == row
        # At the bottom, a resize stays at the bottom.
        await pilot.press("G")
        await pilot.resize_terminal(70, 30)
        await pilot.pause()
        assert view.scroll_offset.y == view.max_scroll_y
        assert any("59: the quick" in line for line in screen(view))


async def test_wide_characters_wrap_by_cells() -> None:
    app = ThreadApp([msg(1, text="全角" * 80), msg(2, text="👍" * 70)], at_start=True)
    async with app.run_test(size=(60, 30)) as pilot:
        await pilot.pause()
        view = app.query_one(ThreadView)
        width = view.scrollable_content_region.width
        strips = [view.render_line(y) for y in range(view.size.height)]
        assert all(strip.cell_length <= view.size.width for strip in strips)
        body = [s.text for s in strips if "全角" in s.text]
        assert len(body) >= 3
        assert all(s.text.rstrip().__len__() <= width for s in strips)


async def test_clear_thread_shows_placeholder() -> None:
    app = ThreadApp(thread(0, 10))
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        await pilot.pause()
        asked = len(app.near_top)
        view.clear_thread("Pick a conversation")
        await pilot.pause()
        assert view.message_count == 0 and view.selected_message is None
        assert any("Pick a conversation" in line for line in screen(view))
        await pilot.press("j", "k", "g", "G", "pageup")
        assert len(app.near_top) == asked
        assert app.selections[-1] is None


class Work:
    """Counts what the thread view does: messages measured (wrapped to find their height), message
    blocks built (styled lines), lines drawn. Counted, not timed: the timing is python -m
    hmtui.bench's, and counts are the same on a loaded machine."""

    def __init__(self, monkeypatch: Any) -> None:
        self.measured = self.built = self.drawn = 0
        measure, build, render_line = ThreadView._measure, ThreadView._build, ThreadView.render_line

        def counting_measure(view: ThreadView, entry: Any, width: int) -> None:
            self.measured += 1
            measure(view, entry, width)

        def counting_build(view: ThreadView, entry: Any, width: int, base: Any) -> Any:
            self.built += 1
            return build(view, entry, width, base)

        def counting_render_line(view: ThreadView, y: int) -> Any:
            self.drawn += 1
            return render_line(view, y)

        monkeypatch.setattr(ThreadView, "_measure", counting_measure)
        monkeypatch.setattr(ThreadView, "_build", counting_build)
        monkeypatch.setattr(ThreadView, "render_line", counting_render_line)

    def take(self) -> dict[str, int]:
        taken = {"measured": self.measured, "built": self.built, "drawn": self.drawn}
        self.measured = self.built = self.drawn = 0
        return taken


async def _count_work(count: int, monkeypatch: Any) -> dict[str, dict[str, int]]:
    work = Work(monkeypatch)
    phases: dict[str, dict[str, int]] = {}
    messages = thread(0, count)
    app = ThreadApp(messages)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        view.scroll_to_message(count // 2 - 100)
        await pilot.pause()
        phases["open"] = work.take()
        height = view.size.height
        first = selected_id(view)
        await pilot.press(*["j"] * 50)
        await pilot.pause()
        assert selected_id(view) == first + 50
        phases["50 presses"] = work.take()
        older = [msg(-i, date=BASE - timedelta(minutes=i)) for i in range(1, 51)]
        view.prepend(older)
        assert view.message_count == count + 50
        phases["prepend 50"] = work.take()
        view.append([msg(count + i) for i in range(50)])
        assert view.message_count == count + 100
        phases["append 50"] = work.take()
        await pilot.pause()
        view.scroll_to_message(first)
        work.take()
        # The widget's own work per move: move, then draw the viewport.
        for step in (view.action_next_message, view.action_previous_message):
            for _ in range(60):
                step()
                for y in range(height):
                    view.render_line(y)
        assert selected_id(view) == first
        phases["120 moves, each drawn"] = work.take()
        phases["height"] = {"lines": height}
    return phases


async def test_cost_does_not_grow_with_history(monkeypatch) -> None:
    small = await _count_work(200, monkeypatch)
    big = await _count_work(20_000, monkeypatch)
    lines = big["height"]["lines"]
    for phases in (small, big):
        # Moving measures nothing, and builds only the blocks it brings into view (two per move:
        # the one left and the one selected, plus those scrolled in), never the history.
        for phase, moves in (("50 presses", 50), ("120 moves, each drawn", 120)):
            assert phases[phase]["measured"] == 0, (phase, phases)
            assert phases[phase]["built"] <= 4 * moves + lines, (phase, phases)
        assert phases["120 moves, each drawn"]["drawn"] == 120 * lines
        # A page of older or newer messages is measured once each (and the old newest, whose
        # day separator may change): O(page), not O(history); nothing is built until drawn.
        assert phases["prepend 50"] == {"measured": 50, "built": 0, "drawn": 0}, phases
        assert phases["append 50"] == {"measured": 51, "built": 0, "drawn": 0}, phases
        # Through the pilot, frames may merge on a loaded machine: only an upper bound holds.
        assert phases["50 presses"]["drawn"] <= (50 + 5) * lines, phases
    # 100 times the history, the same work for the same moves (drawn directly: no frames to merge).
    phase = "120 moves, each drawn"
    assert big[phase]["built"] <= small[phase]["built"] + 10, (small[phase], big[phase])


async def test_moving_the_selection_in_view_redraws_only_the_two_messages(monkeypatch) -> None:
    """A key that moves the selection between two messages on screen changes those two: the
    rest of the pane is neither redrawn nor written to the terminal again (pty_key_ratio)."""
    app = ThreadApp(thread(0, 200))
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        await pilot.pause()
        work = Work(monkeypatch)
        scroll = view.scroll_offset.y
        await pilot.press("k")  # the message above the newest: on screen, so nothing scrolls
        await pilot.pause()
        assert view.scroll_offset.y == scroll and selected_id(view) == 198
        drawn = work.take()["drawn"]
        assert 0 < drawn <= 2 * 2, drawn  # header and body line of each of the two
        assert view.size.height > 10


async def _scroll_steps(pilot: Any, view: ThreadView, key: str, presses: int) -> list[int]:
    """Press `key` `presses` times, checking the selected message is on screen each time: the
    lines each press that scrolled moved the view by."""
    steps: list[int] = []
    for _ in range(presses):
        before = view.scroll_offset.y
        await pilot.press(key)
        row_of(view, f"message {selected_id(view)}")
        if view.scroll_offset.y != before:
            steps.append(abs(view.scroll_offset.y - before))
    return steps


async def test_jump_scroll_moves_half_a_screen_and_keeps_the_selection_whole() -> None:
    """thread_scroll = "jump": a j that leaves the screen scrolls by at least half of it (one
    full redraw every few keys); "line" scrolls just enough. Both keep the selected message whole
    on screen, both ways."""
    for jump in (True, False):
        app = ThreadApp(thread(0, 60))
        async with app.run_test(size=SIZE) as pilot:
            view = app.query_one(ThreadView)
            view.jump_scroll = jump
            height = view.size.height
            await pilot.press(*["k"] * 40)  # the selection at the top edge, well up the thread
            scrolls = await _scroll_steps(pilot, view, "j", 25)
            assert scrolls
            if jump:
                assert all(step >= height // 2 for step in scrolls[:-1]), scrolls  # the last may hit the end
                assert len(scrolls) <= 25 * 4 // (height // 2) + 1
            else:
                assert max(scrolls) < height // 2, scrolls
            ups = await _scroll_steps(pilot, view, "k", 20)
            assert ups and (min(ups) >= height // 2 if jump else max(ups) < height // 2), ups


async def test_a_j_builds_only_the_newly_selected_message() -> None:
    """The message the selection leaves keeps its unselected lines; the newly selected one is
    built once (a j used to build both)."""
    app = ThreadApp(thread(0, 40))
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        await pilot.press(*["k"] * 6)
        await pilot.pause()
        built: list[Any] = []
        build = view._build

        def counting(entry: Any, width: int, base: Any) -> Any:
            built.append(entry.message.id)
            return build(entry, width, base)

        view._build = counting  # type: ignore[method-assign]
        for _ in range(4):
            before = selected_id(view)
            await pilot.press("j")
            await pilot.pause()
            assert built == [selected_id(view)], (before, built)
            built.clear()
        # Blurring restyles the pane (its :focus rules): everything on screen is built again.
        view.blur()
        await pilot.pause()
        assert selected_id(view) in built


async def test_the_selected_lines_made_from_the_unselected_ones_are_the_ones_built_whole() -> None:
    """A `j` onto a message it showed builds only its header again: the body lines are the
    unselected ones with the cursor's gutter. Whatever the message (wrapped, indented, a link, a
    failure, a day separator after it), focused or not, they are what a whole build gives."""
    texts = ["short", "a long body " * 20, "two\nlines"]
    messages = [msg(i, date=BASE + timedelta(hours=9 * i), text=texts[i % 3],
                    **({"user": ALEX, "status": "failed", "raw_error": "no"} if i % 4 == 1 else {}),
                    **({"link_url": "https://x.test/a"} if i % 5 == 2 else {}))
                for i in range(12)]
    app = ThreadApp(messages)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        await pilot.pause()
        width, base = view._layout_width, view._base_style
        for focused in (True, False):
            if not focused:
                view.blur()
                await pilot.pause()
            for entry in list(view.layout_model.entries()):
                view._select(entry, post=False)
                view._strips.clear()
                whole = view._build(entry, width, base)
                view._selected = None
                view._strips.put(entry, False, view._build(entry, width, base))
                view._selected = entry
                derived = view._build(entry, width, base)
                assert [[(s.text, s.style) for s in line] for line in derived] == \
                       [[(s.text, s.style) for s in line] for line in whole], entry.message.id


async def test_the_selection_is_announced_only_when_asked() -> None:
    """Nothing in the app listens for SelectionChanged; a view not asked to announce it posts
    nothing as j moves the selection (a message per key, bubbling through every container)."""
    heard: list[object] = []

    class Quiet(ThreadApp):
        def on_thread_view_selection_changed(self, event: ThreadView.SelectionChanged) -> None:
            heard.append(event)

    app = Quiet(thread(0, 20), announce_selection=False)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ThreadView)
        await pilot.press("k", "k")
        await pilot.pause()
        assert selected_id(view) == 17 and heard == []

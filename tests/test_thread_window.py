"""The thread pane's window (issue 11): with a page source, the view keeps only the messages near
the screen, reads the rest back as you scroll, corrects estimated heights without moving what is
on screen, and keeps send marks it cannot read back."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from textual.app import App, ComposeResult

from hmtui.api.models import Message
from hmtui.cache.spill import UNDATED, Spill
from hmtui.ui.widgets import thread_view
from hmtui.ui.widgets.thread_view import ThreadView
from test_thread_view import msg, screen, selected_id

SIZE = (100, 30)
COUNT = 3_000


class WindowApp(App[None]):
    def __init__(self, messages: list[Message], spill: Spill) -> None:
        super().__init__()
        self.initial = messages
        self.spill = spill
        self.reads: list[tuple[float | None, float | None]] = []

    async def source(self, lo: float | None, hi: float | None) -> Sequence[Message]:
        self.reads.append((lo, hi))
        return await self.spill.read(UNDATED if lo is None else lo, UNDATED if hi is None else hi)

    def compose(self) -> ComposeResult:
        from datetime import timezone

        yield ThreadView(tz=timezone.utc)

    def on_mount(self) -> None:
        view = self.query_one(ThreadView)
        view.set_page_source(self.source)
        view.focus()
        self.spill.put(self.initial)  # the workspace writes before the view gets them
        view.set_thread(self.initial, contact="Jane Doe", at_start=True)


async def settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def real(view: ThreadView) -> int:
    return sum(1 for e in view.layout_model.live.values() if e.message is not None)


async def test_memory_holds_a_window_and_scrolling_reads_the_rest_back(tmp_path) -> None:
    spill = Spill(tmp_path)
    words = "the quick brown fox jumps over the lazy dog " * 4
    messages = [msg(i, text=f"{i}: {words if i % 7 == 0 else 'short'}") for i in range(COUNT)]
    app = WindowApp(messages, spill)
    try:
        async with app.run_test(size=SIZE) as pilot:
            view = app.query_one(ThreadView)
            await settle(pilot)
            assert view.message_count == COUNT
            assert len(view.layout_model.live) <= thread_view.LIVE_MAX + 2 * thread_view.WINDOW_AHEAD
            assert f"{COUNT - 1}: short" in "\n".join(screen(view))
            # The top of the thread: read back from the spill, drawn, nothing left a placeholder.
            await pilot.press("g")
            await settle(pilot)
            assert app.reads, "the oldest messages came from the page source"
            lines = "\n".join(screen(view))
            assert "0: the quick" in lines and "·  ·  ·" not in lines
            assert selected_id(view) == 0
            # The middle, by the scrollbar's way (a scroll, not a key).
            view.scroll_to(y=view.max_scroll_y // 2, animate=False, immediate=True)
            await settle(pilot)
            assert "·  ·  ·" not in "\n".join(screen(view))
            assert len(view.layout_model.live) <= thread_view.LIVE_MAX + 2 * thread_view.WINDOW_AHEAD
            # Moving stays exact across the window's edges: j from the top lands on each message.
            await pilot.press("g")
            await settle(pilot)
            for expected in range(1, 40):
                await pilot.press("j")
                assert selected_id(view) == expected
    finally:
        spill.close()


async def test_a_new_width_estimates_far_heights_and_corrects_them_without_moving_the_screen(tmp_path) -> None:
    spill = Spill(tmp_path)
    words = "the quick brown fox jumps over the lazy dog " * 5
    messages = [msg(i, text=f"{i}: {words}") for i in range(COUNT)]
    app = WindowApp(messages, spill)
    try:
        async with app.run_test(size=SIZE) as pilot:
            view = app.query_one(ThreadView)
            await settle(pilot)
            layout = view.layout_model
            corrections: list[tuple[int, int]] = []
            fill = layout.fill

            def counting_fill(messages: Any) -> list[tuple[int, int]]:
                changed = fill(messages)
                corrections.extend(changed)
                return changed

            layout.fill = counting_fill  # type: ignore[method-assign]
            await pilot.resize_terminal(61, 30)  # far messages get estimates at this width
            await settle(pilot)
            await pilot.press("g")
            await settle(pilot)
            for _ in range(25):  # down through messages measured only as they come back
                await pilot.press("pagedown")
                await settle(pilot)
                selected = selected_id(view)
                rows = [y for y, line in enumerate(screen(view)) if re.search(rf"(^|[^0-9]){selected}: the", line)]
                assert rows, f"message {selected} is selected and on screen"
            assert corrections, "some estimates were off and were corrected"
            # A correction above the screen does not move it: the message at the top stays.
            view.scroll_to(y=view.max_scroll_y // 2, animate=False, immediate=True)
            await settle(pilot)
            top = layout.pos_at(view.scroll_offset.y)
            corrections.clear()
            view.scroll_to(y=view.scroll_offset.y - 1, animate=False, immediate=True)  # reads above
            await settle(pilot)
            assert layout.pos_at(view.scroll_offset.y)[0] in (top[0], top[0] - 1)
            # Every height of what is in memory is the measured one.
            for entry in layout.entries():
                if entry.message is not None:
                    assert layout.height_at(entry.pos) == entry.height
    finally:
        spill.close()


async def test_send_marks_are_kept_out_of_the_window_and_follow_their_state(tmp_path) -> None:
    spill = Spill(tmp_path)
    messages = [msg(i) for i in range(COUNT)]
    app = WindowApp(messages, spill)
    try:
        async with app.run_test(size=SIZE) as pilot:
            view = app.query_one(ThreadView)
            await settle(pilot)
            mark = msg(COUNT, text="on its way", _hmtui_send="sending")

            def is_mark(m: Message) -> bool:
                return "_hmtui_send" in m.raw

            view.sync_marks([*messages[-5:], mark], is_mark)
            await settle(pilot)
            assert "on its way" in "\n".join(screen(view))
            await pilot.press("g")  # far away: the mark is not in the spill, so it must stay
            await settle(pilot)
            assert view.layout_model.get(COUNT).message is mark
            failed = msg(COUNT, text="on its way", _hmtui_send="failed", status="failed")
            view.sync_marks([*messages[-5:], failed], is_mark)
            assert view.layout_model.get(COUNT).message is failed
            served = msg(COUNT + 1, text="on its way")  # the server's copy replaces the mark
            view.sync_marks([*messages[-5:], served], is_mark)
            await pilot.press("G")
            await settle(pilot)
            assert not view.has_message(COUNT) and view.has_message(COUNT + 1)
            assert view.message_count == COUNT + 1
            assert selected_id(view) == COUNT + 1
    finally:
        spill.close()

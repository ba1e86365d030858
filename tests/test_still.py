"""The shortcuts around Textual's line cache (hmtui.ui.widgets.still) draw what Textual draws."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from textual._styles_cache import StylesCache
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import Static

from hmtui.api.models import Message, format_datetime
from hmtui.ui.widgets.still import Pane, PaneTitle, PlainLines
from hmtui.ui.widgets.thread_view import ThreadView

BASE = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def message(i: int) -> Message:
    text = "a longer body that wraps over more than one line of the pane " * (i % 3) or "short"
    parsed = Message.from_raw({"id": i, "date": format_datetime(BASE + timedelta(minutes=7 * i)), "text": text,
                               **({"user": 4, "status": "delivered"} if i % 4 == 0 else {})})
    assert parsed is not None
    return parsed


class Host(App[None]):
    CSS = """
    #padded { padding: 1 2; border: round red; height: 6; }
    .tinted { background: red; }
    """

    def compose(self) -> ComposeResult:
        with Pane(id="pane"):
            yield PaneTitle("title", id="title")
            yield ThreadView(id="thread", tz=timezone.utc)
        yield Static("padded", id="padded")


def segments(strips: list) -> list:
    return [[(s.text, s.style) for s in strip] for strip in strips]


async def test_the_plain_lines_of_the_thread_are_the_ones_textual_draws() -> None:
    app = Host()
    async with app.run_test(size=(90, 30)) as pilot:
        view = app.query_one(ThreadView)
        view.set_thread([message(i) for i in range(40)], contact="Jane Doe")
        await pilot.pause()
        assert isinstance(view._styles_cache, PlainLines)
        region = Region(0, 0, view.size.width, view.size.height)
        for focused in (False, True):
            if focused:
                view.focus()
                await pilot.pause()
            view._styles_cache.clear()
            short = view.render_lines(region)
            view._styles_cache = StylesCache()
            full = view.render_lines(region)
            view._styles_cache = PlainLines()
            assert segments(short) == segments(full)
            assert [strip.cell_length for strip in short] == [strip.cell_length for strip in full]
        # A widget with padding and a border takes Textual's own way, whole.
        padded = app.query_one("#padded", Static)
        padded._styles_cache = PlainLines()
        area = Region(0, 0, padded.size.width, padded.size.height)
        short = padded.render_lines(area)
        padded._styles_cache = StylesCache()
        assert segments(short) == segments(padded.render_lines(area))


async def test_a_still_widget_hands_out_its_lines_again_until_they_change() -> None:
    app = Host()
    async with app.run_test(size=(90, 30)) as pilot:
        pane, title = app.query_one(Pane), app.query_one(PaneTitle)
        await pilot.pause()
        crop = Region(0, 0, pane.size.width, pane.size.height)
        first = pane.render_lines(crop)
        assert pane.render_lines(crop) is first  # nothing changed: the same lines
        pane.add_class("tinted")  # a style change repaints it
        await pilot.pause()
        tinted = pane.render_lines(crop)
        assert tinted is not first and segments(tinted) != segments(first)
        line = Region(0, 0, title.size.width, 1)
        before = title.render_lines(line)
        title.update("another title")
        await pilot.pause()
        after = title.render_lines(line)
        assert "another title" in after[0].text and "another title" not in before[0].text
        assert title.render_lines(line) is after
        assert title.render_lines(Region(0, 0, 4, 1)) is not after  # another crop: drawn for it

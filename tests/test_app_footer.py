"""The footer at 80 and 140 columns (issue 10 item 6): whole words only, no stray characters,
`? Help` always there (and `q Quit` where it fits), keys chosen per pane, `/` is "Find" in the
thread. Read from what the footer draws, in the app on the fake server."""

from __future__ import annotations

import re

import pytest

from hmtui.fake import LONG_THREAD_INBOX, LONG_THREAD_TARGET
from hmtui.ui.widgets.key_footer import PANES, TAIL, KeyFooter, fit
from hmtui.ui.widgets.thread_view import ThreadView

from app_harness import running, settle

LABELS = {k.label for keys in PANES.values() for k in keys} | {k.label for k in TAIL}


def footer_text(app) -> str:
    footer = app.screen.query_one(KeyFooter)
    strip = footer.render_line(0)
    assert strip.cell_length <= footer.size.width <= app.size.width
    return strip.text


def assert_whole(text: str, width: int, *, typing: bool = False) -> list[str]:
    """Every item is "key label" with a label the footer knows, whole; returns the labels.
    `typing`: a text field has focus, where `?` and `q` are typed, not keys."""
    assert len(text) <= width
    items = [item for item in re.split(r"\s{2,}", text.strip()) if item]
    labels = []
    for item in items:
        key, _, label = item.partition(" ")
        assert key and label in LABELS, (item, text)
        labels.append(label)
    assert labels[-1] in {"Help", "Quit", "Commands"}, text  # nothing cut after the last key
    keys = dict(zip(labels, (item.partition(" ")[0] for item in items)))
    # Help is always offered: `?`, or in a text field (where `?` is typed) f1; q quits only outside one.
    assert keys.get("Help") == ("f1" if typing else "?"), text
    assert not (typing and "Quit" in labels), text
    return labels


@pytest.mark.parametrize("size", [(80, 24), (140, 45)])
async def test_the_footer_fits_whole_words_and_always_shows_help(server, size) -> None:
    async with running(server, size=size, start_inbox=LONG_THREAD_INBOX, start_phone=LONG_THREAD_TARGET) as (app, pilot):
        screen = app.screen
        screen.conversations.focus()
        await settle(pilot)
        in_list = assert_whole(footer_text(app), size[0])
        assert "Open" in in_list and "Filter" in in_list
        if size[0] >= 140:
            assert "Quit" in in_list
        screen.query_one(ThreadView).focus()
        await settle(pilot)
        in_thread = assert_whole(footer_text(app), size[0])
        assert "Find" in in_thread and "Filter" not in in_thread  # `/` finds in the thread
        assert "Oldest" in in_thread
        await pilot.press("slash")
        await settle(pilot)
        in_find = assert_whole(footer_text(app), size[0], typing=True)
        assert "Whole history" in in_find  # find offers the whole-thread load, with its key
        assert "^g Whole history" in footer_text(app)


def test_fit_keeps_help_and_drops_whole_items_only() -> None:
    items = [("j", "Next"), ("k", "Previous"), ("g", "Oldest")]
    tail = [("?", "Help"), ("q", "Quit")]
    assert fit(items, tail, 200) == [*items, *tail]
    assert fit(items, tail, 22) == [("j", "Next"), ("?", "Help"), ("q", "Quit")]  # 6 + 2 + 6 + 2 + 6
    assert fit(items, tail, 21) == [("j", "Next"), ("?", "Help")]  # Quit only where it fits
    assert fit(items, tail, 6) == [("?", "Help")]

"""Issue 10, item 5: in the running app, a message header shows the date when the message is not
from today (the app's frozen clock), and only the time when it is."""

from __future__ import annotations

from datetime import datetime

from hmtui.fake import LONG_THREAD_INBOX
from hmtui.ui.widgets.thread_view import ThreadView

from app_harness import UTC, MovableClock, running
from conftest import ANCHOR, tidy_only


def headers_on_screen(thread: ThreadView) -> list[tuple[datetime, str]]:
    """(message date, header line as drawn) for every header on screen."""
    model = thread.layout_model
    shown: list[tuple[datetime, str]] = []
    for y in range(thread.scrollable_content_region.height):
        found = model.locate(int(thread.scroll_offset.y) + y)
        if found is not None and found[1] == 0 and isinstance(found[0].message.date, datetime):
            shown.append((found[0].message.date, thread.render_line(y).text))
    return shown


def expected(moment: datetime, today: datetime) -> str:
    local = moment.astimezone(UTC)
    if local.date() == today.date():
        return f"· {local:%H:%M}"
    return f"· {local:%a} {local.day} {local:%b %H:%M}"


@tidy_only  # what the header says, the same in both profiles
async def test_headers_carry_the_date_unless_today(server) -> None:
    clock = MovableClock(ANCHOR)
    async with running(server, start_inbox=LONG_THREAD_INBOX, start_phone="+1 415-555-0142", clock=clock) as (app, pilot):
        thread = app.screen_stack[0].query_one(ThreadView)
        await pilot.press(*["k"] * 12)
        await pilot.pause()
        shown = headers_on_screen(thread)
        assert shown, "no header on screen"
        days = {moment.astimezone(UTC).date() for moment, _ in shown}
        assert ANCHOR.date() in days and len(days) > 1, days  # today's and an earlier day's
        for moment, line in shown:
            assert expected(moment, ANCHOR) in line, (moment, line)
        # The next day, the same messages' headers name their day (built headers are not reused).
        clock.now = ANCHOR.replace(day=ANCHOR.day + 1)
        thread.refresh()
        await pilot.pause()
        for moment, line in headers_on_screen(thread):
            assert expected(moment, clock.now) in line, (moment, line)
            assert f"{moment.day} {moment:%b}" in line

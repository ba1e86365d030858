"""How times read on screen: relative in lists, clock times in threads, day separators.

Every function takes `now` and a `tz` rather than reading the system clock, so the app can
freeze both for deterministic tests and snapshots.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone, tzinfo
from functools import lru_cache

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def local_tz() -> tzinfo:
    return datetime.now().astimezone().tzinfo or timezone.utc


def relative(moment: datetime | None, now: datetime) -> str:
    """"now", "5m", "3h", "Tue", "12 Mar", "12 Mar 2023": short enough for a list column."""
    if moment is None:
        return ""
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 6 * 86400:
        return f"{int(seconds // 86400)}d"
    if moment.year == now.year:
        return f"{moment.day} {moment:%b}"
    return f"{moment.day} {moment:%b %Y}"


def clock_time(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M") if moment else "--:--"


def day_label(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return label_of_day((local.year, local.month, local.day))


@lru_cache(maxsize=8192)
def label_of_day(key: tuple[int, int, int]) -> str:
    """"Tuesday, 3 November 2026" for a `day_key`. Cached: the messages of a day share their
    label, and formatting it cost more than the rest of a message's layout (profiled)."""
    day = date(*key)
    return f"{day:%A}, {day.day} {day:%B %Y}"


def day_key(moment: datetime | None, tz: tzinfo) -> tuple[int, int, int] | None:
    if moment is None:
        return None
    local = moment.astimezone(tz)
    return (local.year, local.month, local.day)

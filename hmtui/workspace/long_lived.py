"""The collector and loaded history. No Textual here.

Before the thread pane kept a window (issue 11), every loaded message was a Python object, a full
collection with 20,000 of them took ~90 ms, and each page was `gc.freeze()`d once in place. The
pane now holds a few hundred messages and the rest are rows in arrays (which the collector does
not track), so nothing is frozen any more: freezing also froze the cyclic garbage of each page
(the pipeline's futures, the view's events), which no collection then reclaimed, and a whole
history of 100,000 messages kept 20 MiB of it (measured with `python -m hmtui.bench_rss`).
Nor is anything unfrozen when a thread opens: what start-up froze (hmtui/startup.py) must stay
so, or every full collection walks all of Textual again (80 ms, measured).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_pauses = 0  # collector_paused() blocks open now
_resume = False  # whether the collector ran before the first of them


def settle_history() -> None:
    """After a page is in place: its short-lived garbage goes at once (cheap)."""
    gc.collect(1)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection inside the block; the caller collects the young garbage itself
    (`settle_history` every so many messages). A cached whole history makes 100,000 messages in a
    few seconds, all alive until handed over: each automatic collection walks the pages in flight
    and promotes them, and the full ones that follow walk everything promoted (0.3 s of a 3 s
    load, measured with gc.callbacks). Nested or overlapping blocks resume only when the last
    ends, and only a collector that was running before the first."""
    global _pauses, _resume
    if _pauses == 0:
        _resume = gc.isenabled()
        gc.disable()
    _pauses += 1
    try:
        yield
    finally:
        _pauses -= 1
        if _pauses == 0 and _resume:
            gc.enable()

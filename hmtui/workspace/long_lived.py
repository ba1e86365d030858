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

import gc


def settle_history() -> None:
    """After a page is in place: its short-lived garbage goes at once (cheap)."""
    gc.collect(1)


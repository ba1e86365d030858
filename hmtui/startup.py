"""Start-up without the cyclic garbage collector.

Importing hmtui, Textual and httpx creates ~150,000 objects that live as long as the process, and
the collector walks all of them again and again while they are made (about 5% of the start-up on
this 2-core machine). The entry point pauses it; it resumes once the first frame is on screen (the
TUI) or as soon as a CLI command starts, with what start-up made frozen (out of every later
collection's walk, as the loaded history is in hmtui/workspace/thread.py).
"""

from __future__ import annotations

import gc

_paused = False


def pause_gc() -> None:
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_gc() -> None:
    """Idempotent: the first call after `pause_gc()` resumes collection; later ones do nothing."""
    global _paused
    if _paused:
        _paused = False
        gc.collect(0)  # the young garbage of start-up, not frozen with the rest
        gc.freeze()
        gc.enable()

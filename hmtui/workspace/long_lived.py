"""Loaded history is long-lived: keep it out of the cyclic collector's sight.

With 20,000 messages loaded a full collection takes ~90 ms, a visible hitch; while a whole
history loads, the collections the growing heap triggers cost more than laying the messages out
(a third of a cached 20,000-message load, profiled). Each page is frozen once it is in place and
released when another thread replaces it. No Textual here.
"""

from __future__ import annotations

import gc


def settle_history() -> None:
    """Move what is loaded out of the collector's sight."""
    gc.collect(1)  # this page's short-lived garbage: cheap, and not frozen with it
    gc.freeze()


def release_history() -> None:
    """Let a thread that is being replaced be collected."""
    gc.unfreeze()

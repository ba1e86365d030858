"""The workspace layer: the app's state and its background work, in plain asyncio (no Textual).

The UI subscribes to it and draws; see `refresh.py` for the budgeted refresh cycle.
"""

from hmtui.workspace.refresh import Cadence, InboxCounts, NewMessage, RefreshObserver, Refresher

__all__ = ["Cadence", "InboxCounts", "NewMessage", "RefreshObserver", "Refresher"]

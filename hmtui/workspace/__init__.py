"""The workspace layer: the app's state and its background work, in plain asyncio (no Textual).

`Workspace` (workspace.py) is the facade the UI talks to; it owns the inboxes and the list
(conversations.py), the one current conversation and its thread (thread.py), triage (triage.py),
the connection state (connection.py), its tasks (tasks.py) and the budgeted refresh (refresh.py).
It announces every change through a `Listener` (events.py); the Textual side draws.
"""

from hmtui.workspace.events import Listener, Recorder
from hmtui.workspace.refresh import Cadence, InboxCounts, NewMessage, RefreshObserver, Refresher

__all__ = ["Cadence", "InboxCounts", "Listener", "NewMessage", "Recorder", "RefreshObserver", "Refresher"]

"""Keys typed faster than the app reacts are handled one at a time, in order.

Textual decides which widget gets a key when the key *arrives*: it is put in the queue of the
widget focused at that moment. A key's binding runs only later, once the key has bubbled back up
to the app, and `Widget.focus()` and `push_screen()` take effect later still (a callback on the
app's queue, a screen that still has to mount). So in "/c" typed fast (or pasted, or queued while
the app was busy) the "c" is queued to the conversation list before "/" has moved the focus to
the filter, and closes a conversation on the server; in a picker, "enter enter" selects twice.

`Typeahead` holds every key after the first until the app has finished reacting to the previous
one: every message queue of the app and its screens is empty and every widget is mounted. Then
the key goes to whatever is focused *now*, exactly as if it had been typed slowly. A key that
arrives while the app is idle goes through at once, so typing latency does not change. Keys that
arrive before the first screen has mounted wait for it the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textual import events

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

log = logging.getLogger("hmtui.ui")

# Polls (event-loop turns) to wait for the app to settle before sending the next key anyway. It
# counts turns, not seconds: a loop blocked by a long frame must not count as waiting. Only a
# handler stuck for good (which must not happen) would hit it; typing then still works.
MAX_POLLS = 1000
# The first polls only yield to the other tasks; later ones sleep this long, to not spin.
FAST_POLLS = 50
POLL_SLEEP = 0.002

InputEvent = events.Key | events.Paste


def is_typed(event: events.Event) -> bool:
    """A key or paste from the terminal (not one Textual is already forwarding or bubbling)."""
    return isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded


class Typeahead:
    """The keys waiting for the app to catch up. `dispatch` is Textual's own handling of a key
    (priority bindings, then the focused widget); it runs on the app's message loop."""

    def __init__(self, app: App[object], dispatch: Callable[[InputEvent], Awaitable[None]]) -> None:
        self._app = app
        self._dispatch = dispatch
        self._waiting: deque[InputEvent] = deque()
        self._polling = False

    @property
    def pending(self) -> int:
        """Keys received and not handed to a widget yet."""
        return len(self._waiting)

    async def receive(self, event: InputEvent) -> None:
        self._waiting.append(event)
        if not self._polling:
            await self._pump()

    async def _pump(self, polls: int = 0) -> None:
        self._polling = False
        while self._waiting:
            if getattr(self._app, "_exit", False):  # typeahead after `q` does nothing
                self._waiting.clear()
                return
            if not self.settled() and polls < MAX_POLLS:
                # Come back after the other tasks have had a turn (behind whatever the app's
                # queue holds now, e.g. the focus change the last key asked for).
                self._polling = True
                await asyncio.sleep(0 if polls < FAST_POLLS else POLL_SLEEP)
                self._app.call_later(self._pump, polls + 1)
                return
            if polls >= MAX_POLLS:
                log.warning("the app did not settle after a key; sending the next one anyway")
            polls = 0
            event = self._waiting.popleft()
            await self._dispatch(event)

    def settled(self) -> bool:
        """Nothing the last key started is still on its way: no message is queued or being handled
        anywhere in the app's screens, and every widget has finished mounting."""
        app = self._app
        if app._message_queue.qsize():  # the app itself is busy running us: only its backlog counts
            return False
        for screen in app.screen_stack:
            for node in screen.walk_children(with_self=True):
                if _busy(node):
                    return False
        return True


def _busy(node: MessagePump) -> bool:
    if node._closing or node._closed:
        return False
    if not getattr(node, "is_mounted", True):
        return True
    queue = node._message_queue
    # Counts a message being handled (its handler may be awaiting), not only the ones queued.
    return bool(getattr(queue, "_unfinished_tasks", queue.qsize()))

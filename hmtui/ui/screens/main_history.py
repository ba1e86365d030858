"""The main screen's keys for the whole history (issue 10 item 3): ctrl+g loads every older
message of the open thread, escape stops it. A mixin of `MainScreen`; the work is the
workspace's (`Thread.load_all`, hmtui/workspace/whole_history.py), this only forwards keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hmtui.workspace.workspace import Workspace


class HistoryKeys:
    """`action_load_all` and the escape that stops it (see the module docstring)."""

    if TYPE_CHECKING:
        workspace: Workspace

        def notify(self, *args: Any, **kwargs: Any) -> None: ...

    def action_load_all(self) -> None:
        ws = self.workspace
        ws.flush_preview()
        thread = ws.thread
        if ws.current is None:
            return
        if thread.whole and not thread.state.cache_left:
            thread.prepend_batch([], at_start=True)
            ws.listener.thread_show_oldest()
            self.notify("The whole history is loaded: this is the first message", markup=False)
            return
        if thread.load_all() is None:
            self.notify("This thread is still loading; try again in a moment", markup=False)

    def stop_history(self) -> bool:
        """Escape while the whole history loads: stop it (what came stays). True if it did."""
        return self.workspace.thread.cancel_load_all()

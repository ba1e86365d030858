"""Triage as one operation: the optimistic change (list, header, badges), the server call, then
confirm or roll back. Acts on the current conversation only, as the member the rule names."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from hmtui.api import ApiError, Conversation, Id, Inbox
from hmtui.safe_text import one_line

if TYPE_CHECKING:
    from hmtui.workspace.workspace import Workspace


def acting_member(inbox: Inbox | None, configured: Id | None) -> Id | None:
    """Who we act as: the configured user if they belong to the inbox, else its first member."""
    if inbox is None:
        return configured
    if configured is not None and (configured in inbox.members or not inbox.members):
        return configured
    return inbox.members[0] if inbox.members else configured


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a finished triage did (tests and the bench read it)."""

    before: Conversation
    after: Conversation
    ok: bool
    text: str


class Triage:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.outcomes: list[Outcome] = []

    def run(self, after: Conversation, call: Callable[[Id], Awaitable[None]], *, done: str, failed: str,
            doing: str, leaves_list: bool = False) -> bool:
        """Show the change at once, move on to the next conversation, and roll it back if the
        server refuses. False (with a notice) when it cannot start."""
        ws = self.ws
        before = ws.current
        if before is None:
            return False
        lost = ws.connection.lost
        if lost is not None:
            ws.listener.notice(f"{doing} a conversation needs a connection: {lost}", severity="warning")
            return False
        member = ws.acting_member(ws.conversations.inbox_of(before))
        if member is None or before.inbox_id is None:
            ws.listener.notice("Cannot act on this conversation: no member id to act as", severity="error")
            return False
        lists = ws.conversations
        snapshot = list(lists.items) if leaves_list else None
        following = lists.neighbour_after(before.id, leaving=leaves_list)
        if leaves_list:
            lists.remove(before.id)
            ws.listener.list_item_removed(before.id)
        elif lists.replace(after):
            ws.listener.list_item_changed(after)
        ws.refresher.note_triage(before, after)
        # Auto-advance: the thread follows the cursor to the next conversation; with none to go
        # to, the conversation acted on stays current, in its new state.
        if following is not None:
            ws.set_current(following, move_cursor=True)
        elif leaves_list:
            ws.set_current(None)
        else:
            ws.thread.update(after)
        ws.listener.list_title_changed()
        ws.tasks.run("triage", self._call(before, after, call, member, done, failed, snapshot), exclusive=False)
        return True

    async def _call(self, before: Conversation, after: Conversation, call: Callable[[Id], Awaitable[None]],
                    member: Id, done: str, failed: str, snapshot: list[Conversation] | None) -> None:
        ws = self.ws
        try:
            await call(member)
        except ApiError as error:
            lists = ws.conversations
            if snapshot is not None:
                if lists.inbox is not None and lists.inbox.id == before.inbox_id:
                    lists.items = snapshot
                    keep = ws.current.id if ws.current is not None else None
                    ws.listener.list_changed(lists.visible, keep)
            elif lists.replace(before):
                ws.listener.list_item_changed(before)
            ws.thread.update(before)
            ws.refresher.note_triage(after, before)
            ws.listener.list_title_changed()
            text = f"Could not {failed} {one_line(before.display_name, 40)}: {error}"
            self.outcomes.append(Outcome(before, after, False, text))
            ws.listener.notice(text, severity="error", timeout=8)
            ws.connection.failed(error)  # the state only: the toast above says it all
            return
        ws.succeeded()
        self.outcomes.append(Outcome(before, after, True, done))
        ws.listener.notice(done)

"""The triage keys (`c u a t y`) as workspace calls: each acts on the current conversation only
(a pending preview applied first), and on nothing if `expected` names another one (a picker opened
for one conversation never acts on a different one). `Triage` (triage.py) does the operation."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from hmtui.api import Conversation, Id, Inbox
from hmtui.safe_text import one_line

if TYPE_CHECKING:
    from hmtui.workspace.workspace import Workspace


class TriageKeys:
    """Mixed into `Workspace`."""

    def _acting_on(self: Workspace, expected: Id | None) -> Conversation | None:
        self.flush_preview()
        current = self.current
        if current is None:
            return None
        if expected is not None and current.id != expected:
            self.listener.notice("The conversation on screen changed; nothing was done", severity="warning")
            return None
        return current

    def toggle_closed(self: Workspace, expected: Id | None = None) -> bool:
        conversation = self._acting_on(expected)
        if conversation is None:
            return False
        closing = not conversation.closed
        method = self.client.close if closing else self.client.open
        return self.triage.run(
            dataclasses.replace(conversation, status="closed" if closing else "open"),
            lambda member: method(conversation.inbox_id, member, conversation.target or "", **conversation.triage_refs()),
            done=f"{'Closed' if closing else 'Reopened'} {one_line(conversation.display_name, 40)}",
            failed="close" if closing else "reopen", doing="Closing" if closing else "Reopening",
        )

    def toggle_unread(self: Workspace, expected: Id | None = None) -> bool:
        conversation = self._acting_on(expected)
        if conversation is None:
            return False
        marking_read = conversation.unread
        method = self.client.mark_read if marking_read else self.client.mark_unread
        return self.triage.run(
            dataclasses.replace(conversation, unread=not marking_read),
            lambda member: method(conversation.inbox_id, member, conversation.target or "", **conversation.triage_refs()),
            done=f"Marked {one_line(conversation.display_name, 40)} {'read' if marking_read else 'unread'}",
            failed="mark read" if marking_read else "mark unread",
            doing="Marking as read" if marking_read else "Marking as unread",
        )

    def assign_choices(self: Workspace) -> list[tuple[Id, str]] | None:
        """The members the current conversation can go to (None: the team is still loading)."""
        conversation = self._acting_on(None)
        if conversation is None or self.team is None:
            return None
        inbox = self.conversations.inbox_of(conversation)
        allowed = set(inbox.members) if inbox and inbox.members else None
        return [(m.id, f"{m.name}  ({m.role})" if m.role else m.name) for m in self.team.members
                if allowed is None or m.id in allowed]

    def assign(self: Workspace, member_id: Id, expected: Id | None = None) -> bool:
        conversation = self._acting_on(expected)
        if conversation is None:
            return False
        if member_id == conversation.assigned:
            name = self.member_names.get(member_id, str(member_id))
            self.listener.notice(f"{one_line(conversation.display_name, 40)} is already assigned to {one_line(name, 30)}")
            return False
        owner = conversation.assigned
        name = self.member_names.get(member_id, str(member_id))
        return self.triage.run(
            dataclasses.replace(conversation, assigned=member_id),
            lambda member: self.client.reassign(conversation.inbox_id, owner if owner is not None else member,
                                                member_id, conversation.target or "", **conversation.triage_refs()),
            done=f"Assigned {one_line(conversation.display_name, 40)} to {one_line(name, 30)}",
            failed="reassign", doing="Assigning",
        )

    def transfer_choices(self: Workspace) -> list[Inbox]:
        conversation = self._acting_on(None)
        if conversation is None:
            return []
        return [i for i in self.conversations.inboxes if i.id != conversation.inbox_id]

    def transfer(self: Workspace, inbox_id: Id, expected: Id | None = None) -> bool:
        conversation = self._acting_on(expected)
        if conversation is None:
            return False
        target = self.conversations.inbox_by_id(inbox_id)
        name = target.name if target else str(inbox_id)
        return self.triage.run(
            dataclasses.replace(conversation, inbox_id=inbox_id),
            lambda member: self.client.transfer(conversation.id, inbox_id),
            done=f"Transferred {one_line(conversation.display_name, 40)} to {one_line(name, 30)}",
            failed="transfer", doing="Transferring", leaves_list=True,
        )

    def number_to_copy(self: Workspace) -> str | None:
        conversation = self._acting_on(None)
        digits = "".join(ch for ch in (conversation.target if conversation else "") or "" if ch.isdigit())
        return "+" + digits if digits else None

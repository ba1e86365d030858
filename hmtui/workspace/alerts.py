"""Desktop notifications and the terminal title, decided in the workspace (issue 12). Plain
asyncio: the app only says whether the terminal has focus and gives the notifier and the title
a way to write to the terminal.

Each refresh's new inbound messages (the refresher's `inbound` hook) are collected, and once the
cycle is over they pass, in this order:
1. the owner choice of their inbox (Mine / Unassigned / All: `notify_allowed`, the rule the list
   and `n`/`N` follow), seen from that inbox's acting member;
2. `NotifyGate` (hmtui/notify.py): never the start-up backlog, each id once across restarts (the
   store remembers), the `notify_scope` (mine / all / none), never the conversation on screen
   while the terminal has focus;
3. `summary` (a burst is one notification), to the `Notifier`.

The title (`hmtui · work · 3 unread`) is the sum of the inboxes' unread badges, written only when
it changes (`TerminalTitle`), and restored by `close()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hmtui.api.models import Conversation, Id
from hmtui.notify import Delivery, Inbound, Notifier, NotifyGate, TerminalTitle, summary
from hmtui.phones import format_phone
from hmtui.workspace.queue import notify_allowed
from hmtui.workspace.refresh import NewMessage

if TYPE_CHECKING:
    from hmtui.workspace.workspace import Workspace

log = logging.getLogger("hmtui.notify")


class Alerts:
    """Owned by the workspace (`ws.alerts`); the app builds it with its notifier and title."""

    def __init__(self, ws: Workspace, notifier: Notifier | None, *, scope: str = "mine",
                 started: datetime | None = None, title: TerminalTitle | None = None,
                 account: str | None = None) -> None:
        self.ws = ws
        self.notifier = notifier
        self.title = title
        self.account = account
        self.gate = NotifyGate(ws.store, scope=scope, started=started)
        # The terminal has focus until it says otherwise (terminals that never report focus).
        self.focused = True
        self.delivered: list[Delivery] = []  # what was sent (for tests and the log)
        self._pending: list[tuple[NewMessage, bool]] = []
        self._primed = False
        self._unread: int | None = None

    # -- what the workspace feeds in --------------------------------------------------------

    def inbound(self, new: NewMessage, on_screen: bool) -> None:
        """A new inbound message the refresh found (decided once the cycle ends: `flush`)."""
        self._pending.append((new, on_screen))

    def prime(self, ids: Sequence[Any]) -> None:
        """The messages there at start-up: never notified."""
        self.gate.prime(ids)
        self._primed = True

    def flush(self) -> list[Delivery]:
        """Notify what this refresh brought; returns what was delivered."""
        pending, self._pending = self._pending, []
        if not pending:
            return []
        ws = self.ws
        self.gate.my_inboxes = {i.id for i in ws.inboxes} or None
        current = ws.current
        on_screen = (current.inbox_id, current.target or "") if current is not None else None
        by_inbox: dict[Id | None, list[Inbound]] = {}
        for new, _here in pending:
            conversation = self._conversation(new)
            inbox = ws.conversations.inbox_by_id(new.inbox_id)
            me = ws.acting_member(inbox) if inbox is not None else None
            if new.inbox_id is not None and not notify_allowed(conversation, ws.owner_of_inbox(new.inbox_id), me):
                continue
            by_inbox.setdefault(new.inbox_id, []).append(Inbound(
                id=new.message.id, inbox_id=new.inbox_id, target=new.target or "",
                assigned=conversation.assigned if conversation is not None else None,
                date=new.message.date, title=self._title(new, inbox.name if inbox is not None else None),
                body=new.message.text or "",
            ))
        chosen: list[Inbound] = []
        for inbox_id, messages in by_inbox.items():
            inbox = ws.conversations.inbox_by_id(inbox_id)
            self.gate.me = ws.acting_member(inbox) if inbox is not None else None  # "mine" is per inbox
            chosen += self.gate.admit(messages, on_screen=on_screen, focused=self.focused)
        out: list[Delivery] = []
        if self.notifier is not None:
            for title, body in summary(chosen):
                out.append(self.notifier.notify(title, body))
        self.delivered += out
        return out

    def prime_from_feed(self) -> None:
        """The feed started at the newest second it saw: those messages are the backlog. Called
        once the refresher has started (before any refresh cycle moves its position)."""
        if self._primed:
            return
        refresher = self.ws._refresher
        position = refresher.position if refresher is not None else None
        if isinstance(position, dict):
            ids = position.get("ids")
            self.prime(ids if isinstance(ids, list) else [])

    def _conversation(self, new: NewMessage) -> Conversation | None:
        """The message's conversation as this client knows it (its assignee decides "mine")."""
        lists = self.ws.conversations
        if new.conversation_id is None:
            return None
        found = lists.get(new.conversation_id)
        if found is not None or new.inbox_id is None:
            return found
        try:
            cached = self.ws.store.conversations(new.inbox_id, limit=500)
        except Exception:  # noqa: BLE001 - unknown owner: the message still notifies
            return None
        return next((c for c in cached if c.id == new.conversation_id), None)

    @staticmethod
    def _title(new: NewMessage, inbox_name: str | None) -> str:
        who = new.name or format_phone(new.target or "") or "a customer"
        return f"{who} ({inbox_name})" if inbox_name else who

    # -- the terminal title ---------------------------------------------------------------

    def counts_changed(self) -> None:
        """A badge changed: the title shows the unread total (written only when it changes)."""
        if self.title is None:
            return
        refresher = self.ws._refresher
        if refresher is None:
            return
        unread = sum(refresher.counts(i.id).unread or 0 for i in self.ws.inboxes)
        if unread != self._unread:
            self._unread = unread
            self.title.show(unread, self.account)

    def show_title(self) -> None:
        """The title at start (before any count)."""
        if self.title is not None:
            self.title.show(self._unread or 0, self.account)

    def close(self) -> None:
        """Put the terminal's own title back."""
        if self.title is not None:
            self.title.restore()


def attach(ws: Workspace, notifier: Notifier | None, *, scope: str, started: datetime,
           write: Callable[[str], None] | None, account: str | None) -> Alerts:
    """Give `ws` its alerts (the app calls this once it has a terminal to write to)."""
    alerts = Alerts(ws, notifier, scope=scope, started=started,
                    title=TerminalTitle(write) if write is not None else None, account=account)
    ws.alerts = alerts
    return alerts

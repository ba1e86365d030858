"""The queue's keys as workspace calls (issue 12, "Working the queue"): whose conversations the
list shows (Mine / Unassigned / All, remembered per inbox), the waiting sort, and the jump to the
customer who has waited longest across inboxes. The rules are `hmtui.workspace.queue`'s; this
module applies them to the workspace's list and announces the result. Plain asyncio."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hmtui.api.models import Conversation, Id, Inbox
from hmtui.api.paging import Pager
from hmtui.api.semantics import Owner
from hmtui.safe_text import one_line
from hmtui.workspace.queue import QueuePrefs, longest_waiting, owner_accept, waiting_text

if TYPE_CHECKING:
    from hmtui.workspace.tasks import Job
    from hmtui.workspace.workspace import Workspace

SORTS = ("newest", "waiting")
SORT_PREF = "queue.sort"
_SHOWING = {
    Owner.MINE: "Showing the conversations assigned to you",
    Owner.UNASSIGNED: "Showing the unassigned conversations",
    Owner.ALL: "Showing all conversations",
}


class QueueKeys:
    """Mixed into `Workspace`."""

    _queue_prefs: QueuePrefs | None = None

    @property
    def queue_prefs(self: Workspace) -> QueuePrefs:
        """The owner choice per inbox, in this account's cache (each account has its own)."""
        if self._queue_prefs is None:
            self._queue_prefs = QueuePrefs(self.store)
        return self._queue_prefs

    def owner_of_inbox(self: Workspace, inbox_id: Id) -> Owner:
        return self.queue_prefs.owner(inbox_id)

    def queue_inbox_selected(self: Workspace, inbox: Inbox) -> None:
        """An inbox became the selected one: its own owner choice applies, seen from its acting
        member. Called by `select_inbox` before the list is drawn."""
        lists = self.conversations
        lists.owner = self.queue_prefs.owner(inbox.id)
        lists.me = self.acting_member(inbox)
        if lists.sort == "newest" and not getattr(self, "_sort_read", False):
            self._sort_read = True
            try:
                stored = self.store.get_pref(SORT_PREF)
            except Exception:  # noqa: BLE001 - a broken cache keeps the default order
                stored = None
            if stored in SORTS:
                lists.sort = stored

    def _queue_redraw(self: Workspace) -> None:
        lists = self.conversations
        current = self.current
        self.listener.list_changed(lists.items, current.id if current else None)
        self.listener.list_title_changed()
        self._follow_list()

    def cycle_owner(self: Workspace, step: int = 1) -> Owner | None:
        """The `conversations.owner` key: Mine -> Unassigned -> All for the selected inbox."""
        self.flush_preview()
        lists = self.conversations
        inbox = lists.inbox
        if inbox is None:
            return None
        owner = self.queue_prefs.cycle(inbox.id, step)
        if self.queue_prefs.last_error:
            self.listener.notice(self.queue_prefs.last_error, severity="warning", title="Cache")
        lists.owner = owner
        lists.me = self.acting_member(inbox)
        self._queue_redraw()
        if lists.me is None and owner is not Owner.ALL:
            self.listener.notice("No member to count as you in this inbox: set user_id in the config")
        else:
            self.listener.notice(_SHOWING[owner])
        return owner

    def toggle_waiting_sort(self: Workspace) -> str:
        """The waiting sort on or off: customers who wrote last and have had no answer first,
        oldest first (over what is loaded; the jump pages every open list)."""
        self.flush_preview()
        lists = self.conversations
        lists.sort = "newest" if lists.sort == "waiting" else "waiting"
        try:
            self.store.put_pref(SORT_PREF, lists.sort)
        except Exception:  # noqa: BLE001 - kept for the session
            pass
        self._queue_redraw()
        self.listener.notice("Longest waiting first" if lists.sort == "waiting" else "Newest first")
        return lists.sort

    # -- the longest-waiting jump ---------------------------------------------------------------

    def jump_longest_waiting(self: Workspace) -> Job:
        self.flush_preview()
        return self.run("jump", self._jump_longest_waiting())

    async def _jump_longest_waiting(self: Workspace) -> None:
        """Page every inbox's open conversations to the end (no filter selects waiting ones and
        the longest waiter is among the oldest: see `FetchPlan`), then go to the customer who has
        waited longest, under each inbox's own owner choice."""
        inboxes = list(self.conversations.inboxes)
        members = {i.id: self.acting_member(i) for i in inboxes}
        lists: dict[Id, list[Conversation]] = {}
        pagers: dict[Id, Pager[Conversation]] = {}
        with self.loading("longest", f"finding the longest wait… ({len(inboxes)} inboxes)"):
            for inbox in inboxes:
                member = members[inbox.id]
                if member is None:
                    continue
                pager = self.client.conversation_pager(inbox.id, member, closed=False)
                items: list[Conversation] = []
                while not pager.exhausted:
                    page = await pager.older()
                    if not page:
                        break
                    self.cache("put_conversations", page)
                    items.extend(page)
                lists[inbox.id], pagers[inbox.id] = items, pager
        self.succeeded()
        owners = {i.id: self.queue_prefs.owner(i.id) for i in inboxes}
        result = longest_waiting(lists, complete=lists.keys(), accept=owner_accept(owners, members))
        best = result.best
        if best is None:
            self.listener.notice("Nobody is waiting for a reply")
            return
        inbox = self.conversations.inbox_by_id(best.inbox_id)
        if inbox is None:
            return
        self._show_open_list(inbox, lists[inbox.id], pagers[inbox.id])
        self.set_current(best.conversation, move_cursor=True)
        who = one_line(best.conversation.display_name, 40)
        where = one_line(inbox.name or str(inbox.id), 30)
        self.listener.notice(f"Longest wait: {who} in {where}, {waiting_text(best.since, self.clock())}")

    def _show_open_list(self: Workspace, inbox: Inbox, items: list[Conversation],
                        pager: Pager[Conversation]) -> None:
        """Show `inbox`'s open list, already paged to its end by the jump (no request again)."""
        lists = self.conversations
        self._follow_first = False
        lists.status_filter = "open"
        lists.inbox = inbox
        lists.pager = pager
        lists.items = items
        self.queue_inbox_selected(inbox)
        self.listener.inboxes_changed(lists.inboxes, inbox.id)
        current = self.current
        self.listener.list_changed(lists.items, current.id if current else None)
        self.listener.list_title_changed()

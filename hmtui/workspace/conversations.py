"""The inboxes and the selected inbox's conversation list: status filter, `/` text filter, the
list's pager, and merging a refreshed head. Pure state, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hmtui.api.models import Conversation, Id, Inbox
from hmtui.api.paging import Pager
from hmtui.api.semantics import Owner
from hmtui.safe_text import one_line
from hmtui.workspace.queue import filter_by_owner, sort_by_waiting

STATUS_FILTERS: dict[str, bool | None] = {"open": False, "closed": True, "all": None}
_NUMBER_QUERY = set("0123456789 +-().")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isascii() and ch.isdigit())


def matches_filter(conversation: Conversation, text: str) -> bool:
    """The list's `/` filter: name, number (whatever its formatting) or last message contains
    `text`, case-insensitive; `ConversationList.set_filter` draws with this rule."""
    query = " ".join(text.split()).casefold()
    if not query:
        return True
    digits = _digits(query) if set(query) <= _NUMBER_QUERY else ""
    if query in one_line(conversation.display_name).casefold():
        return True
    target = " ".join(conversation.numbers) or conversation.target or ""
    if query in target.casefold() or (digits and digits in _digits(target)):
        return True
    snippet = conversation.last_message
    return bool(snippet) and query in one_line(snippet).casefold()


@dataclass
class ConversationsState:
    inboxes: list[Inbox] = field(default_factory=list)
    inbox: Inbox | None = None  # the selected one
    status_filter: str = "open"
    filter_text: str = ""
    items: list[Conversation] = field(default_factory=list)  # loaded, newest first
    pager: Pager[Conversation] | None = None
    loading_more: bool = False
    # The queue (issue 12): whose conversations show (`owner`, seen from the acting member `me`)
    # and the order ("newest" as the server lists them, or "waiting": oldest waiter first).
    owner: Owner = Owner.ALL
    me: Id | None = None
    sort: str = "newest"

    @property
    def arranging(self) -> bool:
        """The list shows a selection or an order of `items` other than the loaded one."""
        return self.owner is not Owner.ALL or self.sort != "newest"

    def arranged(self, items: Sequence[Conversation] | None = None) -> list[Conversation]:
        """`items` (default: the loaded ones) as the list shows them: the owner filter, then the
        sort. Both keep the loaded order otherwise, so they compose in either order."""
        shown = list(self.items if items is None else items)
        if self.owner is not Owner.ALL:
            shown = filter_by_owner(shown, self.owner, self.me)
        if self.sort == "waiting":
            shown = sort_by_waiting(shown)
        return shown

    @property
    def closed(self) -> bool | None:
        return STATUS_FILTERS[self.status_filter]

    def inbox_by_id(self, inbox_id: Id | None) -> Inbox | None:
        return next((i for i in self.inboxes if i.id == inbox_id), None)

    def inbox_of(self, conversation: Conversation) -> Inbox | None:
        return self.inbox_by_id(conversation.inbox_id) or self.inbox

    def set_inboxes(self, inboxes: Sequence[Inbox]) -> None:
        self.inboxes = list(inboxes)
        if self.inbox is not None:
            self.inbox = self.inbox_by_id(self.inbox.id) or self.inbox

    @property
    def visible(self) -> list[Conversation]:
        """What the list shows: the loaded conversations that pass the owner and text filters,
        in the list's order (`n`/`N` and auto-advance walk this)."""
        arranged = self.arranged()
        if not self.filter_text.strip():
            return arranged
        return [c for c in arranged if matches_filter(c, self.filter_text)]

    def get(self, conversation_id: Id) -> Conversation | None:
        return next((c for c in self.items if c.id == conversation_id), None)

    def by_target(self, target: str) -> Conversation | None:
        return next((c for c in self.items if c.target == target), None)

    def replace(self, conversation: Conversation) -> bool:
        for n, item in enumerate(self.items):
            if item.id == conversation.id:
                self.items[n] = conversation
                return True
        return False

    def remove(self, conversation_id: Id) -> None:
        self.items = [c for c in self.items if c.id != conversation_id]

    def neighbour_after(self, conversation_id: Id, *, leaving: bool) -> Conversation | None:
        """Where auto-advance goes after acting on this one: the next visible conversation (for
        one that leaves the list, the one that takes its place, else the one before)."""
        visible = self.visible
        index = next((n for n, c in enumerate(visible) if c.id == conversation_id), None)
        if index is None:
            return None
        if index + 1 < len(visible):
            return visible[index + 1]
        if leaving and index > 0:
            return visible[index - 1]
        return None

    def merge_head(self, head: Sequence[Conversation]) -> None:
        """Put the newest page in place: changed conversations move to where `updated` puts them."""
        fresh = {c.id for c in head}
        merged = list(head) + [c for c in self.items if c.id not in fresh]
        merged.sort(key=lambda c: c.updated.timestamp() if c.updated else float("-inf"), reverse=True)
        self.items = merged

    def extend(self, more: Sequence[Conversation]) -> list[Conversation]:
        known = {c.id for c in self.items}
        added = [c for c in more if c.id not in known]
        self.items.extend(added)
        return added

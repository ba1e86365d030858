"""Working the queue: whose conversations a list shows, and who has waited longest for a reply.

Plain Python over parsed `Conversation`s (no Textual, no I/O but the store's preferences), so the
main screen, `n`/`N` and the notifications can share one reading:

* the owner filter Mine / Unassigned / All (`OWNER_CYCLE`, `owner_matches`, `filter_by_owner`),
  remembered per inbox by `QueuePrefs`;
* the sort by waiting time (`sort_by_waiting`): the customers who wrote last and have had no
  answer first, oldest first;
* the longest-waiting customer across inboxes (`longest_waiting`), with what must still be
  fetched when some inbox's list is not loaded to its end;
* "waiting 2h 14m" (`waiting_text`), relative to a clock the caller passes.

What "waiting" and "mine" mean is decided in `hmtui.api.semantics` (`waiting_since`, `owner_of`,
`acting_member`), like every other undocumented field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from hmtui.api.models import Conversation, Id
from hmtui.api.semantics import Owner, acting_member

__all__ = [
    "DEFAULT_OWNER",
    "OWNER_CYCLE",
    "FetchPlan",
    "LongestWaiting",
    "Owner",
    "PrefStore",
    "QueuePrefs",
    "Waiting",
    "acting_member",
    "filter_by_owner",
    "longest_waiting",
    "owner_accept",
    "next_owner",
    "notify_allowed",
    "owner_predicate",
    "owner_label",
    "owner_matches",
    "sort_by_waiting",
    "waiting_key",
    "waiting_label",
    "waiting_text",
]

# The order the `conversations.owner` key cycles through.
OWNER_CYCLE: tuple[Owner, ...] = (Owner.MINE, Owner.UNASSIGNED, Owner.ALL)
# Before a choice is made an inbox shows everything, as the list did before the filter existed.
DEFAULT_OWNER = Owner.ALL

_LABELS = {Owner.MINE: "Mine", Owner.UNASSIGNED: "Unassigned", Owner.ALL: "All"}


def owner_label(owner: Owner) -> str:
    """The word the list header shows for a filter."""
    return _LABELS[owner]


def next_owner(current: Owner, step: int = 1) -> Owner:
    """The filter after `current` in the cycle Mine -> Unassigned -> All -> Mine (step -1: back)."""
    index = OWNER_CYCLE.index(current)
    return OWNER_CYCLE[(index + step) % len(OWNER_CYCLE)]


# -- the owner filter ----------------------------------------------------------------------------


def owner_matches(conversation: Conversation, owner: Owner, me: Id | None) -> bool:
    """Whether a conversation belongs in a list filtered by `owner`, seen from the acting member
    `me`. The one predicate the list, `n`/`N` (next unread) and the notifications share.

    With no acting member (an inbox without members and no `user_id`), nothing is "mine"."""
    if owner is Owner.ALL:
        return True
    return conversation.owner(me) is owner


def owner_predicate(owner: Owner, me: Id | None) -> Callable[[Conversation], bool]:
    """`owner_matches` bound to one inbox's choice, for `n`/`N` (next unread) to skip by."""
    return lambda conversation: owner_matches(conversation, owner, me)


def notify_allowed(conversation: Conversation | None, owner: Owner, me: Id | None) -> bool:
    """Whether a new inbound message may notify under the inbox's owner choice. A message of a
    conversation the client has not loaded (`None`: its owner is unknown) notifies: a filter may
    quiet someone else's customers, never silence a message that might be for me."""
    return conversation is None or owner_matches(conversation, owner, me)


def filter_by_owner(conversations: Iterable[Conversation], owner: Owner, me: Id | None) -> list[Conversation]:
    """The conversations the filter keeps, in their order."""
    return [c for c in conversations if owner_matches(c, owner, me)]


# -- waiting for a reply -------------------------------------------------------------------------


def _id_key(value: object) -> tuple[int, int, str]:
    # Ids are ints or strings: ints first, by value, then strings; never a TypeError.
    if isinstance(value, int) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, str(value))


def waiting_key(conversation: Conversation) -> tuple[Any, ...]:
    """The sort key of the waiting sort: waiting ones first, the longest waiting first; ties by
    inbox then conversation id, so the order never depends on the order pages came in."""
    since = conversation.waiting_since
    if since is None:
        return (1,)
    return (0, since.timestamp(), _id_key(conversation.inbox_id), _id_key(conversation.id))


def sort_by_waiting(conversations: Iterable[Conversation]) -> list[Conversation]:
    """Customers who wrote last and have had no answer first, oldest first; then every other
    conversation in the order it came (the list's own order: newest first)."""
    return sorted(conversations, key=waiting_key)  # stable: the rest keep their order


def waiting_text(since: datetime, now: datetime) -> str:
    """How long someone has waited: "waiting 45m", "waiting 2h 14m", "waiting 3d 4h".

    Truncated, never rounded up (2h 59m 59s is "2h 59m"). Under a minute, or a time ahead of
    the clock (a skewed server), is "waiting <1m"."""
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 1:
        return "waiting <1m"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"waiting {days}d {hours}h"
    if hours:
        return f"waiting {hours}h {mins}m"
    return f"waiting {mins}m"


def waiting_label(conversation: Conversation, now: datetime) -> str | None:
    """The list's "waiting ..." for a conversation, or None when nobody waits on it."""
    since = conversation.waiting_since
    return None if since is None else waiting_text(since, now)


# -- longest waiting across inboxes --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Waiting:
    inbox_id: Id
    conversation: Conversation
    since: datetime


@dataclass(frozen=True, slots=True)
class FetchPlan:
    """What to load before the answer is certain: each inbox's open conversations to the end.

    No documented filter of `POST /v1/conversations` selects waiting conversations (the filters
    are `inboxes`, `closed` and `unread`; an unanswered conversation may well be read), and the
    list comes newest `updated` first while the longest waiting customer is among the oldest, so
    no page can be skipped. The cheapest exact query is `filters: {"inboxes": [id], "closed":
    false}`, paged to the end: `client.conversation_pager(inbox_id, acting member, closed=False)`.
    """

    inbox_ids: tuple[Id, ...]
    closed: bool = False

    def body(self, inbox_id: Id, member_id: Id) -> dict[str, Any]:
        """The first page's request body for one inbox (later pages add `date`)."""
        return {"id": member_id, "filters": {"inboxes": [inbox_id], "closed": self.closed}}


@dataclass(frozen=True, slots=True)
class LongestWaiting:
    """The answer of `longest_waiting`: the best one among what is loaded, and what is not."""

    best: Waiting | None
    fetch: FetchPlan

    @property
    def complete(self) -> bool:
        """True when every inbox was loaded to its end: `best` is the answer (None: nobody waits)."""
        return not self.fetch.inbox_ids


Accept = Callable[[Id, Conversation], bool]


def longest_waiting(
    lists: Mapping[Id, Sequence[Conversation]],
    *,
    complete: Iterable[Id] = (),
    accept: Accept | None = None,
) -> LongestWaiting:
    """Which conversation (and inbox) to jump to: the customer who has waited longest across
    `lists` (inbox id -> its loaded conversations, any order, in inbox order).

    `complete` names the inboxes whose lists are loaded to their end (or the open ones to theirs);
    any other inbox in `lists` may hide an older waiter on a page not loaded yet, so it is in the
    `fetch` plan. `accept` narrows the candidates (for instance to each inbox's owner filter).
    Ties go to the inbox listed first, then the lower conversation id."""
    done = set(complete)
    best: Waiting | None = None
    best_key: tuple[Any, ...] | None = None
    missing: list[Id] = []
    for position, (inbox_id, conversations) in enumerate(lists.items()):
        if inbox_id not in done:
            missing.append(inbox_id)
        for conversation in conversations:
            since = conversation.waiting_since
            if since is None or (accept is not None and not accept(inbox_id, conversation)):
                continue
            key = (since.timestamp(), position, _id_key(conversation.id))
            if best_key is None or key < best_key:
                best, best_key = Waiting(inbox_id, conversation, since), key
    return LongestWaiting(best, FetchPlan(tuple(missing)))


def owner_accept(owners: Mapping[Id, Owner], members: Mapping[Id, Id | None]) -> Accept:
    """An `accept` for `longest_waiting` that keeps each inbox's own owner choice (an inbox with
    no choice shows All)."""

    def accept(inbox_id: Id, conversation: Conversation) -> bool:
        return owner_matches(conversation, owners.get(inbox_id, DEFAULT_OWNER), members.get(inbox_id))

    return accept


# -- the owner choice, remembered per inbox ------------------------------------------------------


class PrefStore(Protocol):
    def get_pref(self, key: str, default: str | None = None) -> str | None: ...
    def put_pref(self, key: str, value: str) -> None: ...


class QueuePrefs:
    """The owner filter of each inbox, kept in the cache's preferences (per account, since each
    account has its own cache). A store that is off (NullStore) or failing keeps the choice for
    this session only, in memory."""

    PREFIX = "queue.owner."

    def __init__(self, store: PrefStore | None) -> None:
        self._store = store
        self._session: dict[str, Owner] = {}
        self.last_error: str | None = None

    def _key(self, inbox_id: Id) -> str:
        return f"{self.PREFIX}{inbox_id}"

    def owner(self, inbox_id: Id) -> Owner:
        """This inbox's filter (DEFAULT_OWNER when none was chosen, or the stored one is unknown)."""
        key = self._key(inbox_id)
        if key in self._session:
            return self._session[key]
        stored = None
        if self._store is not None:
            try:
                stored = self._store.get_pref(key)
            except Exception as exc:  # a broken cache loses the preference, never the screen
                self.last_error = f"cannot read the queue preference: {exc}"
        try:
            return Owner(stored) if stored is not None else DEFAULT_OWNER
        except ValueError:
            return DEFAULT_OWNER

    def set_owner(self, inbox_id: Id, owner: Owner) -> None:
        key = self._key(inbox_id)
        self._session[key] = owner
        if self._store is None:
            return
        try:
            self._store.put_pref(key, owner.value)
            self.last_error = None
        except Exception as exc:  # kept for the session; the caller may show last_error
            self.last_error = f"cannot remember the queue filter: {exc}"

    def cycle(self, inbox_id: Id, step: int = 1) -> Owner:
        """Move this inbox's filter to the next one in the cycle, remember it, and return it."""
        owner = next_owner(self.owner(inbox_id), step)
        self.set_owner(inbox_id, owner)
        return owner

"""The open thread: its pager, what is loaded, what the cache still holds, older paging (paused
after a failure), and find. `ThreadState` is the data; `Thread` does the work and announces it.

Seams for the whole-history loader (hmtui/workspace/history.py, another module): `Thread.pager`,
`Thread.store`, and `Thread.prepend_batch(messages, at_start=...)`.

Memory stays nearly flat in the history's length (issue 11): the state keeps the loaded ids in a
compact `IdSet` and the newest messages (`tail`, for the send marks), not every message. Each
message that reaches the view is written to the thread's `Spill` (a temporary file, whatever the
cache setting), which the view reads back in pages as you scroll (`read_window`) and find
searches.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hmtui.api import ApiError, Conversation, Id, Message, NetworkError, Pager
from hmtui.api.id_index import IdSet
from hmtui.cache.spill import UNDATED, Spill
from hmtui.workspace.long_lived import settle_history

if TYPE_CHECKING:
    from hmtui.workspace.workspace import Workspace

# Messages read from the cache at a time (a local read: a few ms).
CACHE_PAGE = 100
OLDER_RETRY_PAUSE = 5.0
# Presses of `g` kept while an older page is on its way (each is one more page): a burst of
# presses is not lost, and a key held down does not queue the whole thread.
MAX_QUEUED_OLDER = 20
# The newest messages kept in memory: what the send marks are merged with (a send's server copy
# is among the newest), whatever the view holds.
TAIL = 200


def order(hit: tuple[float, Id]) -> tuple[float, int, int | str]:
    """Sort key of a (time, id) pair; ids of mixed types never compare directly."""
    stamp, id_ = hit
    return (stamp, 0, id_) if isinstance(id_, int) else (stamp, 1, str(id_))


def oldest_of(messages: Sequence[Message]) -> Message | None:
    return min((m for m in messages if m.date is not None), key=lambda m: order((m.timestamp or 0.0, m.id)),
               default=None)


def terms(query: str | None) -> list[str]:
    return [t for t in (query or "").split() if t]


@dataclass
class ThreadState:
    conversation: Conversation | None = None  # THE current conversation: thread, header, actions
    pager: Pager[Message] | None = None
    loaded: IdSet = field(default_factory=IdSet)  # ids of the messages handed to the view
    newest: float | None = None  # the newest dated message's time
    tail: deque[Message] = field(default_factory=lambda: deque(maxlen=TAIL))  # the newest, oldest first
    cache_left: bool = False  # the cache holds older messages of this thread than loaded
    view_oldest: Message | None = None  # the oldest dated message loaded
    older_paused_until: float = 0.0  # after a failed older page, until when not to ask again
    loading_older: bool = False
    older_queued: int = 0  # presses of `g` waiting for the page on its way (one page each)
    loading_all: bool = False  # the whole-history job (whole_history.py) owns the pager meanwhile
    find_query: str = ""
    find_hits: list[tuple[float, Id]] = field(default_factory=list)  # oldest first
    pending_jump: tuple[Id, str] | None = None  # (message id, query) to show once loaded

    @property
    def key(self) -> tuple[Id, str] | None:
        c = self.conversation
        if c is None or c.inbox_id is None or not c.target:
            return None
        return c.inbox_id, c.target

    def add(self, messages: Sequence[Message]) -> list[Message]:
        fresh: list[Message] = []
        seen: set[Id] = set()
        for m in messages:
            if not isinstance(m, Message):
                continue
            try:
                if m.id in self.loaded or m.id in seen:
                    continue
            except TypeError:  # an unhashable id
                continue
            seen.add(m.id)
            fresh.append(m)
        self.loaded.update(seen)
        self.view_oldest = oldest_of([*fresh, *filter(None, [self.view_oldest])])
        stamps = [m.timestamp for m in fresh if m.timestamp is not None]
        if stamps:
            self.newest = max(stamps) if self.newest is None else max(self.newest, *stamps)
        tail_start = (self.tail[0].timestamp or 0.0) if len(self.tail) == self.tail.maxlen else -math.inf
        recent = [m for m in fresh if (m.timestamp or 0.0) >= tail_start]
        if recent:
            merged = sorted([*self.tail, *recent], key=lambda m: order((m.timestamp or 0.0, m.id)))
            self.tail.clear()
            self.tail.extend(merged[-TAIL:])
        return fresh


class Thread:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.state = ThreadState()
        self.spill = Spill()

    def _add(self, messages: Sequence[Message]) -> list[Message]:
        """Record messages handed to the view, and write them to the spill (before the view
        gets them, so that a page the view evicts can always be read back)."""
        fresh = self.state.add(messages)
        self.spill.put(fresh)
        return fresh

    async def read_window(self, lo: float | None, hi: float | None) -> list[Message]:
        """The loaded messages with lo <= time <= hi (None: undated), oldest first, from the
        spill: the view's page source."""
        if self.spill.failed is not None:
            raise RuntimeError(f"the spill failed: {self.spill.failed}")
        return await self.spill.read(UNDATED if lo is None else lo, UNDATED if hi is None else hi)

    async def loaded_messages(self) -> list[Message]:
        """Every loaded message, oldest first (an export); off the event loop."""
        return await self.spill.read(UNDATED, math.inf)

    def close(self) -> None:
        self.spill.close()

    @property
    def pager(self) -> Pager[Message] | None:
        return self.state.pager

    @property
    def store(self):  # noqa: ANN201  (hmtui.cache.Store)
        return self.ws.store

    # -- opening -----------------------------------------------------------------------------

    def open(self, conversation: Conversation | None) -> None:
        """Make `conversation` current: the header names it, the thread shows it (cached page at
        once, then the server), and every action acts on it."""
        ws, state = self.ws, self.state
        if conversation is None:
            if state.conversation is None:
                return
            self.state = ThreadState()
            self.spill.clear()
            ws.tasks.cancel("thread")
            ws.listener.current_changed(None)
            ws.listener.thread_cleared("Select a conversation")
            return
        if state.conversation is not None and state.conversation.id == conversation.id and state.pager is not None:
            state.conversation = conversation
            ws.listener.current_changed(conversation)
            return
        pending, had_find = state.pending_jump, bool(state.find_query)
        self.state = ThreadState(conversation=conversation, pending_jump=pending)
        self.spill.clear()
        if had_find:
            ws.listener.find_changed("")  # a find belongs to the thread it was made in
        ws.listener.current_changed(conversation)
        ws.tasks.cancel("older")
        ws.tasks.cancel("history")
        if not self._show_cached(conversation):
            ws.listener.thread_cleared("Loading…")
        ws.tasks.run("thread", self._load(conversation))

    def update(self, conversation: Conversation) -> bool:
        """The current conversation's fields changed (a triage, a refreshed list): the header
        follows, the thread stays as it is (no reload). False if it is not the current one."""
        current = self.state.conversation
        if current is None or current.id != conversation.id:
            return False
        self.state.conversation = conversation
        self.ws.listener.current_changed(conversation)
        return True

    def _show_cached(self, conversation: Conversation) -> bool:
        key = self.state.key
        if key is None:
            return False
        store = self.ws.store
        cached_state = store.thread_state(*key)
        if not cached_state.count:
            return False
        cached = store.messages(*key, limit=CACHE_PAGE)
        self.state.cache_left = len(cached) < cached_state.count
        self._show(conversation, cached, at_start=cached_state.complete and not self.state.cache_left)
        return True

    def _is_current(self, state: ThreadState) -> bool:
        # The state object, not the id: a conversation opened by number keeps its thread when
        # the list brings its real object (Workspace._adopt_listed).
        return self.state is state

    async def _load(self, conversation: Conversation) -> None:
        """Paint the cached history at once and fetch only what is newer; with nothing cached,
        fetch the newest page."""
        ws, state = self.ws, self.state
        key = state.key
        if key is None:
            ws.listener.thread_cleared(conversation.history_unavailable or "This conversation has no number to load")
            return
        await ws.ready.wait()
        pager = ws.client.message_pager(*key)
        cached = ws.store.thread_state(*key)
        if cached.count:
            pager.resume(ws.store.message_ids(*key), cached.cursor)
            pager.exhausted = pager.complete = cached.complete
            self.state.pager = pager
            with ws.loading("thread", "checking for new messages…"):
                newer = await pager.newer()
            if pager is self.state.pager and newer:
                ws.cache("put_messages", *key, newer)
                self._append(newer)
            ws.succeeded()
            return
        try:
            with ws.loading("thread", "loading thread…"):
                first = await pager.older()
        except ApiError as error:
            if self._is_current(state):
                why = "not cached, and hmtui is offline" if isinstance(error, NetworkError) else str(error)
                ws.listener.thread_cleared(f"Could not load this conversation: {why}")
            raise
        if not self._is_current(state):
            return
        ws.succeeded()
        self._remember(key, first, pager)
        self.state.pager = pager
        self.state.cache_left = False
        self._show(self.state.conversation or conversation, first, at_start=pager.exhausted)

    def _show(self, conversation: Conversation, messages: Sequence[Message], *, at_start: bool) -> None:
        ws, state = self.ws, self.state
        if conversation.raw.get("hmtui_placeholder"):
            # Opened by number: the messages carry the real conversation object.
            raw = next((m.raw["conversation"] for m in messages if isinstance(m.raw.get("conversation"), dict)), None)
            real = Conversation.from_raw({"inbox": conversation.inbox_id, "target": conversation.target, **raw}) if raw else None
            if real is not None:
                conversation = state.conversation = real
                ws.listener.current_changed(real)
        state.loaded = IdSet()
        state.view_oldest = None
        state.newest = None
        state.tail.clear()
        self.spill.clear()
        self._add(messages)
        ws.listener.thread_reset(ws.replies.merged(messages), conversation.display_name, at_start)
        if state.find_query:
            self.set_find("")  # a find belongs to the thread it was made in
        self._jump_if_pending()

    def _remember(self, key: tuple[Id, str], messages: Sequence[Message], pager: Pager[Message]) -> None:
        if messages:
            self.ws.cache("put_messages", *key, messages)
        if pager.complete:  # exhausted on evidence, not given up (see hmtui.api.paging)
            self.ws.cache("mark_thread_complete", *key)

    def _append(self, newer: Sequence[Message]) -> None:
        fresh = self._add(newer)
        key = self.state.key
        if fresh and key is not None and self.ws.replies.has_marks(*key):
            self.ws.replies.redraw()  # the server's copy of a send replaces its mark
        elif fresh:
            self.ws.listener.thread_appended(newer)

    # -- the whole history (whole_history.py) -------------------------------------------------

    def load_all(self):  # noqa: ANN201  (a Job, or None when there is no thread to load)
        """Load every older message of the current thread: cache first, then the server; a
        workspace job ("history": exclusive, cancelled by `cancel_load_all` or another thread)."""
        from hmtui.workspace.whole_history import load_whole_history

        if self.state.pager is None or self.state.key is None or self.state.loading_all:
            return self.ws.tasks.job("history")
        return self.ws.tasks.run("history", load_whole_history(self))

    def cancel_load_all(self) -> bool:
        """Stop the whole-history load (what came stays loaded); False if none was running."""
        if not self.ws.tasks.running("history"):
            return False
        self.ws.tasks.cancel("history")
        return True

    def prepend_batch(self, older: Sequence[Message], *, at_start: bool) -> int:
        """Put older messages on top (a page from the cache or the server); returns how many
        were new. The seam for a whole-history loader."""
        fresh = self._add(older)
        self.ws.listener.thread_prepended(older, at_start)
        return len(fresh)

    # -- newer and older ---------------------------------------------------------------------

    async def refresh_newer(self) -> None:
        pager, key = self.state.pager, self.state.key
        if pager is None or key is None:
            return
        newer = await pager.newer()
        if newer and pager is self.state.pager:
            self.ws.cache("put_messages", *key, newer)
            self._append(newer)

    def near_top(self, *, pressed: bool = False) -> None:
        """The view reached the oldest loaded message: load older, unless paused after a failure.
        `pressed`: the user asked (a press of `g`); one asked while a page is on its way queues
        the next page instead of vanishing, so n presses load n pages (at most MAX_QUEUED_OLDER
        wait)."""
        state = self.state
        if state.loading_all:
            return  # the whole history is on its way
        if pressed and (state.loading_older or self.ws.tasks.running("older")):
            state.older_queued = min(state.older_queued + 1, MAX_QUEUED_OLDER)
            return
        if self.ws.monotonic() >= state.older_paused_until or state.cache_left:
            self.load_older()

    def load_older(self):  # noqa: ANN201  (a Job)
        # The page on its way is kept: a second call must not cancel it (and lose queued presses).
        running = self.ws.tasks.job("older")
        if running is not None:
            return running
        return self.ws.tasks.run("older", self._load_older())

    async def _load_older(self) -> None:
        state, ws = self.state, self.ws
        pager = state.pager
        # One request at a time: a gesture that keeps asking while a page is on its way is ignored.
        if pager is None or pager.exhausted or state.loading_older or state.loading_all:
            return
        if state.cache_left and self.prepend_from_cache():
            return
        key = state.key
        state.loading_older = True
        ws.listener.thread_loading_older(True)
        try:
            while True:
                try:
                    with ws.loading("older", "loading older…"):
                        older = await pager.older()
                except ApiError:
                    # The view asks again as soon as loading stops: without a pause, an unreachable
                    # server would be asked in a loop. A success lifts the pause.
                    state.older_paused_until = ws.monotonic() + OLDER_RETRY_PAUSE
                    raise
                if pager is not state.pager:
                    return
                if key is not None:
                    self._remember(key, older, pager)
                # prepend first: clearing the flag while still at the top asks for the next page.
                self.prepend_batch(older, at_start=pager.exhausted)
                settle_history()
                if not state.older_queued or pager.exhausted:
                    return
                # A press that came while this page was on its way: what it would have done now,
                # go to the (new) oldest message and ask for the page above it.
                state.older_queued -= 1
                ws.listener.thread_show_oldest()
        finally:
            if pager is state.pager:
                state.older_queued = 0
                state.loading_older = False
                ws.listener.thread_loading_older(False)

    def prepend_from_cache(self) -> bool:
        """The next older page from the cache; False once the cache has nothing older."""
        state, store = self.state, self.ws.store
        key = state.key
        if key is None:
            return False
        # Paged by (date, id) from the oldest shown, so messages sharing its second are not skipped.
        oldest = state.view_oldest
        older = store.messages(*key, before=oldest.timestamp, before_id=oldest.id,
                               limit=CACHE_PAGE) if oldest is not None else []
        cached = store.thread_state(*key)
        added = self.prepend_batch(older, at_start=False)
        if added == 0:
            state.cache_left = False
            if cached.complete:
                self.prepend_batch([], at_start=True)
                return True
            return False
        if len(state.loaded) >= cached.count:
            state.cache_left = False
            if cached.complete:
                self.prepend_batch([], at_start=True)
        settle_history()
        return True

    # -- find --------------------------------------------------------------------------------

    @property
    def whole(self) -> bool:
        """Find sees the whole thread: all of it is loaded, or the cache (which find also
        searches) holds all of it."""
        state = self.state
        pager, key = state.pager, state.key
        if pager is not None and pager.exhausted and pager.complete and not state.cache_left:
            return True
        return key is not None and self.ws.store.enabled and self.ws.store.thread_state(*key).complete

    def find_label(self, index: int | None) -> str:
        """What find says: honest about what it searched ("12 in the loaded history" until the
        whole thread is loaded or cached; then "match 3 of 12")."""
        count = len(self.state.find_hits)
        if self.whole:
            return f"match {index + 1} of {count}" if index is not None else f"{count} in the thread"
        where = f"{count:,} in the loaded history"
        return f"match {index + 1} of {where}" if index is not None else where

    def set_find(self, query: str) -> None:
        """Highlight `query` and collect its matches: the loaded messages, and the cached ones
        not loaded yet (the cache's full-text index finds those)."""
        state = self.state
        query = query.strip()
        state.find_query = query
        self.ws.listener.find_changed(query)
        self.ws.listener.loading("find", None)
        if not query or state.conversation is None:
            state.find_hits = []
            return
        loaded = self.spill.matches(terms(query))
        if loaded is None:
            self.ws.listener.notice("Find is still indexing the loaded history: try again in a moment")
            loaded = []
        hits = {id_: (0.0 if stamp == UNDATED else stamp) for stamp, id_ in loaded}
        key = state.key
        if key is not None:
            for hit in self.ws.store.search(query, inbox_id=key[0], target=key[1], limit=1000):
                hits.setdefault(hit.message.id, hit.message.timestamp or 0.0)
        state.find_hits = sorted(((stamp, id_) for id_, stamp in hits.items()), key=order)
        self.ws.listener.loading("find", self.find_label(None))

    def step_find(self, step: int, here: Message | None, *, from_end: bool = False) -> Id | None:
        hits = self.state.find_hits
        if not hits:
            self.ws.listener.notice("No match in this thread" if self.whole else "No match in the loaded history")
            return None
        at = (here.timestamp or 0.0, here.id) if here is not None else None
        if from_end or at is None:
            index = len(hits) - 1
        elif step > 0:
            index = next((n for n, hit in enumerate(hits) if order(hit) > order(at)), 0)
        else:
            index = next((n for n in range(len(hits) - 1, -1, -1) if order(hits[n]) < order(at)), len(hits) - 1)
        self.show_message(hits[index][1])
        self.ws.listener.loading("find", self.find_label(index))
        return hits[index][1]

    def show_message(self, message_id: Id) -> None:
        """Select a message, reading older history from the cache until it is loaded."""
        state = self.state
        while message_id not in state.loaded and state.cache_left:
            if not self.prepend_from_cache():
                break
        if message_id in state.loaded:
            self.ws.listener.show_message(message_id)
        else:
            self.ws.listener.notice("That message is not in the history loaded here")

    def _jump_if_pending(self) -> None:
        if self.state.pending_jump is None:
            return
        message_id, query = self.state.pending_jump
        self.state.pending_jump = None
        self.set_find(query)
        self.show_message(message_id)

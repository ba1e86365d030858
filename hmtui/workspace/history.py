"""A thread's whole history at the speed of the network: issue 8's "load all" (no Textual here).

`load_history` hands a thread's older messages to a callback in batches (the view prepends them)
until the start of the conversation: first what the cache holds below what is shown, read in
large pages (the rows on a thread while the last page is decoded and handed over here, see
DECODE_CHUNK), then the server, page after page through the thread's `Pager`.

Pipelined. Asking for page N+1 needs page N's oldest time, so requests stay one at a time; what
overlaps is the rest. A producer task asks for the next page as soon as the last one is parsed
and absorbed by the pager; the consumer (this coroutine) writes page N to the cache and hands it
over while page N+1 is on its way. Before it does its page's work, the consumer lets the
producer run until its request is out (`_yield_to_request`): in asyncio, the task scheduled last
would otherwise only start sending after the consumer's whole turn. When the consumer falls
behind, it takes every page that has arrived at once. Pages are handed over HAND_OVER messages at
a time (and whatever is left at the end, on a failure or a cancel): a prepend costs the view a
repaint, whatever its size. At most `PREFETCH` pages wait in the queue; progress is reported
for every page.

Cache writes go through the `StoreWriter` in chunks of `WRITE_CHUNK` messages: one call, one
transaction of thousands of rows, not one per page of 50.

Cancelling (cancel the task that runs it) stops the next request; the pages the pager has
already absorbed are still handed over and written, so the pager, the view and the cache agree
and the pager can go on later from where it stopped, with no gap. A request in flight is dropped
whole (the pager absorbs a page only once it has all of it), except the first one of a pager that
never fetched: that one is let finish, because a pager whose first request was lost would think
its history empty. A server error mid-way (after the client's retries) ends the load: what came
before it stays handed over and cached, and `HistoryResult.error` says why.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hmtui.api.errors import ApiError
from hmtui.api.models import Id, Message
from hmtui.api.paging import Pager
from hmtui.cache.store import Store, decode_messages
from hmtui.cache.writer import StoreWriter
from hmtui.workspace.long_lived import collector_paused, settle_history

CACHE_PAGE = 2_000  # cached rows read per query (each page is in memory at once)
# Cached rows are read on a thread (SQLite lets go of the GIL) and decoded here, this many at a
# time between two turns of the event loop (about 5 ms each): decoded on the thread, they only
# took turns for the GIL with the view's work, and the switching made both slower (measured).
DECODE_CHUNK = 500
WRITE_CHUNK = 2_000  # messages per cache write (one transaction)
PREFETCH = 8  # server pages absorbed ahead of the consumer, at most
# Server pages are handed over in batches of about this many messages: each hand-over is a
# prepend, and each prepend makes the view repaint (its scroll offset moves to keep the screen
# still), so one per page of 50 would spend the load repainting an unchanged screen; a batch is
# also what is in memory at once (2,000 held 6 MiB more at the peak, for no measurable speed).
HAND_OVER = 500
# Loop turns given to the producer before a page's work, so its next request is on the wire:
# httpx/httpcore pass a handful of checkpoints (the pool, the connection's lock, the socket)
# before the bytes go out. Each idle turn costs microseconds; a page costs milliseconds. With
# hand-overs of HAND_OVER messages the consumer's work per page is small, and 0 or 12 turns
# measured the same (5,000 messages, 3 runs each); with small hand-overs they are what keeps the
# view's work from delaying the next request.
REQUEST_TURNS = 12
SETTLE_EVERY = 5_000  # messages handed over between two collections of their garbage

Batch = Sequence[Message]


@dataclass(frozen=True, slots=True)
class Progress:
    loaded: int  # messages received so far (cache and server; handed over, or about to be)
    expected: int | None  # about how many there are in all, when known (None: the server says not)
    requests: int  # server requests made so far by this load
    from_cache: int  # of `loaded`, read from the cache
    phase: str  # "cache", "server" or "done"


@dataclass(frozen=True, slots=True)
class HistoryResult:
    loaded: int
    from_cache: int
    from_server: int
    requests: int
    complete: bool  # the start of the conversation was reached, on evidence
    error: str | None = None  # why the load stopped before the start, if it did


@dataclass
class _Tally:
    loaded: int = 0
    received: int = 0  # from the server, handed over or not yet
    from_cache: int = 0
    requests_before: int = 0


def _cursor(message: Message | None) -> tuple[float | None, Id] | None:
    if message is None:
        return None
    return (message.date.timestamp() if message.date is not None else None, message.id)


async def _yield_to_request() -> None:
    for _ in range(REQUEST_TURNS):
        await asyncio.sleep(0)


async def load_history(
    pager: Pager[Message],
    *,
    inbox_id: Id,
    target: str,
    on_batch: Callable[[Batch], Any],
    store: Store | None = None,
    writer: StoreWriter | None = None,
    shown_oldest: Message | None = None,
    on_progress: Callable[[Progress], Any] | None = None,
    expected: int | None = None,
    cache_page: int = CACHE_PAGE,
    hand_over_at: int = HAND_OVER,
) -> HistoryResult:
    """Hand the thread's history older than `shown_oldest` (None: the whole thread) to
    `on_batch`, newest first, each message once, until the start of the conversation.

    `store` is read first (what it holds below `shown_oldest`), then `pager` continues below the
    cache; `writer` receives what the server sends (None: nothing is written). `on_progress` is
    called after each batch. `expected`: the thread's length if the caller knows it (the cache's
    count is used otherwise, when the cache is whole)."""
    tally = _Tally(requests_before=pager.requests)
    known = expected
    settled = [0]

    def settle() -> None:
        # The short-lived garbage of what was handed over goes now and then, not after every
        # batch: each collection also promotes what survives, and brings the next full one nearer.
        if tally.loaded - settled[0] >= SETTLE_EVERY:
            settled[0] = tally.loaded
            settle_history()

    def progress(phase: str) -> None:
        if on_progress is not None:
            on_progress(Progress(tally.from_cache + tally.received, known, pager.requests - tally.requests_before,
                                 tally.from_cache, phase))

    def result(complete: bool, error: str | None = None) -> HistoryResult:
        return HistoryResult(tally.loaded, tally.from_cache, tally.loaded - tally.from_cache,
                             pager.requests - tally.requests_before, complete, error)

    # -- the cache, in large pages (each page's rows read on a thread while the last is decoded here)
    if store is not None and store.enabled:
        state = await asyncio.to_thread(store.thread_state, inbox_id, target)
        if known is None and state.complete:
            known = state.count
        read_ids: list[Id] = []

        def read(cursor: tuple[float | None, Id] | None) -> list[tuple[str, Any, float | None]]:
            if cursor is None:
                return store.message_rows(inbox_id, target, limit=cache_page)
            return store.message_rows(inbox_id, target, before=cursor[0], before_id=cursor[1], limit=cache_page)

        pending = asyncio.ensure_future(asyncio.to_thread(read, _cursor(shown_oldest)))
        try:
            with collector_paused():  # this block's own settle() collects
                while True:
                    found = await pending
                    if not found:
                        break
                    if len(found) == cache_page:  # newest first: the last row is the oldest by (date, id)
                        pending = asyncio.ensure_future(asyncio.to_thread(read, (found[-1][2], found[-1][1])))
                    rows: list[Message] = []
                    for start in range(0, len(found), DECODE_CHUNK):
                        if start:
                            await asyncio.sleep(0)  # keys and frames get their turn between chunks
                        rows += decode_messages(found[start:start + DECODE_CHUNK])
                    if rows:
                        read_ids.extend(m.id for m in rows)
                        tally.loaded += len(rows)
                        tally.from_cache += len(rows)
                        on_batch(rows)
                        settle()
                        progress("cache")
                    if len(found) < cache_page:
                        break
        finally:
            if not pending.done():
                pending.cancel()
        if read_ids or state.count:
            # The pager continues below the cache's oldest trusted date, knowing what it holds.
            pager.resume(read_ids, state.cursor)
        if state.complete:
            pager.exhausted = pager.complete = True
            progress("done")
            return result(True)

    # -- the server, pipelined
    queue: asyncio.Queue[list[Message] | BaseException | None] = asyncio.Queue()
    room = asyncio.Semaphore(PREFETCH)
    buffer: list[Message] = []

    def write(force: bool = False) -> None:
        if writer is not None and buffer and (force or len(buffer) >= WRITE_CHUNK):
            writer.submit("put_messages", inbox_id, target, buffer)
            buffer.clear()

    async def produce() -> None:
        try:
            while not pager.exhausted:
                await room.acquire()  # before the request: nothing absorbed is ever left unqueued
                first = pager.requests == 0 and pager.seen_count == 0
                if first:
                    # A fresh pager's first request must not be lost to a cancel (see above).
                    fetch = asyncio.ensure_future(pager.older())
                    try:
                        batch = await asyncio.shield(fetch)
                    except asyncio.CancelledError:
                        with contextlib.suppress(Exception):
                            queue.put_nowait(await fetch)
                        raise
                else:
                    batch = await pager.older()
                if batch:
                    queue.put_nowait(batch)
                else:
                    room.release()
        except Exception as exc:  # the consumer reports an ApiError and re-raises anything else
            queue.put_nowait(exc)
            return
        queue.put_nowait(None)

    held: list[Message] = []  # taken from the queue, to be handed over together

    def take(batches: list[list[Message]]) -> None:
        for batch in batches:
            room.release()
            held.extend(batch)
        tally.received += sum(len(b) for b in batches)

    def hand_over() -> None:
        if not held:
            return
        merged = held[:]
        held.clear()
        if writer is not None:  # else nothing would ever empty it: the whole history in memory
            buffer.extend(merged)
            write()
        tally.loaded += len(merged)
        on_batch(merged)
        settle()

    producer = asyncio.ensure_future(produce())
    error: str | None = None
    items: list[list[Message] | BaseException | None] = []  # taken from the queue, not yet handed over
    try:
        while True:
            items.append(await queue.get())
            await _yield_to_request()
            while not queue.empty():
                items.append(queue.get_nowait())
            batches = [i for i in items if isinstance(i, list)]
            end = next((i for i in items if not isinstance(i, list)), False)
            items = []
            take(batches)
            if len(held) >= hand_over_at or end is not False:
                hand_over()
            progress("server")
            if end is not False:
                if isinstance(end, ApiError):
                    error = str(end) or type(end).__name__
                elif isinstance(end, BaseException):
                    raise end
                break
    except asyncio.CancelledError:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer
        # What the pager absorbed must reach the view and the cache, or resuming would skip it.
        while not queue.empty():
            items.append(queue.get_nowait())
        take([i for i in items if isinstance(i, list)])
        hand_over()
        write(force=True)
        raise
    finally:
        if not producer.done():
            producer.cancel()
    write(force=True)
    if writer is not None and pager.complete:
        writer.submit("mark_thread_complete", inbox_id, target)
    progress("done")
    return result(pager.complete, error)

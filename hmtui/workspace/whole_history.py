"""Load the whole history of the open thread (issue 10 item 3, issue 11's "load all"): the job
behind ctrl+g and the palette's "Load the whole history". No Textual here.

The work itself is `history.load_history` (cache first, then the server, pipelined, pages of the
server's own size, each asked once); this module runs it for the workspace's `Thread`: it holds
the thread's own older paging off meanwhile (one user of the pager at a time), feeds what comes
through `Thread.prepend_batch` (the view keeps drawing only what is on screen), announces the
progress, and lands on the first message once the start of the conversation is reached. A cancel
(escape, another conversation) keeps what came: `load_history` hands it all over before it
stops, so the view, the cache and the pager agree and `g` or a second load go on from there.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from hmtui.api.models import Message
from hmtui.workspace.history import HistoryResult, Progress, load_history

if TYPE_CHECKING:
    from hmtui.workspace.thread import Thread


def estimate_total(loaded: int, newest: float | None, oldest: float | None, start: float | None) -> int | None:
    """About how many messages the thread has, from how many cover the time loaded so far and
    when the conversation started (its `created`); None when the dates say nothing."""
    if loaded <= 0 or newest is None or oldest is None or start is None or newest <= oldest:
        return None
    if start >= oldest:
        return loaded
    return max(loaded, round(loaded * (newest - start) / (newest - oldest)))


def progress_label(progress: Progress, about: int | None) -> str:
    """"1,200 of about 20,810 messages · 24 requests" (short: it shares the status line with the
    connection at 80 columns); the total is left out when unknown."""
    total = progress.expected if progress.expected is not None else about
    count = f"{progress.loaded:,} of about {max(total, progress.loaded):,} messages" if total else f"{progress.loaded:,} messages"
    requests = "1 request" if progress.requests == 1 else f"{progress.requests:,} requests"
    return f"{count} · {requests}"


def _stamp(message: Message | None) -> float | None:
    return message.timestamp if message is not None else None


async def load_whole_history(thread: Thread) -> HistoryResult | None:
    ws, state = thread.ws, thread.state
    pager, key, conversation = state.pager, state.key, state.conversation
    if pager is None or key is None or conversation is None:
        return None
    # The thread's own older paging must not ask the same pager at the same time: let a page on
    # its way land first (it is shown like any other), then hold further ones off.
    state.loading_all = True
    result: HistoryResult | None = None
    try:
        older = ws.tasks.job("older")
        if older is not None:
            await older.wait()
        if thread.state is not state:
            return None
        state.older_queued = 0
        ws.listener.thread_loading_older(True)
        newest = state.newest
        start = conversation.created.timestamp() if conversation.created is not None else None
        shown_before = len(state.loaded)

        def on_batch(batch: list[Message]) -> None:
            if thread.state is state:  # a cancel by another conversation still hands over what came
                thread.prepend_batch(batch, at_start=False)

        def on_progress(progress: Progress) -> None:
            if thread.state is not state:
                return
            about = estimate_total(len(state.loaded), newest, _stamp(state.view_oldest), start)
            ws.listener.history_progress(progress_label(
                Progress(shown_before + progress.loaded, progress.expected, progress.requests,
                         progress.from_cache, progress.phase), about))

        on_progress(Progress(0, None, 0, 0, "cache"))
        result = await load_history(
            pager, inbox_id=key[0], target=key[1], on_batch=on_batch,
            store=ws.store if ws.store.enabled else None, writer=ws.writer,
            shown_oldest=state.view_oldest, on_progress=on_progress,
        )
    except asyncio.CancelledError:
        if thread.state is state:
            ws.listener.notice(f"Stopped loading the history: {len(state.loaded):,} messages are loaded")
        raise
    finally:
        if thread.state is state:
            state.loading_all = False
            if result is not None:
                state.cache_left = False  # what the cache held below is loaded now
            ws.listener.history_progress(None)
            ws.listener.thread_loading_older(False)
    if thread.state is not state:
        return result
    if result.complete or pager.exhausted:
        thread.prepend_batch([], at_start=True)  # the start of the conversation: no more asking
        ws.listener.thread_show_oldest()
    if result.error is not None:
        ws.listener.notice(f"Stopped at {len(state.loaded):,} messages: {result.error}", severity="warning")
    else:
        ws.succeeded()
    return result

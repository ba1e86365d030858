"""The child process of `hmtui.bench`'s memory figure (not meant to be run by hand).

Runs the app headless against the server named by HEYMARKET_BASE_URL / _SECRET_ID / _SECRET_KEY,
opens (inbox, phone) from the conversation list, loads older pages through the screen's own
`load_older()` worker until --messages are loaded (or the history ends), moves around the thread
so it is displayed, and prints one JSON line: {"messages": loaded, "peak_rss_kb": ..., "source": ...,
"full_gc_ms": ...}, the last being how long one full garbage collection takes with all that loaded
(the pause Python takes now and then, whenever enough objects have survived younger collections).

The peak is the process's own VmHWM (Linux). Not `ru_maxrss`: on Linux it survives `exec`, so a
child forked from a big parent (the benchmark, with 20,000 messages of its own) reports the
parent's size. Elsewhere (macOS) `ru_maxrss` is used, which does not carry over.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from typing import Any


async def _settle(pilot: Any) -> None:
    for _ in range(4):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def load_all(screen: Any) -> None:
    """The whole history through the workspace's own job (ctrl+g: `Thread.load_all`, the "load
    all" of issue 8): what the app does, so the thread spills and windows as it does there."""
    job = screen.workspace.thread.load_all()
    if job is None:
        raise RuntimeError("no thread to load")
    await job.wait()
    pager = screen.workspace.thread.pager
    if pager is None or not pager.exhausted:
        raise RuntimeError("the whole history did not load")


async def scroll_all(pilot: Any, thread: Any, steps: int = 40) -> None:
    """From the newest message to the oldest, in `steps` jumps, each painted (and read back
    from the spill, where the view windows the thread)."""
    for k in range(steps, -1, -1):
        thread.scroll_to(y=round(k * thread.max_scroll_y / steps), animate=False, immediate=True)
        await _settle(pilot)


async def load_and_show(inbox: int, phone: str, messages: int, *, everything: bool = False,
                        scroll: bool = False) -> tuple[int, float]:
    """The messages loaded, and the seconds one full garbage collection takes with them loaded."""
    from hmtui.api import Credentials, HeymarketClient
    from hmtui.config import Config
    from hmtui.ui.app import HmtuiApp

    env = os.environ
    client = HeymarketClient(Credentials(env["HEYMARKET_SECRET_ID"], env["HEYMARKET_SECRET_KEY"]),
                             base_url=env["HEYMARKET_BASE_URL"])
    app = HmtuiApp(client, config=Config(), start_inbox=inbox, refresh_interval=0)
    async with app.run_test(size=(150, 42)) as pilot:
        await _settle(pilot)
        screen = app.main
        index = next(n for n, c in enumerate(screen.conversations.items) if c.target == phone)
        screen.conversations.move_cursor(index)
        await pilot.press("enter")
        await _settle(pilot)
        thread = screen.thread
        if everything:
            await load_all(screen)
        while thread.message_count < messages and screen.thread_pager is not None and not screen.thread_pager.exhausted:
            await screen.load_older().wait()
        await _settle(pilot)
        if scroll:
            await scroll_all(pilot, thread)
        # Displayed: the newest screen, the middle and the oldest loaded.
        for keys in (("pageup",) * 5, ("j", "k"), ("G",)):
            await pilot.press(*keys)
        thread.scroll_to(y=thread.max_scroll_y // 2, animate=False, immediate=True)
        await _settle(pilot)
        await pilot.press("pagedown", "pagedown", "k")
        await _settle(pilot)
        gc.collect()  # the garbage of loading goes first: the second one times walking what is live
        start = time.perf_counter()
        gc.collect()
        return thread.message_count, time.perf_counter() - start


def peak_rss_kb() -> tuple[int, str]:
    """This process's peak resident memory in KiB, and where it was read."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]), "VmHWM"
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (peak // 1024 if sys.platform == "darwin" else peak), "ru_maxrss"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hmtui.bench_rss")
    parser.add_argument("--inbox", type=int, required=True)
    parser.add_argument("--phone", required=True)
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--all", action="store_true", help="load the whole history with the pipelined loader")
    parser.add_argument("--scroll-all", action="store_true", help="then scroll from the newest message to the oldest")
    args = parser.parse_args(argv)
    loaded, full_gc = asyncio.run(load_and_show(args.inbox, args.phone, args.messages, everything=args.all,
                                                scroll=args.scroll_all))
    peak, source = peak_rss_kb()
    print(json.dumps({"messages": loaded, "peak_rss_kb": peak, "source": source, "full_gc_ms": full_gc * 1000}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The workspace's network work: tasks, at most one per exclusive kind, failures to one place,
and `idle()` for tests to wait on the work instead of sleeping.

Plain asyncio tasks by default. A host may pass `spawn` to run them its own way (the Textual app
runs them as workers, so its tools that wait for workers see them); a handle only needs
`cancel()`, and `done()` or `is_finished`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

Spawn = Callable[[str, Coroutine[Any, Any, Any]], Any]
LONG_LIVED = frozenset({"refresh-loop"})  # never ends: idle() does not wait for it


def _asyncio_spawn(kind: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    return asyncio.get_running_loop().create_task(coro, name=f"workspace:{kind}")


class Job:
    """One piece of work; `await job.wait()` returns once it ended (cancelled or failed too)."""

    def __init__(self, kind: str, handle: Any, finished: asyncio.Event) -> None:
        self.kind = kind
        self.handle = handle
        self._finished = finished
        self.coro: Coroutine[Any, Any, Any] | None = None
        self.guard: Coroutine[Any, Any, Any] | None = None
        self.started = False

    @property
    def done(self) -> bool:
        if self._finished.is_set():
            return True
        handle = self.handle
        if hasattr(handle, "is_finished"):
            return bool(handle.is_finished)
        return bool(handle.done())

    def cancel(self) -> None:
        self.handle.cancel()
        if not self.started:
            for coro in (self.guard, self.coro):  # never started: no "never awaited" warning
                if coro is not None:
                    coro.close()
            self._finished.set()

    async def wait(self) -> None:
        while not self.done:
            try:
                await asyncio.wait_for(self._finished.wait(), timeout=0.05)
            except asyncio.TimeoutError:
                pass  # cancelled before it started: `done` says so on the next pass


class Tasks:
    def __init__(self, on_error: Callable[[BaseException], None], spawn: Spawn | None = None,
                 on_success: Callable[[], None] = lambda: None) -> None:
        self.on_error = on_error
        self.on_success = on_success
        self.spawn: Spawn = spawn or _asyncio_spawn
        self._jobs: list[Job] = []
        self._by_kind: dict[str, Job] = {}

    def run(self, kind: str, coro: Coroutine[Any, Any, Any], *, exclusive: bool = True) -> Job:
        """Start `coro`; with `exclusive`, the previous job of this kind is cancelled first (a
        newer request for the same thing supersedes it)."""
        if exclusive:
            self.cancel(kind)
        finished = asyncio.Event()
        job = Job(kind, None, finished)
        job.coro = coro
        job.guard = self._guard(job, coro, finished)
        job.handle = self.spawn(kind, job.guard)
        self._jobs = [j for j in self._jobs if not j.done]
        self._jobs.append(job)
        if exclusive:
            self._by_kind[kind] = job
        return job

    async def _guard(self, job: Job, coro: Coroutine[Any, Any, Any], finished: asyncio.Event) -> None:
        job.started = True
        try:
            await coro
            self.on_success()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # every failure goes to the one place
            self.on_error(error)
        finally:
            finished.set()

    def cancel(self, kind: str) -> None:
        job = self._by_kind.pop(kind, None)
        if job is not None and not job.done:
            job.cancel()

    def job(self, kind: str) -> Job | None:
        job = self._by_kind.get(kind)
        return job if job is not None and not job.done else None

    def running(self, kind: str) -> bool:
        return self.job(kind) is not None

    @property
    def pending(self) -> list[str]:
        return [j.kind for j in self._jobs if not j.done and j.kind not in LONG_LIVED]

    async def idle(self) -> None:
        """Until no job is running (jobs started meanwhile included); the refresh loop aside."""
        while True:
            busy = [j for j in self._jobs if not j.done and j.kind not in LONG_LIVED]
            if not busy:
                return
            await busy[0].wait()

    def cancel_all(self) -> None:
        for job in self._jobs:
            if not job.done:
                job.cancel()

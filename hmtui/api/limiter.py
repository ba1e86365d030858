"""A client-side token bucket, so one hmtui stays within its share of the team's request budget.

Heymarket allows a team 500 requests a minute, shared by every agent and integration. The limiter
paces this client at `per_minute` (a sustained rate) with a small burst, and serves two
priorities:

* **interactive** (the default): what a key press waits for, opening a thread, triage, paging on
  scroll. These queue among themselves, first come first served;
* **background**: refreshes and counts. Set by the caller with ``with background(): ...``; the
  flag is a context variable, so tasks created inside the block inherit it. A background request
  waits while any interactive one is waiting, and never takes the last `reserve` tokens of the
  bucket: however much background work drains it, a key finds a token ready.

Nothing here knows about HTTP: `HeymarketClient._send` calls `acquire()` before every attempt
(retries included).
"""

from __future__ import annotations

import asyncio
import contextvars
import enum
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# Float error after a wait computed to the exact instant a token is due must not cost a second wait.
_EPSILON = 1e-9


class Priority(enum.Enum):
    INTERACTIVE = "interactive"
    BACKGROUND = "background"


_priority: contextvars.ContextVar[Priority] = contextvars.ContextVar("hmtui_request_priority",
                                                                     default=Priority.INTERACTIVE)


@contextmanager
def background() -> Iterator[None]:
    """Requests made inside (and in tasks created inside) yield to interactive ones."""
    token = _priority.set(Priority.BACKGROUND)
    try:
        yield
    finally:
        _priority.reset(token)


@contextmanager
def interactive() -> Iterator[None]:
    """Back to the default inside a `background()` block (a user's request started from one)."""
    token = _priority.set(Priority.INTERACTIVE)
    try:
        yield
    finally:
        _priority.reset(token)


def current_priority() -> Priority:
    return _priority.get()


@dataclass
class LimiterStats:
    granted: dict[Priority, int] = field(default_factory=lambda: {p: 0 for p in Priority})
    waits: dict[Priority, int] = field(default_factory=lambda: {p: 0 for p in Priority})  # grants that waited
    waited: float = 0.0  # seconds of sleep asked for, all priorities


class RequestLimiter:
    """A token bucket of `burst` tokens refilled at `per_minute` a minute.

    `clock` (monotonic seconds) and `sleep` are injectable so tests run on a fake clock. The
    defaults: `burst` a tenth of a minute's budget (at least 1), `reserve` a third of the burst
    (at least 1 when the burst allows it), the tokens background work may not take.
    """

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        *,
        burst: int | None = None,
        reserve: int | None = None,
    ) -> None:
        if isinstance(per_minute, bool) or not isinstance(per_minute, int) or per_minute < 1:
            raise ValueError(f"per_minute must be a whole number of at least 1, got {per_minute!r}")
        self.per_minute = per_minute
        self.rate = per_minute / 60.0  # tokens a second
        self.burst = burst if burst is not None else max(1, per_minute // 10)
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, got {self.burst}")
        default_reserve = max(1, self.burst // 3) if self.burst > 1 else 0
        self.reserve = default_reserve if reserve is None else reserve
        if not 0 <= self.reserve < self.burst:
            raise ValueError(f"reserve must be from 0 to burst - 1 ({self.burst - 1}), got {self.reserve}")
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._stamp = clock()
        self._interactive_waiting = 0
        self._interactive_idle = asyncio.Event()
        self._interactive_idle.set()
        # One waiter of each priority at a time, so each queue is first come, first served.
        self._interactive_lock = asyncio.Lock()
        self._background_lock = asyncio.Lock()
        self.stats = LimiterStats()

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        elapsed = now - self._stamp
        self._stamp = now
        if elapsed > 0:
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)

    def _wait_for(self, tokens: float) -> float:
        return max(0.0, (tokens - self._tokens) / self.rate)

    async def acquire(self, priority: Priority | None = None) -> None:
        """Take one token, waiting as long as the bucket and the queue ahead say."""
        priority = priority or current_priority()
        if priority is Priority.INTERACTIVE:
            await self._acquire_interactive()
        else:
            await self._acquire_background()

    async def _acquire_interactive(self) -> None:
        self._interactive_waiting += 1
        self._interactive_idle.clear()
        waited = False
        try:
            async with self._interactive_lock:
                while True:
                    self._refill()
                    if self._tokens >= 1 - _EPSILON:
                        self._take(Priority.INTERACTIVE, waited)
                        return
                    waited = True
                    await self._pause(self._wait_for(1))
        finally:
            self._interactive_waiting -= 1
            if not self._interactive_waiting:
                self._interactive_idle.set()

    async def _acquire_background(self) -> None:
        need = 1 + self.reserve
        waited = False
        async with self._background_lock:
            while True:
                if self._interactive_waiting:
                    waited = True
                    await self._interactive_idle.wait()
                    continue
                self._refill()
                if self._tokens >= need - _EPSILON:
                    self._take(Priority.BACKGROUND, waited)
                    return
                waited = True
                await self._pause(self._wait_for(need))

    def _take(self, priority: Priority, waited: bool) -> None:
        self._tokens = max(0.0, self._tokens - 1)
        self.stats.granted[priority] += 1
        if waited:
            self.stats.waits[priority] += 1

    async def _pause(self, seconds: float) -> None:
        self.stats.waited += seconds
        await self._sleep(seconds)

"""When and how long to wait before trying a request again."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: `attempts` tries in all, exponential backoff with jitter between them."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    # A Retry-After beyond this is not waited out: the user would think the app hung.
    max_retry_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, retry: int) -> float:
        """Delay before retry number `retry` (1-based): half fixed, half random ("equal jitter"),
        so concurrent clients spread out but none retries instantly."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def delay(self, retry: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return self.backoff(retry)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True)
class RetryEvent:
    """Told to `on_retry` before each wait, so a UI can say "retrying in N s"."""

    method: str
    path: str
    retry: int
    delay: float
    error: Exception
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

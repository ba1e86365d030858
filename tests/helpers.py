"""Shared test helpers: a fake clock, a recording MockTransport, a sleep that only records."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from hmtui.api import Credentials, HeymarketClient, RetryPolicy

CREDS = Credentials("test-secret-id", "test-secret-key-0123456789-abcdefghij")


class FakeClock:
    def __init__(self, start: float = 1_790_000_000.0, tick: float = 0.0) -> None:
        self.now = start
        self.tick = tick

    def __call__(self) -> float:
        value = self.now
        self.now += self.tick
        return value

    def advance(self, seconds: float) -> None:
        self.now += seconds


def eventually(condition: Callable[[], object], what: str, *, within: float = 60.0) -> None:
    """Wait until `condition()` holds, for a fact another thread makes true (a loopback server
    counting a request it has yet to read on a loaded machine); bounded, so a miss fails."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {within:g} s: {what}")
        time.sleep(0.01)


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


Handler = Callable[[httpx.Request], httpx.Response]


def json_response(data: Any, status: int = 200, request_id: str = "req-1", **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", "X-Request-Id": request_id, **headers},
    )


def mock_client(handler: Handler, *, clock: Callable[[], float] | None = None,
                attempts: int = 5, sleep: RecordingSleep | None = None, **kw: Any) -> HeymarketClient:
    return HeymarketClient(
        CREDS,
        base_url="https://api.example.invalid",
        transport=httpx.MockTransport(handler),
        clock=clock or FakeClock(),
        retry=RetryPolicy(attempts=attempts),
        sleep=sleep or RecordingSleep(),
        **kw,
    )


def this_accounts_cache_info(stdout: str) -> dict[str, str]:
    """`hmtui cache info`'s row for the current account, by column: {"file", "bytes", "inboxes",
    "conversations", "threads", "messages"} (numbers as printed, with their commas)."""
    lines = stdout.splitlines()
    header = next(line.split() for line in lines if line.split()[:1] == ["FILE"])
    # The current account's row is marked `*` in a column of its own, before the file name.
    row = next(line.split()[1:] for line in lines if line.split()[:1] == ["*"])
    return dict(zip((name.lower() for name in header), row))

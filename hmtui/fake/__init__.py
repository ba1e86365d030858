"""A fake Heymarket API server with seeded data, for the demo, tests and benchmarks."""

from hmtui.fake.auth import DEMO_SECRET_ID, DEMO_SECRET_KEY
from hmtui.fake.data import (
    HOSTILE_THREAD_INBOX,
    HOSTILE_THREAD_TARGET,
    HUGE_THREAD_INBOX,
    HUGE_THREAD_MESSAGES,
    HUGE_THREAD_TARGET,
    LONG_THREAD_INBOX,
    LONG_THREAD_TARGET,
    FakeData,
)
from hmtui.fake.server import FakeHeymarket, FakeOptions, Fault, RecordedRequest

__all__ = [
    "DEMO_SECRET_ID",
    "DEMO_SECRET_KEY",
    "HOSTILE_THREAD_INBOX",
    "HOSTILE_THREAD_TARGET",
    "HUGE_THREAD_INBOX",
    "HUGE_THREAD_MESSAGES",
    "HUGE_THREAD_TARGET",
    "LONG_THREAD_INBOX",
    "LONG_THREAD_TARGET",
    "FakeData",
    "FakeHeymarket",
    "FakeOptions",
    "Fault",
    "RecordedRequest",
]

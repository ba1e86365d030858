"""The fake customer: a few seconds after the team replies (not after a note), an answer arrives.

It runs on the fake server's clock. `run_due()` adds every answer whose time has come; tests
advance their clock and call it (nothing sleeps). `hmtui demo` turns it on with a real ticking
thread (`start`), so the new-message toast and the refresh can be seen working. Off unless
`FakeOptions.customer_replies` is set (seconds after a reply).
"""

from __future__ import annotations

import heapq
import threading
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hmtui.fake.server import FakeHeymarket

ANSWERS = (
    "Thanks, that helps!",
    "Great, see you then.",
    "Ok 👍",
    "Perfect, thank you so much.",
    "Can you send that again? I didn't get it.",
    "Sounds good.",
    "What time do you close today?",
    "Got it, thanks!",
)


class CustomerReplies:
    """Answers scheduled on the server's clock: (due time, sequence, inbox id, target, text)."""

    def __init__(self, fake: FakeHeymarket) -> None:
        self.fake = fake
        self._due: list[tuple[float, int, int, str, str]] = []
        self._lock = threading.Lock()
        self._seq = 0
        self.answered: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def delay(self) -> float | None:
        return self.fake.options.customer_replies

    def on_sent(self, msg: dict[str, Any]) -> None:
        """A listener of the send endpoint: schedule an answer to a reply that went out."""
        delay = self.delay
        if not delay or msg.get("type") == "comment" or msg.get("status") == "held":
            return
        ref = msg.get("conversation") or {}
        inbox, target = ref.get("inbox"), msg.get("target") or ref.get("target")
        if not isinstance(inbox, int) or not isinstance(target, str):
            return
        text = ANSWERS[zlib.crc32(str(msg["id"]).encode()) % len(ANSWERS)]
        with self._lock:
            self._seq += 1
            heapq.heappush(self._due, (self.fake.clock() + delay, self._seq, inbox, target, text))

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._due)

    def run_due(self) -> list[dict[str, Any]]:
        """Add every answer whose time has come (by the server's clock); the messages added."""
        now = self.fake.clock()
        ready = []
        with self._lock:
            while self._due and self._due[0][0] <= now:
                ready.append(heapq.heappop(self._due))
        added = []
        for _, _, inbox, target, text in ready:
            added.append(self.fake.add_message(inbox, target, text, inbound=True))
        self.answered.extend(added)
        return added

    def start(self, tick: float = 0.5) -> None:
        """Run `run_due` every `tick` seconds on a daemon thread (the demo; tests never do)."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(tick):
                try:
                    self.run_due()
                except Exception:  # noqa: BLE001 - a demo's customer must never take the server down
                    pass

        self._thread = threading.Thread(target=loop, name="fake-customer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=2)

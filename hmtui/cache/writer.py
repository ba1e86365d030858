"""Cache writes off the caller's thread (the UI's event loop must never wait on the disk)."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from hmtui.cache.store import WRITE_METHODS, Store

log = logging.getLogger("hmtui.cache")

MAX_BATCH = 500  # calls per transaction
MAX_ERRORS = 200  # the oldest errors are dropped beyond this

_STOP = object()


class StoreWriter:
    """Writes off the caller's thread: a daemon thread with a queue; batches whatever is queued
    into one transaction.

    `submit` only queues (it never touches the disk). A write that fails (disk full, bad
    arguments, ...) is rolled back alone, recorded in `errors` and logged; the thread keeps going.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.errors: list[str] = []
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._submitted = 0
        self._done = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="hmtui-cache-writer", daemon=True)
        self._thread.start()

    def submit(self, method_name: str, *args: Any, **kwargs: Any) -> None:
        """Queue `store.<method_name>(*args, **kwargs)`, e.g.
        `submit("put_messages", inbox_id, target, messages)`. Lists are copied (shallowly), so
        the caller may keep changing its own."""
        if method_name not in WRITE_METHODS:
            raise ValueError(f"not a cache write: {method_name!r} (one of {', '.join(sorted(WRITE_METHODS))})")
        args = tuple(tuple(a) if isinstance(a, list) else a for a in args)
        with self._cond:
            if self._closed:
                self._record([f"{method_name}: dropped, the cache writer is closed"])
                return
            self._submitted += 1
            self._queue.put((method_name, args, kwargs))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is written (or failed); False on timeout."""
        if threading.current_thread() is self._thread:
            return False
        with self._cond:
            target = self._submitted
            return self._cond.wait_for(lambda: self._done >= target or not self._thread.is_alive(), timeout)

    def close(self, timeout: float | None = None) -> None:
        """Write what is queued, then stop the thread."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
        self._queue.put(_STOP)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def pending(self) -> int:
        with self._cond:
            return self._submitted - self._done

    def _record(self, errors: list[str]) -> None:
        for error in errors:
            log.warning("cache write failed: %s", error)
        self.errors.extend(errors)
        if len(self.errors) > MAX_ERRORS:
            del self.errors[: len(self.errors) - MAX_ERRORS]

    def _run(self) -> None:
        try:
            stopping = False
            while not stopping:
                item = self._queue.get()
                batch: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
                while True:
                    if item is _STOP:
                        stopping = True
                        break
                    batch.append(item)
                    if len(batch) >= MAX_BATCH:
                        break
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                if not batch:
                    continue
                try:
                    errors = self.store.apply_batch(batch)
                except Exception as exc:  # apply_batch does not raise; belt and braces
                    errors = [f"{len(batch)} cache write(s) lost: {type(exc).__name__}: {exc}"]
                with self._cond:
                    if errors:
                        self._record(errors)
                    self._done += len(batch)
                    self._cond.notify_all()
        finally:
            with self._cond:
                self._cond.notify_all()

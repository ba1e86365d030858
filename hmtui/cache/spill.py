"""The open thread's loaded history on disk, so the pane keeps only a window of it in memory.

Every message the thread loads (from the server or the cache) is written here as it arrives; the
view reads pages back by time as you scroll, and find searches it. It is a private temporary
SQLite file (its directory is made by `tempfile.mkdtemp`, mode 0700), deleted on `close()` and at
exit, whatever the cache setting: with `--no-cache` the design is the same and nothing is kept.
It is not the cache (hmtui.cache.store): nothing here outlives the session, nothing is trusted
as a thread's history, and a thread opened again starts from empty.

One worker thread owns the connection and runs every call in order, so a read or a search
submitted after a write sees it, and the event loop never waits on the disk (reads are awaited
as futures). A row holds up to CHUNK messages: their raw dicts in `marshal` form (about 2 µs a
message to write, against 7 for JSON: it is our own file, written and read by this process;
a message read from the cache keeps the JSON text it came as, and that is stored instead, as
it is), their time range, and their bodies casefolded for find.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import json
import logging
import marshal
import queue
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from hmtui.api.models import Id, Message, time_id_order

log = logging.getLogger(__name__)

T = TypeVar("T")
UNDATED = -1e308  # undated messages sort oldest (as in the layout and the cache)
CHUNK = 100  # messages per row
_SCHEMA = """
CREATE TABLE IF NOT EXISTS spill (
    seq INTEGER PRIMARY KEY,
    lo REAL NOT NULL,
    hi REAL NOT NULL,
    raws BLOB NOT NULL,
    texts TEXT NOT NULL
)
"""
_SEP = "\x00"  # between the bodies of a row's messages (a control character: cleaned from text)


def _decoded(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:  # cannot happen for what the cache decoded once; nothing to show then
        return {}
    return value if isinstance(value, dict) else {}


class Spill:
    """A thread's messages on disk (see the module docstring). Thread-safe; calls are ordered."""

    def __init__(self, directory: Path | None = None) -> None:
        self._parent = directory
        self._dir: Path | None = None
        self._conn: sqlite3.Connection | None = None
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], concurrent.futures.Future[Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._failed: str | None = None

    # -- the worker ------------------------------------------------------------------------

    def _submit(self, job: Callable[[], T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                future.set_exception(RuntimeError("the spill is closed"))
                return future
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="hmtui-spill", daemon=True)
                self._thread.start()
                atexit.register(self.close)
            self._jobs.put((job, future))
        return future

    def _run(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                break
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as exc:  # noqa: BLE001  (the caller gets it)
                future.set_exception(exc)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._dir = Path(tempfile.mkdtemp(prefix="hmtui-spill-", dir=self._parent))
            conn = sqlite3.connect(str(self._dir / "thread.sqlite3"), isolation_level=None)
            # Scratch data: no journal, no syncs, a small page cache (memory is what this saves).
            for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -1024", "temp_store = MEMORY"):
                conn.execute(f"PRAGMA {pragma}")
            conn.execute(_SCHEMA)
            self._conn = conn
        return self._conn

    # -- the calls -------------------------------------------------------------------------

    def put(self, messages: Sequence[Message]) -> None:
        """Write messages (not written before: the thread writes each once); returns at once."""
        if not messages or self._failed is not None:
            return
        # Rows of CHUNK messages, not one per message: sqlite3 takes the GIL back after each
        # row, and while the event loop is busy that waits for the interpreter's switch interval
        # (5 ms), so one row per message fell tens of thousands of messages behind a whole-
        # history load, holding their dicts in memory (measured).
        rows = []
        for start in range(0, len(messages), CHUNK):
            part = messages[start:start + CHUNK]
            stamps = [UNDATED if (date := m.date) is None else date.timestamp() for m in part]
            # A message read from the cache brings the JSON text of its raw dict: stored as it is
            # (marshal copies a string; a dict it encodes, 2 µs a message).
            raws = [(stamp, m.id, m.raw if m.source is None else m.source) for stamp, m in zip(stamps, part)]
            bodies = [m.text or "" for m in part]
            texts = _SEP.join(bodies)
            if texts.count(_SEP) != len(part) - 1:  # a body holds the separator itself
                texts = _SEP.join(body.replace(_SEP, " ") for body in bodies)
            rows.append((min(stamps), max(stamps), marshal.dumps(raws), texts.casefold()))

        def write() -> None:
            try:
                conn = self._db()
                conn.execute("BEGIN")
                conn.executemany("INSERT INTO spill (lo, hi, raws, texts) VALUES (?, ?, ?, ?)", rows)
                conn.execute("COMMIT")
            except (sqlite3.Error, OSError, ValueError) as exc:
                # The view then keeps what it has in memory (see ThreadView): nothing is lost.
                self._failed = str(exc)
                log.warning("the thread's spill failed: %s", exc)

        self._submit(write)

    def clear(self) -> None:
        """Forget everything (another thread opens); ordered before what follows."""
        def wipe() -> None:
            if self._conn is not None:
                self._conn.execute("DELETE FROM spill")

        self._submit(wipe)

    @property
    def failed(self) -> str | None:
        """Why writing stopped working, if it did (the view then stops evicting)."""
        return self._failed

    def _between(self, lo: float, hi: float) -> list[Message]:
        if self._conn is None:
            return []
        found: list[tuple[float, Message]] = []
        for (blob,) in self._conn.execute("SELECT raws FROM spill WHERE lo <= ? AND hi >= ?", (hi, lo)):
            for stamp, id_, raw in marshal.loads(blob):
                if lo <= stamp <= hi:
                    if type(raw) is str:  # a cached message's JSON text, as the cache holds it
                        raw = _decoded(raw)
                    message = Message.from_raw(raw, owned=True)  # just decoded: nothing else holds it
                    if message is not None:
                        found.append((time_id_order(stamp, id_), message))
        found.sort(key=lambda pair: pair[0])
        return [message for _, message in found]

    async def read(self, lo: float, hi: float) -> list[Message]:
        """The messages with lo <= time <= hi (undated: UNDATED), oldest first."""
        return await asyncio.wrap_future(self._submit(lambda: self._between(lo, hi)))

    def read_now(self, lo: float, hi: float, timeout: float = 5.0) -> list[Message]:
        """`read`, waiting here (tests, and callers off the event loop)."""
        return self._submit(lambda: self._between(lo, hi)).result(timeout)

    def matches(self, terms: Sequence[str], timeout: float = 1.0) -> list[tuple[float, Id]] | None:
        """(time, id) of each message whose body holds every term (case-insensitive), oldest
        first; None if the spill did not answer within `timeout` (a long write ahead of it)."""
        folded = [t.casefold() for t in terms if t]
        if not folded:
            return []

        def run() -> list[tuple[float, Id]]:
            if self._conn is None:
                return []
            where = " AND ".join("instr(texts, ?) > 0" for _ in folded)
            found: list[tuple[float, Id]] = []
            for blob, texts in self._conn.execute(f"SELECT raws, texts FROM spill WHERE {where}", folded):
                for (stamp, id_, _), text in zip(marshal.loads(blob), texts.split(_SEP)):
                    if all(term in text for term in folded):
                        found.append((stamp, id_))
            found.sort(key=lambda hit: time_id_order(*hit))
            return found

        try:
            return self._submit(run).result(timeout)
        except concurrent.futures.TimeoutError:
            return None

    def wait(self, timeout: float | None = None) -> None:
        """Until every call submitted so far has run (tests)."""
        self._submit(lambda: None).result(timeout)

    def close(self) -> None:
        """Stop the worker and delete the file (idempotent; also run at exit)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._jobs.put(None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        try:
            atexit.unregister(self.close)
        except Exception:  # pragma: no cover - defensive
            pass

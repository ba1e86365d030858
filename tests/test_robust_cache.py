"""Issue 15, items 10 and 11: cache failures are said once (in the app and on stderr), a
read-only cache is read, and eight processes creating one cache at once all succeed.

Simulations (tests run as root, whom chmod does not stop):
- a full disk is SQLite's `PRAGMA max_page_count` pinned to the file's current size;
- a read-only file is `store._open_for_writing` raising EACCES (the hook the store uses to open
  the file for writing); a real chmod test runs too when not root.
"""

from __future__ import annotations

import asyncio
import errno
import multiprocessing
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from hmtui import cli
from hmtui.api.models import Message
from hmtui.cache import Store, StoreWriter, store_path
from hmtui.cache import store as store_module

from app_harness import running, settle
from helpers import this_accounts_cache_info
from test_app import open_long_thread
from test_cache_store import BASE as POPULATED_BASE, SECRET as POPULATED_SECRET, _corrupt_while_open, _populated

BASE = "https://api.heymarket.com"
SECRET = "acct"
T0 = 1_750_000_000


def msg(i: int, text: str = "hello") -> Message:
    m = Message.from_raw({"id": i, "date": T0 + i, "text": text})
    assert m is not None
    return m


def fill_the_disk(store: Store) -> None:
    """From now on no write can grow the file: SQLITE_FULL, as on a full disk."""
    conn = store._wconn
    assert conn is not None
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages}")


def deny_writing(monkeypatch) -> None:
    def refuse(path: Path) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(store_module, "_open_for_writing", refuse)


# -- item 11: eight processes, one new cache ------------------------------------------------------


ROUNDS = 25
PROCESSES = 8


def _open_fresh_caches(directories: list[str], barrier, results, n: int) -> None:
    """In each directory in turn, at the same moment as the other processes: open a new cache
    and write to it. Reports the problems seen, per round."""
    for round_, directory in enumerate(directories):
        problems: list[str] = []
        try:
            barrier.wait(timeout=120)
            store = Store.open(BASE, SECRET, directory=Path(directory))
            problems += store.warnings
            if not store.writable:
                problems.append("not writable")
            store.put_messages(1, "t", [msg(n)])
            store.close()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{type(exc).__name__}: {exc}")
        results.put((round_, n, problems))


def test_eight_processes_creating_one_cache_at_once_all_succeed(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    directories = [str(tmp_path / f"round{r}") for r in range(ROUNDS)]
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [context.Process(target=_open_fresh_caches, args=(directories, barrier, results, n))
               for n in range(PROCESSES)]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=300) for _ in range(ROUNDS * PROCESSES)]
    for worker in workers:
        worker.join(timeout=60)
    assert [r for r in reports if r[2]] == []  # e.g. "database is locked" in none of them
    for directory in directories:
        store = Store.open(BASE, SECRET, directory=Path(directory))
        assert store.info().messages == PROCESSES and store.warnings == []
        store.close()


def test_an_open_waits_for_another_process_that_is_opening(tmp_path: Path, monkeypatch) -> None:
    """The race made deterministic: while another process holds the open lock (it is creating
    the file, switching it to WAL), this one must not touch the database at all."""
    import fcntl

    touched = threading.Event()
    real = store_module._open_for_writing

    def recording(path: Path) -> None:
        touched.set()
        real(path)

    monkeypatch.setattr(store_module, "_open_for_writing", recording)
    path = store_path(BASE, SECRET, tmp_path)
    lock = os.open(path.with_name(path.name + store_module.LOCK_SUFFIX), os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)  # "another process" is mid-open
    opened: list[Store] = []
    worker = threading.Thread(target=lambda: opened.append(Store.open(BASE, SECRET, directory=tmp_path)))
    worker.start()
    try:
        assert not touched.wait(timeout=0.5)  # it waits for the lock instead of racing
    finally:
        os.close(lock)  # the other process is done
    worker.join(timeout=60)
    assert touched.is_set() and opened and opened[0].writable and opened[0].warnings == []
    opened[0].close()


def test_a_busy_wal_switch_is_retried() -> None:
    class Conn:
        calls = 0

        def execute(self, sql: str):
            Conn.calls += 1
            if Conn.calls <= 3:
                exc = sqlite3.OperationalError("database is locked")
                exc.sqlite_errorcode = 5  # SQLITE_BUSY, returned at once to avoid a deadlock
                raise exc
            return self

        def fetchone(self):
            return ("wal",)

    Store._switch_to_wal(Conn())  # type: ignore[arg-type]
    assert Conn.calls == 4


# -- item 10: a full disk ----------------------------------------------------------------------------


def test_a_full_disk_is_said_once_whatever_the_number_of_failed_writes(tmp_path: Path) -> None:
    store = Store.open(BASE, SECRET, directory=tmp_path)
    store.put_messages(1, "t", [msg(i) for i in range(20)])
    heard: list[str] = []
    store.on_warning = heard.append
    fill_the_disk(store)
    writer = StoreWriter(store)
    for batch in range(30):
        writer.submit("put_messages", 1, "t", [msg(1000 + batch * 50 + i, "x" * 2000) for i in range(50)])
        assert writer.flush(timeout=60)
    assert writer.errors  # every one failed...
    assert len(heard) == 1 and heard == store.warnings  # ...and it was said once
    assert "disk is full" in heard[0] and "not kept" in heard[0]
    writer.close()
    assert store.info().messages == 20  # what was there is still read
    store.close()


def test_a_direct_write_on_a_full_disk_is_said_once(tmp_path: Path) -> None:
    store = Store.open(BASE, SECRET, directory=tmp_path)
    fill_the_disk(store)
    for n in range(3):
        with pytest.raises(store_module.CacheError):
            store.put_messages(1, "t", [msg(100 * n + i, "y" * 4000) for i in range(50)])
    assert len(store.warnings) == 1 and "disk is full" in store.warnings[0]
    store.close()


def _cli_env(monkeypatch, server, tmp_path: Path) -> None:
    for key in [k for k in os.environ if k.startswith(("HEYMARKET_", "HMTUI_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HMTUI_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("HEYMARKET_BASE_URL", server.url)
    monkeypatch.setenv("HEYMARKET_SECRET_ID", server.secret_id)
    monkeypatch.setenv("HEYMARKET_SECRET_KEY", server.secret_key)


def test_the_cli_says_on_stderr_that_the_cache_could_not_keep_a_history(server, tmp_path, monkeypatch, capsys) -> None:
    _cli_env(monkeypatch, server, tmp_path)
    real_open = Store.open

    def full_store(*args, **kwargs):
        store = real_open(*args, **kwargs)
        fill_the_disk(store)
        return store

    monkeypatch.setattr(Store, "open", full_store)
    conv = next(c for c in server.data.conversations if len(server.data.messages_for(c["inbox"], c["target"])) > 20)
    assert cli.main(["history", "--inbox", str(conv["inbox"]), "--phone", conv["target"]]) == 0
    out, err = capsys.readouterr()
    assert out  # the history itself is printed
    warnings = [line for line in err.splitlines() if "cache" in line]
    assert len(warnings) == 1 and warnings[0].startswith("hmtui: warning: ") and "disk is full" in warnings[0]


async def test_the_app_shows_a_full_disk_once(server, tmp_path) -> None:
    store = Store.open(server.url, server.secret_id, directory=tmp_path / "cache")
    async with running(server, store=store) as (app, pilot):
        assert app.writer is not None
        await asyncio.to_thread(app.writer.flush, 60)
        fill_the_disk(store)
        await open_long_thread(pilot, app)
        for _ in range(3):  # older pages: more failed writes
            await pilot.press("g")
            await settle(pilot)
        await asyncio.to_thread(app.writer.flush, 60)
        for _ in range(5):
            await pilot.pause()
        cache_notes = [n for n in app.notified if n.title == "Cache"]
        assert len(cache_notes) == 1 and "disk is full" in cache_notes[0].message
        assert app.writer.errors


async def test_the_app_shows_a_cache_set_aside_at_run_time(server, tmp_path) -> None:
    path = _populated(tmp_path)
    store = Store.open(POPULATED_BASE, POPULATED_SECRET, directory=tmp_path)
    async with running(server, store=store) as (app, pilot):
        assert not [n for n in app.notified if n.title == "Cache"]
        _corrupt_while_open(path)
        # Whatever thread finds it (here the writer's), the app hears of it.
        await asyncio.to_thread(store.messages, 11, "t15")
        for _ in range(5):
            await pilot.pause()
        cache_notes = [n for n in app.notified if n.title == "Cache"]
        assert len(cache_notes) == 1 and "set aside" in cache_notes[0].message


# -- item 10: a read-only cache ----------------------------------------------------------------------


def test_a_read_only_cache_is_read(tmp_path: Path, monkeypatch) -> None:
    store = Store.open(BASE, SECRET, directory=tmp_path)
    store.put_messages(1, "t", [msg(i, f"word{i} zanzibar") for i in range(30)])
    store.mark_thread_complete(1, "t")
    store.close()
    deny_writing(monkeypatch)
    store = Store.open(BASE, SECRET, directory=tmp_path)
    assert store.enabled and store.read_only and not store.writable
    assert len(store.warnings) == 1 and "cannot be written" in store.warnings[0]
    assert store.info().messages == 30
    assert len(store.messages(1, "t")) == 30 and store.thread_state(1, "t").complete
    assert len(store.search("zanzibar")) == 30
    store.put_messages(1, "t", [msg(99)])  # nothing is kept, nothing raises
    assert store.info().messages == 30 and len(store.warnings) == 1
    store.close()


def test_cache_info_on_a_read_only_cache_counts_what_it_holds(server, tmp_path, monkeypatch, capsys) -> None:
    _cli_env(monkeypatch, server, tmp_path)
    directory = tmp_path / "cache" / "hmtui"
    store = Store.open(server.url, server.secret_id, directory=directory)
    store.put_messages(1, "t", [msg(i) for i in range(42)])
    store.close()
    deny_writing(monkeypatch)
    assert cli.main(["cache", "info"]) == 0
    out, err = capsys.readouterr()
    assert this_accounts_cache_info(out)["messages"] == "42", out
    assert "Traceback" not in err  # `cache info` opens every file read-only: nothing to warn about


@pytest.mark.skipif(os.geteuid() == 0, reason="root is not stopped by chmod")
def test_a_really_read_only_file_and_directory_are_read(tmp_path: Path) -> None:
    store = Store.open(BASE, SECRET, directory=tmp_path)
    store.put_messages(1, "t", [msg(i) for i in range(5)])
    store.close()
    path = store_path(BASE, SECRET, tmp_path)
    os.chmod(path, 0o400)
    os.chmod(tmp_path, 0o500)
    try:
        store = Store.open(BASE, SECRET, directory=tmp_path)
        assert store.read_only and store.info().messages == 5
        store.close()
    finally:
        os.chmod(tmp_path, 0o700)
        os.chmod(path, 0o600)


def test_an_empty_unwritable_cache_is_simply_off(tmp_path: Path, monkeypatch) -> None:
    deny_writing(monkeypatch)
    store = Store.open(BASE, SECRET, directory=tmp_path)
    assert not store.enabled and len(store.warnings) == 1 and "disabled" in store.warnings[0]
    store.close()

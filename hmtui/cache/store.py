"""The local cache: every inbox, conversation and message hmtui fetched, in one SQLite file per
account, so the app starts on what it knew, works offline read-only, and searches history at once.

This is customer data on disk: the directory is 0700, the file (and its WAL and shared-memory
files) 0600, and the file name carries a hash of the account, never the secret id.

Threading: reads use their own connection and never wait for a write (WAL); writes use another,
one transaction at a time. Every method is safe to call from any thread. Reads never raise (an
error gives an empty answer and a warning); writes raise CacheError (StoreWriter records it).
A corrupt file is set aside and rebuilt, at open or whenever SQLite reports corruption.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import platformdirs

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's own locking and the retried WAL switch must do
    fcntl = None  # type: ignore[assignment]

from hmtui.api.models import Conversation, Id, Inbox, Message, Team, parse_id
from hmtui.api.paging import trusted_oldest
from hmtui.api.templates import Template
from hmtui.cache import schema
from hmtui.cache.local_tables import Draft, Kind, MemoryTables, OutboxEntry
from hmtui.cache.search import fts_query, index_numbers, like_clause, parse_query, snippet

log = logging.getLogger("hmtui.cache")

APP_NAME = "hmtui"
FILE_SUFFIX = ".sqlite3"
SIDECARS = ("-wal", "-shm", "-journal")
KEEP_SET_ASIDE = 2  # older set-aside copies (customer data) are deleted
BUSY_TIMEOUT_MS = 5000
# bm25 weights of the FTS columns: text, author, numbers.
RANK_WEIGHTS = (1.0, 0.5, 0.25)
RANK_MAX = 20_000  # more matches than this are not ranked (see Store._fts_hits)
SNIPPET_WIDTH = 80
# The thread's oldest dates judged for outliers when choosing a resume cursor (a page's worth).
CURSOR_SAMPLE = 64

# Opening (creation, the WAL switch, migrations, setting a bad file aside) is serialised across
# processes by a lock file beside the cache: SQLite answers a concurrent switch to WAL with
# "database is locked" at once instead of waiting. The wait for another process's open is bounded.
LOCK_SUFFIX = ".lock"
OPEN_LOCK_TIMEOUT = 30.0
WAL_SWITCH_ATTEMPTS = 8  # where no lock file can be had (no fcntl, an unwritable directory)

# Write methods a StoreWriter may call by name.
WRITE_METHODS = frozenset({"put_inboxes", "put_team", "put_conversations", "put_messages", "mark_thread_complete",
                           "put_draft", "delete_draft", "put_templates"})

# SQLite result codes (primary) meaning the file itself is bad.
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
# ...and those meaning "not now" (busy, read-only, disk full, ...): the file may be fine.
_TRANSIENT = frozenset({3, 5, 6, 7, 8, 10, 13, 14, 15, 23})
_BUSY = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED
# Opening for writing was refused, yet the file may be read: SQLITE_READONLY, SQLITE_CANTOPEN
# (a directory where -wal/-shm cannot be made), SQLITE_PERM; and the OS errors to the same effect.
_WRITE_REFUSED = frozenset({8, 14, 3})
_WRITE_REFUSED_ERRNO = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})

T = TypeVar("T")


class CacheError(Exception):
    """A write to the cache failed (disk full, read-only, locked too long, ...)."""


@dataclass(frozen=True, slots=True)
class ThreadState:
    count: int
    oldest: float | None  # Unix seconds of the oldest dated message
    newest: float | None
    complete: bool  # the oldest message of the thread is cached
    # Where a Pager resumes: the oldest date that is not an outlier among the thread's oldest
    # (one message dated 1970 must not become the cursor: see hmtui.api.paging).
    cursor: float | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class SearchHit:
    message: Message
    inbox_id: Id
    target: str
    contact: str | None  # the conversation's name, if cached
    snippet: str  # one line, control characters made visible
    rank: float  # bm25: lower is a better match (0.0 without FTS5)


@dataclass(frozen=True, slots=True)
class CacheInfo:
    path: Path | None
    size_bytes: int
    inboxes: int
    conversations: int
    messages: int
    threads: int
    readable: bool = True


# --- where the file lives -----------------------------------------------------------------------


def cache_dir() -> Path:
    return platformdirs.user_cache_path(APP_NAME)


def _normalized_base_url(base_url: str) -> tuple[str, str]:
    """(the URL in one canonical spelling, a file-name-safe label for its host)."""
    text = (base_url or "").strip()
    parts = urlsplit(text if "://" in text else f"https://{text}")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if _local_ephemeral(host, port):
        # A server on loopback at an OS-picked port (`hmtui fake-server`) gets a new port each
        # run: one file for all of them, reused, instead of a new file per run.
        host, port = LOCAL_LABEL, None
    netloc = host + (f":{port}" if port else "")
    canonical = f"{(parts.scheme or 'https').lower()}://{netloc}{parts.path.rstrip('/')}"
    label = re.sub(r"[^a-z0-9.-]+", "_", host + (f"_{port}" if port else "")).strip("._-")
    return canonical, (label or "account")[:64]


LOCAL_LABEL = "loopback"
EPHEMERAL_PORTS = range(32768, 65536)  # Linux's default ip_local_port_range starts here (BSDs: 49152)


def _local_ephemeral(host: str, port: int | None) -> bool:
    if port is None or port not in EPHEMERAL_PORTS:
        return False
    return host in ("localhost", "::1", "[::1]") or host.startswith("127.")


def cache_files(directory: Path | None = None) -> list[Path]:
    """Every cache file in the directory (not their WAL or set-aside copies), by name."""
    folder = Path(directory if directory is not None else cache_dir())
    try:
        return sorted(p for p in folder.glob(f"*{FILE_SUFFIX}") if p.is_file())
    except OSError:
        return []


def file_info(path: Path) -> CacheInfo | None:
    """Size and counts of a cache file, read-only: never creates, migrates or sets a file aside.
    None if it cannot be read as a cache."""
    size = 0
    for suffix in ("", *SIDECARS):
        try:
            size += path.with_name(path.name + suffix).stat().st_size
        except OSError:
            pass
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except (sqlite3.Error, OSError, ValueError):
        return None
    try:
        inboxes, conversations, messages, threads = conn.execute(
            """SELECT (SELECT count(*) FROM inboxes), (SELECT count(*) FROM conversations),
                      (SELECT count(*) FROM messages),
                      (SELECT count(*) FROM (SELECT 1 FROM messages GROUP BY inbox_id, target))"""
        ).fetchone()
    except sqlite3.Error:
        return CacheInfo(path=path, size_bytes=size, inboxes=0, conversations=0, messages=0, threads=0,
                         readable=False)
    finally:
        conn.close()
    return CacheInfo(path=path, size_bytes=size, inboxes=inboxes, conversations=conversations,
                     messages=messages, threads=threads)


def clear_files(directory: Path | None = None, *, stem: str | None = None) -> tuple[list[Path], list[str]]:
    """Delete every cache file (or only the one named `stem`) with its WAL and set-aside copies,
    without opening it: (deleted files, errors)."""
    folder = Path(directory if directory is not None else cache_dir())
    deleted: list[Path] = []
    errors: list[str] = []
    try:
        victims = sorted(p for p in folder.iterdir() if FILE_SUFFIX in p.name and p.is_file()
                         and (stem is None or p.name.startswith(stem)))
    except OSError:
        return [], []
    for victim in victims:
        try:
            victim.unlink()
            deleted.append(victim)
        except FileNotFoundError:
            pass
        except OSError as exc:
            errors.append(f"cannot delete {victim}: {exc.strerror or exc}")
    return deleted, errors


def store_path(base_url: str, secret_id: str, directory: Path | None = None, *, account: str | None = None) -> Path:
    """`<host>-<hash16>.sqlite3`: the hash (SHA-256) covers the base URL and the secret id, so two
    accounts, or one id on two servers, never share a file; the id itself never appears.
    A named account of the config (`[accounts.NAME]`) is `<name>.<host>-<hash16>.sqlite3`, its
    name in the hash too: two named accounts never share a file (nor their outbox and drafts),
    even on one server with one id (two fake servers on loopback look alike)."""
    canonical, label = _normalized_base_url(base_url)
    identity = f"{canonical}\n{secret_id or ''}"
    if account is not None:
        identity += f"\naccount:{account}"
        label = f"{_account_label(account)}.{label}"
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return Path(directory if directory is not None else cache_dir()) / f"{label}-{digest}{FILE_SUFFIX}"


def _account_label(account: str) -> str:
    """An account's name as a file-name part: `cache info` shows whose file is whose."""
    return (re.sub(r"[^a-z0-9-]+", "_", account.lower()).strip("_-") or "account")[:32]


# --- values in and out of SQLite ----------------------------------------------------------------


def _text(value: str | None) -> str | None:
    """A string SQLite can store: a lone surrogate (valid in JSON, not in UTF-8) becomes U+FFFD."""
    if value is None or value.isascii():
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)


def _dumps(raw: Any) -> str:
    text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: \u-escaped they round-trip exactly
        text = json.dumps(raw, ensure_ascii=True, separators=(",", ":"), default=str)
    return text


def _loads(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _key(value: object) -> Id | None:
    key = parse_id(value, own=True)  # a key: an id of 0 is still a key
    return _text(key) if isinstance(key, str) else key


def _write_key(inbox_id: object, target: object) -> tuple[Id, str]:
    inbox = _key(inbox_id)
    if inbox is None:
        raise ValueError(f"not an inbox id: {inbox_id!r}")
    if not isinstance(target, str) or not target:
        raise ValueError(f"not a conversation target: {target!r}")
    return inbox, _text(target) or target


def _error_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _corrupt_at_runtime(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.DatabaseError) and _error_code(exc) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def _unusable_at_open(exc: BaseException) -> bool:
    """At open, any database error but a transient one means the file is not a cache we can use
    (garbage, truncated, another schema)."""
    return isinstance(exc, sqlite3.DatabaseError) and _error_code(exc) not in _TRANSIENT


def _open_for_writing(path: Path) -> None:
    """Create the file if needed, 0600. Raises OSError when the file cannot be written (a
    read-only file or disk); tests replace this to simulate that (they run as root, whom chmod
    does not stop)."""
    flags = os.O_CREAT | os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    try:
        if os.name == "posix":
            os.fchmod(fd, 0o600)  # an existing file, or a umask that took more than asked
    finally:
        os.close(fd)


def _write_refused(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in _WRITE_REFUSED_ERRNO
    return isinstance(exc, sqlite3.Error) and _error_code(exc) in _WRITE_REFUSED


@contextlib.contextmanager
def _open_lock(path: Path, timeout: float = OPEN_LOCK_TIMEOUT) -> Iterator[bool]:
    """Hold `<cache>.lock` exclusively while opening; yields whether the lock is held. Without
    fcntl, or where the lock file cannot be made (read-only directory), opening goes ahead
    unlocked (SQLite still guards the data; the WAL switch is then retried)."""
    if fcntl is None:
        yield False
        return
    lock = path.with_name(path.name + LOCK_SUFFIX)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(lock, os.O_CREAT | os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError:
        yield False
        return
    try:
        deadline = time.monotonic() + timeout
        held = False
        while not held:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() >= deadline:
                    break  # a process stuck mid-open must not hang this one
                time.sleep(0.005)
        yield held
    finally:
        os.close(fd)  # releases the lock


def _chmod(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except FileNotFoundError:
        pass


# --- the store ----------------------------------------------------------------------------------


class Store:
    """One account's cache. Create with `Store.open(...)`; `Store.disabled()` stores nothing."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.warnings: list[str] = []
        self._wlock = threading.RLock()  # the write connection (and open/close); taken first
        self._rlock = threading.RLock()  # the read connection
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None
        self._fts = False
        self._batch_depth = 0
        self._warned: set[str] = set()
        self._read_only = False
        self._complete_trusted = True
        self._write_failure_reported = False
        # Called (from any thread) with each warning that arises after open: the app shows it.
        self.on_warning: Callable[[str], None] | None = None
        # The outbox, drafts and templates when there is no file to write them to.
        self._memory = MemoryTables()

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, base_url: str, secret_id: str, *, directory: Path | None = None,
             account: str | None = None) -> Store:
        """The account's cache, created or upgraded as needed. Never raises: an unusable file is
        set aside and rebuilt; a cache that cannot be opened at all behaves like `disabled()`,
        with the reason in `warnings`. `account`: the config's account name (see store_path)."""
        try:
            path = store_path(base_url, secret_id, directory, account=account)
        except Exception as exc:  # pragma: no cover - defensive
            store = cls.disabled()
            store._warn(f"cache disabled: {exc}")
            return store
        store = cls(path)
        with store._wlock, store._rlock, _open_lock(path):
            store._open_or_rebuild()
        return store

    @classmethod
    def disabled(cls) -> NullStore:
        return NullStore()

    @property
    def enabled(self) -> bool:
        """Whether the cache can be read (it may be read-only: see `writable`)."""
        return self._rconn is not None

    @property
    def writable(self) -> bool:
        return self._wconn is not None

    @property
    def read_only(self) -> bool:
        """The file is read (it holds data) but cannot be written this session."""
        return self._read_only

    @property
    def full_text(self) -> bool:
        """Whether search uses FTS5 (False: a LIKE scan, slower)."""
        return self._fts

    def _warn(self, message: str, *, once: bool = False) -> None:
        if once:
            if message in self._warned:
                return
            self._warned.add(message)
        self.warnings.append(message)
        log.warning("%s", message)
        callback = self.on_warning
        if callback is not None:
            try:
                callback(message)
            except Exception:  # noqa: BLE001 - a UI gone away must not break a cache write
                log.debug("cache warning callback failed", exc_info=True)

    def _write_failed(self, exc: BaseException) -> None:
        """Say once per session that writes fail (a full disk, a file gone read-only): otherwise
        only the log would know, and the user would believe everything is kept."""
        if self._write_failure_reported:
            return
        self._write_failure_reported = True
        reason = "the disk is full" if _error_code(exc) == 13 else str(exc)
        self._warn(f"cache writes are failing ({reason}): hmtui keeps working, but what it fetches now is not "
                   f"kept in {self.path}")

    def _open_or_rebuild(self) -> None:
        assert self.path is not None
        for _ in range(3):
            try:
                self._connect(self.path)
                return
            except schema.NewerSchemaError as exc:
                self._close_connections()
                reason = f"it was written by a newer hmtui (schema {exc.version}, this one knows {schema.SCHEMA_VERSION})"
                if not self._set_aside("newer", reason):
                    return
            except (sqlite3.Error, OSError) as exc:
                self._close_connections()
                if _write_refused(exc) and self._connect_read_only(self.path, exc):
                    return
                if not _unusable_at_open(exc):
                    self._warn(f"cache disabled for this session: cannot open {self.path}: {exc}")
                    return
                if not self._set_aside("corrupt", f"it could not be read ({exc})"):
                    return
        self._close_connections()
        self._warn(f"cache disabled for this session: {self.path} could not be rebuilt")

    def _connect(self, path: Path) -> None:
        directory = path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            os.chmod(directory, 0o700)
        except OSError as exc:
            self._warn(f"cannot make the cache directory {directory} private: {exc.strerror or exc}", once=True)
        _open_for_writing(path)

        wconn = self._wconn = self._new_connection(path)
        # WAL: reads never wait for the writer. SQLite creates -wal/-shm with the database
        # file's permissions (0600); _tighten() makes sure.
        self._switch_to_wal(wconn)
        wconn.execute("PRAGMA synchronous = NORMAL")
        wconn.execute("PRAGMA journal_size_limit = 8388608")
        schema.migrate(wconn)
        schema.check_columns(wconn, local=True)
        available = schema.fts5_available()
        self._fts = schema.ensure_fts(wconn, available)
        if not available:
            self._warn("this SQLite has no FTS5: cache search falls back to a slower full scan", once=True)
        rconn = self._rconn = self._new_connection(path)
        rconn.execute("PRAGMA query_only = 1")
        rconn.execute("SELECT count(*) FROM messages WHERE pk = 0").fetchone()
        self._tighten()

    @staticmethod
    def _switch_to_wal(conn: sqlite3.Connection) -> None:
        # The switch takes an exclusive lock and does not wait for it (no busy handler): retried
        # for when another process opens the same file without the lock file (see _open_lock).
        for attempt in range(WAL_SWITCH_ATTEMPTS):
            try:
                conn.execute("PRAGMA journal_mode = WAL").fetchone()
                return
            except sqlite3.OperationalError as exc:
                if _error_code(exc) not in _BUSY or attempt == WAL_SWITCH_ATTEMPTS - 1:
                    raise
                time.sleep(0.02 * 2**attempt)

    def _connect_read_only(self, path: Path, why: BaseException) -> bool:
        """Read a cache that cannot be written (read-only file, directory or disk): True if it
        could be opened so; the session then reads it and keeps nothing new."""
        try:
            if not path.is_file() or path.stat().st_size == 0:
                return False
        except OSError:
            return False
        reason = (why.strerror if isinstance(why, OSError) else None) or str(why)
        # mode=ro still needs the -shm file; immutable=1 needs nothing (and takes no locks, so
        # it is only the fallback: another process writing meanwhile could go unseen).
        for query in ("mode=ro", "immutable=1"):
            conn: sqlite3.Connection | None = None
            try:
                conn = sqlite3.connect(f"{path.as_uri()}?{query}", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                                       isolation_level=None, check_same_thread=False, cached_statements=64)
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                version = schema.read_version(conn)
                if version is None or version > schema.SCHEMA_VERSION:
                    raise sqlite3.DatabaseError("not a cache this hmtui can read")
                schema.check_columns(conn)
                has_fts = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (schema.FTS_TABLE,)
                ).fetchone() is not None
            except sqlite3.Error:
                if conn is not None:
                    conn.close()
                continue
            self._rconn = conn
            self._fts = has_fts and schema.fts5_available()
            self._read_only = True
            # Marks of a complete thread from before outlier-proof paging are not evidence.
            self._complete_trusted = version >= schema.SCHEMA_VERSION
            self._warn(f"cache {path} cannot be written ({reason}): reading what it holds, keeping nothing new")
            return True
        return False

    @staticmethod
    def _new_connection(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False,
            cached_statements=64,
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA temp_store = MEMORY")
        return conn

    def _tighten(self) -> None:
        if self.path is None or os.name != "posix":
            return
        for suffix in SIDECARS:
            _chmod(self.path.with_name(self.path.name + suffix), 0o600)

    def _close_connections(self) -> None:
        for name in ("_rconn", "_wconn"):
            conn = getattr(self, name)
            setattr(self, name, None)
            if conn is not None:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass

    def _set_aside(self, kind: str, reason: str) -> bool:
        """Rename the file (and its WAL) to `<name>.<kind>-<timestamp>`; False if impossible (the
        cache is then disabled)."""
        assert self.path is not None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.{kind}-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{self.path.name}.{kind}-{stamp}-{n}")
        try:
            os.replace(self.path, aside)
            wal = self.path.with_name(self.path.name + "-wal")
            if wal.exists():
                os.replace(wal, aside.with_name(aside.name + "-wal"))
            for suffix in ("-shm", "-journal"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
        except OSError as exc:
            self._warn(f"cache disabled for this session: {self.path} is unusable ({reason}) and cannot be moved: {exc}")
            return False
        self._warn(f"cache {self.path.name}: {reason}; set aside as {aside.name}, starting a new cache")
        self._prune_set_aside()
        return True

    def _set_aside_files(self) -> list[Path]:
        if self.path is None or not self.path.parent.is_dir():
            return []
        prefix = self.path.name + "."
        return [
            p for p in self.path.parent.iterdir()
            if p.name.startswith(prefix) and (p.name[len(prefix):].startswith(("corrupt-", "newer-")))
        ]

    def _prune_set_aside(self) -> None:
        copies = [p for p in self._set_aside_files() if not p.name.endswith("-wal")]
        copies.sort(key=lambda p: p.stat().st_mtime_ns if p.exists() else 0, reverse=True)
        for old in copies[KEEP_SET_ASIDE:]:
            for victim in (old, old.with_name(old.name + "-wal")):
                victim.unlink(missing_ok=True)

    def _recover(self, exc: BaseException, failed: sqlite3.Connection | None) -> None:
        """SQLite reported corruption mid-session: set the file aside and start anew."""
        with self._wlock, self._rlock:
            if failed is None or failed not in (self._wconn, self._rconn):
                return  # already recovered (or closed) by another thread
            self._close_connections()
            assert self.path is not None
            with _open_lock(self.path):
                if self._set_aside("corrupt", f"it became unreadable ({exc})"):
                    self._open_or_rebuild()

    # -- closing -----------------------------------------------------------------------------

    def close(self) -> None:
        with self._wlock, self._rlock:
            if self._wconn is not None:
                try:
                    self._wconn.execute("PRAGMA optimize")
                except sqlite3.Error:
                    pass
            self._close_connections()

    def clear(self) -> None:
        """Delete the cache file (with its WAL and any set-aside copies) and close the store;
        a later `open` starts empty."""
        with self._wlock, self._rlock:
            self._close_connections()
            if self.path is None:
                return
            victims = [self.path, *(self.path.with_name(self.path.name + s) for s in (*SIDECARS, LOCK_SUFFIX))]
            victims += self._set_aside_files()
            for victim in victims:
                try:
                    victim.unlink(missing_ok=True)
                except OSError as exc:
                    self._warn(f"cannot delete {victim}: {exc.strerror or exc}")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------------------

    def _read(self, default: T, query: Callable[[sqlite3.Connection], T]) -> T:
        failed: sqlite3.Connection | None = None
        with self._rlock:
            conn = self._rconn
            if conn is None:
                return default
            try:
                return query(conn)
            except sqlite3.Error as exc:
                if not _corrupt_at_runtime(exc):
                    self._warn(f"cache read failed: {exc}", once=True)
                    return default
                failed, error = conn, exc
        self._recover(error, failed)  # outside the read lock: locks are always taken write first
        return default

    def _write(self, body: Callable[[sqlite3.Connection], None]) -> None:
        with self._wlock:
            conn = self._wconn
            if conn is None:
                return  # disabled or closed: nothing is kept
            if self._batch_depth:
                body(conn)  # inside apply_batch, which owns the transaction
                return
            for attempt in range(2):
                try:
                    self._transaction(conn, body)
                    return
                except sqlite3.Error as exc:
                    if attempt == 0 and _corrupt_at_runtime(exc):
                        self._recover(exc, conn)
                        conn = self._wconn
                        if conn is not None:
                            continue
                    self._write_failed(exc)
                    raise CacheError(f"cache write failed: {exc}") from exc
                except UnicodeError as exc:
                    raise CacheError(f"cache write failed: {exc}") from exc

    @staticmethod
    def _transaction(conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], None]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            body(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise

    def apply_batch(self, calls: Sequence[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> list[str]:
        """Run write calls `(method name, args, kwargs)` in one transaction. A call that fails is
        rolled back alone (savepoint) and reported; returns the errors, never raises."""
        errors: list[str] = []
        with self._wlock:
            for attempt in range(2):
                conn = self._wconn
                if conn is None or not calls:
                    return errors
                errors = []
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    self._batch_depth += 1
                    try:
                        for name, args, kwargs in calls:
                            self._batch_call(conn, name, args, kwargs, errors)
                    finally:
                        self._batch_depth -= 1
                    conn.execute("COMMIT")
                    return errors
                except Exception as exc:
                    if conn.in_transaction:
                        try:
                            conn.execute("ROLLBACK")
                        except sqlite3.Error:
                            pass
                    if attempt == 0 and _corrupt_at_runtime(exc):
                        self._recover(exc, conn)
                        continue
                    if isinstance(exc, sqlite3.Error):
                        self._write_failed(exc)
                    return [f"{len(calls)} cache write(s) lost: {exc}"]
        return errors

    def _batch_call(self, conn: sqlite3.Connection, name: str, args: tuple[Any, ...],
                    kwargs: dict[str, Any], errors: list[str]) -> None:
        if name not in WRITE_METHODS:
            errors.append(f"{name}: not a cache write")
            return
        conn.execute("SAVEPOINT write_call")
        try:
            getattr(self, name)(*args, **kwargs)
        except Exception as exc:
            if _corrupt_at_runtime(exc):
                raise
            if isinstance(exc, sqlite3.Error):
                self._write_failed(exc)
            conn.execute("ROLLBACK TO write_call")
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
        conn.execute("RELEASE write_call")

    # -- writes ------------------------------------------------------------------------------

    def put_inboxes(self, inboxes: Sequence[Inbox]) -> None:
        """Replace the set of inboxes (in this order)."""
        rows = [(_key(inbox.id), position, _dumps(inbox.raw)) for position, inbox in enumerate(inboxes)]

        def body(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM inboxes")
            conn.executemany("INSERT OR REPLACE INTO inboxes (id, position, raw) VALUES (?, ?, ?)", rows)

        self._write(body)

    def put_team(self, team: Team) -> None:
        members = [(_key(m.id), _text(m.name), position, _dumps(m.raw)) for position, m in enumerate(team.members)]
        team_row = (_key(team.id) if team.id is not None else None, _text(team.name), _dumps(team.raw))

        def body(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT OR REPLACE INTO team (key, id, name, raw) VALUES (1, ?, ?, ?)", team_row)
            conn.execute("DELETE FROM team_members")
            conn.executemany(
                "INSERT OR REPLACE INTO team_members (id, name, position, raw) VALUES (?, ?, ?, ?)", members
            )

        self._write(body)

    def put_conversations(self, conversations: Sequence[Conversation]) -> None:
        rows = [
            (
                _key(c.id), _key(c.inbox_id) if c.inbox_id is not None else None, _text(c.target), _text(c.name),
                _text(c.status), int(c.closed), int(c.unread), c.updated.timestamp() if c.updated else None,
                _dumps(c.raw),
            )
            for c in conversations
        ]

        def body(conn: sqlite3.Connection) -> None:
            conn.executemany(
                """INSERT INTO conversations (id, inbox_id, target, name, status, closed, unread, updated, raw)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET
                       inbox_id = excluded.inbox_id, target = excluded.target, name = excluded.name,
                       status = excluded.status, closed = excluded.closed, unread = excluded.unread,
                       updated = excluded.updated, raw = excluded.raw
                   WHERE conversations.raw IS NOT excluded.raw""",
                rows,
            )

        self._write(body)

    def put_messages(self, inbox_id: Id, target: str, messages: Sequence[Message]) -> None:
        """Upsert one thread's messages (the key is (inbox_id, target, message id))."""
        inbox, thread = _write_key(inbox_id, target)
        rows = [
            (
                inbox, thread, _key(m.id), m.timestamp, _text(m.text), _text(m.author),
                index_numbers(thread, m.phone, m.target), _dumps(m.raw),
            )
            for m in messages
        ]

        def body(conn: sqlite3.Connection) -> None:
            conn.executemany(
                """INSERT INTO messages (inbox_id, target, id, date, text, author, numbers, raw)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (inbox_id, target, id) DO UPDATE SET
                       date = excluded.date, text = excluded.text, author = excluded.author,
                       numbers = excluded.numbers, raw = excluded.raw
                   WHERE messages.raw IS NOT excluded.raw""",
                rows,
            )

        self._write(body)

    def mark_thread_complete(self, inbox_id: Id, target: str, complete: bool = True) -> None:
        """Record that the thread's oldest message is cached (its history is exhausted)."""
        inbox, thread = _write_key(inbox_id, target)

        def body(conn: sqlite3.Connection) -> None:
            conn.execute(
                """INSERT INTO threads (inbox_id, target, complete) VALUES (?, ?, ?)
                   ON CONFLICT (inbox_id, target) DO UPDATE SET complete = excluded.complete""",
                (inbox, thread, int(bool(complete))),
            )

        self._write(body)

    # -- reads -------------------------------------------------------------------------------

    def inboxes(self) -> list[Inbox]:
        def query(conn: sqlite3.Connection) -> list[Inbox]:
            rows = conn.execute("SELECT raw FROM inboxes ORDER BY position").fetchall()
            return _parsed(rows, Inbox.from_raw)

        return self._read([], query)

    def team(self) -> Team | None:
        def query(conn: sqlite3.Connection) -> Team | None:
            row = conn.execute("SELECT raw FROM team WHERE key = 1").fetchone()
            raw = _loads(row[0]) if row else None
            return Team.from_raw(raw) if raw is not None else None

        return self._read(None, query)

    def conversations(self, inbox_id: Id, *, closed: bool | None = None, limit: int | None = 200) -> list[Conversation]:
        """The inbox's cached conversations, most recently updated first."""
        inbox = _key(inbox_id)
        if inbox is None:
            return []
        sql = "SELECT raw FROM conversations WHERE inbox_id = ?"
        params: list[Any] = [inbox]
        if closed is not None:
            sql += " AND closed = ?"
            params.append(int(bool(closed)))
        sql += " ORDER BY updated DESC, id DESC LIMIT ?"
        params.append(_limit(limit))

        def query(conn: sqlite3.Connection) -> list[Conversation]:
            return _parsed(conn.execute(sql, params).fetchall(), Conversation.from_raw)

        return self._read([], query)

    def messages(self, inbox_id: Id, target: str, *, limit: int | None = None, before: float | None = None,
                 before_id: Id | None = None) -> list[Message]:
        """A thread's cached messages, newest first (ties: higher id first); messages without a
        date sort oldest. `message_rows`, decoded (see there)."""
        return decode_messages(self.message_rows(inbox_id, target, limit=limit, before=before, before_id=before_id))

    def message_rows(self, inbox_id: Id, target: str, *, limit: int | None = None, before: float | None = None,
                     before_id: Id | None = None) -> list[tuple[str, Any, float | None]]:
        """`messages` as the rows hold them, (raw JSON text, id, date), for `decode_messages`: a
        reader thread reads them (SQLite lets go of the GIL while it reads), the caller decodes
        (holding it: in a thread, the decoding would only take turns with the caller's own work).
        The last row's (date, id) is the cursor of the next page, damaged rows included.

        `before`: only messages older than that (date < before; undated ones count as older than
        any date). With `before_id` too, the cursor is (date, id) of the oldest message already
        shown, so messages sharing its second are not skipped: pass
        `before=oldest.timestamp, before_id=oldest.id` (before=None with before_id pages within
        the undated messages).
        """
        inbox = _key(inbox_id)
        if inbox is None or not isinstance(target, str):
            return []
        thread = _text(target)
        cap = _limit(limit)
        base = "SELECT raw, id, date FROM messages WHERE inbox_id = ? AND target = ?"
        order = " ORDER BY date DESC, id DESC LIMIT ?"
        cursor_id = _key(before_id) if before_id is not None else None

        def query(conn: sqlite3.Connection) -> list[tuple[str, Any, float | None]]:
            if before is None and cursor_id is None:
                return conn.execute(base + order, (inbox, thread, cap)).fetchall()
            rows: list[tuple[str, Any, float | None]] = []
            if before is not None:
                if cursor_id is None:
                    dated = conn.execute(base + " AND date < ?" + order, (inbox, thread, before, cap))
                else:
                    dated = conn.execute(
                        base + " AND date <= ? AND (date < ? OR id < ?)" + order,
                        (inbox, thread, before, before, cursor_id, cap),
                    )
                rows = dated.fetchall()
            if cap < 0 or len(rows) < cap:
                undated = base + " AND date IS NULL"
                params: list[Any] = [inbox, thread]
                if before is None:
                    undated += " AND id < ?"
                    params.append(cursor_id)
                params.append(cap - len(rows) if cap >= 0 else -1)
                rows += conn.execute(undated + " ORDER BY id DESC LIMIT ?", params).fetchall()
            return rows

        return self._read([], query)

    def thread_state(self, inbox_id: Id, target: str) -> ThreadState:
        empty = ThreadState(count=0, oldest=None, newest=None, complete=False)
        inbox = _key(inbox_id)
        if inbox is None or not isinstance(target, str):
            return empty
        thread = _text(target)

        def query(conn: sqlite3.Connection) -> ThreadState:
            count, oldest, newest = conn.execute(
                "SELECT count(*), min(date), max(date) FROM messages WHERE inbox_id = ? AND target = ?",
                (inbox, thread),
            ).fetchone()
            row = conn.execute(
                "SELECT complete FROM threads WHERE inbox_id = ? AND target = ?", (inbox, thread)
            ).fetchone()
            dates = [r[0] for r in conn.execute(
                "SELECT date FROM messages WHERE inbox_id = ? AND target = ? AND date IS NOT NULL"
                " ORDER BY date LIMIT ?", (inbox, thread, CURSOR_SAMPLE),
            )]
            complete = bool(row and row[0]) and self._complete_trusted
            return ThreadState(count=count, oldest=oldest, newest=newest, complete=complete,
                               cursor=trusted_oldest(dates))

        return self._read(empty, query)

    def message_ids(self, inbox_id: Id, target: str) -> list[Id]:
        """The ids of a thread's cached messages (for Pager.resume)."""
        inbox = _key(inbox_id)
        if inbox is None or not isinstance(target, str):
            return []

        def query(conn: sqlite3.Connection) -> list[Id]:
            rows = conn.execute("SELECT id FROM messages WHERE inbox_id = ? AND target = ?", (inbox, _text(target)))
            return [row[0] for row in rows]

        return self._read([], query)

    def search(self, query: str, *, inbox_id: Id | None = None, target: str | None = None,
               limit: int = 200) -> list[SearchHit]:
        """Messages matching free text (see hmtui.cache.search for what can be typed), best match
        first, then newest; at most `limit`. Never raises on any query."""
        parsed = parse_query(query)
        if parsed.empty or limit is None or limit <= 0:
            return []
        scope = ""
        params: list[Any] = []
        if inbox_id is not None:
            inbox = _key(inbox_id)
            if inbox is None:
                return []
            scope += " AND m.inbox_id = ?"
            params.append(inbox)
        if target is not None:
            scope += " AND m.target = ?"
            params.append(_text(target))

        def run(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            if self._fts:
                hits = self._fts_hits(conn, fts_query(parsed) or "", scope, params, limit, thread=target is not None)
            else:
                where, like_params = like_clause(parsed)
                hits = conn.execute(
                    f"SELECT m.pk, 0.0 FROM messages m WHERE {where}{scope} ORDER BY m.date DESC, m.pk DESC LIMIT ?",
                    [*like_params, *params, limit],
                ).fetchall()
            rows: dict[int, tuple[Any, ...]] = {}
            pks = [pk for pk, _ in hits]
            for start in range(0, len(pks), 500):
                chunk = pks[start:start + 500]
                marks = ", ".join("?" * len(chunk))
                for row in conn.execute(
                    f"SELECT pk, inbox_id, target, raw, text FROM messages WHERE pk IN ({marks})", chunk
                ):
                    rows[row[0]] = row[1:]
            names: dict[tuple[Any, str], str | None] = {}
            out = []
            for pk, score in hits:
                if pk not in rows:
                    continue
                inbox_key, thread, raw, text = rows[pk]
                if (inbox_key, thread) not in names:
                    row = conn.execute(
                        "SELECT name FROM conversations WHERE inbox_id = ? AND target = ?"
                        " ORDER BY updated DESC LIMIT 1",
                        (inbox_key, thread),
                    ).fetchone()
                    names[(inbox_key, thread)] = ((row[0] or "").strip() or None) if row else None
                out.append((inbox_key, thread, raw, text, score, names[(inbox_key, thread)]))
            return out

        words = parsed.words()
        hits: list[SearchHit] = []
        for inbox_key, thread, raw, text, score, contact in self._read([], run):
            message = Message.from_raw(_loads(raw) or {})
            if message is None:
                continue
            hits.append(SearchHit(
                message=message, inbox_id=inbox_key, target=thread, contact=contact,
                snippet=snippet(text, words, SNIPPET_WIDTH), rank=float(score),
            ))
        return hits

    @staticmethod
    def _fts_hits(conn: sqlite3.Connection, match: str, scope: str, params: list[Any], limit: int, *,
                  thread: bool) -> list[tuple[int, float]]:
        """(pk, bm25) of the best matches, best first then newest.

        Ranking costs about a microsecond a match, so a term in more than RANK_MAX messages
        (one in every message of a big cache) would blow the time budget, and ranking says little
        about so common a term: those get the newest matches instead (rank 0.0), found through
        the date index in a few milliseconds. A thread's search is always ranked (bounded).
        """
        fts = schema.FTS_TABLE
        if not thread:
            (count,) = conn.execute(f"SELECT count(*) FROM {fts} WHERE {fts} MATCH ?", (match,)).fetchone()
            if count > RANK_MAX:
                return conn.execute(
                    f"SELECT m.pk, 0.0 FROM messages m INDEXED BY messages_by_time"
                    f" WHERE m.pk IN (SELECT rowid FROM {fts} WHERE {fts} MATCH ?){scope}"
                    " ORDER BY m.date DESC LIMIT ?",
                    [match, *params, limit],
                ).fetchall()
        weights = ", ".join(str(w) for w in RANK_WEIGHTS)
        return conn.execute(
            f"SELECT m.pk, bm25({fts}, {weights}) AS score FROM {fts} JOIN messages m ON m.pk = {fts}.rowid"
            f" WHERE {fts} MATCH ?{scope} ORDER BY score, m.date DESC LIMIT ?",
            [match, *params, limit],
        ).fetchall()

    def count_matches(self, query: str, *, inbox_id: Id | None = None) -> int:
        """How many cached messages `search` would find with no limit (0 on any problem)."""
        parsed = parse_query(query)
        if parsed.empty:
            return 0
        scope, params = "", []
        if inbox_id is not None:
            inbox = _key(inbox_id)
            if inbox is None:
                return 0
            scope, params = " AND m.inbox_id = ?", [inbox]

        def run(conn: sqlite3.Connection) -> int:
            if self._fts:
                fts = schema.FTS_TABLE
                sql = (f"SELECT count(*) FROM {fts} JOIN messages m ON m.pk = {fts}.rowid"
                       f" WHERE {fts} MATCH ?{scope}")
                return int(conn.execute(sql, [fts_query(parsed) or "", *params]).fetchone()[0])
            where, like_params = like_clause(parsed)
            sql = f"SELECT count(*) FROM messages m WHERE {where}{scope}"
            return int(conn.execute(sql, [*like_params, *params]).fetchone()[0])

        return self._read(0, run)

    def info(self) -> CacheInfo:
        size = 0
        if self.path is not None:
            for suffix in ("", *SIDECARS):
                try:
                    size += self.path.with_name(self.path.name + suffix).stat().st_size
                except OSError:
                    pass

        def query(conn: sqlite3.Connection) -> tuple[int, int, int, int]:
            counts = conn.execute(
                """SELECT (SELECT count(*) FROM inboxes), (SELECT count(*) FROM conversations),
                          (SELECT count(*) FROM messages),
                          (SELECT count(*) FROM (SELECT 1 FROM messages GROUP BY inbox_id, target))"""
            ).fetchone()
            return tuple(counts)  # type: ignore[return-value]

        inboxes, conversations, messages, threads = self._read((0, 0, 0, 0), query)
        return CacheInfo(
            path=self.path, size_bytes=size,
            inboxes=inboxes, conversations=conversations, messages=messages, threads=threads,
        )


    # -- the client's own tables: outbox, drafts, templates (see cache/local_tables.py) --------
    # Kept in the file when it can be written, else in memory (the same interface).

    @property
    def local_tables_durable(self) -> bool:
        """Whether the outbox and drafts survive a quit (False: --no-cache, a read-only cache)."""
        return self._wconn is not None

    def outbox_save(self, entry: OutboxEntry) -> None:
        """Insert or update an outbox row (by `local_id`). Raises CacheError if it cannot be
        written: the caller must not send a message it could not record."""
        if self._wconn is None:
            self._memory.outbox_save(entry)
            return
        row = (entry.local_id, _key(entry.inbox_id), _text(entry.target), entry.kind, _text(entry.text) or "",
               _key(entry.creator_id) if entry.creator_id is not None else None, _text(entry.media_url),
               _key(entry.template_id) if entry.template_id is not None else None, entry.state,
               int(entry.attempts), _text(entry.last_error), int(entry.unclear), float(entry.created))

        def body(conn: sqlite3.Connection) -> None:
            conn.execute(
                """INSERT INTO outbox (local_id, inbox_id, target, kind, text, creator_id, media_url, template_id,
                                       state, attempts, last_error, unclear, created)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (local_id) DO UPDATE SET
                       state = excluded.state, attempts = excluded.attempts, last_error = excluded.last_error,
                       unclear = excluded.unclear, text = excluded.text, creator_id = excluded.creator_id,
                       template_id = excluded.template_id""",
                row,
            )

        self._write(body)

    def outbox_entries(self) -> list[OutboxEntry]:
        """Every unconfirmed message, oldest first."""
        if self._wconn is None:
            return self._memory.outbox_entries()

        def query(conn: sqlite3.Connection) -> list[OutboxEntry]:
            rows = conn.execute(
                """SELECT local_id, inbox_id, target, kind, text, creator_id, created, media_url, template_id,
                          state, attempts, last_error, unclear FROM outbox ORDER BY created, seq"""
            ).fetchall()
            return [_outbox_entry(row) for row in rows]

        return self._read([], query)

    def outbox_entry(self, local_id: str) -> OutboxEntry | None:
        return next((e for e in self.outbox_entries() if e.local_id == local_id), None)

    def outbox_confirm(self, local_id: str, inbox_id: Id, target: str, message: Message | None) -> None:
        """The server confirmed it: the row leaves the outbox in the same transaction that
        records the message in the thread's cache (a crash between the two would either resend
        a sent message or lose it from the thread)."""
        if self._wconn is None:
            self._memory.outbox_confirm(local_id, inbox_id, target, message)
            return

        def body(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM outbox WHERE local_id = ?", (local_id,))
            if message is not None:
                self._batch_depth += 1  # put_messages joins this transaction
                try:
                    self.put_messages(inbox_id, target, [message])
                finally:
                    self._batch_depth -= 1

        self._write(body)

    def outbox_drop(self, local_id: str) -> bool:
        """Discard one unconfirmed message; whether it was there."""
        if self._wconn is None:
            return self._memory.outbox_drop(local_id)
        found: list[bool] = []

        def body(conn: sqlite3.Connection) -> None:
            found.append(conn.execute("DELETE FROM outbox WHERE local_id = ?", (local_id,)).rowcount > 0)

        self._write(body)
        return bool(found and found[0])

    def put_draft(self, inbox_id: Id, target: str, text: str, *, kind: Kind = "reply",
                  template_id: Id | None = None, updated: float | None = None) -> None:
        """Keep a conversation's draft (an empty text deletes it)."""
        if self._wconn is None:
            self._memory.put_draft(inbox_id, target, text, kind=kind, template_id=template_id, updated=updated)
            return
        inbox, thread = _write_key(inbox_id, target)
        if not text:
            self.delete_draft(inbox_id, target)
            return
        row = (inbox, thread, _text(text), kind, _key(template_id) if template_id is not None else None,
               time.time() if updated is None else float(updated))

        def body(conn: sqlite3.Connection) -> None:
            conn.execute(
                """INSERT INTO drafts (inbox_id, target, text, kind, template_id, updated) VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (inbox_id, target) DO UPDATE SET text = excluded.text, kind = excluded.kind,
                       template_id = excluded.template_id, updated = excluded.updated""",
                row,
            )

        self._write(body)

    def delete_draft(self, inbox_id: Id, target: str) -> None:
        if self._wconn is None:
            self._memory.delete_draft(inbox_id, target)
            return
        inbox, thread = _write_key(inbox_id, target)

        def body(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM drafts WHERE inbox_id = ? AND target = ?", (inbox, thread))

        self._write(body)

    def draft(self, inbox_id: Id, target: str) -> Draft | None:
        if self._wconn is None:
            return self._memory.draft(inbox_id, target)
        inbox = _key(inbox_id)
        if inbox is None or not isinstance(target, str):
            return None

        def query(conn: sqlite3.Connection) -> Draft | None:
            row = conn.execute("SELECT inbox_id, target, text, kind, updated, template_id FROM drafts"
                               " WHERE inbox_id = ? AND target = ?", (inbox, _text(target))).fetchone()
            return _draft(row) if row else None

        return self._read(None, query)

    def drafts(self, inbox_id: Id | None = None) -> list[Draft]:
        """The conversations that have a draft (of one inbox, or all), most recently edited first."""
        if self._wconn is None:
            return self._memory.drafts(inbox_id)
        sql = "SELECT inbox_id, target, text, kind, updated, template_id FROM drafts"
        params: list[Any] = []
        if inbox_id is not None:
            sql += " WHERE inbox_id = ?"
            params.append(_key(inbox_id))

        def query(conn: sqlite3.Connection) -> list[Draft]:
            return [_draft(row) for row in conn.execute(sql + " ORDER BY updated DESC", params)]

        return self._read([], query)

    def put_templates(self, templates: Sequence[Template]) -> None:
        """Replace the cached templates (a whole listing, in its order)."""
        if self._wconn is None:
            self._memory.put_templates(list(templates))
            return
        rows = [(_key(t.id), position, _text(t.name), _text(t.text), t.updated.timestamp() if t.updated else None,
                 _dumps(t.raw)) for position, t in enumerate(templates)]

        def body(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM templates")
            conn.executemany("INSERT OR REPLACE INTO templates (id, position, name, text, updated, raw)"
                             " VALUES (?, ?, ?, ?, ?, ?)", rows)

        self._write(body)

    def templates(self) -> list[Template]:
        if self._wconn is None:
            return self._memory.templates()

        def query(conn: sqlite3.Connection) -> list[Template]:
            return _parsed(conn.execute("SELECT raw FROM templates ORDER BY position").fetchall(), Template.from_raw)

        return self._read([], query)

    # -- issue 12: message ids already notified (the `daily` block) -----------------------------
    # Not a numbered migration: a small table made on first use, so it merges with the schema
    # work of others. A cache without it (older, or read-only) has notified nothing yet.

    def notified_ids(self, ids: Sequence[Id]) -> set[Id]:
        """Which of `ids` were notified already, by this process or an earlier one."""
        wanted = [k for k in (_key(i) for i in ids) if k is not None]
        if not wanted:
            return set()

        def query(conn: sqlite3.Connection) -> set[Id]:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                            (NOTIFIED_TABLE,)).fetchone() is None:
                return set()
            found: set[Id] = set()
            for start in range(0, len(wanted), 500):  # SQLite's bound on parameters
                chunk = wanted[start:start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(row[0] for row in conn.execute(
                    f"SELECT id FROM {NOTIFIED_TABLE} WHERE id IN ({marks})", chunk))
            return found

        return self._read(set(), query)

    def mark_notified(self, ids: Sequence[Id], at: float | None = None) -> None:
        """Remember `ids` as notified (kept: the newest NOTIFIED_KEEP). Raises CacheError like
        every write; the caller's own memory still keeps it from notifying twice this run."""
        keys = [k for k in (_key(i) for i in ids) if k is not None]
        if not keys:
            return
        moment = time.time() if at is None else at

        def body(conn: sqlite3.Connection) -> None:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {NOTIFIED_TABLE} (id PRIMARY KEY NOT NULL, at REAL NOT NULL)")
            conn.executemany(f"INSERT OR REPLACE INTO {NOTIFIED_TABLE} (id, at) VALUES (?, ?)",
                             [(k, moment) for k in keys])
            conn.execute(f"DELETE FROM {NOTIFIED_TABLE} WHERE id NOT IN "
                         f"(SELECT id FROM {NOTIFIED_TABLE} ORDER BY at DESC LIMIT ?)", (NOTIFIED_KEEP,))

        self._write(body)

    # -- small preferences (the queue's owner filter per inbox, ...) -------------------------
    # A key-value table created on first write, not a numbered migration: a cache without it
    # reads as "no preference", and a rebuilt cache simply forgets them. NullStore inherits these:
    # with no connection, reads give the default and writes keep nothing.

    def get_pref(self, key: str, default: str | None = None) -> str | None:
        """A stored preference, or `default` (also when the cache is off or has none yet)."""

        def query(conn: sqlite3.Connection) -> str | None:
            exists = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'prefs'"
            ).fetchone()
            if not exists:
                return default
            row = conn.execute("SELECT value FROM prefs WHERE key = ?", (_text(key),)).fetchone()
            return str(row[0]) if row else default

        return self._read(default, query)

    def put_pref(self, key: str, value: str) -> None:
        """Remember a preference (nothing when the cache is off or read-only)."""
        if self._read_only:
            return

        def body(conn: sqlite3.Connection) -> None:
            conn.execute("CREATE TABLE IF NOT EXISTS prefs (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute("INSERT OR REPLACE INTO prefs (key, value) VALUES (?, ?)", (_text(key), _text(value)))

        self._write(body)


def _outbox_entry(row: Sequence[Any]) -> OutboxEntry:
    (local_id, inbox_id, target, kind, text, creator_id, created, media_url, template_id, state, attempts,
     last_error, unclear) = row
    return OutboxEntry(local_id=local_id, inbox_id=inbox_id, target=target,
                       kind="note" if kind == "note" else "reply", text=text or "", creator_id=creator_id,
                       created=float(created or 0.0), media_url=media_url, template_id=template_id,
                       state=state if state in ("queued", "sending", "failed") else "queued",
                       attempts=int(attempts or 0), last_error=last_error, unclear=bool(unclear))


def _draft(row: Sequence[Any]) -> Draft:
    inbox_id, target, text, kind, updated, template_id = row
    return Draft(inbox_id, target, text or "", "note" if kind == "note" else "reply", float(updated or 0.0),
                 template_id)


NOTIFIED_TABLE = "notified"
NOTIFIED_KEEP = 5000  # far more than arrive between two runs; older ids are long out of every refresh


class NullStore(Store):
    """The cache turned off (`--no-cache`, `cache = false`): same API, keeps nothing, touches no
    file. Reads are empty, writes do nothing."""

    def __init__(self) -> None:
        super().__init__(None)


def _limit(limit: int | None) -> int:
    return -1 if limit is None else max(int(limit), 0)


def _parsed(rows: Sequence[tuple[Any, ...]], parse: Callable[[dict[str, Any]], T | None]) -> list[T]:
    return _parsed_texts([raw for (raw,) in rows], parse)


def decode_messages(rows: Sequence[Sequence[Any]]) -> list[Message]:
    """Messages from their rows (raw JSON text, id, ...); each keeps its text (`source`: the spill
    stores it as is) and the dict decoded for it (nothing else holds it: not copied).

    A page is decoded as one JSON array, not a call per row: that costs a cached whole history
    0.4 s of 1 (the per-call overhead, and each row's 19 keys made again where one call shares
    them). A damaged row (not exactly one object) makes the array fail or its length differ; rows
    crafted to pair up could shift objects along, which each object's id, checked against its
    row's, would show: in all these cases the page is decoded row by row."""
    texts = [row[0] for row in rows]
    items = _messages_of(texts, _decoded_array(texts))
    if items is not None and all(item is None or _key(item.id) == row[1] for item, row in zip(items, rows)):
        return [item for item in items if item is not None]
    decoded = _messages_of(texts, [_loads(text) for text in texts]) or []
    return [item for item in decoded if item is not None]


def _decoded_array(texts: list[Any]) -> list[Any] | None:
    if not texts or not all(type(text) is str for text in texts):
        return None
    try:
        values = json.loads("[" + ",".join(texts) + "]")
    except ValueError:
        return None
    return values if len(values) == len(texts) else None


def _messages_of(texts: list[Any], values: list[Any] | None) -> list[Message | None] | None:
    """A message per row (None: not one), or None when there are no values."""
    if values is None:
        return None
    items: list[Message | None] = []
    append = items.append
    for text, value in zip(texts, values):
        item = Message.from_raw(value, owned=True) if type(value) is dict else None
        if item is not None:
            item.source = text
        append(item)
    return items


def _parsed_texts(texts: Sequence[Any], parse: Callable[[dict[str, Any]], T | None]) -> list[T]:
    items: list[T] = []
    append = items.append
    for text in texts:
        data = _loads(text)
        item = parse(data) if data is not None else None
        if item is not None:
            append(item)
    return items

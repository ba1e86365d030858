"""The cache's SQLite schema: numbered migrations, and the full-text index beside them.

`MIGRATIONS[i]` upgrades a file from version i to i + 1; the version is the single row of
`schema_version`. A migration is SQL (several statements allowed) or a callable taking the
connection. All pending migrations run in one transaction, so a crash leaves the old version.

The FTS5 index is not a migration: whether it can exist depends on the SQLite the app runs with,
not on the file. `ensure_fts` creates it (and rebuilds it from `messages`) when FTS5 is available,
and drops its triggers when it is not, so writes keep working and search falls back to LIKE.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

Migration = str | Callable[[sqlite3.Connection], None]

# Ids are ints or strings (see models.Id): their columns have no declared type, so SQLite keeps
# each value's own type and 5 != '5'. Ids are normalised with parse_id before they get here.
_V1 = """
CREATE TABLE inboxes (
    id PRIMARY KEY NOT NULL,
    position INTEGER NOT NULL,
    raw TEXT NOT NULL
);
CREATE TABLE team (
    key INTEGER PRIMARY KEY CHECK (key = 1),
    id,
    name TEXT,
    raw TEXT NOT NULL
);
CREATE TABLE team_members (
    id PRIMARY KEY NOT NULL,
    name TEXT,
    position INTEGER NOT NULL,
    raw TEXT NOT NULL
);
CREATE TABLE conversations (
    id PRIMARY KEY NOT NULL,
    inbox_id,
    target TEXT,
    name TEXT,
    status TEXT,
    closed INTEGER NOT NULL DEFAULT 0,
    unread INTEGER NOT NULL DEFAULT 0,
    updated REAL,
    raw TEXT NOT NULL
);
CREATE INDEX conversations_by_updated ON conversations (inbox_id, updated);
CREATE INDEX conversations_by_status ON conversations (inbox_id, closed, updated);
CREATE INDEX conversations_by_target ON conversations (inbox_id, target);
CREATE TABLE messages (
    pk INTEGER PRIMARY KEY,
    inbox_id NOT NULL,
    target TEXT NOT NULL,
    id NOT NULL,
    date REAL,
    text TEXT,
    author TEXT,
    numbers TEXT,
    raw TEXT NOT NULL,
    UNIQUE (inbox_id, target, id)
);
CREATE INDEX messages_by_date ON messages (inbox_id, target, date, id);
CREATE INDEX messages_by_time ON messages (date);
"""


def _v2_threads(conn: sqlite3.Connection) -> None:
    """Per-thread state: whether the whole history is cached. Every thread already cached gets a
    row (not complete: an older version never knew)."""
    conn.execute(
        """CREATE TABLE threads (
            inbox_id NOT NULL,
            target TEXT NOT NULL,
            complete INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (inbox_id, target)
        )"""
    )
    conn.execute("INSERT OR IGNORE INTO threads (inbox_id, target) SELECT DISTINCT inbox_id, target FROM messages")


# Before outlier-proof paging, one message dated 1970 could end a history early and mark the
# thread complete: such flags are not evidence, so every thread's history is checked again once.
_V3_RECHECK_COMPLETE = "UPDATE threads SET complete = 0"

# What only this client knows (see cache/local_tables.py): messages the server has not confirmed
# (written before their first attempt), drafts per conversation, and the team's templates.
_V4_LOCAL_TABLES = """
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    local_id TEXT NOT NULL UNIQUE,
    inbox_id NOT NULL,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    creator_id,
    media_url TEXT,
    template_id,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    unclear INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
CREATE INDEX outbox_by_created ON outbox (created, seq);
CREATE TABLE drafts (
    inbox_id NOT NULL,
    target TEXT NOT NULL,
    text TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'reply',
    template_id,
    updated REAL NOT NULL,
    PRIMARY KEY (inbox_id, target)
);
CREATE TABLE templates (
    id PRIMARY KEY NOT NULL,
    position INTEGER NOT NULL,
    name TEXT,
    text TEXT,
    updated REAL,
    raw TEXT NOT NULL
);
"""

MIGRATIONS: list[Migration] = [_V1, _v2_threads, _V3_RECHECK_COMPLETE, _V4_LOCAL_TABLES]
SCHEMA_VERSION = len(MIGRATIONS)

# Every table and column the store reads or writes; a file without them is not a usable cache.
EXPECTED_COLUMNS: dict[str, tuple[str, ...]] = {
    "inboxes": ("id", "position", "raw"),
    "team": ("key", "id", "name", "raw"),
    "team_members": ("id", "name", "position", "raw"),
    "conversations": ("id", "inbox_id", "target", "name", "status", "closed", "unread", "updated", "raw"),
    "messages": ("pk", "inbox_id", "target", "id", "date", "text", "author", "numbers", "raw"),
    "threads": ("inbox_id", "target", "complete"),
}
# The client's own tables (version 4). Checked only on a file this hmtui writes: a read-only
# older file is still read for its messages, and these then live in memory.
LOCAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "outbox": ("seq", "local_id", "inbox_id", "target", "kind", "text", "creator_id", "media_url", "template_id",
               "state", "attempts", "last_error", "unclear", "created"),
    "drafts": ("inbox_id", "target", "text", "kind", "template_id", "updated"),
    "templates": ("id", "position", "name", "text", "updated", "raw"),
}


class NewerSchemaError(Exception):
    """The file was written by a newer hmtui (its schema version is above ours)."""

    def __init__(self, version: int) -> None:
        super().__init__(f"cache schema version {version} is newer than this hmtui's ({SCHEMA_VERSION})")
        self.version = version


def split_statements(script: str) -> list[str]:
    """Statements of an SQL script, one by one (executescript would COMMIT our transaction)."""
    statements: list[str] = []
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        statements.append(buffer.strip())
    return statements


def read_version(conn: sqlite3.Connection) -> int | None:
    """The file's schema version; 0 for an empty file; None for a database that is not ours
    (tables but no version)."""
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_version" not in names:
        return 0 if not names else None
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    if row is None or not isinstance(row[0], int):
        return None
    return row[0]


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the file up to len(migrations), in one transaction; returns the version found.

    Raises NewerSchemaError for a newer file, and sqlite3.DatabaseError for one that is not a
    cache (tables without a version). The connection must be in autocommit mode
    (isolation_level=None).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = read_version(conn)
        if found is None:
            raise sqlite3.DatabaseError("not an hmtui cache (tables without a schema version)")
        if found > len(migrations):
            raise NewerSchemaError(found)
        if found == 0:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (0)")
        for migration in migrations[found:]:
            if callable(migration):
                migration(conn)
            else:
                for statement in split_statements(migration):
                    conn.execute(statement)
        if found < len(migrations):
            conn.execute("UPDATE schema_version SET version = ?", (len(migrations),))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return found


# Indexes a query names (INDEXED BY).
EXPECTED_INDEXES = ("messages_by_time",)


def check_columns(conn: sqlite3.Connection, *, local: bool = False) -> None:
    """Raise sqlite3.DatabaseError if a table, column or index the store uses is missing (with
    `local`, the client's own tables too)."""
    for table, columns in {**EXPECTED_COLUMNS, **(LOCAL_COLUMNS if local else {})}.items():
        conn.execute(f"SELECT {', '.join(columns)} FROM {table} LIMIT 0").fetchall()
    indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    missing = [name for name in EXPECTED_INDEXES if name not in indexes]
    if missing:
        raise sqlite3.DatabaseError(f"cache schema lacks index {', '.join(missing)}")


# --- full-text search ---------------------------------------------------------------------------

FTS_TABLE = "messages_fts"
# Emoji (So) and combining marks (M*) count as word characters, so they can be searched for.
FTS_TOKENIZE = "unicode61 remove_diacritics 2 categories 'L* N* Co M* So'"

_FTS_CREATE = f"""
CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(
    text, author, numbers,
    content = 'messages', content_rowid = 'pk',
    tokenize = "{FTS_TOKENIZE}"
)
"""

_FTS_TRIGGERS = {
    "messages_fts_insert": f"""
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO {FTS_TABLE} (rowid, text, author, numbers) VALUES (new.pk, new.text, new.author, new.numbers);
END""",
    "messages_fts_delete": f"""
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, text, author, numbers)
        VALUES ('delete', old.pk, old.text, old.author, old.numbers);
END""",
    "messages_fts_update": f"""
CREATE TRIGGER messages_fts_update AFTER UPDATE ON messages
WHEN old.text IS NOT new.text OR old.author IS NOT new.author OR old.numbers IS NOT new.numbers
    OR old.pk IS NOT new.pk
BEGIN
    INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, text, author, numbers)
        VALUES ('delete', old.pk, old.text, old.author, old.numbers);
    INSERT INTO {FTS_TABLE} (rowid, text, author, numbers) VALUES (new.pk, new.text, new.author, new.numbers);
END""",
}

_fts5_available: bool | None = None


def fts5_available() -> bool:
    """Whether this Python's SQLite has FTS5 (checked once, in memory)."""
    global _fts5_available
    if _fts5_available is None:
        try:
            probe = sqlite3.connect(":memory:")
            try:
                probe.execute(f"CREATE VIRTUAL TABLE probe USING fts5(a, tokenize = \"{FTS_TOKENIZE}\")")
                _fts5_available = True
            finally:
                probe.close()
        except sqlite3.Error:
            _fts5_available = False
    return _fts5_available


def ensure_fts(conn: sqlite3.Connection, available: bool) -> bool:
    """Make the FTS index match what this SQLite can do; returns whether FTS search is usable.

    With FTS5: create the table and triggers if missing, and rebuild the index whenever the
    triggers were missing (a file from a SQLite without FTS5 got messages it never indexed).
    Without: drop the triggers (they would make every message write fail).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        rows = conn.execute(
            "SELECT type, name FROM sqlite_master WHERE name = ? OR (type = 'trigger' AND tbl_name = 'messages')",
            (FTS_TABLE,),
        ).fetchall()
        triggers = {name for kind, name in rows if kind == "trigger"}
        has_table = any(kind == "table" and name == FTS_TABLE for kind, name in rows)
        if available:
            if not has_table:
                conn.execute(_FTS_CREATE)
            missing = [name for name in _FTS_TRIGGERS if name not in triggers]
            for name in missing:
                conn.execute(_FTS_TRIGGERS[name])
            if missing or not has_table:
                conn.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')")
        else:
            for name in triggers & _FTS_TRIGGERS.keys():
                conn.execute(f"DROP TRIGGER {name}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return available

"""The service's durable store: one SQLite file (WAL) with leads, accounts, events, scores and more.

Why SQLite and not DuckDB: the service's work is many small transactions (one event in, one lead
rescored, one outbox row), which SQLite's row store and write-ahead log do in a fraction of a
millisecond; DuckDB is kept for what it is best at, the batch rescore (see
``docs/decisions/0005-serve-store-sqlite.md``). Everything is in one file, so a copy of it is a backup.

Tables
------
``leads``/``accounts``: one JSON row per key (typed values as sent); ``events``: one row per event
id (the primary key makes ingest idempotent); ``scores``: the latest score of each lead under each
model version; ``score_history``: every change of a lead's score; ``models``/``model_history``:
served versions; ``feedback``; ``webhooks``/``outbox``; ``api_keys`` (hashed). Keys are kept as
canonical text (``str(value)``), so ``42`` and ``"42"`` name the same lead.

Durability: each call that changes data is one transaction. ``synchronous=NORMAL`` (the default)
survives the process being killed at any moment; ``full`` also survives a power cut, at the cost
of an fsync per commit.

Backends: the functions here take a ``Connection`` (the protocol below). The default is SQLite: a
``sqlite3.Connection`` subclass that only adds ``dialect`` and ``begin_write``, so every
``execute`` is sqlite3's own C method with no wrapper in between (this path is the one that must
stay fast). A ``postgresql://`` store URL selects ``server/postgres.py`` instead (needs the
``postgres`` extra): it translates the ``?`` placeholders once per statement text and serializes
writers with an advisory lock, like SQLite's ``BEGIN IMMEDIATE``
(``docs/decisions/0010-postgres-store.md``). SQL is written once, in the subset both understand;
the few places that differ test ``con.dialect``.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, Protocol
from urllib.parse import urlsplit, urlunsplit

from leadscore.errors import BackendError, DataError, Issue

EPOCH = datetime(1970, 1, 1)
_ONE_US = timedelta(microseconds=1)
Synchronous = Literal["normal", "full"]
Dialect = Literal["sqlite", "postgres"]
StoreTarget = Path | str
"""Where a store is: a SQLite file (a ``Path``) or a ``postgresql://`` URL (a ``str``)."""
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class Cursor(Protocol):
    """What callers use of a query's result: ``sqlite3.Cursor`` and psycopg's cursor both fit."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ..., /) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A store connection in autocommit mode; ``transaction(con)`` groups writes.

    SQL uses ``?`` placeholders. ``dialect`` names the backend for the few statements that differ."""

    @property
    def dialect(self) -> Dialect: ...

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...

    def begin_write(self) -> None: ...

    def close(self) -> None: ...


class PostgresError(Exception):
    """A psycopg error, re-raised by the Postgres connection so that catch sites need no psycopg import."""


class PostgresValueError(PostgresError):
    """A value Postgres cannot hold (a NUL character in text, say): the request's fault, not the store's."""


StoreError: tuple[type[Exception], ...] = (sqlite3.Error, PostgresError)
"""What a failing store raises, whichever the backend: for ``except store.StoreError``."""


class SqliteConnection(sqlite3.Connection):
    """sqlite3's connection with the members of ``Connection`` it lacks (``execute`` is untouched), and
    its own handle on the store's writer lock file.

    Why a lock file beside SQLite's own lock: a writer that finds the store locked waits in SQLite's
    busy handler, which sleeps 1, 2, 5, 10... ms between tries. With several worker processes each
    writing every millisecond that sleeping was most of the time. ``flock`` on a handle of one's own
    queues the writers in the kernel and wakes the next one as soon as the lock is free, across
    threads and processes alike."""

    dialect: Dialect = "sqlite"
    writer_lock: int = -1

    def close(self) -> None:
        super().close()
        if self.writer_lock >= 0:
            os.close(self.writer_lock)
            self.writer_lock = -1

    def begin_write(self) -> None:
        """Take the write lock now (not at the first write): one writer at a time, no upgrade deadlock."""
        self.execute("BEGIN IMMEDIATE")

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leads (
    lead_id TEXT PRIMARY KEY, account_id TEXT, email_norm TEXT, row TEXT NOT NULL, updated_us INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS leads_by_account ON leads (account_id);
CREATE INDEX IF NOT EXISTS leads_by_email ON leads (email_norm);
CREATE TABLE IF NOT EXISTS accounts (account_id TEXT PRIMARY KEY, row TEXT NOT NULL, updated_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT NOT NULL, lead_id TEXT NOT NULL, ts_us INTEGER NOT NULL, type TEXT NOT NULL,
    props TEXT, key_int INTEGER NOT NULL DEFAULT 0, received_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS scores (
    model_version TEXT NOT NULL, lead_id TEXT NOT NULL, total REAL NOT NULL, grade TEXT, stage TEXT,
    stage_rank INTEGER NOT NULL, next_action TEXT, scored_us INTEGER NOT NULL,
    PRIMARY KEY (model_version, lead_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS scores_queue ON scores (model_version, stage_rank, total DESC);
CREATE TABLE IF NOT EXISTS score_history (
    id INTEGER PRIMARY KEY, lead_id TEXT NOT NULL, at_us INTEGER NOT NULL, model_version TEXT NOT NULL,
    total REAL NOT NULL, grade TEXT, stage TEXT, cause TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS history_by_lead ON score_history (lead_id, id);
CREATE TABLE IF NOT EXISTS models (
    version TEXT PRIMARY KEY, name TEXT NOT NULL, source TEXT, text TEXT NOT NULL,
    status TEXT NOT NULL, loaded_us INTEGER NOT NULL, activated_us INTEGER, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS model_history (
    id INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, action TEXT NOT NULL, version TEXT NOT NULL,
    detail TEXT);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, lead_id TEXT NOT NULL, decision TEXT NOT NULL, reason TEXT,
    decided_at TEXT NOT NULL, rep TEXT, model_version TEXT, total REAL, stage TEXT, note TEXT);
CREATE INDEX IF NOT EXISTS feedback_by_lead ON feedback (lead_id);
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, stages TEXT, created_us INTEGER NOT NULL, active INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    delivery_id TEXT PRIMARY KEY, webhook_id TEXT NOT NULL, url TEXT NOT NULL, payload TEXT NOT NULL,
    created_us INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_us INTEGER NOT NULL,
    status TEXT NOT NULL, last_error TEXT, delivered_us INTEGER);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_us);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY, scope TEXT NOT NULL, salt BLOB NOT NULL, hash BLOB NOT NULL,
    label TEXT, created_us INTEGER NOT NULL, revoked_us INTEGER);
"""
EVENT_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS events_id ON events (event_id);
CREATE INDEX IF NOT EXISTS events_by_lead ON events (lead_id);
"""
"""Dropped while a bulk load fills an empty events table, then rebuilt by sorting (much faster)."""


def to_us(moment: datetime) -> int:
    """Epoch microseconds of a naive-UTC (or aware) datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return (moment - EPOCH) // _ONE_US


def from_us(us: int) -> datetime:
    """Naive-UTC datetime of epoch microseconds (what the evaluator expects)."""
    return EPOCH + _ONE_US * us  # a product, not timedelta(microseconds=...): half the time, per event


def iso_utc(us: int) -> str:
    """ISO 8601 text with a 'Z'-equivalent offset, for responses."""
    return from_us(us).replace(tzinfo=UTC).isoformat()


def canonical_id(value: object) -> str:
    return str(value)


def email_key(value: object) -> str | None:
    """The email bucket used to find duplicates: trimmed of spaces and lowered, as the batch does."""
    return None if value is None else str(value).strip(" ").lower()


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


class Conflict(DataError):
    """A write that contradicts what is stored (an event id reused for another event): HTTP 409."""


class StoredEvent(NamedTuple):
    """One stored event (a tuple: made for every event of a lead at each rescore)."""

    event_id: str
    lead_id: str
    ts_us: int
    type: str
    props: Mapping[str, Any]
    key_int: bool

    @property
    def key(self) -> int | str:
        return int(self.event_id) if self.key_int else self.event_id


@dataclass(frozen=True)
class StoredLead:
    lead_id: str
    account_id: str | None
    email_norm: str | None
    row: dict[str, Any]


def is_postgres(target: StoreTarget) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URL, which selects the Postgres store."""
    return isinstance(target, str) and target.lower().startswith(POSTGRES_SCHEMES)


def locate(target: StoreTarget) -> StoreTarget:
    """A store URL stays text; anything else is a file path (``Path("a://b")`` would eat a slash)."""
    return target if is_postgres(target) else Path(target)


def redact(target: StoreTarget) -> str:
    """The store as it may be printed or logged: a URL's password is replaced by ``***``."""
    text = str(target)
    if not is_postgres(target):
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def connect(target: StoreTarget, *, synchronous: Synchronous = "normal") -> Connection:
    """Open (and create) the store: a SQLite file, or the Postgres database of a ``postgresql://`` URL.

    Raise BackendError naming the store (password redacted) when it cannot be opened."""
    target = locate(target)
    if isinstance(target, str):
        from leadscore.server import postgres

        return postgres.connect(target, synchronous=synchronous)
    return connect_sqlite(target, synchronous=synchronous)


def connect_sqlite(path: Path, *, synchronous: Synchronous = "normal") -> SqliteConnection:
    """Open (and create) the SQLite store; raise BackendError naming the file if SQLite cannot."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30.0,
                              factory=SqliteConnection)
        con.writer_lock = os.open(f"{path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
        con.execute("PRAGMA journal_mode = WAL")
        con.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'full' else 'NORMAL'}")
        con.execute("PRAGMA busy_timeout = 30000")
        con.execute("PRAGMA cache_size = -65536")  # 64 MiB of pages: a lead's rows stay close at hand
        # Under steady full load the log cannot restart (some worker always reads an older snapshot)
        # and grows, 60 MB/s at 2,500 events/s; once a lull lets a checkpoint catch up it restarts,
        # and this cuts the file back to 64 MiB instead of leaving it at its largest.
        con.execute("PRAGMA journal_size_limit = 67108864")
        # No memory-mapped reads: with another connection committing (a second worker, the leader's
        # checkpoints) every read transaction paid for the mapping again: 48 -> 67 us per lead read
        # against 48 -> 50 us with plain reads; unshared, mapping gained nothing (48.7 vs 48.0 us).
        # At 1M leads, 2 workers, 16 connections: 2,018 -> 2,251 events/s.
        con.execute("PRAGMA mmap_size = 0")
        con.executescript(_TABLES + EVENT_INDEXES)
    except (sqlite3.Error, OSError) as exc:
        raise BackendError(f"cannot open the store {str(path)!r}: {exc}",
                           [Issue("store unavailable", file=str(path),
                                  hint="check the path and that no other program holds the file")]) from None
    return con


@contextlib.contextmanager
def transaction(con: Connection) -> Iterator[Connection]:
    """One write transaction (SQLite: BEGIN IMMEDIATE; Postgres: BEGIN + advisory lock); rolled back on
    any error. Writers wait for each other, so read-modify-write inside (meta, scores) is safe.

    SQLite writers queue on the store's lock file first (see ``SqliteConnection``)."""
    lock = getattr(con, "writer_lock", -1)
    if lock >= 0:
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        con.begin_write()
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        if lock >= 0:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def snapshot(con: Connection) -> Iterator[Connection]:
    """One read transaction: every read inside sees the store as of its first read (Postgres:
    REPEATABLE READ, whose snapshot is taken at the first statement, as SQLite's read transaction)."""
    con.execute("BEGIN" if con.dialect == "sqlite" else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield con
    finally:
        con.execute("COMMIT")


def others_commits(con: Connection) -> int | None:
    """A number that changes whenever another connection (any process) commits to the store: SQLite's
    ``PRAGMA data_version``, read inside a transaction it names that transaction's view. Postgres has no
    such counter: None, and callers check what they need row by row."""
    if con.dialect != "sqlite":
        return None
    return int(con.execute("PRAGMA data_version").fetchone()[0])


MODELS_CHANGED = "models_changed"
"""Meta key counting model-status changes, so every worker process notices a switch."""


def models_changed(con: Connection) -> None:
    """Count a model-status change (inside the transaction that makes it)."""
    set_meta(con, MODELS_CHANGED, str(int(get_meta(con, MODELS_CHANGED) or 0) + 1))


def get_meta(con: Connection, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(con: Connection, key: str, value: str) -> None:
    con.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value))


def known_columns(con: Connection) -> dict[str, list[str]]:
    """Columns seen so far: ``leads``, ``accounts`` (row keys) and ``events`` (property names)."""
    text = get_meta(con, "columns")
    return {str(k): list(v) for k, v in json.loads(text).items()} if text else {}


def add_columns(con: Connection, table: str, names: Sequence[str]) -> bool:
    """Record new column names of ``table``; True when something was new (call inside a transaction)."""
    known = known_columns(con)
    have = known.setdefault(table, [])
    new = [name for name in names if name not in have]
    if not new:
        return False
    have.extend(new)
    set_meta(con, "columns", dumps(known))
    return True


# -- leads and accounts ------------------------------------------------------------------------


def upsert_lead(con: Connection, lead_id: str, account_id: str | None, email_norm: str | None,
                row: dict[str, Any], now_us: int) -> StoredLead | None:
    """Insert or replace a lead; return the previous version (None when new)."""
    previous = get_lead(con, lead_id)
    con.execute("INSERT INTO leads VALUES (?, ?, ?, ?, ?) ON CONFLICT (lead_id) DO UPDATE SET "
                "account_id = excluded.account_id, email_norm = excluded.email_norm, row = excluded.row, "
                f"updated_us = {_later('leads')}", (lead_id, account_id, email_norm, dumps(row), now_us))
    return previous


def get_lead(con: Connection, lead_id: str) -> StoredLead | None:
    found = con.execute("SELECT lead_id, account_id, email_norm, row FROM leads WHERE lead_id = ?",
                        (lead_id,)).fetchone()
    if found is None:
        return None
    return StoredLead(found[0], found[1], found[2], json.loads(found[3]))


def lead_fingerprint(con: Connection, lead: StoredLead) -> tuple[object, ...]:
    """What a lead's score is computed from, in brief: its row's and its account's last change (their
    ``updated_us`` grows on every write, see ``_later``), its events and its e-mail group (count,
    changes). Equal fingerprints at two moments mean a score computed at the first is still the score
    at the second.

    Events are only ever inserted, never deleted. On SQLite each new row takes a rowid above every
    existing one, so the lead's largest rowid alone names its set of events: one seek at the end of
    its range of ``events_by_lead`` (5 us), where counting the range took 56 us for a lead with 500
    events. On Postgres (no rowid) the count and the newest ``received_us`` name it."""
    sql = _FINGERPRINT_SQLITE if con.dialect == "sqlite" else _FINGERPRINT_POSTGRES
    row = con.execute(sql, (lead.lead_id, lead.account_id, lead.lead_id, lead.email_norm)).fetchone()
    return tuple(row)


_FINGERPRINT = (
    "SELECT (SELECT updated_us FROM leads WHERE lead_id = ?), "
    "(SELECT updated_us FROM accounts WHERE account_id = ?), "
    "(SELECT {events} FROM events WHERE lead_id = ?), "
    "(SELECT count(*) || ':' || coalesce(max(updated_us), 0) || ':' || coalesce(sum(updated_us), 0) "
    " FROM leads WHERE email_norm = ?)")
_FINGERPRINT_SQLITE = _FINGERPRINT.format(events="coalesce(max(rowid), 0)")
_FINGERPRINT_POSTGRES = _FINGERPRINT.format(events="count(*) || ':' || coalesce(max(received_us), 0)")


def lead_exists(con: Connection, lead_id: str) -> bool:
    return con.execute("SELECT 1 FROM leads WHERE lead_id = ?", (lead_id,)).fetchone() is not None


def leads_with_email(con: Connection, email_norm: str) -> list[StoredLead]:
    rows = con.execute("SELECT lead_id, account_id, email_norm, row FROM leads WHERE email_norm = ?",
                       (email_norm,)).fetchall()
    return [StoredLead(r[0], r[1], r[2], json.loads(r[3])) for r in rows]


def leads_of_account(con: Connection, account_id: str, *, limit: int) -> list[StoredLead]:
    rows = con.execute("SELECT lead_id, account_id, email_norm, row FROM leads WHERE account_id = ? "
                       "ORDER BY lead_id LIMIT ?", (account_id, limit)).fetchall()
    return [StoredLead(r[0], r[1], r[2], json.loads(r[3])) for r in rows]


def upsert_account(con: Connection, account_id: str, row: dict[str, Any], now_us: int) -> None:
    con.execute("INSERT INTO accounts VALUES (?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET "
                f"row = excluded.row, updated_us = {_later('accounts')}", (account_id, dumps(row), now_us))


def _later(table: str) -> str:
    """The new ``updated_us`` of a replaced row: the clock's, or one more than the old one if the clock has
    not moved past it (a frozen clock, two writes in one microsecond). It must change on every write:
    ``lead_fingerprint`` tells a changed row by it."""
    return (f"CASE WHEN excluded.updated_us > {table}.updated_us THEN excluded.updated_us "
            f"ELSE {table}.updated_us + 1 END")


def get_account(con: Connection, account_id: str | None) -> dict[str, Any] | None:
    if account_id is None:
        return None
    found = con.execute("SELECT row FROM accounts WHERE account_id = ?", (account_id,)).fetchone()
    return None if found is None else dict(json.loads(found[0]))


def all_lead_ids(con: Connection) -> list[str]:
    return [str(r[0]) for r in con.execute("SELECT lead_id FROM leads ORDER BY lead_id").fetchall()]


# -- events -------------------------------------------------------------------------------------


def insert_event(con: Connection, event: StoredEvent, now_us: int) -> Literal["stored", "duplicate"]:
    """Store an event once: the same id again with the same content is a duplicate (changes nothing);
    with other content it is a DataError (409), so a reused id never silently replaces an event."""
    cursor = con.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
                         (event.event_id, event.lead_id, event.ts_us, event.type,
                          dumps(event.props) if event.props else None, int(event.key_int), now_us))
    if cursor.rowcount == 1:
        return "stored"
    row = con.execute("SELECT lead_id, ts_us, type, props FROM events WHERE event_id = ?",
                      (event.event_id,)).fetchone()
    stored_props = {k: v for k, v in json.loads(row[3]).items() if v is not None} if row[3] else {}
    new_props = {k: v for k, v in event.props.items() if v is not None}
    if (row[0], row[1], row[2], stored_props) == (event.lead_id, event.ts_us, event.type, new_props):
        return "duplicate"
    raise Conflict(f"event id {event.event_id!r} was already used for a different event",
                    [Issue("event id reused with other content", path=f"event_id={event.event_id}",
                           hint="event ids must be unique; resend an event only with identical content")])


def events_of_lead(con: Connection, lead_id: str) -> list[StoredEvent]:
    rows = con.execute("SELECT event_id, lead_id, ts_us, type, props, key_int FROM events WHERE lead_id = ?",
                       (lead_id,)).fetchall()
    return [StoredEvent(r[0], r[1], r[2], r[3], _props(r[4]), bool(r[5])) for r in rows]


@functools.lru_cache(maxsize=65_536)
def _props(text: str | None) -> Mapping[str, Any]:
    """Event properties decoded once per distinct text, read-only: a lead is rescored from all its
    events for each new one, and most events share a few property sets (the same page, the same asset)."""
    return MappingProxyType(json.loads(text)) if text else _NO_PROPS


_NO_PROPS: Mapping[str, Any] = MappingProxyType({})


def event_count(con: Connection) -> int:
    row = con.execute("SELECT count(*) FROM events").fetchone()
    return int(row[0])


# -- scores and history -------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreRow:
    lead_id: str
    total: float
    grade: str | None
    stage: str | None
    next_action: str | None


def get_score(con: Connection, version: str, lead_id: str) -> ScoreRow | None:
    row = con.execute("SELECT lead_id, total, grade, stage, next_action FROM scores "
                      "WHERE model_version = ? AND lead_id = ?", (version, lead_id)).fetchone()
    return None if row is None else ScoreRow(*row)


def put_score(con: Connection, version: str, score: ScoreRow, stage_rank: int, now_us: int) -> None:
    con.execute("INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model_version, lead_id) DO "
                "UPDATE SET total = excluded.total, grade = excluded.grade, stage = excluded.stage, "
                "stage_rank = excluded.stage_rank, next_action = excluded.next_action, "
                "scored_us = excluded.scored_us",
                (version, score.lead_id, score.total, score.grade, score.stage, stage_rank, score.next_action,
                 now_us))


def add_history(con: Connection, version: str, score: ScoreRow, now_us: int, cause: str) -> None:
    con.execute("INSERT INTO score_history (lead_id, at_us, model_version, total, grade, stage, cause) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (score.lead_id, now_us, version, score.total, score.grade, score.stage, cause))


def history_of(con: Connection, lead_id: str, *, limit: int) -> list[dict[str, Any]]:
    rows = con.execute("SELECT at_us, model_version, total, grade, stage, cause FROM score_history "
                       "WHERE lead_id = ? ORDER BY id DESC LIMIT ?", (lead_id, limit)).fetchall()
    return [{"at": iso_utc(r[0]), "model_version": r[1], "total": r[2], "grade": r[3], "stage": r[4],
             "cause": r[5]} for r in rows]


def queue_candidates(con: Connection, version: str, max_rank: int, *, offset: int, limit: int
                     ) -> list[str]:
    rows = con.execute("SELECT lead_id FROM scores WHERE model_version = ? AND stage_rank < ? "
                       "ORDER BY stage_rank, total DESC, lead_id LIMIT ? OFFSET ?",
                       (version, max_rank, limit, offset)).fetchall()
    return [str(r[0]) for r in rows]


# -- feedback -------------------------------------------------------------------------------------


def add_feedback(con: Connection, lead_id: str, decision: str, reason: str | None, decided_at: str,
                 rep: str | None, score: ScoreRow | None, version: str, note: str | None = None) -> int:
    returning = " RETURNING id" if con.dialect == "postgres" else ""
    cursor = con.execute("INSERT INTO feedback (lead_id, decision, reason, decided_at, rep, model_version, "
                         "total, stage, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)" + returning,
                         (lead_id, decision, reason, decided_at, rep, version,
                          score.total if score else None, score.stage if score else None, note))
    if con.dialect == "postgres":  # no lastrowid there: the id comes back from RETURNING
        return int(cursor.fetchone()[0])
    return int(getattr(cursor, "lastrowid", 0) or 0)


def feedback_of(con: Connection, lead_id: str) -> list[dict[str, Any]]:
    rows = con.execute("SELECT decision, reason, decided_at, rep, note FROM feedback WHERE lead_id = ? ORDER BY id",
                       (lead_id,)).fetchall()
    return [{"decision": r[0], "reason": r[1], "decided_at": r[2], "rep": r[3], "note": r[4]} for r in rows]


def decided_leads(con: Connection, lead_ids: Sequence[str]) -> set[str]:
    """Leads among ``lead_ids`` that sales already accepted or rejected (they leave the queue)."""
    if not lead_ids:
        return set()
    marks = ",".join("?" * len(lead_ids))
    rows = con.execute(f"SELECT DISTINCT lead_id FROM feedback WHERE lead_id IN ({marks})", list(lead_ids))
    return {str(r[0]) for r in rows.fetchall()}


def export_feedback(con: Connection, out: Path) -> int:
    """Write the feedback table as Parquet; return the row count.

    The columns are those ``leadscore feedback import`` reads (lead_id, decision, reason,
    decided_at, rep), plus the score the lead had when sales decided."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = con.execute("SELECT lead_id, decision, reason, decided_at, rep, model_version, total, stage, note "
                       "FROM feedback ORDER BY id").fetchall()
    schema = pa.schema([("lead_id", pa.string()), ("decision", pa.string()), ("reason", pa.string()),
                        ("decided_at", pa.timestamp("us", tz="UTC")), ("rep", pa.string()),
                        ("model_version", pa.string()), ("total", pa.float64()), ("stage", pa.string()),
                        ("note", pa.string())])
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
    decided = [datetime.fromisoformat(text) for text in columns[3]]
    arrays = [list(columns[0]), list(columns[1]), list(columns[2]), decided, *map(list, columns[4:])]
    table = pa.Table.from_arrays([pa.array(a, type=f.type) for a, f in zip(arrays, schema, strict=True)],
                                 schema=schema)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out)
    return len(rows)

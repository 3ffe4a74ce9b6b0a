"""Fill a store from a data folder (``leads``, ``events``, ``accounts`` as Parquet) in bulk.

A million leads must load in well under a minute: DuckDB reads the Parquet files and builds each
row's JSON text column-wise; SQLite takes the rows with ``executemany`` in large transactions,
Postgres with ``COPY ... FROM STDIN`` (through a temporary table where rows may already exist); the
leads' first scores come from one batch run (``api.serving.batch_lead_scores``, the same numbers
the service computes one lead at a time). Events at or after ``now`` are not loaded: the service
would refuse them as future events, and a batch as of ``now`` does not count them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.api.serving import ServingModel, batch_lead_scores
from leadscore.backends.inputs import INTEGER_TYPES
from leadscore.errors import DataError, Issue
from leadscore.server import store
from leadscore.server.service import stage_rank
from leadscore.server.store import Connection, to_us

if TYPE_CHECKING:
    from leadscore.server.postgres import PostgresConnection

CHUNK_ROWS = 200_000


def _parquet(folder: Path, name: str, *, required: bool) -> Path | None:
    for candidate in (folder / f"{name}.parquet", folder / name):
        if candidate.is_file() or (candidate.is_dir() and any(candidate.glob("*.parquet"))):
            return candidate if candidate.is_file() else candidate / "*.parquet"
    if required:
        raise DataError(f"{folder} has no {name}.parquet",
                        [Issue(f"missing {name}.parquet", file=str(folder),
                               hint="give a folder written by 'leadscore demo' or gen.py (Parquet)")])
    return None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _chunks(cursor: Any) -> Iterator[list[tuple[Any, ...]]]:
    while True:
        rows = cursor.fetchmany(CHUNK_ROWS)
        if not rows:
            return
        yield rows


def load_folder(con: Connection, folder: Path, model: ServingModel, *, now: datetime) -> dict[str, int]:
    """Load leads, accounts and events of ``folder`` into the store and score every lead as of ``now``."""
    import duckdb

    plan = model.plan
    leads = _parquet(folder, "leads", required=True)
    events = _parquet(folder, "events", required=True)
    accounts = _parquet(folder, "accounts", required=False)
    duck = duckdb.connect()
    counts: dict[str, int] = {}
    if con.dialect == "sqlite":
        con.execute("PRAGMA cache_size = -262144")  # 256 MiB of page cache while loading
    try:
        duck.execute("SET TimeZone = 'UTC'")
        now_us = to_us(now)
        source = f"read_parquet('{str(leads).replace(chr(39), chr(39) * 2)}')"
        columns = {r[0] for r in duck.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        account = (f"CAST({_q(plan.lead_account)} AS VARCHAR)"
                   if plan.lead_account is not None and plan.lead_account in columns else "NULL")
        email_col = plan.lead_email or "email"
        email = f"lower(trim(CAST({_q(email_col)} AS VARCHAR)))" if email_col in columns else "NULL"
        cursor = duck.execute(f"SELECT CAST({_q(plan.lead_key)} AS VARCHAR), {account}, {email}, to_json(t), "
                              f"{now_us} FROM {source} t WHERE {_q(plan.lead_key)} IS NOT NULL")
        counts["leads"] = _fill(con, "leads", cursor, ignore_existing=True)
        with store.transaction(con):
            store.add_columns(con, "leads", sorted(columns))
        if accounts is not None:
            source = f"read_parquet('{str(accounts).replace(chr(39), chr(39) * 2)}')"
            with store.transaction(con):
                store.add_columns(con, "accounts", [str(r[0]) for r in duck.execute(
                    f"DESCRIBE SELECT * FROM {source}").fetchall()])
            cursor = duck.execute(f"SELECT CAST({_q(plan.account_key)} AS VARCHAR), to_json(t), {now_us} "
                                  f"FROM {source} t WHERE {_q(plan.account_key)} IS NOT NULL")
            counts["accounts"] = _fill(con, "accounts", cursor, ignore_existing=True)
        source = f"read_parquet('{str(events).replace(chr(39), chr(39) * 2)}')"
        described = duck.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        types = {r[0]: str(r[1]) for r in described}
        fixed = (plan.event_key, plan.event_lead, plan.event_time, plan.event_type)
        props = [name for name in types if name not in fixed]
        props_sql = (f"to_json(struct_pack({', '.join(f'{_q(p)} := {_q(p)}' for p in props)}))"
                     if props else "NULL")
        key_int = int(types.get(plan.event_key, "").upper() in INTEGER_TYPES)
        with store.transaction(con):
            store.add_columns(con, "events", props)
        ts = f"CAST({_q(plan.event_time)} AS TIMESTAMP)"
        empty = store.event_count(con) == 0
        # One row per event id (the first by time), grouped by lead so a lead's events sit together.
        cursor = duck.execute(
            f"SELECT CAST({_q(plan.event_key)} AS VARCHAR), CAST({_q(plan.event_lead)} AS VARCHAR), "
            f"epoch_us({ts}), CAST({_q(plan.event_type)} AS VARCHAR), {props_sql}, {key_int}, {now_us} "
            f"FROM {source} WHERE {_q(plan.event_key)} IS NOT NULL AND {_q(plan.event_lead)} IS NOT NULL "
            f"AND {ts} IS NOT NULL AND {_q(plan.event_type)} IS NOT NULL AND {ts} < make_timestamp({now_us}) "
            f"QUALIFY row_number() OVER (PARTITION BY {_q(plan.event_key)} ORDER BY {ts}) = 1 "
            f"ORDER BY {_q(plan.event_lead)}")
        if empty:  # fill without indexes, then build them by sorting: several times faster
            con.execute("DROP INDEX IF EXISTS events_id")
            con.execute("DROP INDEX IF EXISTS events_by_lead")
            try:
                counts["events"] = _fill(con, "events", cursor, ignore_existing=False)
            finally:
                _script(con, store.EVENT_INDEXES)
        else:
            counts["events"] = _fill(con, "events", cursor, ignore_existing=True)
    except duckdb.Error as exc:
        raise DataError(f"cannot load {folder}: {str(exc).splitlines()[0]}",
                        [Issue("unreadable data folder", file=str(folder),
                               hint="check the Parquet files against the model's data mapping")]) from None
    finally:
        duck.close()
    rows = batch_lead_scores(model, folder, as_of=now)
    if con.dialect == "postgres":
        _postgres_scores(con, model, rows, now_us)
        counts["scores"] = len(rows)
        return counts
    with store.transaction(con):
        con.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        ((model.version, str(r[0]), r[1], r[2], r[3], stage_rank(model, r[3]), r[4], now_us)
                         for r in rows))
        con.executemany("INSERT INTO score_history (lead_id, at_us, model_version, total, grade, stage, cause) "
                        "VALUES (?, ?, ?, ?, ?, ?, 'loaded')",
                        ((str(r[0]), now_us, model.version, r[1], r[2], r[3]) for r in rows))
    counts["scores"] = len(rows)
    return counts


COLUMNS = {"leads": ("lead_id", "account_id", "email_norm", "row", "updated_us"),
           "accounts": ("account_id", "row", "updated_us"),
           "events": ("event_id", "lead_id", "ts_us", "type", "props", "key_int", "received_us")}
"""The columns of the loaded tables, in the order the DuckDB queries above produce them."""
KEYS = {"leads": "lead_id", "accounts": "account_id", "events": "event_id"}


def _fill(con: Connection, table: str, cursor: Any, *, ignore_existing: bool) -> int:
    """Insert the rows of a DuckDB cursor into ``table``; with ``ignore_existing`` a key already
    stored (or repeated) keeps its first row, as ``INSERT OR IGNORE`` does."""
    if con.dialect == "postgres":
        return _copy(_postgres(con), table, cursor, ignore_existing=ignore_existing)
    marks = ", ".join("?" * len(COLUMNS[table]))
    return _insert(con, f"INSERT {'OR IGNORE ' if ignore_existing else ''}INTO {table} VALUES ({marks})", cursor)


def _postgres(con: Connection) -> PostgresConnection:
    from leadscore.server.postgres import PostgresConnection

    assert isinstance(con, PostgresConnection)
    return con


def _script(con: Connection, script: str) -> None:
    """Several DDL statements (the event indexes), on either backend."""
    if con.dialect == "postgres":
        _postgres(con).executescript(script)
    else:
        assert isinstance(con, sqlite3.Connection)
        con.executescript(script)


def _copy(con: PostgresConnection, table: str, cursor: Any, *, ignore_existing: bool) -> int:
    """COPY each chunk in one transaction: straight into ``table``, or, when rows may exist already,
    into a temporary copy of it and from there with ``ON CONFLICT DO NOTHING`` (COPY cannot skip)."""
    columns = COLUMNS[table]
    total = 0
    for rows in _chunks(cursor):
        with store.transaction(con):
            if not ignore_existing:
                con.copy_rows(table, columns, rows)
            else:
                con.execute(f"CREATE TEMP TABLE staging (LIKE {table}) ON COMMIT DROP")
                con.copy_rows("staging", columns, rows)
                con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM staging "
                            f"ON CONFLICT ({KEYS[table]}) DO NOTHING")
        total += len(rows)
    return total


def _postgres_scores(con: Connection, model: ServingModel, rows: list[Any], now_us: int) -> None:
    """The first scores and their history rows, by COPY (scores replace those of the same version)."""
    pg = _postgres(con)
    score_columns = ("model_version", "lead_id", "total", "grade", "stage", "stage_rank", "next_action", "scored_us")
    with store.transaction(pg):
        pg.execute("CREATE TEMP TABLE staging (LIKE scores) ON COMMIT DROP")
        pg.copy_rows("staging", score_columns,
                     ((model.version, str(r[0]), r[1], r[2], r[3], stage_rank(model, r[3]), r[4], now_us)
                      for r in rows))
        updates = ", ".join(f"{name} = excluded.{name}" for name in score_columns[2:])
        pg.execute(f"INSERT INTO scores SELECT * FROM staging ON CONFLICT (model_version, lead_id) DO UPDATE SET "
                   f"{updates}")
        pg.copy_rows("score_history", ("lead_id", "at_us", "model_version", "total", "grade", "stage", "cause"),
                     ((str(r[0]), now_us, model.version, r[1], r[2], r[3], "loaded") for r in rows))


def _insert(con: Connection, sql: str, cursor: Any) -> int:
    total = 0
    for rows in _chunks(cursor):
        with store.transaction(con):
            con.executemany(sql, rows)
        total += len(rows)
    return total

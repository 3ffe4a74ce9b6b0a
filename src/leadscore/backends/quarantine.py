"""Input checks: rows that cannot be used are set aside with a reason, never dropped silently.

Checks are cheap counts first; only when a problem exists is a cleaned copy built. Event-id
uniqueness is proven by a strictly increasing id column when it is one (the usual case for
exported event logs), else checked by sorting the ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from leadscore.backends.inputs import INTEGER_TYPES, OpenedInputs
from leadscore.compiler.plan import ScoringPlan

QUARANTINE_COLUMNS = '"table" VARCHAR, reason VARCHAR, "key" VARCHAR, record VARCHAR'


@dataclass
class CleanInputs:
    """Names of the relations to score from, and how many rows each reason set aside."""

    leads: str
    events: str
    accounts: str | None
    counts: dict[str, int] = field(default_factory=dict)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _time_expression(column: str, type_name: str) -> str:
    """Normalise a time column to naive UTC TIMESTAMP; unparseable text becomes NULL."""
    quoted = _q(column)
    upper = type_name.upper()
    if upper.startswith("TIMESTAMP WITH TIME ZONE") or upper == "TIMESTAMPTZ":
        return f"CAST({quoted} AS TIMESTAMP)"  # without ICU, DuckDB casts to the UTC wall time
    if upper.startswith("TIMESTAMP"):
        return f"CAST({quoted} AS TIMESTAMP)"
    if upper == "DATE":
        return f"CAST({quoted} AS TIMESTAMP)"
    return f"CAST(TRY_CAST(TRIM(CAST({quoted} AS VARCHAR)) AS TIMESTAMPTZ) AS TIMESTAMP)"


IdCheck = tuple[Callable[[], bool], "Future[bool] | None"]
"""A started event-id check: a function that waits for the answer, and its background scan if any."""


def prepare_inputs(con: duckdb.DuckDBPyConnection, opened: OpenedInputs, plan: ScoringPlan, *,
                   after_leads: Callable[[CleanInputs], None] | None = None,
                   id_check: IdCheck | None = None) -> CleanInputs:
    """Build clean views ``leads``, ``events``, ``accounts`` and the ``quarantine`` table.

    ``after_leads`` runs once the ``leads`` and ``accounts`` views exist and before the events are
    checked, while the event-id check runs beside it on a second connection. ``id_check`` is one
    the caller started earlier (``start_duplicate_id_check``), to give its scan a head start.
    """
    duplicate_ids, running = id_check or start_duplicate_id_check(con, opened, plan.event_key)
    try:
        return _prepare(con, opened, plan, after_leads, duplicate_ids)
    except BaseException:
        if running is not None:  # it scans on a cursor of ``con`` and flips a global setting: let it end
            wait([running])
        raise


def _prepare(con: duckdb.DuckDBPyConnection, opened: OpenedInputs, plan: ScoringPlan,
             after_leads: Callable[[CleanInputs], None] | None, duplicate_ids: Callable[[], bool]) -> CleanInputs:
    con.execute(f"CREATE OR REPLACE TEMP TABLE quarantine ({QUARANTINE_COLUMNS})")
    counts: dict[str, int] = {}
    for table, line, message, text in opened.csv_rejects:
        con.execute("INSERT INTO quarantine VALUES (?, ?, ?, ?)",
                    [table, f"malformed CSV row (line {line}): {message}", None, text])
        counts[f"{table}: malformed CSV row"] = counts.get(f"{table}: malformed CSV row", 0) + 1
    leads = opened.tables["leads"]
    events = opened.tables["events"]
    accounts = opened.tables.get("accounts")

    # Leads: key present and unique; creation time normalised.
    key = _q(plan.lead_key)
    replace = []
    if plan.lead_created and plan.lead_created in leads.columns:
        created_type = leads.columns[plan.lead_created]
        replace.append(f"{_time_expression(plan.lead_created, created_type)} AS {_q(plan.lead_created)}")
        if not created_type.upper().startswith(("TIMESTAMP", "DATE")):
            _quarantine(con, counts, "leads", f"unparseable {plan.lead_created} (lead kept, time set to NULL)",
                        leads.relation, key,
                        f"{_q(plan.lead_created)} IS NOT NULL AND "
                        f"{_time_expression(plan.lead_created, created_type)} IS NULL", keep=True)
    # One scan counts both key problems (a leads file is often one row group, read by one thread).
    found = con.execute(f"SELECT count(*) FILTER ({key} IS NULL), "
                        f"count(*) - count(DISTINCT {key}) - count(*) FILTER ({key} IS NULL) "
                        f"FROM {leads.relation}").fetchone()
    null_keys, dup_count = (int(found[0]), int(found[1])) if found else (0, 0)
    bad_leads = _quarantine(con, counts, "leads", f"missing key {plan.lead_key}", leads.relation, key,
                            f"{key} IS NULL") if null_keys else 0
    numbered = _numbered(key, leads.columns, first=[plan.lead_created] if replace else [])
    if dup_count:
        _quarantine(con, counts, "leads", f"duplicate {plan.lead_key} (first row kept)",
                    f"(SELECT *, {numbered} AS __rn FROM {leads.relation})",
                    key, f"__rn > 1 AND {key} IS NOT NULL", exclude="__rn")
    source = leads.relation
    if bad_leads or dup_count:
        source = f"(SELECT * FROM {leads.relation} WHERE {key} IS NOT NULL QUALIFY {numbered} = 1)"
    select_leads = f"SELECT * REPLACE ({', '.join(replace)}) FROM {source}" if replace else \
        f"SELECT * FROM {source}"
    con.execute(f"CREATE OR REPLACE TEMP VIEW leads AS {select_leads}")

    # Accounts: key present and unique.
    accounts_name: str | None = None
    if accounts is not None:
        akey = _q(plan.account_key)
        if plan.account_key in accounts.columns:
            bad = _quarantine(con, counts, "accounts", f"missing key {plan.account_key}", accounts.relation,
                              akey, f"{akey} IS NULL")
            row = con.execute(f"SELECT count(*) - count(DISTINCT {akey}) - count(*) FILTER ({akey} IS NULL) "
                              f"FROM {accounts.relation}").fetchone()
            adup = int(row[0]) if row else 0
            anumbered = _numbered(akey, accounts.columns)
            if adup:
                _quarantine(con, counts, "accounts", f"duplicate {plan.account_key} (first row kept)",
                            f"(SELECT *, {anumbered} AS __rn "
                            f"FROM {accounts.relation})", akey, f"__rn > 1 AND {akey} IS NOT NULL",
                            exclude="__rn")
            where = f" WHERE {akey} IS NOT NULL QUALIFY {anumbered} = 1" if bad or adup else ""
            con.execute(f"CREATE OR REPLACE TEMP VIEW accounts AS SELECT * FROM {accounts.relation}{where}")
            accounts_name = "accounts"

    if after_leads is not None:
        after_leads(CleanInputs("leads", "events", accounts_name, counts))

    # Events: lead and time present and parseable; ids unique.
    lead, ts, ekey = _q(plan.event_lead), _q(plan.event_time), _q(plan.event_key)
    time_expr = _time_expression(plan.event_time, events.columns.get(plan.event_time, "TIMESTAMP"))
    con.execute(f"CREATE OR REPLACE TEMP VIEW events_norm AS SELECT * REPLACE ({time_expr} AS {ts}) "
                f"FROM {events.relation}")
    # One scan counts both problems; rows are copied out only when there are any. A Parquet
    # footer that records no NULL in either column (and a real timestamp type) answers for free.
    time_type = events.columns.get(plan.event_time, "").upper()
    if time_type.startswith("TIMESTAMP") and _parquet_null_free(events.source, [plan.event_lead,
                                                                                plan.event_time]):
        problems: tuple[Any, ...] = (0, 0)
    else:
        problems = con.execute(f"SELECT count(*) FILTER ({lead} IS NULL), "
                               f"count(*) FILTER ({lead} IS NOT NULL AND {time_expr} IS NULL) "
                               f"FROM {events.relation}").fetchall()[0]
    bad_events = 0
    if problems[0]:
        bad_events += _quarantine(con, counts, "events", f"missing {plan.event_lead}", "events_norm", ekey,
                                  f"{lead} IS NULL")
    if problems[1]:
        bad_events += _quarantine(con, counts, "events", f"missing or unparseable {plan.event_time}",
                                  events.relation, ekey, f"{lead} IS NOT NULL AND {time_expr} IS NULL")
    filters = [f"{lead} IS NOT NULL", f"{ts} IS NOT NULL"] if bad_events else []
    sql = "SELECT * FROM events_norm"
    if filters:
        sql += " WHERE " + " AND ".join(filters)
    # Duplicates are judged among the usable rows only, so the rows quarantined here are exactly
    # the rows the view below leaves out: none is both kept and quarantined (a duplicate of a row
    # with a bad time) and none is dropped silently.
    numbered = _numbered(ekey, events.columns, first=[plan.event_time, plan.event_lead, plan.event_type])
    if duplicate_ids():
        _quarantine(con, counts, "events", f"duplicate {plan.event_key} (first row kept)",
                    f"(SELECT *, {numbered} AS __rn FROM ({sql}))", ekey, "__rn > 1", exclude="__rn")
        sql += f" QUALIFY {numbered} = 1"
    con.execute(f"CREATE OR REPLACE TEMP VIEW events AS {sql}")
    return CleanInputs("leads", "events", accounts_name, counts)


def row_order(columns: Iterable[str], *, first: Sequence[str | None] = ()) -> str:
    """One total order of a table's rows: the ``first`` columns (earliest time first), then every
    other column. Which of several rows with one key is 'first' (kept) must not be left to the
    engine: the quarantine, the clean view and a one-lead lookup each ask, and with a parallel
    scan they could get different answers, so the kept row could also be quarantined while its
    duplicate vanished, or ``explain`` could explain a row that was not scored.
    """
    names = list(columns)
    ordered = dict.fromkeys([c for c in first if c and c in names] + names)
    return ", ".join(_q(c) for c in ordered)


def _numbered(key: str, columns: Iterable[str], *, first: Sequence[str | None] = ()) -> str:
    """``row_number()`` per key in the table's ``row_order``."""
    return f"row_number() OVER (PARTITION BY {key} ORDER BY {row_order(columns, first=first)})"


def _parquet_null_free(source: str, columns: list[str]) -> bool:
    """True when the Parquet footers' statistics say these columns hold no NULL at all."""
    import pyarrow.parquet as pq

    path = Path(source)
    if not (path.suffix == ".parquet" or path.is_dir()):
        return False
    files = [path] if path.is_file() else sorted(path.glob("*.parquet"))
    for file in files:
        meta = pq.ParquetFile(file).metadata
        names = [meta.schema.column(i).name for i in range(meta.num_columns)]
        for column in columns:
            if column not in names:
                return False
            index = names.index(column)
            for group in range(meta.num_row_groups):
                stats = meta.row_group(group).column(index).statistics
                if stats is None or not stats.has_null_count or stats.null_count:
                    return False
    return True


def start_duplicate_id_check(con: duckdb.DuckDBPyConnection, opened: OpenedInputs, column: str) -> IdCheck:
    """Start answering "is any event id seen twice?": a function that waits for the answer, and
    the background scan when one was started.

    Integer ids in Parquet files are fetched on a second connection in a thread, so the scan
    overlaps the single-threaded lead checks; other sources are answered on ``con`` when asked.
    """
    events = opened.tables["events"]
    if column not in events.columns:
        return (lambda: False), None
    source = Path(events.source)
    integer = events.columns[column].upper() in INTEGER_TYPES
    if not (integer and (source.suffix == ".parquet" or source.is_dir())):
        # CSV and DuckDB sources are temp objects of ``con``, which a second connection cannot see.
        return (lambda: _ids_repeat(con, column, events.relation, integer)), None
    cursor = con.cursor()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leadscore-event-ids")

    def check() -> bool:
        try:
            return _ids_repeat(cursor, column, events.relation, integer=True)
        finally:
            cursor.close()

    answer = pool.submit(check)
    pool.shutdown(wait=False)
    return answer.result, answer


def _ids_repeat(con: duckdb.DuckDBPyConnection, column: str, relation: str, integer: bool) -> bool:
    """Any id seen twice (NULLs aside)?

    Integer ids are fetched as one NumPy array in file order: ids that strictly increase in that
    order prove there is none, which is what exporters and generators write, and a sort answers
    otherwise. Other ids (text, or with NULLs) are counted distinct by DuckDB. Both answers are
    exact; the order only decides how fast.
    """
    if integer:
        import numpy as np  # here, not at the top: for Parquet this runs on a thread beside the lead checks

        # The engine runs with preserve_insertion_order off (a global setting); file order is
        # wanted for this scan only.
        con.execute("SET preserve_insertion_order = true")
        try:
            fetched = con.execute(f"SELECT {_q(column)} FROM {relation}").fetchnumpy()[column]
        finally:
            con.execute("SET preserve_insertion_order = false")
        if not isinstance(fetched, np.ma.MaskedArray) or not np.ma.is_masked(fetched):
            ids = np.asarray(fetched)
            if ids.size < 2 or bool(np.all(ids[1:] > ids[:-1])):
                return False
            ordered = np.sort(ids)
            return bool(np.any(ordered[1:] == ordered[:-1]))
    row = con.execute(f"SELECT count({_q(column)}) - count(DISTINCT {_q(column)}) FROM {relation}").fetchone()
    return bool(row and row[0])


def _quarantine(con: duckdb.DuckDBPyConnection, counts: dict[str, int], table: str, reason: str,
                relation: str, key: str, condition: str, *, exclude: str | None = None,
                keep: bool = False) -> int:
    """Copy rows matching ``condition`` into ``quarantine``; return how many."""
    # fetchall, not fetchone: a half-read result blocks the next con.sql() on this connection (DuckDB 2).
    rows = con.execute(f"SELECT count(*) FROM {relation} WHERE {condition}").fetchall()
    count = int(rows[0][0]) if rows else 0
    if count:
        star = f"* EXCLUDE ({exclude})" if exclude else "*"
        con.execute(
            f"INSERT INTO quarantine SELECT ?, ?, CAST(q.{key} AS VARCHAR), CAST(to_json(q) AS VARCHAR) "
            f"FROM (SELECT {star} FROM {relation} WHERE {condition}) q",
            [table, reason])
        counts[f"{table}: {reason}"] = counts.get(f"{table}: {reason}", 0) + count
    return 0 if keep else count


def quarantine_unknown_leads(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, events_table: str,
                             counts: dict[str, int], *, leads: str = "leads") -> None:
    """Events whose lead is not in leads: set aside, and removed from the events pass.

    ``leads`` may name a table holding the clean leads' keys, faster to scan than the view."""
    row = con.execute(f"SELECT count(*) FROM {events_table} e ANTI JOIN {leads} l "
                      f"ON e.__lead = l.{_q(plan.lead_key)}").fetchone()
    if not row or not row[0]:
        return
    lead, ekey = _q(plan.event_lead), _q(plan.event_key)
    key = ekey if plan.event_key else lead
    _quarantine(con, counts, "events", "unknown lead (no such lead id)",
                f"(SELECT e.* FROM events e ANTI JOIN leads l ON e.{lead} = l.{_q(plan.lead_key)})", key,
                "true")
    con.execute(f"DELETE FROM {events_table} WHERE __lead NOT IN (SELECT {_q(plan.lead_key)} FROM leads)")

"""Batch scoring on an embedded DuckDB: inputs -> checks -> events pass -> leads -> accounts.

The engine runs what the compiler produced and never re-reads the YAML. Every ``duckdb.Error``
is translated into a ``DataError``/``BackendError`` naming what to fix.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
from sqlglot import exp

from leadscore.backends.inputs import OpenedInputs, open_inputs
from leadscore.backends.predictions import attach_predictions
from leadscore.backends.quarantine import (
    CleanInputs,
    IdCheck,
    prepare_inputs,
    quarantine_unknown_leads,
    start_duplicate_id_check,
)
from leadscore.compiler.accounts_sql import account_query
from leadscore.compiler.model_sql import Relations, events_query, lead_scores_query, model_plans
from leadscore.compiler.plan import DataSchema, ScoringPlan, compile_plan
from leadscore.errors import BackendError, DataError, Issue
from leadscore.spec.loader import LoadedModel

log = logging.getLogger(__name__)
Progress = Callable[[str, float], None]


@contextlib.contextmanager
def translate_errors(what: str, *, hint: str | None = None) -> Iterator[None]:
    """A duckdb error never reaches a user as such: say what failed and what to check (``hint``;
    by default, the inputs against the model)."""
    try:
        yield
    except duckdb.OutOfMemoryException as exc:
        raise BackendError(f"{what}: DuckDB ran out of memory: {str(exc).splitlines()[0]}",
                           [Issue("out of memory", hint="set --memory-limit lower to let DuckDB spill "
                                                        "to disk, or --threads 1")]) from None
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        raise DataError(f"{what} failed: {message}",
                        [Issue(message, hint=hint or "check the input columns and types against the model "
                                                     "('leadscore validate MODEL --data DIR')")]) from None


@dataclass
class Session:
    """A DuckDB connection holding ``lead_scores``, ``account_scores`` and ``quarantine`` tables."""

    con: duckdb.DuckDBPyConnection
    plan: ScoringPlan
    as_of: datetime
    quarantine_counts: dict[str, int] = field(default_factory=dict)
    source: str = ""

    def table(self, name: str) -> object:
        return self.con.execute(f'SELECT * FROM "{name}"').to_arrow_table()

    def close(self) -> None:
        self.con.close()


def connect(*, threads: int | None = None, memory_limit: str | None = None,
            temp_directory: str | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    if temp_directory:
        con.execute("SET temp_directory = ?", [temp_directory])
    con.execute("SET preserve_insertion_order = false")
    # Times are UTC everywhere. DuckDB's session time zone defaults to the machine's, and casting
    # a TIMESTAMPTZ to TIMESTAMP (or parsing '...Z' text) would then yield local wall time, so
    # the same data would score differently in Auckland and in London.
    con.execute("SET TimeZone = 'UTC'")
    return con


def schema_of(opened: OpenedInputs, con: duckdb.DuckDBPyConnection, plan_type_column: str) -> DataSchema:
    """Column names of the inputs, plus the distinct event types (for 'unknown event type' checks)."""
    events = opened.tables["events"]
    types: frozenset[str] | None = None
    if plan_type_column in events.columns:
        with translate_errors("reading event types"):
            rows = con.execute(f'SELECT DISTINCT CAST("{plan_type_column}" AS VARCHAR) FROM '
                               f"{events.relation}").fetchall()
        types = frozenset(str(r[0]) for r in rows if r[0] is not None)
    accounts = opened.tables.get("accounts")
    return DataSchema(leads=opened.tables["leads"].columns, events=events.columns,
                      accounts=accounts.columns if accounts else None, event_types=types)


def resolve_as_of(as_of: datetime | None, opened: OpenedInputs) -> datetime:
    """The run's time: the caller's, else the data's meta.json ``as_of``, else now (UTC)."""
    return as_of or opened.as_of_hint or datetime.utcnow().replace(microsecond=0)


def open_data(loaded: LoadedModel, data: str | Path, *, check_event_types: bool = False,
              con: duckdb.DuckDBPyConnection | None = None, as_of: datetime | None = None,
              predictions: bool = True, opened_hook: Callable[[OpenedInputs], None] | None = None
              ) -> tuple[duckdb.DuckDBPyConnection, OpenedInputs, ScoringPlan]:
    """Open inputs and compile the model against their schema (ModelError lists every problem).

    A model with a predictive layer gets its probabilities as of ``as_of`` joined onto the leads
    first (NULL placeholders with ``predictions=False``, for schema checks only). ``opened_hook``
    sees the inputs as soon as they are open, before the model is compiled against them.
    """
    con = con or connect()
    mapping = loaded.spec.data
    opened = open_inputs(con, data, time_columns={"events": mapping.events.time or "ts",
                                                  "leads": mapping.leads.created or "created_at"})
    if opened_hook is not None:
        opened_hook(opened)
    attach_predictions(con, opened, loaded, data, resolve_as_of(as_of, opened), compute=predictions)
    schema = schema_of(opened, con, mapping.events.type or "type") if check_event_types else DataSchema(
        leads=opened.tables["leads"].columns, events=opened.tables["events"].columns,
        accounts=opened.tables["accounts"].columns if "accounts" in opened.tables else None)
    plan = compile_plan(loaded, schema)
    return con, opened, plan


@dataclass(frozen=True)
class _CompiledRun:
    """One run's queries: the events pass per (segment) plan, the lead query, and what they read,
    as trees and as the SQL text that is executed."""

    relations: Relations
    tables: list[str]
    lead_columns_used: list[str] | None
    events_sql: list[str]
    lead_sql: str
    accounts_sql: str


def _compile_run(plan: ScoringPlan, opened: OpenedInputs, events: str, accounts: str | None,
                 as_of_iso: str) -> _CompiledRun:
    relations = Relations(leads=exp.to_table(LEAD_ROWS_TABLE), events=exp.to_table(events),
                          accounts=exp.to_table(accounts) if accounts else None,
                          event_columns=frozenset(opened.tables["events"].columns),
                          lead_columns=frozenset(opened.tables["leads"].columns))
    sub_plans = model_plans(plan)
    tables = [f"ev_{index}" for index in range(len(sub_plans))]
    event_queries: list[exp.Expr] = [events_query(sub, relations, as_of_iso, lookups=True) for sub in sub_plans]
    lead_query = lead_scores_query(plan, relations, as_of_iso, events_tables=tables)
    used = columns_read(LEAD_ROWS_TABLE, relations.lead_columns, [*event_queries, lead_query])  # before .sql()
    return _CompiledRun(relations, tables, used,
                        events_sql=[query.sql("duckdb", copy=False) for query in event_queries],
                        lead_sql=materialize_rule_stage(lead_query).sql("duckdb", copy=False),
                        accounts_sql=account_query(plan, exp.to_table("lead_scores"), relations.accounts
                                                   ).sql("duckdb", copy=False))


def _clean_names(opened: OpenedInputs, plan: ScoringPlan) -> tuple[str, str | None]:
    """The events and accounts relations ``prepare_inputs`` will create (known before it runs)."""
    accounts = opened.tables.get("accounts")
    return "events", "accounts" if accounts is not None and plan.account_key in accounts.columns else None


def run_scoring(loaded: LoadedModel, data: str | Path, *, as_of: datetime | None = None,
                progress: Progress | None = None, threads: int | None = None,
                memory_limit: str | None = None, temp_directory: str | None = None) -> Session:
    """Score every lead and account; return a session holding the result tables."""
    step = progress or (lambda _name, _fraction: None)
    con = connect(threads=threads, memory_limit=memory_limit, temp_directory=temp_directory)
    step("reading inputs", 0.05)
    id_checks: list[IdCheck] = []

    def start_id_check(opened: OpenedInputs) -> None:
        """The event-id scan starts before the model is compiled: it is the longest input check."""
        id_checks.append(start_duplicate_id_check(con, opened, loaded.spec.data.events.key or "event_id"))

    try:
        con, opened, plan = open_data(loaded, data, con=con, as_of=as_of, opened_hook=start_id_check)
    except BaseException:
        wait([future for _, future in id_checks if future is not None])
        raise
    when = resolve_as_of(as_of, opened)
    as_of_iso = when.isoformat(sep=" ")
    step("checking rows", 0.15)
    compiled: list[_CompiledRun] = []
    # The queries are compiled (pure Python, ~0.1 s at the bench's size) on a thread while DuckDB,
    # which releases the GIL, checks the input rows.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leadscore-compile")
    expected = _clean_names(opened, plan)
    early = pool.submit(_compile_run, plan, opened, *expected, as_of_iso)
    pool.shutdown(wait=False)

    def copy_leads(clean: CleanInputs) -> None:
        """Compile the queries and fill the leads table while the event ids are being checked."""
        names = (clean.events, clean.accounts)
        run = early.result() if names == expected else _compile_run(plan, opened, *names, as_of_iso)
        compiled.append(run)
        # Every join and projection of the lead query runs in the pipeline of the leads scan, and a
        # Parquet file is split between threads by row group: a file written as one row group
        # (common for exports of a million rows) would score on one core. A temp table is split
        # across every thread; filling it costs one single-threaded read of the columns used.
        used = run.lead_columns_used
        if used is not None and plan.lead_key not in used:  # the unknown-lead check joins on it
            used = sorted({*used, plan.lead_key})
        select = ", ".join(exp.to_identifier(c, quoted=True).sql("duckdb") for c in used) if used else "*"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {LEAD_ROWS_TABLE} AS SELECT {select} FROM {clean.leads}")

    try:
        with translate_errors("checking input rows"):
            clean: CleanInputs = prepare_inputs(con, opened, plan, after_leads=copy_leads,
                                                id_check=id_checks[0] if id_checks else None)
    finally:
        wait([early])  # a failed check leaves no compile running behind it
    [run] = compiled
    tables = run.tables
    step("events pass", 0.3)
    for name, sql in zip(tables, run.events_sql, strict=True):
        with translate_errors("the events pass"):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS " + sql)
    with translate_errors("checking event leads"):
        for name in tables:
            quarantine_unknown_leads(con, plan, name, clean.counts, leads=LEAD_ROWS_TABLE)
    step("scoring leads", 0.6)
    with translate_errors("scoring leads"):
        con.execute("CREATE OR REPLACE TEMP TABLE lead_scores AS " + run.lead_sql)
    step("scoring accounts", 0.85)
    with translate_errors("scoring accounts"):
        con.execute("CREATE OR REPLACE TEMP TABLE account_scores AS " + run.accounts_sql)
    for name in [*tables, LEAD_ROWS_TABLE]:
        con.execute(f"DROP TABLE {name}")
    step("done", 1.0)
    return Session(con=con, plan=plan, as_of=when, quarantine_counts=clean.counts, source=str(data))


LEAD_ROWS_TABLE = "lead_rows"


def materialize_rule_stage(query: exp.Expr) -> exp.Expr:
    """Mark the rule-points stage (CTE ``r``: joins and every rule's points) ``MATERIALIZED``.

    DuckDB inlines a chain of CTEs into one stack of projections, and an expensive column of
    ``r`` (an e-mail parse, a regex) referenced by several later columns is then evaluated more
    than once; at 1M leads that costs about a quarter of the lead query. A materialised ``r`` is
    evaluated once, and kept in memory for the one statement (cheaper than a temp table, which
    is compressed as it is written). Queries of other shapes (segment unions) are returned unchanged.
    """
    if not isinstance(query, exp.Select):
        return query
    with_ = query.args.get("with_") or query.args.get("with")
    for cte in with_.expressions if isinstance(with_, exp.With) else []:
        if cte.alias == "r":
            cte.set("materialized", True)  # the query was built for this run alone: edit in place
    return query


def columns_read(table: str, columns: frozenset[str], queries: list[exp.Expr]) -> list[str] | None:
    """The columns of ``table`` that ``queries`` can read, in a stable order; None when a ``*``
    over it (or a column the name alone cannot tie to a table) could read any of them.

    Deliberately generous: any column reference whose name is one of ``columns`` counts, whatever
    table it names, so a column is never left out; only a star can make the answer "all"."""
    used: set[str] = set()
    for query in queries:
        for node in query.find_all(exp.Column, exp.Star):
            if isinstance(node, exp.Star):
                select = node.find_ancestor(exp.Select)
                source = (select.args.get("from_") or select.args.get("from")) if select else None
                if not isinstance(source, exp.Expr) or any(t.name == table for t in source.find_all(exp.Table)):
                    return None
                continue
            if isinstance(node.this, exp.Star):
                return None
            if node.name in columns:
                used.add(node.name)
    return sorted(used) or None


def environment_threads() -> int | None:
    """Threads from LEADSCORE_THREADS for the CLI (the library itself never reads the environment)."""
    value = os.environ.get("LEADSCORE_THREADS")
    return int(value) if value and value.isdigit() else None

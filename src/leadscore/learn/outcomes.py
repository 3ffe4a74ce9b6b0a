"""Who counts in an evaluation, and whether each lead converted in the window: the outcome spec.

A back-test at ``as_of`` = T asks: of the leads known at T that had not converted yet, did the ones
scored high convert in (T, T + horizon]? So the population is built in DuckDB from the scored
session's ``lead_scores`` and the clean ``leads`` view, and every lead left out is counted under a
reason (never dropped silently):

* created at or after T (not known yet) or with no creation time;
* no outcome value; converted with no (or an unparseable) outcome time;
* outcome dated before the lead was created; converted at or before T.

A flat table (no events) has no times: the outcome is a 0/1 column and nothing is filtered by date.
The checks that make a figure meaningless raise ``DataError`` with what to do instead: no outcome
column, an outcome that is not 0/1, an empty population, one class only, too few conversions.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt

from leadscore.compiler.plan import ScoringPlan
from leadscore.errors import DataError, Issue

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]

TRUE_TEXT = ("1", "1.0", "true", "t", "yes", "y")
FALSE_TEXT = ("0", "0.0", "false", "f", "no", "n")
POPULATION_TABLE = "learn_population"
REASON_PREFIX = "why:"
MISSING_LABEL = "(missing)"


@dataclass(frozen=True)
class OutcomeSpec:
    """Which column says a lead converted, when, and how long after ``as_of`` to wait for it.

    ``time_column`` defaults to ``<column>_at`` when the leads have it. ``min_conversions`` is the
    fewest conversions an evaluation may rest on.
    """

    column: str = "converted"
    time_column: str | None = None
    horizon_days: float = 90.0
    min_conversions: int = 10


@dataclass(frozen=True)
class FunnelStep:
    """A funnel stage a lead may reach: a yes/no column, a time column, or both."""

    name: str
    flag: str | None
    time: str | None


FUNNEL_STEPS: tuple[FunnelStep, ...] = (
    FunnelStep("mql", None, "mql_at"),
    FunnelStep("sal", "sales_accepted", "sales_accepted_at"),
    FunnelStep("opportunity", "opportunity", "opportunity_at"),
    FunnelStep("won", "won", "won_at"),
)

# Exclusion reasons, and whether each is a data problem worth a warning.
CREATED_AFTER = "created at or after the as-of date (not known yet)"
NO_CREATED = "no creation time"
NO_OUTCOME = "no outcome value"
BAD_TIME = "unparseable outcome time"
NO_TIME = "converted with no outcome time"
BEFORE_CREATED = "outcome dated before the lead was created"
CONVERTED_BEFORE = "converted at or before the as-of date"
WARN_REASONS = frozenset({NO_CREATED, NO_OUTCOME, BAD_TIME, NO_TIME, BEFORE_CREATED, CONVERTED_BEFORE})


@dataclass(frozen=True)
class Population:
    """The evaluated leads, in lead id order, as NumPy arrays (one entry per lead)."""

    lead_id: npt.NDArray[Any]
    score: FloatArray
    y: IntArray
    stage: ObjectArray
    days_to_conversion: FloatArray  # from as_of; NaN unless converted in the window
    days_from_created: FloatArray  # from creation; NaN unless converted in the window
    groups: Mapping[str, ObjectArray]  # "segment" and each by-column -> text labels
    funnel: Mapping[str, BoolArray]  # funnel step -> reached by the end of the window
    funnel_missing: tuple[str, ...]
    funnel_untimed: tuple[str, ...]  # steps with no time column: counted as recorded, not by the window end
    excluded: Mapping[str, int]
    warnings: tuple[str, ...]
    as_of: datetime | None
    horizon_end: datetime | None
    outcome_time: str | None

    @property
    def conversions(self) -> int:
        return int(self.y.sum())


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def table_columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return {str(row[0]): str(row[1]) for row in con.execute(f"DESCRIBE {relation}").fetchall()}


def rule_columns(con: duckdb.DuckDBPyConnection, names: Sequence[str] | None = None) -> list[str]:
    """The ``why:<rule>`` explanation columns of ``lead_scores`` (cap adjustments left out), only of
    the rules in ``names`` if given."""
    found = [c for c in table_columns(con, "lead_scores")
             if c.startswith(REASON_PREFIX) and ":" not in c.removeprefix(REASON_PREFIX)]
    return found if names is None else [c for c in found if c.removeprefix(REASON_PREFIX) in set(names)]


def nearest(name: str, names: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    shown = ", ".join(list(names)[:15])
    return f"columns are: {shown}{' ...' if len(names) > 15 else ''}"


def time_sql(column: str, type_name: str) -> str:
    """A time column as naive UTC TIMESTAMP (the session runs in UTC); bad text becomes NULL."""
    upper = type_name.upper()
    if upper.startswith(("TIMESTAMP", "DATE")):
        return f"CAST({q(column)} AS TIMESTAMP)"
    return f"CAST(TRY_CAST(TRIM(CAST({q(column)} AS VARCHAR)) AS TIMESTAMPTZ) AS TIMESTAMP)"


def is_numeric(type_name: str) -> bool:
    upper = type_name.upper()
    return upper.startswith(("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                             "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL"))


def bool_sql(column: str, type_name: str) -> str:
    """A yes/no column (BOOLEAN, 0/1 or text such as 'yes') as BOOLEAN; anything else is NULL."""
    if type_name.upper() == "BOOLEAN":
        return q(column)
    if is_numeric(type_name):
        return f"CASE WHEN {q(column)} = 1 THEN true WHEN {q(column)} = 0 THEN false END"
    text = f"lower(trim(CAST({q(column)} AS VARCHAR)))"
    return (f"CASE WHEN {text} IN ({', '.join(_lit(v) for v in TRUE_TEXT)}) THEN true "
            f"WHEN {text} IN ({', '.join(_lit(v) for v in FALSE_TEXT)}) THEN false END")


def _lit(value: str) -> str:
    """A SQL string literal of one of this module's constants (never of user text)."""
    return "'" + value.replace("'", "''") + "'"


def check_outcome_column(con: duckdb.DuckDBPyConnection, columns: Mapping[str, str], column: str) -> None:
    """The outcome column exists and holds only yes/no values, or a DataError says what to fix."""
    if column not in columns:
        yes_no = [c for c, t in columns.items() if t.upper() == "BOOLEAN"]
        raise DataError(
            f"the leads have no outcome column {column!r}",
            [Issue(f"no column {column!r} in leads", path="--outcome", hint=nearest(column, list(columns))
                   + (f"; yes/no columns: {', '.join(yes_no)}" if yes_no else "")
                   + "; give the column that says a lead converted with --outcome COL")])
    parsed = bool_sql(column, columns[column])
    rows = con.execute(f"SELECT DISTINCT CAST({q(column)} AS VARCHAR) FROM leads "
                       f"WHERE {q(column)} IS NOT NULL AND ({parsed}) IS NULL LIMIT 3").fetchall()
    if rows:
        examples = ", ".join(repr(r[0]) for r in rows)
        raise DataError(
            f"outcome column {column!r} must say yes or no (true/false or 1/0), got values such as {examples}",
            [Issue("not a yes/no column", path=column,
                   hint="map the outcome to true/false (1 = converted) or pick another --outcome column")])


def resolve_time_column(columns: Mapping[str, str], spec: OutcomeSpec) -> str:
    """The outcome's time column (``--outcome-time`` or ``<outcome>_at``), or a DataError."""
    name = spec.time_column or f"{spec.column}_at"
    if name in columns:
        return name
    times = [c for c, t in columns.items() if t.upper().startswith(("TIMESTAMP", "DATE"))]
    raise DataError(
        f"the leads have no time column {name!r} for outcome {spec.column!r}",
        [Issue(f"no column {name!r} in leads", path="--outcome-time",
               hint="a back-test needs when each lead converted, to exclude conversions before --as-of "
                    "and count only those in the horizon; give it with --outcome-time COL"
                    + (f" (time columns: {', '.join(times)})" if times else ""))])


def build_population(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, spec: OutcomeSpec, *,
                     as_of: datetime | None, flat: bool, by: Sequence[str] = ()) -> Population:
    """The evaluation population of a scored session (``lead_scores`` + ``leads``), checked.

    ``as_of`` is required unless ``flat``. Leaves table ``learn_population`` (every lead, with
    ``status`` NULL for the evaluated ones) in the connection for follow-up queries.

    Raises
    ------
    DataError
        Missing outcome/time/by column, an outcome that is not yes/no, an empty population, one
        class only, or fewer than ``spec.min_conversions`` conversions.
    """
    columns = table_columns(con, "leads")
    check_outcome_column(con, columns, spec.column)
    missing_by = [name for name in by if name not in columns]
    if missing_by:
        raise DataError("unknown --by column(s): " + ", ".join(repr(n) for n in missing_by),
                        [Issue(f"no column {n!r} in leads", path="--by", hint=nearest(n, list(columns)))
                         for n in missing_by])
    outcome = bool_sql(spec.column, columns[spec.column])
    horizon_end = None
    time_name: str | None = None
    if flat:
        status = f"CASE WHEN ({outcome}) IS NULL THEN {_lit(NO_OUTCOME)} END"
        y_sql, days_sql, created_days_sql = f"coalesce({outcome}, false)", "NULL", "NULL"
    else:
        if as_of is None:
            raise DataError("a back-test needs an as-of date", [Issue("no --as-of", hint="give --as-of T")])
        created_col = plan.lead_created
        if not created_col or created_col not in columns:
            raise DataError(
                "the leads have no creation time column",
                [Issue(f"no column {created_col or 'created_at'!r} in leads", path="data.leads.created",
                       hint="a back-test leaves out leads created after --as-of; map their creation time "
                            "in the model's data.leads.created")])
        time_name = resolve_time_column(columns, spec)
        horizon_end = as_of + timedelta(days=spec.horizon_days)
        created = time_sql(created_col, columns[created_col])
        at = time_sql(time_name, columns[time_name])
        status = (
            f"CASE WHEN {created} IS NULL THEN {_lit(NO_CREATED)} "
            f"WHEN {created} >= $as_of THEN {_lit(CREATED_AFTER)} "
            f"WHEN ({outcome}) IS NULL THEN {_lit(NO_OUTCOME)} "
            f"WHEN ({outcome}) AND {q(time_name)} IS NOT NULL AND {at} IS NULL THEN {_lit(BAD_TIME)} "
            f"WHEN ({outcome}) AND {at} IS NULL THEN {_lit(NO_TIME)} "
            f"WHEN ({outcome}) AND {at} < {created} THEN {_lit(BEFORE_CREATED)} "
            f"WHEN ({outcome}) AND {at} <= $as_of THEN {_lit(CONVERTED_BEFORE)} END")
        y_sql = f"coalesce(({outcome}) AND {at} <= $horizon_end, false)"
        days_sql = f"CASE WHEN {y_sql} THEN epoch({at} - $as_of) / 86400.0 END"
        created_days_sql = f"CASE WHEN {y_sql} THEN epoch({at} - {created}) / 86400.0 END"
    funnel_sql, funnel_missing, funnel_untimed = _funnel_sql(columns, flat=flat)
    group_sql = [f"coalesce(CAST(l.{q(name)} AS VARCHAR), {_lit(MISSING_LABEL)}) AS {q('by:' + name)}"
                 for name in by]
    select = ", ".join([
        "s.lead_id", "s.total AS score", f"coalesce(s.stage, {_lit('(none)')}) AS stage",
        "CAST(s.segment AS VARCHAR) AS segment", f"{status} AS status", f"{y_sql} AS y",
        f"coalesce({days_sql}, 'NaN'::DOUBLE) AS days_to_conversion",
        f"coalesce({created_days_sql}, 'NaN'::DOUBLE) AS days_from_created",
        *(f"coalesce({sql}, false) AS {q('funnel:' + name)}" for name, sql in funnel_sql.items()),
        *group_sql])
    sql = (f"CREATE OR REPLACE TEMP TABLE {POPULATION_TABLE} AS SELECT {select} FROM lead_scores s "
           f"JOIN leads l ON l.{q(plan.lead_key)} = s.lead_id")
    con.execute(sql, None if flat else {"as_of": as_of, "horizon_end": horizon_end})
    excluded = {str(reason): int(count) for reason, count in con.execute(
        f"SELECT status, count(*) FROM {POPULATION_TABLE} WHERE status IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall()}
    frame = con.execute(f"SELECT * FROM {POPULATION_TABLE} WHERE status IS NULL ORDER BY lead_id").fetchnumpy()
    population = _population(frame, by, funnel_sql, (funnel_missing, funnel_untimed), excluded, as_of,
                             horizon_end, time_name, bool(plan.segments))
    _check_classes(population, spec)
    if horizon_end is not None and time_name is not None:
        latest = _latest_time(con, plan, time_sql(time_name, columns[time_name]))
        if latest is not None and latest < horizon_end:
            population = replace(population, warnings=(*population.warnings, (
                f"the window ends {horizon_end:%Y-%m-%d} but the data end {latest:%Y-%m-%d} (latest event or "
                "outcome): conversions after that are not observed, so rates are understated; choose an "
                "earlier --as-of or a shorter --horizon")))
    return population


def _latest_time(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, outcome_at: str) -> datetime | None:
    """The latest event or outcome time in the data: how far outcomes are observed."""
    row = con.execute(f"SELECT greatest((SELECT max({outcome_at}) FROM leads), "
                      f"(SELECT max({q(plan.event_time)}) FROM events))").fetchall()
    value = row[0][0] if row else None
    return value if isinstance(value, datetime) else None


def _funnel_sql(columns: Mapping[str, str], *, flat: bool
                ) -> tuple[dict[str, str], tuple[str, ...], tuple[str, ...]]:
    """Per funnel step, a SQL test 'reached by the end of the window' (flat: ever), where the
    columns exist; the steps left out for want of columns; the steps with no time column."""
    reached: dict[str, str] = {}
    missing: list[str] = []
    untimed: list[str] = []
    for step in FUNNEL_STEPS:
        flag = bool_sql(step.flag, columns[step.flag]) if step.flag and step.flag in columns else None
        at = time_sql(step.time, columns[step.time]) if step.time and step.time in columns else None
        if flag is None and at is None:
            missing.append(step.name)
            continue
        if at is None:
            untimed.append(step.name)
        if flat or at is None:
            reached[step.name] = f"({flag})" if flag else f"({at} IS NOT NULL)"
        elif flag is None:
            reached[step.name] = f"({at} <= $horizon_end)"
        else:
            reached[step.name] = f"(({flag}) AND ({at} IS NULL OR {at} <= $horizon_end))"
    return reached, tuple(missing), tuple(untimed)


def _population(frame: Mapping[str, Any], by: Sequence[str], funnel_sql: Mapping[str, str],
                funnel_gaps: tuple[tuple[str, ...], tuple[str, ...]], excluded: dict[str, int], as_of: datetime | None,
                horizon_end: datetime | None, time_name: str | None, has_segments: bool) -> Population:
    def plain(name: str) -> Any:
        values = frame[name]
        return values.filled() if isinstance(values, np.ma.MaskedArray) else np.asarray(values)

    groups: dict[str, ObjectArray] = {}
    if has_segments:
        groups["segment"] = np.array([MISSING_LABEL if v is None else str(v) for v in frame["segment"].tolist()],
                                     dtype=object)
    for name in by:
        groups[name] = plain("by:" + name).astype(object)
    warnings = [f"{count:,} lead(s) left out: {reason}" for reason, count in excluded.items()
                if reason in WARN_REASONS]
    return Population(
        lead_id=plain("lead_id"), score=plain("score").astype(np.float64), y=plain("y").astype(np.int64),
        stage=plain("stage").astype(object), days_to_conversion=plain("days_to_conversion").astype(np.float64),
        days_from_created=plain("days_from_created").astype(np.float64), groups=MappingProxyType(groups),
        funnel=MappingProxyType({name: plain("funnel:" + name).astype(np.bool_) for name in funnel_sql}),
        funnel_missing=funnel_gaps[0], funnel_untimed=funnel_gaps[1], excluded=MappingProxyType(excluded),
        warnings=tuple(warnings), as_of=as_of, horizon_end=horizon_end, outcome_time=time_name)


def _check_classes(population: Population, spec: OutcomeSpec) -> None:
    window = (f"in ({population.as_of:%Y-%m-%d}, {population.horizon_end:%Y-%m-%d}]"
              if population.as_of and population.horizon_end else "")
    n, hits = population.y.size, population.conversions
    left_out = sum(population.excluded.values())
    if n == 0:
        raise DataError(
            f"no leads to evaluate: all {left_out:,} leads were left out "
            f"({'; '.join(f'{c:,} {r}' for r, c in population.excluded.items())})",
            [Issue("empty evaluation population", path="--as-of",
                   hint="choose an --as-of date after the first leads were created")])
    if hits == 0 or hits == n:
        what = "converted" if hits else "did not convert"
        raise DataError(
            f"outcome {spec.column!r} is all one class: every one of the {n:,} evaluated leads {what} "
            f"{window}".rstrip(),
            [Issue("one class only", path="--outcome",
                   hint="a ranking needs converted and lost leads: check --outcome, or choose an earlier "
                        "--as-of or a longer --horizon" if hits == 0 else
                        "check --outcome: a column true for every lead is not an outcome")])
    if hits < spec.min_conversions:
        raise DataError(
            f"too few conversions: {hits} of {n:,} evaluated leads converted {window}; at least "
            f"{spec.min_conversions} are needed for figures that mean anything".replace("  ", " "),
            [Issue(f"{hits} conversions", path="--outcome",
                   hint="use more history: an earlier --as-of, a longer --horizon or more leads "
                        "(or lower --min-conversions if you accept noisy figures)")])

"""What ``tune``, ``predict`` and ``report`` learn from: the leads known at T and what happened after T.

A lead's outcome is whether it converted in the window ``(T, T + horizon]``. The outcome column is
either a time (``mql_at``) or a flag with a time column beside it (``converted`` and
``converted_at``); only then can the window be checked. A flag without a time is taken as recorded,
and the result says so, because it may hold conversions from before T.

The population is the leads that existed at T (created before T) and had not converted by T:
leads created later could not have been scored at T, and a lead that already converted has nothing
left to predict. Both exclusions are counted, never silent.

Everything here runs in DuckDB on a scoring session's clean views (``leads``, ``accounts``,
``events``, ``lead_scores``): the rows the engine scored are the rows learned from.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import duckdb
import numpy.typing as npt

from leadscore.compiler.plan import ScoringPlan
from leadscore.errors import DataError, Issue

LIFECYCLE_COLUMNS: frozenset[str] = frozenset({
    "mql_at", "sales_accepted", "rejection_reason", "opportunity", "opportunity_at", "won", "converted",
    "converted_at", "opportunity_amount", "closed_at", "lost_at", "lead_status", "status",
})
"""Columns of leadscore's data layout (``leadscore.synth``) that a CRM fills in as a lead moves
through the funnel. An export holds their value at export time, after T, so they are outcomes, not
features: learners never use them."""

IDENTITY_COLUMNS: frozenset[str] = frozenset({
    "first_name", "last_name", "full_name", "name", "email", "phone", "mobile", "domain", "website",
    "linkedin_url", "address", "street",
})
"""Who a lead is, not what kind of lead it is: names, contact details and web addresses. A learner
that used them would learn that leads called Kenji convert; they are never features (rules may
still read them, as ``email_domain(email)`` does)."""

TRUE_TEXT = ("1", "true", "yes", "y", "t")
FALSE_TEXT = ("0", "false", "no", "n", "f")


def quote(name: str) -> str:
    """A DuckDB identifier (column names come from the data, never from values)."""
    return '"' + name.replace('"', '""') + '"'


def naive_utc(moment: datetime) -> datetime:
    """Times are naive UTC inside leadscore; aware ones are converted."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def column_types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return {str(row[0]): str(row[1]).upper() for row in con.execute(f"DESCRIBE {relation}").fetchall()}


def is_time_type(type_name: str) -> bool:
    return type_name.startswith(("TIMESTAMP", "DATE"))


NUMERIC_PREFIXES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                    "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL")


def is_numeric_type(type_name: str) -> bool:
    return type_name.startswith(NUMERIC_PREFIXES)


def nearest_hint(name: str, columns: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(columns), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    shown = ", ".join(list(columns)[:15])
    return f"lead columns are: {shown}{' ...' if len(columns) > 15 else ''}"


# -- the outcome window -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeWindow:
    """Converted in ``(as_of, as_of + horizon_days]``, read from ``time_column`` (or as recorded)."""

    column: str
    time_column: str | None
    as_of: datetime
    horizon_days: float

    @property
    def end(self) -> datetime:
        return self.as_of + timedelta(days=self.horizon_days)

    def describe(self) -> str:
        if self.time_column is None:
            return f"{self.column} as recorded (no time column, so not limited to a window)"
        return (f"{self.column} within {self.horizon_days:g} days after {self.as_of:%Y-%m-%d %H:%M} "
                f"(by {self.time_column})")

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "time_column": self.time_column, "as_of": self.as_of.isoformat(),
                "horizon_days": self.horizon_days, "end": self.end.isoformat()}


def outcome_window(types: Mapping[str, str], outcome: str, *, as_of: datetime,
                   horizon_days: float) -> OutcomeWindow:
    """Find the outcome's time: the column itself if it is a time, else ``<outcome>_at``."""
    if outcome not in types:
        raise DataError(f"the leads have no outcome column {outcome!r}",
                        [Issue(f"no column {outcome!r} in leads", path="--outcome",
                               hint=nearest_hint(outcome, list(types)))])
    if horizon_days <= 0:
        raise DataError(f"the horizon must be positive, got {horizon_days:g} days")
    time_column: str | None = None
    if is_time_type(types[outcome]):
        time_column = outcome
    elif f"{outcome}_at" in types and is_time_type(types[f"{outcome}_at"]):
        time_column = f"{outcome}_at"
    return OutcomeWindow(outcome, time_column, naive_utc(as_of), float(horizon_days))


@dataclass(frozen=True)
class Population:
    """The labelled leads (temp table ``outcome_labels(lead_id, y)``) and who was left out, and why."""

    leads: int
    conversions: int
    created_after_as_of: int
    converted_before_as_of: int
    outcome_missing: int

    @property
    def base_rate(self) -> float:
        return self.conversions / self.leads if self.leads else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"leads": self.leads, "conversions": self.conversions, "base_rate": self.base_rate,
                "created_after_as_of": self.created_after_as_of,
                "converted_before_as_of": self.converted_before_as_of, "outcome_missing": self.outcome_missing}


def _flag_expression(column: str, type_name: str) -> str:
    quoted = quote(column)
    if type_name == "BOOLEAN":
        return f"CAST({quoted} AS INTEGER)"
    if is_numeric_type(type_name):
        return f"CASE WHEN {quoted} = 1 THEN 1 WHEN {quoted} = 0 THEN 0 END"
    text = f"lower(trim(CAST({quoted} AS VARCHAR)))"
    return (f"CASE WHEN {text} IN ({', '.join(repr(v) for v in TRUE_TEXT)}) THEN 1 "
            f"WHEN {text} IN ({', '.join(repr(v) for v in FALSE_TEXT)}) THEN 0 END")


def label_population(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, window: OutcomeWindow, *,
                     require_both: bool = True) -> Population:
    """Create ``outcome_labels(lead_id, y)``: the population at T with its 0/1 outcome.

    Raises
    ------
    DataError
        The outcome has values that are not 0/1, or (with ``require_both``) no lead, or only one
        class, is left to learn from.
    """
    types = column_types(con, "leads")
    key = quote(plan.lead_key)
    created = plan.lead_created if plan.lead_created and plan.lead_created in types else None
    as_of, end = window.as_of, window.end
    params: list[Any] = []
    existed = "TRUE"
    if created:
        existed = f"({quote(created)} IS NULL OR {quote(created)} < ?)"
        params.append(as_of)
    if window.time_column is not None:
        when = f"TRY_CAST({quote(window.time_column)} AS TIMESTAMP)"
        converted_before = f"coalesce({when} <= ?, FALSE)"
        label = f"CAST(coalesce({when} > ? AND {when} <= ?, FALSE) AS INTEGER)"
        before_params: list[Any] = [as_of]
        label_params: list[Any] = [as_of, end]
        missing = "FALSE"
    else:
        flag = _flag_expression(window.column, types[window.column])
        bad = con.execute(f"SELECT count(*), any_value(CAST({quote(window.column)} AS VARCHAR)) FROM leads "
                          f"WHERE {quote(window.column)} IS NOT NULL AND ({flag}) IS NULL").fetchall()[0]
        if bad and bad[0]:
            raise DataError(f"outcome column {window.column!r} must be 0/1 (1 = converted); "
                            f"{bad[0]} leads have other values, such as {bad[1]!r}",
                            [Issue("not a 0/1 outcome", path="--outcome",
                                   hint="use a true/false, 0/1 or yes/no column, or a time column")])
        converted_before, before_params = "FALSE", []
        label, label_params = f"coalesce({flag}, 0)", []
        missing = f"{quote(window.column)} IS NULL"
    con.execute(f"CREATE OR REPLACE TEMP TABLE outcome_flags AS SELECT {key} AS lead_id, {existed} AS existed, "
                f"{converted_before} AS converted_before, {label} AS y, {missing} AS missing FROM leads",
                [*params, *before_params, *label_params])
    con.execute("CREATE OR REPLACE TEMP TABLE outcome_labels AS SELECT lead_id, y FROM outcome_flags "
                "WHERE existed AND NOT converted_before")
    counts = con.execute("SELECT count(*) FILTER (NOT existed), count(*) FILTER (existed AND converted_before), "
                         "count(*) FILTER (existed AND missing) FROM outcome_flags").fetchall()[0]
    row = con.execute("SELECT count(*), coalesce(sum(y), 0) FROM outcome_labels").fetchall()[0]
    con.execute("DROP TABLE outcome_flags")
    assert counts is not None and row is not None
    population = Population(leads=int(row[0]), conversions=int(row[1]), created_after_as_of=int(counts[0]),
                            converted_before_as_of=int(counts[1]), outcome_missing=int(counts[2]))
    if require_both:
        check_population(population, window)
    return population


def check_population(population: Population, window: OutcomeWindow) -> None:
    if population.leads == 0:
        raise DataError(f"no lead existed before {window.as_of:%Y-%m-%d %H:%M} without having converted",
                        [Issue("nothing to learn from", path="--as-of",
                               hint="choose a later --as-of (leads must be created before it)")])
    if population.conversions in (0, population.leads):
        what = "no lead" if population.conversions == 0 else "every lead"
        raise DataError(f"{what} of the {population.leads:,} leads known at {window.as_of:%Y-%m-%d} "
                        f"converted ({window.describe()}); a model needs converted and lost leads",
                        [Issue("outcome is all one class", path="--outcome",
                               hint="choose an earlier --as-of or a longer --horizon, or another --outcome")])


# -- tables aligned with the population ---------------------------------------------------------------------


def fetch_columns(con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any] | None = None
                  ) -> dict[str, npt.NDArray[Any]]:
    """A query's result as NumPy columns (NULL numbers become NaN, NULL text None)."""
    table = con.sql(query, params=list(params) if params else None).to_arrow_table()
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def scored_frame(con: duckdb.DuckDBPyConnection, columns: Sequence[str]) -> dict[str, npt.NDArray[Any]]:
    """``lead_id``, ``y`` and the given ``lead_scores`` columns for the labelled leads, by lead id."""
    selected = ", ".join(f"s.{quote(c)}" for c in columns)
    return fetch_columns(con, f"SELECT o.lead_id, o.y{', ' if columns else ''}{selected} FROM outcome_labels o "
                              "JOIN lead_scores s ON s.lead_id = o.lead_id ORDER BY o.lead_id")


CandidateKind = Literal["lead", "account"]


@dataclass(frozen=True)
class ProfileColumn:
    """A lead or account column offered to a learner; ``name`` is ``lead.cost``/``account.employees``."""

    kind: CandidateKind
    column: str
    type_name: str

    @property
    def name(self) -> str:
        return f"{self.kind}.{self.column}"


def profile_columns(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, window: OutcomeWindow | None, *,
                    exclude: Sequence[str] = (), accounts: bool = True) -> tuple[list[ProfileColumn],
                                                                                 dict[str, str]]:
    """Lead and account columns a learner may use, and the ones left out with the reason.

    Left out: keys, the outcome and its time, names and contact details (:data:`IDENTITY_COLUMNS`),
    lifecycle columns (:data:`LIFECYCLE_COLUMNS`), times (a learner gets ages instead) and
    ``exclude`` (names as ``cost`` or ``lead.cost``).
    """
    dropped: dict[str, str] = {}
    chosen: list[ProfileColumn] = []
    excluded = set(exclude)
    outcome_columns = {window.column, window.time_column} if window else set()
    sources: list[tuple[CandidateKind, str, set[str]]] = [
        ("lead", "leads", {plan.lead_key, *(c for c in (plan.lead_account, plan.lead_created) if c)})]
    if accounts and con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'accounts' "
                                "AND temporary").fetchall()[0] != (0,):
        sources.append(("account", "accounts", {plan.account_key}))
    for kind, relation, keys in sources:
        for column, type_name in column_types(con, relation).items():
            name = f"{kind}.{column}"
            if column in keys:
                continue
            if kind == "lead" and column in outcome_columns:
                dropped[name] = "the outcome"
            elif column in excluded or name in excluded:
                dropped[name] = "excluded (--exclude)"
            elif column.lower() in IDENTITY_COLUMNS:
                dropped[name] = "a name or contact detail: who the lead is, never a feature"
            elif column in LIFECYCLE_COLUMNS:
                dropped[name] = "a lifecycle column, filled in as the lead converts (an outcome, not a feature)"
            elif is_time_type(type_name):
                dropped[name] = "a time (its value at export is not known at T)"
            else:
                chosen.append(ProfileColumn(kind, column, type_name))
    return chosen, dropped


def profile_values(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, columns: Sequence[ProfileColumn],
                   *, relation: str = "outcome_labels") -> dict[str, npt.NDArray[Any]]:
    """Values of ``columns`` for the leads of ``relation`` (``lead_id`` column), ordered by lead id."""
    lead_part = [f"l.{quote(c.column)} AS {quote(c.name)}" for c in columns if c.kind == "lead"]
    account_part = [f"a.{quote(c.column)} AS {quote(c.name)}" for c in columns if c.kind == "account"]
    join = ""
    if account_part and plan.lead_account:
        join = (f" LEFT JOIN accounts a ON a.{quote(plan.account_key)} = l.{quote(plan.lead_account)}")
    elif account_part:
        account_part = [f"NULL AS {quote(c.name)}" for c in columns if c.kind == "account"]
    selected = ", ".join(["o.lead_id", *lead_part, *account_part])
    return fetch_columns(con, f"SELECT {selected} FROM {relation} o "
                              f"JOIN leads l ON l.{quote(plan.lead_key)} = o.lead_id{join} ORDER BY o.lead_id")

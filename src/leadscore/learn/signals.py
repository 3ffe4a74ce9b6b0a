"""Which signals come before conversion, and how long before: the evidence behind points and half-lives.

For every event type and every profile rule: how often converters and non-converters show it, the
conversion rate of the leads showing it and its lift over the base rate. For event types also the
days from the signal (the last such event before the conversion) to the conversion, over the
converters: the "blog five weeks out, pricing three, contact form one" analysis. A signal far from
conversion wants a long half-life and modest points; one close to it, a short half-life and many.

Only a converter's events before its conversion count (what came after cannot have predicted it);
a non-converter's events all count. A profile rule "shows" when it gives the lead non-zero points,
evaluated as of the scoring date. Computed in DuckDB over the clean ``events`` view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from leadscore.backends import duckdb_engine
from leadscore.compiler.plan import ScoringPlan
from leadscore.errors import DataError, Issue
from leadscore.learn.jsonable import Jsonable
from leadscore.learn.outcomes import (
    REASON_PREFIX,
    OutcomeSpec,
    bool_sql,
    check_outcome_column,
    q,
    resolve_time_column,
    rule_columns,
    table_columns,
    time_sql,
)
from leadscore.learn.sources import scoring_source
from leadscore.spec.loader import LoadedModel


@dataclass(frozen=True)
class SignalRow(Jsonable):
    """One event type or profile rule against the outcome."""

    kind: str  # "event" or "rule"
    name: str
    converters_showing: int
    non_converters_showing: int
    converter_share: float
    non_converter_share: float
    conversion_rate: float | None
    lift: float | None
    median_days_to_conversion: float | None = None
    p25_days_to_conversion: float | None = None
    p75_days_to_conversion: float | None = None
    model_rules: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class SignalReport(Jsonable):
    """``leadscore signals``: event types (closest to conversion first) and profile rules (by lift)."""

    model: str
    model_version: str
    outcome: str
    outcome_time: str | None
    rules_as_of: datetime
    leads: int
    converters: int
    base_rate: float
    events: tuple[SignalRow, ...]
    rules: tuple[SignalRow, ...]
    excluded: dict[str, int]
    warnings: tuple[str, ...]


def _population(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, spec: OutcomeSpec, flat: bool
                ) -> tuple[str | None, dict[str, int]]:
    """Table ``sig_population`` (lead_id, y, converted_at) of the leads with a usable outcome."""
    columns = table_columns(con, "leads")
    check_outcome_column(con, columns, spec.column)
    outcome = bool_sql(spec.column, columns[spec.column])
    time_name = None if flat else resolve_time_column(columns, spec)
    at = time_sql(time_name, columns[time_name]) if time_name else "CAST(NULL AS TIMESTAMP)"
    status = (f"CASE WHEN ({outcome}) IS NULL THEN 'no outcome value' "
              + ("" if flat else f"WHEN ({outcome}) AND {at} IS NULL THEN 'converted with no outcome time' ")
              + "END")
    con.execute(f"CREATE OR REPLACE TEMP TABLE sig_all AS SELECT s.lead_id, coalesce({outcome}, false) AS y, "
                f"{at} AS converted_at, {status} AS status FROM lead_scores s "
                f"JOIN leads l ON l.{q(plan.lead_key)} = s.lead_id")
    excluded = {str(r): int(n) for r, n in con.execute(
        "SELECT status, count(*) FROM sig_all WHERE status IS NOT NULL GROUP BY 1 ORDER BY 1").fetchall()}
    con.execute("CREATE OR REPLACE TEMP TABLE sig_population AS SELECT lead_id, y, converted_at FROM sig_all "
                "WHERE status IS NULL")
    return time_name, excluded


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _row(kind: str, name: str, conv: int, non: int, totals: tuple[int, int], base_rate: float,
         days: tuple[Any, Any, Any] = (None, None, None), model_rules: tuple[dict[str, Any], ...] = ()
         ) -> SignalRow:
    converters, non_converters = totals
    rate = _rate(conv, conv + non)
    return SignalRow(
        kind=kind, name=name, converters_showing=conv, non_converters_showing=non,
        converter_share=conv / converters, non_converter_share=non / max(non_converters, 1),
        conversion_rate=rate, lift=rate / base_rate if rate is not None else None,
        median_days_to_conversion=None if days[0] is None else round(float(days[0]), 2),
        p25_days_to_conversion=None if days[1] is None else round(float(days[1]), 2),
        p75_days_to_conversion=None if days[2] is None else round(float(days[2]), 2), model_rules=model_rules)


def _event_rules(plan: ScoringPlan) -> dict[str, tuple[dict[str, Any], ...]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for rule in plan.event_rules:
        half_life = rule.decay.half_life if rule.decay is not None else None
        found.setdefault(rule.event_type, []).append(
            {"rule": rule.name, "points": rule.points, "half_life_days": half_life,
             "filtered": rule.where is not None})
    return {k: tuple(v) for k, v in found.items()}


def run_signals(loaded: LoadedModel, data: str | Path, spec: OutcomeSpec, *, as_of: datetime | None = None
                ) -> SignalReport:
    """Signals against ``spec``'s outcome over the whole history in ``data``.

    Raises
    ------
    DataError
        No outcome (or time) column, one class only, or fewer than ``spec.min_conversions``.
    """
    with scoring_source(loaded, data) as source:
        session = duckdb_engine.run_scoring(loaded, source.path, as_of=as_of)
        try:
            con, plan = session.con, session.plan
            time_name, excluded = _population(con, plan, spec, source.flat)
            row = con.execute("SELECT count(*), count(*) FILTER (y) FROM sig_population").fetchall()[0]
            leads, converters = int(row[0]), int(row[1])
            _check(spec, leads, converters)
            totals = (converters, leads - converters)
            base_rate = converters / leads
            events = () if source.flat else _event_signals(con, plan, totals, base_rate)
            rules = _rule_signals(con, plan, totals, base_rate)
            rules_as_of = session.as_of
        finally:
            session.close()
    warnings = tuple(f"{n:,} lead(s) left out: {reason}" for reason, n in excluded.items())
    return SignalReport(model=plan.name, model_version=plan.version_hash, outcome=spec.column,
                        outcome_time=time_name, rules_as_of=rules_as_of, leads=leads, converters=converters,
                        base_rate=base_rate, events=events, rules=rules, excluded=excluded, warnings=warnings)


def _check(spec: OutcomeSpec, leads: int, converters: int) -> None:
    if converters in (0, leads):
        what = "converted" if converters else "did not convert"
        raise DataError(f"outcome {spec.column!r} is all one class: every one of the {leads:,} leads {what}",
                        [Issue("one class only", path="--outcome",
                               hint="signals compare converters with non-converters: check --outcome")])
    if converters < spec.min_conversions:
        raise DataError(f"too few conversions: {converters} of {leads:,} leads converted; at least "
                        f"{spec.min_conversions} are needed to compare signals",
                        [Issue(f"{converters} conversions", path="--outcome",
                               hint="use more history (or lower --min-conversions if you accept noisy figures)")])


def _event_signals(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, totals: tuple[int, int], base_rate: float
                   ) -> tuple[SignalRow, ...]:
    lead, ts, kind = q(plan.event_lead), q(plan.event_time), q(plan.event_type)
    rows = con.execute(
        f"WITH last AS (SELECT e.{lead} AS lead_id, CAST(e.{kind} AS VARCHAR) AS signal, max(e.{ts}) AS last_ts "
        f"FROM events e JOIN sig_population p ON p.lead_id = e.{lead} "
        f"WHERE e.{kind} IS NOT NULL AND (NOT p.y OR e.{ts} < p.converted_at) GROUP BY 1, 2), "
        "gaps AS (SELECT l.signal, p.y, CASE WHEN p.y THEN epoch(p.converted_at - l.last_ts) / 86400.0 END AS days "
        "FROM last l JOIN sig_population p USING (lead_id)) "
        "SELECT signal, count(*) FILTER (y), count(*) FILTER (NOT y), median(days), "
        "quantile_cont(days, 0.25), quantile_cont(days, 0.75) FROM gaps GROUP BY 1").fetchall()
    rules = _event_rules(plan)
    out = [_row("event", str(name), int(conv), int(non), totals, base_rate, (med, p25, p75),
                rules.get(str(name), ()))
           for name, conv, non, med, p25, p75 in rows]
    out.sort(key=lambda r: (r.median_days_to_conversion is None, r.median_days_to_conversion or 0.0, r.name))
    return tuple(out)


def _rule_signals(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, totals: tuple[int, int], base_rate: float
                  ) -> tuple[SignalRow, ...]:
    columns = rule_columns(con, [rule.name for rule in plan.profile_rules])
    if not columns:
        return ()
    counts = ", ".join(f"count(*) FILTER (p.y AND coalesce(s.{q(c)}, 0) <> 0), "
                       f"count(*) FILTER (NOT p.y AND coalesce(s.{q(c)}, 0) <> 0)" for c in columns)
    values = con.execute(f"SELECT {counts} FROM sig_population p JOIN lead_scores s USING (lead_id)").fetchall()[0]
    out = [_row("rule", column.removeprefix(REASON_PREFIX), int(values[2 * i]), int(values[2 * i + 1]), totals,
                base_rate)
           for i, column in enumerate(columns) if values[2 * i] or values[2 * i + 1]]
    out.sort(key=lambda r: (-(r.lift or 0.0), r.name))
    return tuple(out)

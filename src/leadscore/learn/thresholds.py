"""Stage thresholds from history: where to put the MQL line for a sales capacity or a target.

Everything is read off one back-test population (leads known at T, outcomes in the horizon):

* capacity (``400/week``): the weekly inflow is the leads created in the ``inflow_weeks`` before T
  divided by the weeks; a threshold's load is how many of those recent leads score at or above it
  at T, per week. The recommendation is the lowest threshold whose load fits the capacity;
* ``target_precision``: the lowest threshold whose leads convert at least that often;
* ``target_recall``: the highest threshold that still holds that share of the conversions.

Precision and recall are measured over the whole evaluated population (more conversions, steadier
figures than the recent leads alone). Thresholds are whole points, as people write them. Only the
score is considered: a stage's ``require`` conditions may hold back some leads above the line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from leadscore.backends import duckdb_engine
from leadscore.compiler.plan import ScoringPlan
from leadscore.errors import DataError, Issue, ModelError
from leadscore.learn.jsonable import Jsonable
from leadscore.learn.leak_guard import check_model_leakage
from leadscore.learn.metrics import threshold_tradeoffs
from leadscore.learn.outcomes import (
    POPULATION_TABLE,
    FloatArray,
    IntArray,
    OutcomeSpec,
    build_population,
    q,
    table_columns,
    time_sql,
)
from leadscore.learn.sources import scoring_source
from leadscore.spec.loader import LoadedModel, dump_model_yaml, load_model_text

WEEKS_PER_UNIT = {"week": 1.0, "wk": 1.0, "w": 1.0, "day": 1.0 / 5.0, "d": 1.0 / 5.0,
                  "month": 52.0 / 12.0, "mo": 52.0 / 12.0, "m": 52.0 / 12.0}  # weeks in one unit
_CAPACITY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*([a-z]+))?\s*$")


def parse_capacity(value: str | float) -> float:
    """Leads per week from ``400/week``, ``80/day`` (5 working days a week), ``1600/month`` or a number.

    Raises
    ------
    DataError
        Not a positive number of leads per week/day/month.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        per_week = float(value)
    else:
        match = _CAPACITY.match(str(value).lower())
        unit = (match.group(2) or "week") if match else ""
        if not match or unit not in WEEKS_PER_UNIT:
            raise DataError(f"cannot read capacity {value!r}",
                            [Issue("not a capacity", path="--capacity",
                                   hint="write leads per period: 400/week, 80/day (5 working days) or 1600/month")])
        per_week = float(match.group(1)) / WEEKS_PER_UNIT[unit]
    if not per_week > 0:
        raise DataError(f"capacity must be more than 0 leads a week, got {value!r}",
                        [Issue("capacity <= 0", path="--capacity", hint="e.g. --capacity 400/week")])
    return per_week


@dataclass(frozen=True)
class ThresholdChoice(Jsonable):
    """What working every lead at or above ``threshold`` gives (``threshold`` None: target unreachable)."""

    criterion: str
    threshold: float | None
    met: bool
    leads_above: int
    share_of_leads: float
    conversions_captured: int
    precision: float | None
    recall: float
    leads_per_week: float | None
    expected_conversions_per_week: float | None
    note: str | None = None


@dataclass(frozen=True)
class TradeoffRow(Jsonable):
    threshold: float
    leads_above: int
    share_of_leads: float
    conversions_captured: int
    precision: float | None
    recall: float
    leads_per_week: float | None


@dataclass(frozen=True)
class ThresholdReport(Jsonable):
    """``leadscore thresholds``: the recommendation for ``stage``, each criterion, and the trade-offs."""

    model: str
    model_version: str
    outcome: str
    as_of: datetime | None
    horizon_days: float | None
    stage: str
    current_min_score: float
    recommended_min_score: float | None
    leads: int
    conversions: int
    base_rate: float
    weekly_inflow: float | None
    inflow_weeks: float | None
    capacity_per_week: float | None
    choices: tuple[ThresholdChoice, ...]
    tradeoffs: tuple[TradeoffRow, ...]
    written: str | None
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Cohort:
    """Scores at T of the recent leads (created in the inflow window) and the weekly inflow."""

    recent_scores: FloatArray
    weeks: float
    weekly_inflow: float


class ThresholdTable:
    """Leads above, conversions captured and load per week for any whole-point threshold."""

    def __init__(self, y: IntArray, score: FloatArray, cohort: Cohort | None) -> None:
        order = np.argsort(score, kind="mergesort")
        self.sorted = score[order]
        self.hits_below = np.r_[0, np.cumsum(y[order])]
        self.total_hits = int(y.sum())
        self.n = int(y.size)
        self.cohort = cohort
        self.recent = np.sort(cohort.recent_scores) if cohort else None
        self.candidates = np.unique(np.ceil(score))

    def above(self, threshold: float) -> tuple[int, int]:
        index = int(np.searchsorted(self.sorted, threshold, side="left"))
        return self.n - index, self.total_hits - int(self.hits_below[index])

    def per_week(self, threshold: float) -> float | None:
        if self.cohort is None or self.recent is None:
            return None
        above = self.recent.size - int(np.searchsorted(self.recent, threshold, side="left"))
        return above / self.cohort.weeks

    def choice(self, criterion: str, threshold: float | None, met: bool, note: str | None = None
               ) -> ThresholdChoice:
        if threshold is None:
            return ThresholdChoice(criterion, None, False, 0, 0.0, 0, None, 0.0, None, None, note)
        leads, hits = self.above(threshold)
        precision = hits / leads if leads else None
        load = self.per_week(threshold)
        expected = load * precision if load is not None and precision is not None else None
        return ThresholdChoice(criterion, float(threshold), met, leads, leads / self.n, hits, precision,
                               hits / self.total_hits, load, expected, note)


def capacity_choice(table: ThresholdTable, capacity: float) -> ThresholdChoice:
    """The lowest whole-point threshold whose weekly load fits ``capacity``."""
    for threshold in table.candidates:
        load = table.per_week(float(threshold))
        if load is not None and load <= capacity:
            return table.choice(f"capacity {capacity:g}/week", float(threshold), True)
    top = float(table.candidates[-1]) + 1.0
    return table.choice(f"capacity {capacity:g}/week", top, True, "even the highest score exceeds the capacity")


def precision_choice(table: ThresholdTable, target: float) -> ThresholdChoice:
    """The lowest threshold whose leads convert at least ``target`` of the time."""
    for threshold in table.candidates:
        leads, hits = table.above(float(threshold))
        if leads and hits / leads >= target:
            return table.choice(f"precision >= {target:g}", float(threshold), True)
    return table.choice(f"precision >= {target:g}", None, False,
                        f"no threshold reaches a conversion rate of {target:g}")


def recall_choice(table: ThresholdTable, target: float) -> ThresholdChoice:
    """The highest threshold whose leads still hold ``target`` of the conversions."""
    for threshold in table.candidates[::-1]:
        _leads, hits = table.above(float(threshold))
        if hits / table.total_hits >= target:
            return table.choice(f"recall >= {target:g}", float(threshold), True)
    return table.choice(f"recall >= {target:g}", float(table.candidates[0]), True)


def recommend(choices: Sequence[ThresholdChoice], recall: ThresholdChoice | None) -> tuple[float | None, list[str]]:
    """Capacity and precision set floors (take the highest); a recall target sets a ceiling."""
    warnings: list[str] = []
    floors = [c.threshold for c in choices if c.threshold is not None]
    if floors:
        best = max(floors)
        if recall is not None and recall.threshold is not None and recall.threshold < best:
            warnings.append(f"the recall target cannot be met within the other limits: at {best:g} the leads hold "
                            f"{recall.recall:.0%} or less of the conversions; the capacity/precision limit wins")
        return best, warnings
    if recall is not None:
        return recall.threshold, warnings
    return None, warnings


def tradeoff_rows(table: ThresholdTable, y: IntArray, score: FloatArray, extra: Sequence[float]
                  ) -> tuple[TradeoffRow, ...]:
    """:func:`threshold_tradeoffs` at the score deciles and the thresholds of interest, with load."""
    deciles = np.unique(np.ceil(np.quantile(score, np.linspace(0.1, 0.9, 9))))
    wanted = sorted({*map(float, deciles), *extra})
    rows = threshold_tradeoffs(y, score, thresholds=wanted).rows
    return tuple(TradeoffRow(r.threshold, r.leads_above, r.share_of_leads, r.conversions_captured, r.precision,
                             r.recall, table.per_week(r.threshold)) for r in rows)


def inflow_cohort(created: Any, recent_scores: FloatArray, as_of: datetime, first_created: datetime | None,
                  inflow_weeks: float) -> Cohort:
    """Weekly inflow over the ``inflow_weeks`` before ``as_of`` (fewer if the data start later)."""
    start = as_of - timedelta(weeks=inflow_weeks)
    if first_created is not None and first_created > start:
        start = first_created
    weeks = max((as_of - start) / timedelta(weeks=1), 1.0 / 7.0)
    return Cohort(recent_scores=recent_scores, weeks=weeks, weekly_inflow=float(created) / weeks)


def write_model_copy(loaded: LoadedModel, stage: str, min_score: float, out: str | Path) -> Path:
    """Write ``loaded``'s file with ``stage``'s ``min_score`` changed; keep everything else (comments
    included when the model came from a file). The copy is validated before it is written.

    Raises
    ------
    DataError
        ``out`` is the model file itself or cannot be written.
    """
    target = Path(out)
    value: float | int = int(min_score) if float(min_score).is_integer() else round(float(min_score), 4)
    source = Path(loaded.source) if loaded.source else None
    if source is not None and source.exists() and target.resolve() == source.resolve():
        raise DataError(f"--write {target} is the model file itself",
                        [Issue("would overwrite the model", file=str(target),
                               hint="write the copy to a new file and review it with leadscore diff")])
    if source is not None and source.is_file():
        original = source.read_text(encoding="utf-8")
        text = _edit_in_place(original, loaded, stage, value) or _round_trip(original, stage, value)
    else:
        document = loaded.spec.model_dump(mode="json", exclude_none=True)
        for entry in document.get("stages", []):
            if entry.get("name") == stage:
                entry["min_score"] = value
        text = dump_model_yaml(document)
    try:
        load_model_text(text, source=str(target), base_dir=source.parent if source else None)
    except ModelError as exc:  # pragma: no cover - changing one number keeps a valid model valid
        raise DataError(f"the changed model would not be valid: {exc.message}", exc.issues) from None
    partial = target.with_name(target.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
    except OSError as exc:
        raise DataError(f"cannot write {target}: {exc.strerror or exc}",
                        [Issue(str(exc), file=str(target), hint="give --write a writable path")]) from None
    return target


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _edit_in_place(text: str, loaded: LoadedModel, stage: str, value: float | int) -> str | None:
    """``text`` with only the number of ``stages[i].min_score`` replaced (every other byte kept), or
    None when that number cannot be found where the model's positions say it is."""
    index = next((i for i, s in enumerate(loaded.spec.stages) if s.name == stage), None)
    where = loaded.positions.values.get(("stages", index, "min_score")) if index is not None else None
    if where is None:
        return None
    lines = text.splitlines(keepends=True)
    line, col = where
    if not 0 < line <= len(lines):
        return None
    match = _NUMBER.match(lines[line - 1], col - 1)
    if match is None:
        return None
    lines[line - 1] = lines[line - 1][: match.start()] + str(value) + lines[line - 1][match.end():]
    edited = "".join(lines)
    check = load_model_text(edited, source=loaded.source)
    return edited if next(s.min_score for s in check.spec.stages if s.name == stage) == value else None


def _round_trip(text: str, stage: str, value: float | int) -> str:
    """Fallback: set the value through ruamel's round-trip mode (comments kept, layout normalised)."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # keep long lines as they are
    yaml.indent(mapping=2, sequence=4, offset=2)
    document = yaml.load(text)
    for entry in document.get("stages", []):
        if entry.get("name") == stage:
            entry["min_score"] = value
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()


def _cohort(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, as_of: datetime, inflow_weeks: float) -> Cohort:
    columns = table_columns(con, "leads")
    created = time_sql(plan.lead_created or "created_at", columns[plan.lead_created or "created_at"])
    start = as_of - timedelta(weeks=inflow_weeks)
    params = {"start": start, "as_of": as_of}
    row = con.execute(f"SELECT count(*) FILTER ({created} >= $start AND {created} < $as_of), min({created}) "
                      "FROM leads", params).fetchall()[0]
    recent = con.execute(f"SELECT p.score FROM {POPULATION_TABLE} p JOIN leads l ON l.{q(plan.lead_key)} = "
                         f"p.lead_id WHERE p.status IS NULL AND {created} >= $start AND {created} < $as_of",
                         params).fetchnumpy()["score"]
    return inflow_cohort(int(row[0]), np.asarray(recent, dtype=np.float64), as_of, row[1], inflow_weeks)


def run_thresholds(loaded: LoadedModel, data: str | Path, spec: OutcomeSpec, *, as_of: datetime | None,
                   capacity_per_week: float | None = None, target_precision: float | None = None,
                   target_recall: float | None = None, stage: str | None = None, write: str | Path | None = None,
                   inflow_weeks: float = 13.0, allow_leak: Sequence[str] = (),
                   leak_threshold: float = 0.95) -> ThresholdReport:
    """Recommend ``stage``'s ``min_score`` from a back-test at ``as_of``; optionally write a model copy."""
    if capacity_per_week is None and target_precision is None and target_recall is None:
        raise DataError("say what the threshold is for",
                        [Issue("no criterion", path="--capacity",
                               hint="give --capacity 400/week, --target-precision 0.1 or --target-recall 0.6")])
    for name, target in (("--target-precision", target_precision), ("--target-recall", target_recall)):
        if target is not None and not 0.0 < target <= 1.0:
            raise DataError(f"{name} must be a share in (0, 1], got {target}",
                            [Issue("out of range", path=name, hint="e.g. 0.1 for 10%")])
    with scoring_source(loaded, data) as source:
        if source.flat and capacity_per_week is not None:
            raise DataError("a flat table has no creation times, so there is no weekly inflow to fit a capacity to",
                            [Issue("--capacity on a flat table", path="--capacity",
                                   hint="use --target-precision or --target-recall instead")])
        if not source.flat and as_of is None:
            raise DataError("thresholds from events need an --as-of date",
                            [Issue("no --as-of", path="--as-of", hint="e.g. --as-of 2026-03-31 --horizon 90d")])
        session = duckdb_engine.run_scoring(loaded, source.path, as_of=as_of)
        try:
            plan = session.plan
            names = [s.name for s in plan.stages]
            chosen = stage or (names[1] if len(names) > 1 else names[0])
            if chosen not in names:
                raise DataError(f"the model has no stage {chosen!r}",
                                [Issue(f"unknown stage {chosen!r}", path="--stage",
                                       hint=f"stages: {', '.join(names)}")])
            pop = build_population(session.con, plan, spec, as_of=None if source.flat else as_of, flat=source.flat)
            check_model_leakage(session.con, plan, allow=allow_leak, threshold=leak_threshold)
            cohort = (_cohort(session.con, plan, as_of, inflow_weeks)
                      if as_of is not None and not source.flat else None)
        finally:
            session.close()
    table = ThresholdTable(pop.y, pop.score, cohort)
    floors = [capacity_choice(table, capacity_per_week)] if capacity_per_week is not None else []
    if target_precision is not None:
        floors.append(precision_choice(table, target_precision))
    recall = recall_choice(table, target_recall) if target_recall is not None else None
    recommended, warnings = recommend(floors, recall)
    current = next(s.min_score for s in plan.stages if s.name == chosen)
    choices = [*floors, *([recall] if recall else []), table.choice(f"current {chosen} min_score", current, True)]
    stage_lines = [s.min_score for s in plan.stages]
    tradeoffs = tradeoff_rows(table, pop.y, pop.score,
                              [*stage_lines, *(c.threshold for c in choices if c.threshold is not None)])
    warnings = list(pop.warnings) + warnings
    above = [s for s in plan.stages[: names.index(chosen)] if recommended is not None and s.min_score < recommended]
    if above:
        warnings.append(f"the recommended {chosen} line {recommended:g} is above {above[0].name}'s min_score "
                        f"{above[0].min_score:g}; stages are tried top-down, so review both")
    written = None
    if write is not None and recommended is not None:
        written = str(write_model_copy(loaded, chosen, recommended, write))
    elif write is not None:
        warnings.append("no model written: no threshold meets the targets")
    return ThresholdReport(
        model=plan.name, model_version=plan.version_hash, outcome=spec.column, as_of=pop.as_of,
        horizon_days=None if source.flat else spec.horizon_days, stage=chosen, current_min_score=current,
        recommended_min_score=recommended, leads=int(pop.y.size), conversions=pop.conversions,
        base_rate=float(pop.y.mean()), weekly_inflow=cohort.weekly_inflow if cohort else None,
        inflow_weeks=cohort.weeks if cohort else None, capacity_per_week=capacity_per_week, choices=tuple(choices),
        tradeoffs=tradeoffs, written=written, warnings=tuple(warnings))

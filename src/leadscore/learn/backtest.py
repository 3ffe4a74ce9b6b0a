"""Back-tests: score every lead as of T with only what was known at T, then check the scores against
what happened in (T, T + horizon].

The engine already ignores events at or after ``as_of``; :mod:`leadscore.learn.outcomes` leaves
out leads created after T and leads that had converted by T, and counts them. A lead's profile
columns are taken as they are in the data (a snapshot has no history of them). Figures: ROC AUC,
PR AUC, and per score band and per stage the conversion rate, lift, funnel reach (MQL, SAL,
opportunity, won where those columns exist) and days to conversion; the same per segment and per
``by`` column. Several as-of dates give a trend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from leadscore.backends import duckdb_engine
from leadscore.compiler.plan import ScoringPlan
from leadscore.errors import DataError, Issue
from leadscore.learn.bands import band_bounds, band_edges, band_numbers
from leadscore.learn.feedback import check_store
from leadscore.learn.feedback_report import FeedbackSummary, summarise_feedback
from leadscore.learn.jsonable import Jsonable
from leadscore.learn.leak_guard import check_model_leakage
from leadscore.learn.metrics import pr_auc, roc_auc
from leadscore.learn.outcomes import FUNNEL_STEPS, BoolArray, FloatArray, OutcomeSpec, Population, build_population
from leadscore.learn.sources import scoring_source
from leadscore.spec.loader import LoadedModel

MAX_GROUP_VALUES = 30
MIN_GROUP_CONVERSIONS = 5
SUSPICIOUS_AUC = 0.99


@dataclass(frozen=True)
class GroupRow(Jsonable):
    """One score band, stage or group value: how its leads converted in the window.

    ``funnel`` counts the leads that reached each funnel step by the end of the window;
    ``funnel_rates`` are step rates (MQL per lead, SAL per MQL, opportunity per SAL, won per
    opportunity); a step with no time column (``funnel_untimed``) is counted as recorded in the
    data, not only within the window. Days are medians over the leads that converted in the window.
    """

    label: str
    leads: int
    conversions: int
    conversion_rate: float | None
    lift: float | None
    share_of_leads: float
    share_of_conversions: float
    lower: float | None = None
    upper: float | None = None
    cumulative_share_of_leads: float | None = None
    cumulative_share_of_conversions: float | None = None
    median_days_to_conversion: float | None = None
    median_days_from_created: float | None = None
    funnel: dict[str, int] | None = None
    funnel_rates: dict[str, float | None] | None = None


@dataclass(frozen=True)
class GroupReport(Jsonable):
    """The leads of one segment or one value of a ``by`` column."""

    column: str
    value: str
    leads: int
    conversions: int
    conversion_rate: float | None
    roc_auc: float | None
    pr_auc: float | None
    note: str | None
    bands: tuple[GroupRow, ...]
    stages: tuple[GroupRow, ...]


@dataclass(frozen=True)
class BacktestWindow(Jsonable):
    """One as-of date: the evaluated leads, the figures, what was left out and why."""

    as_of: datetime | None
    horizon_end: datetime | None
    leads: int
    conversions: int
    base_rate: float
    roc_auc: float
    pr_auc: float
    bands: tuple[GroupRow, ...]
    stages: tuple[GroupRow, ...]
    groups: dict[str, tuple[GroupReport, ...]]
    funnel_steps: tuple[str, ...]
    funnel_missing: tuple[str, ...]
    funnel_untimed: tuple[str, ...]
    excluded: dict[str, int]
    leakage_aucs: dict[str, float]
    warnings: tuple[str, ...]
    feedback: FeedbackSummary | None = None


@dataclass(frozen=True)
class TrendPoint(Jsonable):
    as_of: datetime | None
    leads: int
    conversions: int
    base_rate: float
    roc_auc: float
    pr_auc: float
    top_band_lift: float | None


@dataclass(frozen=True)
class BacktestReport(Jsonable):
    """``leadscore backtest``: one window per as-of date, and the trend over them."""

    model: str
    model_version: str
    data: str
    outcome: str
    outcome_time: str | None
    horizon_days: float | None
    flat: bool
    windows: tuple[BacktestWindow, ...]
    trend: tuple[TrendPoint, ...]
    notes: tuple[str, ...]


def _median(values: FloatArray) -> float | None:
    finite = values[np.isfinite(values)]
    return round(float(np.median(finite)), 2) if finite.size else None


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _funnel(pop: Population, mask: BoolArray, leads: int) -> tuple[dict[str, int], dict[str, float | None]]:
    counts = {name: int((reached & mask).sum()) for name, reached in pop.funnel.items()}
    rates: dict[str, float | None] = {}
    previous = leads
    for step in FUNNEL_STEPS:
        if step.name in counts:
            rates[step.name] = _rate(counts[step.name], previous)
            previous = counts[step.name]
    return counts, rates


def group_row(pop: Population, mask: BoolArray, label: str, base_rate: float, *,
              bounds: tuple[float | None, float | None] = (None, None),
              cumulative: tuple[float | None, float | None] = (None, None)) -> GroupRow:
    """Figures of the leads in ``mask``; shares are of the whole population."""
    leads, hits = int(mask.sum()), int(pop.y[mask].sum())
    rate = _rate(hits, leads)
    funnel, funnel_rates = _funnel(pop, mask, leads) if pop.funnel else (None, None)
    return GroupRow(
        label=label, leads=leads, conversions=hits, conversion_rate=rate,
        lift=rate / base_rate if rate is not None and base_rate else None,
        share_of_leads=leads / pop.y.size, share_of_conversions=hits / max(pop.conversions, 1),
        lower=bounds[0], upper=bounds[1], cumulative_share_of_leads=cumulative[0],
        cumulative_share_of_conversions=cumulative[1],
        median_days_to_conversion=_median(pop.days_to_conversion[mask]),
        median_days_from_created=_median(pop.days_from_created[mask]),
        funnel=funnel, funnel_rates=funnel_rates)


def band_rows(pop: Population, mask: BoolArray, bands: np.ndarray, edges: FloatArray, base_rate: float
              ) -> tuple[GroupRow, ...]:
    """Per score band (1 = highest), with cumulative shares from the top (within ``mask``)."""
    rows: list[GroupRow] = []
    cum_leads = cum_hits = 0
    total_leads, total_hits = int(mask.sum()), int(pop.y[mask].sum())
    for band in range(1, edges.size + 2):
        in_band = mask & (bands == band)
        cum_leads += int(in_band.sum())
        cum_hits += int(pop.y[in_band].sum())
        rows.append(group_row(pop, in_band, f"band {band}", base_rate, bounds=band_bounds(edges, band),
                              cumulative=(_rate(cum_leads, total_leads), _rate(cum_hits, total_hits))))
    return tuple(rows)


def stage_rows(pop: Population, mask: BoolArray, plan: ScoringPlan, base_rate: float) -> tuple[GroupRow, ...]:
    order = [stage.name for stage in plan.stages]
    present = set(pop.stage[mask].tolist())
    labels = [s for s in order if s in present] + sorted(present - set(order))
    return tuple(group_row(pop, mask & (pop.stage == label), label, base_rate) for label in labels)


def _group_reports(pop: Population, plan: ScoringPlan, column: str, labels: np.ndarray, bands: np.ndarray,
                   edges: FloatArray, base_rate: float) -> tuple[GroupReport, ...]:
    values, counts = np.unique(labels.astype(str), return_counts=True)
    ordered = [str(v) for _n, v in sorted(zip(-counts, values, strict=True))]
    shown, rest = ordered[:MAX_GROUP_VALUES], ordered[MAX_GROUP_VALUES:]
    reports: list[GroupReport] = []
    for value in [*shown, *(["(other)"] if rest else [])]:
        mask = np.isin(labels, rest) if value == "(other)" else labels == value
        y, s = pop.y[mask], pop.score[mask]
        hits = int(y.sum())
        auc = ap = None
        note = None
        if hits < MIN_GROUP_CONVERSIONS or hits == y.size:
            note = f"{hits} conversion(s) among {y.size} leads: too few for ROC/PR AUC"
        else:
            auc, ap = roc_auc(y, s), pr_auc(y, s)
        reports.append(GroupReport(
            column=column, value=value, leads=int(y.size), conversions=hits, conversion_rate=_rate(hits, y.size),
            roc_auc=auc, pr_auc=ap, note=note, bands=band_rows(pop, mask, bands, edges, base_rate),
            stages=stage_rows(pop, mask, plan, base_rate)))
    return tuple(reports)


def evaluate_window(pop: Population, plan: ScoringPlan, *, n_bands: int = 10) -> tuple[BacktestWindow, np.ndarray,
                                                                                           FloatArray]:
    """Figures of one evaluated population; also each lead's band number and the band edges."""
    everyone = np.ones(pop.y.size, dtype=np.bool_)
    base_rate = float(pop.y.mean())
    edges = band_edges(pop.score, n_bands)
    bands = band_numbers(pop.score, edges)
    auc, ap = roc_auc(pop.y, pop.score), pr_auc(pop.y, pop.score)
    warnings = list(pop.warnings)
    if auc >= SUSPICIOUS_AUC:
        warnings.append(f"ROC AUC {auc:.3f} is suspiciously close to perfect: check that no rule reads a column "
                        "filled in after the outcome, and that events after the as-of date are not in the data "
                        "under another time")
    groups = {column: _group_reports(pop, plan, column, labels, bands, edges, base_rate)
              for column, labels in pop.groups.items()}
    window = BacktestWindow(
        as_of=pop.as_of, horizon_end=pop.horizon_end, leads=int(pop.y.size), conversions=pop.conversions,
        base_rate=base_rate, roc_auc=auc, pr_auc=ap, bands=band_rows(pop, everyone, bands, edges, base_rate),
        stages=stage_rows(pop, everyone, plan, base_rate), groups=groups, funnel_steps=tuple(pop.funnel),
        funnel_missing=pop.funnel_missing, funnel_untimed=pop.funnel_untimed, excluded=dict(pop.excluded),
        leakage_aucs={}, warnings=tuple(warnings))
    return window, bands, edges


Progress = Callable[[str, float], None]


def run_backtest(loaded: LoadedModel, data: str | Path, spec: OutcomeSpec, *, as_of: Sequence[datetime],
                 by: Sequence[str] = (), n_bands: int = 10, feedback: str | Path | None = None,
                 allow_leak: Sequence[str] = (), leak_threshold: float = 0.95,
                 progress: Progress | None = None) -> BacktestReport:
    """Back-test ``loaded`` on ``data`` at each ``as_of`` date (none for a flat table)."""
    step = progress or (lambda _name, _fraction: None)
    if feedback is not None:
        check_store(feedback)  # before any scoring run: a wrong --feedback fails at once
    windows: list[BacktestWindow] = []
    plan: ScoringPlan | None = None
    outcome_time: str | None = None
    with scoring_source(loaded, data) as source:
        dates: list[datetime | None] = list(as_of)
        if source.flat and len(dates) > 1:
            raise DataError("a flat table has no event times, so it has one back-test, not one per --as-of",
                            [Issue(f"{len(dates)} --as-of dates", path="--as-of",
                                   hint="give at most one --as-of (it only sets 'now' for date functions)")])
        if not source.flat and not dates:
            raise DataError("a back-test on events needs an --as-of date",
                            [Issue("no --as-of", path="--as-of",
                                   hint="give the date to score as of, at least --horizon before the end of the "
                                        "data, e.g. --as-of 2026-03-31 --horizon 90d")])
        for index, when in enumerate(dates or [None]):
            step(f"as of {when:%Y-%m-%d}" if when else "scoring", index / max(len(dates), 1))
            session = duckdb_engine.run_scoring(loaded, source.path, as_of=when)
            try:
                plan = session.plan
                pop = build_population(session.con, plan, spec, as_of=None if source.flat else when,
                                       flat=source.flat, by=by)
                outcome_time = pop.outcome_time
                leaks = check_model_leakage(session.con, plan, allow=allow_leak, threshold=leak_threshold)
                window, bands, _edges = evaluate_window(pop, plan, n_bands=n_bands)
                notes = window.warnings + ((leaks.skipped,) if leaks.skipped else ())
                summary = None
                if feedback is not None:
                    order = [row.label for row in window.bands]
                    summary = summarise_feedback(
                        session.con, feedback, lead_ids=pop.lead_id, bands=[f"band {b}" for b in bands],
                        stages=[str(s) for s in pop.stage], band_order=order,
                        stage_order=[s.name for s in plan.stages])
                windows.append(replace(window, leakage_aucs=leaks.aucs, warnings=notes, feedback=summary))
            finally:
                session.close()
        step("done", 1.0)
    assert plan is not None
    trend = tuple(TrendPoint(as_of=w.as_of, leads=w.leads, conversions=w.conversions, base_rate=w.base_rate,
                             roc_auc=w.roc_auc, pr_auc=w.pr_auc, top_band_lift=w.bands[0].lift if w.bands else None)
                  for w in windows)
    first = windows[0]
    report_notes = [f"leads that converted at or before the as-of date are left out of the evaluation "
             f"({first.excluded.get('converted at or before the as-of date', 0):,} at the first date), as are "
             "leads created after it"] if not source.flat else [
             "flat table: no event times, so the whole table is evaluated and nothing is filtered by date"]
    return BacktestReport(model=plan.name, model_version=plan.version_hash, data=str(data), outcome=spec.column,
                          outcome_time=outcome_time, horizon_days=None if source.flat else spec.horizon_days,
                          flat=source.flat, windows=tuple(windows), trend=trend, notes=tuple(report_notes))


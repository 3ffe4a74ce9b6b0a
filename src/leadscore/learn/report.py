"""The figures of ``leadscore report``: how well a model's scores as of T predicted what happened next.

Everything is computed from one scoring run as of T and the outcomes in ``(T, T + horizon]`` of the
leads known at T (:mod:`leadscore.learn.tune_data`): score distribution by outcome, conversion by
score band and by stage, the lift curve, the calibration of a score-to-probability map, the
threshold trade-off, channel quality and signal-to-conversion times. The last two are SQL in
DuckDB. NumPy only: a report needs no scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt

from leadscore.backends import duckdb_engine
from leadscore.compiler.plan import ScoringPlan
from leadscore.learn.metrics import (
    CalibrationCurve,
    LiftCurve,
    LiftTable,
    ThresholdTradeoffs,
    calibration_curve,
    lift_curve,
    lift_table,
    pr_auc,
    roc_auc,
    threshold_tradeoffs,
)
from leadscore.learn.tune_data import (
    OutcomeWindow,
    column_types,
    fetch_columns,
    is_numeric_type,
    is_time_type,
    label_population,
    outcome_window,
    quote,
    scored_frame,
)
from leadscore.spec.loader import LoadedModel

FloatArray = npt.NDArray[np.float64]
HISTOGRAM_BINS = 20
CHANNEL_COLUMN = "source"


@dataclass(frozen=True)
class Histogram:
    edges: tuple[float, ...]
    converted: tuple[float, ...]  # share of converted leads per bin
    lost: tuple[float, ...]  # share of the other leads per bin


@dataclass(frozen=True)
class ReportFigures:
    """All numbers the HTML report draws; ``to_dict`` is their JSON form."""

    model: str
    model_version: str
    data: str
    window: OutcomeWindow
    leads: int
    conversions: int
    roc_auc: float
    pr_auc: float
    histogram: Histogram
    bands: LiftTable
    stages: tuple[dict[str, Any], ...]
    lift: LiftCurve
    calibration: CalibrationCurve
    thresholds: ThresholdTradeoffs
    channels: tuple[dict[str, Any], ...]
    signals: tuple[dict[str, Any], ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def base_rate(self) -> float:
        return self.conversions / self.leads if self.leads else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "model_version": self.model_version, "data": self.data,
            "outcome": {**self.window.to_dict(), "description": self.window.describe()},
            "leads": self.leads, "conversions": self.conversions, "base_rate": self.base_rate,
            "roc_auc": self.roc_auc, "pr_auc": self.pr_auc,
            "histogram": {"edges": list(self.histogram.edges), "converted": list(self.histogram.converted),
                          "lost": list(self.histogram.lost)},
            "bands": self.bands.to_dict(), "stages": list(self.stages), "lift": self.lift.to_dict(),
            "calibration": self.calibration.to_dict(), "thresholds": self.thresholds.to_dict(),
            "channels": list(self.channels), "signals": list(self.signals), "notes": list(self.notes),
        }


def histogram(y: npt.NDArray[np.int64], scores: FloatArray, bins: int = HISTOGRAM_BINS) -> Histogram:
    low, high = float(scores.min()), float(scores.max())
    if high <= low:
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    converted, _ = np.histogram(scores[y == 1], bins=edges)
    lost, _ = np.histogram(scores[y == 0], bins=edges)
    return Histogram(tuple(float(e) for e in edges), tuple((converted / max(converted.sum(), 1)).tolist()),
                     tuple((lost / max(lost.sum(), 1)).tolist()))


def platt_out_of_fold(y: npt.NDArray[np.int64], scores: FloatArray, *, folds: int = 5, seed: int = 0) -> FloatArray:
    """Probabilities from a logistic map of the score (Platt scaling), each lead's map fitted on the
    other folds, so the calibration curve judges the map on leads it did not see."""
    rng = np.random.default_rng(seed)
    fold = np.empty(y.size, dtype=np.int64)
    for label in (0, 1):
        rows = np.flatnonzero(y == label)
        fold[rng.permutation(rows)] = np.arange(rows.size) % folds
    centre, scale = float(scores.mean()), float(scores.std()) or 1.0
    z = (scores - centre) / scale
    out = np.empty(y.size, dtype=np.float64)
    for k in range(folds):
        test = fold == k
        a, b = _logistic_1d(z[~test], y[~test])
        out[test] = 1.0 / (1.0 + np.exp(-(a + b * z[test])))
    return out


def _logistic_1d(x: FloatArray, y: npt.NDArray[np.int64], iterations: int = 50) -> tuple[float, float]:
    """Intercept and slope of a one-feature logistic regression (Newton's method, tiny ridge)."""
    a, b = 0.0, 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(a + b * x)))
        w = p * (1.0 - p) + 1e-9
        g = np.array([np.sum(p - y), np.sum((p - y) * x) + 1e-6 * b])
        h = np.array([[np.sum(w), np.sum(w * x)], [np.sum(w * x), np.sum(w * x * x) + 1e-6]])
        step = np.linalg.solve(h, g)
        a, b = a - float(step[0]), b - float(step[1])
        if np.abs(step).max() < 1e-10:
            break
    return a, b


def build_report(loaded: LoadedModel, data: str | Path, *, outcome: str, as_of: datetime | None,
                 horizon_days: float, threads: int | None = None) -> ReportFigures:
    """Score ``data`` as of ``as_of`` with ``loaded`` and compute every figure of the report."""
    session = duckdb_engine.run_scoring(loaded, data, as_of=as_of, threads=threads)
    try:
        con, plan = session.con, session.plan
        types = column_types(con, "leads")
        window = outcome_window(types, outcome, as_of=session.as_of, horizon_days=horizon_days)
        population = label_population(con, plan, window)
        frame = scored_frame(con, ["total", "stage"])
        y = np.asarray(frame["y"], dtype=np.int64)
        total = np.asarray(frame["total"], dtype=np.float64)
        notes: list[str] = []
        channels = _channels(con, plan, window, types, notes)
        signals = _signals(con, plan, window, notes)
    finally:
        session.close()
    cuts = np.unique(np.quantile(total, np.linspace(0.05, 0.95, 19)))
    return ReportFigures(
        model=plan.name, model_version=plan.version_hash, data=str(data), window=window,
        leads=population.leads, conversions=population.conversions, roc_auc=roc_auc(y, total),
        pr_auc=pr_auc(y, total), histogram=histogram(y, total), bands=lift_table(y, total, n_bands=10),
        stages=tuple(_stages(plan, frame["stage"], y)), lift=lift_curve(y, total, n_points=20),
        calibration=calibration_curve(y, platt_out_of_fold(y, total), n_bins=10),
        thresholds=threshold_tradeoffs(y, total, thresholds=cuts.tolist()), channels=tuple(channels),
        signals=tuple(signals), notes=tuple(notes))


def _stages(plan: ScoringPlan, stages: npt.NDArray[Any], y: npt.NDArray[np.int64]) -> list[dict[str, Any]]:
    rows = []
    for name in [stage.name for stage in plan.stages]:
        hit = np.asarray(stages == name, dtype=bool)
        leads, conversions = int(hit.sum()), int(y[hit].sum())
        rows.append({"stage": name, "leads": leads, "conversions": conversions,
                     "conversion_rate": conversions / leads if leads else None})
    return rows


def _channels(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, window: OutcomeWindow, types: dict[str, str],
              notes: list[str]) -> list[dict[str, Any]]:
    """Leads, conversions and (where the columns exist) cost and opportunities per ``source``."""
    if CHANNEL_COLUMN not in types:
        notes.append(f"no '{CHANNEL_COLUMN}' column in the leads: channel quality is left out")
        return []
    parts = ["count(*) AS leads", "sum(o.y) AS conversions"]
    params: list[Any] = []
    if "cost" in types and is_numeric_type(types["cost"]):
        parts.append("sum(l.cost) AS cost")
    else:
        notes.append("no numeric 'cost' column: cost per conversion is left out")
    opportunity, opportunity_params = None, []
    if "opportunity_at" in types and is_time_type(types["opportunity_at"]):
        # Opportunities opened in the outcome window, as conversions are counted.
        opportunity = "(l.opportunity_at > ? AND l.opportunity_at <= ?)"
        opportunity_params = [window.as_of, window.end]
    elif "opportunity" in types and types["opportunity"] == "BOOLEAN":
        opportunity = "coalesce(l.opportunity, FALSE)"
    if opportunity:
        parts.append(f"count(*) FILTER (WHERE {opportunity}) AS opportunities")
        params += opportunity_params
        if "opportunity_amount" in types and is_numeric_type(types["opportunity_amount"]):
            parts.append(f"sum(l.opportunity_amount) FILTER (WHERE {opportunity}) AS pipeline")
            params += opportunity_params
    else:
        notes.append("no 'opportunity_at' or 'opportunity' column: opportunities are left out")
    result = fetch_columns(
        con, f"SELECT coalesce(CAST(l.{quote(CHANNEL_COLUMN)} AS VARCHAR), '(none)') AS channel, "
             f"{', '.join(parts)}, avg(s.total) AS mean_score FROM outcome_labels o "
             f"JOIN leads l ON l.{quote(plan.lead_key)} = o.lead_id JOIN lead_scores s ON s.lead_id = o.lead_id "
             "GROUP BY 1 ORDER BY 2 DESC, 1", params)
    rows = []
    for i, channel in enumerate(result["channel"].tolist()):
        row: dict[str, Any] = {"channel": channel}
        for name in ("leads", "conversions", "cost", "opportunities", "pipeline", "mean_score"):
            if name in result:
                value = result[name][i]
                row[name] = None if value is None or (isinstance(value, float) and np.isnan(value)) else (
                    int(value) if name in ("leads", "conversions", "opportunities") else float(value))
        row["conversion_rate"] = row["conversions"] / row["leads"] if row["leads"] else None
        if row.get("cost") is not None:
            row["cost_per_conversion"] = row["cost"] / row["conversions"] if row["conversions"] else None
        rows.append(row)
    return rows


def _signals(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, window: OutcomeWindow,
             notes: list[str]) -> list[dict[str, Any]]:
    """Per event type, days from its last occurrence before conversion to the conversion."""
    if window.time_column is None:
        notes.append("the outcome has no time: signal-to-conversion times are left out")
        return []
    ts, lead, kind = quote(plan.event_time), quote(plan.event_lead), quote(plan.event_type)
    result = fetch_columns(
        con, f"WITH converted AS (SELECT l.{quote(plan.lead_key)} AS lead_id, "
             f"TRY_CAST(l.{quote(window.time_column)} AS TIMESTAMP) AS converted_at FROM leads l "
             f"JOIN outcome_labels o ON o.lead_id = l.{quote(plan.lead_key)} WHERE o.y = 1), "
             f"last AS (SELECT c.lead_id, CAST(e.{kind} AS VARCHAR) AS type, "
             f"date_diff('second', max(e.{ts}), any_value(c.converted_at)) / 86400.0 AS days "
             f"FROM converted c JOIN events e ON e.{lead} = c.lead_id AND e.{ts} <= c.converted_at GROUP BY 1, 2) "
             "SELECT type, count(*) AS leads, median(days) AS median_days, quantile_cont(days, 0.25) AS p25, "
             "quantile_cont(days, 0.75) AS p75 FROM last GROUP BY 1 ORDER BY median_days, type")
    return [{"event_type": str(t), "converted_leads": int(n), "median_days": float(m), "p25_days": float(a),
             "p75_days": float(b)}
            for t, n, m, a, b in zip(result["type"], result["leads"], result["median_days"], result["p25"],
                                     result["p75"], strict=True)]

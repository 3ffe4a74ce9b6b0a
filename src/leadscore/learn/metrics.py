"""Ranking and calibration metrics for lead scores, in plain NumPy.

Every function takes the outcome (0/1, one per lead) first and the scores second, validates both
the same way and returns a float or a frozen result object with ``to_dict()``. The formulas follow
scikit-learn's (``roc_auc_score``, ``average_precision_score``, ``calibration_curve`` with uniform
bins) and the tests check them against it, but NumPy is enough here: no scikit-learn import.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from leadscore.errors import DataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class LearnDataError(DataError, ValueError):
    """Data given to a learner or a metric is unusable.

    Also a ``ValueError``, so code written for scikit-learn (which raises ``ValueError`` for bad
    input) keeps working, and scikit-learn's estimator checks recognise it.
    """


# -- input validation -------------------------------------------------------------------------------


def binary_outcome(y_true: Any, *, name: str = "outcome") -> IntArray:
    """``y_true`` as a 1-D int array of 0/1, or a ``LearnDataError`` saying what is wrong."""
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise LearnDataError(f"{name} must be one value per lead (1-D), got shape {y.shape}")
    if y.size == 0:
        raise LearnDataError(f"no {name} values: give one 0/1 value per lead")
    if y.dtype == bool:
        return y.astype(np.int64)
    if y.dtype.kind not in "iuf":
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise LearnDataError(
                f"{name} must be 0/1 (1 = converted), got values such as {_examples(y)}"
            ) from None
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise LearnDataError(
            f"{name} has {int(np.isnan(y).sum())} missing values; every lead needs 0 or 1"
        )
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        raise LearnDataError(
            f"{name} must be 0/1 (1 = converted), got values such as {_examples(y[bad])}"
        )
    out = y.astype(np.int64)
    positives = int(out.sum())
    if positives in (0, out.size):
        only = "converted (1)" if positives else "not converted (0)"
        raise LearnDataError(
            f"{name} is all one class: every one of the {out.size} leads is {only}; "
            "ranking metrics need both converted and lost leads"
        )
    return out


def _examples(values: npt.NDArray[Any]) -> str:
    shown = list(dict.fromkeys(values.ravel().tolist()))[:3]
    return ", ".join(repr(v) for v in shown)


def score_array(y_score: Any, n: int, *, name: str = "score", probability: bool = False) -> FloatArray:
    """``y_score`` as a finite 1-D float array of length ``n`` (in [0, 1] if ``probability``)."""
    s = np.asarray(y_score)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s.ravel()
    if s.ndim != 1:
        raise LearnDataError(f"{name} must be one value per lead (1-D), got shape {s.shape}")
    if s.size != n:
        raise LearnDataError(
            f"length mismatch: {n} outcome values but {s.size} {name} values; give one of each per lead"
        )
    try:
        out = s.astype(np.float64)
    except (TypeError, ValueError):
        raise LearnDataError(f"{name} must be numeric, got values such as {_examples(s)}") from None
    if not np.isfinite(out).all():
        raise LearnDataError(f"{name} has {int((~np.isfinite(out)).sum())} missing or infinite values")
    if probability and ((out < 0).any() or (out > 1).any()):
        raise LearnDataError(f"{name} must be probabilities in [0, 1], got min {out.min()}, max {out.max()}")
    return out


def _inputs(y_true: Any, y_score: Any, *, probability: bool = False) -> tuple[IntArray, FloatArray]:
    y = binary_outcome(y_true)
    return y, score_array(y_score, y.size, probability=probability)


# -- scalar metrics ---------------------------------------------------------------------------------


def _average_ranks(values: FloatArray) -> FloatArray:
    """1-based ranks; tied values share the average of their ranks."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.r_[0, np.flatnonzero(ordered[1:] != ordered[:-1]) + 1]
    ends = np.r_[starts[1:], values.size]
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def roc_auc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve: the chance a random converted lead outscores a random lost one.

    Ties count one half (the Mann-Whitney statistic), as in ``sklearn.metrics.roc_auc_score``.

    Raises
    ------
    DataError
        No outcome values, outcome all one class or not 0/1, or a length mismatch.
    """
    y, s = _inputs(y_true, y_score)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    rank_sum = float(_average_ranks(s)[y == 1].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def pr_auc(y_true: Any, y_score: Any) -> float:
    """Average precision: precision averaged over the recall steps, highest scores first.

    The step-wise sum of scikit-learn's ``average_precision_score`` (no interpolation).
    """
    y, s = _inputs(y_true, y_score)
    order = np.argsort(-s, kind="mergesort")
    ordered, hits = s[order], y[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(ordered)), y.size - 1]
    true_pos = np.cumsum(hits)[last_of_tie]
    precision = true_pos / (last_of_tie + 1.0)
    recall = true_pos / true_pos[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _uniform_bins(y_prob: FloatArray, n_bins: int) -> tuple[FloatArray, IntArray]:
    if n_bins < 1:
        raise LearnDataError(f"n_bins must be at least 1, got {n_bins}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Same assignment as sklearn.calibration.calibration_curve(strategy="uniform").
    return edges, np.searchsorted(edges[1:-1], y_prob).astype(np.int64)


def expected_calibration_error(y_true: Any, y_prob: Any, *, n_bins: int = 10) -> float:
    """Expected calibration error: |observed rate - mean probability| per equal-width bin,
    weighted by the share of leads in the bin. 0 is perfectly calibrated."""
    return calibration_curve(y_true, y_prob, n_bins=n_bins).ece


# -- result objects -------------------------------------------------------------------------------


class _ToDict:
    def to_dict(self) -> dict[str, Any]:
        fields: dict[str, Any] = asdict(self)  # type: ignore[call-overload]  # mixed into dataclasses only
        return {name: _jsonable(value) for name, value in fields.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class CalibrationPoint(_ToDict):
    bin_lower: float
    bin_upper: float
    mean_predicted: float
    observed_rate: float
    leads: int


@dataclass(frozen=True)
class CalibrationCurve(_ToDict):
    """Non-empty equal-width probability bins and the expected calibration error over them."""

    points: tuple[CalibrationPoint, ...]
    ece: float
    n_bins: int
    leads: int


def calibration_curve(y_true: Any, y_prob: Any, *, n_bins: int = 10) -> CalibrationCurve:
    """Observed conversion rate against mean predicted probability in ``n_bins`` equal-width bins.

    Empty bins are left out; ``ece`` weights each bin by its share of leads.
    """
    y, p = _inputs(y_true, y_prob, probability=True)
    edges, bins = _uniform_bins(p, n_bins)
    counts = np.bincount(bins, minlength=n_bins)
    prob_sums = np.bincount(bins, weights=p, minlength=n_bins)
    hit_sums = np.bincount(bins, weights=y.astype(np.float64), minlength=n_bins)
    points: list[CalibrationPoint] = []
    ece = 0.0
    for b in np.flatnonzero(counts):
        mean_p, rate = prob_sums[b] / counts[b], hit_sums[b] / counts[b]
        ece += counts[b] / y.size * abs(rate - mean_p)
        points.append(CalibrationPoint(float(edges[b]), float(edges[b + 1]), float(mean_p), float(rate),
                                       int(counts[b])))
    return CalibrationCurve(tuple(points), float(ece), n_bins, int(y.size))


@dataclass(frozen=True)
class ScoreBand(_ToDict):
    """Leads with ``lower <= score < upper`` (``None``: unbounded). Band 1 holds the highest scores."""

    band: int
    lower: float | None
    upper: float | None
    leads: int
    conversions: int
    conversion_rate: float | None
    lift: float | None
    cumulative_share_of_leads: float
    cumulative_share_of_conversions: float


@dataclass(frozen=True)
class LiftTable(_ToDict):
    bands: tuple[ScoreBand, ...]
    method: Literal["quantile", "edges"]
    leads: int
    conversions: int
    base_rate: float


def lift_table(
    y_true: Any, y_score: Any, *, n_bands: int = 10, edges: Sequence[float] | None = None
) -> LiftTable:
    """Conversion rate by score band, highest band first, with lift over the base rate.

    Bands are score quantiles (``n_bands`` of about equal size; tied scores stay together, so
    there may be fewer) or, with ``edges``, the intervals between the given increasing cut points
    (``score < edges[0]``, ``edges[0] <= score < edges[1]``, ..., ``score >= edges[-1]``; empty
    bands are kept with ``conversion_rate=None``).
    """
    y, s = _inputs(y_true, y_score)
    if edges is None:
        if n_bands < 1:
            raise LearnDataError(f"n_bands must be at least 1, got {n_bands}")
        cuts = np.unique(np.quantile(s, np.linspace(0.0, 1.0, n_bands + 1)[1:-1]))
        cuts = cuts[cuts > s.min()]
        method: Literal["quantile", "edges"] = "quantile"
    else:
        cuts = np.asarray(edges, dtype=np.float64)
        if cuts.ndim != 1 or not np.isfinite(cuts).all() or (np.diff(cuts) <= 0).any():
            raise LearnDataError(f"edges must be finite and strictly increasing, got {list(edges)}")
        method = "edges"
    index = np.searchsorted(cuts, s, side="right")
    n_intervals = cuts.size + 1
    counts = np.bincount(index, minlength=n_intervals)
    hits = np.bincount(index, weights=y.astype(np.float64), minlength=n_intervals).astype(np.int64)
    base_rate = float(y.mean())
    total_hits = int(y.sum())
    bands: list[ScoreBand] = []
    cum_leads = cum_hits = 0
    bounds = [None, *cuts.tolist(), None]
    for number, i in enumerate(range(n_intervals - 1, -1, -1), start=1):
        leads, conv = int(counts[i]), int(hits[i])
        if method == "quantile" and leads == 0:
            continue
        cum_leads += leads
        cum_hits += conv
        rate = conv / leads if leads else None
        bands.append(ScoreBand(
            band=number, lower=bounds[i], upper=bounds[i + 1], leads=leads, conversions=conv,
            conversion_rate=rate, lift=rate / base_rate if rate is not None else None,
            cumulative_share_of_leads=cum_leads / y.size,
            cumulative_share_of_conversions=cum_hits / total_hits,
        ))
    return LiftTable(tuple(bands), method, int(y.size), total_hits, base_rate)


@dataclass(frozen=True)
class LiftPoint(_ToDict):
    """Working the top ``share_of_leads`` (score at least ``threshold``) captures this much."""

    share_of_leads: float
    leads: int
    threshold: float
    share_of_conversions: float
    lift: float


@dataclass(frozen=True)
class LiftCurve(_ToDict):
    points: tuple[LiftPoint, ...]
    base_rate: float


def lift_curve(y_true: Any, y_score: Any, *, n_points: int = 20) -> LiftCurve:
    """Cumulative gains and lift for the top 1/n_points, 2/n_points, ... of leads by score.

    Leads are taken highest score first; tied scores at a cut are ordered as given (stable sort).
    """
    y, s = _inputs(y_true, y_score)
    if n_points < 1:
        raise LearnDataError(f"n_points must be at least 1, got {n_points}")
    order = np.argsort(-s, kind="mergesort")
    hits = np.cumsum(y[order])
    total, base_rate = int(y.sum()), float(y.mean())
    points: list[LiftPoint] = []
    for k in range(1, n_points + 1):
        top = max(1, math.ceil(k / n_points * y.size))
        captured = int(hits[top - 1])
        points.append(LiftPoint(
            share_of_leads=top / y.size, leads=top, threshold=float(s[order[top - 1]]),
            share_of_conversions=captured / total, lift=(captured / top) / base_rate,
        ))
    return LiftCurve(tuple(points), base_rate)


@dataclass(frozen=True)
class ThresholdRow(_ToDict):
    """Leads scoring at least ``threshold``: how many, and how many of the conversions they hold."""

    threshold: float
    leads_above: int
    share_of_leads: float
    conversions_captured: int
    precision: float | None
    recall: float


@dataclass(frozen=True)
class ThresholdTradeoffs(_ToDict):
    rows: tuple[ThresholdRow, ...]
    leads: int
    conversions: int


def threshold_tradeoffs(
    y_true: Any, y_score: Any, *, thresholds: Sequence[float] | None = None
) -> ThresholdTradeoffs:
    """For each threshold (default: the score deciles), what a "work leads at or above it" rule gets.

    ``precision`` is the conversion rate among those leads (``None`` if there are none) and
    ``recall`` the share of all conversions they hold. Rows are in decreasing threshold order.
    """
    y, s = _inputs(y_true, y_score)
    if thresholds is None:
        cuts = np.unique(np.quantile(s, np.linspace(0.1, 0.9, 9)))
    else:
        cuts = np.unique(np.asarray(list(thresholds), dtype=np.float64))
        if cuts.size == 0 or not np.isfinite(cuts).all():
            raise LearnDataError("thresholds must be a non-empty list of finite numbers")
    total = int(y.sum())
    rows: list[ThresholdRow] = []
    for t in cuts[::-1]:
        above = s >= t
        n_above, captured = int(above.sum()), int(y[above].sum())
        rows.append(ThresholdRow(
            threshold=float(t), leads_above=n_above, share_of_leads=n_above / y.size,
            conversions_captured=captured, precision=captured / n_above if n_above else None,
            recall=captured / total,
        ))
    return ThresholdTradeoffs(tuple(rows), int(y.size), total)


@dataclass(frozen=True)
class ProbabilityReport(_ToDict):
    """The headline figures for a set of predicted conversion probabilities."""

    leads: int
    conversions: int
    base_rate: float
    roc_auc: float
    pr_auc: float
    ece: float
    mean_predicted: float


def evaluate_probabilities(y_true: Any, y_prob: Any, *, n_bins: int = 10) -> ProbabilityReport:
    """ROC AUC, PR AUC and expected calibration error of predicted probabilities."""
    y, p = _inputs(y_true, y_prob, probability=True)
    return ProbabilityReport(
        leads=int(y.size), conversions=int(y.sum()), base_rate=float(y.mean()),
        roc_auc=roc_auc(y, p), pr_auc=pr_auc(y, p),
        ece=expected_calibration_error(y, p, n_bins=n_bins), mean_predicted=float(p.mean()),
    )

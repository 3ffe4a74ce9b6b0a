"""Metrics for lead scores: checked against scikit-learn and against small cases worked by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve as sk_calibration_curve
from sklearn.metrics import average_precision_score, roc_auc_score

from leadscore.errors import DataError
from leadscore.learn.metrics import (
    calibration_curve,
    evaluate_probabilities,
    expected_calibration_error,
    lift_curve,
    lift_table,
    pr_auc,
    roc_auc,
    threshold_tradeoffs,
)

Y = [0, 0, 1, 1]
S = [0.1, 0.4, 0.35, 0.8]


def random_case(seed: int, n: int = 500, ties: bool = True) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = rng.random(n) + 0.3 * y
    if ties:
        s = np.round(s, 1)
    return y, np.clip(s, 0, 1)


def test_roc_auc_hand_computed() -> None:
    # Pairs (converted, lost): (0.35 > 0.1), (0.35 < 0.4), (0.8 > 0.1), (0.8 > 0.4): 3 of 4.
    assert roc_auc(Y, S) == pytest.approx(0.75)


def test_roc_auc_ties_count_one_half() -> None:
    assert roc_auc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)
    assert roc_auc([0, 1, 1], [0.2, 0.2, 0.9]) == pytest.approx(0.75)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_matches_sklearn_with_ties(seed: int) -> None:
    y, s = random_case(seed)
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5)), min_size=2, max_size=40))
def test_roc_auc_matches_sklearn_property(pairs: list[tuple[bool, int]]) -> None:
    y = np.array([int(a) for a, _ in pairs])
    s = np.array([float(b) for _, b in pairs])
    if y.min() == y.max():
        with pytest.raises(DataError, match="all one class"):
            roc_auc(y, s)
        return
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert roc_auc(y, s) + roc_auc(y, -s) == pytest.approx(1.0)


def test_pr_auc_hand_computed() -> None:
    # Ranked: 0.8 (hit: P=1, R=.5), 0.4 (miss), 0.35 (hit: P=2/3, R=1) -> .5*1 + .5*2/3.
    assert pr_auc(Y, S) == pytest.approx(0.5 + 0.5 * 2 / 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pr_auc_matches_sklearn_average_precision(seed: int) -> None:
    y, s = random_case(seed)
    assert pr_auc(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)


def test_ece_hand_computed() -> None:
    # Bin (0, .1]: p=.1, rate .5 -> .4 x half the leads; bin (.8, .9]: p=.9, rate 1 -> .1 x half.
    assert expected_calibration_error([0, 1, 1, 1], [0.1, 0.1, 0.9, 0.9]) == pytest.approx(0.25)


def test_ece_is_zero_when_rates_match_probabilities() -> None:
    assert expected_calibration_error([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.0)


@pytest.mark.parametrize("seed", [0, 3])
def test_calibration_curve_matches_sklearn(seed: int) -> None:
    y, p = random_case(seed, ties=False)
    curve = calibration_curve(y, p, n_bins=10)
    prob_true, prob_pred = sk_calibration_curve(y, p, n_bins=10, strategy="uniform")
    np.testing.assert_allclose([pt.observed_rate for pt in curve.points], prob_true)
    np.testing.assert_allclose([pt.mean_predicted for pt in curve.points], prob_pred)
    assert sum(pt.leads for pt in curve.points) == y.size
    weighted = sum(pt.leads * abs(pt.observed_rate - pt.mean_predicted) for pt in curve.points) / y.size
    assert curve.ece == pytest.approx(weighted)


def test_lift_table_by_given_edges_keeps_empty_bands() -> None:
    table = lift_table([0, 0, 1, 1, 1, 0], [5, 15, 35, 65, 80, 70], edges=[30, 60, 100])
    assert [(b.lower, b.upper, b.leads, b.conversions) for b in table.bands] == [
        (100.0, None, 0, 0), (60.0, 100.0, 3, 2), (30.0, 60.0, 1, 1), (None, 30.0, 2, 0)]
    assert table.bands[0].conversion_rate is None
    assert table.bands[1].conversion_rate == pytest.approx(2 / 3)
    assert table.bands[1].lift == pytest.approx((2 / 3) / 0.5)
    assert table.bands[-1].cumulative_share_of_leads == pytest.approx(1.0)
    assert table.bands[-1].cumulative_share_of_conversions == pytest.approx(1.0)


def test_lift_table_quantile_bands_highest_first() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 1000)
    s = rng.random(1000) + 0.3 * y
    table = lift_table(y, s, n_bands=10)
    assert table.method == "quantile"
    assert len(table.bands) == 10
    assert all(95 <= b.leads <= 105 for b in table.bands)
    assert table.bands[0].conversion_rate > table.bands[-1].conversion_rate  # type: ignore[operator]
    assert sum(b.conversions for b in table.bands) == int(y.sum())


def test_lift_table_quantiles_keep_ties_together() -> None:
    # Quartile edges 1, 1, 1.25: the six leads tied at 1 share one band.
    table = lift_table([0, 1, 0, 1, 1, 0, 1, 0], [1, 1, 1, 1, 1, 1, 2, 3], n_bands=4)
    assert [(b.lower, b.upper, b.leads) for b in table.bands] == [(1.25, None, 2), (None, 1.25, 6)]


def test_lift_curve_top_half_captures_hits() -> None:
    curve = lift_curve([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1], n_points=2)
    first, second = curve.points
    assert (first.share_of_leads, first.share_of_conversions, first.lift) == (0.5, 1.0, 2.0)
    assert first.threshold == pytest.approx(0.8)
    assert (second.share_of_leads, second.share_of_conversions, second.lift) == (1.0, 1.0, 1.0)


def test_threshold_tradeoffs_hand_computed() -> None:
    table = threshold_tradeoffs([1, 0, 1, 0, 0], [90, 80, 70, 20, 10], thresholds=[75, 50, 95])
    rows = {r.threshold: r for r in table.rows}
    assert [r.threshold for r in table.rows] == [95, 75, 50]
    assert (rows[75].leads_above, rows[75].conversions_captured) == (2, 1)
    assert rows[75].precision == pytest.approx(0.5) and rows[75].recall == pytest.approx(0.5)
    assert rows[50].share_of_leads == pytest.approx(0.6) and rows[50].recall == pytest.approx(1.0)
    assert rows[95].leads_above == 0 and rows[95].precision is None


def test_threshold_tradeoffs_default_deciles() -> None:
    y, s = random_case(1, ties=False)
    rows = threshold_tradeoffs(y, s).rows
    assert len(rows) == 9
    assert [r.recall for r in rows] == sorted(r.recall for r in rows)


def test_results_are_frozen_and_json_ready() -> None:
    y, p = random_case(2, ties=False)
    results: list[Any] = [calibration_curve(y, p), lift_table(y, p), lift_curve(y, p),
                          threshold_tradeoffs(y, p), evaluate_probabilities(y, p)]
    for result in results:
        json.dumps(result.to_dict())
        with pytest.raises(AttributeError):
            result.leads = 0


def test_evaluate_probabilities_headline_figures() -> None:
    y, p = random_case(4, ties=False)
    report = evaluate_probabilities(y, p)
    assert report.roc_auc == pytest.approx(roc_auc_score(y, p))
    assert report.pr_auc == pytest.approx(average_precision_score(y, p))
    assert report.leads == y.size and report.conversions == int(y.sum())


@pytest.mark.parametrize(
    ("y", "s", "message"),
    [
        ([1, 1, 1], [0.1, 0.2, 0.3], "all one class"),
        ([0, 0], [0.1, 0.2], "all one class"),
        ([], [], "no outcome values"),
        ([0, 1, 1], [0.1, 0.2], "length mismatch: 3 outcome values but 2"),
        ([0, 1, 2], [0.1, 0.2, 0.3], "must be 0/1"),
        ([0, 1, np.nan], [0.1, 0.2, 0.3], "1 missing values"),
        ([0, 1], [0.1, np.nan], "missing or infinite"),
        (["yes", "no"], [0.1, 0.2], "must be 0/1"),
    ],
)
def test_bad_inputs_raise_data_error(y: list[object], s: list[float], message: str) -> None:
    with pytest.raises(DataError, match=message):
        roc_auc(y, s)


def test_probability_metrics_reject_scores_outside_0_1() -> None:
    with pytest.raises(DataError, match=r"probabilities in \[0, 1\]"):
        expected_calibration_error([0, 1], [0.2, 12.0])


def test_metric_errors_are_also_value_errors() -> None:
    with pytest.raises(ValueError, match="all one class"):
        pr_auc([1, 1], [0.2, 0.3])


def test_importing_learn_metrics_flat_leakage_loads_no_sklearn_or_lightgbm() -> None:
    code = (
        "import sys, leadscore, leadscore.learn, leadscore.learn.metrics, leadscore.learn.flat, "
        "leadscore.learn.leakage\n"
        "heavy = sorted(m for m in ('sklearn', 'lightgbm') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

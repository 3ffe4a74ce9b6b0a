"""Flat lead tables, leakage checks and the calibrated PredictiveScorer."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from leadscore.errors import DataError, LeadScoreError, NotFittedError
from leadscore.learn.artifact import BOOSTER, LINEAR, MANIFEST
from leadscore.learn.flat import (
    XEDUCATION_LEAK_COLUMNS,
    flat_table_from_frame,
    load_flat_table,
    load_xeducation,
)
from leadscore.learn.leakage import check_leakage, detect_leakage
from leadscore.learn.metrics import expected_calibration_error, roc_auc
from leadscore.learn.predictive import (
    PredictiveScorer,
    SmallDataWarning,
    load_scorer,
    save_scorer,
)

REPO = Path(__file__).resolve().parents[1]
XEDUCATION_CSV = Path(os.environ.get("LEADSCORE_XEDUCATION_CSV",
                                     REPO.parent / "shared" / "data" / "xeducation" / "Leads.csv"))
SRC_LEARN = REPO / "src" / "leadscore" / "learn"


def synthetic_leads(n: int = 800, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Leads whose conversion depends on a channel, visits (with gaps) and seniority."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(["webinar", "ads", "referral", "cold"], size=n, p=[0.3, 0.3, 0.2, 0.2])
    visits = rng.poisson(4, n).astype(float)
    visits[rng.random(n) < 0.1] = np.nan
    senior = rng.random(n) < 0.3
    effect = {"webinar": 0.5, "ads": -0.5, "referral": 1.5, "cold": -1.5}
    logit = (np.array([effect[c] for c in channel]) + 0.3 * (np.nan_to_num(visits, nan=2.0) - 4)
             + 1.0 * senior - 0.2)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({"channel": channel, "visits": visits, "senior": np.where(senior, "yes", "no"),
                          "noise": rng.normal(size=n)})
    frame.loc[rng.random(n) < 0.05, "channel"] = None
    return frame, y


# -- flat tables ----------------------------------------------------------------------------------------------


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def small_frame(n: int = 30) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"L{i}" for i in range(n)], "won": [i % 2 for i in range(n)],
                         "source": ["Select" if i % 3 == 0 else f"s{i % 4}" for i in range(n)],
                         "visits": list(range(n)), "always": ["x"] * n})


def test_load_flat_table_reads_features_outcome_and_ids(tmp_path: Path) -> None:
    table = load_flat_table(write_csv(tmp_path / "leads.csv", small_frame()), outcome="won", id_column="id")
    assert table.n_rows == 30 and table.positives == 15
    assert table.numeric_columns == ("visits",) and table.categorical_columns == ("source",)
    assert table.dropped_constant == ("always",)
    assert list(table.ids[:2]) == ["L0", "L1"]  # type: ignore[index]
    assert table.features["source"].isna().sum() == 10  # "Select" means not answered
    assert table.setting == "unchecked"
    json.dumps(table.to_dict())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=["won"]), "columns not found"),
        (lambda f: f.assign(won=[2] + [0, 1] * 14 + [1]), "'won' must be 0/1"),
        (lambda f: f.assign(won=1), "'won' is all one class"),
        (lambda f: f.head(6), "6 rows; at least 20"),
        (lambda f: f.assign(won=[None] + [0, 1] * 14 + [1]), "'won' has 1 missing values"),
        (lambda f: f.assign(id="same"), "'id' must be unique"),
    ],
)
def test_load_flat_table_names_the_problem(
    tmp_path: Path, change: Callable[[pd.DataFrame], pd.DataFrame], message: str
) -> None:
    path = write_csv(tmp_path / "leads.csv", change(small_frame()))
    with pytest.raises(DataError, match=message):
        load_flat_table(path, outcome="won", id_column="id")


def test_missing_outcome_column_suggests_the_nearest_name(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_flat_table(write_csv(tmp_path / "leads.csv", small_frame()), outcome="Won")
    assert "did you mean 'won'?" in str(info.value)


def test_xeducation_defaults_to_the_leak_free_setting() -> None:
    table = load_xeducation(XEDUCATION_CSV)
    assert table.setting == "no_leak" and table.leak_columns_kept == ()
    assert not set(XEDUCATION_LEAK_COLUMNS) & set(table.features.columns)
    assert not {"Prospect ID", "Lead Number", "Converted"} & set(table.features.columns)
    assert "Magazine" in table.dropped_constant
    assert (table.features == "Select").sum().sum() == 0
    assert (table.n_rows, table.positives) == (9240, 3561)


def test_xeducation_header_is_recognised_without_naming_the_preset() -> None:
    table = load_flat_table(XEDUCATION_CSV, outcome="Converted")
    assert table.setting == "no_leak"
    assert not {*XEDUCATION_LEAK_COLUMNS, "Prospect ID", "Lead Number"} & set(table.features.columns)
    unchecked = load_flat_table(XEDUCATION_CSV, outcome="Converted", leak_columns=())
    assert unchecked.setting == "unchecked" and "Tags" in unchecked.features.columns


def test_xeducation_leak_columns_kept_only_explicitly_and_labelled_leaky() -> None:
    table = load_xeducation(XEDUCATION_CSV, keep_leak_columns=["Tags"])
    assert table.setting == "leaky" and table.leak_columns_kept == ("Tags",)
    assert "Tags" in table.features.columns and "Lead Quality" not in table.features.columns


# -- leakage -------------------------------------------------------------------------------------------------


def test_planted_leaking_column_is_flagged() -> None:
    frame, y = synthetic_leads()
    rng = np.random.default_rng(1)
    frame["stage_after_call"] = np.where(y == 1, "closed won", "lost")
    frame.loc[rng.random(len(y)) < 0.02, "stage_after_call"] = "pending"
    frame["days_to_close"] = np.where(y == 1, rng.integers(1, 30, len(y)), rng.integers(40, 90, len(y)))
    report = detect_leakage(frame, y)
    assert set(report.columns) == {"stage_after_call", "days_to_close"}
    assert all(f.roc_auc >= 0.95 for f in report.findings)
    with pytest.raises(DataError) as info:
        check_leakage(frame, y)
    assert "stage_after_call" in str(info.value) and "drop=['stage_after_call']" in str(info.value)
    assert check_leakage(frame, y, allow=["stage_after_call", "days_to_close"]).columns


def test_unique_identifier_column_is_not_a_leak() -> None:
    frame, y = synthetic_leads()
    frame["lead_code"] = [f"c{i}" for i in range(len(y))]
    scores = {f.column: f.roc_auc for f in detect_leakage(frame, y).scores}
    assert scores["lead_code"] == pytest.approx(0.5, abs=0.02)
    assert detect_leakage(frame, y).findings == ()


def test_xeducation_tags_is_flagged_when_kept() -> None:
    table = load_xeducation(XEDUCATION_CSV, keep_leak_columns=True)
    report = detect_leakage(table.features, table.outcome)
    assert report.columns == ("Tags",)
    tags = report.findings[0]
    assert 0.90 < tags.roc_auc < 0.95 and tags.roc_auc_filled is not None and tags.roc_auc_filled > 0.95
    assert detect_leakage(load_xeducation(XEDUCATION_CSV).features, table.outcome).findings == ()


# -- the estimator: scikit-learn's contract -------------------------------------------------------------------


def _check_name(check: Callable[..., Any]) -> str:
    func: Any = check
    while isinstance(func, functools.partial):
        func = func.func
    return str(func.__name__)


def _check_keywords(check: Callable[..., Any]) -> dict[str, Any]:
    keywords: dict[str, Any] = {}
    func: Any = check
    while isinstance(func, functools.partial):
        keywords = {**func.keywords, **keywords}
        func = func.func
    return keywords


def run_array_api_check(estimator: Any, check: Callable[..., Any]) -> None:
    """scikit-learn runs this check only when SciPy's array API switch is set before SciPy is
    imported, so it runs in a fresh interpreter with the switch on (a real run, not a skip)."""
    cls = type(estimator)
    code = (
        "import importlib, json, sys\n"
        "from sklearn.utils.estimator_checks import check_array_api_input\n"
        "cls = getattr(importlib.import_module(sys.argv[1]), sys.argv[2])\n"
        "estimator = cls(**json.loads(sys.argv[3]))\n"
        "check_array_api_input(sys.argv[2], estimator, **json.loads(sys.argv[4]))\n"
    )
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    done = subprocess.run([sys.executable, "-c", code, cls.__module__, cls.__qualname__,
                           json.dumps(estimator.get_params()), json.dumps(_check_keywords(check))],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


@parametrize_with_checks(  # type: ignore[untyped-decorator]  # sklearn is untyped
    [
        PredictiveScorer(min_positives=1, min_negatives=1, n_estimators=20),
        PredictiveScorer(algorithm="logistic", calibration="sigmoid", min_positives=1, min_negatives=1),
    ]
)
def test_sklearn_estimator_checks(estimator: PredictiveScorer, check: Callable[..., Any]) -> None:
    if _check_name(check) == "check_array_api_input" and os.environ.get("SCIPY_ARRAY_API") != "1":
        run_array_api_check(estimator, check)
    else:
        check(estimator)


def test_init_only_stores_parameters_and_fit_validates_them() -> None:
    scorer = PredictiveScorer(algorithm="forest", n_estimators=-3)  # type: ignore[arg-type]
    assert scorer.get_params()["algorithm"] == "forest"
    with pytest.raises(LeadScoreError, match="algorithm='forest' is not one of"):
        scorer.fit(*synthetic_leads(100))


def test_fit_returns_self_and_sets_learned_attributes() -> None:
    X, y = synthetic_leads()
    scorer = PredictiveScorer()
    params = scorer.get_params()
    assert scorer.fit(X, y) is scorer
    assert scorer.get_params() == params
    assert list(scorer.classes_) == [0, 1] and scorer.n_features_in_ == 4
    assert list(scorer.feature_names_in_) == ["channel", "visits", "senior", "noise"]
    assert scorer.categorical_features_ == ("channel", "senior")
    assert (scorer.n_positives_, scorer.calibration_folds_) == (int(y.sum()), 5)


def test_unfitted_use_raises_leadscore_not_fitted_error() -> None:
    X, _ = synthetic_leads(50)
    for method in ("predict_proba", "predict", "reason_codes"):
        with pytest.raises(NotFittedError, match="not fitted yet") as info:
            getattr(PredictiveScorer(), method)(X)
        assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)


@pytest.mark.parametrize("algorithm", ["lightgbm", "logistic"])
def test_probabilities_rank_and_are_calibrated_on_held_out_leads(algorithm: str) -> None:
    X, y = synthetic_leads(4000, seed=1)
    scorer = PredictiveScorer(algorithm=algorithm).fit(X.iloc[:3000], y[:3000])  # type: ignore[arg-type]
    p = scorer.predict_proba(X.iloc[3000:])
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert roc_auc(y[3000:], p[:, 1]) > 0.73  # the true logits reach 0.78 on these leads
    assert expected_calibration_error(y[3000:], p[:, 1]) < 0.06
    assert set(scorer.predict(X.iloc[3000:])) <= {0, 1}


def test_same_random_state_gives_identical_probabilities() -> None:
    X, y = synthetic_leads()
    first = PredictiveScorer(random_state=7).fit(X, y).predict_proba(X)
    second = clone(PredictiveScorer(random_state=7)).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


def test_unseen_and_missing_categories_are_scored() -> None:
    X, y = synthetic_leads()
    scorer = PredictiveScorer().fit(X, y)
    new = X.head(3).assign(channel=pd.Series(["podcast", None, "referral"], dtype=object))
    assert np.isfinite(scorer.predict_proba(new)).all()


def test_small_data_guard_raises_like_a_crm() -> None:
    X, y = synthetic_leads(300)
    keep = np.flatnonzero(y == 0)[:200].tolist() + np.flatnonzero(y == 1)[:12].tolist()
    with pytest.raises(DataError, match="needs at least 40 converted and 40 lost leads, got 12 converted"):
        PredictiveScorer().fit(X.iloc[keep], y[keep])


def test_small_data_guard_can_only_warn() -> None:
    X, y = synthetic_leads(300)
    keep = np.flatnonzero(y == 0)[:200].tolist() + np.flatnonzero(y == 1)[:12].tolist()
    with pytest.warns(SmallDataWarning, match="got 12 converted"):
        scorer = PredictiveScorer(small_data="warn").fit(X.iloc[keep], y[keep])
    assert scorer.predict_proba(X.head(2)).shape == (2, 2)


def test_multiclass_outcome_is_rejected() -> None:
    X, _ = synthetic_leads(200)
    with pytest.raises(DataError, match="Only binary classification is supported"):
        PredictiveScorer().fit(X, np.arange(200) % 3)


# -- reason codes ---------------------------------------------------------------------------------------------


def test_lightgbm_reason_codes_are_the_largest_tree_contributions() -> None:
    X, y = synthetic_leads()
    scorer = PredictiveScorer().fit(X, y)
    codes = scorer.reason_codes(X.head(20), top=4)
    raw = scorer.raw_score(X.head(20))
    totals = np.array([sum(code.contribution for code in row) for row in codes])
    # All four contributions plus LightGBM's constant expected value give the raw score.
    assert np.ptp(raw - totals) < 1e-9
    for i, row in enumerate(codes):
        sizes = [abs(code.contribution) for code in row]
        assert sizes == sorted(sizes, reverse=True)
        by_feature = {code.feature: code.value for code in row}
        original = X["channel"].iloc[i]
        assert by_feature["channel"] == (None if pd.isna(original) else original)


def test_logistic_reason_codes_are_coefficient_times_standardised_value() -> None:
    X, y = synthetic_leads()
    scorer = PredictiveScorer(algorithm="logistic").fit(X, y)
    codes = scorer.reason_codes(X.head(5), top=1)
    noise_term = next(t for t in scorer.model_.terms if t.feature == "noise")  # type: ignore[attr-defined]
    all_codes = scorer.reason_codes(X.head(5), top=4)
    for i, row in enumerate(all_codes):
        noise = next(code for code in row if code.feature == "noise")
        expected = noise_term.coef * (X["noise"].iloc[i] - noise_term.center) / noise_term.scale
        assert noise.contribution == pytest.approx(expected)
    assert len(codes[0]) == 1 and codes[0][0].to_dict()["feature"] in X.columns


# -- artefacts ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("algorithm", "model_file"), [("lightgbm", BOOSTER), ("logistic", LINEAR)])
def test_saved_scorer_loads_with_identical_predictions(tmp_path: Path, algorithm: str, model_file: str) -> None:
    X, y = synthetic_leads()
    scorer = PredictiveScorer(algorithm=algorithm).fit(X, y)  # type: ignore[arg-type]
    save_scorer(scorer, tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == sorted([MANIFEST, model_file])
    manifest = json.loads((tmp_path / "model" / MANIFEST).read_text())
    assert (manifest["format_version"], manifest["algorithm"]) == (1, algorithm)
    loaded = load_scorer(tmp_path / "model")
    new = X.head(50).assign(channel=["podcast"] * 5 + list(X["channel"].iloc[5:50]))
    np.testing.assert_array_equal(loaded.predict_proba(new), scorer.predict_proba(new))
    assert loaded.reason_codes(new) == scorer.reason_codes(new)
    assert loaded.get_params() == scorer.get_params()


def test_loading_an_unknown_artefact_version_is_a_data_error(tmp_path: Path) -> None:
    X, y = synthetic_leads(300)
    save_scorer(PredictiveScorer(algorithm="logistic").fit(X, y), tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    (tmp_path / MANIFEST).write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(DataError, match="unsupported artefact version 99"):
        load_scorer(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        load_scorer(tmp_path / "nowhere")


def test_no_pickle_or_joblib_in_learn() -> None:
    for path in SRC_LEARN.glob("*.py"):
        text = path.read_text()
        for banned in ("import pickle", "import joblib", "from joblib", "cloudpickle", "dill"):
            assert banned not in text, f"{path.name} uses {banned}"


# -- real data ------------------------------------------------------------------------------------------------


def test_xeducation_leak_free_lightgbm_ranks_well_on_a_held_out_split() -> None:
    table = load_xeducation(XEDUCATION_CSV)
    rng = np.random.default_rng(0)
    test = rng.random(table.n_rows) < 0.25
    scorer = PredictiveScorer().fit(table.features[~test], table.outcome[~test])
    p = scorer.predict_proba(table.features[test])[:, 1]
    assert roc_auc(table.outcome[test], p) > 0.89
    assert expected_calibration_error(table.outcome[test], p) < 0.04
    assert flat_table_from_frame(table.features.assign(y=table.outcome), outcome="y").n_rows == 9240

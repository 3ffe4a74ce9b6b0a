"""Integer-points scorecards: rule features, the learner, and export as a leadscore model."""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from leadscore.backends.python_eval import score_lead
from leadscore.compiler.plan import compile_plan
from leadscore.errors import DataError, NotFittedError
from leadscore.learn.flat import XEDUCATION, load_xeducation
from leadscore.learn.metrics import roc_auc
from leadscore.learn.scorecard import (
    IndicatorSet,
    ScorecardLearner,
    build_indicator_features,
    rule_name,
    scorecard_to_model,
)
from leadscore.spec import model_from_dict

XEDUCATION_CSV = Path(os.environ.get("LEADSCORE_XEDUCATION_CSV",
                                     Path(__file__).resolve().parents[2] / "shared" / "data" / "xeducation"
                                     / "Leads.csv"))
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


def leads(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    source = rng.choice(["Google", "google", "Referral", "Direct", "Select"], size=n, p=[.3, .1, .2, .3, .1])
    visits = rng.poisson(5, n).astype(float)
    visits[rng.random(n) < 0.1] = np.nan
    title = rng.choice(["VP Sales", "Engineer", "Student"], size=n)
    effect = {"google": 0.3, "referral": 1.5, "direct": -0.5, "select": -1.0}
    logit = (np.array([effect[s.lower()] for s in source]) + 0.25 * (np.nan_to_num(visits, nan=1) - 5)
             + np.where(title == "VP Sales", 1.0, 0.0) - 0.3)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"Lead Source": source, "TotalVisits": visits, "Job Title": title}), y


# -- indicator features ---------------------------------------------------------------------------------------


def test_indicators_levels_thresholds_and_missing_flags() -> None:
    frame, _ = leads()
    indicators = build_indicator_features(frame, missing_tokens=("Select",), quantiles=(0.25, 0.5, 0.75))
    names = indicators.names
    # "Google" and "google" are one level (value maps match case-insensitively); "Select" is missing.
    assert "Lead Source=Google" in names and "Lead Source=google" not in names
    assert "Lead Source=Select" not in names and "Lead Source is missing" in names
    thresholds = [float(f.threshold or 0) for f in indicators.features if f.kind == "at_least"]
    assert thresholds == sorted(thresholds) and all(t.is_integer() for t in thresholds)
    assert "TotalVisits is missing" in names
    X = indicators.transform(frame)
    assert list(X.columns) == list(names) and set(np.unique(X.to_numpy())) <= {0, 1}
    google = frame["Lead Source"].str.lower() == "google"
    np.testing.assert_array_equal(X["Lead Source=Google"].to_numpy(), google.to_numpy().astype(int))
    at_least = [n for n in names if n.startswith("TotalVisits>=")]
    assert all((X[a] >= X[b]).all() for a, b in itertools.pairwise(at_least))  # cumulative


def test_indicator_min_support_drops_rare_levels() -> None:
    frame = pd.DataFrame({"c": ["a"] * 95 + ["rare"] * 3 + ["b"] * 2})
    assert build_indicator_features(frame, min_support=0.05).names == ("c=a",)


def test_indicators_apply_to_new_leads_with_unseen_values() -> None:
    frame, _ = leads()
    indicators = build_indicator_features(frame)
    new = pd.DataFrame({"Lead Source": ["Podcast", None], "TotalVisits": [100.0, None],
                        "Job Title": ["CEO", "Engineer"]})
    X = indicators.transform(new)
    assert X.filter(like="Lead Source=").to_numpy().sum() == 0
    assert X.loc[0, [n for n in indicators.names if n.startswith("TotalVisits>=")]].all()
    assert X.loc[1, "TotalVisits is missing"] == 1


# -- the learner ----------------------------------------------------------------------------------------------


def _unwrap(check: Callable[..., Any]) -> tuple[str, dict[str, Any]]:
    keywords: dict[str, Any] = {}
    func: Any = check
    while isinstance(func, functools.partial):
        keywords = {**func.keywords, **keywords}
        func = func.func
    return str(func.__name__), keywords


def run_array_api_check_with_scipy_switch(estimator: ScorecardLearner, keywords: dict[str, Any]) -> None:
    """scikit-learn runs this check only when SciPy's array API switch is set before SciPy is
    imported: run it in a fresh interpreter with the switch on (a real run, not a skip)."""
    code = (
        "import json, sys\n"
        "from sklearn.utils.estimator_checks import check_array_api_input\n"
        "from leadscore.learn.scorecard import ScorecardLearner\n"
        "estimator = ScorecardLearner(**json.loads(sys.argv[1]))\n"
        "check_array_api_input('ScorecardLearner', estimator, **json.loads(sys.argv[2]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, json.dumps(estimator.get_params()), json.dumps(keywords)],
                          env={**os.environ, "SCIPY_ARRAY_API": "1"}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


@parametrize_with_checks(  # type: ignore[untyped-decorator]  # sklearn is untyped
    [ScorecardLearner(binary_only=False, Cs=3, cv=3)])
def test_sklearn_estimator_checks(estimator: ScorecardLearner, check: Callable[..., Any]) -> None:
    name, keywords = _unwrap(check)
    if name == "check_array_api_input" and os.environ.get("SCIPY_ARRAY_API") != "1":
        run_array_api_check_with_scipy_switch(estimator, keywords)
    else:
        check(estimator)


def fitted(**params: Any) -> tuple[ScorecardLearner, IndicatorSet, pd.DataFrame, np.ndarray]:
    frame, y = leads()
    indicators = build_indicator_features(frame, missing_tokens=("Select",))
    learner = ScorecardLearner(**params).fit(indicators.transform(frame), y)
    return learner, indicators, frame, y


def test_points_are_pdo_scaled_rounded_coefficients() -> None:
    learner, indicators, _, _ = fitted(pdo=20)
    factor = 20 / math.log(2)
    assert learner.factor_ == pytest.approx(factor)
    assert set(learner.points_) == set(indicators.names)
    for name, coef in zip(learner.features_, learner.coef_, strict=True):
        assert learner.points_[name] == round(factor * coef)
        assert isinstance(learner.points_[name], int)
    assert learner.intercept_points_ == round(factor * learner.intercept_)
    assert learner.points_["Lead Source=Referral"] > 0 > learner.points_["Lead Source is missing"]


def test_score_is_the_integer_points_total() -> None:
    learner, indicators, frame, _ = fitted()
    X = indicators.transform(frame.head(25))
    total = learner.score(X)
    assert total.dtype == np.int64
    expected = [learner.intercept_points_ + sum(learner.points_[c] for c in X.columns if X.loc[i, c] == 1)
                for i in X.index]
    assert total.tolist() == expected
    np.testing.assert_allclose(learner.decision_function(X), (total - learner.offset_) / learner.factor_)
    assert 0.0 <= learner.score(X, learner.predict(X)) <= 1.0  # score(X, y) keeps sklearn's accuracy


def test_twenty_more_points_double_the_odds() -> None:
    learner, indicators, frame, _ = fitted(pdo=20, base_score=600, base_odds=50)
    X = indicators.transform(frame.head(200))
    odds = np.exp(learner.decision_function(X))
    total = learner.score(X)
    np.testing.assert_allclose(odds, 50 * 2 ** ((total - 600) / 20))


def test_l1_penalty_zeroes_weak_rules() -> None:
    frame, y = leads()
    indicators = build_indicator_features(frame, missing_tokens=("Select",))
    X = indicators.transform(frame).assign(coin=np.random.default_rng(3).integers(0, 2, len(y)))
    learner = ScorecardLearner(penalty="l1").fit(X, y)
    assert learner.points_["Lead Source=Referral"] > 0
    assert sum(p == 0 for p in learner.points_.values()) >= 1


def test_non_indicator_features_are_rejected_by_name() -> None:
    frame, y = leads(200)
    X = pd.DataFrame({"is_vp": (frame["Job Title"] == "VP Sales").astype(int), "visits": frame["TotalVisits"]
                      .fillna(0)})
    with pytest.raises(DataError, match=r"expects 0/1 rule features.*\['visits'\]"):
        ScorecardLearner().fit(X, y)


def test_unfitted_scorecard_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        ScorecardLearner().score(pd.DataFrame({"a": [0, 1]}))


# -- export as a leadscore model ----------------------------------------------------------------------------


def test_rule_names_are_sanitised() -> None:
    assert rule_name("Total Time Spent on Website") == "total_time_spent_on_website"
    assert rule_name("1st touch") == "_1st_touch"
    assert rule_name("A free copy of Mastering The Interview") == "a_free_copy_of_mastering_the_interview"


def test_scorecard_model_validates_as_a_leadscore_model() -> None:
    learner, indicators, _, _ = fitted()
    document = scorecard_to_model(learner, indicators, name="tuned")
    loaded = model_from_dict(document)
    rules = loaded.spec.layers["fit"].rules
    assert {r.name for r in rules} >= {"base_points", "lead_source", "totalvisits", "lead_source_missing"}
    source = next(r for r in rules if r.name == "lead_source")
    assert source.column == "Lead Source" and source.default == 0
    assert source.points == {"Google": learner.points_["Lead Source=Google"],
                             **{k.split("=", 1)[1]: v for k, v in learner.points_.items()
                                if k.startswith("Lead Source=") and k != "Lead Source=Google" and v}}
    visits = next(r for r in rules if r.name == "totalvisits")
    assert visits.tiers and visits.tiers[0].when.startswith('"TotalVisits" >= ')
    missing = next(r for r in rules if r.name == "lead_source_missing")
    assert missing.when == "\"Lead Source\" IS NULL OR \"Lead Source\" IN ('Select')"
    assert [s.name for s in loaded.spec.stages] == ["hot", "warm", "cold"]
    mins = [s.min_score for s in loaded.spec.stages]
    assert mins == sorted(mins, reverse=True)


def engine_totals(document: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """Each lead's total from leadscore's own one-lead evaluator (the SQL path's exact numbers)."""
    plan = compile_plan(model_from_dict(document))
    totals = []
    for row in frame.astype(object).to_dict("records"):
        lead = {str(k): None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        totals.append(score_lead(plan, lead, account=None, events=[], as_of=AS_OF).total)
    return np.asarray(totals)


def test_model_total_equals_learner_points_lead_for_lead() -> None:
    learner, indicators, frame, _ = fitted()
    document = scorecard_to_model(learner, indicators, name="tuned")
    np.testing.assert_array_equal(engine_totals(document, frame), learner.score(indicators.transform(frame)))


def test_model_without_intercept_ranks_the_same() -> None:
    learner, indicators, frame, _ = fitted()
    document = scorecard_to_model(learner, indicators, name="tuned", include_intercept=False)
    assert all(rule["name"] != "base_points" for rule in document["layers"]["fit"]["rules"])
    totals = engine_totals(document, frame)
    np.testing.assert_array_equal(totals + learner.intercept_points_, learner.score(indicators.transform(frame)))
    model_from_dict(document)


# -- real data ------------------------------------------------------------------------------------------------


def test_xeducation_scorecard_on_a_held_out_split() -> None:
    table = load_xeducation(XEDUCATION_CSV)
    test = np.random.default_rng(0).random(table.n_rows) < 0.25
    train_frame = table.features[~test]
    indicators = build_indicator_features(train_frame, missing_tokens=XEDUCATION.missing_tokens)
    learner = ScorecardLearner(Cs=5, cv=3).fit(indicators.transform(train_frame), table.outcome[~test])
    points = learner.score(indicators.transform(table.features[test]))
    assert roc_auc(table.outcome[test], points) > 0.88
    document = scorecard_to_model(learner, indicators, name="xeducation-tuned", lead_key="Prospect ID")
    # The engine scores the raw rows ("Select", "google" next to "Google") to the same totals.
    raw = pd.read_csv(XEDUCATION_CSV).loc[test].head(400)
    np.testing.assert_array_equal(engine_totals(document, raw), points[:400])

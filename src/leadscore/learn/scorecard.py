"""Integer-points scorecards learned from outcomes, written out as ordinary leadscore models.

Three steps, each usable alone:

1. :func:`build_indicator_features` turns a flat lead table into named 0/1 rule features, learned
   from the training leads only: one per frequent text level (``Lead Origin=API``), cumulative
   thresholds at numeric quantiles (``TotalVisits>=5``) and missing-value flags
   (``City is missing``). ``IndicatorSet.transform`` applies the same definitions to other leads.
2. :class:`ScorecardLearner` fits a regularised logistic regression with cross-validated strength
   on those features and scales the coefficients to integer points: ``pdo`` points double the odds
   (standard scorecard scaling), so every rule's points read as a change in odds.
3. :func:`scorecard_to_model` writes the points as a leadscore model dict (value maps, first-match
   tiers, conditions): the tuned model is a normal, explainable leadscore model whose total equals
   ``ScorecardLearner.score(X)`` lead for lead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClassifierMixin

from leadscore.errors import Issue
from leadscore.learn.artifact import sigmoid
from leadscore.learn.indicators import (
    DEFAULT_QUANTILES,
    IndicatorFeature,
    IndicatorSet,
    _number_text,
    build_indicator_features,
)
from leadscore.learn.metrics import LearnDataError
from leadscore.learn.predictive import (
    EstimatorNotFittedError,
    binary_target,
    check_choice,
    check_number,
)

# Step 1's names stay importable from here, where the three steps are documented together.
__all__ = ["DEFAULT_QUANTILES", "IndicatorFeature", "IndicatorSet", "ScorecardLearner", "build_indicator_features",
           "rule_name", "scorecard_to_model"]


class ScorecardLearner(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
    """Integer points per 0/1 rule feature, from a logistic regression with cross-validated C.

    Points use scorecard scaling: ``factor = pdo / ln 2`` and ``offset = base_score - factor *
    ln(base_odds)``; a feature's points are ``round(factor * coefficient)`` and the intercept's
    ``round(offset + factor * intercept)``. A lead's total (``score(X)``) therefore maps back to
    log-odds as ``(total - offset) / factor``, which ``decision_function`` and ``predict_proba``
    use, so the probabilities are those of the rounded integer model.

    Parameters
    ----------
    penalty
        ``"l2"`` (ridge; keeps every rule) or ``"l1"`` (lasso; zeroes weak rules).
    Cs, cv, scoring
        Candidate regularisation strengths (count, log-spaced), stratified folds and the
        cross-validation score that picks among them.
    pdo, base_score, base_odds
        Points to double the odds, and the total that means odds of ``base_odds`` to 1.
    binary_only
        Require every feature value to be 0 or 1 (rule features). With ``False`` any finite
        numbers are accepted and points are per unit (totals are then not integers).
    max_iter, random_state
        Solver iterations; the seed that shuffles the cross-validation folds.

    Attributes
    ----------
    points_ : dict feature name -> int points; intercept_points_ : int
    coef_, intercept_, C_, n_iter_ : the logistic fit; factor_, offset_ : the scaling
    classes_, n_features_in_, feature_names_in_ (DataFrame input), features_
    """

    classes_: npt.NDArray[Any]
    features_: tuple[str, ...]
    points_: dict[str, int]
    point_values_: npt.NDArray[np.int64]
    intercept_points_: int
    factor_: float
    offset_: float

    def __init__(
        self,
        *,
        penalty: Literal["l2", "l1"] = "l2",
        Cs: int = 10,
        cv: int = 5,
        scoring: str = "neg_log_loss",
        pdo: float = 20.0,
        base_score: float = 0.0,
        base_odds: float = 1.0,
        binary_only: bool = True,
        max_iter: int = 1000,
        random_state: int | None = 0,
    ) -> None:
        self.penalty = penalty
        self.Cs = Cs
        self.cv = cv
        self.scoring = scoring
        self.pdo = pdo
        self.base_score = base_score
        self.base_odds = base_odds
        self.binary_only = binary_only
        self.max_iter = max_iter
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _check_params(self) -> None:
        check_choice(self, "penalty", self.penalty, ("l2", "l1"))
        check_number(self, "Cs", self.Cs, low=1, integer=True)
        check_number(self, "cv", self.cv, low=2, integer=True)
        check_number(self, "pdo", self.pdo, low=0, strict=True)
        check_number(self, "base_score", self.base_score, low=-math.inf)
        check_number(self, "base_odds", self.base_odds, low=0, strict=True)
        check_number(self, "max_iter", self.max_iter, low=1, integer=True)
        check_choice(self, "binary_only", self.binary_only, (True, False))

    def _matrix(self, X: Any, *, reset: bool) -> npt.NDArray[np.float64]:
        from sklearn.utils.validation import validate_data

        try:
            matrix = np.asarray(validate_data(self, X, reset=reset, dtype=np.float64), dtype=np.float64)
        except ValueError as exc:
            raise LearnDataError(str(exc)) from None
        if reset:
            names = getattr(self, "feature_names_in_", None)
            self.features_ = (tuple(str(n) for n in names) if names is not None
                              else tuple(f"x{j}" for j in range(matrix.shape[1])))
        if self.binary_only:
            bad = [self.features_[j] for j in np.flatnonzero(((matrix != 0) & (matrix != 1)).any(axis=0))]
            if bad:
                raise LearnDataError(
                    f"{type(self).__name__} expects 0/1 rule features; {len(bad)} column(s) have other "
                    f"values: {bad[:5]}",
                    [Issue("not a 0/1 indicator", path=name,
                           hint="build rule features with build_indicator_features, or pass "
                                "binary_only=False for points per unit") for name in bad[:20]])
        return matrix

    def fit(self, X: Any, y: Any) -> ScorecardLearner:
        """Fit the logistic regression (C by stratified cross-validation) and scale it to points."""
        from sklearn.linear_model import LogisticRegressionCV
        from sklearn.model_selection import StratifiedKFold

        self._check_params()
        matrix = self._matrix(X, reset=True)
        self.classes_, labels = binary_target(self, y, matrix.shape[0])
        positives = int(labels.sum())
        folds = min(int(self.cv), positives, labels.size - positives)
        if folds < 2:
            raise LearnDataError(f"{type(self).__name__} needs at least 2 leads of each class for "
                                 f"cross-validation, got {positives} converted and "
                                 f"{labels.size - positives} lost")
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        l1 = self.penalty == "l1"
        model = LogisticRegressionCV(
            Cs=int(self.Cs), cv=splitter, l1_ratios=(1.0,) if l1 else (0.0,),
            solver="liblinear" if l1 else "newton-cholesky", scoring=self.scoring, max_iter=int(self.max_iter),
            random_state=self.random_state, use_legacy_attributes=False,
            **({"intercept_scaling": 100.0} if l1 else {}),
        ).fit(matrix, labels)
        self.coef_ = np.asarray(model.coef_[0], dtype=np.float64)
        self.intercept_ = float(model.intercept_[0])
        self.C_ = float(model.C_)
        self.n_iter_ = int(np.max(model.n_iter_))
        self.factor_ = float(self.pdo) / math.log(2.0)
        self.offset_ = float(self.base_score) - self.factor_ * math.log(float(self.base_odds))
        self.point_values_ = np.rint(self.factor_ * self.coef_).astype(np.int64)
        self.points_ = {name: int(p) for name, p in zip(self.features_, self.point_values_, strict=True)}
        self.intercept_points_ = round(self.offset_ + self.factor_ * self.intercept_)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "points_"):
            raise EstimatorNotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator.")

    def points(self, X: Any) -> npt.NDArray[Any]:
        """Each lead's total: intercept points plus the points of every feature that is 1.

        Integers (int64) when ``binary_only``; with other values, points x value (float64).
        """
        self._check_fitted()
        matrix = self._matrix(X, reset=False)
        total = self.intercept_points_ + matrix @ self.point_values_.astype(np.float64)
        return total.astype(np.int64) if self.binary_only else total

    @overload
    def score(self, X: Any, y: None = None, sample_weight: Any = None) -> npt.NDArray[Any]: ...

    @overload
    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float: ...

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> npt.NDArray[Any] | float:
        """``score(X)``: each lead's integer-points total (see :meth:`points`).

        ``score(X, y)`` keeps scikit-learn's meaning (mean accuracy), so model selection tools
        that call ``estimator.score(X, y)`` work unchanged.
        """
        if y is None:
            return self.points(X)
        return float(super().score(X, y, sample_weight=sample_weight))

    def decision_function(self, X: Any) -> npt.NDArray[np.float64]:
        """Log-odds implied by the integer total: ``(total - offset_) / factor_``."""
        return np.asarray((self.points(X) - self.offset_) / self.factor_, dtype=np.float64)

    def predict_proba(self, X: Any) -> npt.NDArray[np.float64]:
        p = sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> npt.NDArray[Any]:
        positive = self.decision_function(X) > 0
        return np.asarray(self.classes_[positive.astype(np.int64)])


# -- export as a leadscore model --------------------------------------------------------------------


_NAME_PART = re.compile(r"[^A-Za-z0-9]+")


def rule_name(text: str) -> str:
    """``"Total Time Spent on Website"`` -> ``total_time_spent_on_website`` (a valid rule name)."""
    name = _NAME_PART.sub("_", text).strip("_").lower() or "rule"
    return f"_{name}" if name[0].isdigit() else name


def _sql(expression: Any) -> str:
    return str(expression.sql())


def _column_sql(column: str) -> Any:
    from sqlglot import exp

    return exp.column(column, quoted=True)


def _missing_condition(column: str, tokens: Sequence[str], numeric: bool) -> str:
    from sqlglot import exp

    condition: Any = exp.Is(this=_column_sql(column), expression=exp.Null())
    if tokens and not numeric:
        listed = exp.In(this=_column_sql(column), expressions=[exp.Literal.string(t) for t in tokens])
        condition = exp.or_(condition, listed)
    return _sql(condition)


def _at_least_condition(column: str, threshold: float) -> str:
    from sqlglot import exp

    return _sql(exp.GTE(this=_column_sql(column), expression=exp.Literal.number(_number_text(threshold))))


def scorecard_to_model(
    learner: ScorecardLearner,
    indicators: IndicatorSet,
    *,
    name: str,
    layer: str = "fit",
    lead_key: str = "lead_id",
    include_intercept: bool = True,
    stage_probabilities: Mapping[str, float] | None = None,
    lowest_stage: str = "cold",
    description: str | None = None,
) -> dict[str, Any]:
    """A leadscore model dict whose score is the learner's integer-points total.

    Levels of one column become a value-map rule (case-insensitive, default 0); cumulative
    thresholds of one column become first-match tiers whose points are the running sums, highest
    threshold first; missing flags become ``"col" IS NULL`` rules (also matching the missing
    tokens); the intercept, if kept, is a rule with ``when: "true"``. Rules worth 0 points are
    left out. Stages: one per ``stage_probabilities`` entry (default ``hot`` at 50%, ``warm`` at
    20% conversion probability, converted to points) and ``lowest_stage`` from the lowest
    possible total. Check the result with ``leadscore.spec.model_from_dict``.
    """
    learner._check_fitted()
    unknown = [f for f in learner.features_ if f not in indicators.names]
    if unknown:
        raise LearnDataError(f"the learner was fitted on features not in the indicator set: {unknown[:5]}")
    points = learner.points_
    rules: list[dict[str, Any]] = []
    low_total = float(learner.intercept_points_) if include_intercept else 0.0
    used: set[str] = set()

    def unique(text: str) -> str:
        base, k = rule_name(text), 2
        candidate = base
        while candidate in used:
            candidate, k = f"{base}_{k}", k + 1
        used.add(candidate)
        return candidate

    if include_intercept and learner.intercept_points_ != 0:
        rules.append({"name": unique("base_points"), "when": "true", "points": learner.intercept_points_,
                      "description": "intercept: the points every lead starts from"})
    by_column: dict[str, list[IndicatorFeature]] = {}
    for feature in indicators.features:
        if points.get(feature.name, 0) != 0:
            by_column.setdefault(feature.column, []).append(feature)
    for column, features in by_column.items():
        levels = [f for f in features if f.kind == "level"]
        tiers = sorted((f for f in features if f.kind == "at_least"), key=lambda f: -(f.threshold or 0.0))
        missing = [f for f in features if f.kind == "missing"]
        if levels:
            value_points = {str(f.level): points[f.name] for f in levels}
            rules.append({"name": unique(column), "column": column, "points": value_points, "default": 0})
            low_total += min(0, *value_points.values())
        if tiers:
            running = np.cumsum([points[f.name] for f in reversed(tiers)])[::-1]
            rules.append({"name": unique(column), "tiers": [
                {"when": _at_least_condition(column, float(f.threshold or 0.0)), "points": int(p)}
                for f, p in zip(tiers, running, strict=True)]})
            low_total += min(0, int(running.min()))
        for f in missing:
            rules.append({"name": unique(f"{column}_missing"),
                          "when": _missing_condition(column, indicators.missing_tokens, f.numeric_column),
                          "points": points[f.name]})
            low_total += min(0, points[f.name])
    if not rules:
        raise LearnDataError("the scorecard gives every rule 0 points: nothing to write as a model",
                             [Issue("all points are 0", hint="use more leads, more features or a larger "
                                                              "pdo (more points per doubling of the odds)")])
    shift = 0.0 if include_intercept else float(learner.intercept_points_)
    stages: list[dict[str, Any]] = []
    chosen = {"hot": 0.5, "warm": 0.2} if stage_probabilities is None else dict(stage_probabilities)
    for stage, probability in sorted(chosen.items(), key=lambda kv: -kv[1]):
        if not 0.0 < probability < 1.0:
            raise LearnDataError(f"stage {stage!r}: probability must be in (0, 1), got {probability}")
        logit = math.log(probability / (1.0 - probability))
        threshold = learner.offset_ + learner.factor_ * logit - shift
        stages.append({"name": stage, "min_score": math.ceil(threshold)})
    lowest = min([low_total, *(float(s["min_score"]) for s in stages)])
    stages.append({"name": lowest_stage, "min_score": math.floor(lowest)})
    model: dict[str, Any] = {
        "model": name,
        "version": 1,
        "description": description or (
            f"Learned by ScorecardLearner: {learner.pdo:g} points double the odds; "
            f"{learner.penalty} penalty, C={learner.C_:.4g}."),
        "data": {"leads": {"key": lead_key}},
        "layers": {layer: {"rules": rules}},
        "stages": stages,
    }
    return model

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
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from leadscore.errors import Issue
from leadscore.learn.artifact import sigmoid
from leadscore.learn.metrics import LearnDataError
from leadscore.learn.predictive import (
    EstimatorNotFittedError,
    binary_target,
    check_choice,
    check_number,
)

DEFAULT_QUANTILES: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)

# -- candidate indicator features ---------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorFeature:
    """One 0/1 rule feature: a text level (case-insensitive), ``column >= threshold`` or missing."""

    name: str
    column: str
    kind: Literal["level", "at_least", "missing"]
    level: str | None = None
    threshold: float | None = None
    support: float = 0.0
    numeric_column: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "column": self.column, "kind": self.kind, "level": self.level,
                "threshold": self.threshold, "support": self.support,
                "numeric_column": self.numeric_column}


@dataclass(frozen=True)
class IndicatorSet:
    """Indicator definitions learned from training leads; ``transform`` applies them to any leads."""

    features: tuple[IndicatorFeature, ...]
    missing_tokens: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A 0/1 (int8) column per feature, in ``names`` order, one row per lead of ``frame``."""
        missing_columns = sorted({f.column for f in self.features} - {str(c) for c in frame.columns})
        if missing_columns:
            raise LearnDataError(f"columns missing from the leads: {missing_columns}")
        out: dict[str, npt.NDArray[np.int8]] = {}
        cache: dict[str, tuple[pd.Series, npt.NDArray[np.bool_]]] = {}
        for feature in self.features:
            if feature.column not in cache:
                cache[feature.column] = _column_values(frame[feature.column], self.missing_tokens)
            values, missing = cache[feature.column]
            if feature.kind == "missing":
                hit = missing
            elif feature.kind == "level":
                level = (feature.level or "").casefold()
                hit = np.asarray(values.to_numpy(dtype=object) == level, dtype=bool) & ~missing
            else:
                numbers = values.to_numpy(dtype=np.float64)
                hit = ~missing & (np.nan_to_num(numbers, nan=-np.inf) >= float(feature.threshold or 0.0))
            out[feature.name] = np.asarray(hit, dtype=np.int8)
        return pd.DataFrame(out, index=frame.index, columns=list(self.names))

    def to_dict(self) -> dict[str, Any]:
        return {"features": [f.to_dict() for f in self.features], "missing_tokens": list(self.missing_tokens)}


def _is_numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def _column_values(
    series: pd.Series, missing_tokens: Sequence[str]
) -> tuple[pd.Series, npt.NDArray[np.bool_]]:
    """Numbers as float; text casefolded. Missing: NA or one of ``missing_tokens``."""
    missing = series.isna().to_numpy()
    if _is_numeric(series):
        return series.astype("float64"), missing
    text = series.astype("object").to_numpy()
    tokens = {t.casefold() for t in missing_tokens}
    folded = [None if m else str(v).casefold() for v, m in zip(text, missing, strict=True)]
    missing = missing | np.array([v in tokens for v in folded], dtype=bool)
    return pd.Series(folded, dtype=object, index=series.index), missing


def build_indicator_features(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    min_support: float = 0.01,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    missing_indicators: bool = True,
    max_levels: int = 50,
    missing_tokens: Sequence[str] = (),
) -> IndicatorSet:
    """Candidate 0/1 rule features learned from ``frame`` (the training leads only).

    Parameters
    ----------
    frame
        Lead features; numeric columns get thresholds, other columns get levels.
    columns
        Columns to use (default: all).
    min_support
        A level, threshold or missing flag must hold for at least this share of the leads, and
        fail for at least this share, to become a feature.
    quantiles
        Numeric thresholds ``column >= q`` at these quantiles of the column's values (each
        threshold is a value that occurs in the data).
    missing_indicators
        Add ``<column> is missing`` flags.
    max_levels
        At most this many of a column's most frequent levels.
    missing_tokens
        Text values that mean missing (a form's ``Select``).
    """
    if not 0.0 <= min_support < 0.5:
        raise LearnDataError(f"min_support must be in [0, 0.5), got {min_support}")
    if any(not 0.0 < q < 1.0 for q in quantiles):
        raise LearnDataError(f"quantiles must be strictly between 0 and 1, got {list(quantiles)}")
    if len(frame) == 0:
        raise LearnDataError("no leads to build indicator features from")
    names = [str(c) for c in frame.columns] if columns is None else list(columns)
    absent = [c for c in names if c not in frame.columns]
    if absent:
        raise LearnDataError(f"columns not in the leads: {absent}")
    n = len(frame)

    def frequent(count: int) -> bool:
        return count >= max(1.0, min_support * n) and n - count >= max(1.0, min_support * n)

    features: list[IndicatorFeature] = []
    for column in names:
        values, missing = _column_values(frame[column], missing_tokens)
        if _is_numeric(frame[column]):
            present = values.to_numpy(dtype=np.float64)[~missing]
            if present.size:
                cuts = np.unique(np.quantile(present, list(quantiles), method="higher"))
                for cut in cuts[cuts > present.min()]:
                    count = int((present >= cut).sum())
                    if frequent(count):
                        features.append(IndicatorFeature(
                            f"{column}>={_number_text(float(cut))}", column, "at_least",
                            threshold=float(cut), support=count / n, numeric_column=True))
        else:
            original = frame[column].astype("object").to_numpy()
            spelling: dict[str, dict[str, int]] = {}
            for raw, key, m in zip(original, values.to_numpy(dtype=object), missing, strict=True):
                if not m:
                    spelling.setdefault(key, {}).setdefault(str(raw), 0)
                    spelling[key][str(raw)] += 1
            ranked = sorted(spelling.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:max_levels]
            for _key, spellings in ranked:
                count = sum(spellings.values())
                if frequent(count):
                    level = max(spellings.items(), key=lambda kv: (kv[1], kv[0]))[0]
                    features.append(IndicatorFeature(f"{column}={level}", column, "level", level=level,
                                                     support=count / n))
        if missing_indicators and frequent(int(missing.sum())):
            features.append(IndicatorFeature(f"{column} is missing", column, "missing",
                                             support=float(missing.mean()),
                                             numeric_column=_is_numeric(frame[column])))
    return IndicatorSet(tuple(features), tuple(missing_tokens))


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


# -- the learner --------------------------------------------------------------------------------------


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

"""``PredictiveScorer``: a calibrated conversion-probability model with per-lead reason codes.

A scikit-learn classifier (it passes ``parametrize_with_checks``) over a DataFrame of lead
features: numeric columns as numbers, text columns as categories. Two algorithms:

* ``"lightgbm"``: gradient-boosted trees with LightGBM's native categorical splits; reason codes
  are its exact additive contributions (``pred_contrib=True``, in log-odds);
* ``"logistic"``: L2 logistic regression on one-hot levels and median-imputed numbers (with a
  missing indicator), all standardised; reason codes are coefficient x standardised value.

Probabilities are calibrated by cross-fitting inside ``fit``: the training leads are split into
``calibration_cv`` stratified folds, a model trained on the other folds scores each fold, and the
calibrator (isotonic or sigmoid) is fitted on those out-of-fold scores only. The final model is
then trained on all leads. No lead is ever scored by a model or a calibrator that saw its outcome
during calibration, and nothing learned in ``fit`` looks at data passed to ``predict_proba``.

``save_scorer`` / ``load_scorer`` write and read a directory of JSON and LightGBM's text model,
never pickle (:mod:`leadscore.learn.artifact`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError as SklearnNotFittedError

from leadscore.errors import Issue, LeadScoreError, NotFittedError
from leadscore.learn.artifact import (
    BaseModel,
    Calibrator,
    fit_calibrator,
    fit_lightgbm,
    fit_linear,
    prepare_frame,
    read_artifact,
    write_artifact,
)
from leadscore.learn.metrics import LearnDataError

FloatArray = npt.NDArray[np.float64]

LIGHTGBM_FIXED_PARAMS: Mapping[str, Any] = MappingProxyType({
    "objective": "binary",
    "lambda_l2": 1.0,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "feature_fraction": 0.8,
    "max_cat_to_onehot": 4,
    "cat_smooth": 10.0,
    "min_data_per_group": 20,
    "deterministic": True,
    "force_col_wise": True,
    "verbose": -1,
})
"""LightGBM settings that are not estimator parameters (kept small and regularised on purpose)."""


class ParameterError(LeadScoreError, ValueError):
    """An estimator parameter has a value it cannot take (raised by ``fit``, not ``__init__``)."""


class EstimatorNotFittedError(NotFittedError, SklearnNotFittedError):  # type: ignore[misc]  # untyped base
    """leadscore's ``NotFittedError`` that scikit-learn's tools also recognise as their own."""


class SmallDataWarning(UserWarning):
    """A learner was trained on fewer outcomes than it needs for stable scores."""


def check_choice(owner: object, name: str, value: object, allowed: tuple[object, ...]) -> None:
    if value not in allowed:
        raise ParameterError(f"{type(owner).__name__}: {name}={value!r} is not one of {list(allowed)}")


def check_number(owner: object, name: str, value: object, *, low: float, integer: bool = False,
                 strict: bool = False) -> None:
    ok_type = isinstance(value, int | np.integer) if integer else isinstance(value, int | float | np.number)
    if isinstance(value, bool) or not ok_type or not (value > low if strict else value >= low):  # type: ignore[operator]
        kind = "an integer" if integer else "a number"
        raise ParameterError(f"{type(owner).__name__}: {name}={value!r} must be {kind} "
                             f"{'>' if strict else '>='} {low}")


def binary_target(owner: object, y: Any, n_rows: int) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """Validate a classifier's ``y``: the two classes (sorted) and ``y`` as 0/1 (1 = ``classes[1]``).

    Errors carry the phrases scikit-learn's estimator checks look for ("requires y to be passed",
    "Only binary classification is supported", "1 class").
    """
    from sklearn.utils import check_array, column_or_1d
    from sklearn.utils.multiclass import check_classification_targets, type_of_target

    name = type(owner).__name__
    if y is None:
        raise LearnDataError(f"{name} requires y to be passed, but the target y is None")
    try:
        values = column_or_1d(y, warn=True)
        values = check_array(values, ensure_2d=False, dtype=None, input_name="y")
        check_classification_targets(values)
    except ValueError as exc:
        raise LearnDataError(str(exc)) from None
    if values.shape[0] != n_rows:
        raise LearnDataError(f"length mismatch: X has {n_rows} rows but y has {values.shape[0]} values")
    target_type = type_of_target(values, input_name="y")
    if target_type != "binary":
        raise LearnDataError("Only binary classification is supported (converted or not). "
                             f"The type of the target is {target_type}.")
    classes = np.unique(values)
    if classes.size != 2:
        raise LearnDataError(f"{name} needs two classes in y (converted and lost), got 1 class: "
                             f"{classes.tolist()}")
    return classes, (values == classes[1]).astype(np.int64)


# -- the estimator -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonCode:
    """One feature's contribution to a lead's score, in log-odds (before calibration)."""

    feature: str
    value: Any
    contribution: float

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "value": self.value, "contribution": self.contribution}


class PredictiveScorer(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
    """Calibrated probability of conversion from a lead-feature table, with reason codes.

    Parameters
    ----------
    algorithm
        ``"lightgbm"`` (boosted trees) or ``"logistic"`` (regularised logistic regression).
    n_estimators, learning_rate, num_leaves, min_child_samples
        LightGBM's boosting rounds, shrinkage, leaves per tree and leads per leaf.
    C
        Inverse L2 strength of the logistic regression.
    calibration
        ``"isotonic"``, ``"sigmoid"`` (Platt) or ``"none"``; fitted on out-of-fold scores.
    calibration_cv
        Folds for cross-fitting the calibration (fewer if a class has fewer leads).
    min_positives, min_negatives
        Fewer converted / lost training leads than this is an error (or a warning).
    small_data
        ``"raise"`` a ``DataError`` below the minimums, or ``"warn"`` and train anyway.
    n_jobs
        Threads for LightGBM.
    random_state
        Seed for the calibration folds and LightGBM's bagging.

    Attributes
    ----------
    classes_, n_features_in_, feature_names_in_ (DataFrame input with string column names)
    features_ : tuple of the column names used (``x0``, ``x1``... for arrays)
    categorical_features_ : the text columns, treated as categories
    model_ : the fitted base model; calibrator_ : the fitted calibrator
    n_positives_, n_negatives_, calibration_folds_
    """

    # Declared for type checkers only: fit() sets them (no attribute exists before fitting).
    classes_: npt.NDArray[Any]
    features_: tuple[str, ...]
    categorical_features_: tuple[str, ...]
    model_: BaseModel
    calibrator_: Calibrator
    n_positives_: int
    n_negatives_: int
    calibration_folds_: int

    def __init__(
        self,
        *,
        algorithm: Literal["lightgbm", "logistic"] = "lightgbm",
        n_estimators: int = 300,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        C: float = 1.0,
        calibration: Literal["isotonic", "sigmoid", "none"] = "isotonic",
        calibration_cv: int = 5,
        min_positives: int = 40,
        min_negatives: int = 40,
        small_data: Literal["raise", "warn"] = "raise",
        n_jobs: int = 1,
        random_state: int | None = 0,
    ) -> None:
        self.algorithm = algorithm
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.C = C
        self.calibration = calibration
        self.calibration_cv = calibration_cv
        self.min_positives = min_positives
        self.min_negatives = min_negatives
        self.small_data = small_data
        self.n_jobs = n_jobs
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    # -- fitting -------------------------------------------------------------------------------------------

    def _check_params(self) -> None:
        check_choice(self, "algorithm", self.algorithm, ("lightgbm", "logistic"))
        check_choice(self, "calibration", self.calibration, ("isotonic", "sigmoid", "none"))
        check_choice(self, "small_data", self.small_data, ("raise", "warn"))
        check_number(self, "n_estimators", self.n_estimators, low=1, integer=True)
        check_number(self, "learning_rate", self.learning_rate, low=0, strict=True)
        check_number(self, "num_leaves", self.num_leaves, low=2, integer=True)
        check_number(self, "min_child_samples", self.min_child_samples, low=1, integer=True)
        check_number(self, "C", self.C, low=0, strict=True)
        check_number(self, "calibration_cv", self.calibration_cv, low=2, integer=True)
        check_number(self, "min_positives", self.min_positives, low=0, integer=True)
        check_number(self, "min_negatives", self.min_negatives, low=0, integer=True)
        check_number(self, "n_jobs", self.n_jobs, low=1, integer=True)

    def fit(self, X: Any, y: Any) -> PredictiveScorer:
        """Learn the model and its calibration from lead features ``X`` and outcomes ``y``.

        Raises
        ------
        DataError
            ``y`` is missing, not binary or too small (see ``min_positives``), or ``X`` is empty or
            has a different number of rows.
        """
        from sklearn.model_selection import StratifiedKFold
        from sklearn.utils import check_random_state

        self._check_params()
        frame = self._frame(X, reset=True)
        labels = self._labels(y, len(frame))
        positives = int(labels.sum())
        negatives = labels.size - positives
        self._guard_small_data(positives, negatives)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        folds = min(self.calibration_cv, positives, negatives)
        if self.calibration != "none" and folds < 2:
            raise LearnDataError(
                f"{type(self).__name__} needs at least 2 leads of each class to calibrate, got "
                f"{positives} converted and {negatives} lost; pass calibration='none' to skip it")
        calibrator = Calibrator("none")
        if self.calibration != "none":
            out_of_fold = np.empty(labels.size, dtype=np.float64)
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
            for train, test in splitter.split(np.zeros(labels.size), labels):
                fold_model = self._fit_base(frame.iloc[train].reset_index(drop=True), labels[train], seed)
                out_of_fold[test] = fold_model.raw(frame.iloc[test].reset_index(drop=True), self.n_jobs)
            calibrator = fit_calibrator(self.calibration, out_of_fold, labels)
        self.model_ = self._fit_base(frame, labels, seed)
        self.calibrator_ = calibrator
        self.n_positives_, self.n_negatives_ = positives, negatives
        self.calibration_folds_ = folds if self.calibration != "none" else 0
        return self

    def _fit_base(self, frame: pd.DataFrame, labels: npt.NDArray[np.int64], seed: int) -> BaseModel:
        categorical = frozenset(self.categorical_features_)
        if self.algorithm == "logistic":
            return fit_linear(frame, labels, categorical=categorical, C=float(self.C))
        params = {**LIGHTGBM_FIXED_PARAMS, "learning_rate": float(self.learning_rate),
                  "num_leaves": int(self.num_leaves), "min_data_in_leaf": int(self.min_child_samples),
                  "seed": seed, "num_threads": int(self.n_jobs)}
        return fit_lightgbm(frame, labels, categorical=categorical, params=params,
                            n_estimators=int(self.n_estimators))

    def _guard_small_data(self, positives: int, negatives: int) -> None:
        if positives >= self.min_positives and negatives >= self.min_negatives:
            return
        message = (f"{type(self).__name__} needs at least {self.min_positives} converted and "
                   f"{self.min_negatives} lost leads, got {positives} converted and {negatives} lost")
        if self.small_data == "warn":
            warnings.warn(f"{message}; training anyway (small_data='warn'): expect unstable scores",
                          SmallDataWarning, stacklevel=3)
            return
        raise LearnDataError(message, [Issue(
            "too few outcomes to learn from", path="y",
            hint="wait for more closed leads, keep a rules model, or pass small_data='warn'")])

    def _labels(self, y: Any, n_rows: int) -> npt.NDArray[np.int64]:
        self.classes_, labels = binary_target(self, y, n_rows)
        return labels

    # -- input ---------------------------------------------------------------------------------------------

    def _frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        """Validate ``X`` (feature names, count) and return it prepared as a DataFrame."""
        from sklearn.utils.validation import validate_data

        try:
            if isinstance(X, pd.DataFrame):
                validate_data(self, X, reset=reset, skip_check_array=True)
                if len(X) == 0:
                    raise LearnDataError(f"Found array with 0 sample(s) (shape={X.shape}) while a "
                                         "minimum of 1 is required: no leads to learn from or score")
                raw = X
            else:
                has_text = not reset and bool(self.categorical_features_)
                array = validate_data(self, X, reset=reset, dtype=None if has_text else np.float64,
                                      ensure_all_finite="allow-nan")
                raw = pd.DataFrame(array)
        except ValueError as exc:
            if isinstance(exc, LeadScoreError):
                raise
            raise LearnDataError(str(exc)) from None
        if reset:
            names = getattr(self, "feature_names_in_", None)
            self.features_ = tuple(str(n) for n in names) if names is not None else tuple(
                f"x{j}" for j in range(raw.shape[1]))
            self.categorical_features_ = tuple(
                name for j, name in enumerate(self.features_) if not _is_numeric(raw.iloc[:, j]))
        return prepare_frame(raw, self.features_, frozenset(self.categorical_features_))

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise EstimatorNotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator.")

    # -- prediction ----------------------------------------------------------------------------------------

    def raw_score(self, X: Any) -> FloatArray:
        """The uncalibrated model score in log-odds (trees' margin or the linear predictor)."""
        self._check_fitted()
        return self.model_.raw(self._frame(X, reset=False), self.n_jobs)

    def predict_proba(self, X: Any) -> FloatArray:
        """Calibrated probabilities, columns in ``classes_`` order (the second is "converted")."""
        raw = self.raw_score(X)
        p = self.calibrator_.probability(raw)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> npt.NDArray[Any]:
        """The more likely class (converted when the calibrated probability is above 0.5)."""
        p = self.predict_proba(X)[:, 1]
        return np.asarray(self.classes_[(p > 0.5).astype(np.int64)])

    def reason_codes(self, X: Any, *, top: int = 3) -> list[tuple[ReasonCode, ...]]:
        """Per lead, the ``top`` features with the largest absolute contribution (log-odds).

        LightGBM: exact tree contributions (they add up to the raw score minus the expected value);
        logistic: coefficient x standardised value, summed over a column's levels.
        """
        self._check_fitted()
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise ParameterError(f"top must be a positive integer, got {top!r}")
        frame = self._frame(X, reset=False)
        contributions = self.model_.contributions(frame, self.n_jobs)
        order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :top]
        columns = [frame[name].to_numpy(dtype=object) for name in self.features_]
        codes: list[tuple[ReasonCode, ...]] = []
        for i, picks in enumerate(order):
            codes.append(tuple(
                ReasonCode(self.features_[j], _plain(columns[j][i]), float(contributions[i, j]))
                for j in picks))
        return codes


def save_scorer(scorer: PredictiveScorer, directory: str | Path) -> Path:
    """Write a fitted scorer to ``directory`` as JSON plus, for LightGBM, its text model (no pickle).

    The directory is created if needed and its files overwritten. Returns the directory.
    """
    scorer._check_fitted()
    names = getattr(scorer, "feature_names_in_", None)
    params = scorer.get_params()
    if not isinstance(params["random_state"], int | None):
        params["random_state"] = None  # a RandomState object only mattered while fitting
    manifest = {
        "params": params,
        "classes": np.asarray(scorer.classes_).tolist(),
        "features": list(scorer.features_),
        "feature_names_in": None if names is None else [str(n) for n in names],
        "categorical_features": list(scorer.categorical_features_),
        "calibration": scorer.calibrator_.to_dict(),
        "training": {"positives": scorer.n_positives_, "negatives": scorer.n_negatives_,
                     "calibration_folds": scorer.calibration_folds_},
    }
    return write_artifact(directory, manifest, scorer.model_)


def load_scorer(directory: str | Path) -> PredictiveScorer:
    """Rebuild a scorer written by :func:`save_scorer`; it predicts exactly as the original did.

    Raises
    ------
    DataError
        A file is missing, or the artefact format or version is not one this leadscore reads.
    """
    manifest, model = read_artifact(directory)
    scorer = PredictiveScorer(**manifest["params"])
    scorer.model_ = model
    scorer.classes_ = np.asarray(manifest["classes"])
    scorer.features_ = tuple(manifest["features"])
    scorer.categorical_features_ = tuple(manifest["categorical_features"])
    scorer.n_features_in_ = len(scorer.features_)
    if manifest["feature_names_in"] is not None:
        scorer.feature_names_in_ = np.asarray(manifest["feature_names_in"], dtype=object)
    scorer.calibrator_ = Calibrator.from_dict(manifest["calibration"])
    training = manifest["training"]
    scorer.n_positives_, scorer.n_negatives_ = training["positives"], training["negatives"]
    scorer.calibration_folds_ = training["calibration_folds"]
    return scorer


def _is_numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value

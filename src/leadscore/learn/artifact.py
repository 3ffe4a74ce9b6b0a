"""The learned parts of a ``PredictiveScorer`` and how they are written to disk: never pickle.

A fitted scorer is a base model (LightGBM trees or a logistic model) plus a calibrator, both plain
frozen values defined here. A saved scorer is a directory::

    manifest.json   format name and version, parameters, classes, features, category levels,
                    calibration (method and its numbers), training counts
    booster.txt     LightGBM's own text model (``Booster.model_to_string``)   -- lightgbm only
    linear.json     terms (feature, level, fill, centre, scale, coefficient) -- logistic only

Everything is readable and diffable, and loads without executing code. Predictions of a loaded
scorer are identical to the original's: both go through the same functions below.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from leadscore.errors import DataError, Issue
from leadscore.learn.metrics import LearnDataError

FloatArray = npt.NDArray[np.float64]

FORMAT = "leadscore.predictive-scorer"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BOOSTER = "booster.txt"
LINEAR = "linear.json"


def sigmoid(z: FloatArray) -> FloatArray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


# -- preparing frames ---------------------------------------------------------------------------------


def prepare_frame(frame: pd.DataFrame, columns: tuple[str, ...], categorical: frozenset[str]) -> pd.DataFrame:
    """Numeric columns as float64 (NaN = missing); text columns as ``str`` objects (None = missing)."""
    out: dict[str, Any] = {}
    for position, name in enumerate(columns):
        series = frame.iloc[:, position]
        if name in categorical:
            values = series.astype("object").to_numpy()
            missing = pd.isna(values)
            out[name] = pd.Series([None if m else str(v) for v, m in zip(values, missing, strict=True)],
                                  dtype=object)
        else:
            try:
                out[name] = pd.Series(pd.to_numeric(series, errors="raise").to_numpy(
                    dtype=np.float64, na_value=np.nan))
            except (TypeError, ValueError):
                raise LearnDataError(f"column {name!r} was numeric when the model was fitted but has "
                                     f"non-numeric values now, such as {series.iloc[0]!r}") from None
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def text_levels(column: pd.Series) -> tuple[str, ...]:
    """The distinct non-missing values of a prepared text column, sorted."""
    return tuple(sorted({v for v in column.to_numpy(dtype=object) if isinstance(v, str)}))


@dataclass(frozen=True)
class Calibrator:
    """Maps a raw log-odds score to a probability: isotonic steps, a sigmoid, or the identity."""

    method: Literal["isotonic", "sigmoid", "none"]
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    slope: float = 1.0
    intercept: float = 0.0

    def probability(self, raw: FloatArray) -> FloatArray:
        if self.method == "isotonic":
            return np.asarray(np.interp(raw, np.asarray(self.x), np.asarray(self.y)), dtype=np.float64)
        return sigmoid(self.slope * raw + self.intercept)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "x": list(self.x), "y": list(self.y), "slope": self.slope,
                "intercept": self.intercept}

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Calibrator:
        return cls(method=document["method"], x=tuple(document["x"]), y=tuple(document["y"]),
                   slope=float(document["slope"]), intercept=float(document["intercept"]))


def fit_calibrator(method: Literal["isotonic", "sigmoid", "none"], raw: FloatArray,
                   y: npt.NDArray[np.int64]) -> Calibrator:
    if method == "none":
        return Calibrator("none")
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
        return Calibrator("isotonic", x=tuple(float(v) for v in iso.X_thresholds_),
                          y=tuple(float(v) for v in iso.y_thresholds_))
    from sklearn.linear_model import LogisticRegression

    platt = LogisticRegression(C=1e4, max_iter=1000).fit(raw.reshape(-1, 1), y)
    return Calibrator("sigmoid", slope=float(platt.coef_[0, 0]), intercept=float(platt.intercept_[0]))


# -- base models ------------------------------------------------------------------------------------------


class BaseModel(Protocol):
    def raw(self, frame: pd.DataFrame, n_jobs: int) -> FloatArray: ...

    def contributions(self, frame: pd.DataFrame, n_jobs: int) -> FloatArray: ...


@dataclass(frozen=True)
class LightGBMModel:
    """A LightGBM booster over numeric values and category codes (unseen or missing: NaN)."""

    columns: tuple[str, ...]
    categories: Mapping[str, tuple[str, ...]]
    booster: Any

    def matrix(self, frame: pd.DataFrame) -> FloatArray:
        matrix = np.empty((len(frame), len(self.columns)), dtype=np.float64)
        for j, name in enumerate(self.columns):
            if name in self.categories:
                levels = pd.Index(list(self.categories[name]), dtype=object)
                values = pd.Index(frame[name].to_numpy(dtype=object), dtype=object)
                codes = levels.get_indexer(values)  # -1: unseen or missing
                matrix[:, j] = np.where(codes < 0, np.nan, codes)
            else:
                matrix[:, j] = frame[name].to_numpy(dtype=np.float64)
        return matrix

    def raw(self, frame: pd.DataFrame, n_jobs: int) -> FloatArray:
        return np.asarray(self.booster.predict(self.matrix(frame), raw_score=True, num_threads=n_jobs),
                          dtype=np.float64)

    def contributions(self, frame: pd.DataFrame, n_jobs: int) -> FloatArray:
        contrib = self.booster.predict(self.matrix(frame), pred_contrib=True, num_threads=n_jobs)
        return np.asarray(contrib, dtype=np.float64)[:, : len(self.columns)]


def fit_lightgbm(frame: pd.DataFrame, y: npt.NDArray[np.int64], *, categorical: frozenset[str],
                 params: Mapping[str, Any], n_estimators: int) -> LightGBMModel:
    import lightgbm

    columns = tuple(str(c) for c in frame.columns)
    categories = {name: text_levels(frame[name]) for name in columns if name in categorical}
    model = LightGBMModel(columns, categories, None)
    cat_index = [j for j, name in enumerate(columns) if name in categorical]
    dataset = lightgbm.Dataset(model.matrix(frame), label=y, categorical_feature=cat_index,
                               feature_name=[f"f{j}" for j in range(len(columns))],
                               params={"verbose": -1}, free_raw_data=True)
    booster = lightgbm.train(dict(params), dataset, num_boost_round=n_estimators)
    return LightGBMModel(columns, categories, booster)


@dataclass(frozen=True)
class LinearTerm:
    """One standardised input of the logistic model: a number, its missing flag or a level flag."""

    feature: str
    kind: Literal["numeric", "missing", "level"]
    level: str | None
    fill: float
    center: float
    scale: float
    coef: float

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "kind": self.kind, "level": self.level, "fill": self.fill,
                "center": self.center, "scale": self.scale, "coef": self.coef}


@dataclass(frozen=True)
class LinearModel:
    columns: tuple[str, ...]
    terms: tuple[LinearTerm, ...]
    intercept: float

    def design(self, frame: pd.DataFrame) -> FloatArray:
        """Standardised term values, one column per term."""
        design = np.empty((len(frame), len(self.terms)), dtype=np.float64)
        for j, term in enumerate(self.terms):
            column = frame[term.feature]
            if term.kind == "numeric":
                values = column.to_numpy(dtype=np.float64)
                values = np.where(np.isnan(values), term.fill, values)
            elif term.kind == "missing":
                values = column.isna().to_numpy(dtype=np.float64)
            else:
                values = (column.to_numpy(dtype=object) == term.level).astype(np.float64)
            design[:, j] = (values - term.center) / term.scale
        return design

    def raw(self, frame: pd.DataFrame, n_jobs: int) -> FloatArray:
        coef = np.array([t.coef for t in self.terms], dtype=np.float64)
        return np.asarray(self.intercept + self.design(frame) @ coef, dtype=np.float64)

    def contributions(self, frame: pd.DataFrame, n_jobs: int) -> FloatArray:
        coef = np.array([t.coef for t in self.terms], dtype=np.float64)
        per_term = self.design(frame) * coef
        index = {name: j for j, name in enumerate(self.columns)}
        out = np.zeros((len(frame), len(self.columns)), dtype=np.float64)
        for j, term in enumerate(self.terms):
            out[:, index[term.feature]] += per_term[:, j]
        return out


def fit_linear(frame: pd.DataFrame, y: npt.NDArray[np.int64], *, categorical: frozenset[str],
               C: float) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    columns = tuple(str(c) for c in frame.columns)
    specs: list[tuple[str, Literal["numeric", "missing", "level"], str | None, float]] = []
    for name in columns:
        column = frame[name]
        if name in categorical:
            for level in text_levels(column):
                specs.append((name, "level", level, 0.0))
            if column.isna().any():
                specs.append((name, "missing", None, 0.0))
        else:
            values = column.to_numpy(dtype=np.float64)
            fill = float(np.nanmedian(values)) if not np.isnan(values).all() else 0.0
            specs.append((name, "numeric", None, fill))
            if np.isnan(values).any():
                specs.append((name, "missing", None, 0.0))
    unscaled = LinearModel(columns, tuple(LinearTerm(f, k, lv, fill, 0.0, 1.0, 0.0)
                                          for f, k, lv, fill in specs), 0.0)
    raw_design = unscaled.design(frame)
    centers = raw_design.mean(axis=0)
    scales = raw_design.std(axis=0)
    scales = np.where(scales > 1e-12, scales, 1.0)
    logistic = LogisticRegression(C=C, solver="newton-cholesky", max_iter=200)
    logistic.fit((raw_design - centers) / scales, y)
    weights = logistic.coef_[0]
    terms = tuple(LinearTerm(f, k, lv, fill, float(c), float(s), float(w))
                  for (f, k, lv, fill), c, s, w in zip(specs, centers, scales, weights, strict=True))
    return LinearModel(columns, terms, float(logistic.intercept_[0]))


# -- files --------------------------------------------------------------------------------------------------


def write_artifact(directory: str | Path, manifest: Mapping[str, Any], model: BaseModel) -> Path:
    """Write ``manifest.json`` (plus the format and version) and the base model's file."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    document = {**manifest, "format": FORMAT, "format_version": FORMAT_VERSION}
    if isinstance(model, LightGBMModel):
        document["algorithm"] = "lightgbm"
        document["categories"] = {name: list(levels) for name, levels in model.categories.items()}
        (target / BOOSTER).write_text(model.booster.model_to_string(), encoding="utf-8")
    elif isinstance(model, LinearModel):
        document["algorithm"] = "logistic"
        linear = {"intercept": model.intercept, "terms": [t.to_dict() for t in model.terms]}
        (target / LINEAR).write_text(json.dumps(linear, indent=1), encoding="utf-8")
    else:
        raise TypeError(f"cannot save a base model of type {type(model).__name__}")
    (target / MANIFEST).write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")
    return target


def read_artifact(directory: str | Path) -> tuple[dict[str, Any], BaseModel]:
    """Read a directory written by :func:`write_artifact`: the manifest and the base model.

    Raises
    ------
    DataError
        A file is missing or unreadable, or the format or its version is not one this
        leadscore reads.
    """
    source = Path(directory)
    manifest = _read_json(source / MANIFEST)
    if manifest.get("format") != FORMAT:
        raise DataError(f"{source} is not a saved PredictiveScorer",
                        [Issue(f"format is {manifest.get('format')!r}, expected {FORMAT!r}",
                               file=str(source / MANIFEST))])
    if manifest.get("format_version") != FORMAT_VERSION:
        raise DataError(f"{source}: unsupported artefact version {manifest.get('format_version')!r}",
                        [Issue(f"this leadscore reads version {FORMAT_VERSION}",
                               file=str(source / MANIFEST), hint="re-train and save with this version")])
    features = tuple(manifest["features"])
    model: BaseModel
    if manifest["algorithm"] == "lightgbm":
        import lightgbm

        try:
            text = (source / BOOSTER).read_text(encoding="utf-8")
        except OSError as exc:
            raise DataError(f"cannot read {source / BOOSTER}: {exc}") from None
        categories = {name: tuple(levels) for name, levels in manifest["categories"].items()}
        model = LightGBMModel(features, categories, lightgbm.Booster(model_str=text))
    else:
        linear = _read_json(source / LINEAR)
        terms = tuple(LinearTerm(**term) for term in linear["terms"])
        model = LinearModel(features, terms, float(linear["intercept"]))
    return manifest, model


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path} does not exist; is this a directory written by save_scorer?") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if not isinstance(document, dict):
        raise DataError(f"{path} must hold a JSON object")
    return document

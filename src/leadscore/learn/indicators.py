"""Candidate rule features for a scorecard, learned from training leads only: one 0/1 indicator per
frequent text level, cumulative thresholds at numeric quantiles, and missing-value flags.

Step 1 of :mod:`leadscore.learn.scorecard` (which re-exports these names).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from leadscore.learn.metrics import LearnDataError

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

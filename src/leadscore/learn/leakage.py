"""Find columns that give the outcome away.

A column that ranks converted leads above lost ones almost perfectly on its own (single-feature
ROC AUC at or above a threshold, 0.95 by default) was almost always filled in after the outcome was
known: a "closed won" tag, a sales rep's quality judgement, the last activity logged. A model
trained with it scores the past, not new leads.

Such columns are often filled in only for the leads sales worked, and the blanks dilute the
overall AUC (X Education's ``Tags``: 0.92 over all leads, 0.975 over the 64% that have a tag). So a
column is also flagged when its AUC over the rows where it is filled reaches the threshold, if it
is filled for at least ``min_filled_share`` of the leads.

Numeric columns are scored by their rank, in whichever direction is stronger (missing values are
tried both below and above every value). Text columns are target-rate encoded out of fold (each
lead's level is replaced by the conversion rate of that level in the *other* folds), so a column
of unique identifiers scores about 0.5 rather than 1.0.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from leadscore.errors import Issue
from leadscore.learn.metrics import LearnDataError, binary_outcome, roc_auc


@dataclass(frozen=True)
class LeakageFinding:
    """One column's single-feature ROC AUC (0.5 = no signal, 1.0 = gives the outcome away).

    ``roc_auc_filled`` is the same over the rows where the column is not missing (``None`` when
    those rows are all one class or the column has no missing values).
    """

    column: str
    roc_auc: float
    roc_auc_filled: float | None
    kind: Literal["numeric", "categorical"]
    levels: int
    missing_share: float

    @property
    def strongest(self) -> float:
        return max(self.roc_auc, self.roc_auc_filled or 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "roc_auc": self.roc_auc, "roc_auc_filled": self.roc_auc_filled,
                "kind": self.kind, "levels": self.levels, "missing_share": self.missing_share}


@dataclass(frozen=True)
class LeakageReport:
    """Columns at or above ``threshold`` (``findings``, strongest first) and every column's AUC."""

    findings: tuple[LeakageFinding, ...]
    scores: tuple[LeakageFinding, ...]
    threshold: float

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(finding.column for finding in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "leaking": list(self.columns),
                "findings": [f.to_dict() for f in self.findings],
                "scores": [s.to_dict() for s in self.scores]}


def single_feature_auc(
    column: pd.Series, y: npt.NDArray[np.int64], *, n_splits: int = 5, random_state: int = 0
) -> tuple[float, Literal["numeric", "categorical"]]:
    """ROC AUC of one column used alone as the score (see the module docstring for how)."""
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(dtype=np.float64)
        missing = np.isnan(values)
        if missing.all():
            return 0.5, "numeric"
        low, high = np.nanmin(values), np.nanmax(values)
        best = 0.5
        for fill in (low - 1.0, high + 1.0):
            auc = roc_auc(y, np.where(missing, fill, values))
            best = max(best, auc, 1.0 - auc)
        return best, "numeric"
    return roc_auc(y, _out_of_fold_rates(column, y, n_splits, random_state)), "categorical"


def _out_of_fold_rates(
    column: pd.Series, y: npt.NDArray[np.int64], n_splits: int, random_state: int
) -> npt.NDArray[np.float64]:
    levels = column.astype("object").where(column.notna(), "\x00missing").astype(str).to_numpy()
    folds = _stratified_folds(y, n_splits, random_state)
    prior = float(y.mean())
    smoothing = 10.0  # pseudo-leads at the prior: rare levels cannot look perfect by chance
    encoded = np.empty(y.size, dtype=np.float64)
    for k in range(n_splits):
        test = folds == k
        train = pd.DataFrame({"level": levels[~test], "y": y[~test]})
        stats = train.groupby("level")["y"].agg(["sum", "count"])
        rates = (stats["sum"] + smoothing * prior) / (stats["count"] + smoothing)
        encoded[test] = pd.Series(levels[test]).map(rates).fillna(prior).to_numpy(dtype=np.float64)
    return encoded


def _stratified_folds(y: npt.NDArray[np.int64], n_splits: int, random_state: int) -> npt.NDArray[np.int64]:
    """Fold number per row, each class spread evenly over the folds (NumPy only)."""
    rng = np.random.default_rng(random_state)
    folds = np.empty(y.size, dtype=np.int64)
    for label in (0, 1):
        rows = np.flatnonzero(y == label)
        folds[rng.permutation(rows)] = np.arange(rows.size) % n_splits
    return folds


def detect_leakage(
    X: pd.DataFrame,
    y: Any,
    *,
    threshold: float = 0.95,
    min_filled_share: float | None = 0.2,
    n_splits: int = 5,
    random_state: int = 0,
) -> LeakageReport:
    """Score every column of ``X`` alone against the outcome ``y`` and flag the leaking ones.

    Parameters
    ----------
    X
        Candidate feature columns, one row per lead.
    y
        0/1 outcome per lead.
    threshold
        A column whose single-feature ROC AUC is at least this is reported as leaking.
    min_filled_share
        Also report a column whose AUC over the rows where it is filled reaches ``threshold``,
        when at least this share of rows is filled. ``None`` checks all rows only.
    n_splits, random_state
        Folds for the out-of-fold target-rate encoding of text columns.

    Returns
    -------
    LeakageReport
        ``findings`` holds the leaking columns, strongest first; ``scores`` every column.
    """
    if not 0.5 < threshold <= 1.0:
        raise LearnDataError(f"threshold must be in (0.5, 1], got {threshold}")
    if n_splits < 2:
        raise LearnDataError(f"n_splits must be at least 2, got {n_splits}")
    labels = binary_outcome(y)
    if len(X) != labels.size:
        raise LearnDataError(f"length mismatch: {len(X)} rows in X but {labels.size} outcome values")
    scores: list[LeakageFinding] = []
    flagged: list[LeakageFinding] = []
    for name in X.columns:
        column = X[name].reset_index(drop=True)
        auc, kind = single_feature_auc(column, labels, n_splits=n_splits, random_state=random_state)
        filled = column.notna().to_numpy()
        auc_filled = None
        if not filled.all() and np.unique(labels[filled]).size == 2 and filled.sum() >= 2 * n_splits:
            auc_filled, _ = single_feature_auc(column[filled].reset_index(drop=True), labels[filled],
                                               n_splits=n_splits, random_state=random_state)
        finding = LeakageFinding(column=str(name), roc_auc=float(auc),
                                 roc_auc_filled=None if auc_filled is None else float(auc_filled),
                                 kind=kind, levels=int(column.nunique(dropna=True)),
                                 missing_share=float(1.0 - filled.mean()))
        scores.append(finding)
        by_filled = (min_filled_share is not None and auc_filled is not None
                     and filled.mean() >= min_filled_share and auc_filled >= threshold)
        if auc >= threshold or by_filled:
            flagged.append(finding)
    scores.sort(key=lambda f: -f.strongest)
    flagged.sort(key=lambda f: -f.strongest)
    return LeakageReport(findings=tuple(flagged), scores=tuple(scores), threshold=threshold)


def check_leakage(
    X: pd.DataFrame,
    y: Any,
    *,
    threshold: float = 0.95,
    min_filled_share: float | None = 0.2,
    allow: Collection[str] = (),
    allow_all: bool = False,
    n_splits: int = 5,
    random_state: int = 0,
) -> LeakageReport:
    """Like :func:`detect_leakage`, but raise unless every leaking column is allowed.

    Raises
    ------
    DataError
        One issue per leaking column not in ``allow`` (unless ``allow_all``), with its AUC and how
        to drop it.
    """
    report = detect_leakage(X, y, threshold=threshold, min_filled_share=min_filled_share,
                            n_splits=n_splits, random_state=random_state)
    blocked = [f for f in report.findings if not allow_all and f.column not in allow]
    if blocked:
        names = [f.column for f in blocked]
        raise LearnDataError(
            f"{len(blocked)} column(s) predict the outcome on their own and probably leak it "
            f"(filled in after the outcome was known): {', '.join(repr(n) for n in names)}",
            [Issue(_auc_text(f, threshold), path=f.column,
                   hint=f"drop it (drop=[{f.column!r}]) or, if it is known before the outcome, "
                        f"pass allow=[{f.column!r}]; results that keep it are leaky")
             for f in blocked],
        )
    return report


def _auc_text(finding: LeakageFinding, threshold: float) -> str:
    text = f"single-feature ROC AUC {finding.roc_auc:.3f}"
    if finding.roc_auc_filled is not None:
        share = 1 - finding.missing_share
        text += f" ({finding.roc_auc_filled:.3f} over the {share:.0%} of rows where filled)"
    return f"{text}; threshold {threshold}"

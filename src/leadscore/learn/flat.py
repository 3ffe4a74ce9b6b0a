"""Flat lead tables: one row per lead, feature columns and a 0/1 outcome column.

The loader is strict on purpose: a wrong outcome column, an outcome that is not 0/1 or a table too
small to learn from is a ``DataError`` that names the column, because a model trained on it would
look fine and be wrong. Columns the sales team fills in after the outcome (leaks) are dropped by
default for datasets with a known preset (recognised by their header even when loaded without
naming the preset); keeping them is explicit and labels the table leaky.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from leadscore.errors import DataError, Issue

Setting = Literal["no_leak", "leaky", "unchecked"]

XEDUCATION_LEAK_COLUMNS: tuple[str, ...] = ("Tags", "Lead Quality", "Last Activity", "Last Notable Activity")
"""Filled in by X Education's sales team during or after contact: they encode the outcome."""


@dataclass(frozen=True)
class FlatTablePreset:
    """How to read one known dataset: outcome, identifier columns and leak columns."""

    name: str
    outcome: str
    id_column: str | None
    identifiers: tuple[str, ...] = ()
    leak_columns: tuple[str, ...] = ()
    missing_tokens: tuple[str, ...] = ()


XEDUCATION = FlatTablePreset(
    name="xeducation",
    outcome="Converted",
    id_column="Prospect ID",
    identifiers=("Lead Number",),
    leak_columns=XEDUCATION_LEAK_COLUMNS,
    missing_tokens=("Select",),
)
"""X Education ``Leads.csv``: ``Select`` is the form's unanswered default; ids are not features."""

KNOWN_PRESETS: tuple[FlatTablePreset, ...] = (XEDUCATION,)


def detect_preset(columns: Sequence[str], outcome: str) -> FlatTablePreset | None:
    """The known preset whose outcome, id, identifier and leak columns all appear in ``columns``."""
    present = set(columns)
    for preset in KNOWN_PRESETS:
        needed = {preset.outcome, *([preset.id_column] if preset.id_column else []), *preset.identifiers,
                  *preset.leak_columns}
        if preset.outcome == outcome and needed <= present:
            return preset
    return None


@dataclass(frozen=True)
class FlatTable:
    """Features, outcome and ids of a flat lead table, ready for a learner.

    ``setting`` is ``"no_leak"`` when the known leak columns were dropped, ``"leaky"`` when the
    caller kept some (``leak_columns_kept``; results must be labelled leaky) and ``"unchecked"``
    when no leak columns were declared for the table.
    """

    features: pd.DataFrame = field(repr=False)
    outcome: npt.NDArray[np.int64] = field(repr=False)
    ids: npt.NDArray[Any] | None = field(repr=False)
    numeric_columns: tuple[str, ...]
    categorical_columns: tuple[str, ...]
    outcome_column: str
    id_column: str | None
    dropped_constant: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    leak_columns_kept: tuple[str, ...] = ()
    setting: Setting = "unchecked"
    source: str | None = None

    @property
    def n_rows(self) -> int:
        return int(self.outcome.size)

    @property
    def positives(self) -> int:
        return int(self.outcome.sum())

    def to_dict(self) -> dict[str, Any]:
        """A summary (no data): sizes, columns and the leak setting."""
        return {
            "source": self.source,
            "rows": self.n_rows,
            "positives": self.positives,
            "base_rate": self.positives / self.n_rows,
            "outcome_column": self.outcome_column,
            "id_column": self.id_column,
            "numeric_columns": list(self.numeric_columns),
            "categorical_columns": list(self.categorical_columns),
            "dropped_constant": list(self.dropped_constant),
            "dropped": list(self.dropped),
            "leak_columns_kept": list(self.leak_columns_kept),
            "setting": self.setting,
        }


def load_flat_table(
    path: str | Path,
    *,
    outcome: str,
    id_column: str | None = None,
    drop: Sequence[str] = (),
    missing_tokens: Sequence[str] = ("Select",),
    leak_columns: Sequence[str] | None = None,
    keep_leak_columns: bool | Sequence[str] = False,
    min_rows: int = 20,
) -> FlatTable:
    """Read a CSV or Parquet table of leads with a 0/1 outcome column.

    Parameters
    ----------
    path
        ``.csv`` (comma-separated, header row) or ``.parquet`` file.
    outcome
        The 0/1 outcome column (1 = converted). ``true``/``false`` and ``yes``/``no`` are accepted.
    id_column
        A unique lead identifier, kept as ``ids`` and never used as a feature.
    drop
        Columns to leave out of the features (other identifiers, free text...).
    missing_tokens
        Values that mean "not answered" in text columns (a form's ``Select``); read as missing.
    leak_columns
        Columns known to be filled in after the outcome. Dropped unless ``keep_leak_columns``.
        ``None`` (default): if the header is that of a known dataset (:data:`KNOWN_PRESETS`, such as
        X Education's ``Leads.csv``), that dataset's leak columns, and its identifier columns are
        dropped too; otherwise none. ``()`` declares that the table has no leak columns.
    keep_leak_columns
        ``True`` keeps every leak column, a list keeps those named. The table is then labelled
        ``setting="leaky"``.
    min_rows
        Fewer rows than this is an error.

    Raises
    ------
    DataError
        The file cannot be read, a named column is missing, the outcome is not 0/1 or is all one
        class, ids are not unique, or the table has too few rows.
    """
    file = Path(path)
    try:
        if file.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(file)
        else:
            frame = pd.read_csv(file, low_memory=False)
    except FileNotFoundError:
        raise DataError(f"lead table {str(file)!r} does not exist") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read lead table {str(file)!r}: {exc}") from None
    return flat_table_from_frame(
        frame, outcome=outcome, id_column=id_column, drop=drop, missing_tokens=missing_tokens,
        leak_columns=leak_columns, keep_leak_columns=keep_leak_columns, min_rows=min_rows,
        source=str(file),
    )


def load_preset(
    path: str | Path, preset: FlatTablePreset, *, keep_leak_columns: bool | Sequence[str] = False,
    drop: Sequence[str] = (),
) -> FlatTable:
    """Read a known dataset with its preset; leak columns are dropped unless kept explicitly."""
    return load_flat_table(
        path, outcome=preset.outcome, id_column=preset.id_column,
        drop=(*preset.identifiers, *drop), missing_tokens=preset.missing_tokens,
        leak_columns=preset.leak_columns, keep_leak_columns=keep_leak_columns,
    )


def load_xeducation(path: str | Path, *, keep_leak_columns: bool | Sequence[str] = False) -> FlatTable:
    """X Education ``Leads.csv`` in the leak-free (``no_leak``) setting unless leaks are kept."""
    return load_preset(path, XEDUCATION, keep_leak_columns=keep_leak_columns)


def flat_table_from_frame(
    frame: pd.DataFrame,
    *,
    outcome: str,
    id_column: str | None = None,
    drop: Sequence[str] = (),
    missing_tokens: Sequence[str] = ("Select",),
    leak_columns: Sequence[str] | None = None,
    keep_leak_columns: bool | Sequence[str] = False,
    min_rows: int = 20,
    source: str | None = None,
) -> FlatTable:
    """Same as :func:`load_flat_table` for a DataFrame already in memory (it is not modified)."""
    where = source or "lead table"
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    if leak_columns is None:
        preset = detect_preset(columns, outcome)
        leak_columns = preset.leak_columns if preset else ()
        if preset:
            identifiers = (*preset.identifiers, *([preset.id_column] if preset.id_column else []))
            drop = (*drop, *(c for c in identifiers if c not in drop and c != id_column))
    named = {"outcome": [outcome], "id_column": [id_column] if id_column else [], "drop": list(drop)}
    issues = [
        Issue(f"no column {name!r}", path=arg, file=source, hint=_nearest(name, columns))
        for arg, names in named.items() for name in names if name not in columns
    ]
    kept_leaks = _kept_leaks(leak_columns, keep_leak_columns)
    issues += [Issue(f"keep_leak_columns names {name!r}, which is not a leak column",
                     path="keep_leak_columns", hint=f"leak columns: {list(leak_columns)}")
               for name in kept_leaks if name not in leak_columns]
    if issues:
        raise DataError(f"{where}: columns not found", issues)

    y = _outcome(frame[outcome], outcome, where)
    if y.size < min_rows:
        raise DataError(f"{where} has {y.size} rows; at least {min_rows} are needed to learn from it")
    ids = None
    if id_column:
        id_values = frame[id_column]
        duplicated = id_values[id_values.duplicated(keep=False)]
        if id_values.isna().any() or not duplicated.empty:
            sample = ", ".join(repr(v) for v in list(dict.fromkeys(duplicated.tolist()))[:3])
            raise DataError(f"{where}: id column {id_column!r} must be unique and non-empty"
                            + (f"; repeated: {sample}" if sample else ""))
        ids = id_values.to_numpy()

    excluded = {outcome, *(c for c in [id_column] if c), *drop}
    dropped_leaks = tuple(c for c in leak_columns if c in columns and c not in kept_leaks)
    excluded |= set(dropped_leaks)
    features = frame[[c for c in columns if c not in excluded]].copy()
    numeric: list[str] = []
    categorical: list[str] = []
    constant: list[str] = []
    for name in features.columns:
        series = features[name]
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            features[name] = series.astype("float64")
            kind = numeric
        else:
            text = series.astype("object").where(series.notna(), None)
            text = text.map(lambda v: None if v is None or str(v) in missing_tokens else str(v))
            features[name] = text.astype("object")
            kind = categorical
        if features[name].nunique(dropna=False) <= 1:
            constant.append(name)
        else:
            kind.append(name)
    features = features.drop(columns=constant)
    present_leaks = tuple(c for c in leak_columns if c in columns and c in kept_leaks)
    setting: Setting = "leaky" if present_leaks else ("no_leak" if leak_columns else "unchecked")
    return FlatTable(
        features=features.reset_index(drop=True), outcome=y, ids=ids,
        numeric_columns=tuple(numeric), categorical_columns=tuple(categorical),
        outcome_column=outcome, id_column=id_column, dropped_constant=tuple(constant),
        dropped=tuple(c for c in columns if c in excluded and c not in (outcome, id_column)),
        leak_columns_kept=present_leaks, setting=setting, source=source,
    )


def _kept_leaks(leak_columns: Sequence[str], keep: bool | Sequence[str]) -> tuple[str, ...]:
    if keep is True:
        return tuple(leak_columns)
    if keep is False:
        return ()
    if isinstance(keep, str):
        return (keep,)
    return tuple(keep)


_TRUE = frozenset({"1", "1.0", "true", "yes", "y", "t"})
_FALSE = frozenset({"0", "0.0", "false", "no", "n", "f"})


def _outcome(series: pd.Series, name: str, where: str) -> npt.NDArray[np.int64]:
    if series.isna().any():
        rows = np.flatnonzero(series.isna().to_numpy())
        raise DataError(
            f"{where}: outcome column {name!r} has {rows.size} missing values "
            f"(rows {', '.join(str(r) for r in rows[:5])}{', ...' if rows.size > 5 else ''}); "
            "remove those leads or record their outcome"
        )
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=np.float64)
        bad = ~np.isin(values, (0.0, 1.0))
        if bad.any():
            raise DataError(f"{where}: outcome column {name!r} must be 0/1 (1 = converted), got values "
                            f"such as {sorted(set(values[bad].tolist()))[:3]}")
        y = values.astype(np.int64)
    else:
        text = series.astype(str).str.strip().str.lower()
        bad_text = sorted(set(text) - _TRUE - _FALSE)
        if bad_text:
            raise DataError(f"{where}: outcome column {name!r} must be 0/1 (1 = converted), got values "
                            f"such as {bad_text[:3]}")
        y = text.isin(_TRUE).to_numpy().astype(np.int64)
    positives = int(y.sum())
    if positives in (0, y.size):
        only = "1 (converted)" if positives else "0 (not converted)"
        raise DataError(f"{where}: outcome column {name!r} is all one class: every one of the {y.size} "
                        f"leads is {only}; a model needs both converted and lost leads")
    return y


def _nearest(name: str, columns: list[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    lowered = {c.lower(): c for c in columns}
    if name.lower() in lowered:
        return f"did you mean {lowered[name.lower()]!r}?"
    return f"columns are: {', '.join(columns[:12])}{' ...' if len(columns) > 12 else ''}"

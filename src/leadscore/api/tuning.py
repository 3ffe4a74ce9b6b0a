"""``tune``: learn a model's points from outcomes and write the tuned model, its diff and metadata.

    >>> import leadscore
    >>> result = leadscore.tune("model.yaml", "data/", outcome="converted", as_of=datetime(2025, 12, 31),
    ...                         out="model-tuned.yaml")
    >>> result.auc
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.errors import DataError, Issue
from leadscore.spec.durations import parse_duration_days
from leadscore.spec.loader import LoadedModel
from leadscore.spec.loader import load_model as _load_model

if TYPE_CHECKING:
    from leadscore.learn.tune_changes import TuneSummary

Progress = Callable[[str, float], None]
ModelLike = LoadedModel | str | Path


def horizon_days(horizon: str | float) -> float:
    """``"90d"``, ``"12w"``, ``"3m"`` or a number of days; a ``DataError`` naming the option otherwise."""
    try:
        return parse_duration_days(horizon)
    except ValueError as exc:
        raise DataError(f"--horizon: {exc}", [Issue(str(exc), path="--horizon",
                                                    hint="write days as 90d, weeks as 12w or months as 3m")]) from None


def side_files(out: Path) -> dict[str, Path]:
    """Where the diff and the metadata of a tuned model ``out`` go: beside it, same stem."""
    stem = out.name.removesuffix(".yaml").removesuffix(".yml")
    return {"model": out, "changes": out.with_name(f"{stem}.changes.md"),
            "metadata": out.with_name(f"{stem}.tune.json")}


@dataclass(frozen=True)
class TuneResult:
    """What ``tune`` learned: old -> new points per rule with lift and log-odds, moved thresholds,
    removed caps, AUCs, and the files written (``model``, ``changes``, ``metadata``)."""

    summary: TuneSummary
    changes: str = field(repr=False)
    model_text: str = field(repr=False)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def auc(self) -> dict[str, float | None]:
        return self.summary.auc

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary.to_dict(), "files": dict(self.files)}


def tune(model: ModelLike | None, data: str | Path, *, outcome: str = "converted", as_of: datetime | None = None,
         horizon: str | float = "90d", out: str | Path | None = None, pdo: float = 20.0,
         exclude: Sequence[str] = (), bins: bool = True, levels: bool = True, id_column: str | None = None,
         random_state: int = 0, threads: int | None = None, progress: Progress | None = None) -> TuneResult:
    """Learn points from outcomes: a cross-validated, L2-regularised logistic regression on the
    model's own rules (plus bins and levels of columns no rule uses), scaled to integer points.

    Parameters
    ----------
    model : the model to tune (a loaded model or a path). Optional for a flat table, where it only
        supplies old points to compare with.
    data : a data folder or DuckDB file (leads, events, accounts), or a flat lead table
        (``.csv``/``.parquet``, one row per lead with a 0/1 outcome such as X Education's Leads.csv).
    outcome : the outcome column: a time (``mql_at``) or a flag with ``<outcome>_at`` beside it.
    as_of : score as of this time and count conversions in ``(as_of, as_of + horizon]``; required
        for a data folder.
    horizon : the outcome window (``"90d"``).
    out : write the tuned model here, its readable diff beside it (``.changes.md``) and the
        metadata (``.tune.json``); ``None`` writes nothing.
    pdo : points that double the odds of converting.
    exclude : lead/account columns never to learn from (``cost`` or ``lead.cost``).
    bins, levels : offer numeric bins / text levels of columns no rule uses yet.

    Raises
    ------
    ModelError, DataError
    """
    from leadscore.learn.tune import TuneSettings
    from leadscore.learn.tune_flat import is_flat_table, tune_flat

    settings = TuneSettings(pdo=pdo, exclude=tuple(exclude), bins=bins, levels=levels, random_state=random_state)
    days = horizon_days(horizon)
    target = Path(out) if out is not None else None
    name = str(target) if target is not None else "tuned model"
    if is_flat_table(data):
        base = _model(model) if model is not None else None
        tuned = tune_flat(data, outcome=outcome, base=base, id_column=id_column, settings=settings, tuned_name=name)
    else:
        if model is None:
            raise DataError("give the model to tune", [Issue("no MODEL", path="MODEL",
                                                             hint="leadscore tune model.yaml --data DIR ...")])
        if as_of is None:
            raise DataError("tuning on a data folder needs --as-of: leads are scored as of that time and "
                            "their conversions counted in the horizon after it",
                            [Issue("missing --as-of", path="--as-of",
                                   hint="pick a time at least --horizon before the end of the data")])
        from leadscore.learn.tune import tune_rules

        tuned = tune_rules(_model(model), data, outcome=outcome, as_of=as_of, horizon_days=days,
                           settings=settings, tuned_name=name, threads=threads, progress=progress)
    files: dict[str, str] = {}
    if target is not None:
        paths = side_files(target)
        result = TuneResult(tuned.summary, tuned.changes, tuned.text, {k: str(v) for k, v in paths.items()})
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            paths["model"].write_text(tuned.text, encoding="utf-8")
            paths["changes"].write_text(tuned.changes, encoding="utf-8")
            paths["metadata"].write_text(json.dumps(result.to_dict(), indent=2, default=str) + "\n",
                                         encoding="utf-8")
        except OSError as exc:
            raise DataError(f"cannot write the tuned model to {target}: {exc.strerror or exc}",
                            [Issue(str(exc), file=str(target), hint="give --out a writable .yaml path")]) from None
        return result
    return TuneResult(tuned.summary, tuned.changes, tuned.text, files)


def _model(model: ModelLike) -> LoadedModel:
    return model if isinstance(model, LoadedModel) else _load_model(model)

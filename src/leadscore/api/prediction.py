"""``predict_fit`` / ``predict_score``: a calibrated conversion probability with reason codes.

The probability feeds a rules model as its ``predictive`` layer (decision 0009). For engines that
run SQL only (Spark, warehouses, dbt), ``predict_score`` writes ``predictions.parquet`` (``lead_id``,
``probability``, three reasons) to join onto the leads table and use from a rule, for example
``{name: predicted, points: "coalesce(probability, 0) * 50"}`` (see the README).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from leadscore.api.tuning import horizon_days
from leadscore.errors import DataError, Issue


@dataclass(frozen=True)
class PredictFitResult:
    """A trained and saved predictive scorer: what it learned from and how well it validated."""

    artefact: str
    algorithm: str
    source: str
    as_of: datetime | None
    outcome: dict[str, Any]
    leads: int
    conversions: int
    features: list[str]
    dropped_columns: dict[str, str]
    validation: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"artefact": self.artefact, "algorithm": self.algorithm, "source": self.source,
                "as_of": self.as_of.isoformat() if self.as_of else None, "outcome": self.outcome,
                "leads": self.leads, "conversions": self.conversions, "features": list(self.features),
                "dropped_columns": dict(self.dropped_columns), "validation": dict(self.validation),
                "warnings": list(self.warnings)}


@dataclass(frozen=True)
class PredictScoreResult:
    """Where the predictions went, and the leads most likely to convert with their reasons."""

    predictions: str
    leads: int
    as_of: datetime | None
    mean_probability: float
    top_leads: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"predictions": self.predictions, "leads": self.leads,
                "as_of": self.as_of.isoformat() if self.as_of else None,
                "mean_probability": self.mean_probability, "top_leads": list(self.top_leads)}


def predict_fit(data: str | Path, *, outcome: str = "converted", as_of: datetime | None = None,
                horizon: str | float = "90d", out: str | Path = "predictive-model",
                algorithm: Literal["lightgbm", "logistic"] = "lightgbm", exclude: tuple[str, ...] | list[str] = (),
                small_data: Literal["raise", "warn"] = "raise", validation_share: float = 0.2,
                random_state: int = 0) -> PredictFitResult:
    """Train a calibrated ``PredictiveScorer`` and save it (JSON + LightGBM text, no pickle) to ``out``.

    On a data folder the features are profile columns plus behaviour as of ``as_of`` (event counts
    per type in the last 7/30/90 days, days since the last event), and the outcome is a conversion
    in ``(as_of, as_of + horizon]``; on a flat table (``.csv``/``.parquet``) its columns and outcome.
    A stratified ``validation_share`` of the leads is held out once to report ROC AUC and
    calibration; the saved scorer is then trained on all of them.

    Raises
    ------
    DataError
        Too few outcomes (``small_data="raise"``), a missing outcome column, no ``as_of`` for a folder.
    """
    from leadscore.learn.tune_flat import is_flat_table

    if is_flat_table(data):
        features, y, spec, dropped, warnings = _flat_training(Path(data), outcome, exclude)
        when = None
        window: dict[str, Any] = {"column": outcome, "time_column": None}
    else:
        if as_of is None:
            raise DataError("predict fit on a data folder needs --as-of: features are computed as of that "
                            "time and conversions counted in the horizon after it",
                            [Issue("missing --as-of", path="--as-of")])
        features, y, spec, dropped, warnings, window = _event_training(Path(data), outcome, as_of,
                                                                       horizon_days(horizon), exclude)
        when = as_of
    return _train_and_save(features, y, spec, dropped, warnings, window, when, Path(out), algorithm, small_data,
                           validation_share, random_state, str(data))


def _event_training(data: Path, outcome: str, as_of: datetime, days: float, exclude: tuple[str, ...] | list[str]
                    ) -> tuple[Any, Any, Any, dict[str, str], list[str], dict[str, Any]]:
    import numpy as np
    import pandas as pd

    from leadscore.learn.leakage import detect_leakage
    from leadscore.learn.predict_features import (
        FeatureSpec,
        build_features,
        choose_profile,
        event_types_before,
        open_clean,
    )
    from leadscore.learn.tune_data import (
        column_types,
        fetch_columns,
        label_population,
        naive_utc,
        outcome_window,
        profile_columns,
        profile_values,
    )

    when = naive_utc(as_of)
    con, plan, _hint = open_clean(data)
    try:
        window = outcome_window(column_types(con, "leads"), outcome, as_of=when, horizon_days=days)
        population = label_population(con, plan, window)
        candidates, dropped = profile_columns(con, plan, window, exclude=exclude)
        values = profile_values(con, plan, candidates)
        chosen, more = choose_profile(con, plan, candidates, values)
        dropped.update(more)
        y = np.asarray(fetch_columns(con, "SELECT y FROM outcome_labels ORDER BY lead_id")["y"], dtype=np.int64)
        frame = pd.DataFrame({c.name: pd.Series(values[c.name], dtype=object if _text(c.type_name) else None)
                              for c in chosen})
        leaks = detect_leakage(frame, y, threshold=0.9).columns if frame.shape[1] else ()
        dropped.update({name: "predicts the outcome on its own (ROC AUC >= 0.9): probably filled in after "
                              "the outcome" for name in leaks})
        profile = tuple(c.name for c in chosen if c.name not in leaks)
        categorical = tuple(c.name for c in chosen if c.name in profile and _text(c.type_name))
        spec = FeatureSpec(source="events", profile=profile, categorical=categorical,
                           event_types=event_types_before(con, plan, when),
                           training={"as_of": when.isoformat(), "outcome": window.to_dict(),
                                     "population": population.to_dict()})
        _ids, features = build_features(con, plan, spec, when, relation="outcome_labels")
    finally:
        con.close()
    warnings = [] if window.time_column else [f"{outcome!r} has no time column: outcomes taken as recorded"]
    return features, y, spec, dropped, warnings, {**window.to_dict(), "description": window.describe()}


def _text(type_name: str) -> bool:
    from leadscore.learn.tune_data import is_numeric_type

    return not (is_numeric_type(type_name) or type_name == "BOOLEAN")


def _flat_training(path: Path, outcome: str, exclude: tuple[str, ...] | list[str]
                   ) -> tuple[Any, Any, Any, dict[str, str], list[str]]:
    from leadscore.learn.flat import detect_preset, load_flat_table
    from leadscore.learn.predict_features import FeatureSpec
    from leadscore.learn.tune_flat import _header

    columns = _header(path)
    preset = detect_preset(columns, outcome)
    tokens = preset.missing_tokens if preset else ("Select",)
    key = preset.id_column if preset else ("lead_id" if "lead_id" in columns else None)
    table = load_flat_table(path, outcome=outcome, id_column=key, missing_tokens=tokens,
                            drop=[c for c in exclude if c in columns])
    spec = FeatureSpec(source="flat", profile=tuple(str(c) for c in table.features.columns),
                       categorical=table.categorical_columns, lead_key=key or "", missing_tokens=tuple(tokens),
                       training={"outcome": outcome, "setting": table.setting, "rows": table.n_rows})
    dropped = {c: "dropped by the table's preset (an identifier or a leak column)" for c in table.dropped}
    warnings = ["leak columns were kept: validation figures are optimistic"] if table.setting == "leaky" else []
    return table.features, table.outcome, spec, dropped, warnings


def _train_and_save(features: Any, y: Any, spec: Any, dropped: dict[str, str], warnings: list[str],
                    window: dict[str, Any], as_of: datetime | None, out: Path,
                    algorithm: Literal["lightgbm", "logistic"],
                    small_data: Literal["raise", "warn"], validation_share: float, random_state: int,
                    source: str) -> PredictFitResult:
    import warnings as warning_control

    import numpy as np
    from sklearn.model_selection import train_test_split

    from leadscore.learn.metrics import LearnDataError, evaluate_probabilities
    from leadscore.learn.predictive import PredictiveScorer, SmallDataWarning, save_scorer
    from leadscore.learn.tune import one_blas_thread

    def scorer() -> PredictiveScorer:
        return PredictiveScorer(algorithm=algorithm, small_data=small_data, n_jobs=1, random_state=random_state)

    validation: dict[str, Any] = {"share": validation_share, "roc_auc": None, "pr_auc": None, "ece": None,
                                  "leads": 0}
    with warning_control.catch_warnings(record=True) as caught, one_blas_thread():
        warning_control.simplefilter("always", SmallDataWarning)
        try:
            train, test = train_test_split(np.arange(len(y)), test_size=validation_share, stratify=y,
                                           random_state=random_state)
            held_out = scorer().fit(features.iloc[train].reset_index(drop=True), y[train])
            p = held_out.predict_proba(features.iloc[test].reset_index(drop=True))[:, 1]
            report = evaluate_probabilities(y[test], p)
            validation.update(roc_auc=report.roc_auc, pr_auc=report.pr_auc, ece=report.ece, leads=int(test.size))
        except (LearnDataError, ValueError) as exc:
            warnings.append(f"no validation figures: {str(exc).splitlines()[0]}")
        final = scorer().fit(features, y)
    warnings += sorted({str(w.message) for w in caught if issubclass(w.category, SmallDataWarning)})
    try:
        save_scorer(final, out)
        spec.write(out)
    except OSError as exc:
        raise DataError(f"cannot write the artefact to {out}: {exc.strerror or exc}",
                        [Issue(str(exc), file=str(out), hint="give --out a writable folder")]) from None
    return PredictFitResult(artefact=str(out), algorithm=algorithm, source=source, as_of=as_of, outcome=window,
                            leads=len(y), conversions=int(np.sum(y)), features=list(spec.columns),
                            dropped_columns=dropped, validation=validation, warnings=warnings)


def predict_score(model_dir: str | Path, data: str | Path, *, as_of: datetime | None = None,
                  out: str | Path = "predictions", top: int = 5) -> PredictScoreResult:
    """Score every lead known at ``as_of`` (default: the data's meta.json ``as_of``, else now) and
    write ``OUT/predictions.parquet``: ``lead_id``, ``probability`` and for k = 1..3 ``reason<k>``,
    ``reason<k>_value`` and ``reason<k>_contribution`` (log-odds)."""
    import pyarrow.parquet as pq

    from leadscore.learn.predictive_layer import predictions_table

    table, reasons, when = predictions_table(Path(model_dir), Path(data), as_of)
    ids = table.column("lead_id").to_pylist()
    probability: list[float] = table.column("probability").to_pylist()
    target = Path(out)
    path = target if target.suffix == ".parquet" else target / "predictions.parquet"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
    except OSError as exc:
        raise DataError(f"cannot write predictions to {path}: {exc.strerror or exc}",
                        [Issue(str(exc), file=str(path), hint="give --out a writable folder")]) from None
    order = sorted(range(len(probability)), key=lambda i: (-probability[i], str(ids[i])))[:top]
    best = [{"lead_id": _plain(ids[i]), "probability": float(probability[i]),
             "reasons": [code.to_dict() for code in reasons[i]]} for i in order]
    mean = float(sum(probability) / len(probability)) if len(probability) else 0.0
    return PredictScoreResult(predictions=str(path), leads=len(ids), as_of=when,
                              mean_probability=mean, top_leads=best)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value

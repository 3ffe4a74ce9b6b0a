"""``leadscore tune`` on a flat lead table (one row per lead with a 0/1 outcome, such as X Education's
``Leads.csv``): a new integer-points model with value maps, tiers and missing flags.

There are no events and no time here, so the model is learned from the table's columns alone, with
the table's known leak columns dropped (:func:`leadscore.learn.flat.load_flat_table`), and written
by :func:`leadscore.learn.scorecard.scorecard_to_model`. With a current model, rules are compared
by name, so the diff shows old -> new points for the rules both have.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leadscore.errors import DataError
from leadscore.learn.flat import detect_preset, load_flat_table
from leadscore.learn.scorecard import IndicatorFeature, IndicatorSet, build_indicator_features, scorecard_to_model
from leadscore.learn.tune import TunedModel, TuneSettings, one_blas_thread, out_of_fold_auc
from leadscore.learn.tune_changes import RuleChange, TuneSummary
from leadscore.learn.tune_points import lift_and_support
from leadscore.learn.tune_rewrite import dump_document, number
from leadscore.spec.loader import LoadedModel, load_model_text

FLAT_SUFFIXES = (".csv", ".parquet", ".pq", ".csv.gz", ".tsv")


def is_flat_table(path: str | Path) -> bool:
    """A file that is not a DuckDB database: a CSV or Parquet table of leads."""
    text = str(path).lower()
    return Path(path).is_file() and text.endswith(FLAT_SUFFIXES)


def _header(path: Path) -> list[str]:
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return [str(name) for name in pq.read_schema(path).names]
        return [str(name) for name in pd.read_csv(path, nrows=0).columns]
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read lead table {str(path)!r}: {exc}") from None


def tune_flat(path: str | Path, *, outcome: str, base: LoadedModel | None = None, id_column: str | None = None,
              settings: TuneSettings | None = None, tuned_name: str = "tuned model") -> TunedModel:
    """Learn an integer-points model from a flat table of leads with a 0/1 ``outcome`` column.

    Raises
    ------
    DataError
        The table cannot be read, the outcome is missing, not 0/1 or all one class.
    """
    settings = settings or TuneSettings()
    file = Path(path)
    columns = _header(file)
    preset = detect_preset(columns, outcome)
    key = id_column or (preset.id_column if preset else ("lead_id" if "lead_id" in columns else None))
    tokens = preset.missing_tokens if preset else ("Select",)
    table = load_flat_table(file, outcome=outcome, id_column=key, missing_tokens=tokens,
                            drop=[c for c in settings.exclude if c in columns])
    indicators = build_indicator_features(table.features, missing_tokens=tokens, min_support=settings.min_support)
    X = indicators.transform(table.features)
    y = table.outcome
    with one_blas_thread():
        learner = settings.learner(binary_only=True).fit(X, y)
    name = f"{base.spec.model}-tuned" if base else f"{file.stem.lower().replace(' ', '-')}-tuned"
    document = scorecard_to_model(
        learner, indicators, name=name, lead_key=key or "lead_id",
        description=(f"Learned by leadscore tune from {file.name} (outcome {outcome}, {table.setting} setting): "
                     f"{settings.pdo:g} points double the odds; total 0 = even odds."))
    if base is not None and isinstance(base.spec.version, int):
        document["version"] = base.spec.version + 1
    header = (f"Tuned by leadscore tune from {file.name} (outcome {outcome}).\n"
              "What changed and why: see the .changes.md file written beside it.")
    text = dump_document(document, header=header)
    tuned = load_model_text(text, source=tuned_name)
    points = learner.score(X)
    auc = {"tuned_model": _auc(y, points), "tuned_out_of_fold": out_of_fold_auc(
        X.astype(np.float64), y, learner.C_, settings.cv, settings.random_state)}
    learner_info = {"penalty": settings.penalty, "C": learner.C_, "cv": settings.cv, "pdo": settings.pdo,
                    "factor": learner.factor_, "offset": learner.offset_, "intercept": learner.intercept_,
                    "intercept_points": learner.intercept_points_, "features": X.shape[1],
                    "random_state": settings.random_state,
                    "probability": f"1 / (1 + exp(-total / {learner.factor_:.4f}))"}
    summary = TuneSummary(
        mode="flat", model=f"{base.spec.model} (version {base.spec.version})" if base else "(none)",
        tuned_model=tuned_name, data=str(file),
        outcome={"column": outcome, "description": f"{outcome} as recorded in the table (no time)",
                 "setting": table.setting},
        population={"leads": table.n_rows, "conversions": table.positives,
                    "base_rate": table.positives / table.n_rows},
        learner=learner_info, auc=auc, rules=tuple(_changes(document, indicators, learner, X, y, base)),
        dropped_columns={c: "a known leak column (filled in after the outcome)" for c in table.dropped
                         if preset and c in preset.leak_columns} | {
                             c: "constant" for c in table.dropped_constant},
        warnings=tuple(warning for warning, applies in (
            ("leak columns were kept: figures are optimistic", table.setting == "leaky"),
            ("the table has no lead id column: the model names 'lead_id' as the key; pass --id-column to "
             "name yours", key is None)) if applies))
    return TunedModel(document, text, tuned, summary)


def _auc(y: np.ndarray[Any, Any], scores: np.ndarray[Any, Any]) -> float:
    from leadscore.learn.metrics import roc_auc

    return roc_auc(y, scores)


def _rule_of(document: Mapping[str, Any], indicators: IndicatorSet, points: Mapping[str, int]
             ) -> dict[str, str]:
    """Feature name -> the rule ``scorecard_to_model`` wrote it into (same walk, same order)."""
    rules = [r for r in document["layers"]["fit"]["rules"] if r["name"] != "base_points"]
    by_column: dict[str, list[IndicatorFeature]] = {}
    for feature in indicators.features:
        if points.get(feature.name, 0) != 0:
            by_column.setdefault(feature.column, []).append(feature)
    owner: dict[str, str] = {}
    position = 0
    for features in by_column.values():
        for kind in ("level", "at_least"):
            chosen = [f for f in features if f.kind == kind]
            if chosen:
                owner.update({f.name: rules[position]["name"] for f in chosen})
                position += 1
        for feature in (f for f in features if f.kind == "missing"):
            owner[feature.name] = rules[position]["name"]
            position += 1
    return owner


def _old_points(base: LoadedModel | None, rule: str) -> float | str | None:
    if base is None:
        return None
    for layer in base.spec.layers.values():
        for candidate in layer.rules:
            if candidate.name == rule:
                value: Any = candidate.points
                if isinstance(value, dict):
                    return ", ".join(f"{k}: {number(float(v))}" for k, v in value.items())
                if candidate.tiers is not None:
                    return " / ".join(str(number(float(t.points))) for t in candidate.tiers)
                return value if isinstance(value, str) or value is None else number(float(value))
    return None


def _changes(document: Mapping[str, Any], indicators: IndicatorSet, learner: Any, X: pd.DataFrame,
             y: np.ndarray[Any, Any], base: LoadedModel | None) -> list[RuleChange]:
    owner = _rule_of(document, indicators, learner.points_)
    tier_totals: dict[str, int] = {}  # a tier's points are the running sum of the thresholds it passes
    for column in dict.fromkeys(f.column for f in indicators.features):
        tiers = sorted((f for f in indicators.features if f.column == column and f.kind == "at_least"
                        and learner.points_.get(f.name, 0) != 0), key=lambda f: f.threshold or 0.0)
        running = 0
        for feature in tiers:
            running += int(learner.points_[feature.name])
            tier_totals[feature.name] = running
    changes = [RuleChange("base_points", "fit", "intercept", None, _old_points(base, "base_points"),
                          learner.intercept_points_, learner.intercept_, note="every lead starts here")]
    for j, feature in enumerate(indicators.features):
        rule = owner.get(feature.name)
        if rule is None:
            continue
        lift, support = lift_and_support(X[feature.name].to_numpy(dtype=np.float64), y)
        kind = {"level": "map", "at_least": "tier", "missing": "missing"}[feature.kind]
        new = tier_totals.get(feature.name, learner.points_[feature.name])
        changes.append(RuleChange(rule, "fit", kind, feature.name, _old_points(base, rule),  # type: ignore[arg-type]
                                  new, float(learner.coef_[j]), lift, support))
    if base is not None:
        written = {r["name"] for r in document["layers"]["fit"]["rules"]}
        for layer_name, layer in base.spec.layers.items():
            for rule_spec in layer.rules:
                if rule_spec.name not in written:
                    changes.append(RuleChange(rule_spec.name, layer_name, "kept", None,
                                              _old_points(base, rule_spec.name), None,
                                              note="not in the tuned model (learned from the table's columns only)"))
    return changes

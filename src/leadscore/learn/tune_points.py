"""Writing learned points back into a model file (step 4 of :mod:`leadscore.learn.tune`): new points
for the model's own rules, bins for numeric columns, caps and floors removed where they would
distort the learned points, and stage thresholds remapped to keep each stage's share of leads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from leadscore.compiler.plan import ScoringPlan
from leadscore.learn.scorecard import IndicatorFeature, IndicatorSet, ScorecardLearner, rule_name
from leadscore.learn.tune_changes import RuleChange, ThresholdChange
from leadscore.learn.tune_features import RuleFeature
from leadscore.learn.tune_rewrite import (
    Document,
    matching_threshold,
    number,
    remap_condition,
    unremapped_numbers,
)
from leadscore.spec.loader import LoadedModel

FloatArray = npt.NDArray[np.float64]
Progress = Callable[[str, float], None]
BIN_QUANTILES: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)
LEARNED_LAYER = "learned"


def lift_and_support(values: FloatArray, y: npt.NDArray[np.int64]) -> tuple[float | None, float]:
    hit = values > 0
    support = float(hit.mean()) if values.size else 0.0
    base = float(y.mean()) if y.size else 0.0
    if not hit.any() or base == 0:
        return None, support
    return float(y[hit].mean()) / base, support


def _score_columns(plan: ScoringPlan) -> list[str]:
    return ["total", *(layer.name for layer in plan.layers), *(group.name for group in plan.groups)]


# -- writing points ---------------------------------------------------------------------------------------


def _stats(X: pd.DataFrame, y: npt.NDArray[np.int64], learner: ScorecardLearner, name: str
           ) -> tuple[float, float | None, float]:
    j = learner.features_.index(name)
    lift, support = lift_and_support(X[name].to_numpy(dtype=np.float64), y)
    return float(learner.coef_[j]), lift, support


def _apply_points(document: Document, loaded: LoadedModel, features: Sequence[RuleFeature],
                  kept: Mapping[str, str], learner: ScorecardLearner, X: pd.DataFrame,
                  y: npt.NDArray[np.int64]) -> list[RuleChange]:
    by_rule: dict[str, list[RuleFeature]] = {}
    for feature in features:
        by_rule.setdefault(feature.rule, []).append(feature)
    changes: list[RuleChange] = []
    for layer_name, layer in loaded.spec.layers.items():
        doc_layer = document["layers"][layer_name]
        for index, rule in enumerate(layer.rules):
            doc_rule = doc_layer["rules"][index]
            found = by_rule.get(rule.name, [])
            if not found:
                old = rule.points if rule.tiers is None else [t.points for t in rule.tiers]
                changes.append(RuleChange(rule.name, layer_name, "kept", None, _show(old), _show(old),
                                          note=kept.get(rule.name, "")))
                continue
            for feature in found:
                coefficient, lift, support = _stats(X, y, learner, feature.name)
                new: int | float | str = _new_points(learner, feature)
                if feature.kind == "when":
                    doc_rule["points"] = new
                elif feature.kind == "expression":
                    new = f"{new:g} * ({rule.points})"
                    doc_rule["points"] = new
                elif feature.kind == "map":
                    # Match on the original points (the document's change as features are applied).
                    original = rule.points if isinstance(rule.points, dict) else {}
                    for level, old_points in original.items():
                        if float(old_points) == feature.value:
                            doc_rule["points"][level] = new
                    if float(rule.default or 0.0) == feature.value:
                        doc_rule["default"] = new
                else:
                    for position, tier in enumerate(rule.tiers or []):
                        if float(tier.points) == feature.value:
                            doc_rule["tiers"][position]["points"] = new
                old_shown = rule.points if feature.kind == "expression" else number(feature.value)
                changes.append(RuleChange(rule.name, layer_name, feature.kind, feature.item, _show(old_shown),
                                          _show(new), coefficient, lift, support))
        for group_name, group in layer.groups.items():
            events = doc_layer["groups"][group_name]["events"]
            for key, event_rule in group.events.items():
                name = event_rule.name or key
                found = by_rule.get(name, [])
                if not found:
                    changes.append(RuleChange(name, layer_name, "kept", "per event", number(event_rule.points),
                                              number(event_rule.points), note=kept.get(name, "")))
                    continue
                coefficient, lift, support = _stats(X, y, learner, found[0].name)
                new = _new_points(learner, found[0])
                if isinstance(events[key], Mapping):
                    events[key]["points"] = new
                else:
                    events[key] = new
                changes.append(RuleChange(name, layer_name, "event", "per event", number(event_rule.points),
                                          new, coefficient, lift, support))
    return changes


def _new_points(learner: ScorecardLearner, feature: RuleFeature) -> int | float:
    if feature.kind == "expression":
        j = learner.features_.index(feature.name)
        return round(learner.factor_ * float(learner.coef_[j]), 2)
    return int(learner.points_[feature.name])


def _show(value: Any) -> float | str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return ", ".join(f"{k}: {number(float(v))}" for k, v in value.items())
    if isinstance(value, list):
        return " / ".join(str(number(float(v))) for v in value)
    return number(float(value))


def _bin_rules(indicators: IndicatorSet, learner: ScorecardLearner, X: pd.DataFrame, y: npt.NDArray[np.int64],
               *, taken: set[str]) -> tuple[list[dict[str, Any]], list[RuleChange]]:
    """Rules of the ``learned`` layer: thresholds as first-match tiers (running sums), levels as a
    value map, missing flags as ``IS NULL`` rules. Items worth 0 points are left out."""
    from sqlglot import exp

    rules: list[dict[str, Any]] = []
    changes: list[RuleChange] = []
    by_column: dict[str, list[IndicatorFeature]] = {}
    for feature in indicators.features:
        if learner.points_.get(feature.name, 0) != 0:
            by_column.setdefault(feature.column, []).append(feature)

    def unique(text: str) -> str:
        base = rule_name(text)
        candidate, k = base, 2
        while candidate in taken:
            candidate, k = f"{base}_{k}", k + 1
        taken.add(candidate)
        return candidate

    def change(rule: str, feature: IndicatorFeature, item: str, kind: str, new: int) -> RuleChange:
        coefficient, lift, support = _stats(X, y, learner, feature.name)
        return RuleChange(rule, LEARNED_LAYER, kind, item, None, new, coefficient, lift, support)  # type: ignore[arg-type]

    for column, features in by_column.items():
        kind, bare = column.split(".", 1)
        column_sql = exp.column(exp.to_identifier(bare), table=exp.to_identifier(kind))
        label = bare if kind == "lead" else f"account_{bare}"
        levels = [f for f in features if f.kind == "level"]
        tiers = sorted((f for f in features if f.kind == "at_least"), key=lambda f: -(f.threshold or 0.0))
        missing = [f for f in features if f.kind == "missing"]
        if levels:
            name = unique(label)
            rules.append({"name": name, "column": column_sql.sql(), "default": 0,
                          "points": {str(f.level): int(learner.points_[f.name]) for f in levels}})
            changes += [change(name, f, f"{bare} = {f.level}", "map", int(learner.points_[f.name])) for f in levels]
        if tiers:
            name = unique(label)
            running = np.cumsum([learner.points_[f.name] for f in reversed(tiers)])[::-1]
            tier_list = []
            for feature, total in zip(tiers, running, strict=True):
                when = exp.GTE(this=column_sql.copy(), expression=exp.Literal.number(
                    number(float(feature.threshold or 0.0)))).sql()
                tier_list.append({"when": when, "points": int(total)})
                changes.append(change(name, feature, when, "tier", int(total)))
            rules.append({"name": name, "tiers": tier_list})
        for feature in missing:
            name = unique(f"{label}_missing")
            when = exp.Is(this=column_sql.copy(), expression=exp.Null()).sql()
            rules.append({"name": name, "when": when, "points": int(learner.points_[feature.name])})
            changes.append(change(name, feature, when, "missing", int(learner.points_[feature.name])))
    return rules, changes


def _remove_bounds(document: Document) -> list[str]:
    """Caps and floors would cut the learned, additive points: they go (and are listed)."""
    removed: list[str] = []
    for layer_name, layer in document["layers"].items():
        for key in ("cap", "floor"):
            if key in layer:
                removed.append(f"layers.{layer_name}.{key} ({layer.pop(key)})")
        for group_name, group in (layer.get("groups") or {}).items():
            for key in ("cap", "floor"):
                if key in group:
                    removed.append(f"layers.{layer_name}.groups.{group_name}.{key} ({group.pop(key)})")
    total = document.get("total")
    if isinstance(total, dict):
        for key in ("cap", "floor"):
            if key in total:
                removed.append(f"total.{key} ({total.pop(key)})")
        if not total:
            del document["total"]
    return [f"{item}: a cap or floor would cut the learned, additive points" for item in removed]


# -- thresholds -----------------------------------------------------------------------------------------


def _lowest_total(model: LoadedModel, new_frame: Mapping[str, npt.NDArray[Any]]) -> float:
    """The lowest total the tuned model can give (observed, where a rule is unbounded below)."""
    low = 0.0
    observed = float(np.min(new_frame["total"])) if len(new_frame["total"]) else 0.0
    for layer in model.spec.layers.values():
        for rule in layer.rules:
            if isinstance(rule.points, str):
                why = new_frame.get(f"why:{rule.name}")
                low += min(0.0, float(np.min(why))) if why is not None and len(why) else 0.0
            elif isinstance(rule.points, dict):
                low += min(0.0, float(rule.default or 0.0), *map(float, rule.points.values()))
            elif rule.tiers is not None:
                low += min(0.0, *(float(t.points) for t in rule.tiers))
            else:
                low += min(0.0, float(rule.points or 0.0))
        for group in layer.groups.values():
            for event_rule in group.events.values():
                if event_rule.points < 0:
                    if event_rule.max_count is None:
                        return math.floor(min(observed, low))
                    low += event_rule.points * event_rule.max_count
    return float(math.floor(min(low, observed)))


def _remap_thresholds(document: Document, loaded: LoadedModel, plan: ScoringPlan,
                      old: Mapping[str, npt.NDArray[Any]], new: Mapping[str, npt.NDArray[Any]],
                      draft: LoadedModel) -> tuple[list[ThresholdChange], list[str]]:
    names = _score_columns(plan)
    values = {name: (np.asarray(old[name], dtype=np.float64), np.asarray(new[name], dtype=np.float64))
              for name in names}
    old_total, new_total = values["total"]
    changes: list[ThresholdChange] = []
    warnings: list[str] = []
    lowest = _lowest_total(draft, new)
    for index, stage in enumerate(loaded.spec.stages):
        doc_stage = document["stages"][index]
        chosen, share_old, share_new = matching_threshold(old_total, new_total, stage.min_score, ">=")
        if share_old >= 1.0:
            chosen, share_new = lowest, 1.0
        doc_stage["min_score"] = number(chosen)
        changes.append(ThresholdChange(f"stages.{stage.name}.min_score", stage.min_score, chosen,
                                       share_old, share_new))
        for position, condition in enumerate(stage.require):
            where = f"stages.{stage.name}.require[{position}]"
            text, moved = remap_condition(condition, values, where)
            if moved:
                doc_stage["require"][position] = text
                changes += moved
            elif unremapped_numbers(condition, values):
                warnings.append(f"{where}: '{condition}' compares scores with a number and was kept as "
                                "written; check it against the new points")
    for grade, condition in loaded.spec.grades.items():
        text, moved = remap_condition(condition, values, f"grades.{grade}")
        if moved:
            document["grades"][grade] = text
            changes += moved
        elif unremapped_numbers(condition, values):
            warnings.append(f"grades.{grade}: '{condition}' was kept as written; check it against the new points")
    account = loaded.spec.account
    if account is not None:
        engaged = account.rollup.engaged_min
        chosen, share_old, share_new = matching_threshold(old_total, new_total, engaged, ">=")
        doc_account = document["account"]
        if "rollup" not in doc_account:
            doc_account["rollup"] = {}
        doc_account["rollup"]["engaged_min"] = number(chosen)
        changes.append(ThresholdChange("account.rollup.engaged_min", engaged, chosen, share_old, share_new))
        if account.rules or account.cap is not None:
            warnings.append("account rules and the account cap are kept as written; account scores now sum "
                            "tuned lead totals, so check them with 'leadscore diff'")
    return changes, warnings

"""The features ``leadscore tune`` learns from: the model's own rules, plus candidate bins and levels.

Rule features come from a scoring run's explanation items (the ``why:<rule>`` columns, which add up
to each lead's total), so the tuner learns from exactly what the model computes:

* a ``when`` rule is one 0/1 feature (did it apply);
* a value map or a tier list is one 0/1 feature per distinct number of points (each map value or
  tier keeps its own new points; values that shared points keep sharing them);
* an event rule is its decayed, count-limited number of events (``why`` / points per event), so
  its new points are per event and decay, windows and ``max_count`` keep working as written;
* a rule with expression points is the expression's value (its points become a multiple of it).

Candidates are lead and account columns no rule uses yet: numeric ones as cumulative thresholds at
quantiles (``cost >= 40``), short text ones as levels (``source = referral``), each with a missing
flag; learned from the training leads only (:func:`leadscore.learn.scorecard.build_indicator_features`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from leadscore.compiler.plan import ProfileRulePlan, ScoringPlan
from leadscore.learn.tune_data import ProfileColumn, is_numeric_type

FeatureKind = Literal["when", "map", "tier", "event", "expression"]
WHY = "why:"


@dataclass(frozen=True)
class RuleFeature:
    """One feature of an existing rule. ``value`` is the ``why`` value it tests (map/tier/when) or,
    for events, the points per event; ``item`` names the map values or the tier."""

    name: str
    rule: str
    layer: str
    kind: FeatureKind
    value: float
    item: str | None = None


@dataclass(frozen=True)
class RuleFeatures:
    features: tuple[RuleFeature, ...]
    columns: dict[str, npt.NDArray[np.float64]]
    kept: dict[str, str]  # rule -> why its points stay as they are


def _groups(pairs: Sequence[tuple[str, float]]) -> dict[float, list[str]]:
    grouped: dict[float, list[str]] = {}
    for label, points in pairs:
        grouped.setdefault(float(points), []).append(label)
    return grouped


def _item_pairs(rule: ProfileRulePlan) -> list[tuple[str, float]]:
    if rule.shape == "map":
        pairs = [(level, points) for level, points in rule.mapping]
        return [*pairs, ("(any other value)", rule.default)]
    return [(tier.text, points) for tier, points in rule.tiers]


def rule_features(plan: ScoringPlan, frame: Mapping[str, npt.NDArray[Any]]) -> RuleFeatures:
    """Features of every profile and event rule of ``plan`` from a scored frame's ``why`` columns."""
    features: list[RuleFeature] = []
    columns: dict[str, npt.NDArray[np.float64]] = {}
    kept: dict[str, str] = {}

    def add(feature: RuleFeature, values: npt.NDArray[np.float64]) -> bool:
        if values.size == 0 or np.all(values == values[0]):
            return False
        features.append(feature)
        columns[feature.name] = values
        return True

    for layer in plan.layers:
        for rule in layer.rules:
            why = np.asarray(frame[WHY + rule.name], dtype=np.float64)
            if rule.points_expr is not None:
                if not add(RuleFeature(rule.name, rule.name, layer.name, "expression", 1.0), why):
                    kept[rule.name] = "its points did not vary among the training leads"
            elif rule.shape == "when":
                points = float(rule.points or 0.0)
                if points == 0:
                    kept[rule.name] = "0 points: the rule only names a condition"
                elif not add(RuleFeature(rule.name, rule.name, layer.name, "when", points),
                             (why != 0).astype(np.float64)):
                    kept[rule.name] = _constant_reason(why)
            else:
                kind: FeatureKind = "map" if rule.shape == "map" else "tier"
                added = False
                for index, (points, labels) in enumerate(_groups(_item_pairs(rule)).items()):
                    if points == 0:
                        continue
                    name = f"{rule.name}[{index}]"
                    hit = np.isclose(why, points).astype(np.float64)
                    added |= add(RuleFeature(name, rule.name, layer.name, kind, points, ", ".join(labels)), hit)
                if not added:
                    kept[rule.name] = _constant_reason(why)
        for group in layer.groups:
            for event_rule in group.rules:
                why = np.asarray(frame[WHY + event_rule.name], dtype=np.float64)
                if event_rule.points == 0:
                    kept[event_rule.name] = "0 points per event"
                elif not add(RuleFeature(event_rule.name, event_rule.name, layer.name, "event",
                                         float(event_rule.points)), why / float(event_rule.points)):
                    kept[event_rule.name] = "no training lead had this event before the as-of date"
    return RuleFeatures(tuple(features), columns, kept)


def _constant_reason(why: npt.NDArray[np.float64]) -> str:
    if why.size and np.all(why == 0):
        return "it applied to none of the training leads: no evidence to change its points"
    return "it applied to every training lead alike: no evidence to change its points"


def referenced_columns(plan: ScoringPlan) -> set[str]:
    """``lead.x`` / ``account.y`` names of the columns the model's profile rules read."""
    names: set[str] = set()
    for rule in plan.profile_rules:
        bound = [rule.condition, rule.points_expr, rule.column, *(tier for tier, _ in rule.tiers)]
        for condition in bound:
            if condition is None:
                continue
            names.update(f"{ref.kind}.{ref.name}" for ref in condition.refs.values()
                         if ref.kind in ("lead", "account"))
    return names


def candidate_frame(columns: Sequence[ProfileColumn], values: Mapping[str, npt.NDArray[Any]], *,
                    used: set[str], max_levels: int, levels: bool) -> tuple[pd.DataFrame, dict[str, str]]:
    """Candidate columns as a DataFrame (numbers as float, text as object) and those left out, why."""
    data: dict[str, Any] = {}
    dropped: dict[str, str] = {}
    for column in columns:
        raw = values[column.name]
        if column.name in used:
            continue
        if column.type_name == "BOOLEAN":
            dropped[column.name] = "a true/false column (write a rule for it if it matters)"
        elif is_numeric_type(column.type_name):
            data[column.name] = np.asarray(raw, dtype=np.float64)
        elif not levels:
            dropped[column.name] = "text (levels are off)"
        else:
            text = pd.Series(raw, dtype=object)
            distinct = int(text.nunique(dropna=True))
            if distinct > max_levels:
                dropped[column.name] = f"text with {distinct:,} distinct values (more than {max_levels})"
            elif distinct >= 1:
                data[column.name] = text
    return pd.DataFrame(data), dropped

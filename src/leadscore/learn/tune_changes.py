"""What ``leadscore tune`` changed and why: one row per rule item, one per threshold, as data and text.

The text (``NEW.changes.md``) is written for the person who reviews the model change in git: old
points -> new points per rule, how much more often leads with that rule converted (lift), the
learned log-odds, and every threshold that moved with the share of leads it lets through.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ChangeKind = Literal["when", "map", "tier", "event", "expression", "bin", "missing", "intercept", "kept"]


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class RuleChange:
    """One learned item: a rule, a value of a value map, a tier, an event's points or a new bin.

    ``coefficient`` is the learned log-odds per unit (per event for event rules); ``lift`` the
    conversion rate of leads where the item applies over the base rate; ``support`` the share of
    leads where it applies. ``old_points`` is ``None`` for an item the tuner added.
    """

    rule: str
    layer: str
    kind: ChangeKind
    item: str | None
    old_points: float | str | None
    new_points: float | str | None
    coefficient: float | None = None
    lift: float | None = None
    support: float | None = None
    note: str = ""

    @property
    def changed(self) -> bool:
        return self.old_points != self.new_points

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ThresholdChange:
    """A number compared with a score (stage ``min_score``, a grade or requirement, ``engaged_min``),
    moved so that about the same share of leads passes it on the new scale."""

    where: str
    old: float
    new: float
    share_old: float
    share_new: float
    text_old: str | None = None
    text_new: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class TuneSummary:
    """Everything a tune run reports, apart from the model itself."""

    mode: Literal["rules", "flat"]
    model: str
    tuned_model: str
    data: str
    outcome: dict[str, Any]
    population: dict[str, Any]
    learner: dict[str, Any]
    auc: dict[str, float | None]
    rules: tuple[RuleChange, ...]
    thresholds: tuple[ThresholdChange, ...] = ()
    removed: tuple[str, ...] = ()
    dropped_columns: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode, "model": self.model, "tuned_model": self.tuned_model, "data": self.data,
            "outcome": _plain(self.outcome), "population": _plain(self.population),
            "learner": _plain(self.learner), "auc": _plain(self.auc),
            "rules": [r.to_dict() for r in self.rules], "thresholds": [t.to_dict() for t in self.thresholds],
            "removed": list(self.removed), "dropped_columns": dict(self.dropped_columns),
            "warnings": list(self.warnings),
        }


def points_text(value: float | str | dict[str, Any] | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return ", ".join(f"{k} {points_text(v)}" for k, v in value.items())
    return f"{value:+g}" if value else "0"


def reason_text(change: RuleChange, base_rate: float) -> str:
    """Why the points are what they are, in one clause."""
    if change.note:
        return change.note
    if change.lift is None or change.support is None:
        return ""
    share = f"{change.support:.1%} of leads"
    if change.kind == "event":
        return f"leads with this event converted {change.lift:.2f}x as often as average ({share} had one)"
    if change.lift == 0:
        return f"none of these leads converted ({share})"
    return f"converted {change.lift:.2f}x as often as average ({share}; base rate {base_rate:.2%})"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def changes_markdown(summary: TuneSummary) -> str:
    """The readable diff written next to the tuned model."""
    pop, learner, auc = summary.population, summary.learner, summary.auc
    base_rate = float(pop.get("base_rate") or 0.0)
    lines = [f"# leadscore tune: {summary.model} -> {summary.tuned_model}", ""]
    window = summary.outcome
    when = (f"as of {window['as_of']}" if window.get("as_of") else "from a flat lead table")
    lines.append(f"Learned from {pop['leads']:,} leads {when} ({summary.data}); outcome: "
                 f"{window.get('description', window.get('column'))}. {pop['conversions']:,} converted "
                 f"(base rate {base_rate:.2%}).")
    lines.append("")
    lines.append(f"A {learner['penalty']}-regularised logistic regression (C={learner['C']:.4g}, chosen by "
                 f"{learner['cv']}-fold cross-validation) on {learner['features']} features, scaled so that "
                 f"{learner['pdo']:g} points double the odds of converting. Probability of a total: "
                 f"{learner['probability']}.")
    lines.append("")
    figures = [f"{name.replace('_', ' ')} {value:.3f}" for name, value in auc.items() if value is not None]
    if figures:
        lines += [f"ROC AUC on these leads: {', '.join(figures)}.", ""]
    lines += ["## Points", "",
              "| layer | rule | item | old | new | log-odds | lift | why |", "|---|---|---|---:|---:|---:|---:|---|"]
    for change in summary.rules:
        coefficient = "" if change.coefficient is None else f"{change.coefficient:+.3f}"
        lift = "" if change.lift is None else f"{change.lift:.2f}x"
        lines.append("| " + " | ".join(_cell(text) for text in (
            change.layer, change.rule, change.item or "", points_text(change.old_points),
            points_text(change.new_points), coefficient, lift, reason_text(change, base_rate))) + " |")
    if summary.thresholds:
        lines += ["", "## Thresholds", "",
                  "Moved so that about the same share of leads passes each one on the new scale.", "",
                  "| where | old | new | share of leads (old -> new) |", "|---|---:|---:|---|"]
        for threshold in summary.thresholds:
            lines.append(f"| {_cell(threshold.where)} | {threshold.old:g} | {threshold.new:g} | "
                         f"{threshold.share_old:.1%} -> {threshold.share_new:.1%} |")
            if threshold.text_old and threshold.text_new and threshold.text_old != threshold.text_new:
                lines.append(f"|  | `{_cell(threshold.text_old)}` | `{_cell(threshold.text_new)}` |  |")
    if summary.removed:
        lines += ["", "## Removed", ""] + [f"- {item}" for item in summary.removed]
    if summary.dropped_columns:
        lines += ["", "## Columns not learned from", ""]
        lines += [f"- `{name}`: {reason}" for name, reason in summary.dropped_columns.items()]
    if summary.warnings:
        lines += ["", "## Warnings", ""] + [f"- {warning}" for warning in summary.warnings]
    return "\n".join(lines) + "\n"

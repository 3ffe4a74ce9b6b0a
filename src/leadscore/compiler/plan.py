"""Model spec -> logical plan: every condition bound, every name resolved, every check made.

The plan is what both evaluators run: ``compiler.sql`` turns it into sqlglot trees, and
``backends.python`` interprets it for one lead. Building it reports every model problem at once.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from leadscore.compiler.conditions import (
    BoundCondition,
    ConditionRejected,
    EventAggregate,
    NameSpace,
    Ref,
    bind_condition,
)
from leadscore.compiler.predictive import predictive_rule
from leadscore.errors import Issue, ModelError
from leadscore.spec.builtin_lists import BUILTIN_LISTS
from leadscore.spec.loader import LoadedModel
from leadscore.spec.model import Decay, ProfileRule, ScoringModel

PathKey = tuple[str | int, ...]
LAST_ANY_KEY = "agg:last_age:None:None"
RESERVED_NAMES = frozenset({
    "lead_id", "account_id", "segment", "total", "grade", "stage", "next_action", "reasons",
    "last_activity_at", "last_activity_type", "model", "model_version", "as_of", "committee_role",
    "reason1", "reason2", "reason3", "points1", "points2", "points3",
})


@dataclass(frozen=True)
class DataSchema:
    """Column names (and engine type names) of the input tables, when known."""

    leads: Mapping[str, str]
    events: Mapping[str, str]
    accounts: Mapping[str, str] | None = None
    event_types: frozenset[str] | None = None


@dataclass(frozen=True)
class ProfileRulePlan:
    """A fit/negative/revenue rule on lead and account columns, in one of its shapes."""

    layer: str
    name: str
    shape: str  # "when" | "map" | "tiers"
    condition: BoundCondition | None = None
    points: float | None = None
    points_expr: BoundCondition | None = None
    column: BoundCondition | None = None
    mapping: tuple[tuple[str, float], ...] = ()
    default: float = 0.0
    tiers: tuple[tuple[BoundCondition, float], ...] = ()
    case_sensitive: bool = False


@dataclass(frozen=True)
class EventRulePlan:
    """Points per event of one type (filtered, windowed, count-limited, decayed)."""

    layer: str
    group: str
    name: str
    event_type: str
    points: float
    where: BoundCondition | None
    max_count: int | None
    within_days: float | None
    decay: Decay | None


@dataclass(frozen=True)
class GroupPlan:
    layer: str
    name: str
    cap: float | None
    floor: float | None
    rules: tuple[EventRulePlan, ...]


@dataclass(frozen=True)
class LayerPlan:
    name: str
    cap: float | None
    floor: float | None
    rules: tuple[ProfileRulePlan, ...]
    groups: tuple[GroupPlan, ...]


@dataclass(frozen=True)
class StagePlan:
    name: str
    min_score: float
    require: tuple[BoundCondition, ...]
    action: str | None


@dataclass(frozen=True)
class AccountPlan:
    top_n: int
    engaged_min: float
    beyond_top_points: float
    rules: tuple[ProfileRulePlan, ...]
    committee: tuple[tuple[str, BoundCondition], ...]
    cap: float | None


@dataclass(frozen=True)
class SegmentPlan:
    name: str
    condition: BoundCondition
    plan: ScoringPlan


@dataclass(frozen=True)
class ScoringPlan:
    """Everything needed to score: resolved layers, stages, account roll-up and segments."""

    name: str
    version_hash: str
    layers: tuple[LayerPlan, ...]
    total_floor: float | None
    total_cap: float | None
    grades: tuple[tuple[str, BoundCondition], ...]
    stages: tuple[StagePlan, ...]
    aggregates: Mapping[str, EventAggregate]
    meaningful_types: frozenset[str] | None
    account: AccountPlan | None
    segments: tuple[SegmentPlan, ...]
    lead_key: str
    lead_account: str | None
    lead_created: str | None
    lead_email: str | None
    event_key: str
    event_lead: str
    event_time: str
    event_type: str
    account_key: str
    reasons_top: int
    fired_rules: frozenset[str] = field(default_factory=frozenset)

    # Cached: the one-lead evaluator asks for these for every rule of every lead it scores, and
    # the plan never changes after compilation (cached_property writes the instance __dict__,
    # which a frozen dataclass allows).
    @functools.cached_property
    def profile_rules(self) -> tuple[ProfileRulePlan, ...]:
        return tuple(rule for layer in self.layers for rule in layer.rules)

    @functools.cached_property
    def groups(self) -> tuple[GroupPlan, ...]:
        return tuple(group for layer in self.layers for group in layer.groups)

    @functools.cached_property
    def event_rules(self) -> tuple[EventRulePlan, ...]:
        return tuple(rule for group in self.groups for rule in group.rules)

    @functools.cached_property
    def _selectors(self) -> dict[str, tuple[EventRulePlan, ...]]:
        found: dict[str, tuple[EventRulePlan, ...]] = {}
        for rule in reversed(self.event_rules):  # the first rule of a name wins, as a scan would find
            found[rule.name] = (rule,)
        for group in reversed(self.groups):  # a group name wins over a rule name
            found[group.name] = group.rules
        return found

    def selector_rules(self, selector: str | None) -> tuple[EventRulePlan, ...] | None:
        """Rules a selector names (a group or a rule); None means 'the event type itself'."""
        if selector is None:
            return self.event_rules
        return self._selectors.get(selector)

    def all_aggregates(self) -> dict[str, EventAggregate]:
        """Aggregates of this plan and of its segments (one events pass serves all)."""
        merged = dict(self.aggregates)
        for segment in self.segments:
            merged.update(segment.plan.all_aggregates())
        return merged


class _Collector:
    """Binds conditions of one model, turning rejections into positioned Issues."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.issues: list[Issue] = []
        self.aggregates: dict[str, EventAggregate] = {}
        self.fired: set[str] = set()

    def bind(self, text: str, names: NameSpace, path: PathKey) -> BoundCondition | None:
        try:
            bound = bind_condition(text, names)
        except ConditionRejected as rejected:
            for problem in rejected.problems:
                self.issues.append(self.loaded.issue(path, problem.message, hint=problem.hint,
                                                     offset=problem.offset))
            return None
        self.aggregates.update(bound.aggregates)
        if Ref("special", "days_since_last_activity") in bound.refs.values():
            self.aggregates[LAST_ANY_KEY] = EventAggregate("last_age", None, None)
        self.fired.update(ref.name for ref in bound.refs.values() if ref.kind == "rule")
        return bound

    def problem(self, path: PathKey, message: str, hint: str | None = None, *, at_key: bool = False
                ) -> None:
        self.issues.append(self.loaded.issue(path, message, hint=hint, prefer_key=at_key))


def _resolve_lists(spec: ScoringModel, collect: _Collector) -> dict[str, tuple[str, ...]]:
    lists: dict[str, tuple[str, ...]] = {}
    for name, value in spec.lists.items():
        if isinstance(value, str):
            builtin = value.removeprefix("builtin:")
            if not value.startswith("builtin:") or builtin not in BUILTIN_LISTS:
                collect.problem(("lists", name), f"unknown list source {value!r}",
                                "write a list of values or one of: "
                                + ", ".join(f"builtin:{k}" for k in BUILTIN_LISTS))
                continue
            lists[name] = BUILTIN_LISTS[builtin]
        else:
            lists[name] = tuple(str(v) for v in value)
    return lists


def _check_names(spec: ScoringModel, collect: _Collector) -> None:
    """Rule, group and layer names share one namespace: reasons and conditions use them."""
    seen: dict[str, PathKey] = {"total": ("total",)}
    for layer_name, layer in spec.layers.items():
        entries: list[tuple[str, PathKey]] = [(layer_name, ("layers", layer_name))]
        for index, rule in enumerate(layer.rules):
            entries.append((rule.name, ("layers", layer_name, "rules", index, "name")))
        if layer.predictive is not None:
            entries.append((layer.predictive.name, ("layers", layer_name, "predictive")))
        for group_name, group in layer.groups.items():
            entries.append((group_name, ("layers", layer_name, "groups", group_name)))
            for key, event_rule in group.events.items():
                entries.append((event_rule.name or key,
                                ("layers", layer_name, "groups", group_name, "events", key)))
        for name, path in entries:
            if name in RESERVED_NAMES and name != "total":
                collect.problem(path, f"'{name}' is reserved for an output column",
                                "choose another name for this layer, group or rule")
            elif name in seen:
                collect.problem(path, f"duplicate name '{name}'",
                                f"names of layers, groups and rules must be unique; first used at "
                                f"{_fmt(seen[name])}")
            else:
                seen[name] = path


def _fmt(path: PathKey) -> str:
    from leadscore.spec.loader import format_path

    return format_path(path)


def compile_plan(loaded: LoadedModel, schema: DataSchema | None = None) -> ScoringPlan:
    """Bind and check the whole model (and its segments); raise ModelError with every issue."""
    collect = _Collector(loaded)
    plan = _build(loaded, schema, collect)
    if collect.issues or plan is None:
        raise ModelError(f"{loaded.source or 'model'} has errors", collect.issues)
    return plan


def _build(loaded: LoadedModel, schema: DataSchema | None, collect: _Collector) -> ScoringPlan | None:
    spec = loaded.spec
    lists = _resolve_lists(spec, collect)
    _check_names(spec, collect)
    mapping = spec.data
    lead_cols = frozenset(schema.leads) if schema else None
    acc_cols = frozenset(schema.accounts) if schema and schema.accounts is not None else (
        frozenset() if schema else None)
    event_cols = frozenset(schema.events) if schema else None
    if schema:
        _check_mapping(spec, schema, collect)
    selectors = frozenset(spec.group_names()) | frozenset(spec.rule_names())
    base = dict(lead_columns=lead_cols, account_columns=acc_cols, event_columns=event_cols, lists=lists,
                selectors=selectors, has_created=_present(mapping.leads.created, schema) is not None)
    profile_ns = NameSpace(context="profile", **base)  # type: ignore[arg-type]
    event_ns = NameSpace(context="event", **base)  # type: ignore[arg-type]

    layers: list[LayerPlan] = []
    for layer_name, layer in spec.layers.items():
        rules = tuple(
            plan for index, rule in enumerate(layer.rules)
            if (plan := _profile_rule(layer_name, rule, ("layers", layer_name, "rules", index),
                                      profile_ns, collect)) is not None
        )
        if layer.predictive is not None:
            predicted = _profile_rule(layer_name, predictive_rule(layer_name, layer.predictive),
                                      ("layers", layer_name, "predictive"), profile_ns, collect)
            rules += (predicted,) if predicted is not None else ()
        groups: list[GroupPlan] = []
        for group_name, group in layer.groups.items():
            planned: list[EventRulePlan] = []
            for key, rule in group.events.items():
                path: PathKey = ("layers", layer_name, "groups", group_name, "events", key)
                where = collect.bind(rule.where, event_ns, (*path, "where")) if rule.where else None
                event_type = rule.type or key
                if schema and schema.event_types is not None and event_type not in schema.event_types:
                    close = difflib.get_close_matches(event_type, sorted(schema.event_types), n=1)
                    # Point at what names the type: the 'type:' value, else the rule's key.
                    collect.problem((*path, "type") if rule.type else path,
                                    f"event type '{event_type}' does not occur in the data",
                                    f"did you mean '{close[0]}'?" if close else
                                    "known types: " + ", ".join(sorted(schema.event_types)[:20]),
                                    at_key=rule.type is None)
                planned.append(EventRulePlan(
                    layer=layer_name, group=group_name, name=rule.name or key, event_type=event_type,
                    points=rule.points, where=where, max_count=rule.max_count,
                    within_days=rule.within if rule.within is not None else group.within,
                    decay=rule.decay or group.decay))
            groups.append(GroupPlan(layer_name, group_name, group.cap, group.floor, tuple(planned)))
        layers.append(LayerPlan(layer_name, layer.cap, layer.floor, rules, tuple(groups)))

    derived: dict[str, Ref] = {"total": Ref("total", "total")}
    for layer_plan in layers:
        derived[layer_plan.name] = Ref("layer", layer_plan.name)
        for rule_plan in layer_plan.rules:
            derived[rule_plan.name] = Ref("rule", rule_plan.name)
        for group_plan in layer_plan.groups:
            derived[group_plan.name] = Ref("group", group_plan.name)
            for event_plan in group_plan.rules:
                derived[event_plan.name] = Ref("rule", event_plan.name)
    stage_ns = NameSpace(context="stage", derived=derived, **base)  # type: ignore[arg-type]
    grade_ns = NameSpace(context="grade", derived=derived, **base)  # type: ignore[arg-type]

    grades = tuple(
        (grade, bound) for grade, text in spec.grades.items()
        if (bound := collect.bind(text, grade_ns, ("grades", grade))) is not None
    )
    stages: list[StagePlan] = []
    for index, stage in enumerate(spec.stages):
        required = tuple(
            bound for r_index, text in enumerate(stage.require)
            if (bound := collect.bind(text, stage_ns, ("stages", index, "require", r_index))) is not None
        )
        stages.append(StagePlan(stage.name, stage.min_score, required, stage.action))
    _check_stages(spec, collect)
    if spec.total.cap is not None and spec.total.cap < 0:
        collect.problem(("total", "cap"), f"total cap {spec.total.cap} is below zero",
                        "a cap is the highest total a lead can reach; use a positive number")

    account = _account_plan(spec, base, collect) if spec.account else None
    meaningful = frozenset(spec.meaningful_events) if spec.meaningful_events is not None else None

    segments: list[SegmentPlan] = []
    segment_ns = NameSpace(context="segment", **base)  # type: ignore[arg-type]
    for name, segment in spec.segments.items():
        condition = collect.bind(segment.when, segment_ns, ("segments", name, "when"))
        sub = loaded.segments.get(name)
        if sub is None or condition is None:
            continue
        sub_layers = list(sub.spec.layers)
        if sub_layers != list(spec.layers):
            collect.problem(("segments", name, "model"),
                            f"segment model has layers {sub_layers}, the main model {list(spec.layers)}",
                            "segment models must name the same layers, in the same order, so every "
                            "lead's scores share one set of columns")
            continue
        if sub.spec.segments:
            collect.problem(("segments", name, "model"), "a segment model cannot have segments itself")
            continue
        sub_collect = _Collector(sub)
        sub_plan = _build(sub, schema, sub_collect)
        collect.issues.extend(sub_collect.issues)
        if sub_plan is not None:
            segments.append(SegmentPlan(name, condition, replace(sub_plan, account=account)))

    return ScoringPlan(
        name=spec.model, version_hash=loaded.version_hash, layers=tuple(layers),
        total_floor=spec.total.floor, total_cap=spec.total.cap, grades=grades, stages=tuple(stages),
        aggregates=dict(collect.aggregates), meaningful_types=meaningful, account=account,
        segments=tuple(segments), lead_key=mapping.leads.key or "lead_id",
        lead_account=_present(mapping.leads.account, schema), lead_created=_present(mapping.leads.created, schema),
        lead_email=mapping.leads.email or "email",
        event_key=mapping.events.key or "event_id", event_lead=mapping.events.lead or "lead_id",
        event_time=mapping.events.time or "ts", event_type=mapping.events.type or "type",
        account_key=mapping.accounts.key or "account_id", reasons_top=spec.reasons_top,
        fired_rules=frozenset(collect.fired),
    )


def _present(column: str | None, schema: DataSchema | None) -> str | None:
    """An optional lead column (account, created) that the data does not have is simply absent."""
    if column is None or schema is None:
        return column
    return column if column in schema.leads else None


def _profile_rule(layer: str, rule: ProfileRule, path: PathKey, names: NameSpace,
                  collect: _Collector) -> ProfileRulePlan | None:
    if rule.tiers is not None:
        tiers = []
        for index, tier in enumerate(rule.tiers):
            bound = collect.bind(tier.when, names, (*path, "tiers", index, "when"))
            if bound is not None:
                tiers.append((bound, tier.points))
        return ProfileRulePlan(layer, rule.name, "tiers", tiers=tuple(tiers))
    if rule.column is not None:
        column = collect.bind(_column_expression(rule.column), names, (*path, "column"))
        mapping = rule.points if isinstance(rule.points, dict) else {}
        keys = [(k if rule.case_sensitive else k.lower(), float(v)) for k, v in mapping.items()]
        seen: set[str] = set()
        for key, _ in keys:
            if key in seen:
                collect.problem((*path, "points", key), f"value '{key}' is mapped twice",
                                "value maps compare case-insensitively unless case_sensitive: true")
            seen.add(key)
        return ProfileRulePlan(layer, rule.name, "map", column=column, mapping=tuple(keys),
                               default=rule.default or 0.0, case_sensitive=rule.case_sensitive)
    condition = collect.bind(rule.when, names, (*path, "when")) if rule.when is not None else None
    if isinstance(rule.points, str):
        expr = collect.bind(rule.points, names, (*path, "points"))
        return ProfileRulePlan(layer, rule.name, "when", condition=condition, points_expr=expr)
    fixed = rule.points if isinstance(rule.points, int | float) else 0.0
    return ProfileRulePlan(layer, rule.name, "when", condition=condition, points=float(fixed))


def _column_expression(column: str) -> str:
    """A value-map column name as an expression: qualified names pass, others are quoted."""
    if column.startswith(("account.", "lead.")):
        return column
    return '"' + column.replace('"', '""') + '"'


def _check_mapping(spec: ScoringModel, schema: DataSchema, collect: _Collector) -> None:
    mapping = spec.data
    checks = [
        ("leads", "key", mapping.leads.key, schema.leads),
        ("leads", "account", mapping.leads.account, schema.leads),
        ("leads", "created", mapping.leads.created, schema.leads),
        ("events", "key", mapping.events.key, schema.events),
        ("events", "lead", mapping.events.lead, schema.events),
        ("events", "time", mapping.events.time, schema.events),
        ("events", "type", mapping.events.type, schema.events),
    ]
    if schema.accounts is not None:
        checks.append(("accounts", "key", mapping.accounts.key, schema.accounts))
    for table, role, column, columns in checks:
        if column is None or column in columns:
            continue
        if table == "leads" and role in {"account", "created"} and _is_default(spec, table, role):
            continue  # optional defaults that the data simply does not have
        close = difflib.get_close_matches(column, list(columns), n=1)
        collect.problem(("data", table, role), f"{table} has no column '{column}'",
                        f"did you mean '{close[0]}'?" if close else
                        f"set data.{table}.{role} to one of: {', '.join(list(columns)[:15])}")


def _is_default(spec: ScoringModel, table: str, role: str) -> bool:
    explicit = spec.data.model_fields_set
    return table not in explicit or role not in getattr(spec.data, table).model_fields_set


def _check_stages(spec: ScoringModel, collect: _Collector) -> None:
    """A stage that an earlier, looser stage always catches first can never be reached."""
    for later_index, later in enumerate(spec.stages):
        for earlier in spec.stages[:later_index]:
            if earlier.min_score <= later.min_score and set(earlier.require) <= set(later.require):
                collect.problem(
                    ("stages", later_index, "min_score"),
                    f"stage '{later.name}' can never match: stage '{earlier.name}' (min_score "
                    f"{earlier.min_score:g}) is tried first and catches every lead it would",
                    "order stages from the highest min_score down")
                break
    names = [stage.name for stage in spec.stages]
    for index, name in enumerate(names):
        if name in names[:index]:
            collect.problem(("stages", index, "name"), f"duplicate stage name '{name}'")


def _account_plan(spec: ScoringModel, base: Mapping[str, Any], collect: _Collector) -> AccountPlan:
    assert spec.account is not None
    account = spec.account
    account_ns = NameSpace(context="account", **base)
    committee_ns = NameSpace(context="committee", **base)
    rules = tuple(
        plan for index, rule in enumerate(account.rules)
        if (plan := _profile_rule("account", rule, ("account", "rules", index), account_ns, collect))
    )
    committee = tuple(
        (role, bound) for role, text in account.committee.items()
        if (bound := collect.bind(text, committee_ns, ("account", "committee", role))) is not None
    )
    return AccountPlan(account.rollup.top_n, account.rollup.engaged_min, account.rollup.beyond_top_points,
                       rules, committee, account.cap)

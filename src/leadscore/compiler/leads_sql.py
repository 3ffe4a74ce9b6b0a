"""The lead query: rules -> groups -> layers -> total -> grade, stage, reasons, as sqlglot trees.

Each step is one CTE that adds columns, so the generated SQL reads like the model: ``r`` (rule
points over leads joined to accounts and the events pass), ``g`` (group sums and caps),
``l`` (layers), ``t`` (total) and ``o`` (grade, stage, reasons). Every clamp shows up as its own
reason item (``email:cap``, ``fit:cap``, ``total:floor``) so the reasons add up to the total.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from leadscore.compiler.conditions import BoundCondition
from leadscore.compiler.events_sql import LEAD, EventNames, events_ctes, meaningful_types
from leadscore.compiler.expand import condition_sql, predicate_sql
from leadscore.compiler.plan import ProfileRulePlan, ScoringPlan
from leadscore.compiler.sqlbuild import (
    add_all,
    age_days,
    alias,
    and_all,
    case_when,
    clamp,
    col,
    lit,
    num,
    true_or_false,
)

LEAD_ALIAS, ACCOUNT_ALIAS, EVENTS_ALIAS, SEGMENT_EVENTS_ALIAS = "l", "a", "e", "se"


@dataclass(frozen=True)
class Relations:
    """Where the input tables are: any FROM-able sqlglot expression (table, view, read_parquet)."""

    leads: exp.Expr
    events: exp.Expr
    accounts: exp.Expr | None
    event_columns: frozenset[str]
    lead_columns: frozenset[str]


def pts(rule: str) -> str:
    return f"pts__{rule}"


def fired(rule: str) -> str:
    return f"fired__{rule}"


def passthrough(key: str) -> str:
    return f"ref__{key}"


def group_raw(name: str) -> str:
    return f"graw__{name}"


def layer_raw(name: str) -> str:
    return f"lraw__{name}"


TOTAL_RAW = "total__raw"


class _RuleResolver:
    """Resolves placeholders inside rule conditions (the ``r`` CTE: l, a and e in scope)."""

    def __init__(self, plan: ScoringPlan, as_of: exp.Expr, events_alias: str = EVENTS_ALIAS) -> None:
        self.plan = plan
        self.as_of = as_of
        self.events_alias = events_alias

    def __call__(self, key: str) -> exp.Expr:
        kind, _, name = key.partition(":")
        if kind == "lead":
            return col(name, LEAD_ALIAS)
        if kind == "account":
            return col(name, ACCOUNT_ALIAS)
        if kind == "agg":
            figure = col(EventNames.aggregate(key), self.events_alias)
            return exp.Coalesce(this=figure, expressions=[lit(0)]) if name.startswith("count") else figure
        if kind == "special":
            return self.special(name)
        raise ValueError(f"reference {key!r} cannot be used in a lead rule")

    def special(self, name: str) -> exp.Expr:
        plan = self.plan
        if name == "days_since_created":
            return age_days(col(plan.lead_created or "created_at", LEAD_ALIAS), self.as_of)
        if name == "days_since_last_activity":
            last = col(EventNames.aggregate("agg:last_age:None:None"), self.events_alias)
            if plan.lead_created is None:
                return last
            return exp.Coalesce(this=last, expressions=[self.special("days_since_created")])
        if name == "is_duplicate":
            return col(DUPLICATE, LEAD_ALIAS)
        raise ValueError(f"unknown special reference {name!r}")


DUPLICATE = "__is_duplicate"


def uses_duplicate(plan: ScoringPlan) -> bool:
    """Does the plan, or one of its segment conditions, ask ``is_duplicate()``?"""
    conditions = _all_conditions(plan) + [segment.condition for segment in plan.segments]
    return any(ref.kind == "special" and ref.name == "is_duplicate"
               for bound in conditions for ref in bound.refs.values())


def _all_conditions(plan: ScoringPlan) -> list[BoundCondition]:
    found: list[BoundCondition] = []
    for rule in plan.profile_rules:
        found += [c for c in (rule.condition, rule.points_expr, rule.column) if c is not None]
        found += [tier for tier, _ in rule.tiers]
    found += [bound for _, bound in plan.grades]
    found += [bound for stage in plan.stages for bound in stage.require]
    if plan.account is not None:
        found += [bound for _, bound in plan.account.committee]
    return found


def profile_points_sql(rule: ProfileRulePlan, resolve: Callable[[str], exp.Expr]) -> exp.Expr:
    """Points of one profile rule (0 when it does not apply), as a DOUBLE."""
    if rule.shape == "tiers":
        return case_when([(predicate_sql(cond, resolve), num(points)) for cond, points in rule.tiers],
                         num(0.0))
    if rule.shape == "map":
        assert rule.column is not None
        value: exp.Expr = exp.cast(condition_sql(rule.column, resolve), exp.DataType.build("VARCHAR"))
        if not rule.case_sensitive:
            value = exp.Lower(this=value)
        case = exp.Case(this=value)
        for key, points in rule.mapping:
            case = case.when(lit(key), num(points), copy=False)
        return case.else_(num(rule.default), copy=False)
    amount = num(rule.points or 0.0) if rule.points_expr is None else exp.Coalesce(
        this=exp.cast(condition_sql(rule.points_expr, resolve), exp.DataType.build("DOUBLE")),
        expressions=[num(0.0)])
    if rule.condition is None:
        return amount
    return case_when([(predicate_sql(rule.condition, resolve), amount)], num(0.0))


def profile_fired_sql(rule: ProfileRulePlan, resolve: Callable[[str], exp.Expr]) -> exp.Expr:
    """Did a profile rule apply (a matching tier or mapped value, or a true condition)?"""
    if rule.shape == "tiers":
        return true_or_false(exp.or_(*[exp.paren(predicate_sql(c, resolve)) for c, _ in rule.tiers]))
    if rule.shape == "map":
        assert rule.column is not None
        value: exp.Expr = exp.cast(condition_sql(rule.column, resolve), exp.DataType.build("VARCHAR"))
        if not rule.case_sensitive:
            value = exp.Lower(this=value)
        return true_or_false(exp.In(this=value, expressions=[lit(k) for k, _ in rule.mapping]))
    if rule.condition is None:
        return exp.NEQ(this=profile_points_sql(rule, resolve), expression=num(0.0))
    return predicate_sql(rule.condition, resolve)


def _derived_refs(plan: ScoringPlan) -> dict[str, tuple[str, str]]:
    """Placeholders used by grades/stages/committee that the ``r`` CTE must pass through."""
    needed: dict[str, tuple[str, str]] = {}
    conditions = [b for _, b in plan.grades] + [b for s in plan.stages for b in s.require]
    if plan.account is not None:
        conditions += [b for _, b in plan.account.committee]
    for bound in conditions:
        for key, ref in bound.refs.items():
            if ref.kind in {"lead", "account", "special"}:
                needed[key] = (ref.kind, ref.name)
        for key in bound.aggregates:
            needed[key] = ("agg", key)
    return needed


def lead_query(plan: ScoringPlan, relations: Relations, as_of: exp.Expr, *,
               segment: tuple[str, exp.Expr] | None = None, events_table: str | None = None,
               segment_events: str | None = None, needs_duplicate: bool = False) -> exp.Select:
    """The full lead scoring query for one plan (optionally restricted to one segment).

    With ``events_table`` the events pass is read from that (materialised) table instead of
    being computed in a CTE; the backend does this to check it for unknown leads first.
    """
    resolve = _RuleResolver(plan, as_of)
    ctes = [] if events_table else events_ctes(plan, relations.events, as_of, relations.event_columns)

    leads_source: exp.Expr = relations.leads
    if uses_duplicate(plan) or needs_duplicate:
        email = col(plan.lead_email or "email")
        order = [col(plan.lead_created)] if plan.lead_created else []
        window = exp.Window(this=exp.RowNumber(),
                            partition_by=[exp.Lower(this=exp.Trim(this=email.copy()))],
                            order=exp.Order(expressions=[*order, col(plan.lead_key)]))
        dup = and_all([exp.Not(this=exp.Is(this=email, expression=exp.Null())),
                       exp.GT(this=window, expression=lit(1))])
        ctes.append(("leads_dup", exp.select(exp.Star(), alias(dup, DUPLICATE)).from_(relations.leads)))
        leads_source = exp.to_table("leads_dup")

    select: list[exp.Expr] = [
        alias(col(plan.lead_key, LEAD_ALIAS), "lead_id"),
        alias(col(plan.lead_account, LEAD_ALIAS) if plan.lead_account else exp.Null(), "account_id"),
    ]
    for rule in plan.profile_rules:
        select.append(alias(profile_points_sql(rule, resolve), pts(rule.name)))
        if rule.name in plan.fired_rules:
            select.append(alias(profile_fired_sql(rule, resolve), fired(rule.name)))
    for event_rule in plan.event_rules:
        select.append(alias(exp.Coalesce(this=col(EventNames.points(event_rule.name), EVENTS_ALIAS),
                                         expressions=[num(0.0)]), pts(event_rule.name)))
        if event_rule.name in plan.fired_rules:
            select.append(alias(exp.GT(this=exp.Coalesce(
                this=col(EventNames.count(event_rule.name), EVENTS_ALIAS), expressions=[lit(0)]),
                expression=lit(0)), fired(event_rule.name)))
    for key, (kind, name) in sorted(_derived_refs(plan).items()):
        select.append(alias(resolve(key) if kind != "agg" else resolve(name), passthrough(key)))
    select += _last_activity_columns(plan)
    if plan.account is not None and plan.account.committee:
        roles = [(predicate_sql(bound, resolve), lit(role)) for role, bound in plan.account.committee]
        select.append(alias(case_when(roles, None), "committee_role"))

    rules = exp.select(*select).from_(exp.alias_(leads_source, LEAD_ALIAS))
    if relations.accounts is not None and plan.lead_account:
        rules = rules.join(exp.alias_(relations.accounts, ACCOUNT_ALIAS),
                           on=exp.EQ(this=col(plan.lead_account, LEAD_ALIAS),
                                     expression=col(plan.account_key, ACCOUNT_ALIAS)), join_type="left")
    rules = rules.join(exp.alias_(exp.to_table(events_table or "ev"), EVENTS_ALIAS),
                       on=exp.EQ(this=col(plan.lead_key, LEAD_ALIAS), expression=col(LEAD, EVENTS_ALIAS)),
                       join_type="left")
    if segment_events is not None:
        # Segment conditions are the main model's: their event counts come from its events pass.
        rules = rules.join(exp.alias_(exp.to_table(segment_events), SEGMENT_EVENTS_ALIAS),
                           on=exp.EQ(this=col(plan.lead_key, LEAD_ALIAS),
                                     expression=col(LEAD, SEGMENT_EVENTS_ALIAS)), join_type="left")
    if segment is not None:
        rules = rules.where(segment[1])
    ctes.append(("r", rules))
    ctes += _score_ctes(plan)
    query = exp.select(*_output_columns(plan, segment[0] if segment else None)).from_("o")
    for name, cte in ctes:
        query = query.with_(name, as_=cte, copy=False)  # copying on every CTE was quadratic
    return query


def _last_activity_columns(plan: ScoringPlan) -> list[exp.Expr]:
    """Decode the events pass's newest-meaningful-event key into a time and a type."""
    types = sorted(meaningful_types(plan))
    if not types:
        return [alias(exp.cast(exp.Null(), exp.DataType.build("TIMESTAMP")), "last_activity_at"),
                alias(exp.cast(exp.Null(), exp.DataType.build("VARCHAR")), "last_activity_type")]
    key = col(EventNames.LAST_ACTIVITY, EVENTS_ALIAS)
    count = lit(len(types))
    # The key is epoch_us * count + rank, and epoch_us is negative before 1970. The remainder is
    # made non-negative by hand, so the result does not depend on whether a dialect's % and
    # integer division truncate (DuckDB, Postgres, Spark) or floor: rank = ((key % n) + n) % n,
    # and key - rank is an exact multiple of n.
    rank = exp.Mod(this=exp.paren(exp.Add(this=exp.Mod(this=key.copy(), expression=count.copy()),
                                          expression=count.copy())), expression=count.copy())
    micros = exp.IntDiv(this=exp.paren(exp.Sub(this=key.copy(), expression=exp.paren(rank.copy()))),
                        expression=count.copy())
    at = exp.UnixToTime(this=micros, scale=exp.UnixToTime.MICROS)
    kind = exp.Case(this=rank)
    for index, name in enumerate(types):
        kind = kind.when(lit(index), lit(name), copy=False)
    return [alias(exp.cast(at, exp.DataType.build("TIMESTAMP")), "last_activity_at"),
            alias(kind, "last_activity_type")]


def _score_ctes(plan: ScoringPlan) -> list[tuple[str, exp.Select]]:
    groups = [
        alias(add_all([col(pts(rule.name)) for rule in group.rules]), group_raw(group.name))
        for group in plan.groups
    ]
    g = exp.select(exp.Star(), *groups).from_("r")
    capped = [alias(clamp(col(group_raw(group.name)), group.floor, group.cap), group.name)
              for group in plan.groups]
    g2 = exp.select(exp.Star(), *capped).from_("g")
    layer_raws = [
        alias(add_all([col(pts(rule.name)) for rule in layer.rules] + [col(gr.name) for gr in layer.groups]),
              layer_raw(layer.name))
        for layer in plan.layers
    ]
    lr = exp.select(exp.Star(), *layer_raws).from_("g2")
    layers = [alias(clamp(col(layer_raw(layer.name)), layer.floor, layer.cap), layer.name)
              for layer in plan.layers]
    lv = exp.select(exp.Star(), *layers).from_("lr")
    traw = exp.select(exp.Star(), alias(add_all([col(layer.name) for layer in plan.layers]), TOTAL_RAW)
                      ).from_("lv")
    total = exp.select(exp.Star(), alias(clamp(col(TOTAL_RAW), plan.total_floor, plan.total_cap), "total")
                       ).from_("traw")
    resolve = _derived_resolver()
    grade = case_when([(predicate_sql(bound, resolve), lit(name)) for name, bound in plan.grades], None) \
        if plan.grades else exp.Null()
    stage_whens = []
    action_whens = []
    for stage in plan.stages:
        condition = and_all([exp.GTE(this=col("total"), expression=num(stage.min_score)),
                             *[predicate_sql(bound, resolve) for bound in stage.require]])
        stage_whens.append((condition, lit(stage.name)))
        action_whens.append((condition.copy(), lit(stage.action) if stage.action else exp.Null()))
    o = exp.select(exp.Star(), alias(grade, "grade"), alias(case_when(stage_whens, None), "stage"),
                   alias(case_when(action_whens, None), "next_action"),
                   *_reason_columns(plan)).from_("t")
    return [("g", g), ("g2", g2), ("lr", lr), ("lv", lv), ("traw", traw), ("t", total), ("o0", o),
            *_top_reason_ctes(plan)]


def _derived_resolver() -> Callable[[str], exp.Expr]:
    def resolve(key: str) -> exp.Expr:
        kind, _, name = key.partition(":")
        if kind == "layer" or kind == "group":
            return col(name)
        if kind == "total":
            return col("total")
        if kind == "rule":
            return col(fired(name))
        return col(passthrough(key))

    return resolve


def reason_items(plan: ScoringPlan) -> list[tuple[str, str, exp.Expr]]:
    """Every item of the explanation, in model order: rules, then clamps, then the total's clamp."""
    items: list[tuple[str, str, exp.Expr]] = []
    for layer in plan.layers:
        for rule in layer.rules:
            items.append((rule.name, layer.name, col(pts(rule.name))))
        for group in layer.groups:
            for event_rule in group.rules:
                items.append((event_rule.name, layer.name, col(pts(event_rule.name))))
            if group.cap is not None or group.floor is not None:
                items.append((f"{group.name}:cap", layer.name,
                              exp.Sub(this=col(group.name), expression=col(group_raw(group.name)))))
        if layer.cap is not None or layer.floor is not None:
            items.append((f"{layer.name}:cap", layer.name,
                          exp.Sub(this=col(layer.name), expression=col(layer_raw(layer.name)))))
    if plan.total_cap is not None or plan.total_floor is not None:
        items.append(("total:cap", "total", exp.Sub(this=col("total"), expression=col(TOTAL_RAW))))
    return items


REASON_PREFIX = "why:"
"""Explanation items are columns named ``why:<item>`` internally, written as ``lead_reasons``."""


def _reason_columns(plan: ScoringPlan) -> list[exp.Expr]:
    return [alias(points, REASON_PREFIX + name) for name, _layer, points in reason_items(plan)]


def top_reason_candidates(plan: ScoringPlan) -> list[tuple[str, exp.Expr]]:
    """Candidates for reason1..N, in name order: rules by their own points, groups by capped value."""
    candidates: list[tuple[str, exp.Expr]] = []
    for layer in plan.layers:
        candidates += [(rule.name, col(pts(rule.name))) for rule in layer.rules]
        candidates += [(group.name, col(group.name)) for group in layer.groups]
    return sorted(candidates, key=lambda item: item[0])


def _top_reason_ctes(plan: ScoringPlan) -> list[tuple[str, exp.Select]]:
    """Pick reason1..N without sorting lists: the k-th pick is the largest |points| not yet picked,
    the first in name order on a tie (as a sort by |points| desc, name asc). Zero never counts.
    CTEs ``k<k>`` hold the keys, ``p<k>`` the pick's index; the last one is ``o``."""
    candidates = top_reason_candidates(plan)
    ctes: list[tuple[str, exp.Select]] = []
    source = "o0"
    for k in range(1, plan.reasons_top + 1):
        picked = [col(f"__pick{j}") for j in range(1, k)]
        keys = []
        for index, (_name, points) in enumerate(candidates, start=1):
            magnitude: exp.Expr = exp.Abs(this=points.copy())
            if picked:
                taken = exp.In(this=lit(index), expressions=[p.copy() for p in picked])
                magnitude = case_when([(true_or_false(taken), num(-1.0))], magnitude)
            keys.append(alias(magnitude, f"__key{k}_{index}"))
        ctes.append((f"k{k}", exp.select(exp.Star(), *keys).from_(source)))
        if candidates:
            best = exp.Greatest(this=col(f"__key{k}_1"),
                                expressions=[col(f"__key{k}_{i}") for i in range(2, len(candidates) + 1)])
            pick = case_when([(exp.EQ(this=col(f"__key{k}_{i}"), expression=col(f"__best{k}")), lit(i))
                              for i in range(1, len(candidates) + 1)], None)
            with_best = exp.select(exp.Star(), alias(best, f"__best{k}")).from_(f"k{k}")
            ctes.append((f"b{k}", with_best))
            chosen = case_when([(exp.GT(this=col(f"__best{k}"), expression=num(0.0)), pick)], None)
            ctes.append((f"p{k}", exp.select(exp.Star(), alias(chosen, f"__pick{k}")).from_(f"b{k}")))
        else:
            ctes.append((f"p{k}", exp.select(exp.Star(), alias(exp.Null(), f"__pick{k}")).from_(f"k{k}")))
        source = f"p{k}"
    ctes.append(("o", exp.select(exp.Star()).from_(source)))
    return ctes


def _top_reason_columns(plan: ScoringPlan) -> list[exp.Expr]:
    candidates = top_reason_candidates(plan)
    columns: list[exp.Expr] = []
    for k in range(1, plan.reasons_top + 1):
        names = exp.Case(this=col(f"__pick{k}"))
        values = exp.Case(this=col(f"__pick{k}"))
        for index, (name, points) in enumerate(candidates, start=1):
            names = names.when(lit(index), lit(name), copy=False)
            values = values.when(lit(index), points.copy(), copy=False)
        if not candidates:
            columns += [alias(exp.cast(exp.Null(), exp.DataType.build("VARCHAR")), f"reason{k}"),
                        alias(exp.cast(exp.Null(), exp.DataType.build("DOUBLE")), f"points{k}")]
        else:
            columns += [alias(names, f"reason{k}"), alias(values, f"points{k}")]
    return columns


def _output_columns(plan: ScoringPlan, segment: str | None) -> list[exp.Expr]:
    columns: list[exp.Expr] = [col("lead_id"), col("account_id"),
                                     alias(lit(segment) if segment else exp.Null(), "segment")]
    columns += [col(layer.name) for layer in plan.layers]
    columns += [col(group.name) for group in plan.groups]
    columns += [col("total"), col("grade"), col("stage"), col("next_action")]
    columns += _top_reason_columns(plan)
    columns += [col("last_activity_at"), col("last_activity_type")]
    if plan.account is not None and plan.account.committee:
        columns.append(col("committee_role"))
    columns += [col(REASON_PREFIX + name) for name, _layer, _points in reason_items(plan)]
    return columns

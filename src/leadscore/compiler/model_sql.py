"""Whole-model SQL: one lead query per segment model, stitched with UNION ALL on fixed columns."""

from __future__ import annotations

from sqlglot import exp

from leadscore.compiler.events_sql import events_ctes
from leadscore.compiler.expand import predicate_sql
from leadscore.compiler.leads_sql import (
    REASON_PREFIX,
    SEGMENT_EVENTS_ALIAS,
    Relations,
    _RuleResolver,
    lead_query,
    reason_items,
    uses_duplicate,
)
from leadscore.compiler.plan import ScoringPlan
from leadscore.compiler.sqlbuild import and_all, timestamp_literal

__all__ = ["Relations", "events_query", "lead_output_columns", "lead_scores_query", "model_plans"]


def lead_output_columns(plan: ScoringPlan) -> list[str]:
    """Output columns of lead scores for a plan and all its segments (union, in a stable order)."""
    groups: list[str] = []
    for candidate in [plan, *[segment.plan for segment in plan.segments]]:
        groups += [g.name for g in candidate.groups if g.name not in groups]
    columns = ["lead_id", "account_id", "segment", *[layer.name for layer in plan.layers], *groups,
               "total", "grade", "stage", "next_action"]
    for index in range(1, plan.reasons_top + 1):
        columns += [f"reason{index}", f"points{index}"]
    columns += ["last_activity_at", "last_activity_type"]
    if plan.account is not None and plan.account.committee:
        columns.append("committee_role")
    items: list[str] = []
    for candidate in [plan, *[segment.plan for segment in plan.segments]]:
        items += [REASON_PREFIX + name for name, _l, _p in reason_items(candidate)
                  if REASON_PREFIX + name not in items]
    return columns + items


def model_plans(plan: ScoringPlan) -> list[ScoringPlan]:
    """The segment plans then the main plan: the order of ``events_tables`` below."""
    return [segment.plan for segment in plan.segments] + [plan]


def events_query(plan: ScoringPlan, relations: Relations, as_of_iso: str, *, lookups: bool = False
                 ) -> exp.Select:
    """The events pass of one (segment) plan as a standalone query, for materialising (``lookups``:
    DuckDB's list look-ups, see ``events_ctes``)."""
    ctes = events_ctes(plan, relations.events, timestamp_literal(as_of_iso), relations.event_columns,
                       lookups=lookups)
    query = exp.select(exp.Star()).from_("ev")
    for name, cte in ctes:
        query = query.with_(name, as_=cte, copy=False)  # copying on every CTE was quadratic
    return query


def lead_scores_query(plan: ScoringPlan, relations: Relations, as_of_iso: str, *,
                      events_tables: list[str] | None = None) -> exp.Expr:
    """The lead scoring query for a plan; segments each get their own model's query.

    ``events_tables`` names materialised events passes, one per ``model_plans(plan)`` entry;
    without it the query is self-contained (what ``leadscore sql`` exports).
    """
    as_of = timestamp_literal(as_of_iso)
    tables: list[str | None] = list(events_tables) if events_tables else [None] * (len(plan.segments) + 1)
    if not plan.segments:
        return lead_query(plan, relations, as_of, events_table=tables[-1])
    resolve = _RuleResolver(plan, as_of, SEGMENT_EVENTS_ALIAS)
    columns = lead_output_columns(plan)
    conditions = [(segment.name, predicate_sql(segment.condition, resolve)) for segment in plan.segments]
    uses_events = any(segment.condition.aggregates or any(
        ref.kind == "special" and ref.name == "days_since_last_activity" for ref in segment.condition.refs.values())
        for segment in plan.segments)
    # The main model's events pass serves the segment conditions of every part.
    main_events: str | None = None
    if uses_events:
        main_events = tables[-1] or "segment_ev"
    # A segment condition may ask is_duplicate(): every part's WHERE then reads the column.
    duplicate = uses_duplicate(plan)
    parts: list[exp.Expr] = []
    for index, segment in enumerate(plan.segments):
        earlier = [exp.Not(this=exp.paren(c.copy())) for _, c in conditions[:index]]
        where = and_all([*earlier, conditions[index][1].copy()])
        parts.append(_pad(lead_query(segment.plan, relations, as_of, segment=(segment.name, where),
                                     events_table=tables[index], segment_events=main_events,
                                     needs_duplicate=duplicate), columns))
    default_where = and_all([exp.Not(this=exp.paren(c.copy())) for _, c in conditions])
    parts.append(_pad(lead_query(plan, relations, as_of, segment=("default", default_where),
                                 events_table=tables[-1], segment_events=main_events,
                                 needs_duplicate=duplicate), columns))
    union = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    if main_events == "segment_ev" and isinstance(union, exp.Query):
        for name, cte in events_ctes(plan, relations.events, as_of, relations.event_columns, prefix="segment_"):
            union = union.with_(name, as_=cte, copy=False)
    return union


def _pad(query: exp.Select, columns: list[str]) -> exp.Select:
    """Project exactly ``columns`` (NULL for a group this segment's model lacks)."""
    have = {e.alias_or_name for e in query.expressions}
    projections = []
    for name in columns:
        projections.append(exp.column(name, quoted=True) if name in have
                           else exp.alias_(exp.Null(), name, quoted=True))
    inner = query.copy()
    return exp.select(*projections).from_(exp.alias_(exp.Subquery(this=inner), "seg", quoted=True))

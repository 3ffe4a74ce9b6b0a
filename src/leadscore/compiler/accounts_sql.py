"""The account query: roll up scored leads (top-N sum, engaged contacts, committee) plus account rules."""

from __future__ import annotations

from sqlglot import exp

from leadscore.compiler.expand import predicate_sql
from leadscore.compiler.leads_sql import profile_points_sql
from leadscore.compiler.plan import AccountPlan, ScoringPlan
from leadscore.compiler.sqlbuild import add_all, alias, and_all, clamp, col, filtered, lit, num

ACCOUNT_ALIAS = "a"


def _account_resolver(key: str) -> exp.Expr:
    kind, _, name = key.partition(":")
    if kind != "account":  # the binder only lets account columns into account rules
        raise ValueError(f"reference {key!r} cannot be used in an account rule")
    return col(name, ACCOUNT_ALIAS)


def account_query(plan: ScoringPlan, scores: exp.Expr, accounts: exp.Expr | None) -> exp.Select:
    """Account scores from a lead-scores relation (``lead_id, account_id, total, committee_role``)."""
    account = plan.account or AccountPlan(3, 30.0, 0.0, (), (), None)
    top_n, engaged_min = lit(account.top_n), num(account.engaged_min)
    rank = exp.Window(this=exp.RowNumber(), partition_by=[col("account_id")],
                      order=exp.Order(expressions=[exp.Ordered(this=col("total"), desc=True),
                                                   exp.Ordered(this=col("lead_id"))]))
    role = col("committee_role") if account.committee else exp.Null()
    ranked = exp.select(col("account_id"), col("lead_id"), col("total"), alias(role, "committee_role"),
                        alias(rank, "rk")).from_(scores).where(
        exp.Not(this=exp.Is(this=col("account_id"), expression=exp.Null())))
    in_top = exp.LTE(this=col("rk"), expression=top_n)
    engaged = exp.GTE(this=col("total"), expression=engaged_min)
    agg = exp.select(
        col("account_id"),
        alias(exp.Count(this=exp.Star()), "lead_count"),
        alias(exp.Coalesce(this=filtered(exp.Sum(this=col("total")), in_top), expressions=[num(0.0)]),
              "top_leads_sum"),
        alias(filtered(exp.Count(this=exp.Star()), engaged.copy()), "engaged_leads"),
        alias(filtered(exp.Count(this=exp.Star()),
                       and_all([exp.GT(this=col("rk"), expression=top_n.copy()), engaged.copy()])),
              "engaged_beyond_top"),
        alias(filtered(exp.ArrayAgg(this=exp.Order(this=col("lead_id"), expressions=[
            exp.Ordered(this=col("rk"))])), in_top.copy()), "top_leads"),
        alias(exp.ArraySort(this=filtered(
            exp.ArrayAgg(this=exp.Distinct(expressions=[col("committee_role")])),
            and_all([engaged.copy(), exp.Not(this=exp.Is(this=col("committee_role"), expression=exp.Null()))]))),
            "committee_roles"),
    ).from_("ranked").group_by(col("account_id"))

    breadth = exp.Mul(this=exp.cast(col("engaged_beyond_top"), exp.DataType.build("DOUBLE")),
                      expression=num(account.beyond_top_points))
    rule_points = [alias(profile_points_sql(rule, _account_resolver), f"pts__{rule.name}")
                   for rule in account.rules]
    parts = exp.select(exp.Star(), alias(breadth, "pts__engaged_beyond_top"), *rule_points).from_(
        exp.alias_(exp.to_table("agg"), "g"))
    if accounts is not None:
        parts = parts.join(exp.alias_(accounts, ACCOUNT_ALIAS),
                           on=exp.EQ(this=col("account_id", "g"), expression=col(_key(plan), ACCOUNT_ALIAS)),
                           join_type="inner")
    raw = add_all([col("top_leads_sum"), col("pts__engaged_beyond_top"),
                   *[col(f"pts__{rule.name}") for rule in account.rules]])
    scored = exp.select(exp.Star(), alias(raw, "score__raw")).from_("parts")
    final_score = clamp(col("score__raw"), None, account.cap)
    items: list[tuple[str, exp.Expr]] = [("top_leads_sum", col("top_leads_sum")),
                                         ("engaged_beyond_top", col("pts__engaged_beyond_top"))]
    items += [(rule.name, col(f"pts__{rule.name}")) for rule in account.rules]
    if account.cap is not None:
        items.append(("account:cap", exp.Sub(this=final_score.copy(), expression=col("score__raw"))))
    reasons = exp.Anonymous(this="list_filter", expressions=[
        exp.Array(expressions=[exp.Struct(expressions=[
            exp.PropertyEQ(this=exp.to_identifier("rule"), expression=lit(name)),
            exp.PropertyEQ(this=exp.to_identifier("points"), expression=value)]) for name, value in items]),
        exp.Lambda(this=exp.NEQ(this=exp.Dot(this=exp.column("x"), expression=exp.to_identifier("points")),
                                expression=num(0.0)), expressions=[exp.to_identifier("x")])])
    roles_total = len(account.committee)
    query = exp.select(
        col("account_id", "s"), alias(final_score, "account_score"), col("engaged_leads"), col("lead_count"),
        col("top_leads"), col("committee_roles"),
        alias(exp.Coalesce(this=exp.ArraySize(this=col("committee_roles")), expressions=[lit(0)]),
              "committee_coverage"),
        alias(lit(roles_total), "committee_roles_defined"),
        alias(reasons, "reasons"),
    ).from_(exp.alias_(exp.to_table("scored"), "s"))
    for name, cte in (("ranked", ranked), ("agg", agg), ("parts", parts), ("scored", scored)):
        query = query.with_(name, as_=cte, copy=False)  # copying on every CTE was quadratic
    return query


def _key(plan: ScoringPlan) -> str:
    return plan.account_key


__all__ = ["account_query", "predicate_sql"]

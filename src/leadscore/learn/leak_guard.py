"""Refuse a back-test whose model reads a column that gives the outcome away.

A rule on a column filled in after the outcome was known (a "closed won" status, a rep's verdict)
makes a back-test look excellent and means nothing. Before any figure is reported, every lead and
account column a profile rule reads is scored alone against the outcome with
:func:`leadscore.learn.leakage.detect_leakage` (single-feature ROC AUC, 0.95 by default), over the
evaluated leads. A column at or above the threshold stops the back-test with a ``DataError`` naming
the column and the rules that read it, unless the user says it is known in time (``allow``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import duckdb

from leadscore.compiler.plan import ScoringPlan
from leadscore.errors import DataError, Issue
from leadscore.learn.outcomes import POPULATION_TABLE, q, table_columns


@dataclass(frozen=True)
class LeakCheck:
    """Single-feature ROC AUC of each checked column (``lead.x`` / ``account.y``), or why none ran."""

    aucs: dict[str, float]
    skipped: str | None = None


def profile_columns(plan: ScoringPlan) -> dict[str, list[str]]:
    """``lead.<col>`` / ``account.<col>`` -> names of the profile rules that read it (all segments)."""
    found: dict[str, list[str]] = {}
    plans = [plan, *(segment.plan for segment in plan.segments)]
    for each in plans:
        for rule in each.profile_rules:
            conditions = [c for c in (rule.condition, rule.points_expr, rule.column) if c is not None]
            conditions += [tier for tier, _points in rule.tiers]
            for condition in conditions:
                for ref in condition.refs.values():
                    if ref.kind in ("lead", "account"):
                        users = found.setdefault(f"{ref.kind}.{ref.name}", [])
                        if rule.name not in users:
                            users.append(rule.name)
    return found


def check_model_leakage(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, *, allow: Collection[str] = (),
                        threshold: float = 0.95) -> LeakCheck:
    """Score the model's profile columns alone against ``y`` in ``learn_population``; raise on a leak.

    ``allow`` names columns known before the outcome (``won`` or ``lead.won``); they are reported
    but do not stop the back-test.

    Raises
    ------
    DataError
        One issue per leaking column, with its AUC, the rules that read it and what to do.
    """
    used = profile_columns(plan)
    if not used:
        return LeakCheck({})
    try:
        from leadscore.learn.leakage import detect_leakage
    except ImportError:  # pandas comes with the [ml] extra
        return LeakCheck({}, skipped="leakage check skipped: install leadscore[ml] (pandas) to run it")
    lead_cols = set(table_columns(con, "leads"))
    has_accounts = bool(con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'accounts' "
                                    "AND temporary").fetchall()[0][0])
    account_cols = set(table_columns(con, "accounts")) if has_accounts else set()
    select: list[str] = []
    for name in used:
        kind, column = name.split(".", 1)
        if kind == "lead" and column in lead_cols:
            select.append(f"l.{q(column)} AS {q(name)}")
        elif kind == "account" and column in account_cols and plan.lead_account:
            select.append(f"a.{q(column)} AS {q(name)}")
    if not select:
        return LeakCheck({})
    join_accounts = (f" LEFT JOIN accounts a ON a.{q(plan.account_key)} = l.{q(plan.lead_account)}"
                     if has_accounts and plan.lead_account else "")
    frame = con.execute(
        f"SELECT p.y, {', '.join(select)} FROM {POPULATION_TABLE} p "
        f"JOIN leads l ON l.{q(plan.lead_key)} = p.lead_id{join_accounts} "
        "WHERE p.status IS NULL ORDER BY p.lead_id").df()
    features = frame.drop(columns=["y"])
    report = detect_leakage(features, frame["y"].to_numpy(), threshold=threshold)
    allowed = set(allow)
    blocked = [f for f in report.findings if f.column not in allowed and f.column.split(".", 1)[1] not in allowed]
    if blocked:
        raise DataError(
            f"{len(blocked)} column(s) the model reads predict the outcome on their own, so the back-test "
            "would mean nothing: " + ", ".join(repr(f.column) for f in blocked),
            [Issue(f"single-feature ROC AUC {f.strongest:.3f} >= {threshold} (read by "
                   f"{', '.join(used[f.column])}); it was probably filled in after the outcome was known",
                   path=f.column,
                   hint=f"remove the rules reading it from the model, or pass --allow-leak "
                        f"{f.column.split('.', 1)[1]} if it really is known before the outcome")
             for f in blocked])
    return LeakCheck({s.column: round(s.strongest, 4) for s in report.scores})

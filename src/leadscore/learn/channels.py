"""Channel quality: which sources bring leads that sales accepts and that turn into pipeline and revenue.

Cost per lead alone rewards cheap, poor leads. Per channel (``source`` by default, any lead column
with ``by``) this reports leads, cost per lead, the model's stage mix and mean score, and down the
funnel: MQLs, sales acceptance, opportunities, won deals, revenue (``opportunity_amount`` of won
leads), cost per opportunity and per won deal. Each figure needs its columns; a missing one is
skipped and named in ``skipped``, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from leadscore.backends import duckdb_engine
from leadscore.errors import DataError, Issue
from leadscore.learn.jsonable import Jsonable
from leadscore.learn.outcomes import MISSING_LABEL, bool_sql, nearest, q, table_columns, time_sql
from leadscore.learn.sources import scoring_source
from leadscore.spec.loader import LoadedModel

# figure -> (columns it needs, SQL aggregate over the leads `l` and scores `s` of one channel)
COST, MQL_AT, ACCEPTED, OPPORTUNITY, WON, AMOUNT, REASON = (
    "cost", "mql_at", "sales_accepted", "opportunity", "won", "opportunity_amount", "rejection_reason")


@dataclass(frozen=True)
class ChannelRow(Jsonable):
    """One channel's leads and what became of them (``None``: figure skipped for want of a column)."""

    channel: str
    leads: int
    mean_score: float
    stage_share: dict[str, float]
    cost: float | None = None
    cost_per_lead: float | None = None
    mqls: int | None = None
    mql_rate: float | None = None
    sales_accepted: int | None = None
    sales_rejected: int | None = None
    acceptance_rate: float | None = None
    top_rejection_reasons: dict[str, int] | None = None
    opportunities: int | None = None
    opportunity_rate: float | None = None
    won: int | None = None
    win_rate: float | None = None
    revenue: float | None = None
    cost_per_opportunity: float | None = None
    cost_per_won: float | None = None
    conversions: int | None = None
    conversion_rate: float | None = None


@dataclass(frozen=True)
class ChannelReport(Jsonable):
    """``leadscore channels``: one row per channel (most leads first) and a total row."""

    model: str
    model_version: str
    as_of: datetime
    by: str
    channels: tuple[ChannelRow, ...]
    total: ChannelRow
    figures: tuple[str, ...]
    skipped: dict[str, str]


def _rate(part: Any, whole: Any) -> float | None:
    return float(part) / float(whole) if part is not None and whole else None


def _aggregates(columns: dict[str, str], outcome: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """SQL aggregates for the figures whose columns exist, and why each other figure is skipped."""
    def has(name: str) -> bool:
        return name in columns

    agg: dict[str, str] = {}
    skipped: dict[str, str] = {}
    if has(COST):
        agg["cost"] = f"sum(TRY_CAST(l.{q(COST)} AS DOUBLE))"
    else:
        skipped.update(cost="no column 'cost'", cost_per_lead="no column 'cost'")
    if has(MQL_AT):
        agg["mqls"] = f"count(*) FILTER ({time_sql(MQL_AT, columns[MQL_AT])} IS NOT NULL)"
    else:
        skipped["mqls"] = "no column 'mql_at'"
    if has(ACCEPTED):
        accepted = bool_sql(ACCEPTED, columns[ACCEPTED])
        agg["sales_accepted"] = f"count(*) FILTER ({accepted})"
        agg["sales_rejected"] = f"count(*) FILTER (NOT ({accepted}))"
    else:
        skipped["acceptance_rate"] = "no column 'sales_accepted'"
    if has(OPPORTUNITY):
        agg["opportunities"] = f"count(*) FILTER ({bool_sql(OPPORTUNITY, columns[OPPORTUNITY])})"
    else:
        skipped["opportunities"] = "no column 'opportunity'"
    if has(WON):
        won = bool_sql(WON, columns[WON])
        agg["won"] = f"count(*) FILTER ({won})"
        if has(AMOUNT):
            agg["revenue"] = f"coalesce(sum(TRY_CAST(l.{q(AMOUNT)} AS DOUBLE)) FILTER ({won}), 0)"
        else:
            skipped["revenue"] = "no column 'opportunity_amount'"
    else:
        skipped.update(won="no column 'won'", revenue="no column 'won'")
    if outcome and has(outcome) and outcome != WON:
        agg["conversions"] = f"count(*) FILTER ({bool_sql(outcome, columns[outcome])})"
    return agg, skipped


def _row(channel: str, values: dict[str, Any], stage_share: dict[str, float],
         reasons: dict[str, int] | None) -> ChannelRow:
    leads = int(values["leads"])
    cost = values.get("cost")
    opportunities, won = values.get("opportunities"), values.get("won")
    accepted, rejected = values.get("sales_accepted"), values.get("sales_rejected")
    return ChannelRow(
        channel=channel, leads=leads, mean_score=round(float(values["mean_score"] or 0.0), 3), stage_share=stage_share,
        cost=None if cost is None else round(float(cost), 2), cost_per_lead=_rate(cost, leads),
        mqls=values.get("mqls"), mql_rate=_rate(values.get("mqls"), leads), sales_accepted=accepted,
        sales_rejected=rejected, acceptance_rate=_rate(accepted, (accepted or 0) + (rejected or 0)),
        top_rejection_reasons=reasons, opportunities=opportunities, opportunity_rate=_rate(opportunities, leads),
        won=won, win_rate=_rate(won, opportunities),
        revenue=None if values.get("revenue") is None else round(float(values["revenue"]), 2),
        cost_per_opportunity=_rate(cost, opportunities), cost_per_won=_rate(cost, won),
        conversions=values.get("conversions"), conversion_rate=_rate(values.get("conversions"), leads))


def run_channels(loaded: LoadedModel, data: str | Path, *, by: str = "source", as_of: datetime | None = None,
                 outcome: str | None = "converted") -> ChannelReport:
    """Channel quality of the leads in ``data``, scored with ``loaded`` as of ``as_of``.

    Raises
    ------
    DataError
        The leads have no ``by`` column.
    """
    with scoring_source(loaded, data) as source:
        session = duckdb_engine.run_scoring(loaded, source.path, as_of=as_of)
        try:
            con, plan = session.con, session.plan
            columns = table_columns(con, "leads")
            if by not in columns:
                raise DataError(f"the leads have no column {by!r} to group channels by",
                                [Issue(f"no column {by!r}", path="--by", hint=nearest(by, list(columns)))])
            agg, skipped = _aggregates(columns, outcome)
            channel = f"coalesce(CAST(l.{q(by)} AS VARCHAR), '{MISSING_LABEL}')"
            names = ["leads", "mean_score", *agg]
            select = ", ".join(["count(*)", "avg(s.total)", *agg.values()])
            base = f"FROM lead_scores s JOIN leads l ON l.{q(plan.lead_key)} = s.lead_id"
            rows = con.execute(f"SELECT {channel} AS channel, {select} {base} GROUP BY 1 ORDER BY 2 DESC, 1"
                               ).fetchall()
            total = con.execute(f"SELECT {select} {base}").fetchall()[0]
            stages = con.execute(f"SELECT {channel}, coalesce(s.stage, '(none)'), count(*) {base} GROUP BY 1, 2"
                                 ).fetchall()
            reasons = _reasons(con, base, channel) if REASON in columns else None
            all_reasons = _reasons(con, base, "'(all)'").get("(all)", {}) if REASON in columns else None
            if REASON not in columns:
                skipped["top_rejection_reasons"] = "no column 'rejection_reason'"
            as_of_used = session.as_of
        finally:
            session.close()
    order = [s.name for s in plan.stages]
    shares: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {}
    for name, stage, n in stages:
        shares.setdefault(str(name), {})[str(stage)] = int(n)
        counts[str(stage)] = counts.get(str(stage), 0) + int(n)

    def ordered(mix: dict[str, float]) -> dict[str, float]:
        leads = sum(mix.values())
        return {k: mix[k] / leads for k in [*order, *sorted(set(mix) - set(order))] if k in mix}

    channels = tuple(_row(str(r[0]), dict(zip(names, r[1:], strict=True)), ordered(shares.get(str(r[0]), {})),
                          reasons.get(str(r[0]), {}) if reasons is not None else None) for r in rows)
    overall = _row("(all)", dict(zip(names, total, strict=True)), ordered(dict(counts)),
                   all_reasons)
    return ChannelReport(model=plan.name, model_version=plan.version_hash, as_of=as_of_used, by=by,
                         channels=channels, total=overall, figures=tuple(names), skipped=skipped)


def _reasons(con: Any, base: str, channel: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name, reason, n in con.execute(f"SELECT {channel}, l.{q(REASON)}, count(*) {base} "
                                       f"WHERE l.{q(REASON)} IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC, 2").fetchall():
        top = out.setdefault(str(name), {})
        if len(top) < 3:
            top[str(reason)] = int(n)
    return out


"""What sales feedback says about a model: acceptance by score band and by stage, and which rules fire
on rejected leads more often than on accepted ones (with the reasons given), to show which points
sales does not trust.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from leadscore.backends import duckdb_engine
from leadscore.learn.bands import band_edges, band_numbers
from leadscore.learn.feedback import check_store, load_latest_decisions
from leadscore.learn.jsonable import Jsonable
from leadscore.learn.outcomes import REASON_PREFIX, q, rule_columns
from leadscore.learn.sources import scoring_source
from leadscore.spec.loader import LoadedModel


@dataclass(frozen=True)
class AcceptanceRow(Jsonable):
    """Decisions on the leads of one band or stage."""

    label: str
    decided: int
    accepted: int
    rejected: int
    acceptance_rate: float | None
    top_reasons: dict[str, int]


@dataclass(frozen=True)
class RuleFeedback(Jsonable):
    """How often a rule had non-zero points on rejected vs accepted leads."""

    rule: str
    fired_on_rejected: int
    fired_on_accepted: int
    rejected_share: float | None
    accepted_share: float | None
    difference: float | None
    top_reasons: dict[str, int]


@dataclass(frozen=True)
class FeedbackSummary(Jsonable):
    """Latest decision per lead, matched to the scored (or evaluated) leads."""

    store: str
    decisions: int
    matched: int
    not_evaluated: int
    unknown_leads: int
    accepted: int
    rejected: int
    acceptance_rate: float | None
    reasons: dict[str, int]
    by_band: tuple[AcceptanceRow, ...]
    by_stage: tuple[AcceptanceRow, ...]
    rules: tuple[RuleFeedback, ...]


@dataclass(frozen=True)
class FeedbackReport(Jsonable):
    """``leadscore feedback report``: the model's scores as of ``as_of`` against the stored decisions."""

    model: str
    model_version: str
    as_of: datetime
    leads: int
    summary: FeedbackSummary


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def summarise_feedback(con: duckdb.DuckDBPyConnection, store: str | Path, *, lead_ids: npt.NDArray[Any],
                       bands: Sequence[str], stages: Sequence[str], band_order: Sequence[str],
                       stage_order: Sequence[str]) -> FeedbackSummary:
    """Join the store's latest decisions to leads (``lead_ids`` with their band and stage labels) and
    to the session's ``lead_scores`` explanation items.
    """
    decisions = load_latest_decisions(con, store)
    con.register("fb_population", pa.table({"lead_id": pa.array([str(v) for v in lead_ids], pa.string()),
                                            "band": pa.array(list(bands), pa.string()),
                                            "stage": pa.array(list(stages), pa.string())}))
    con.execute("CREATE OR REPLACE TEMP TABLE fb_matched AS SELECT f.lead_id, f.decision, "
                "coalesce(f.reason, '(no reason)') AS reason, p.band, p.stage FROM fb_latest f "
                "JOIN fb_population p USING (lead_id)")
    unknown = int(con.execute("SELECT count(*) FROM fb_latest WHERE lead_id NOT IN "
                              "(SELECT CAST(lead_id AS VARCHAR) FROM lead_scores)").fetchall()[0][0])
    counts = con.execute("SELECT count(*), count(*) FILTER (decision = 'accept'), "
                         "count(*) FILTER (decision = 'reject') FROM fb_matched").fetchall()[0]
    matched, accepted, rejected = int(counts[0]), int(counts[1]), int(counts[2])
    reasons = {str(r): int(n) for r, n in con.execute(
        "SELECT reason, count(*) FROM fb_matched WHERE decision = 'reject' GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()}
    return FeedbackSummary(
        store=str(store), decisions=decisions, matched=matched, not_evaluated=decisions - matched - unknown,
        unknown_leads=unknown, accepted=accepted, rejected=rejected, acceptance_rate=_rate(accepted, matched),
        reasons=reasons, by_band=_acceptance(con, "band", band_order), by_stage=_acceptance(con, "stage", stage_order),
        rules=_rules(con))


def _acceptance(con: duckdb.DuckDBPyConnection, column: str, order: Sequence[str]) -> tuple[AcceptanceRow, ...]:
    rows = con.execute(f"SELECT {column}, count(*), count(*) FILTER (decision = 'accept'), "
                       f"count(*) FILTER (decision = 'reject') FROM fb_matched GROUP BY 1").fetchall()
    reasons: dict[str, dict[str, int]] = {}
    for label, reason, n in con.execute(f"SELECT {column}, reason, count(*) FROM fb_matched "
                                        "WHERE decision = 'reject' GROUP BY 1, 2 ORDER BY 3 DESC, 2").fetchall():
        top = reasons.setdefault(str(label), {})
        if len(top) < 3:
            top[str(reason)] = int(n)
    found = {str(r[0]): r for r in rows}
    labels = [label for label in order if label in found] + sorted(set(found) - set(order))
    return tuple(AcceptanceRow(label=label, decided=int(found[label][1]), accepted=int(found[label][2]),
                               rejected=int(found[label][3]),
                               acceptance_rate=_rate(int(found[label][2]), int(found[label][1])),
                               top_reasons=reasons.get(label, {}))
                 for label in labels)


def _rules(con: duckdb.DuckDBPyConnection) -> tuple[RuleFeedback, ...]:
    columns = rule_columns(con)
    if not columns:
        return ()
    fired = ", ".join(f"sum(CAST(coalesce(s.{q(c)}, 0) <> 0 AS BIGINT))" for c in columns)
    rows = con.execute(f"SELECT m.decision, m.reason, count(*), {fired} FROM fb_matched m JOIN lead_scores s "
                       "ON CAST(s.lead_id AS VARCHAR) = m.lead_id GROUP BY 1, 2").fetchall()
    totals = {"accept": 0, "reject": 0}
    hits: dict[str, dict[str, int]] = {c: {"accept": 0, "reject": 0} for c in columns}
    by_reason: dict[str, dict[str, int]] = {c: {} for c in columns}
    for decision, reason, n, *counts in rows:
        totals[str(decision)] += int(n)
        for column, count in zip(columns, counts, strict=True):
            hits[column][str(decision)] += int(count or 0)
            if decision == "reject" and count:
                by_reason[column][str(reason)] = int(count)
    out: list[RuleFeedback] = []
    for column in columns:
        on_rejected, on_accepted = hits[column]["reject"], hits[column]["accept"]
        if not on_rejected and not on_accepted:
            continue
        rejected_share, accepted_share = _rate(on_rejected, totals["reject"]), _rate(on_accepted, totals["accept"])
        difference = (rejected_share - accepted_share if rejected_share is not None and accepted_share is not None
                      else None)
        top = dict(sorted(by_reason[column].items(), key=lambda kv: (-kv[1], kv[0]))[:3])
        out.append(RuleFeedback(rule=column.removeprefix(REASON_PREFIX), fired_on_rejected=on_rejected,
                                fired_on_accepted=on_accepted, rejected_share=rejected_share,
                                accepted_share=accepted_share, difference=difference, top_reasons=top))
    out.sort(key=lambda r: (-(r.difference if r.difference is not None else -2.0), r.rule))
    return tuple(out)



def run_feedback_report(loaded: LoadedModel, data: str | Path, store: str | Path, *, as_of: datetime | None = None,
                        n_bands: int = 10) -> FeedbackReport:
    """Score ``data`` as of ``as_of`` and set the stored decisions against bands, stages and rules."""
    check_store(store)  # before the scoring run: a wrong --store fails at once
    with scoring_source(loaded, data) as source:
        session = duckdb_engine.run_scoring(loaded, source.path, as_of=as_of)
        try:
            con, plan = session.con, session.plan
            frame = con.execute("SELECT lead_id, total, coalesce(stage, '(none)') AS stage FROM lead_scores "
                                "ORDER BY lead_id").fetchnumpy()
            scores = np.asarray(frame["total"], dtype=np.float64)
            edges = band_edges(scores, n_bands)
            bands = band_numbers(scores, edges)
            summary = summarise_feedback(
                con, store, lead_ids=np.asarray(frame["lead_id"]), bands=[f"band {b}" for b in bands],
                stages=[str(s) for s in frame["stage"]], band_order=[f"band {b}" for b in range(1, edges.size + 2)],
                stage_order=[s.name for s in plan.stages])
            as_of_used = session.as_of
        finally:
            session.close()
    return FeedbackReport(model=plan.name, model_version=plan.version_hash, as_of=as_of_used, leads=int(scores.size),
                          summary=summary)

"""Score one account in plain Python: the roll-up of its scored leads plus its account rules,
exactly as ``compiler/accounts_sql.py`` computes it in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from leadscore.backends.python_functions import Resolver, SqlValue
from leadscore.backends.python_rows import (
    _NO_ACCOUNT,
    AccountScore,
    LeadScore,
    ReasonItem,
    _add_all,
    _clamp,
    _clamp_detail,
    _column,
    _nonzero,
    _profile_rule,
)
from leadscore.compiler.plan import ScoringPlan


def _account_resolver(account: Mapping[str, Any] | None) -> Resolver:
    def resolve(key: str) -> SqlValue:
        kind, _, name = key.partition(":")
        if kind != "account":
            raise ValueError(f"reference {key!r} cannot be used in an account rule")
        return _column(account, name)

    return resolve


def score_account(plan: ScoringPlan, account: Mapping[str, Any] | None, account_id: object,
                  leads: Sequence[LeadScore]) -> AccountScore:
    """Roll up an account's scored leads plus its account rules, as ``accounts_sql.account_query``.

    ``leads`` are the account's leads, scored by ``score_lead``. The account score is the sum of
    the top-N lead totals, ``beyond_top_points`` per engaged lead ranked below N, and the account
    rules, capped by the account cap. (Batch scoring only writes accounts that have leads and a
    row in the accounts table; here ``account=None`` reads every account column as NULL.)
    """
    spec = plan.account or _NO_ACCOUNT
    ranked = sorted(leads, key=_by_total)
    top = ranked[: spec.top_n]
    top_sum = 0.0
    for lead in top:
        top_sum += lead.total
    engaged = [lead for lead in leads if lead.total >= spec.engaged_min]
    beyond = sum(1 for lead in ranked[spec.top_n:] if lead.total >= spec.engaged_min)
    breadth = float(beyond) * spec.beyond_top_points
    resolve = _account_resolver(account)
    items = [ReasonItem("top_leads_sum", "account", top_sum, f"top {len(top)} of {len(leads)} leads"),
             ReasonItem("engaged_beyond_top", "account", breadth,
                        f"{beyond} engaged leads beyond the top {spec.top_n}")]
    for rule in spec.rules:
        outcome = _profile_rule(rule, resolve)
        items.append(ReasonItem(rule.name, "account", outcome.points, outcome.detail))
    raw = _add_all([item.points for item in items])
    score = _clamp(raw, None, spec.cap)
    if spec.cap is not None:
        items.append(ReasonItem("account:cap", "account", score - raw,
                                _clamp_detail(None, spec.cap, raw, score)))
    roles = sorted({lead.committee_role for lead in engaged if lead.committee_role is not None},
                   key=str.encode) if spec.committee else []
    return AccountScore(
        account_id=account_id, account_score=score, engaged_leads=len(engaged), lead_count=len(leads),
        top_leads=tuple(lead.lead_id for lead in top), committee_roles=tuple(roles),
        committee_coverage=len(roles), committee_roles_defined=len(spec.committee),
        reasons=_nonzero(items))


def _by_total(lead: LeadScore) -> tuple[float, Any]:
    """ORDER BY total DESC, lead_id: the account's ranking."""
    return (-lead.total, lead.lead_id)

"""What the one-lead evaluator returns, and the small pieces leads and accounts share.

Split from ``python_eval`` (the lead evaluator) and ``python_accounts`` (the roll-up): the score
records, time and NULL handling as the SQL path does them, clamps with their explanation items,
and profile-rule evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from leadscore.backends.python_functions import Resolver, SqlValue, evaluate, holds, to_double, to_varchar
from leadscore.compiler.plan import AccountPlan, ProfileRulePlan
from leadscore.errors import DataError, Issue

US_PER_DAY = 86_400_000_000
_ONE_US = timedelta(microseconds=1)
_NO_ACCOUNT = AccountPlan(3, 30.0, 0.0, (), (), None)  # what accounts_sql uses without an account section


@dataclass(frozen=True)
class ReasonItem:
    """One item of a score's explanation; the items of a lead add up to its total."""

    rule: str
    layer: str
    points: float
    detail: str | None = None
    """Why, in words: ``3 events, decayed from 15 to 6.2``, ``tier 2: employees > 100``, ``value 'x'``."""

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "layer": self.layer, "points": self.points, "detail": self.detail}


@dataclass(frozen=True)
class LeadScore:
    """One lead's scores, as one row of the SQL ``lead_scores`` table."""

    lead_id: object
    segment: str | None
    layers: dict[str, float]
    groups: dict[str, float]
    total: float
    grade: str | None
    stage: str | None
    next_action: str | None
    reasons: tuple[ReasonItem, ...]
    """Every non-zero explanation item, in model order: the SQL's ``lead_reasons`` without its zeros."""
    top_reasons: tuple[tuple[str, float], ...]
    """``reason1..N`` with ``points1..N``: rules and capped groups by |points|, then by name."""
    last_activity_at: datetime | None
    last_activity_type: str | None
    committee_role: str | None
    account_id: object = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (timestamps as ISO 8601 text)."""
        return {
            "lead_id": self.lead_id, "account_id": self.account_id, "segment": self.segment,
            "layers": dict(self.layers), "groups": dict(self.groups), "total": self.total,
            "grade": self.grade, "stage": self.stage, "next_action": self.next_action,
            "reasons": [item.to_dict() for item in self.reasons],
            "top_reasons": [{"rule": rule, "points": points} for rule, points in self.top_reasons],
            "last_activity_at": self.last_activity_at.isoformat() if self.last_activity_at else None,
            "last_activity_type": self.last_activity_type, "committee_role": self.committee_role,
        }


@dataclass(frozen=True)
class AccountScore:
    """One account's roll-up, as one row of the SQL ``account_scores`` table."""

    account_id: object
    account_score: float
    engaged_leads: int
    lead_count: int
    top_leads: tuple[object, ...]
    committee_roles: tuple[str, ...]
    """Roles held by engaged leads, sorted; empty where SQL has NULL."""
    committee_coverage: int
    committee_roles_defined: int
    reasons: tuple[ReasonItem, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id, "account_score": self.account_score,
            "engaged_leads": self.engaged_leads, "lead_count": self.lead_count,
            "top_leads": list(self.top_leads), "committee_roles": list(self.committee_roles),
            "committee_coverage": self.committee_coverage,
            "committee_roles_defined": self.committee_roles_defined,
            "reasons": [item.to_dict() for item in self.reasons],
        }


# ---------------------------------------------------------------------------------------------
# Small pieces shared by leads and accounts
# ---------------------------------------------------------------------------------------------


def _timestamp(value: object, what: str) -> datetime | None:
    """A naive UTC timestamp, as the SQL path normalises time columns (aware -> UTC wall time)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise DataError(f"{what} {value!r} is not a timestamp",
                            [Issue(f"unparseable {what}", hint="use ISO 8601, e.g. 2026-06-30 12:00:00")]
                            ) from None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    raise DataError(f"{what} {value!r} is not a timestamp", [Issue(f"{what} must be a datetime")])


def _age_days(as_of: datetime, ts: datetime) -> float:
    """``(as_of - ts)`` in days from the exact microsecond difference, as ``sqlbuild.age_days``."""
    return float((as_of - ts) // _ONE_US) / US_PER_DAY


def _column(row: Mapping[str, Any] | None, name: str) -> SqlValue:
    """A row's column; absent (or no row at all, as after a LEFT JOIN) reads as NULL."""
    if row is None:
        return None
    if name in row:
        return row[name]  # type: ignore[no-any-return]  # rows hold plain SQL values
    lowered = name.lower()
    for key, value in row.items():
        if key.lower() == lowered:
            return value  # type: ignore[no-any-return]
    return None


def _add_all(parts: Sequence[float]) -> float:
    """Left-to-right sum like ``sqlbuild.add_all`` (an empty sum is 0.0), for bit-equal totals."""
    if not parts:
        return 0.0
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def _clamp(value: float, floor: float | None, cap: float | None) -> float:
    if floor is not None:
        value = max(value, floor)
    if cap is not None:
        value = min(value, cap)
    return value


def _clamp_detail(floor: float | None, cap: float | None, raw: float, value: float) -> str:
    if cap is not None and value == cap and raw > cap:
        return f"capped at {cap:g} (was {raw:.4g})"
    return f"raised to the floor {floor:g} (was {raw:.4g})" if floor is not None else f"was {raw:.4g}"


def _fmt(value: float) -> str:
    return f"{value:.4g}"


class _RuleOutcome(NamedTuple):
    points: float
    fired: bool
    detail: str | None


def _profile_rule(rule: ProfileRulePlan, resolve: Resolver) -> _RuleOutcome:
    """Points of a profile rule in one of its shapes, as ``leads_sql.profile_points_sql``."""
    if rule.shape == "tiers":
        for index, (condition, points) in enumerate(rule.tiers, start=1):
            if holds(condition.tree, resolve):
                return _RuleOutcome(float(points), True, f"tier {index}: {condition.text}")
        return _RuleOutcome(0.0, False, None)
    if rule.shape == "map":
        assert rule.column is not None
        value = to_varchar(evaluate(rule.column.tree, resolve))
        if value is not None and not rule.case_sensitive:
            value = value.lower()
        for key, points in rule.mapping:
            if value == key:
                return _RuleOutcome(float(points), True, f"value {value!r}")
        return _RuleOutcome(float(rule.default), False,
                            f"value {value!r} (default)" if value is not None else "no value (default)")
    if rule.points_expr is None:
        amount = float(rule.points or 0.0)
    else:
        computed = to_double(evaluate(rule.points_expr.tree, resolve))
        amount = 0.0 if computed is None else computed
    if rule.condition is None:
        detail = f"{rule.points_expr.text} = {_fmt(amount)}" if rule.points_expr is not None else None
        return _RuleOutcome(amount, amount != 0.0, detail)
    if not holds(rule.condition.tree, resolve):
        return _RuleOutcome(0.0, False, None)
    detail = rule.condition.text
    if rule.points_expr is not None:
        detail += f"; {rule.points_expr.text} = {_fmt(amount)}"
    return _RuleOutcome(amount, True, detail)


def _nonzero(items: Iterable[ReasonItem]) -> tuple[ReasonItem, ...]:
    return tuple(item for item in items if item.points != 0.0)

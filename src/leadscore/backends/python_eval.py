"""Score one lead (or one account) in plain Python: no database, the SQL path's exact numbers.

Real-time scoring and ``explain`` need one lead's score without a batch run. This evaluator runs
the same ``ScoringPlan`` the SQL compiler runs, step by step as ``compiler/events_sql.py``,
``leads_sql.py`` and ``accounts_sql.py`` define it: counted events (``ts < as_of``) and their age
in exact microseconds, rule matches, ``max_count`` ranks, decay, group/layer/total clamps, grade,
stage, reasons and the account roll-up. Sums are taken in the SQL's order (rules in model order),
so the two evaluators agree to float rounding; a property test holds them to 1e-9.

Conditions are interpreted from their bound sqlglot trees by ``python_functions``; nothing is
ever passed to ``eval``. A column missing from a row reads as NULL, so a partial JSON record can
be scored (the SQL path would have the column, NULL or not).

Examples
--------
>>> plan = compile_plan(load_model("model.yaml"))                      # doctest: +SKIP
>>> score = score_lead(plan, {"lead_id": 1, "email": "a@acme.com"}, account=None,
...                    events=[], as_of=datetime(2026, 6, 30))         # doctest: +SKIP
>>> score.total, score.top_reasons                                     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from leadscore.backends.python_accounts import score_account
from leadscore.backends.python_functions import (
    Resolver,
    SqlValue,
    holds,
    to_varchar,
)
from leadscore.backends.python_rows import (
    _ONE_US,
    US_PER_DAY,
    AccountScore,
    LeadScore,
    ReasonItem,
    _add_all,
    _age_days,
    _clamp,
    _clamp_detail,
    _column,
    _fmt,
    _nonzero,
    _profile_rule,
    _timestamp,
)
from leadscore.compiler.conditions import EventAggregate
from leadscore.compiler.plan import (
    LAST_ANY_KEY,
    EventRulePlan,
    ScoringPlan,
)
from leadscore.spec.model import Decay

__all__ = ["AccountScore", "LeadScore", "ReasonItem", "duplicate_lead_keys", "score_account", "score_lead"]

# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


_UNREAD = object()


class _Event(NamedTuple):
    """A counted event: strictly before as_of, with its age in days (a tuple: made per event per rescore)."""

    row: Mapping[str, Any]
    ts: datetime
    age: float
    type: str | None
    key: object
    age_us: int
    """``as_of - ts`` in whole microseconds: ``age`` is it in days, and newest first is smallest first."""


def decay_factor(decay: Decay | None, age: float) -> float:
    """Multiplier for an event of this age, as ``events_sql.decay_sql``."""
    if decay is None:
        return 1.0
    factor = 1.0
    if decay.half_life is not None:
        factor = 0.5 ** (age / decay.half_life)
    elif decay.steps:
        for step in reversed(decay.steps):
            if age >= step.after:
                factor = step.factor
                break
    elif decay.linear is not None:
        factor = max(0.0, 1.0 - age / decay.linear)
    if decay.expire_after is not None and age > decay.expire_after:
        return 0.0
    return factor


def _counted_events(plan: ScoringPlan, events: Sequence[Mapping[str, Any]], as_of: datetime) -> list[_Event]:
    counted: list[_Event] = []
    time_column, type_column, key_column = plan.event_time, plan.event_type, plan.event_key
    for row in events:
        ts = row[time_column] if time_column in row else _column(row, time_column)
        if type(ts) is not datetime or ts.tzinfo is not None:  # the service's rows are naive datetimes already
            ts = _timestamp(ts, "event time")
        if ts is None or ts >= as_of:
            continue  # the SQL path quarantines NULL times and never counts events at or after as_of
        kind = row[type_column] if type_column in row else _column(row, type_column)
        if kind is not None and type(kind) is not str:
            kind = to_varchar(kind)
        key = row[key_column] if key_column in row else _column(row, key_column)
        age_us = (as_of - ts) // _ONE_US
        counted.append(_Event(row, ts, float(age_us) / US_PER_DAY, kind, key, age_us))  # as _age_days
    return counted


def _newest_first(event: _Event) -> tuple[int, bool, Any]:
    """ORDER BY ts DESC, key ASC (NULLS LAST): the rank ``max_count`` keeps the first N of (ts DESC is
    age ascending, both exact microseconds)."""
    return (event.age_us, event.key is None, event.key if event.key is not None else 0)


class _EventOutcome(NamedTuple):
    points: float
    matched: int
    detail: str | None


# ---------------------------------------------------------------------------------------------
# One lead under one plan
# ---------------------------------------------------------------------------------------------


class _Lead:
    """A lead's values under one plan; figures are computed once, when first asked for."""

    def __init__(self, plan: ScoringPlan, lead: Mapping[str, Any], account: Mapping[str, Any] | None,
                 events: Sequence[Mapping[str, Any]], as_of: datetime, is_duplicate: bool) -> None:
        self.plan = plan
        self.lead = lead
        self.account = account
        self.as_of = as_of
        self.is_duplicate = is_duplicate
        self.events = _counted_events(plan, events, as_of)
        self._events_by_type: dict[str | None, list[_Event]] = {}
        for event in self.events:  # each rule looks only at its own type's events
            self._events_by_type.setdefault(event.type, []).append(event)
        self.aggregate_specs: dict[str, EventAggregate] = plan.all_aggregates()
        self.aggregate_specs.setdefault(LAST_ANY_KEY, EventAggregate("last_age", None, None))
        self._aggregates: dict[str, SqlValue] = {}
        self._resolved: dict[str, object] = {}

    # -- events -------------------------------------------------------------------------------

    def rule_matches(self, rule: EventRulePlan, event: _Event) -> bool:
        """Type equal, ``where`` true (NULL is false) and within the window, as ``rule_match_sql``."""
        if event.type != rule.event_type:
            return False
        if rule.within_days is not None and not event.age <= rule.within_days:
            return False
        return rule.where is None or holds(rule.where.tree, self._event_resolver(event))

    @staticmethod
    def _event_resolver(event: _Event) -> Resolver:
        def resolve(key: str) -> SqlValue:
            kind, _, name = key.partition(":")
            if kind != "event":
                raise ValueError(f"unexpected reference {key!r} in an event filter")
            return _column(event.row, name)

        return resolve

    def event_rule(self, rule: EventRulePlan) -> _EventOutcome:
        matched = [event for event in self._events_by_type.get(rule.event_type, ()) if self.rule_matches(rule, event)]
        if rule.max_count is not None:
            matched = sorted(matched, key=_newest_first)[: rule.max_count]
        # points x (sum of the factors), the SQL's form (docs/decisions/0002): equal to the last bit
        # more often than a sum of products, and never more than float rounding apart.
        if rule.decay is None:
            points = rule.points * float(len(matched))
        else:
            factors = 0.0
            for event in matched:
                factors += decay_factor(rule.decay, event.age)
            points = rule.points * factors
        if not matched:
            return _EventOutcome(0.0, 0, None)
        plural = "event" if len(matched) == 1 else "events"
        if rule.decay is None:
            detail = f"{len(matched)} {plural} x {rule.points:g}"
        else:
            detail = f"{len(matched)} {plural}, decayed from {len(matched) * rule.points:g} to {_fmt(points)}"
        return _EventOutcome(points, len(matched), detail)

    def _selected(self, aggregate: EventAggregate) -> list[_Event]:
        """The events a selector names, as ``events_sql.selector_match_sql`` (max_count not applied)."""
        within = aggregate.within_days
        events = self.events if within is None else [event for event in self.events if event.age <= within]
        selector = aggregate.selector
        if selector is None:
            return events
        rules = self.plan.selector_rules(selector)
        if rules is None:
            return [event for event in events if event.type == selector]
        return [event for event in events if any(self.rule_matches(rule, event) for rule in rules)]

    def aggregate(self, key: str) -> SqlValue:
        if key not in self._aggregates:
            spec = self.aggregate_specs.get(key)
            if spec is None:
                raise ValueError(f"unknown event aggregate {key!r}")
            ages = [event.age for event in self._selected(spec)]
            self._aggregates[key] = len(ages) if spec.kind == "count" else (min(ages) if ages else None)
        return self._aggregates[key]

    # -- placeholders -------------------------------------------------------------------------

    def resolve(self, key: str) -> SqlValue:
        """Placeholders of rule, segment and committee conditions (``leads_sql._RuleResolver``); each
        read once per lead, since several rules read the same columns."""
        found = self._resolved.get(key, _UNREAD)
        if found is _UNREAD:
            found = self._resolved[key] = self._resolve(key)
        return found  # type: ignore[return-value]  # only _resolve's values are stored

    def _resolve(self, key: str) -> SqlValue:
        kind, _, name = key.partition(":")
        if kind == "lead":
            return _column(self.lead, name)
        if kind == "account":
            return _column(self.account, name)
        if kind == "agg":
            return self.aggregate(key)  # a count is 0 (not NULL) without events, as coalesce(count, 0)
        if kind == "special":
            return self.special(name)
        raise ValueError(f"reference {key!r} cannot be used in a lead rule")

    def special(self, name: str) -> SqlValue:
        if name == "days_since_created":
            created = _timestamp(_column(self.lead, self.plan.lead_created or "created_at"), "creation time")
            return None if created is None else _age_days(self.as_of, created)
        if name == "days_since_last_activity":
            last = self.aggregate(LAST_ANY_KEY)
            if last is None and self.plan.lead_created is not None:
                return self.special("days_since_created")
            return last
        if name == "is_duplicate":
            return self.is_duplicate
        raise ValueError(f"unknown special reference {name!r}")

    # -- the whole score ----------------------------------------------------------------------

    def score(self, segment: str | None, reasons_top: int) -> LeadScore:
        plan = self.plan
        points: dict[str, float] = {}
        fired: dict[str, bool] = {}
        items: list[ReasonItem] = []
        candidates: list[tuple[str, float]] = []
        layers: dict[str, float] = {}
        groups: dict[str, float] = {}
        for layer in plan.layers:
            parts: list[float] = []
            for rule in layer.rules:
                outcome = _profile_rule(rule, self.resolve)
                points[rule.name], fired[rule.name] = outcome.points, outcome.fired
                parts.append(outcome.points)
                items.append(ReasonItem(rule.name, layer.name, outcome.points, outcome.detail))
                candidates.append((rule.name, outcome.points))
            for group in layer.groups:
                raw_parts: list[float] = []
                for event_rule in group.rules:
                    counted = self.event_rule(event_rule)
                    points[event_rule.name], fired[event_rule.name] = counted.points, counted.matched > 0
                    raw_parts.append(counted.points)
                    items.append(ReasonItem(event_rule.name, layer.name, counted.points, counted.detail))
                raw = _add_all(raw_parts)
                capped = _clamp(raw, group.floor, group.cap)
                groups[group.name] = capped
                if group.cap is not None or group.floor is not None:
                    items.append(ReasonItem(f"{group.name}:cap", layer.name, capped - raw,
                                            _clamp_detail(group.floor, group.cap, raw, capped)))
                parts.append(capped)
                candidates.append((group.name, capped))
            layer_raw = _add_all(parts)
            layers[layer.name] = _clamp(layer_raw, layer.floor, layer.cap)
            if layer.cap is not None or layer.floor is not None:
                items.append(ReasonItem(f"{layer.name}:cap", layer.name, layers[layer.name] - layer_raw,
                                        _clamp_detail(layer.floor, layer.cap, layer_raw, layers[layer.name])))
        total_raw = _add_all(list(layers.values()))
        total = _clamp(total_raw, plan.total_floor, plan.total_cap)
        if plan.total_cap is not None or plan.total_floor is not None:
            items.append(ReasonItem("total:cap", "total", total - total_raw,
                                    _clamp_detail(plan.total_floor, plan.total_cap, total_raw, total)))

        def derived(key: str) -> SqlValue:
            kind, _, name = key.partition(":")
            if kind == "layer":
                return layers[name]
            if kind == "group":
                return groups[name]
            if kind == "total":
                return total
            if kind == "rule":
                return fired[name]
            return self.resolve(key)

        grade = next((name for name, bound in plan.grades if holds(bound.tree, derived)), None)
        stage = next((s for s in plan.stages
                      if total >= s.min_score and all(holds(b.tree, derived) for b in s.require)), None)
        ranked = sorted(((rule, value) for rule, value in candidates if value != 0.0),
                        key=lambda item: (-abs(item[1]), item[0].encode(), item[1]))
        last = self.last_activity()
        return LeadScore(
            lead_id=_column(self.lead, plan.lead_key), segment=segment, layers=layers, groups=groups,
            total=total, grade=grade, stage=stage.name if stage else None,
            next_action=stage.action if stage else None, reasons=_nonzero(items),
            top_reasons=tuple(ranked[:reasons_top]),
            last_activity_at=last[0] if last else None, last_activity_type=last[1] if last else None,
            committee_role=self.committee_role(),
            account_id=_column(self.lead, plan.lead_account) if plan.lead_account else None)

    def last_activity(self) -> tuple[datetime, str] | None:
        """Newest meaningful event; ties on ts go to the larger type, as max over struct {ts, type}."""
        plan = self.plan
        types = plan.meaningful_types
        if types is None:
            types = frozenset(rule.event_type for rule in plan.event_rules if rule.points > 0)
        newest = [(event.ts, event.type) for event in self.events
                  if event.type is not None and event.type in types]
        return max(newest, key=lambda item: (item[0], item[1].encode())) if newest else None

    def committee_role(self) -> str | None:
        if self.plan.account is None:
            return None
        return next((role for role, bound in self.plan.account.committee if holds(bound.tree, self.resolve)),
                    None)


def score_lead(plan: ScoringPlan, lead: Mapping[str, Any], *, account: Mapping[str, Any] | None,
               events: Sequence[Mapping[str, Any]], as_of: datetime, is_duplicate: bool = False) -> LeadScore:
    """Score one lead from its row, its account's row and its events, exactly as the SQL path does.

    Parameters
    ----------
    plan
        The compiled model (``compile_plan``); segment plans inside it are honoured.
    lead, account
        Column -> value mappings; ``account`` is None when the lead has no (known) account.
    events
        The lead's events; only those with ``ts < as_of`` count, as in batch scoring.
    as_of
        The scoring time (naive UTC, or aware and converted to UTC).
    is_duplicate
        What ``is_duplicate()`` answers; it depends on other leads (see ``duplicate_lead_keys``).

    Returns
    -------
    LeadScore
        Layers, groups, total, grade, stage, reasons adding up to the total, last activity.

    Raises
    ------
    DataError
        When a value cannot be used as the model needs (DuckDB would fail on it as well).
    """
    moment = _timestamp(as_of, "as_of")
    assert moment is not None
    main = _Lead(plan, lead, account, events, moment, is_duplicate)
    for segment in plan.segments:
        if holds(segment.condition.tree, main.resolve):
            chosen = _Lead(segment.plan, lead, account, events, moment, is_duplicate)
            return chosen.score(segment.name, min(plan.reasons_top, segment.plan.reasons_top))
    return main.score("default" if plan.segments else None, plan.reasons_top)


def duplicate_lead_keys(plan: ScoringPlan, leads: Iterable[Mapping[str, Any]]) -> frozenset[object]:
    """Keys of leads for which ``is_duplicate()`` holds: an earlier lead has the same email.

    Earlier means by creation time (unknown last), then by key; emails compare ignoring case and
    surrounding spaces, as the SQL window ``row_number() OVER (PARTITION BY lower(trim(email)))``.
    """
    by_email: dict[str, list[tuple[bool, datetime, Any]]] = {}
    for row in leads:
        email = _column(row, plan.lead_email or "email")
        if email is None:
            continue
        created = _timestamp(_column(row, plan.lead_created), "creation time") if plan.lead_created else None
        by_email.setdefault(str(email).strip(" ").lower(), []).append(
            (created is None, created or datetime.min, _column(row, plan.lead_key)))
    duplicates: set[object] = set()
    for rows in by_email.values():
        rows.sort(key=lambda item: (item[0], item[1], item[2]))
        duplicates.update(key for _, _, key in rows[1:])
    return frozenset(duplicates)

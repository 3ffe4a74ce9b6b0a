"""The plain-Python evaluator and the DuckDB backend give the same scores, to 1e-9.

Random models inside the allow-list (every rule shape, event groups with caps, floors, decays,
windows, filters and count limits, grades, stages with requirements, an account section) are run
on random leads, accounts and events (NULLs, tricky titles and emails, events at or after as_of,
equal timestamps) through the real DuckDB engine, then every lead and account is scored again in
Python. Every number, label and explanation item must agree, and the items must add up to the
total. A failure hypothesis shrinks becomes a permanent ``@example`` below.
"""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from leadscore.backends.duckdb_engine import Session, run_scoring
from leadscore.backends.python_eval import (
    LeadScore,
    duplicate_lead_keys,
    score_account,
    score_lead,
)
from leadscore.backends.python_functions import evaluate
from leadscore.compiler.conditions import NameSpace, bind_condition
from leadscore.compiler.expand import condition_sql
from leadscore.compiler.leads_sql import reason_items
from leadscore.compiler.plan import ScoringPlan
from leadscore.spec import dump_model_yaml, load_model, model_from_dict

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
AS_OF = datetime(2026, 6, 30, 12, 0, 0)
DAY_US = 86_400_000_000
TOLERANCE = 1e-9

Row = dict[str, Any]

# ---------------------------------------------------------------------------------------------
# Comparing a DuckDB session with the Python evaluator
# ---------------------------------------------------------------------------------------------


def _close(left: object, right: object) -> bool:
    if left is None or right is None:
        return left is right
    assert isinstance(left, int | float) and isinstance(right, int | float)
    return math.isclose(float(left), float(right), rel_tol=1e-12, abs_tol=TOLERANCE)


def _fetch(session: Session, table: str) -> list[Row]:
    cursor = session.con.execute(f'SELECT * FROM "{table}"')
    names = [column[0] for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _active_plan(plan: ScoringPlan, segment: str | None) -> ScoringPlan:
    return next((s.plan for s in plan.segments if s.name == segment), plan)


def _sql_reasons(row: Row, plan: ScoringPlan) -> dict[str, tuple[str, float]]:
    """The SQL explanation items of a row: a ``reasons`` list, or one ``why:<item>`` column each."""
    if "reasons" in row:
        return {item["rule"]: (item["layer"], item["points"]) for item in row["reasons"] or []}
    layers = {name: layer for name, layer, _points in reason_items(plan)}
    return {key[4:]: (layers[key[4:]], value) for key, value in row.items()
            if key.startswith("why:") and value is not None and value != 0.0}


def _check_lead(sql: Row, py: LeadScore, plan: ScoringPlan) -> None:
    active = _active_plan(plan, py.segment)
    where = f"lead {py.lead_id}"
    assert sql["segment"] == py.segment, where
    assert _close(sql["total"], py.total), (where, sql["total"], py.total)
    for name, value in [*py.layers.items(), *py.groups.items()]:
        assert _close(sql[name], value), (where, name, sql[name], value)
    assert (sql["grade"], sql["stage"], sql["next_action"]) == (py.grade, py.stage, py.next_action), where
    for index in range(1, plan.reasons_top + 1):
        rule, points = py.top_reasons[index - 1] if index <= len(py.top_reasons) else (None, None)
        assert sql[f"reason{index}"] == rule, (where, index, sql[f"reason{index}"], py.top_reasons)
        assert _close(sql[f"points{index}"], points), (where, index, sql[f"points{index}"], points)
    assert (sql["last_activity_at"], sql["last_activity_type"]) == (py.last_activity_at,
                                                                    py.last_activity_type), where
    assert sql.get("committee_role") == py.committee_role, where
    sql_items = _sql_reasons(sql, active)
    py_items = {item.rule: (item.layer, item.points) for item in py.reasons}
    assert sql_items.keys() == py_items.keys(), (where, sorted(sql_items), sorted(py_items))
    for rule, (layer, points) in py_items.items():
        assert sql_items[rule][0] == layer and _close(sql_items[rule][1], points), (where, rule)
    assert _close(sum(item.points for item in py.reasons), py.total), (where, py.reasons, py.total)
    assert _close(sum(points for _layer, points in sql_items.values()), sql["total"]), where


def compare_with_duckdb(session: Session, leads: Sequence[Row], accounts: Sequence[Row],
                        events: Sequence[Row], as_of: datetime) -> int:
    """Score every lead and account in Python and assert it equals the session; return the lead count."""
    plan = session.plan
    duplicates = duplicate_lead_keys(plan, leads)
    by_account = {row[plan.account_key]: row for row in accounts}
    by_lead: dict[object, list[Row]] = defaultdict(list)
    for event in events:
        by_lead[event[plan.event_lead]].append(event)
    python: dict[object, LeadScore] = {}
    for lead in leads:
        key = lead[plan.lead_key]
        python[key] = score_lead(plan, lead, account=by_account.get(lead.get("account_id")),
                                 events=by_lead.get(key, []), as_of=as_of, is_duplicate=key in duplicates)
    sql_leads = {row["lead_id"]: row for row in _fetch(session, "lead_scores")}
    assert sql_leads.keys() == python.keys()
    for key, score in python.items():
        _check_lead(sql_leads[key], score, plan)

    members: dict[object, list[LeadScore]] = defaultdict(list)
    for score in python.values():
        if score.account_id is not None:
            members[score.account_id].append(score)
    sql_accounts = {row["account_id"]: row for row in _fetch(session, "account_scores")}
    assert sql_accounts.keys() == {key for key in members if key in by_account}
    for key, row in sql_accounts.items():
        account = score_account(plan, by_account[key], key, members[key])
        where = f"account {key}"
        assert _close(row["account_score"], account.account_score), (where, row, account)
        assert (row["engaged_leads"], row["lead_count"]) == (account.engaged_leads, account.lead_count), where
        assert tuple(row["top_leads"] or ()) == account.top_leads, where
        assert tuple(row["committee_roles"] or ()) == account.committee_roles, where
        assert row["committee_coverage"] == account.committee_coverage, where
        sql_items = {item["rule"]: item["points"] for item in row["reasons"] or []}
        py_items = {item.rule: item.points for item in account.reasons}
        assert sql_items.keys() == py_items.keys(), (where, sql_items, py_items)
        assert all(_close(sql_items[k], v) for k, v in py_items.items()), (where, sql_items, py_items)
        assert _close(sum(py_items.values()), account.account_score), where
    return len(python)


# ---------------------------------------------------------------------------------------------
# Random data over a small fixed schema
# ---------------------------------------------------------------------------------------------

LEAD_SCHEMA = pa.schema([
    ("lead_id", pa.int64()), ("account_id", pa.int64()), ("email", pa.string()), ("job_title", pa.string()),
    ("seniority", pa.string()), ("region", pa.string()), ("score", pa.int64()), ("rating", pa.float64()),
    ("opted_in", pa.bool_()), ("created_at", pa.timestamp("us"))])
ACCOUNT_SCHEMA = pa.schema([
    ("account_id", pa.int64()), ("industry", pa.string()), ("employees", pa.int64()), ("revenue", pa.float64()),
    ("is_target", pa.bool_()), ("intent_score", pa.int64()), ("region", pa.string())])
EVENT_SCHEMA = pa.schema([
    ("event_id", pa.int64()), ("lead_id", pa.int64()), ("ts", pa.timestamp("us")), ("type", pa.string()),
    ("url", pa.string()), ("topic", pa.string()), ("duration", pa.int64())])

EMAILS = ["ana@acme.com", "Ana@ACME.com", "bob@gmail.com", "BOB@Gmail.COM", "x@@acme.com", "noat.acme.com",
          "a@nodot", "@acme.com", "a@.com", "a@b.", "", " c@acme.com", "c@acme.com", "d@leadforge.io",
          "e@sub.acme.co.uk", None]
TITLES = ["Sales Intern", "International Sales Director", "Internship Program Manager", "Intern",
          "Student Success Manager", "INTERN", "Interns", "IT Intern (Summer)", "Head of IT", "it manager",
          "VP_Sales", "Chief Technology Officer", "", "Senior-Intern", "Director, Sales", "Intern_Lead",
          "Internal Communications", "éintern", "Interné", "x_it é", None]
SENIORITIES = ["c_level", "vp", "director", "manager", "individual", "student", "VP", None]
REGIONS = ["emea", "na", "apac", " emea", "EMEA", None]
INDUSTRIES = ["technology", "Technology", "healthcare", "education", "retail", None]
TYPES = ["email_open", "email_click", "page_view", "demo_request", "webinar", "unsubscribe"]
URLS = ["/pricing", "/blog/ai", "/pricing/enterprise", "/docs", "/PRICING", "/price_list", None]
TOPICS = ["ai", "security", "pricing", None]

OFFSETS_US = [0, -1, 1, -DAY_US, DAY_US, 7 * DAY_US, 7 * DAY_US + 1, 30 * DAY_US, 45 * DAY_US, 90 * DAY_US]


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def datasets(draw: st.DrawFn) -> tuple[list[Row], list[Row], list[Row]]:
    n_accounts = draw(st.integers(0, 4))
    accounts = [{
        "account_id": index, "industry": draw(st.sampled_from(INDUSTRIES)),
        "employees": draw(_maybe(st.sampled_from([0, 50, 100, 101, 500, 501, 1200, 7]))),
        "revenue": draw(_maybe(st.sampled_from([0.0, 1e4, 123456.5, 2.5e6, 99999.99]))),
        "is_target": draw(_maybe(st.booleans())), "intent_score": draw(_maybe(st.integers(0, 100))),
        "region": draw(st.sampled_from(REGIONS)),
    } for index in range(1, n_accounts + 1)]
    n_leads = draw(st.integers(1, 7))
    created_pool = [None, AS_OF - timedelta(days=3), AS_OF - timedelta(days=120, microseconds=5),
                    AS_OF + timedelta(days=1)]
    emails = draw(st.lists(st.sampled_from(EMAILS), min_size=n_leads, max_size=n_leads))
    leads = [{
        "lead_id": index, "account_id": draw(_maybe(st.integers(1, n_accounts + 1))),
        "email": emails[index - 1], "job_title": draw(st.sampled_from(TITLES)),
        "seniority": draw(st.sampled_from(SENIORITIES)), "region": draw(st.sampled_from(REGIONS)),
        "score": draw(_maybe(st.sampled_from([0, 3, 10, 20, 40, 55, 99, -5]))),
        "rating": draw(_maybe(st.sampled_from([0.0, 1.0, 2.5, 3.0, 3.25, 4.5, 5.0]))),
        "opted_in": draw(_maybe(st.booleans())), "created_at": draw(st.sampled_from(created_pool)),
    } for index in range(1, n_leads + 1)]
    stamps = draw(st.lists(st.one_of(st.sampled_from(OFFSETS_US), st.integers(-10 * DAY_US, 200 * DAY_US)),
                           min_size=1, max_size=4))
    n_events = draw(st.integers(0, 24))
    ids = draw(st.permutations(list(range(1, n_events + 1))))
    events = [{
        "event_id": ids[index], "lead_id": draw(st.integers(1, n_leads)),
        "ts": AS_OF - timedelta(microseconds=draw(st.one_of(st.sampled_from(stamps),
                                                            st.integers(-DAY_US, 100 * DAY_US)))),
        "type": draw(st.sampled_from([*TYPES, *TYPES, None])), "url": draw(st.sampled_from(URLS)),
        "topic": draw(st.sampled_from(TOPICS)), "duration": draw(_maybe(st.sampled_from([0, 12, 30, 31, 600]))),
    } for index in range(n_events)]
    return leads, accounts, events


# ---------------------------------------------------------------------------------------------
# Random models inside the allow-list
# ---------------------------------------------------------------------------------------------

PROFILE_ATOMS = [
    "seniority = 'vp'", "seniority IN ('vp', 'c_level', 'director')", "seniority IS NULL",
    "seniority <> 'student'", "account.industry = 'technology'", "lower(account.industry) = 'technology'",
    "account.employees > 100", "account.employees BETWEEN 101 AND 500",
    "account.employees NOT BETWEEN 10 AND 1000", "account.is_target", "NOT account.is_target",
    "account.is_target IS NOT TRUE", "account.intent_score >= 50", "account.revenue * 1.5 > 100000",
    "account.region = region", "lead.region = 'emea'", "trim(region) = 'emea'", "region IN @regions",
    "score >= 40", "score % 3 = 0", "score / 4 > 2.5", "coalesce(score, 0) > 10", "abs(score - 50) < 20",
    "greatest(score, account.intent_score) > 30", "least(score, rating) < 3", "rating > 2.5",
    "rating * 2 >= 7", "opted_in", "opted_in = false", "opted_in IS NULL", "job_title LIKE '%Manager%'",
    "job_title ILIKE '%intern%'", "job_title NOT LIKE 'Sales _ntern'", "has_word(job_title, 'intern', 'student')",
    "has_word(job_title, 'it')", "contains(job_title, 'Sales')", "starts_with(lower(job_title), 'vp')",
    "ends_with(job_title, 'Manager')", "length(job_title) > 12", "upper(seniority) = 'VP'",
    "email_domain(email) IN ('gmail.com', 'yahoo.com')", "email_domain(email) = 'acme.com'",
    "is_valid_email(email)", "NOT is_valid_email(email)", "email LIKE '%@%'", "created_at > '2026-03-01'",
    "CASE WHEN score > 50 THEN true WHEN score < 10 THEN false END", "IF(rating > 3, score > 20, NULL)",
    "CASE seniority WHEN 'vp' THEN 1 ELSE 0 END = 1", "score IN (10, 20, NULL)", "NOT (score IN (3, NULL))",
    "has_event('demo_request')", "count_events('page_view', '7d') > 0", "days_since_last_event() < 10",
    "days_since_created() < 100", "days_since_last_activity() < 30", "is_duplicate()",
]
COMMITTEE_ATOMS = [
    "seniority IN ('vp', 'c_level')", "has_word(job_title, 'manager', 'director')", "has_word(job_title, 'it')",
    "account.industry = 'technology'", "email_domain(email) = 'acme.com'", "true", "seniority IS NULL",
]
EVENT_ATOMS = [
    "url LIKE '%pricing%'", "topic = 'ai'", "topic IS NULL", "duration > 30", "has_word(url, 'pricing')",
    "NOT (topic IN ('ai', 'security'))", "coalesce(duration, 0) < 60", "url ILIKE '/PRICING%'",
    "url NOT LIKE '/docs'", "length(url) > 6",
]
ACCOUNT_ATOMS = [
    "is_target", "intent_score > 30", "industry = 'technology'", "employees > 1000",
    "lower(industry) LIKE 'tech%'", "coalesce(revenue, 0) > 50000", "region IN ('emea', 'na')",
]
POINTS_EXPRESSIONS = [
    "score / 10", "coalesce(account.intent_score, 0) * 0.5", "rating * 2",
    "CASE WHEN rating > 3 THEN 5 ELSE -2 END", "score % 7", "-score / 3", "account.employees / 100.0",
]
ACCOUNT_EXPRESSIONS = ["intent_score / 10", "coalesce(revenue, 0) / 100000", "employees % 7"]
MAP_COLUMNS = {
    "seniority": ["vp", "director", "manager", "student", "c_level"],
    "account.industry": ["technology", "healthcare", "education"], "region": ["emea", "na", "apac"],
    "opted_in": ["true", "false"], "score": ["10", "20", "40", "0"], "rating": ["2.5", "3.0", "1.0", "4.5"],
    "account.employees": ["100", "500", "50"],
}
POINTS = [-10, -2.5, 1, 2, 5, 10, 15, 20, 40, 0.5]
DECAYS: list[dict[str, Any] | None] = [
    None, {"half_life": "7d"}, {"half_life": 14.5}, {"half_life": "2w", "expire_after": "45d"},
    {"steps": [{"after": "7d", "factor": 0.5}, {"after": "30d", "factor": 0.1}]},
    {"steps": [{"after": 1, "factor": 0.75}]}, {"linear": "60d"}, {"linear": 10}, {"expire_after": "30d"},
]


@st.composite
def conditions(draw: st.DrawFn, atoms: Sequence[str], depth: int = 0) -> str:
    kind = draw(st.sampled_from(["atom", "atom", "atom", "and", "or", "not"] if depth < 2 else ["atom"]))
    if kind == "atom":
        return draw(st.sampled_from(atoms))
    if kind == "not":
        return f"NOT ({draw(conditions(atoms, depth + 1))})"
    word = " AND " if kind == "and" else " OR "
    return f"({draw(conditions(atoms, depth + 1))}){word}({draw(conditions(atoms, depth + 1))})"


class _Names:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"


@st.composite
def profile_rules(draw: st.DrawFn, names: _Names, atoms: Sequence[str], negative: bool = False
                  ) -> dict[str, Any]:
    shape = draw(st.sampled_from(["when", "when", "expr", "always", "map", "tiers"]))
    sign = -1 if negative else 1
    name = names("p")
    if shape == "when":
        return {"name": name, "when": draw(conditions(atoms)), "points": sign * abs(draw(st.sampled_from(POINTS)))}
    if shape == "expr":
        return {"name": name, "when": draw(conditions(atoms)), "points": draw(st.sampled_from(POINTS_EXPRESSIONS))}
    if shape == "always":
        return {"name": name, "points": draw(st.sampled_from(POINTS_EXPRESSIONS))}
    if shape == "map":
        column = draw(st.sampled_from(sorted(MAP_COLUMNS)))
        keys = draw(st.lists(st.sampled_from(MAP_COLUMNS[column]), min_size=1, max_size=3, unique=True))
        mapping = {draw(st.sampled_from([key, key.upper(), key.title()])): draw(st.sampled_from(POINTS))
                   for key in keys}
        rule: dict[str, Any] = {"name": name, "column": column, "points": mapping,
                                "case_sensitive": draw(st.booleans())}
        default = draw(_maybe(st.sampled_from(POINTS)))
        if default is not None:
            rule["default"] = default
        return rule
    tiers = [{"when": draw(conditions(atoms)), "points": draw(st.sampled_from(POINTS))}
             for _ in range(draw(st.integers(1, 3)))]
    return {"name": name, "tiers": tiers}


def _bounds(draw: st.DrawFn, caps: Sequence[float], floors: Sequence[float]) -> dict[str, float]:
    found: dict[str, float] = {}
    cap = draw(_maybe(st.sampled_from(caps)))
    floor = draw(_maybe(st.sampled_from(floors)))
    if cap is not None:
        found["cap"] = cap
    if floor is not None and (cap is None or floor <= cap):
        found["floor"] = floor
    return found


@st.composite
def models(draw: st.DrawFn) -> dict[str, Any]:
    names = _Names()
    groups: dict[str, dict[str, Any]] = {}
    event_rules: list[tuple[str, float]] = []
    for _ in range(draw(st.integers(1, 3))):
        events: dict[str, Any] = {}
        for _ in range(draw(st.integers(1, 3))):
            rule: dict[str, Any] = {"points": draw(st.sampled_from(POINTS)), "type": draw(st.sampled_from(TYPES))}
            if draw(st.booleans()):
                rule["where"] = draw(conditions(EVENT_ATOMS, 1))
            if draw(st.integers(0, 3)) == 0:
                rule["max_count"] = draw(st.integers(1, 3))
            if draw(st.integers(0, 3)) == 0:
                rule["within"] = draw(st.sampled_from(["7d", "30d", 14.5, 1]))
            if draw(st.integers(0, 3)) == 0:
                rule["decay"] = draw(st.sampled_from([d for d in DECAYS if d is not None]))
            name = names("e")
            events[name] = rule
            event_rules.append((name, rule["points"]))
        group: dict[str, Any] = {"events": events, **_bounds(draw, [0, 10, 25, 40], [-5, 0, 5])}
        decay = draw(st.sampled_from(DECAYS))
        if decay is not None:
            group["decay"] = decay
        if draw(st.integers(0, 3)) == 0:
            group["within"] = draw(st.sampled_from(["30d", 60]))
        groups[names("g")] = group
    group_names = list(groups)
    rule_names = [name for name, _ in event_rules]
    atoms = [*PROFILE_ATOMS, *(f"count_events('{g}', '30d') >= 2" for g in group_names),
             *(f"count_events('{r}') >= 1" for r in rule_names),
             *(f"days_since_last_event('{g}') > 5" for g in group_names)]
    fit = [draw(profile_rules(names, atoms)) for _ in range(draw(st.integers(1, 4)))]
    negative = [draw(profile_rules(names, atoms, negative=True)) for _ in range(draw(st.integers(0, 2)))]
    layers: dict[str, Any] = {"fit": {"rules": fit, **_bounds(draw, [20, 60], [0, 5])}}
    split = draw(st.integers(0, len(groups)))
    engagement: dict[str, Any] = {"groups": {g: groups[g] for g in group_names[:split]}}
    if draw(st.booleans()):
        engagement["rules"] = [draw(profile_rules(names, atoms))]
    if engagement["groups"] or engagement.get("rules"):
        layers["engagement"] = {**engagement, **_bounds(draw, [30, 80], [0])}
    if group_names[split:] or negative:
        layers["negative"] = {"rules": negative, "groups": {g: groups[g] for g in group_names[split:]}}
    profile_names = [rule["name"] for layer in layers.values() for rule in layer.get("rules", [])]
    derived_atoms = [*(f"{layer} >= {n}" for layer in layers for n in (0, 10, 30)),
                     *(f"{g} > 1" for g in group_names), *(f"total >= {n}" for n in (0, 25, 50)),
                     *rule_names, *profile_names, *(f"NOT {r}" for r in rule_names + profile_names),
                     "has_event('demo_request')", *PROFILE_ATOMS[:12]]
    scores = sorted(draw(st.lists(st.sampled_from([-20, 0, 10, 30, 50, 100]), min_size=1, max_size=3,
                                  unique=True)), reverse=True)
    stages = []
    for index, minimum in enumerate(scores):
        stage: dict[str, Any] = {"name": f"stage{index}", "min_score": minimum,
                                 "require": [draw(conditions(derived_atoms, 1))
                                             for _ in range(draw(st.integers(0, 2)))]}
        if draw(st.booleans()):
            stage["action"] = f"action {index}"
        stages.append(stage)
    model: dict[str, Any] = {
        "model": "random", "lists": {"regions": ["emea", "apac"]}, "layers": layers, "stages": stages,
        "total": _bounds(draw, [50, 100], [0, -10]), "reasons_top": draw(st.integers(0, 4)),
        "grades": {grade: draw(conditions(derived_atoms, 1)) for grade in ("A", "B", "C")[:draw(st.integers(0, 3))]},
    }
    meaningful = draw(_maybe(st.lists(st.sampled_from(TYPES), max_size=3, unique=True)))
    if meaningful is not None:
        model["meaningful_events"] = meaningful
    if draw(st.booleans()):
        account_rules = []
        for _ in range(draw(st.integers(0, 2))):
            name = names("a")
            if draw(st.booleans()):
                account_rules.append({"name": name, "when": draw(conditions(ACCOUNT_ATOMS, 1)),
                                      "points": draw(st.sampled_from([*POINTS, *ACCOUNT_EXPRESSIONS]))})
            else:
                account_rules.append({"name": name, "points": draw(st.sampled_from(ACCOUNT_EXPRESSIONS))})
        model["account"] = {
            "rollup": {"top_n": draw(st.integers(1, 3)), "engaged_min": draw(st.sampled_from([0, 10, 30])),
                       "beyond_top_points": draw(st.sampled_from([0, 5, 2.5]))},
            "rules": account_rules,
            "committee": {role: draw(conditions(COMMITTEE_ATOMS, 1))
                          for role in ("buyer", "champion", "tech")[:draw(st.integers(0, 3))]},
        }
        cap = draw(_maybe(st.sampled_from([50, 150])))
        if cap is not None:
            model["account"]["cap"] = cap
    if draw(st.integers(0, 2)) == 0:
        segment_atoms = [atom for atom in atoms if atom != "is_duplicate()"]  # see test_is_duplicate_...
        model["segments"] = {"seg": {"when": draw(conditions(segment_atoms, 1)), "model": "seg.yaml"}}
        model[SEGMENT_MODEL] = draw(segment_models(model))
    return model


SEGMENT_MODEL = "__segment_model"
"""Where ``models()`` keeps a segment's model (written next to the main model as seg.yaml)."""


@st.composite
def segment_models(draw: st.DrawFn, main: dict[str, Any]) -> dict[str, Any]:
    """The main model's layers with other points, caps and stages: same layers, in the same order."""
    layers = copy.deepcopy(main["layers"])
    for layer in layers.values():
        for rule in layer.get("rules", []):
            if isinstance(rule.get("points"), int | float) and draw(st.booleans()):
                rule["points"] = rule["points"] * 2 + 1
        for group in layer.get("groups", {}).values():
            group.pop("cap", None) if draw(st.booleans()) else group.update(cap=draw(st.sampled_from([5, 15])))
            for event_rule in group["events"].values():
                event_rule["points"] = draw(st.sampled_from(POINTS))
    return {"model": "segment", "lists": main["lists"], "layers": layers, "reasons_top": draw(st.integers(0, 4)),
            "stages": [{"name": "seg_hot", "min_score": draw(st.sampled_from([0, 20])), "action": "seg"},
                       {"name": "seg_cold", "min_score": -50}],
            "total": _bounds(draw, [40], [0])}


def _write(directory: Path, leads: list[Row], accounts: list[Row], events: list[Row]) -> None:
    pq.write_table(pa.Table.from_pylist(leads, schema=LEAD_SCHEMA), directory / "leads.parquet")
    pq.write_table(pa.Table.from_pylist(accounts, schema=ACCOUNT_SCHEMA), directory / "accounts.parquet")
    pq.write_table(pa.Table.from_pylist(events, schema=EVENT_SCHEMA), directory / "events.parquet")


def _run_both(model: Mapping[str, Any], data: tuple[list[Row], list[Row], list[Row]]) -> int:
    leads, accounts, events = data
    main = dict(model)
    segment = main.pop(SEGMENT_MODEL, None)
    with tempfile.TemporaryDirectory() as tmp:
        _write(Path(tmp), leads, accounts, events)
        if segment is None:
            loaded = model_from_dict(main)
        else:  # segment models are files, found next to the main model's
            (Path(tmp) / "seg.yaml").write_text(dump_model_yaml(segment), encoding="utf-8")
            (Path(tmp) / "main.yaml").write_text(dump_model_yaml(main), encoding="utf-8")
            loaded = load_model(Path(tmp) / "main.yaml")
        session = run_scoring(loaded, tmp, as_of=AS_OF)
        try:
            return compare_with_duckdb(session, leads, accounts, events, AS_OF)
        finally:
            session.close()


# ---------------------------------------------------------------------------------------------
# Single conditions: every value (not only "fires or not") against DuckDB, row by row
# ---------------------------------------------------------------------------------------------

TEXT_LITERALS = ["", "a", "A", "vp", "VP", "emea", " emea", "intern", "Sales Intern", "a%b", "x_y", "(.*)",
                 "é", "É", "it", "acme.com", "gmail.com", "a@b.c", "Intern_Lead", "tech", "éintern", "aé_it"]
LIKE_ALPHABET = ["a", "A", "%", "_", ".", "*", "(", ")", "[", "\\", "e", "i", "n", "t", " ", "-", "é", "@"]
WORDS = ["intern", "it", "vp", "sales", "a", "x_y", "lead"]
NUMERIC_LITERALS = ["0", "0", "1", "3", "-2", "10", "1.5", "0.25", "-2.75", "10.0", "0.1", "0.0", "1e1", "2.5e-1"]


class _Columns:
    """Columns of one condition context, by type."""

    def __init__(self, numbers: list[str], texts: list[str], flags: list[str], times: list[str],
                 emails: list[str]) -> None:
        self.numbers, self.texts, self.flags, self.times, self.emails = numbers, texts, flags, times, emails


PROFILE_COLUMNS = _Columns(
    ["score", "rating", "account.employees", "account.revenue", "account.intent_score"],
    ["seniority", "region", "job_title", "email", "account.industry", "account.region"],
    ["opted_in", "account.is_target"], ["created_at"], ["email"])
EVENT_COLUMNS = _Columns(["duration"], ["url", "topic", "type"], [], ["ts"], [])


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@st.composite
def numbers(draw: st.DrawFn, cols: _Columns, depth: int = 0) -> str:
    kind = draw(st.integers(0, 9 if depth < 2 else 1))
    if kind == 0:
        return draw(st.sampled_from(cols.numbers))
    if kind == 1:
        return draw(st.sampled_from(NUMERIC_LITERALS))
    if kind in (2, 3):
        op = draw(st.sampled_from(["+", "-", "*", "/"]))
        return f"({draw(numbers(cols, depth + 1))} {op} {draw(numbers(cols, depth + 1))})"
    if kind == 4:
        divisor = draw(st.sampled_from(["3", "-4", "2.5", "7", "1e1"]))
        return f"({draw(numbers(cols, depth + 1))} % {divisor})"
    if kind == 5:
        return draw(st.sampled_from(["abs({})", "-({})"])).format(draw(numbers(cols, depth + 1)))
    if kind == 6:
        return f"coalesce({draw(numbers(cols, depth + 1))}, {draw(numbers(cols, depth + 1))})"
    if kind == 7:
        args = draw(st.lists(numbers(cols, depth + 1), min_size=1, max_size=3))
        return f"{draw(st.sampled_from(['greatest', 'least']))}({', '.join(args)})"
    if kind == 8:
        return (f"CASE WHEN {draw(predicates(cols, depth + 1))} THEN {draw(numbers(cols, depth + 1))} "
                f"ELSE {draw(numbers(cols, depth + 1))} END")
    return f"length({draw(texts(cols, depth + 1))})"


@st.composite
def texts(draw: st.DrawFn, cols: _Columns, depth: int = 0) -> str:
    kind = draw(st.integers(0, 6 if depth < 2 else 1))
    if kind == 0:
        return draw(st.sampled_from(cols.texts))
    if kind == 1:
        return _quote(draw(st.sampled_from(TEXT_LITERALS)))
    if kind == 2:
        return f"{draw(st.sampled_from(['lower', 'upper', 'trim']))}({draw(texts(cols, depth + 1))})"
    if kind == 3 and cols.emails:
        return f"email_domain({draw(st.sampled_from(cols.emails))})"
    if kind == 4:
        return f"coalesce({draw(texts(cols, depth + 1))}, {_quote(draw(st.sampled_from(TEXT_LITERALS)))})"
    if kind == 5:
        return (f"CASE {draw(texts(cols, depth + 1))} WHEN {_quote(draw(st.sampled_from(TEXT_LITERALS)))} "
                f"THEN {draw(texts(cols, depth + 1))} END")
    return draw(st.sampled_from(cols.texts))


@st.composite
def predicates(draw: st.DrawFn, cols: _Columns, depth: int = 0) -> str:
    kind = draw(st.integers(0, 13 if depth < 2 else 7))
    compare = draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
    if kind == 0:
        return f"{draw(numbers(cols, depth + 1))} {compare} {draw(numbers(cols, depth + 1))}"
    if kind == 1:
        return f"{draw(texts(cols, depth + 1))} {compare} {draw(texts(cols, depth + 1))}"
    if kind == 2:
        pattern = "".join(draw(st.lists(st.sampled_from(LIKE_ALPHABET), max_size=6)))
        op = draw(st.sampled_from(["LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"]))
        return f"{draw(texts(cols, depth + 1))} {op} {_quote(pattern)}"
    if kind == 3:
        items = draw(st.lists(st.one_of(st.just("NULL"), st.sampled_from(TEXT_LITERALS).map(_quote)),
                              min_size=1, max_size=3))
        return f"{draw(texts(cols, depth + 1))} {draw(st.sampled_from(['IN', 'NOT IN']))} ({', '.join(items)})"
    if kind == 4:
        items = draw(st.lists(st.sampled_from([*NUMERIC_LITERALS, "NULL"]), min_size=1, max_size=3))
        return f"{draw(numbers(cols, depth + 1))} {draw(st.sampled_from(['IN', 'NOT IN']))} ({', '.join(items)})"
    if kind == 5:
        low, high = draw(numbers(cols, depth + 1)), draw(numbers(cols, depth + 1))
        between = draw(st.sampled_from(["BETWEEN", "NOT BETWEEN"]))
        return f"{draw(numbers(cols, depth + 1))} {between} {low} AND {high}"
    if kind == 6:
        words = ", ".join(_quote(w) for w in draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)))
        plain = _Columns(cols.numbers, cols.texts, cols.flags, cols.times, [])  # see test_has_word_of_...
        return f"has_word({draw(texts(plain, depth + 1))}, {words})"
    if kind == 7:
        choices = [f"{c} IS NULL" for c in cols.texts + cols.numbers] + [
            f"{c} IS NOT NULL" for c in cols.texts] + [f"is_valid_email({c})" for c in cols.emails] + [
            f"{c}{suffix}" for c in cols.flags for suffix in ("", " = true", " <> false", " IS TRUE",
                                                               " IS NOT FALSE", " IS FALSE")] + [
            f"{t} {compare} '2026-03-01'" for t in cols.times] + ["true", "false", "NULL"]
        return draw(st.sampled_from(choices))
    if kind == 8:
        test = draw(st.sampled_from(["contains", "starts_with", "ends_with"]))
        return f"{test}({draw(texts(cols, depth + 1))}, {draw(texts(cols, depth + 1))})"
    if kind == 9:
        return f"NOT ({draw(predicates(cols, depth + 1))})"
    if kind in (10, 11):
        word = draw(st.sampled_from(["AND", "OR"]))
        return f"({draw(predicates(cols, depth + 1))}) {word} ({draw(predicates(cols, depth + 1))})"
    if kind == 12:
        return (f"IF({draw(predicates(cols, depth + 1))}, {draw(predicates(cols, depth + 1))}, "
                f"{draw(predicates(cols, depth + 1))})")
    return (f"CASE WHEN {draw(predicates(cols, depth + 1))} THEN {draw(predicates(cols, depth + 1))} "
            f"ELSE NULL END")


def _same_value(sql: object, python: object) -> bool:
    if sql is None or python is None:
        return sql is python
    if isinstance(sql, bool) or isinstance(python, bool):
        return sql is python
    if isinstance(sql, str) or isinstance(python, str):
        return sql == python
    a, b = float(sql), float(python)  # type: ignore[arg-type]  # numbers of either engine
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=TOLERANCE)


def _check_conditions(texts_: list[str], context: str, rows: list[Row], accounts: list[Row]) -> None:
    """Evaluate each condition on every row with DuckDB and with the interpreter; values must agree."""
    import duckdb

    schema = (LEAD_SCHEMA, ACCOUNT_SCHEMA) if context == "profile" else (EVENT_SCHEMA, ACCOUNT_SCHEMA)
    names = NameSpace(context=context, lead_columns=frozenset(LEAD_SCHEMA.names),
                      account_columns=frozenset(ACCOUNT_SCHEMA.names),
                      event_columns=frozenset(EVENT_SCHEMA.names))
    con = duckdb.connect()
    try:
        table = pa.Table.from_pylist(rows, schema=schema[0])
        con.register("main_rows", table.append_column("__i", pa.array(range(len(rows)), pa.int64())))
        con.register("account_rows", pa.Table.from_pylist(accounts, schema=schema[1]))
        by_account = {row["account_id"]: row for row in accounts}
        for text in texts_:
            bound = bind_condition(text, names)

            def to_sql(key: str) -> exp.Expr:
                kind, _, name = key.partition(":")
                return exp.column(name, table="a" if kind == "account" else "m", quoted=True)

            sql = condition_sql(bound, to_sql).sql("duckdb")
            join = "LEFT JOIN account_rows a ON m.account_id = a.account_id" if context == "profile" else ""
            got = con.sql(f"SELECT ({sql}) FROM main_rows m {join} ORDER BY m.__i").fetchall()
            for row, (expected,) in zip(rows, got, strict=True):
                account = by_account.get(row.get("account_id"))

                def resolve(key: str, row: Row = row, account: Row | None = account) -> Any:
                    kind, _, name = key.partition(":")
                    source = account if kind == "account" else row
                    return None if source is None else source.get(name)

                value = evaluate(bound.tree, resolve)
                assert _same_value(expected, value), (text, sql, row, account, expected, value)
    finally:
        con.close()


@st.composite
def condition_rows(draw: st.DrawFn) -> tuple[list[Row], list[Row]]:
    leads, accounts, _events = draw(datasets())
    for lead in leads:
        if draw(st.booleans()):
            lead["job_title"] = draw(st.text(st.sampled_from(["a", "I", "n", "t", "e", "r", " ", "_", "-", "é",
                                                              "É", "%", "."]), max_size=8))
        if draw(st.booleans()):
            lead["region"] = draw(st.sampled_from(["\temea", "emea ", "Emea", "é"]))
    return leads, accounts


# ---------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------

TIES_MODEL: dict[str, Any] = {
    "model": "ties", "layers": {"engagement": {"groups": {"g1": {"cap": 10, "events": {
        "e1": {"type": "page_view", "points": 4, "max_count": 2}}}}}},
    "stages": [{"name": "s", "min_score": 0}]}
TIES_DATA: tuple[list[Row], list[Row], list[Row]] = (
    [{"lead_id": 1}], [],
    [{"event_id": 3, "lead_id": 1, "ts": AS_OF - timedelta(days=1), "type": "page_view"},
     {"event_id": 1, "lead_id": 1, "ts": AS_OF - timedelta(days=1), "type": "page_view"},
     {"event_id": 2, "lead_id": 1, "ts": AS_OF, "type": "page_view"}])


EDGE_MODEL: dict[str, Any] = {
    "model": "edges", "meaningful_events": ["page_view", "demo_request", "email_open"],
    "layers": {
        "fit": {"rules": [
            {"name": "modulo", "points": "score % 7"},  # -5 % 7 is -5, as in C
            {"name": "not_in_null", "when": "NOT (score IN (3, NULL))", "points": 4},  # NULL: no points
            {"name": "trimmed", "when": "trim(region) = 'emea'", "points": 2},  # trim() keeps tabs
            {"name": "vp_map", "column": "seniority", "points": {"VP": 5}, "case_sensitive": True}]},
        "engagement": {"groups": {"g1": {"decay": {"half_life": "2w", "expire_after": "45d"}, "events": {
            "e1": {"type": "page_view", "points": 10},
            "e2": {"type": "demo_request", "points": 20, "within": "7d"}}}}}},
    "stages": [{"name": "s", "min_score": -100}]}
EDGE_DATA: tuple[list[Row], list[Row], list[Row]] = (
    [{"lead_id": 1, "score": -5, "region": "\temea", "seniority": "vp"},
     {"lead_id": 2, "score": 5, "region": "emea", "seniority": "VP"}], [],
    [{"event_id": 1, "lead_id": 1, "ts": AS_OF - timedelta(days=45), "type": "page_view"},  # at expiry
     {"event_id": 2, "lead_id": 1, "ts": AS_OF - timedelta(days=7), "type": "demo_request"},  # at window end
     {"event_id": 3, "lead_id": 1, "ts": AS_OF - timedelta(days=7), "type": "email_open"},  # tie: larger type
     {"event_id": 4, "lead_id": 2, "ts": AS_OF - timedelta(days=1), "type": "email_open"},
     {"event_id": 5, "lead_id": 2, "ts": AS_OF - timedelta(days=1), "type": "demo_request"}])


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(model=models(), data=datasets())
@example(model=TIES_MODEL, data=TIES_DATA)
@example(model=EDGE_MODEL, data=EDGE_DATA)
def test_python_evaluator_equals_duckdb(model: dict[str, Any],
                                        data: tuple[list[Row], list[Row], list[Row]]) -> None:
    assert _run_both(model, data) == len(data[0])


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@example(conditions=["account.industry IS NULL"], values=["((score / 0) % 3)", "((0 / 0) * -1)"], text_values=[],
         data=([{"lead_id": 1, "score": 3}], []))  # C fmod: inf % 3 is NaN, not Python's ValueError
@given(conditions=st.lists(predicates(PROFILE_COLUMNS), min_size=1, max_size=4),
       values=st.lists(numbers(PROFILE_COLUMNS), max_size=2), text_values=st.lists(texts(PROFILE_COLUMNS),
                                                                                   max_size=2),
       data=condition_rows())
def test_profile_conditions_have_duckdbs_values(conditions: list[str], values: list[str], text_values: list[str],
                                                data: tuple[list[Row], list[Row]]) -> None:
    """Three-valued logic, casts, arithmetic, LIKE, text and email functions: the same value as DuckDB."""
    leads, accounts = data
    _check_conditions(conditions + values + text_values, "profile", leads, accounts)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(conditions=st.lists(predicates(EVENT_COLUMNS), min_size=1, max_size=4), data=datasets())
def test_event_filters_have_duckdbs_values(conditions: list[str],
                                           data: tuple[list[Row], list[Row], list[Row]]) -> None:
    _check_conditions(conditions, "event", data[2] or [{"event_id": 1}], [])


def test_segments_score_with_their_own_model(tmp_path: Path) -> None:
    """A lead takes the first segment whose condition holds; the rest use the main model ('default')."""
    (tmp_path / "enterprise.yaml").write_text(
        "model: enterprise\nreasons_top: 2\n"
        "layers:\n  fit:\n    rules:\n      - {name: big, when: 'account.employees > 100', points: 30}\n"
        "  engagement:\n    groups:\n      web: {cap: 20, events: {page_view: 5, demo_request: 50}}\n"
        "stages: [{name: hot, min_score: 40}, {name: cold, min_score: -100}]\n", encoding="utf-8")
    (tmp_path / "main.yaml").write_text(
        "model: main\n"
        "layers:\n  fit:\n    rules:\n      - {name: vp, when: \"seniority = 'vp'\", points: 10}\n"
        "  engagement:\n    groups:\n      mail: {events: {email_open: 2}}\n"
        "stages: [{name: any, min_score: -100}]\n"
        "segments:\n  enterprise: {when: 'account.employees >= 500', model: enterprise.yaml}\n",
        encoding="utf-8")
    leads: list[Row] = [{"lead_id": i, "account_id": 1 + i % 3, "seniority": "vp" if i % 2 else None}
                        for i in range(1, 7)]
    accounts: list[Row] = [{"account_id": 1, "employees": 1200}, {"account_id": 2, "employees": 50},
                           {"account_id": 3, "employees": None}]
    events: list[Row] = [{"event_id": i, "lead_id": 1 + i % 6, "ts": AS_OF - timedelta(days=i),
                          "type": ("page_view", "email_open", "demo_request")[i % 3]} for i in range(1, 30)]
    data = tmp_path / "data"
    data.mkdir()
    _write(data, leads, accounts, events)
    session = run_scoring(load_model(tmp_path / "main.yaml"), data, as_of=AS_OF)
    assert compare_with_duckdb(session, leads, accounts, events, AS_OF) == 6
    segments = {row["segment"] for row in _fetch(session, "lead_scores")}
    assert segments == {"enterprise", "default"}


def test_model_without_meaningful_events_has_no_last_activity() -> None:
    model = {"model": "profile_only", "layers": {"fit": {"rules": [
        {"name": "vp", "when": "seniority = 'vp'", "points": 5}]}}, "stages": [{"name": "s", "min_score": 0}]}
    assert _run_both(model, ([{"lead_id": 1, "seniority": "vp"}], [], [])) == 1


def test_segment_condition_counts_events_with_the_main_model(tmp_path: Path) -> None:
    """count_events() in a segment condition means the main model's group, in both evaluators."""
    (tmp_path / "seg.yaml").write_text(
        "model: seg\nlayers:\n  e:\n    groups:\n      g: {events: {page_view: 7}}\n"
        "stages: [{name: s, min_score: -100}]\n", encoding="utf-8")
    (tmp_path / "main.yaml").write_text(
        "model: main\nlayers:\n  e:\n    groups:\n      g: {events: {page_view: 5}}\n"
        "stages: [{name: s, min_score: -100}]\n"
        "segments:\n  active: {when: \"count_events('g') >= 2\", model: seg.yaml}\n", encoding="utf-8")
    leads: list[Row] = [{"lead_id": 1}, {"lead_id": 2}]
    events: list[Row] = [{"event_id": i, "lead_id": 1 + i % 2, "ts": AS_OF - timedelta(days=i),
                          "type": "page_view"} for i in range(1, 4)]
    data = tmp_path / "data"
    data.mkdir()
    _write(data, leads, [], events)
    session = run_scoring(load_model(tmp_path / "main.yaml"), data, as_of=AS_OF)
    assert compare_with_duckdb(session, leads, [], events, AS_OF) == 2
    assert {row["lead_id"]: row["segment"] for row in _fetch(session, "lead_scores")} == {1: "default", 2: "active"}


def test_has_word_of_email_domain() -> None:
    model = {"model": "nested", "layers": {"fit": {"rules": [
        {"name": "acme", "when": "has_word(email_domain(email), 'acme')", "points": 5}]}},
        "stages": [{"name": "s", "min_score": -10}]}
    assert _run_both(model, ([{"lead_id": 1, "email": "a@acme.com"}, {"lead_id": 2, "email": "b@x.io"}],
                             [], [])) == 2


def test_is_duplicate_in_a_segment_condition(tmp_path: Path) -> None:
    (tmp_path / "seg.yaml").write_text(
        "model: seg\nlayers:\n  e:\n    groups:\n      g: {events: {page_view: 7}}\n"
        "stages: [{name: s, min_score: -100}]\n", encoding="utf-8")
    (tmp_path / "main.yaml").write_text(
        "model: main\nlayers:\n  e:\n    groups:\n      g: {events: {page_view: 5}}\n"
        "stages: [{name: s, min_score: -100}]\nsegments:\n  dup: {when: 'is_duplicate()', model: seg.yaml}\n",
        encoding="utf-8")
    leads: list[Row] = [{"lead_id": 1, "email": "a@x.com"}, {"lead_id": 2, "email": "A@x.com"}]
    events: list[Row] = [{"event_id": 1, "lead_id": 2, "ts": AS_OF - timedelta(days=1), "type": "page_view"}]
    data = tmp_path / "data"
    data.mkdir()
    _write(data, leads, [], events)
    session = run_scoring(load_model(tmp_path / "main.yaml"), data, as_of=AS_OF)
    assert compare_with_duckdb(session, leads, [], events, AS_OF) == 2


def test_last_activity_before_1970() -> None:
    model = {"model": "old", "layers": {"e": {"groups": {"g": {"events": {"a": 5, "b": 1}}}}},
             "stages": [{"name": "s", "min_score": -100}]}
    events: list[Row] = [{"event_id": 1, "lead_id": 1, "ts": datetime(1969, 12, 31, 23, 59, 59, 999000), "type": "b"},
                         {"event_id": 2, "lead_id": 1, "ts": datetime(1960, 5, 1), "type": "a"}]
    assert _run_both(model, ([{"lead_id": 1}], [], events)) == 1


def test_bench_data_agrees_with_duckdb_under_the_reference_model(tmp_path: Path) -> None:
    """2,000 leads of the shared benchmark generator, the reference model: every lead and account."""
    subprocess.run([sys.executable, str(SHARED / "bench" / "gen.py"), "--leads", "2000", "--seed", "7",
                    "--out", str(tmp_path)], check=True, capture_output=True)
    as_of = datetime.fromisoformat(json.loads((tmp_path / "meta.json").read_text())["as_of"])
    leads = pq.read_table(tmp_path / "leads.parquet").to_pylist()
    accounts = pq.read_table(tmp_path / "accounts.parquet").to_pylist()
    events = pq.read_table(tmp_path / "events.parquet").to_pylist()
    session = run_scoring(load_model(REPO / "benchmarks" / "reference.yaml"), tmp_path, as_of=as_of)
    try:
        assert compare_with_duckdb(session, leads, accounts, events, as_of) == 2000
    finally:
        session.close()

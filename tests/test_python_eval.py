"""The plain-Python evaluator: its condition interpreter, its event arithmetic and whole scores.

Expected values here were checked against DuckDB by hand; ``test_evaluators_agree.py`` checks the
two evaluators against each other on random models.
"""

from __future__ import annotations

import ast
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from leadscore.backends.python_eval import (
    LeadScore,
    decay_factor,
    duplicate_lead_keys,
    score_account,
    score_lead,
)
from leadscore.backends.python_functions import (
    SqlValue,
    email_domain,
    email_well_formed,
    evaluate,
    has_word,
    holds,
    like,
    to_varchar,
)
from leadscore.compiler.conditions import NameSpace, bind_condition
from leadscore.compiler.plan import ScoringPlan, compile_plan
from leadscore.errors import DataError
from leadscore.spec import load_model, load_model_text
from leadscore.spec.model import Decay

REPO = Path(__file__).resolve().parents[1]
AS_OF = datetime(2026, 6, 30)


def value(text: str, **columns: Any) -> SqlValue:
    """Evaluate a profile condition; unqualified names are lead columns (schema unknown)."""
    bound = bind_condition(text, NameSpace(context="profile", lists={"personal": ("gmail.com",)}))
    return evaluate(bound.tree, lambda key: columns.get(key.partition(":")[2]))


def plan_of(yaml_text: str) -> ScoringPlan:
    return compile_plan(load_model_text(yaml_text))


def ago(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


def event(event_id: int, days: float, kind: str, **columns: Any) -> dict[str, Any]:
    return {"event_id": event_id, "lead_id": 1, "ts": ago(days), "type": kind, **columns}


# ---------------------------------------------------------------------------------------------
# Three-valued logic
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("NULL AND false", False), ("NULL AND true", None), ("NULL OR true", True), ("NULL OR false", None),
    ("NOT NULL", None), ("x = 1", None), ("x <> 1", None), ("x IS NULL", True), ("x IS NOT NULL", False),
    ("NULL IS TRUE", False), ("NOT (NULL IS TRUE)", True), ("x IS FALSE", False),
    ("1 IN (1, NULL)", True), ("2 IN (1, NULL)", None), ("x IN (1, 2)", None), ("2 NOT IN (1, NULL)", None),
    ("2 BETWEEN NULL AND 1", False), ("2 BETWEEN 1 AND NULL", None), ("x BETWEEN 1 AND 2", None),
    ("coalesce(x, 3) = 3", True), ("greatest(1, x, 2)", 2), ("least(x, NULL)", None),
    ("CASE WHEN x > 1 THEN 'big' ELSE 'small' END", "small"), ("CASE x WHEN NULL THEN 1 END", None),
    ("IF(x > 1, 1, 2)", 2), ("lower(x)", None), ("length(x)", None), ("x + 1", None), ("-x", None),
])
def test_null_follows_sql_three_valued_logic(text: str, expected: SqlValue) -> None:
    assert value(text, x=None) is expected or value(text, x=None) == expected


def test_a_null_condition_does_not_fire() -> None:
    bound = bind_condition("NOT (region = 'emea')", NameSpace(context="profile"))
    assert evaluate(bound.tree, lambda key: None) is None
    assert holds(bound.tree, lambda key: None) is False
    plan = plan_of("model: m\nlayers:\n  fit:\n    rules:\n"
                   "      - {name: not_emea, when: \"NOT (region = 'emea')\", points: 5}\n"
                   "stages: [{name: s, min_score: -10}]\n")
    assert score_lead(plan, {"lead_id": 1}, account=None, events=[], as_of=AS_OF).total == 0.0
    assert score_lead(plan, {"lead_id": 1, "region": "na"}, account=None, events=[], as_of=AS_OF).total == 5.0


# ---------------------------------------------------------------------------------------------
# Types and arithmetic as in DuckDB
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("7 / 2", 3.5), ("-7 % 3", -1), ("7 % -3", 1), ("-7.5 % 2", Decimal("-1.5")), ("x * 0.1 = 0.3", True),
    ("y * 0.1 = 0.3", False), ("1.5 * 2.5", Decimal("3.75")), ("1e3", 1000.0), ("5 = '5.0'", True),
    ("5 = '5.5'", False), ("5 = '1_0'", False), ("10 = '1_0'", True), ("true = 1", True),
    ("'abc' < 'abd'", True), ("'Z' < 'a'", True),
    ("created > '2026-03-01'", True), ("abs(-2)", 2), ("greatest(1, 2.5)", Decimal("2.5")),
])
def test_numbers_and_casts_follow_duckdb(text: str, expected: SqlValue) -> None:
    got = value(text, x=3, y=3.0, created=datetime(2026, 4, 1))
    assert got == expected and type(got) is type(expected)


def test_division_by_zero_is_infinite_and_nan_sorts_last() -> None:
    assert value("1 / 0") == math.inf
    assert value("-1 / 0") == -math.inf
    assert math.isnan(value("0 / 0"))  # type: ignore[arg-type]
    assert value("0 / 0 > 5") is True
    assert value("0 / 0 = 0 / 0") is True
    assert math.isnan(value("y % 0", y=5.0))  # type: ignore[arg-type]
    assert math.isnan(value("(1 / 0) % 3"))  # type: ignore[arg-type]
    assert value("y % (1 / 0)", y=5.0) == 5.0


@pytest.mark.parametrize("text", ["x % 0", "lower(x)", "x LIKE 'a%'", "x > 'abc'", "has_word(x, 'a')",
                                  "x = 'inf'"])
def test_what_duckdb_rejects_is_a_data_error(text: str) -> None:
    with pytest.raises(DataError):
        value(text, x=5)


@pytest.mark.parametrize(("raw", "text"), [
    (True, "true"), (False, "false"), (5, "5"), (5.0, "5.0"), (2.5, "2.5"), (1e20, "1e+20"), (1e15,
     "1000000000000000.0"), (1e-5, "1e-05"), (-0.0, "-0.0"), (Decimal("2.50"), "2.50"),
    (datetime(2025, 1, 1, 10, 0, 0, 500000), "2025-01-01 10:00:00.5"), (datetime(2025, 1, 1), "2025-01-01 00:00:00"),
    (None, None), ("Tech", "Tech"),
])
def test_cast_to_varchar_matches_duckdb(raw: SqlValue, text: str | None) -> None:
    assert to_varchar(raw) == text


def test_trim_removes_spaces_only() -> None:
    assert value("trim(x)", x="  a \t") == "a \t"


# ---------------------------------------------------------------------------------------------
# LIKE, has_word, emails
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "pattern", "expected"), [
    ("a_b", "a_b", True), ("axb", "a_b", True), ("ab", "a_b", False), ("a\\b", "a\\b", True),
    ("a\\_b", "a\\_b", True), ("(x)", "(%)", True), ("a.b", "a.b", True), ("axb", "a.b", False),
    ("a\nb", "a%b", True), ("a\nb", "a_b", True), ("abc", "%", True), ("", "%", True), ("", "_", False),
    ("Marketing", "market%", False), ("price*", "price*", True), ("[a]", "[a]", True),
])
def test_like_has_no_escape_and_matches_the_whole_value(text: str, pattern: str, expected: bool) -> None:
    assert like(text, pattern) is expected


def test_ilike_and_not_like() -> None:
    assert value("x ILIKE 'market%'", x="Marketing") is True
    assert value("x NOT LIKE 'market%'", x="Marketing") is True
    assert value("x NOT ILIKE 'market%'", x="Marketing") is False
    assert value("x NOT LIKE 'a'", x=None) is None


@pytest.mark.parametrize(("title", "expected"), [
    ("Intern", True), ("Sales Intern", True), ("Marketing Intern", True), ("IT Intern (Summer)", True),
    ("INTERN", True), ("Senior-Intern", True), ("International Sales Director", False),
    ("Internship Program Manager", False), ("Interns", False), ("Internal Communications", False),
    ("Intern_Lead", False), ("Student Success Manager", True), ("PhD Student", True), ("éintern", True),
    ("", False), (None, False),
])
def test_has_word_matches_whole_words_only(title: str | None, expected: bool) -> None:
    assert has_word(title, ["student", "intern"]) is expected


@pytest.mark.parametrize(("email", "well_formed", "domain"), [
    ("ana@acme.com", True, "acme.com"), ("Ana@ACME.Com", True, "acme.com"), ("x@@acme.com", False, None),
    ("noat.acme.com", False, None), ("a@nodot", False, None), ("a.b@nodot", False, None),
    ("@acme.com", True, "acme.com"), ("a@b.", True, "b."), ("a@.com", True, ".com"),
    (" c@acme.com ", True, "acme.com "), ("", False, None), (None, False, None),
])
def test_email_parsing(email: str | None, well_formed: bool, domain: str | None) -> None:
    assert email_well_formed(email) is well_formed
    assert email_domain(email) == domain
    assert value("is_valid_email(e)", e=email) is well_formed
    assert value("NOT is_valid_email(e)", e=email) is (not well_formed)
    assert value("email_domain(e) IN @personal", e=email) is (None if domain is None else False)


# ---------------------------------------------------------------------------------------------
# Events: decay, windows, count limits
# ---------------------------------------------------------------------------------------------


STEPS = [{"after": 7, "factor": 0.5}, {"after": 30, "factor": 0.1}]


@pytest.mark.parametrize(("decay", "age", "factor"), [
    (None, 100.0, 1.0), ({"half_life": 30}, 30.0, 0.5), ({"half_life": "2w"}, 0.0, 1.0),
    ({"half_life": 14}, 7.0, 0.5 ** 0.5), ({"steps": STEPS}, 6.9, 1.0), ({"steps": STEPS}, 7.0, 0.5),
    ({"steps": STEPS}, 31.0, 0.1),
    ({"linear": 10}, 5.0, 0.5), ({"linear": 10}, 12.0, 0.0), ({"expire_after": 30}, 30.0, 1.0),
    ({"expire_after": 30}, 30.5, 0.0), ({"half_life": 10, "expire_after": 20}, 20.0, 0.25),
    ({"half_life": 10, "expire_after": 20}, 20.1, 0.0),
])
def test_decay_shapes(decay: dict[str, Any] | None, age: float, factor: float) -> None:
    spec = Decay.model_validate(decay) if decay is not None else None
    assert decay_factor(spec, age) == pytest.approx(factor, abs=1e-15)


EVENTS_MODEL = """
model: events
meaningful_events: [page_view, demo_request, email_open]
layers:
  engagement:
    groups:
      web:
        cap: 25
        decay: {half_life: 10d}
        events:
          page_view: {points: 10, max_count: 2}
          pricing: {type: page_view, points: 3, where: "url LIKE '%pricing%'", within: 7d}
      intent:
        floor: 2
        events: {demo_request: 20}
stages: [{name: s, min_score: -100}]
"""


def test_max_count_keeps_the_newest_events() -> None:
    plan = plan_of(EVENTS_MODEL)
    events = [event(1, 30, "page_view"), event(2, 10, "page_view"), event(3, 0.5, "page_view"),
              event(4, 20, "page_view")]
    score = score_lead(plan, {"lead_id": 1}, account=None, events=events, as_of=AS_OF)
    items = {item.rule: item for item in score.reasons}
    assert items["page_view"].points == pytest.approx(10 * (0.5 ** 0.05 + 0.5 ** 1.0))
    assert items["page_view"].detail == "2 events, decayed from 20 to 14.66"


def test_within_counts_events_up_to_and_including_the_window() -> None:
    plan = plan_of(EVENTS_MODEL)
    events = [event(1, 7, "page_view", url="/pricing"), event(2, 7.0001, "page_view", url="/pricing"),
              event(3, 1, "page_view", url="/docs")]
    items = {i.rule: i for i in score_lead(plan, {"lead_id": 1}, account=None, events=events,
                                           as_of=AS_OF).reasons}
    assert items["pricing"].points == pytest.approx(3 * 0.5 ** 0.7)


def test_events_at_or_after_as_of_and_without_time_do_not_count() -> None:
    plan = plan_of(EVENTS_MODEL)
    events = [event(1, 0, "demo_request"), event(2, -1, "demo_request"),
              {"event_id": 3, "ts": None, "type": "demo_request"}]
    score = score_lead(plan, {"lead_id": 1}, account=None, events=events, as_of=AS_OF)
    assert score.groups["intent"] == 2.0  # the floor, no event counted
    assert score.last_activity_at is None
    one_us = [{"event_id": 4, "ts": AS_OF - timedelta(microseconds=1), "type": "demo_request"}]
    assert score_lead(plan, {"lead_id": 1}, account=None, events=one_us, as_of=AS_OF).groups["intent"] == 20.0


def test_age_is_exact_microseconds() -> None:
    plan = plan_of(EVENTS_MODEL)
    ts = AS_OF - timedelta(days=10, microseconds=3)
    score = score_lead(plan, {"lead_id": 1}, account=None, events=[{"ts": ts, "type": "page_view"}],
                       as_of=AS_OF)
    assert score.groups["web"] == 10 * 0.5 ** ((10 * 86_400_000_000 + 3) / 86_400_000_000 / 10)


def test_last_activity_ties_go_to_the_larger_type() -> None:
    plan = plan_of(EVENTS_MODEL)
    events = [event(1, 2, "email_open"), event(2, 2, "demo_request"), event(3, 5, "page_view"),
              event(4, 1, "unsubscribe")]
    score = score_lead(plan, {"lead_id": 1}, account=None, events=events, as_of=AS_OF)
    assert (score.last_activity_at, score.last_activity_type) == (ago(2), "email_open")


def test_aware_times_are_read_as_utc() -> None:
    plan = plan_of(EVENTS_MODEL)
    paris = timezone(timedelta(hours=2))
    events = [{"ts": datetime(2026, 6, 30, 1, 0, tzinfo=paris), "type": "demo_request"}]  # 23:00 UTC
    aware = score_lead(plan, {"lead_id": 1}, account=None, events=events,
                       as_of=datetime(2026, 6, 30, tzinfo=UTC))
    assert aware.groups["intent"] == 20.0
    assert aware.last_activity_at == datetime(2026, 6, 29, 23, 0)


# ---------------------------------------------------------------------------------------------
# Rules, caps, reasons, grades and stages
# ---------------------------------------------------------------------------------------------

RULES_MODEL = """
model: rules
layers:
  fit:
    cap: 30
    rules:
      - name: size
        tiers:
          - {when: "account.employees > 1000", points: 20}
          - {when: "account.employees > 100", points: 10}
          - {when: "true", points: 1}
      - {name: industry, column: account.industry, points: {Technology: 15, healthcare: 5}, default: -1}
      - {name: vp, column: seniority, points: {VP: 7}, case_sensitive: true}
      - {name: flag, column: opted_in, points: {"true": 2}}
      - {name: rating, column: rating, points: {"2.5": 4}}
      - {name: intent, points: "account.intent_score / 10"}
  engagement:
    groups:
      web: {cap: 5, events: {page_view: 4}}
  negative:
    rules:
      - {name: student, when: "has_word(job_title, 'student', 'intern')", points: -25}
total: {floor: 0, cap: 45}
grades: {A: "fit >= 30", B: "web >= 5 AND NOT student", C: "true"}
stages:
  - {name: hot, min_score: 30, require: ["has_event('page_view')", "vp"], action: Call}
  - {name: warm, min_score: 20, action: Email}
  - {name: cold, min_score: 1}
account:
  rollup: {top_n: 2, engaged_min: 10, beyond_top_points: 3}
  rules:
    - {name: target, when: "is_target", points: 6}
  committee:
    buyer: "seniority IN ('VP', 'vp')"
    user: "true"
  cap: 100
"""


def test_tiers_first_match_wins() -> None:
    plan = plan_of(RULES_MODEL)
    score = score_lead(plan, {"lead_id": 1}, account={"employees": 5000}, events=[], as_of=AS_OF)
    size = next(item for item in score.reasons if item.rule == "size")
    assert (size.points, size.detail) == (20.0, "tier 1: account.employees > 1000")


@pytest.mark.parametrize(("lead", "account", "expected"), [
    ({"seniority": "VP"}, {"industry": "technology"}, {"industry": 15.0, "vp": 7.0}),
    ({"seniority": "vp"}, {"industry": "TECHNOLOGY"}, {"industry": 15.0}),
    ({"opted_in": True, "rating": 2.5}, {"industry": None}, {"industry": -1.0, "flag": 2.0, "rating": 4.0}),
    ({"opted_in": False, "rating": 2.0}, {"industry": "retail"}, {"industry": -1.0}),
])
def test_value_maps_compare_text_of_the_value(lead: dict[str, Any], account: dict[str, Any],
                                              expected: dict[str, float]) -> None:
    plan = plan_of(RULES_MODEL)
    score = score_lead(plan, {"lead_id": 1, **lead}, account=account, events=[], as_of=AS_OF)
    got = {item.rule: item.points for item in score.reasons if item.rule in {"industry", "vp", "flag", "rating"}}
    assert got == expected


def test_expression_points_are_zero_when_null() -> None:
    plan = plan_of(RULES_MODEL)
    assert "intent" not in {item.rule for item in score_lead(plan, {"lead_id": 1}, account=None, events=[],
                                                             as_of=AS_OF).reasons}
    with_intent = score_lead(plan, {"lead_id": 1}, account={"intent_score": 37}, events=[], as_of=AS_OF)
    assert next(i.points for i in with_intent.reasons if i.rule == "intent") == 3.7


def test_caps_and_floors_are_reason_items_and_reasons_add_up() -> None:
    plan = plan_of(RULES_MODEL)
    lead = {"lead_id": 1, "seniority": "VP", "job_title": "VP Sales"}
    account = {"employees": 5000, "industry": "technology", "intent_score": 100}
    events = [event(i, i, "page_view") for i in range(1, 4)]
    score = score_lead(plan, lead, account=account, events=events, as_of=AS_OF)
    items = {item.rule: item.points for item in score.reasons}
    assert items["web:cap"] == 5 - 12
    assert items["fit:cap"] == 30 - (20 + 15 + 7 + 10)
    assert "total:cap" not in items and score.total == 35.0
    assert score.layers == {"fit": 30.0, "engagement": 5.0, "negative": 0.0}
    assert sum(items.values()) == pytest.approx(score.total, abs=1e-12)
    student = score_lead(plan, {"lead_id": 2, "job_title": "Sales Intern"}, account=None, events=[], as_of=AS_OF)
    assert student.total == 0.0
    assert {i.rule: i.points for i in student.reasons}["total:cap"] == 25.0
    assert sum(i.points for i in student.reasons) == pytest.approx(0.0, abs=1e-12)


def test_grades_and_stages_first_match_with_requirements() -> None:
    plan = plan_of(RULES_MODEL)
    lead = {"lead_id": 1, "seniority": "VP"}
    account = {"employees": 5000, "industry": "technology"}
    hot = score_lead(plan, lead, account=account, events=[event(1, 1, "page_view")], as_of=AS_OF)
    assert (hot.grade, hot.stage, hot.next_action) == ("A", "hot", "Call")
    no_event = score_lead(plan, lead, account=account, events=[], as_of=AS_OF)
    assert (no_event.stage, no_event.next_action) == ("warm", "Email")
    nothing = score_lead(plan, {"lead_id": 3, "job_title": "Intern"}, account=None, events=[], as_of=AS_OF)
    assert (nothing.grade, nothing.stage, nothing.next_action) == ("C", None, None)


def test_top_reasons_by_size_then_name() -> None:
    plan = plan_of(RULES_MODEL)
    score = score_lead(plan, {"lead_id": 1, "seniority": "VP", "job_title": "Student"},
                       account={"employees": 500, "industry": "healthcare"}, events=[], as_of=AS_OF)
    assert score.top_reasons == (("student", -25.0), ("size", 10.0), ("vp", 7.0))
    tie = score_lead(plan, {"lead_id": 1}, account={"employees": 500, "industry": "healthcare",
                                                    "intent_score": 50}, events=[], as_of=AS_OF)
    assert tie.top_reasons == (("size", 10.0), ("industry", 5.0), ("intent", 5.0))


def test_committee_role_is_the_first_matching_role() -> None:
    plan = plan_of(RULES_MODEL)
    assert score_lead(plan, {"lead_id": 1, "seniority": "vp"}, account=None, events=[],
                      as_of=AS_OF).committee_role == "buyer"
    assert score_lead(plan, {"lead_id": 1}, account=None, events=[], as_of=AS_OF).committee_role == "user"


def _lead(lead_id: int, total: float, role: str | None = None) -> LeadScore:
    return LeadScore(lead_id=lead_id, segment=None, layers={}, groups={}, total=total, grade=None, stage=None,
                     next_action=None, reasons=(), top_reasons=(), last_activity_at=None,
                     last_activity_type=None, committee_role=role, account_id=7)


def test_account_rolls_up_the_top_leads_and_engaged_breadth() -> None:
    plan = plan_of(RULES_MODEL)
    leads = [_lead(4, 20.0, "user"), _lead(2, 30.0, "buyer"), _lead(3, 20.0), _lead(1, 15.0, "user"),
             _lead(5, 5.0, "buyer")]
    account = score_account(plan, {"is_target": True}, 7, leads)
    assert account.top_leads == (2, 3)  # ties on total go to the smaller lead id
    assert account.engaged_leads == 4
    assert account.account_score == 30 + 20 + 3 * 2 + 6
    assert account.committee_roles == ("buyer", "user")
    assert account.committee_coverage == 2 and account.committee_roles_defined == 2
    assert [(i.rule, i.points) for i in account.reasons] == [("top_leads_sum", 50.0),
                                                             ("engaged_beyond_top", 6.0), ("target", 6.0)]
    capped = score_account(plan, {"is_target": True}, 7, [_lead(1, 60.0), _lead(2, 50.0)])
    assert capped.account_score == 100.0
    assert {i.rule: i.points for i in capped.reasons}["account:cap"] == 100.0 - 116.0
    assert score_account(plan, None, 8, []).account_score == 0.0


def test_duplicates_are_later_leads_with_the_same_email() -> None:
    plan = plan_of(RULES_MODEL)
    leads: list[dict[str, Any]] = [
        {"lead_id": 1, "email": "A@x.com", "created_at": datetime(2026, 2, 1)},
        {"lead_id": 2, "email": " a@X.com", "created_at": datetime(2026, 1, 1)},
        {"lead_id": 3, "email": "a@x.com", "created_at": None},
        {"lead_id": 4, "email": None}, {"lead_id": 5, "email": None},
        {"lead_id": 6, "email": "b@x.com", "created_at": datetime(2026, 1, 1)},
        {"lead_id": 0, "email": "b@x.com", "created_at": datetime(2026, 1, 1)}]
    assert duplicate_lead_keys(plan, leads) == frozenset({1, 3, 6})


# ---------------------------------------------------------------------------------------------
# The reference model's worked example, and the result objects
# ---------------------------------------------------------------------------------------------


def test_worked_example_of_the_reference_model() -> None:
    """REFERENCE.md, "Worked example": a European technology director who unsubscribed."""
    plan = compile_plan(load_model(REPO / "benchmarks" / "reference.yaml"))
    lead = {"lead_id": 1, "account_id": 10, "email": "ana@acme1.com", "job_title": "International Sales Director",
            "seniority": "director", "region": "europe"}
    account = {"account_id": 10, "industry": "technology", "employees": 300, "is_target_account": False,
               "intent_score": 0}
    events = [event(1, 7, "demo_request"), event(2, 30, "email_open"), event(3, 3, "unsubscribe")]
    score = score_lead(plan, lead, account=account, events=events, as_of=AS_OF)
    assert score.layers["fit"] == 40.0
    assert score.grade == "B"
    assert score.groups == {"email": 1.0, "web": 0.0, "intent": pytest.approx(40 * 0.5 ** 0.5, abs=1e-12)}
    assert round(score.groups["intent"], 4) == 28.2843
    assert round(score.layers["engagement"], 4) == 29.2843
    assert score.layers["negative"] == -10.0
    assert round(score.total, 4) == 59.2843
    assert score.stage == "mql"
    assert [(rule, round(points, 4)) for rule, points in score.top_reasons] == [
        ("intent", 28.2843), ("industry_technology", 20.0), ("seniority_director", 10.0)]
    assert "student_or_intern" not in {item.rule for item in score.reasons}
    assert sum(item.points for item in score.reasons) == pytest.approx(score.total, abs=1e-12)


def test_results_are_json_ready() -> None:
    plan = plan_of(EVENTS_MODEL)
    score = score_lead(plan, {"lead_id": 1}, account=None, events=[event(1, 1, "demo_request")], as_of=AS_OF)
    document = json.loads(json.dumps(score.to_dict()))
    assert document["last_activity_at"] == ago(1).isoformat()
    assert document["reasons"][0] == {"rule": "demo_request", "layer": "engagement", "points": 20.0,
                                      "detail": "1 event x 20"}
    account = score_account(plan, None, 1, [score])
    assert json.loads(json.dumps(account.to_dict()))["top_leads"] == [1]


def test_evaluator_never_evaluates_text() -> None:
    """Security: conditions are walked as trees; the modules never call eval, exec or compile."""
    for name in ("python_eval.py", "python_functions.py", "python_values.py", "python_rows.py", "python_accounts.py"):
        tree = ast.parse((REPO / "src" / "leadscore" / "backends" / name).read_text(encoding="utf-8"))
        calls = {node.func.id for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        assert not calls & {"eval", "exec", "compile", "__import__"}, name

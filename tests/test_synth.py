"""The synthetic funnel is deterministic, well-typed, referentially sound and tells a consistent story."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from leadscore.synth import (
    COLUMNS,
    COMPETITOR_DOMAINS,
    EVENT_TYPES,
    PERSONAL_DOMAINS,
    REJECTION_REASONS,
    SyntheticFunnel,
    generate_funnel,
)

N = 4_000
SEED = 11
AS_OF = datetime(2026, 6, 30)
HORIZON = AS_OF + timedelta(days=90)
HIGH_INTENT = ("pricing_page_view", "demo_request", "contact_form", "free_trial_signup")
WEB_TYPES = ("page_view", "blog_visit", "pricing_page_view", "case_study_view", "content_download",
             "contact_form", "demo_request", "free_trial_signup")

SCHEMAS = {
    "accounts": pa.schema([
        ("account_id", pa.int64()), ("name", pa.string()), ("domain", pa.string()),
        ("industry", pa.string()), ("employees", pa.int64()), ("annual_revenue", pa.float64()),
        ("region", pa.string()), ("country", pa.string()), ("is_target_account", pa.bool_()),
        ("target_tier", pa.string()), ("intent_score", pa.int32()), ("intent_topic", pa.string()),
        ("tech_stack", pa.string()),
    ]),
    "leads": pa.schema([
        ("lead_id", pa.int64()), ("account_id", pa.int64()), ("email", pa.string()),
        ("first_name", pa.string()), ("last_name", pa.string()), ("job_title", pa.string()),
        ("seniority", pa.string()), ("function", pa.string()), ("country", pa.string()),
        ("region", pa.string()), ("source", pa.string()), ("campaign", pa.string()),
        ("created_at", pa.timestamp("us")), ("cost", pa.float64()), ("mql_at", pa.timestamp("us")),
        ("sales_accepted", pa.bool_()), ("rejection_reason", pa.string()), ("opportunity", pa.bool_()),
        ("opportunity_at", pa.timestamp("us")), ("won", pa.bool_()), ("converted", pa.bool_()),
        ("converted_at", pa.timestamp("us")), ("opportunity_amount", pa.float64()),
    ]),
    "events": pa.schema([
        ("event_id", pa.int64()), ("lead_id", pa.int64()), ("ts", pa.timestamp("us")),
        ("type", pa.string()), ("url", pa.string()), ("asset", pa.string()), ("topic", pa.string()),
    ]),
}


@pytest.fixture(scope="module")
def funnel() -> SyntheticFunnel:
    return generate_funnel(N, seed=SEED)


@pytest.fixture(scope="module")
def leads(funnel: SyntheticFunnel) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = funnel.leads.to_pylist()
    return rows


def _domain(email: str) -> str | None:
    """The scoring reference's parsing: one '@' and a dot after it, else no domain (malformed)."""
    if email.count("@") != 1 or "." not in email.split("@")[1]:
        return None
    return email.split("@")[1].lower()


def _share(rows: list[dict[str, Any]], predicate: Callable[[dict[str, Any]], object]) -> float:
    return sum(1 for r in rows if predicate(r)) / len(rows)


def _events_per_lead(funnel: SyntheticFunnel, types: tuple[str, ...]) -> np.ndarray:
    ev = funnel.events.filter(pc.is_in(funnel.events["type"], pa.array(types)))
    return np.bincount(ev["lead_id"].to_numpy(), minlength=funnel.leads.num_rows + 1)[1:]


def test_same_seed_gives_identical_tables(funnel: SyntheticFunnel) -> None:
    again = generate_funnel(N, seed=SEED)
    for name in ("accounts", "leads", "events"):
        assert getattr(again, name).equals(getattr(funnel, name)), name
    assert again.meta == funnel.meta


def test_different_seed_gives_different_tables(funnel: SyntheticFunnel) -> None:
    other = generate_funnel(N, seed=SEED + 1)
    assert not other.leads.equals(funnel.leads)
    assert not other.events.equals(funnel.events)


def test_tables_have_the_documented_columns_and_types(funnel: SyntheticFunnel) -> None:
    for name, schema in SCHEMAS.items():
        table = getattr(funnel, name)
        assert table.schema.equals(schema), f"{name}: {table.schema}"
        assert tuple(table.column_names) == COLUMNS[name]


def test_meta_describes_the_run(funnel: SyntheticFunnel) -> None:
    meta = funnel.meta
    assert funnel.as_of == AS_OF and funnel.as_of.tzinfo is None
    assert meta["as_of"] == "2026-06-30T00:00:00"
    assert (meta["seed"], meta["n_leads"], meta["horizon_days"]) == (SEED, N, 90)
    assert meta["n_accounts"] == funnel.accounts.num_rows == N // 8
    assert meta["n_events"] == funnel.events.num_rows
    assert 15 <= meta["n_events"] / N <= 25  # about 20 events per lead
    assert meta["personal_domains"] == list(PERSONAL_DOMAINS)
    assert meta["competitor_domains"] == list(COMPETITOR_DOMAINS)
    json.dumps(meta)


def test_ids_are_unique_and_dense(funnel: SyntheticFunnel) -> None:
    assert funnel.leads["lead_id"].to_pylist() == list(range(1, N + 1))
    assert funnel.accounts["account_id"].to_pylist() == list(range(1, funnel.accounts.num_rows + 1))
    event_ids = funnel.events["event_id"].to_numpy()
    assert len(np.unique(event_ids)) == len(event_ids)
    assert pc.count_distinct(funnel.accounts["domain"]).as_py() == funnel.accounts.num_rows


def test_every_reference_points_to_an_existing_row(funnel: SyntheticFunnel) -> None:
    lead_ids = set(funnel.leads["lead_id"].to_pylist())
    assert set(funnel.events["lead_id"].to_pylist()) <= lead_ids
    account_ids = set(funnel.accounts["account_id"].to_pylist())
    linked = [a for a in funnel.leads["account_id"].to_pylist() if a is not None]
    assert set(linked) <= account_ids
    assert 0.03 <= 1 - len(linked) / N <= 0.07  # about 5% of leads have no account


def test_funnel_stages_imply_each_other(leads: list[dict[str, Any]]) -> None:
    for r in leads:
        if r["won"]:
            assert r["opportunity"]
        if r["opportunity"]:
            assert r["sales_accepted"] is True
        assert r["converted"] == r["won"]
        assert (r["sales_accepted"] is None) == (r["mql_at"] is None)  # only MQLs reach sales
        assert (r["rejection_reason"] is not None) == (r["sales_accepted"] is False)
        assert (r["opportunity_at"] is not None) == r["opportunity"]
        assert (r["opportunity_amount"] is not None) == r["opportunity"]
        assert (r["converted_at"] is not None) == r["converted"]
    assert {r["rejection_reason"] for r in leads} <= {None, *REJECTION_REASONS}


def test_funnel_timestamps_are_ordered_and_within_the_horizon(funnel: SyntheticFunnel,
                                                              leads: list[dict[str, Any]]) -> None:
    start = datetime.fromisoformat(funnel.meta["events_start"])
    for r in leads:
        order = ("created_at", "mql_at", "opportunity_at", "converted_at")
        stamps = [r[c] for c in order if r[c] is not None]
        assert stamps == sorted(stamps)
        assert all(isinstance(s, datetime) and s < HORIZON for s in stamps)
        assert isinstance(r["created_at"], datetime) and start <= r["created_at"] < AS_OF
    converted_after = [r for r in leads if r["converted"] and r["converted_at"] >= AS_OF]
    assert converted_after, "some conversions fall in the 90 days after as_of"


def test_funnel_rates_are_plausible(leads: list[dict[str, Any]]) -> None:
    assert 0.10 <= _share(leads, lambda r: r["mql_at"] is not None) <= 0.40
    assert 0.03 <= _share(leads, lambda r: r["converted"]) <= 0.12
    reasons = {r["rejection_reason"] for r in leads}
    assert set(REJECTION_REASONS) <= reasons


def test_students_are_rejected_as_students(leads: list[dict[str, Any]]) -> None:
    students = [r for r in leads if r["seniority"] == "student" and r["sales_accepted"] is not None]
    rejected = [r for r in students if r["sales_accepted"] is False]
    assert len(rejected) / len(students) > 0.8
    assert _share(rejected, lambda r: r["rejection_reason"] == "student") > 0.7
    assert not any(r["converted"] for r in leads if _domain(str(r["email"])) in COMPETITOR_DOMAINS)


def test_email_kinds_occur_in_realistic_shares(leads: list[dict[str, Any]]) -> None:
    domains = [_domain(str(r["email"])) for r in leads]
    personal = sum(d in PERSONAL_DOMAINS for d in domains) / N
    competitor = sum(d in COMPETITOR_DOMAINS for d in domains) / N
    malformed = sum(d is None for d in domains) / N
    assert 0.09 <= personal <= 0.15
    assert 0.001 <= competitor <= 0.012
    assert 0.004 <= malformed <= 0.02
    emails = [str(r["email"]) for r in leads]
    assert any("@@" in e for e in emails) and any("@" not in e for e in emails)
    assert any(e.count("@") == 1 and "." not in e.split("@")[1] for e in emails)
    assert any(e != e.lower() for e in emails), "some addresses are capitalised"


def test_duplicates_reuse_an_earlier_address(leads: list[dict[str, Any]]) -> None:
    first_seen: dict[str, dict[str, object]] = {}
    duplicates = 0
    for r in leads:  # rows are in lead_id order, which is creation order
        key = str(r["email"]).lower()
        if key in first_seen:
            duplicates += 1
            original = first_seen[key]
            assert r["created_at"] > original["created_at"]
            assert (r["first_name"], r["last_name"]) == (original["first_name"], original["last_name"])
        else:
            first_seen[key] = r
    assert 0.005 <= duplicates / N <= 0.015


def test_student_titles_are_exactly_the_whole_word_matches(funnel: SyntheticFunnel) -> None:
    word = re.compile(r"\b(student|intern)\b", re.IGNORECASE)
    leads = funnel.leads
    titles = set(zip(leads["job_title"].to_pylist(), leads["seniority"].to_pylist(), strict=True))
    for title, seniority in titles:
        expected = seniority == "student" or title == "Student Success Manager"
        assert bool(word.search(title)) == expected, title
    present = {t for t, _ in titles}
    tricky = {"International Sales Director", "Internship Program Manager", "Internal Communications Manager"}
    assert tricky <= present


def test_accounts_fields_are_consistent(funnel: SyntheticFunnel) -> None:
    for a in funnel.accounts.to_pylist():
        assert (a["target_tier"] is not None) == a["is_target_account"]
        assert a["target_tier"] in (None, "tier_1", "tier_2", "tier_3")
        assert 0 <= a["intent_score"] <= 100
        assert (a["intent_topic"] is None) == (a["intent_score"] == 0)
        assert a["tech_stack"] and all(re.fullmatch(r"[a-z_]+", t) for t in a["tech_stack"].split(";"))
        assert a["employees"] >= 1 and a["annual_revenue"] > 0


def test_events_run_past_as_of_but_stop_before_the_horizon(funnel: SyntheticFunnel) -> None:
    ts = funnel.events["ts"]
    assert pc.min(ts).as_py() >= datetime.fromisoformat(funnel.meta["events_start"])
    assert pc.max(ts).as_py() < HORIZON
    after = pc.sum(pc.greater_equal(ts, pa.scalar(AS_OF, pa.timestamp("us")))).as_py()
    assert 0.01 < after / funnel.events.num_rows < 0.25
    leads, events = funnel.leads, funnel.events
    created = dict(zip(leads["lead_id"].to_pylist(), leads["created_at"].to_pylist(), strict=True))
    pairs = zip(events["lead_id"].to_pylist(), ts.to_pylist(), strict=True)
    assert all(t >= created[lead] for lead, t in pairs)


def test_event_columns_are_filled_where_they_make_sense(funnel: SyntheticFunnel) -> None:
    assert set(funnel.events["type"].to_pylist()) == set(EVENT_TYPES)
    for e in funnel.events.slice(0, 20_000).to_pylist():
        kind = e["type"]
        assert (e["url"] is not None) == (kind in (*WEB_TYPES, "email_click", "webinar_registered")), e
        assert (e["asset"] is not None) == (kind in ("content_download", "webinar_registered",
                                                      "webinar_attended")), e
        if kind in ("email_bounce", "unsubscribe"):
            assert e["topic"] is None
        if kind == "blog_visit":
            assert e["url"].startswith("/blog/") and e["topic"] is not None
        if kind == "case_study_view":
            assert e["url"].startswith("/case-studies/")


def test_converters_show_more_high_intent_events(funnel: SyntheticFunnel) -> None:
    per_lead = _events_per_lead(funnel, HIGH_INTENT)
    converted = funnel.leads["converted"].to_numpy(zero_copy_only=False)
    assert per_lead[converted].mean() > 2 * per_lead[~converted].mean()
    hand_raises = _events_per_lead(funnel, ("demo_request", "contact_form", "free_trial_signup"))
    assert (hand_raises[converted] > 0).all(), "every buyer raised a hand before buying"


def test_signals_lead_conversion_by_type_specific_gaps(funnel: SyntheticFunnel) -> None:
    converted_at = dict(zip(funnel.leads["lead_id"].to_pylist(), funnel.leads["converted_at"].to_pylist(),
                            strict=True))
    gaps: dict[str, list[float]] = {"blog_visit": [], "pricing_page_view": [], "demo_request": []}
    for e in funnel.events.filter(pc.is_in(funnel.events["type"], pa.array(list(gaps)))).to_pylist():
        won = converted_at[e["lead_id"]]
        if won is not None and e["ts"] <= won:
            gaps[e["type"]].append((won - e["ts"]).total_seconds() / 86_400)
    blog, pricing, demo = (float(np.median(gaps[t])) for t in gaps)
    assert 28 <= blog <= 42 and 15 <= pricing <= 27 and 3 <= demo <= 11


def test_bounces_follow_malformed_emails_and_unsubscribes_low_propensity(funnel: SyntheticFunnel) -> None:
    emails = funnel.leads["email"].to_pylist()
    malformed = np.array([_domain(e) is None for e in emails])
    bounced = _events_per_lead(funnel, ("email_bounce",)) > 0
    assert bounced[malformed].mean() > 5 * bounced[~malformed].mean()
    unsubscribed = _events_per_lead(funnel, ("unsubscribe",)) > 0
    converted = funnel.leads["converted"].to_numpy(zero_copy_only=False)
    assert unsubscribed[~converted].mean() > 2 * unsubscribed[converted].mean()


def test_channels_differ_in_quality_and_cost(leads: list[dict[str, Any]]) -> None:
    def rate(sources: tuple[str, ...]) -> float:
        return _share([r for r in leads if r["source"] in sources], lambda r: r["converted"])

    assert rate(("referral", "webinar")) > 1.5 * rate(("paid_social", "content_syndication"))
    cost = {s: float(np.mean([r["cost"] for r in leads if r["source"] == s])) for s in ("organic", "event")}
    assert cost["event"] > 5 * cost["organic"]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_write_round_trips(funnel: SyntheticFunnel, tmp_path: Path, fmt: str) -> None:
    funnel.write(tmp_path, fmt=fmt)  # type: ignore[arg-type]
    assert json.loads((tmp_path / "meta.json").read_text()) == funnel.meta
    for name, schema in SCHEMAS.items():
        path = tmp_path / f"{name}.{fmt}"
        if fmt == "parquet":
            back = pq.read_table(path)
        else:
            options = pa_csv.ConvertOptions(column_types=schema, strings_can_be_null=True)
            back = pa_csv.read_csv(path, convert_options=options)
        assert back.equals(getattr(funnel, name)), name


def test_write_rejects_unknown_format(funnel: SyntheticFunnel, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        funnel.write(tmp_path, fmt="xlsx")  # type: ignore[arg-type]


def test_as_of_moves_the_whole_timeline() -> None:
    as_of = datetime(2025, 3, 31, 12, tzinfo=timezone(timedelta(hours=2)))
    small = generate_funnel(500, seed=3, as_of=as_of)
    assert small.as_of == datetime(2025, 3, 31, 10)
    assert small.meta["as_of"] == "2025-03-31T10:00:00"
    assert small.meta["events_start"] == "2023-09-30T10:00:00"
    assert pc.max(small.leads["created_at"]).as_py() < small.as_of
    assert pc.max(small.events["ts"]).as_py() < small.as_of + timedelta(days=90)
    assert generate_funnel(500, seed=3, as_of=datetime(2025, 3, 31, 10, tzinfo=UTC)).leads.equals(small.leads)


def test_progress_reports_rising_fractions_up_to_one() -> None:
    calls: list[tuple[str, float]] = []
    generate_funnel(300, seed=1, progress=lambda step, done: calls.append((step, done)))
    fractions = [done for _, done in calls]
    assert 3 <= len(calls) <= 20
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(isinstance(step, str) and step for step, _ in calls)


def test_tiny_funnels_work() -> None:
    one = generate_funnel(1, seed=0)
    assert (one.leads.num_rows, one.accounts.num_rows) == (1, 1)
    assert one.events.schema.equals(SCHEMAS["events"])


@pytest.mark.parametrize(("n_leads", "seed"), [(0, 0), (-5, 0), (10, -1)])
def test_invalid_arguments_are_rejected(n_leads: int, seed: int) -> None:
    with pytest.raises(ValueError):
        generate_funnel(n_leads, seed=seed)

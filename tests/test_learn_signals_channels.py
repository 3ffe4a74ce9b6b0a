"""``leadscore signals`` (how far each signal is from conversion) and ``leadscore channels`` (channel quality)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

import leadscore
from conftest import CliRun, run_leadscore_process
from learn_support import BUNDLED_MODEL, shared_funnel, write_tiny, write_tiny_model

Cli = Callable[..., CliRun]


@pytest.fixture(scope="module")
def funnel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_funnel(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def signals(funnel: Path) -> dict[str, Any]:
    """``leadscore signals --json`` in a fresh process, as a user's shell runs it."""
    done = run_leadscore_process("signals", "--model", BUNDLED_MODEL, "--data", funnel, "--outcome", "converted",
                                 "--json")
    assert done.returncode == 0, done.stderr
    payload: dict[str, Any] = json.loads(done.stdout)
    return payload


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in rows}


def test_demo_request_is_closer_to_conversion_than_blog_visit(signals: dict[str, Any]) -> None:
    events = by_name(signals["events"])
    assert events["demo_request"]["median_days_to_conversion"] < events["pricing_page_view"][
        "median_days_to_conversion"] < events["blog_visit"]["median_days_to_conversion"]
    assert events["contact_form"]["median_days_to_conversion"] < events["blog_visit"]["median_days_to_conversion"]
    ordered = [row["median_days_to_conversion"] for row in signals["events"]]
    assert ordered == sorted(ordered)  # closest to conversion first
    assert events["demo_request"]["lift"] > 2 > events["email_open"]["lift"]
    assert {r["rule"] for r in events["demo_request"]["model_rules"]} == {"demo_request"}


def test_event_counts_match_a_direct_query(funnel: Path, signals: dict[str, Any]) -> None:
    """Converters showing demo_request: a demo request strictly before their conversion."""
    leads, events = str(funnel / "leads.parquet"), str(funnel / "events.parquet")
    converters, others, median = duckdb.execute(
        "WITH last AS (SELECT l.lead_id, l.converted, l.converted_at, max(e.ts) AS ts FROM read_parquet(?) l "
        "JOIN read_parquet(?) e USING (lead_id) WHERE e.type = 'demo_request' AND (NOT l.converted OR "
        "e.ts < l.converted_at) GROUP BY ALL) SELECT count(*) FILTER (converted), count(*) FILTER (NOT converted), "
        "median(epoch(converted_at - ts) / 86400) FILTER (converted) FROM last", [leads, events]).fetchall()[0]
    demo = by_name(signals["events"])["demo_request"]
    assert (demo["converters_showing"], demo["non_converters_showing"]) == (converters, others)
    assert demo["median_days_to_conversion"] == pytest.approx(median, abs=0.01)
    total, hits = duckdb.execute("SELECT count(*), count(*) FILTER (converted) FROM read_parquet(?)",
                                 [leads]).fetchall()[0]
    assert (signals["leads"], signals["converters"]) == (total, hits)
    assert demo["lift"] == pytest.approx(converters / (converters + others) / (hits / total))


def test_profile_rules_show_when_their_points_are_non_zero(signals: dict[str, Any]) -> None:
    rules = by_name(signals["rules"])
    assert rules["student_or_intern"]["lift"] < 0.5 < 1.2 < rules["senior_title"]["lift"]
    assert "demo_request" not in rules  # event rules are reported per event type, not here
    assert signals["rules"][0]["lift"] >= signals["rules"][-1]["lift"]


def test_channels_match_the_leads_table(funnel: Path, leadscore_cli: Cli) -> None:
    result = leadscore_cli("channels", "--model", BUNDLED_MODEL, "--data", funnel, "--by", "source", "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    expected = {row[0]: row[1:] for row in duckdb.execute(
        "SELECT source, count(*), sum(cost), count(*) FILTER (opportunity), "
        "coalesce(sum(opportunity_amount) FILTER (won), 0), count(*) FILTER (sales_accepted), "
        "count(*) FILTER (NOT sales_accepted), count(mql_at) FROM read_parquet(?) GROUP BY 1",
        [str(funnel / "leads.parquet")]).fetchall()}
    assert {row["channel"] for row in report["channels"]} == set(expected)
    for row in report["channels"]:
        leads, cost, opportunities, revenue, accepted, rejected, mqls = expected[row["channel"]]
        assert (row["leads"], row["opportunities"], row["mqls"]) == (leads, opportunities, mqls)
        assert row["cost"] == pytest.approx(cost, abs=0.01) and row["revenue"] == pytest.approx(revenue, abs=0.01)
        assert row["cost_per_lead"] == pytest.approx(cost / leads)
        assert row["cost_per_opportunity"] == pytest.approx(cost / opportunities)
        assert row["acceptance_rate"] == pytest.approx(accepted / (accepted + rejected))
        assert sum(row["stage_share"].values()) == pytest.approx(1.0)
    assert report["total"]["leads"] == sum(v[0] for v in expected.values())
    assert report["skipped"] == {}


def test_channels_skip_figures_whose_columns_are_missing(tmp_path: Path) -> None:
    data = write_tiny(tmp_path / "data")
    report = leadscore.channels(write_tiny_model(tmp_path), data, by="source")
    assert set(report.skipped) >= {"cost", "acceptance_rate", "opportunities", "won", "revenue"}
    assert "no column 'cost'" in report.skipped["cost"]
    web = next(row for row in report.channels if row.channel == "web")
    assert (web.leads, web.cost, web.mqls, web.conversions) == (6, None, 1, 3)
    with pytest.raises(leadscore.DataError, match="no column 'campaign'"):
        leadscore.channels(write_tiny_model(tmp_path), data, by="campaign")


def test_signals_on_a_tiny_data_set_by_hand(tmp_path: Path) -> None:
    """Converted (ever): leads 1, 3, 6, 7, 8 of 10. Demo requests: lead 1 on 2026-02-20, 18 days before
    its conversion on 2026-03-10, and lead 4 (never converts). The size rule gives points to big and
    mid leads: 1, 2, 3, 4, 7, 8, 9, of which 1, 3, 7, 8 converted."""
    data = write_tiny(tmp_path / "data")
    report = leadscore.signals(write_tiny_model(tmp_path), data, min_conversions=2)
    assert (report.leads, report.converters, report.base_rate) == (10, 5, 0.5)
    (demo,) = report.events
    assert (demo.name, demo.converters_showing, demo.non_converters_showing) == ("demo_request", 1, 1)
    assert (demo.converter_share, demo.non_converter_share, demo.lift) == (0.2, 0.2, 1.0)
    assert demo.median_days_to_conversion == 18.0
    (size,) = report.rules
    assert (size.name, size.converters_showing, size.non_converters_showing) == ("size", 4, 3)
    assert size.lift == pytest.approx(8 / 7)

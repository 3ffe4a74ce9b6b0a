"""``leadscore report``: one self-contained HTML file of the charts a RevOps lead looks at."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from conftest import CliRun
from leadscore.learn.metrics import roc_auc
from leadscore.learn.report import platt_out_of_fold
from tune_support import BUNDLED_MODEL, REPORT_AS_OF, expected_marks, funnel_folder, report_run

Cli = Callable[..., CliRun]


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return report_run(tmp_path_factory)


def test_every_chart_is_drawn_with_one_mark_per_figure(reported: dict[str, Any]) -> None:
    charts = reported["json"]["charts"]
    assert list(charts) == ["distribution", "bands", "stages", "lift", "calibration", "thresholds", "channels",
                            "signals"]
    assert charts == expected_marks(reported["json"]["figures"])
    html = reported["html"].read_text(encoding="utf-8")
    for chart, marks in charts.items():
        svg = re.search(rf'<svg id="chart-{chart}".*?</svg>', html, re.S)
        assert svg is not None, chart
        assert len(re.findall(r'class="mark"', svg.group(0))) == marks, chart


def test_the_page_is_self_contained(reported: dict[str, Any]) -> None:
    html = reported["html"].read_text(encoding="utf-8")
    assert "<script" not in html and "<link" not in html and "<img" not in html and "url(" not in html
    assert "default-src 'none'" in html  # the page itself forbids any request
    assert set(re.findall(r"https?://[^\"' )]+", html)) == {"http://www.w3.org/2000/svg"}  # a namespace name


def test_headline_figures_match_the_outcomes(reported: dict[str, Any]) -> None:
    funnel = Path(reported["json"]["figures"]["data"])
    leads, converted = duckdb.execute(
        f"SELECT count(*), count(*) FILTER (converted_at > DATE '{REPORT_AS_OF}' AND converted_at <= "
        f"DATE '{REPORT_AS_OF}' + INTERVAL 90 DAY) FROM '{funnel}/leads.parquet' WHERE created_at < "
        f"DATE '{REPORT_AS_OF}' AND coalesce(converted_at > DATE '{REPORT_AS_OF}', TRUE)").fetchall()[0]
    summary = reported["json"]
    assert (summary["leads"], summary["conversions"]) == (leads, converted)
    assert 0.6 < summary["roc_auc"] < 1.0
    bands = summary["figures"]["bands"]["bands"]
    assert sum(b["leads"] for b in bands) == leads and sum(b["conversions"] for b in bands) == converted


def test_channel_quality_has_cost_and_opportunities_per_source(reported: dict[str, Any]) -> None:
    channels = reported["json"]["figures"]["channels"]
    assert {c["channel"] for c in channels} >= {"organic", "referral", "webinar"}
    for channel in channels:
        assert {"cost", "cost_per_conversion", "opportunities", "pipeline", "mean_score"} <= set(channel)
    assert sum(c["leads"] for c in channels) == reported["json"]["leads"]


def test_signal_to_conversion_times_are_medians_before_conversion(reported: dict[str, Any]) -> None:
    signals = reported["json"]["figures"]["signals"]
    assert signals and all(0 <= s["p25_days"] <= s["median_days"] <= s["p75_days"] for s in signals)
    funnel = Path(reported["json"]["figures"]["data"])
    demo = next(s for s in signals if s["event_type"] == "demo_request")
    expected = duckdb.execute(
        f"SELECT median(date_diff('second', last_ts, converted_at) / 86400.0), count(*) FROM ("
        f"SELECT l.lead_id, any_value(l.converted_at) AS converted_at, max(e.ts) AS last_ts "
        f"FROM '{funnel}/leads.parquet' l JOIN '{funnel}/events.parquet' e ON e.lead_id = l.lead_id "
        f"AND e.type = 'demo_request' AND e.ts <= l.converted_at WHERE l.created_at < DATE '{REPORT_AS_OF}' "
        f"AND l.converted_at > DATE '{REPORT_AS_OF}' AND l.converted_at <= DATE '{REPORT_AS_OF}' + INTERVAL 90 DAY "
        "GROUP BY 1)").fetchall()[0]
    assert (demo["median_days"], demo["converted_leads"]) == (pytest.approx(expected[0]), expected[1])


def test_calibration_map_is_fitted_out_of_fold_and_keeps_the_ranking() -> None:
    rng = np.random.default_rng(0)
    score = rng.normal(size=4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(2 * score - 2)))).astype(np.int64)
    p = platt_out_of_fold(y, score)
    assert roc_auc(y, p) == pytest.approx(roc_auc(y, score), abs=0.01)
    assert abs(p.mean() - y.mean()) < 0.01


def test_json_is_the_result_and_errors_are_one_paragraph(tmp_path: Path, leadscore_cli: Cli,
                                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    result = leadscore_cli("report", "--model", BUNDLED_MODEL, "--data", funnel_folder(tmp_path_factory),
                           "--outcome", "won_at", "--as-of", REPORT_AS_OF, "--out", tmp_path / "r.html", "--json")
    assert result.code == 2
    error = json.loads(result.stdout)
    assert error["type"] == "DataError" and "did you mean" in error["issues"][0]["hint"]
    assert not (tmp_path / "r.html").exists()

"""``leadscore thresholds``: stage lines from history for an SDR capacity or a precision/recall target."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

import leadscore
from conftest import CliRun
from leadscore.learn.thresholds import ThresholdReport, parse_capacity
from learn_support import AS_OF, BUNDLED_MODEL, shared_funnel

Cli = Callable[..., CliRun]
T = datetime(2026, 3, 31)


@pytest.fixture(scope="module")
def funnel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_funnel(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def scores(funnel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled model's scores as of T, written by ``leadscore.score`` (an independent check)."""
    out = tmp_path_factory.mktemp("scores")
    leadscore.score(BUNDLED_MODEL, funnel, out=out, as_of=T)
    return out / "lead_scores.parquet"


def recent_load(funnel: Path, scores: Path, threshold: float) -> float:
    """Leads created in the 13 weeks before T, not converted by T, scoring >= threshold at T, per week."""
    start = T - timedelta(weeks=13)
    row = duckdb.execute(
        "SELECT count(*) FROM read_parquet(?) s JOIN read_parquet(?) l USING (lead_id) WHERE l.created_at >= ? "
        "AND l.created_at < ? AND NOT (l.converted AND l.converted_at <= ?) AND s.total >= ?",
        [str(scores), str(funnel / "leads.parquet"), start, T, T, threshold]).fetchall()
    return float(row[0][0]) / 13


def test_capacity_is_honoured_with_the_lowest_line_that_fits(funnel: Path, scores: Path, tmp_path: Path,
                                                             leadscore_cli: Cli) -> None:
    new_model = tmp_path / "model-v2.yaml"
    result = leadscore_cli("thresholds", "--model", BUNDLED_MODEL, "--data", funnel, "--outcome", "converted",
                           "--as-of", AS_OF, "--horizon", "90d", "--capacity", "20/week", "--write", new_model,
                           "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["stage"] == "mql" and report["capacity_per_week"] == 20.0
    line = report["recommended_min_score"]
    chosen = report["choices"][0]
    assert chosen["criterion"] == "capacity 20/week" and chosen["threshold"] == line
    assert chosen["leads_per_week"] == pytest.approx(recent_load(funnel, scores, line))
    assert recent_load(funnel, scores, line) <= 20 < recent_load(funnel, scores, line - 1)
    created = duckdb.execute("SELECT count(*) FROM read_parquet(?) WHERE created_at >= ? AND created_at < ?",
                             [str(funnel / "leads.parquet"), T - timedelta(weeks=13), T]).fetchall()[0][0]
    assert report["weekly_inflow"] == pytest.approx(created / 13)
    assert chosen["expected_conversions_per_week"] == pytest.approx(chosen["leads_per_week"] * chosen["precision"])
    tradeoff = {row["threshold"]: row for row in report["tradeoffs"]}
    assert tradeoff[line]["leads_above"] == chosen["leads_above"]


def test_written_model_changes_only_the_stage_line(funnel: Path, tmp_path: Path, leadscore_cli: Cli) -> None:
    new_model = tmp_path / "model-v2.yaml"
    result = leadscore_cli("thresholds", "--model", BUNDLED_MODEL, "--data", funnel, "--as-of", AS_OF,
                           "--target-precision", "0.05", "--stage", "engaged", "--write", new_model)
    assert result.code == 0, result.stderr
    assert "Recommended engaged min_score" in result.stdout
    old_lines = BUNDLED_MODEL.read_text(encoding="utf-8").splitlines()
    new_lines = new_model.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
    assert len(changed) == 1 and "name: engaged" in changed[0][1]  # comments and layout kept
    stages = {s.name: s.min_score for s in leadscore.load_model(new_model).spec.stages}
    original = {s.name: s.min_score for s in leadscore.load_model(BUNDLED_MODEL).spec.stages}
    assert {k: v for k, v in stages.items() if k != "engaged"} == {k: v for k, v in original.items()
                                                                   if k != "engaged"}
    assert stages["engaged"] != original["engaged"]


def test_precision_and_recall_targets(funnel: Path) -> None:
    report: ThresholdReport = leadscore.recommend_thresholds(
        BUNDLED_MODEL, funnel, as_of=AS_OF, target_precision=0.05, target_recall=0.6)
    precision, recall, current = report.choices
    assert precision.precision is not None and precision.precision >= 0.05
    assert recall.recall >= 0.6
    assert current.criterion == "current mql min_score" and current.threshold == 60.0
    assert report.recommended_min_score == precision.threshold  # a precision floor wins over a recall ceiling
    assert report.written is None


@pytest.mark.parametrize(("text", "per_week"), [("400/week", 400.0), ("80/day", 400.0), ("400", 400.0),
                                                ("1600/month", 1600 * 12 / 52), (250.0, 250.0)])
def test_capacity_forms(text: str | float, per_week: float) -> None:
    assert parse_capacity(text) == pytest.approx(per_week)


@pytest.mark.parametrize("text", ["lots", "400/fortnight", "0/week", "-5"])
def test_unreadable_capacity_is_a_data_error(text: str) -> None:
    with pytest.raises(leadscore.DataError, match="capacity"):
        parse_capacity(text)

"""Explanations add up: for every lead, the explanation items sum to its total (within 1e-9)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from conftest import REFERENCE_MODEL, run_leadscore_process
from leadscore import api


def reason_gaps(out: Path) -> tuple[int, int, float]:
    """(leads scored, leads explained, largest |sum of explanation items - total|) of an output folder."""
    reasons = f"read_parquet('{out}/lead_reasons.parquet')"
    items = [row[0] for row in duckdb.execute(f"DESCRIBE SELECT * FROM {reasons}").fetchall()
             if row[0] != "lead_id"]
    assert items, "lead_reasons holds one column per explanation item"
    summed = " + ".join('coalesce(r."' + name.replace('"', '""') + '", 0)' for name in items)
    row = duckdb.execute(
        f"SELECT (SELECT count(*) FROM read_parquet('{out}/lead_scores.parquet')), count(*), "
        f"max(abs(({summed}) - s.total)) FROM {reasons} r "
        f"JOIN read_parquet('{out}/lead_scores.parquet') s USING (lead_id)").fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), float(row[2])


@pytest.fixture(scope="module")
def reference_scores(bench_data_2000: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference_scores")
    api.score(REFERENCE_MODEL, bench_data_2000, out=out)
    return out


def test_reasons_add_up_to_total_for_every_lead_of_the_reference_model(reference_scores: Path) -> None:
    scored, explained, worst = reason_gaps(reference_scores)
    assert scored == explained == 2000
    assert worst < 1e-9


def test_explain_adds_up_to_its_total_and_agrees_with_the_batch_score(bench_data_2000: Path,
                                                                      reference_scores: Path) -> None:
    model = api.load_model(REFERENCE_MODEL)
    leads = duckdb.execute(
        f"SELECT lead_id, total, stage FROM read_parquet('{reference_scores}/lead_scores.parquet') "
        "ORDER BY total DESC, lead_id LIMIT 3").fetchall()
    leads += duckdb.execute(
        f"SELECT lead_id, total, stage FROM read_parquet('{reference_scores}/lead_scores.parquet') "
        "WHERE lead_id IN (7, 1000, 1999) ORDER BY lead_id").fetchall()
    assert len(leads) == 6
    for lead_id, total, stage in leads:
        explanation = api.explain(model, bench_data_2000, lead_id)
        assert abs(sum(r["points"] for r in explanation.reasons) - explanation.total) < 1e-9, lead_id
        assert abs(explanation.total - total) < 1e-9, lead_id
        assert explanation.stage == stage, lead_id


def test_reasons_add_up_for_every_demo_lead(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    done = run_leadscore_process("demo", "--leads", "3000", "--out", out, "--json")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    summary = json.loads(done.stdout)
    assert summary["score"]["leads"] == 3000
    scored, explained, worst = reason_gaps(out / "scores")
    assert scored == explained == 3000
    assert worst < 1e-9

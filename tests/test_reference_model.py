"""The reference model of ../shared/bench scored by leadscore equals the hand-tuned DuckDB scorer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from leadscore import api

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
MODEL = ROOT / "benchmarks" / "reference.yaml"


@pytest.fixture(scope="module")
def bench_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "data"
    subprocess.run([sys.executable, str(BENCH / "gen.py"), "--leads", "3000", "--seed", "5", "--out", str(out)],
                   check=True, capture_output=True)
    return out


def test_reference_model_matches_hand_tuned_duckdb(bench_data: Path, tmp_path: Path) -> None:
    ours, ref = tmp_path / "ours", tmp_path / "ref"
    api.score(api.load_model(MODEL), bench_data, out=ours)
    subprocess.run([sys.executable, str(BENCH / "ref_duckdb.py"), str(bench_data), str(ref)], check=True)
    compared = subprocess.run([sys.executable, str(BENCH / "compare.py"), str(ref), str(ours)],
                              capture_output=True, text=True)
    assert compared.returncode == 0, compared.stdout


def test_reasons_add_up_to_total_for_every_lead(bench_data: Path, tmp_path: Path) -> None:
    api.score(api.load_model(MODEL), bench_data, out=tmp_path)
    con = duckdb.connect()
    reasons = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{tmp_path}/lead_reasons.parquet')").fetchall()
    items = " + ".join(f'r."{row[0]}"' for row in reasons if row[0] != "lead_id")
    worst = con.execute(
        f"SELECT max(abs(({items}) - s.total)), count(*) FROM read_parquet('{tmp_path}/lead_reasons.parquet') r "
        f"JOIN read_parquet('{tmp_path}/lead_scores.parquet') s USING (lead_id)").fetchone()
    assert worst is not None
    assert worst[1] == 3000
    assert worst[0] < 1e-9


def test_events_after_as_of_do_not_change_scores(bench_data: Path, tmp_path: Path) -> None:
    model = api.load_model(MODEL)
    first = api.score(model, bench_data, out=tmp_path / "a")
    con = duckdb.connect()
    moved = tmp_path / "moved"
    moved.mkdir()
    for name in ("leads", "accounts"):
        (moved / f"{name}.parquet").write_bytes((bench_data / f"{name}.parquet").read_bytes())
    con.execute(f"COPY (SELECT * FROM read_parquet('{bench_data}/events.parquet') UNION ALL "
                f"(SELECT event_id + 100000000, lead_id, TIMESTAMP '2026-07-15', 'demo_request' "
                f"FROM read_parquet('{bench_data}/events.parquet') LIMIT 500)) TO '{moved}/events.parquet'")
    second = api.score(model, moved, out=tmp_path / "b", as_of=first.as_of)
    same = con.execute(f"SELECT count(*) FROM read_parquet('{tmp_path}/a/lead_scores.parquet') a "
                       f"JOIN read_parquet('{tmp_path}/b/lead_scores.parquet') b USING (lead_id) "
                       "WHERE abs(a.total - b.total) < 1e-9 AND a.stage = b.stage").fetchone()
    assert same == (3000,)
    assert second.stage_counts == first.stage_counts

"""``score --out``: current tables replaced, history appended per run, a failed run changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from conftest import TINY_MODEL, CliRun
from leadscore import api

Cli = Callable[..., CliRun]
AS_OF = datetime(2026, 6, 30)
# The same model with demo_request worth 10 instead of 40: lead 1 (hot at 57) drops to cold (27).
CHEAPER_DEMO_MODEL = TINY_MODEL.replace("demo_request: 40", "demo_request: 10")


@pytest.fixture
def models(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "model.yaml", tmp_path / "model_v2.yaml"
    first.write_text(TINY_MODEL, encoding="utf-8")
    second.write_text(CHEAPER_DEMO_MODEL, encoding="utf-8")
    return first, second


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def query(sql: str) -> list[tuple[object, ...]]:
    return duckdb.execute(sql).fetchall()


def test_score_out_writes_current_tables_history_and_a_runs_line(tmp_path: Path, models: tuple[Path, Path],
                                                                 tiny_data: Path, leadscore_cli: Cli) -> None:
    out = tmp_path / "scores"
    result = leadscore_cli("score", "--model", models[0], "--data", tiny_data, "--out", out, "--as-of",
                           "2026-06-30", "--json")
    assert result.code == 0, result.stderr
    summary = json.loads(result.stdout)
    run_id = summary["run_id"]
    for name in ("lead_scores", "account_scores", "quarantine"):
        assert (out / f"{name}.parquet").is_file()
    assert sorted(p.name for p in (out / "score_history").iterdir()) == [f"run-{run_id}.parquet"]
    assert sorted(p.name for p in (out / "stage_transitions").iterdir()) == [f"run-{run_id}.parquet"]
    assert query(f"SELECT count(*) FROM read_parquet('{out}/lead_scores.parquet')") == [(4,)]
    assert query(f"SELECT count(*), min(run_id), min(model_version) FROM "
                 f"read_parquet('{out}/score_history/*.parquet')") == [(4, run_id, api.load_model(
                     models[0]).version_hash)]
    [line] = (out / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["run_id"] == run_id
    assert record["model_version"] == summary["model_version"] == api.load_model(models[0]).version_hash
    assert record["as_of"] == "2026-06-30T00:00:00"


def test_first_run_records_every_lead_entering_its_stage(tmp_path: Path, models: tuple[Path, Path],
                                                         tiny_data: Path) -> None:
    out = tmp_path / "scores"
    result = api.score(models[0], tiny_data, out=out, as_of=AS_OF)
    assert result.stage_changes == 4
    assert query(f"SELECT lead_id, from_stage, to_stage FROM read_parquet('{out}/stage_transitions/*.parquet') "
                 "ORDER BY lead_id") == [(1, None, "hot"), (2, None, "cold"), (3, None, "cold"), (4, None, "hot")]


def test_second_run_with_a_changed_model_appends_history_and_transitions_relative_to_the_first(
        tmp_path: Path, models: tuple[Path, Path], tiny_data: Path) -> None:
    out = tmp_path / "scores"
    first = api.score(models[0], tiny_data, out=out, as_of=AS_OF)
    second = api.score(models[1], tiny_data, out=out, as_of=AS_OF)
    assert first.model_version != second.model_version
    assert len(list((out / "score_history").iterdir())) == 2
    assert second.stage_changes == 2
    rows = query(f"SELECT lead_id, from_stage, to_stage, model_version FROM "
                 f"read_parquet('{out}/stage_transitions/run-{second.run_id}.parquet') ORDER BY lead_id")
    # lead 1: 10 + 5 + 2 + 10 = 27; lead 4: 10 + 10 = 20 - both fall below hot's 40.
    assert rows == [(1, "hot", "cold", second.model_version), (4, "hot", "cold", second.model_version)]
    runs = [json.loads(line) for line in (out / "runs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["run_id"], r["model_version"]) for r in runs] == [(first.run_id, first.model_version),
                                                                (second.run_id, second.model_version)]
    assert query(f"SELECT count(DISTINCT run_id), count(*) FROM read_parquet('{out}/score_history/*.parquet')"
                 ) == [(2, 8)]


def test_unchanged_rerun_records_no_stage_transitions(tmp_path: Path, models: tuple[Path, Path],
                                                      tiny_data: Path) -> None:
    out = tmp_path / "scores"
    api.score(models[0], tiny_data, out=out, as_of=AS_OF)
    again = api.score(models[0], tiny_data, out=out, as_of=AS_OF)
    assert again.stage_changes == 0
    assert query(f"SELECT count(*) FROM read_parquet('{out}/stage_transitions/run-{again.run_id}.parquet')"
                 ) == [(0,)]


def test_format_csv_writes_csv_tables_and_history(tmp_path: Path, models: tuple[Path, Path], tiny_data: Path,
                                                  leadscore_cli: Cli) -> None:
    out = tmp_path / "scores"
    for model in models:
        result = leadscore_cli("score", "--model", model, "--data", tiny_data, "--out", out, "--format", "csv",
                               "--as-of", "2026-06-30")
        assert result.code == 0, result.stderr
    assert not list(out.rglob("*.parquet"))
    assert query(f"SELECT lead_id, total, stage FROM read_csv('{out}/lead_scores.csv') ORDER BY lead_id") == [
        (1, 27.0, "cold"), (2, 8.0, "cold"), (3, 1.0, "cold"), (4, 20.0, "cold")]
    assert len(list((out / "score_history").glob("run-*.csv"))) == 2
    assert query(f"SELECT lead_id, from_stage, to_stage FROM read_csv('{out}/stage_transitions/*.csv') "
                 "WHERE from_stage IS NOT NULL ORDER BY lead_id") == [(1, "hot", "cold"), (4, "hot", "cold")]
    assert (out / "quarantine.csv").is_file()
    assert (out / "account_scores.csv").is_file()


def test_out_duckdb_writes_tables_and_appends_history_on_the_second_run(
        tmp_path: Path, models: tuple[Path, Path], tiny_data: Path) -> None:
    database = tmp_path / "scores.duckdb"
    first = api.score(models[0], tiny_data, out=database, as_of=AS_OF)
    second = api.score(models[1], tiny_data, out=database, as_of=AS_OF)
    with duckdb.connect(str(database), read_only=True) as con:
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
        assert {"lead_scores", "account_scores", "quarantine", "score_history", "stage_transitions",
                "runs"} <= tables
        assert con.execute("SELECT run_id, model_version FROM runs ORDER BY written_at").fetchall() == [
            (first.run_id, first.model_version), (second.run_id, second.model_version)]
        assert con.execute("SELECT run_id, count(*) FROM score_history GROUP BY 1 ORDER BY 1").fetchall() == \
            sorted([(first.run_id, 4), (second.run_id, 4)])
        assert con.execute("SELECT lead_id, from_stage, to_stage FROM stage_transitions WHERE run_id = ? "
                           "ORDER BY lead_id", [second.run_id]).fetchall() == [(1, "hot", "cold"),
                                                                               (4, "hot", "cold")]
        assert con.execute("SELECT lead_id, total FROM lead_scores ORDER BY lead_id").fetchall() == [
            (1, 27.0), (2, 8.0), (3, 1.0), (4, 20.0)]


def test_failing_run_with_a_bad_model_leaves_outputs_and_history_byte_identical(
        tmp_path: Path, models: tuple[Path, Path], tiny_data: Path, leadscore_cli: Cli) -> None:
    out = tmp_path / "scores"
    api.score(models[0], tiny_data, out=out, as_of=AS_OF)
    before = files_under(out)
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY_MODEL.replace("points: 10}", "points: 10, when_: x}"), encoding="utf-8")
    result = leadscore_cli("score", "--model", bad, "--data", tiny_data, "--out", out)
    assert result.code == 2
    assert files_under(out) == before


def test_failing_run_on_data_missing_a_column_leaves_outputs_and_history_byte_identical(
        tmp_path: Path, models: tuple[Path, Path], tiny_data: Path, leadscore_cli: Cli) -> None:
    out, database = tmp_path / "scores", tmp_path / "scores.duckdb"
    api.score(models[0], tiny_data, out=out, as_of=AS_OF)
    api.score(models[0], tiny_data, out=database, as_of=AS_OF)
    before, database_before = files_under(out), database.read_bytes()
    broken = tmp_path / "broken"
    broken.mkdir()
    duckdb.execute(f"COPY (SELECT * EXCLUDE (seniority) FROM read_parquet('{tiny_data}/leads.parquet')) "
                   f"TO '{broken}/leads.parquet'")
    for name in ("events", "accounts"):
        (broken / f"{name}.parquet").write_bytes((tiny_data / f"{name}.parquet").read_bytes())
    for target in (out, database):
        result = leadscore_cli("score", "--model", models[1], "--data", broken, "--out", target)
        assert result.code == 2
        assert "unknown column 'seniority'" in result.stderr
    assert files_under(out) == before
    assert database.read_bytes() == database_before


def test_run_that_cannot_write_its_history_leaves_outputs_byte_identical(
        tmp_path: Path, models: tuple[Path, Path], tiny_data: Path, leadscore_cli: Cli) -> None:
    out = tmp_path / "scores"
    api.score(models[0], tiny_data, out=out, as_of=AS_OF)
    (out / "stage_transitions").rename(tmp_path / "moved_away")
    (out / "stage_transitions").write_text("a file where the history folder belongs\n", encoding="utf-8")
    before = files_under(out)
    result = leadscore_cli("score", "--model", models[1], "--data", tiny_data, "--out", out)
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert "stage_transitions" in result.stderr
    assert files_under(out) == before


def test_out_file_that_is_not_a_duckdb_database_is_a_data_error_about_out(
        tmp_path: Path, models: tuple[Path, Path], tiny_data: Path, leadscore_cli: Cli) -> None:
    target = tmp_path / "scores.duckdb"
    target.write_text("not a database\n", encoding="utf-8")
    result = leadscore_cli("score", "--model", models[0], "--data", tiny_data, "--out", target)
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert f"writing {target} failed" in result.stderr
    assert "--out" in result.stderr
    assert target.read_text(encoding="utf-8") == "not a database\n"

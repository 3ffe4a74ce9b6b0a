"""``leadscore dbt export``: the dbt models build with dbt-duckdb and score as leadscore does."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from conftest import BUNDLED_MODEL, CliRun
from export_support import compare_rows, keyed
from leadscore.backends import duckdb_engine
from leadscore.spec.loader import load_model

AS_OF = datetime(2026, 6, 30)

PROJECT = """\
name: leadscore_demo
version: "1.0"
config-version: 2
profile: leadscore_demo
model-paths: ["models"]
"""

PROFILES = """\
leadscore_demo:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{path}"
      threads: 2
"""


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from leadscore.synth import generate_funnel

    folder = tmp_path_factory.mktemp("dbt_demo") / "data"
    generate_funnel(500, seed=5).write(folder)
    return folder


def _dbt(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    dbt = Path(sys.executable).with_name("dbt")
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
           "DBT_VERSION_CHECK": "false"}
    return subprocess.run([str(dbt), *args, "--project-dir", str(project), "--profiles-dir", str(project)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=project)


def test_dbt_build_of_the_exported_models_scores_as_leadscore(
        tmp_path: Path, demo_data: Path, leadscore_cli: Callable[..., CliRun]) -> None:
    project = tmp_path / "project"
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        for name in ("leads", "events", "accounts"):
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?)", [str(demo_data / f"{name}.parquet")])
    project.mkdir()
    (project / "dbt_project.yml").write_text(PROJECT, encoding="utf-8")
    (project / "profiles.yml").write_text(PROFILES.format(path=database), encoding="utf-8")
    run = leadscore_cli("dbt", "export", "--model", BUNDLED_MODEL, "--out", project / "models" / "leadscore",
                        "--source-schema", "main")
    assert run.code == 0, run.stderr

    built = _dbt(project, "build", "--vars", '{"leadscore_as_of": "2026-06-30 00:00:00"}')
    assert built.returncode == 0, built.stdout[-3000:]
    assert "PASS=" in built.stdout and "ERROR=0" in built.stdout
    assert "accepted_values_lead_scores_stage" in built.stdout and "unique_lead_scores_lead_id" in built.stdout

    session = duckdb_engine.run_scoring(load_model(BUNDLED_MODEL), demo_data, as_of=AS_OF)
    try:
        expected_leads = session.con.sql("SELECT * FROM lead_scores").to_arrow_table().to_pylist()
        expected_accounts = session.con.sql("SELECT * FROM account_scores").to_arrow_table().to_pylist()
    finally:
        session.close()
    with duckdb.connect(str(database), read_only=True) as con:
        leads = con.sql("SELECT * FROM main.lead_scores").to_arrow_table().to_pylist()
        accounts = con.sql("SELECT * FROM main.account_scores").to_arrow_table().to_pylist()
    assert compare_rows(keyed(expected_leads, "lead_id"), keyed(leads, "lead_id"), list(expected_leads[0])) == []
    assert compare_rows(keyed(expected_accounts, "account_id"), keyed(accounts, "account_id"),
                        list(expected_accounts[0])) == []


def test_dbt_export_writes_tests_for_ids_totals_and_stages(tmp_path: Path,
                                                          leadscore_cli: Callable[..., CliRun]) -> None:
    import json

    run = leadscore_cli("dbt", "export", "--model", BUNDLED_MODEL, "--out", tmp_path, "--json")
    assert run.code == 0
    files = json.loads(run.stdout)["files"]
    assert sorted(Path(f).name for f in files) == ["account_scores.sql", "lead_scores.sql", "schema.yml"]
    schema = json.loads((tmp_path / "schema.yml").read_text(encoding="utf-8").split("\n", 1)[1])
    columns = {c["name"]: c["data_tests"] for c in schema["models"][0]["columns"]}
    assert columns["lead_id"] == ["unique", "not_null"]
    assert columns["total"] == ["not_null"]
    stages = columns["stage"][0]["accepted_values"]["values"]
    assert stages == [stage.name for stage in load_model(BUNDLED_MODEL).spec.stages]
    sql = (tmp_path / "lead_scores.sql").read_text(encoding="utf-8")
    assert "{{ source('leadscore', 'leads') }}" in sql and "var('leadscore_as_of'" in sql

"""The Spark backend scores exactly as DuckDB: every output column, to 1e-9, quarantine included.

One local[2] session serves the module (starting Spark is the slow part).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import leadscore
import leadscore.spark
from conftest import BUNDLED_MODEL, TINY_MODEL, CliRun, write_tiny_data
from export_support import compare_rows, keyed
from leadscore.backends import duckdb_engine

AS_OF = datetime(2026, 6, 30)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from leadscore.backends.spark_engine import local_session

    session = local_session("leadscore-tests", cores=2)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def awkward_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic funnel plus rows the quarantine must set aside: a duplicate lead, an event of an
    unknown lead, an event without a lead, a repeated event id."""
    from leadscore.synth import generate_funnel

    folder = tmp_path_factory.mktemp("spark") / "data"
    generate_funnel(300, seed=7).write(folder)
    leads = pq.read_table(folder / "leads.parquet")
    pq.write_table(pa.concat_tables([leads, leads.slice(0, 1)]), folder / "leads.parquet")
    events = pq.read_table(folder / "events.parquet")
    extra = events.slice(0, 3).to_pylist()
    extra[0]["lead_id"] = 10_000_000
    extra[1]["lead_id"] = None
    extra[0]["event_id"], extra[1]["event_id"] = 10**12, 10**12 + 1  # extra[2] repeats an id
    pq.write_table(pa.concat_tables([events, pa.Table.from_pylist(extra, schema=events.schema)]),
                   folder / "events.parquet")
    return folder


def _frames(spark: Any, folder: Path) -> tuple[Any, Any, Any]:
    return tuple(spark.read.parquet(str(folder / f"{name}.parquet")) for name in ("leads", "events", "accounts"))


def test_spark_scores_every_column_as_duckdb(spark: Any, awkward_data: Path) -> None:
    session = duckdb_engine.run_scoring(leadscore.load_model(BUNDLED_MODEL), awkward_data, as_of=AS_OF)
    try:
        expected_leads = session.con.sql("SELECT * FROM lead_scores").to_arrow_table().to_pylist()
        expected_accounts = session.con.sql("SELECT * FROM account_scores").to_arrow_table().to_pylist()
        expected_counts = dict(session.quarantine_counts)
    finally:
        session.close()
    scores = leadscore.spark.score(spark, BUNDLED_MODEL, *_frames(spark, awkward_data), as_of=AS_OF)
    leads = [row.asDict(recursive=True) for row in scores.all_columns.collect()]
    accounts = [row.asDict(recursive=True) for row in scores.account_scores.collect()]
    columns = list(expected_leads[0])
    assert scores.all_columns.columns == columns
    assert compare_rows(keyed(expected_leads, "lead_id"), keyed(leads, "lead_id"), columns) == []
    assert scores.account_scores.columns == list(expected_accounts[0])
    assert compare_rows(keyed(expected_accounts, "account_id"), keyed(accounts, "account_id"),
                        list(expected_accounts[0])) == []
    assert scores.quarantine_counts == expected_counts
    assert len(expected_counts) == 4
    assert scores.lead_reasons.columns[0] == "lead_id"


def test_a_missing_column_is_the_same_model_error_as_on_duckdb(spark: Any, tmp_path: Path) -> None:
    data = write_tiny_data(tmp_path / "data")
    model = tmp_path / "model.yaml"
    model.write_text(TINY_MODEL.replace("seniority IN", "senority IN"), encoding="utf-8")
    with pytest.raises(leadscore.ModelError) as on_duckdb:
        leadscore.score(model, data)
    with pytest.raises(leadscore.ModelError) as on_spark:
        leadscore.spark.score(spark, model, *_frames(spark, data))
    assert [str(i) for i in on_spark.value.issues] == [str(i) for i in on_duckdb.value.issues]
    assert "did you mean 'seniority'" in str(on_spark.value.issues[0])


def test_cli_scores_on_spark_and_writes_parquet(spark: Any, tmp_path: Path,
                                                leadscore_cli: Callable[..., CliRun]) -> None:
    data = write_tiny_data(tmp_path / "data")
    model = tmp_path / "tiny.yaml"
    model.write_text(TINY_MODEL, encoding="utf-8")
    run = leadscore_cli("score", "--engine", "spark", "--model", model, "--data", data, "--out", tmp_path / "out",
                        "--as-of", "2026-06-30", "--json")
    assert run.code == 0, run.stderr
    result = json.loads(run.stdout)
    expected = leadscore.score(model, data, as_of=AS_OF)
    assert result["stage_counts"] == expected.stage_counts and result["leads"] == expected.leads == 4
    written = pq.read_table(tmp_path / "out" / "lead_scores").to_pylist()
    assert sorted(row["lead_id"] for row in written) == [1, 2, 3, 4]


def test_cli_names_a_missing_spark_table(spark: Any, tiny_model: Path, leadscore_cli: Callable[..., CliRun]) -> None:
    run = leadscore_cli("score", "--engine", "spark", "--model", tiny_model, "--tables", "crm.leads,crm.events")
    assert run.code == 2
    assert "crm.leads" in run.stderr and "Traceback" not in run.stderr

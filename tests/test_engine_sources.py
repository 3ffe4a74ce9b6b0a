"""The same data scores the same from Parquet, CSV or a DuckDB file, on any machine's time zone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from conftest import TINY_AS_OF, TINY_EVENTS, write_table, write_tiny_data
from leadscore import api

AS_OF = datetime.fromisoformat(TINY_AS_OF)


def lead_scores(out: Path) -> list[tuple[object, ...]]:
    return duckdb.execute(f"SELECT lead_id, total, grade, stage, last_activity_at FROM "
                          f"read_parquet('{out}/lead_scores.parquet') ORDER BY lead_id").fetchall()


@pytest.fixture(scope="module")
def parquet_scores(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path, tiny_data: Path
                   ) -> list[tuple[object, ...]]:
    out = tmp_path_factory.mktemp("parquet_scores")
    api.score(tiny_model, tiny_data, out=out, as_of=AS_OF)
    return lead_scores(out)


def test_csv_folder_scores_like_the_parquet_folder(tmp_path: Path, tiny_model: Path,
                                                   parquet_scores: list[tuple[object, ...]]) -> None:
    data = write_tiny_data(tmp_path / "csv", fmt="csv")
    assert sorted(p.suffix for p in data.iterdir()) == [".csv"] * 3
    api.score(tiny_model, data, out=tmp_path / "out", as_of=AS_OF)
    assert lead_scores(tmp_path / "out") == parquet_scores


def test_duckdb_file_scores_like_the_parquet_folder(tmp_path: Path, tiny_model: Path, tiny_data: Path,
                                                    parquet_scores: list[tuple[object, ...]]) -> None:
    database = tmp_path / "crm.duckdb"
    with duckdb.connect(str(database)) as con:
        for name in ("leads", "events", "accounts"):
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{tiny_data}/{name}.parquet')")
    api.score(tiny_model, database, out=tmp_path / "out", as_of=AS_OF)
    assert lead_scores(tmp_path / "out") == parquet_scores
    assert api.explain(tiny_model, database, 1, as_of=AS_OF).total == 57.0


def test_time_zone_aware_event_times_are_read_as_utc_whatever_the_machine_time_zone(
        tmp_path: Path, tiny_model: Path) -> None:
    """An event at 23:00 UTC the day before as_of counts, even where that is already as_of locally."""
    events = [{**event, "ts": event["ts"].replace(tzinfo=UTC)} for event in TINY_EVENTS]
    events.append({"event_id": 7, "lead_id": 3, "ts": datetime(2026, 6, 29, 23, 0, tzinfo=UTC),
                   "type": "demo_request"})
    data = write_tiny_data(tmp_path / "data")
    write_table(data, "events", events, schema=pa.schema([
        ("event_id", pa.int64()), ("lead_id", pa.int64()), ("ts", pa.timestamp("us", tz="UTC")),
        ("type", pa.string())]))
    expected = {lead["lead_id"]: (lead["total"], lead["last_activity_at"])
                for lead in api.score(tiny_model, data, as_of=AS_OF, top=4).to_dict()["top_leads"]}
    assert expected[3] == (41.0, "2026-06-29T23:00:00")
    # In Auckland (UTC+12) that event happened at 11:00 on as_of day, local time.
    done = subprocess.run(
        [sys.executable, "-m", "leadscore.cli.main", "score", "--model", str(tiny_model), "--data", str(data),
         "--as-of", TINY_AS_OF, "--top", "4", "--json"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "TZ": "Pacific/Auckland"})
    assert done.returncode == 0, done.stderr
    top = json.loads(done.stdout)["top_leads"]
    assert {lead["lead_id"]: (lead["total"], lead["last_activity_at"]) for lead in top} == expected

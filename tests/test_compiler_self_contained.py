"""The exported, self-contained query (one statement, events pass in CTEs) equals the engine's run."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from leadscore.backends.duckdb_engine import run_scoring
from leadscore.compiler.model_sql import Relations, lead_scores_query
from leadscore.compiler.plan import DataSchema, compile_plan
from leadscore.spec import load_model

AS_OF = datetime(2026, 6, 30)


def _segmented_model(folder: Path) -> Path:
    (folder / "seg.yaml").write_text(
        "model: seg\nlayers:\n  e:\n    groups:\n      g: {events: {page_view: 7}}\n"
        "stages: [{name: s, min_score: -100}]\n", encoding="utf-8")
    (folder / "main.yaml").write_text(
        "model: main\nlayers:\n  e:\n    groups:\n      g: {events: {page_view: 5}}\n"
        "stages: [{name: s, min_score: -100}]\n"
        "segments:\n  active: {when: \"count_events('g') >= 2\", model: seg.yaml}\n", encoding="utf-8")
    return folder / "main.yaml"


def test_self_contained_segment_query_matches_the_engine(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    pq.write_table(pa.table({"lead_id": [1, 2, 3]}), data / "leads.parquet")
    pq.write_table(pa.table({
        "event_id": [1, 2, 3, 4, 5], "lead_id": [1, 1, 2, 3, 3],
        "ts": pa.array([datetime(2026, 6, d) for d in (1, 2, 3, 4, 5)], pa.timestamp("us")),
        "type": ["page_view"] * 5}), data / "events.parquet")
    model = load_model(_segmented_model(tmp_path))
    session = run_scoring(model, data, as_of=AS_OF)
    engine = dict(session.con.execute("SELECT lead_id, total FROM lead_scores").fetchall())
    session.close()

    schema = DataSchema(leads={"lead_id": "BIGINT"}, events={"event_id": "", "lead_id": "", "ts": "", "type": ""})
    plan = compile_plan(model, schema)
    relations = Relations(leads=exp.to_table("leads"), events=exp.to_table("events"), accounts=None,
                          event_columns=frozenset(schema.events), lead_columns=frozenset(schema.leads))
    query = lead_scores_query(plan, relations, AS_OF.isoformat(sep=" "))
    con = duckdb.connect()
    con.execute(f"CREATE VIEW leads AS SELECT * FROM read_parquet('{data}/leads.parquet')")
    con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{data}/events.parquet')")
    exported = dict(con.execute(f"SELECT lead_id, total FROM ({query.sql('duckdb')})").fetchall())
    assert exported == engine == {1: 14.0, 2: 5.0, 3: 14.0}

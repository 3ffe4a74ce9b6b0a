"""The DuckDB engine's events pass writes type codes and last-activity ranks as list look-ups
(``lookups=True``); the exported SQL keeps the portable CASEs. Both must give the same table."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

from sqlglot import exp

import leadscore
from conftest import BUNDLED_MODEL, REFERENCE_MODEL
from leadscore.backends.duckdb_engine import open_data
from leadscore.backends.quarantine import prepare_inputs
from leadscore.compiler.model_sql import Relations, events_query

AS_OF = "2026-06-30 00:00:00"


Rows = list[tuple[object, ...]]


def _events_pass_both_ways(model: Path, data: Path) -> tuple[Rows, Rows, str]:
    """The events pass over the data plus odd event types, written portably and with look-ups."""
    con, opened, plan = open_data(leadscore.load_model(model), data)
    clean = prepare_inputs(con, opened, plan)
    # Types the look-ups must also get right: NULL, one no rule names, and case and space variants.
    # A table, not a view, and the odd rows picked in event-id order: a view re-run by each query under
    # DuckDB's parallel scan could pick a different 200 rows for each side.
    con.execute(f"CREATE TEMP TABLE events_plus AS SELECT * FROM {clean.events} UNION ALL "
                f"SELECT * EXCLUDE (id) REPLACE (CASE id % 4 WHEN 0 THEN NULL WHEN 1 THEN 'zz' WHEN 2 THEN 'Page_View' "
                f"ELSE 'page_view ' END AS type, event_id + 10000000 AS event_id) "
                f"FROM (SELECT *, row_number() OVER (ORDER BY event_id) AS id FROM {clean.events} "
                f"ORDER BY event_id LIMIT 200)")
    relations = Relations(leads=exp.to_table(clean.leads), events=exp.to_table("events_plus"),
                          accounts=exp.to_table(clean.accounts) if clean.accounts else None,
                          event_columns=frozenset(opened.tables["events"].columns),
                          lead_columns=frozenset(opened.tables["leads"].columns))
    portable = events_query(plan, relations, AS_OF).sql("duckdb")
    looked_up = events_query(plan, relations, AS_OF, lookups=True).sql("duckdb")
    order = ' ORDER BY "__lead"'
    return (con.execute(f"SELECT * FROM ({portable}){order}").fetchall(),
            con.execute(f"SELECT * FROM ({looked_up}){order}").fetchall(), looked_up)


def _same_rows(left: Rows, right: Rows) -> bool:
    """Equal row for row; floats to 1e-12 relative, since DuckDB's parallel sums may add in another order."""
    if len(left) != len(right):
        return False
    for row_left, row_right in zip(left, right, strict=True):
        for a, b in zip(row_left, row_right, strict=True):
            if isinstance(a, float) and isinstance(b, float):
                if not math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12):
                    return False
            elif a != b:
                return False
    return True


def test_the_look_ups_give_the_portable_events_pass_exactly(bench_data_2000: Path, tmp_path: Path) -> None:
    from leadscore.api.serving import write_demo_funnel

    write_demo_funnel(tmp_path / "demo", leads=2000, seed=3, as_of=datetime(2026, 6, 30))
    for model, data in ((REFERENCE_MODEL, bench_data_2000), (BUNDLED_MODEL, tmp_path / "demo")):
        portable, looked_up, sql = _events_pass_both_ways(model, data)
        assert "LIST_POSITION" in sql and "LIST_EXTRACT" in sql
        assert len(portable) > 1000
        assert _same_rows(looked_up, portable)


def test_the_exported_sql_keeps_the_portable_cases() -> None:
    text = leadscore.export_sql(REFERENCE_MODEL, dialect="duckdb").text()
    assert "LIST_POSITION" not in text and "LIST_EXTRACT" not in text

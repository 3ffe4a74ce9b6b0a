"""``--as-of T``: only events strictly before T count; later data cannot change a score as of T."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb

from conftest import TINY_EVENTS, CliRun, write_tiny_data

Cli = Callable[..., CliRun]
AS_OF = "2026-06-15T00:00:00"

LATE_EVENTS = [
    {"event_id": 101, "lead_id": 2, "ts": datetime(2026, 6, 15), "type": "demo_request"},  # exactly at T
    {"event_id": 102, "lead_id": 3, "ts": datetime(2026, 6, 15, 0, 0, 1), "type": "demo_request"},
    {"event_id": 103, "lead_id": 1, "ts": datetime(2026, 9, 1), "type": "email_open"},
]


def score_as_of(cli: Cli, model: Path, data: Path, out: Path) -> None:
    result = cli("score", "--model", model, "--data", data, "--out", out, "--as-of", AS_OF)
    assert result.code == 0, result.stderr


def table(out: Path, name: str) -> list[tuple[object, ...]]:
    return duckdb.execute(f"SELECT * FROM read_parquet('{out}/{name}.parquet') ORDER BY ALL").fetchall()


def test_events_at_or_after_as_of_do_not_change_scores(tmp_path: Path, tiny_model: Path,
                                                       leadscore_cli: Cli) -> None:
    before = write_tiny_data(tmp_path / "before")
    after = write_tiny_data(tmp_path / "after", events=[*TINY_EVENTS, *LATE_EVENTS])
    score_as_of(leadscore_cli, tiny_model, before, tmp_path / "out_before")
    score_as_of(leadscore_cli, tiny_model, after, tmp_path / "out_after")
    for name in ("lead_scores", "lead_reasons", "account_scores"):
        assert table(tmp_path / "out_after", name) == table(tmp_path / "out_before", name), name


def test_events_before_as_of_do_change_scores(tmp_path: Path, tiny_model: Path, leadscore_cli: Cli) -> None:
    """The control for the test above: the same late events moved just before T are counted."""
    early = [{**event, "ts": datetime(2026, 6, 14, 23, 59, 59)} for event in LATE_EVENTS]
    before = write_tiny_data(tmp_path / "before")
    after = write_tiny_data(tmp_path / "after", events=[*TINY_EVENTS, *early])
    score_as_of(leadscore_cli, tiny_model, before, tmp_path / "out_before")
    score_as_of(leadscore_cli, tiny_model, after, tmp_path / "out_after")
    query = "SELECT lead_id, total FROM read_parquet('{}/lead_scores.parquet') ORDER BY lead_id"
    old = dict(duckdb.execute(query.format(tmp_path / "out_before")).fetchall())
    new = dict(duckdb.execute(query.format(tmp_path / "out_after")).fetchall())
    assert {lead: new[lead] - old[lead] for lead in old} == {1: 2.0, 2: 40.0, 3: 40.0, 4: 0.0}


def test_as_of_is_recorded_in_the_history(tmp_path: Path, tiny_model: Path, tiny_data: Path,
                                          leadscore_cli: Cli) -> None:
    score_as_of(leadscore_cli, tiny_model, tiny_data, tmp_path / "out")
    assert duckdb.execute(f"SELECT DISTINCT as_of FROM read_parquet('{tmp_path}/out/score_history/*.parquet')"
                          ).fetchall() == [(datetime(2026, 6, 15),)]

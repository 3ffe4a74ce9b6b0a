"""Incremental scoring rescores only what changed and writes exactly what a full rescore writes."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import leadscore
from conftest import REFERENCE_MODEL
from export_support import compare_rows, keyed

AS_OF = datetime(2026, 6, 30)


def _outputs(folder: Path) -> dict[str, dict[object, dict[str, object]]]:
    return {"leads": keyed(pq.read_table(folder / "lead_scores.parquet").to_pylist(), "lead_id"),
            "reasons": keyed(pq.read_table(folder / "lead_reasons.parquet").to_pylist(), "lead_id"),
            "accounts": keyed(pq.read_table(folder / "account_scores.parquet").to_pylist(), "account_id")}


def _assert_same_as_full_rescore(data: Path, incremental_out: Path, tmp_path: Path, as_of: datetime) -> None:
    full = tmp_path / f"full-{as_of:%Y%m%d%H}"
    leadscore.score(REFERENCE_MODEL, data, out=full, as_of=as_of)
    expected, actual = _outputs(full), _outputs(incremental_out)
    for table in expected:
        columns = list(next(iter(expected[table].values())))
        assert compare_rows(expected[table], actual[table], columns) == [], table


def _add_events(data: Path, lead_ids: list[int], when: datetime) -> None:
    events = pq.read_table(data / "events.parquet")
    start = pc.max(events["event_id"]).as_py() + 1
    rows = [{"event_id": start + i, "lead_id": lead, "ts": when, "type": "demo_request"}
            for i, lead in enumerate(lead_ids)]
    pq.write_table(pa.concat_tables([events, pa.Table.from_pylist(rows, schema=events.schema)]),
                   data / "events.parquet")


@pytest.fixture
def data(tmp_path: Path, bench_data_2000: Path) -> Path:
    return Path(shutil.copytree(bench_data_2000, tmp_path / "data"))


def test_new_events_and_an_edited_profile_rescore_only_those_leads(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = leadscore.score_incremental(REFERENCE_MODEL, data, out, as_of=AS_OF)
    assert (first.mode, first.rescored) == ("full", 2000)

    _add_events(data, [5, 6, 7], AS_OF - timedelta(days=1))
    leads = pq.read_table(data / "leads.parquet").to_pylist()
    leads[9]["seniority"] = "c_level"
    pq.write_table(pa.Table.from_pylist(leads, schema=pq.read_schema(data / "leads.parquet")),
                   data / "leads.parquet")
    second = leadscore.score_incremental(REFERENCE_MODEL, data, out, as_of=AS_OF)
    assert (second.mode, second.rescored, second.leads) == ("incremental", 4, 2000)
    _assert_same_as_full_rescore(data, out, tmp_path, AS_OF)


def test_unchanged_data_rescores_nothing_and_a_later_as_of_rescores_leads_with_events(
        data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    leadscore.score_incremental(REFERENCE_MODEL, data, out, as_of=AS_OF)
    assert leadscore.score_incremental(REFERENCE_MODEL, data, out, as_of=AS_OF).rescored == 0
    later = AS_OF + timedelta(days=3)
    moved = leadscore.score_incremental(REFERENCE_MODEL, data, out, as_of=later)
    with_events = len(set(pq.read_table(data / "events.parquet")["lead_id"].to_pylist()))
    assert moved.rescored == with_events < 2000
    _assert_same_as_full_rescore(data, out, tmp_path, later)


def test_outputs_rewritten_by_another_run_make_the_next_run_full(data: Path, tmp_path: Path) -> None:
    """The previous scores are read back from the outputs: if a plain 'score' replaced them (here
    with another as_of), the incremental state no longer describes them and the run starts over."""
    out = tmp_path / "out"
    leadscore.score_incremental(REFERENCE_MODEL, data, out, as_of=AS_OF)
    leadscore.score(REFERENCE_MODEL, data, out=out, as_of=AS_OF - timedelta(days=40))
    _add_events(data, [11], AS_OF - timedelta(hours=2))
    again = leadscore.score_incremental(REFERENCE_MODEL, data, out, as_of=AS_OF)
    assert (again.mode, again.rescored) == ("full", 2000)
    assert "another run" in again.reason
    _assert_same_as_full_rescore(data, out, tmp_path, AS_OF)


def _as_event_folder(data: Path) -> Path:
    """The events as a folder of Parquet files, as a warehouse export or a lakehouse table keeps them."""
    folder = data / "events"
    folder.mkdir()
    (data / "events.parquet").rename(folder / "part-0000.parquet")
    return folder


def _append_file(folder: Path, name: str, rows: list[dict[str, object]]) -> None:
    schema = pq.read_schema(folder / "part-0000.parquet")
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / name)


def test_appended_event_files_are_the_only_events_read_again(data: Path, tmp_path: Path) -> None:
    folder = _as_event_folder(data)
    out = tmp_path / "out"
    first = leadscore.score_incremental(REFERENCE_MODEL, data, out, as_of=AS_OF)
    assert (first.events_read, first.rescored) == ("all row groups", 2000)
    top = pc.max(pq.read_table(folder)["event_id"]).as_py()
    _append_file(folder, "part-0001.parquet", [
        {"event_id": top + 1, "lead_id": 21, "ts": AS_OF - timedelta(days=2), "type": "demo_request"},
        {"event_id": top + 2, "lead_id": 22, "ts": AS_OF - timedelta(days=1), "type": "pricing_page_view"},
        {"event_id": top + 3, "lead_id": 999_999, "ts": AS_OF - timedelta(days=1), "type": "page_view"}])
    second = leadscore.score_incremental(REFERENCE_MODEL, data, out, as_of=AS_OF)
    assert (second.mode, second.events_read, second.new_row_groups) == ("incremental", "appended", 1)
    assert second.rescored == 2
    _assert_same_as_full_rescore(data, out, tmp_path, AS_OF)
    quarantine = pq.read_table(out / "quarantine.parquet").to_pylist()
    assert [row["key"] for row in quarantine if "unknown lead" in row["reason"]] == [str(top + 3)]


def test_a_rewritten_event_file_is_hashed_again_and_still_exact(data: Path, tmp_path: Path) -> None:
    folder = _as_event_folder(data)
    out = tmp_path / "out"
    leadscore.score_incremental(REFERENCE_MODEL, data, out, as_of=AS_OF)
    events = pq.read_table(folder / "part-0000.parquet").to_pylist()
    removed = events.pop(0)  # history edited: an event is deleted
    pq.write_table(pa.Table.from_pylist(events, schema=pq.read_schema(folder / "part-0000.parquet")),
                   folder / "part-0000.parquet")
    again = leadscore.score_incremental(REFERENCE_MODEL, data, out, as_of=AS_OF)
    assert again.events_read == "all row groups"
    assert again.rescored >= 1
    _assert_same_as_full_rescore(data, out, tmp_path, AS_OF)
    assert removed["lead_id"] is not None


def test_csv_events_are_hashed_whole_and_stay_exact(data: Path, tmp_path: Path) -> None:
    """Without Parquet row groups to compare, every event row is hashed: still only changed leads."""
    events = pq.read_table(data / "events.parquet")
    (data / "events.parquet").unlink()
    import pyarrow.csv as pacsv

    pacsv.write_csv(events, data / "events.csv")
    out = tmp_path / "out"
    first = leadscore.score_incremental(REFERENCE_MODEL, data, out, as_of=AS_OF)
    assert first.events_read == "scan"
    top = pc.max(events["event_id"]).as_py()
    with open(data / "events.csv", "a", encoding="utf-8") as handle:
        handle.write(f'{top + 1},31,"2026-06-29 10:00:00",demo_request\n')
    second = leadscore.score_incremental(REFERENCE_MODEL, data, out, as_of=AS_OF)
    assert (second.mode, second.events_read, second.rescored) == ("incremental", "scan", 1)
    _assert_same_as_full_rescore(data, out, tmp_path, AS_OF)

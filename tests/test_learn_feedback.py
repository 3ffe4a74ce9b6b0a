"""Sales feedback: an append-only store of accept/reject decisions, and what they say about the model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

import leadscore
from conftest import CliRun
from learn_support import AS_OF, BUNDLED_MODEL, export_feedback, shared_funnel, write_csv

Cli = Callable[..., CliRun]

MIXED = [
    {"lead_id": "1", "decision": "accept", "reason": None, "decided_at": "2026-03-01T10:00:00", "rep": "ann"},
    {"lead_id": "2", "decision": "Reject", "reason": " Student ", "decided_at": "2026-03-02", "rep": "bob"},
    {"lead_id": "3", "decision": "reject", "reason": None, "decided_at": None, "rep": None},  # no reason: kept
    {"lead_id": None, "decision": "accept", "reason": None, "decided_at": None, "rep": "ann"},
    {"lead_id": "5", "decision": "maybe", "reason": None, "decided_at": None, "rep": "ann"},
    {"lead_id": "6", "decision": "reject", "reason": "too_expensive", "decided_at": None, "rep": "ann"},
    {"lead_id": "7", "decision": "accept", "reason": "no_budget", "decided_at": None, "rep": "ann"},
    {"lead_id": "8", "decision": "reject", "reason": "poor_fit", "decided_at": "last tuesday", "rep": "ann"},
    {"lead_id": "1", "decision": "accept", "reason": None, "decided_at": "2026-03-01T10:00:00", "rep": "ann"},
]


@pytest.fixture(scope="module")
def funnel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_funnel(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def store(funnel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("feedback")
    leadscore.import_feedback(export_feedback(funnel, folder / "decisions.csv"), store=folder / "store")
    return folder / "store"


def stored(store: Path) -> list[tuple[object, ...]]:
    return duckdb.execute("SELECT lead_id, decision, reason, decided_at, rep FROM read_parquet(?) ORDER BY ALL",
                          [str(store / "decisions" / "*.parquet")]).fetchall()


def test_bad_rows_are_quarantined_with_reasons_and_good_ones_stored(tmp_path: Path, leadscore_cli: Cli) -> None:
    file = write_csv(tmp_path / "mixed.csv", MIXED)
    result = leadscore_cli("feedback", "import", file, "--store", tmp_path / "store", "--json")
    assert result.code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["rows"], summary["stored"], summary["rejects_without_reason"]) == (9, 3, 1)
    assert summary["quarantined"] == {
        "missing lead_id": 1, "decision is not accept or reject": 1, "unknown rejection reason": 1,
        "accept with a rejection reason": 1, "unparseable decided_at": 1, "duplicate row in file": 1}
    assert [row[:3] for row in stored(tmp_path / "store")] == [("1", "accept", None), ("2", "reject", "student"),
                                                               ("3", "reject", None)]
    quarantine = pq.read_table(summary["files"]["quarantine"]).to_pylist()
    assert sorted(row["source_row"] for row in quarantine) == [4, 5, 6, 7, 8, 9]
    assert all(row["reason"] and row["record"] for row in quarantine)


def test_store_is_append_only_and_never_stores_a_row_twice(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    first = write_csv(tmp_path / "first.csv", MIXED[:2])
    leadscore.import_feedback(first, store=folder)
    before = {path.name: path.read_bytes() for path in (folder / "decisions").iterdir()}
    again = leadscore.import_feedback(first, store=folder)
    assert (again.stored, again.already_stored, again.files) == (0, 2, {})
    later = [{**MIXED[1], "decision": "accept", "reason": None, "decided_at": "2026-03-09"}, MIXED[2]]
    update = leadscore.import_feedback(write_csv(tmp_path / "later.csv", later), store=folder)
    assert (update.stored, update.decisions_in_store) == (2, 4)
    for name, content in before.items():
        assert (folder / "decisions" / name).read_bytes() == content  # earlier feedback untouched
    lines = (folder / "imports.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["stored"] for line in lines] == [2, 0, 2]


def test_a_file_without_required_columns_changes_nothing(tmp_path: Path, leadscore_cli: Cli) -> None:
    folder = tmp_path / "store"
    leadscore.import_feedback(write_csv(tmp_path / "ok.csv", MIXED[:1]), store=folder)
    bad = write_csv(tmp_path / "bad.csv", [{"lead": "1", "verdict": "accept"}])
    result = leadscore_cli("feedback", "import", bad, "--store", folder)
    assert result.code == 2
    assert "no column(s) 'lead_id', 'decision'" in result.stderr and "Traceback" not in result.stderr
    assert len(stored(folder)) == 1 and len((folder / "imports.jsonl").read_text().splitlines()) == 1


def test_synthetic_decisions_import_whole(funnel: Path, store: Path) -> None:
    mqls = duckdb.execute("SELECT count(*) FROM read_parquet(?) WHERE sales_accepted IS NOT NULL",
                          [str(funnel / "leads.parquet")]).fetchall()[0][0]
    assert len(stored(store)) == mqls
    assert not (store / "quarantine").exists() or not any((store / "quarantine").iterdir())


def test_backtest_with_feedback_shows_acceptance_by_band_and_rules_behind_rejections(funnel: Path,
                                                                                     store: Path) -> None:
    report = leadscore.backtest(BUNDLED_MODEL, funnel, as_of=AS_OF, feedback=store)
    summary = report.windows[0].feedback
    assert summary is not None
    assert summary.matched + summary.not_evaluated + summary.unknown_leads == summary.decisions
    assert summary.unknown_leads == 0
    assert sum(row.decided for row in summary.by_band) == summary.matched
    assert summary.accepted + summary.rejected == summary.matched
    top, bottom = summary.by_band[0], summary.by_band[-1]
    assert top.acceptance_rate is not None and bottom.acceptance_rate is not None
    assert top.acceptance_rate > bottom.acceptance_rate
    # Students are rejected as 'student' and the student rule fires on them: it leads the list.
    first = summary.rules[0]
    assert first.rule == "student_or_intern" and next(iter(first.top_reasons)) == "student"
    assert first.rejected_share is not None and first.accepted_share is not None
    assert first.rejected_share > 3 * first.accepted_share


def test_feedback_report_cli(funnel: Path, store: Path, leadscore_cli: Cli) -> None:
    result = leadscore_cli("feedback", "report", "--model", BUNDLED_MODEL, "--data", funnel, "--store", store,
                           "--as-of", "2026-06-30", "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert summary["matched"] == summary["decisions"] == len(stored(store))
    assert [row["label"] for row in summary["by_stage"]] == ["sales_ready", "mql", "engaged", "nurture"]
    assert sum(summary["reasons"].values()) == summary["rejected"]
    missing = leadscore_cli("feedback", "report", "--model", BUNDLED_MODEL, "--data", funnel, "--store",
                            store.parent / "nowhere")
    assert missing.code == 2 and "does not exist" in missing.stderr


def test_typed_parquet_from_the_service_store_imports(tmp_path: Path) -> None:
    """``leadscore store export-feedback`` writes Parquet with typed columns: integer ids, timestamps."""
    from datetime import datetime

    import pyarrow as pa

    file = tmp_path / "feedback.parquet"
    pq.write_table(pa.table({"lead_id": pa.array([41, 42], pa.int64()),
                             "decision": ["accept", "reject"], "reason": [None, "no_budget"],
                             "decided_at": pa.array([datetime(2026, 3, 1), datetime(2026, 3, 2, 9)],
                                                    pa.timestamp("us")), "rep": ["ann", "bob"]}), file)
    result = leadscore.import_feedback(file, store=tmp_path / "store")
    assert (result.stored, result.quarantined) == (2, {})
    assert stored(tmp_path / "store") == [("41", "accept", None, datetime(2026, 3, 1), "ann"),
                                          ("42", "reject", "no_budget", datetime(2026, 3, 2, 9), "bob")]

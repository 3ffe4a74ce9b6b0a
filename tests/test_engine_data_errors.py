"""Bad data: unusable sources are a DataError (exit 2); unusable rows are quarantined, never dropped.

Rows that cannot be scored are counted in the result's ``quarantined``, written to
``quarantine.parquet`` with their reason and record, and every other row is scored as usual.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from conftest import TINY_MODEL, CliRun, run_leadscore_process
from leadscore import api
from leadscore.errors import DataError, LeadScoreError

Cli = Callable[..., CliRun]
AS_OF = datetime(2026, 6, 30)

LEADS_CSV = """\
lead_id,account_id,email,seniority,job_title,region,created_at
1,10,ann@acme.com,vp,VP Sales,europe,2026-01-05 09:00:00
2,10,bob@gmail.com,manager,Sales Manager,apac,2026-02-01 09:00:00
3,20,cy@initech.io,individual,Marketing Intern,north_america,2026-03-01 09:00:00
4,,dee@freelance.net,director,Director of IT,europe,2026-04-01 09:00:00
"""
EVENTS_CSV = """\
event_id,lead_id,ts,type
1,1,2026-06-01 10:00:00,email_open
2,1,2026-06-10 10:00:00,demo_request
3,2,2026-06-20 10:00:00,email_open
4,2,2026-06-21 10:00:00,page_view
5,3,2026-05-01 10:00:00,page_view
6,4,2026-06-25 10:00:00,demo_request
"""
ACCOUNTS_CSV = """\
account_id,industry,employees
10,technology,800
20,education,40
"""


def csv_data(folder: Path, *, extra_leads: str = "", extra_events: str = "") -> Path:
    """The tiny data set as CSV files, with extra (bad) lines appended to leads or events."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leads.csv").write_text(LEADS_CSV + extra_leads, encoding="utf-8")
    (folder / "events.csv").write_text(EVENTS_CSV + extra_events, encoding="utf-8")
    (folder / "accounts.csv").write_text(ACCOUNTS_CSV, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "tiny.yaml"
    path.write_text(TINY_MODEL, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def clean_totals(tmp_path_factory: pytest.TempPathFactory, model: Path) -> dict[int, float]:
    data = csv_data(tmp_path_factory.mktemp("clean") / "data")
    out = tmp_path_factory.mktemp("clean_out")
    result = api.score(model, data, out=out, as_of=AS_OF)
    assert result.quarantined == {}
    return totals(out)


def totals(out: Path) -> dict[int, float]:
    rows = duckdb.execute(f"SELECT lead_id, total FROM read_parquet('{out}/lead_scores.parquet')").fetchall()
    return {int(lead): float(total) for lead, total in rows}


def quarantine_rows(out: Path) -> list[tuple[str, str, str | None, str]]:
    return [tuple(row) for row in duckdb.execute(  # type: ignore[misc]
        f'SELECT "table", reason, "key", record FROM read_parquet(\'{out}/quarantine.parquet\')').fetchall()]


# --- sources that cannot be used at all -------------------------------------------------------------


def test_missing_data_folder_is_a_data_error_naming_the_path(tmp_path: Path, model: Path,
                                                             leadscore_cli: Cli) -> None:
    missing = tmp_path / "no_such_folder"
    with pytest.raises(DataError) as caught:
        api.score(model, missing)
    assert str(missing) in caught.value.message
    result = leadscore_cli("score", "--model", model, "--data", missing)
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert f"data source '{missing}' does not exist" in result.stderr


def test_folder_without_events_is_a_data_error_naming_the_table(tmp_path: Path, model: Path,
                                                                leadscore_cli: Cli) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "leads.csv").write_text(LEADS_CSV, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        api.score(model, data)
    assert caught.value.message == f"{data} has no events table"
    assert caught.value.issues[0].hint == ("write the events table as events.parquet or events.csv in that "
                                           "directory")
    result = leadscore_cli("score", "--model", model, "--data", data)
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert "has no events table" in result.stderr


def test_duckdb_file_without_events_table_is_a_data_error_listing_its_tables(tmp_path: Path,
                                                                             model: Path) -> None:
    database = tmp_path / "crm.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE leads AS SELECT 1 AS lead_id")
    with pytest.raises(DataError) as caught:
        api.score(model, database)
    assert caught.value.message == f"{database} has no table 'events'"
    assert caught.value.issues[0].hint == "tables found: leads"


def test_data_error_in_a_fresh_process_prints_no_traceback(tmp_path: Path, model: Path) -> None:
    done = run_leadscore_process("score", "--model", model, "--data", tmp_path / "missing")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "does not exist" in done.stderr


def test_data_missing_a_column_the_model_uses_exits_2_naming_the_column(tmp_path: Path, model: Path,
                                                                        leadscore_cli: Cli) -> None:
    data = csv_data(tmp_path / "data")
    (data / "leads.csv").write_text(LEADS_CSV.replace("seniority", "level"), encoding="utf-8")
    with pytest.raises(LeadScoreError) as caught:
        api.score(model, data)
    assert [issue.message for issue in caught.value.issues] == ["unknown column 'seniority'"]
    result = leadscore_cli("score", "--model", model, "--data", data, "--out", tmp_path / "out")
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert f"{model}:5:31: layers.fit.rules[0].when: unknown column 'seniority'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_lead_id_in_explain_names_the_id_and_shows_existing_ids(tmp_path: Path, model: Path,
                                                                        leadscore_cli: Cli) -> None:
    data = csv_data(tmp_path / "data")
    with pytest.raises(DataError) as caught:
        api.explain(model, data, 4711, as_of=AS_OF)
    assert caught.value.message == "unknown lead id 4711"
    assert caught.value.issues[0].hint is not None
    assert "lead ids look like 1, 2, 3" in caught.value.issues[0].hint
    result = leadscore_cli("explain", "4711", "--model", model, "--data", data)
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert "unknown lead id '4711'" in result.stderr
    assert "lead ids look like 1, 2, 3" in result.stderr


# --- rows that cannot be used ---------------------------------------------------------------------

BAD_ROWS = {
    "unparseable-event-time": ("", "7,1,not-a-time,email_open\n", "events", "missing or unparseable ts"),
    "event-for-unknown-lead": ("", "7,99,2026-06-02 10:00:00,email_open\n", "events",
                               "unknown lead (no such lead id)"),
    "duplicate-event-id": ("", "6,1,2026-06-26 10:00:00,email_open\n", "events",
                           "duplicate event_id (first row kept)"),
    "lead-with-missing-key": (",10,x@acme.com,vp,VP,europe,2026-01-01 00:00:00\n", "", "leads",
                              "missing key lead_id"),
    "duplicate-lead-id": ("4,10,dupe@acme.com,vp,VP,europe,2026-05-01 00:00:00\n", "", "leads",
                          "duplicate lead_id (first row kept)"),
    "malformed-csv-row": ("", "7,1,2026-06-02 10:00:00,email_open,surplus\n", "events", "malformed CSV row"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_bad_row_is_quarantined_with_its_reason_and_the_other_rows_are_scored(
        case: str, tmp_path: Path, model: Path, clean_totals: dict[int, float]) -> None:
    extra_leads, extra_events, table, reason = BAD_ROWS[case]
    data = csv_data(tmp_path / "data", extra_leads=extra_leads, extra_events=extra_events)
    result = api.score(model, data, out=tmp_path / "out", as_of=AS_OF)
    assert result.quarantined == {f"{table}: {reason}": 1}
    rows = quarantine_rows(tmp_path / "out")
    assert len(rows) == 1
    assert rows[0][0] == table
    assert rows[0][1].startswith(reason)
    assert result.leads == 4
    assert totals(tmp_path / "out") == clean_totals


def test_malformed_csv_row_is_quarantined_with_its_line_and_text(tmp_path: Path, model: Path) -> None:
    bad = "7,1,2026-06-02 10:00:00,email_open,surplus,more"  # two surplus fields: still one row
    data = csv_data(tmp_path / "data", extra_events=bad + "\n")
    result = api.score(model, data, out=tmp_path / "out", as_of=AS_OF)
    assert result.quarantined == {"events: malformed CSV row": 1}
    [(table, reason, _key, record)] = quarantine_rows(tmp_path / "out")
    assert table == "events"
    assert reason.startswith("malformed CSV row (line 8): ")  # header is line 1, six good rows
    assert record == bad


def test_duplicate_of_an_event_with_a_bad_time_is_scored_once_and_not_quarantined(
        tmp_path: Path, model: Path) -> None:
    data = csv_data(tmp_path / "data", extra_events="7,3,not-a-time,email_open\n"
                                                    "7,3,2026-06-02 10:00:00,demo_request\n")
    result = api.score(model, data, out=tmp_path / "out", as_of=AS_OF)
    assert result.quarantined == {"events: missing or unparseable ts": 1}
    assert totals(tmp_path / "out")[3] == 41.0  # page_view 1 + the demo_request 40


def test_quarantine_parquet_is_written_and_empty_when_nothing_is_wrong(tmp_path: Path, model: Path) -> None:
    result = api.score(model, csv_data(tmp_path / "data"), out=tmp_path / "out", as_of=AS_OF)
    assert result.quarantined == {}
    assert quarantine_rows(tmp_path / "out") == []


COUNTING_MODEL = """\
model: counting
layers:
  engagement:
    groups:
      every_event:
        events: {email_open: 1, page_view: 1, demo_request: 1}
stages:
  - {name: all, min_score: 0}
"""
"""Each counted event adds exactly one point, so the sum of totals is the number of events scored."""


def test_nothing_is_dropped_silently_rows_in_equal_rows_scored_plus_rows_quarantined(
        tmp_path: Path, leadscore_cli: Cli) -> None:
    bad_leads = (",10,x@acme.com,vp,VP,europe,2026-01-01 00:00:00\n"
                 "4,10,dupe@acme.com,vp,VP,europe,2026-05-01 00:00:00\n"
                 "5,10,eve@acme.com,vp,VP,europe,2026-05-01 00:00:00,surplus\n")
    bad_events = ("7,1,not-a-time,email_open\n"
                  "8,99,2026-06-02 10:00:00,email_open\n"
                  "6,1,2026-06-26 10:00:00,email_open\n"
                  "9,2,2026-06-02 10:00:00,page_view,surplus,more\n"
                  "10,,2026-06-02 10:00:00,page_view\n"
                  "11,3,garbage,page_view\n"
                  "11,3,2026-06-03 10:00:00,page_view\n")
    data = csv_data(tmp_path / "data", extra_leads=bad_leads, extra_events=bad_events)
    model = tmp_path / "counting.yaml"
    model.write_text(COUNTING_MODEL, encoding="utf-8")
    out = tmp_path / "out"
    result = leadscore_cli("score", "--model", model, "--data", data, "--out", out, "--as-of", "2026-06-30",
                           "--json")
    assert result.code == 0, result.stderr
    summary = json.loads(result.stdout)
    quarantined = summary["quarantined"]

    def rows_in(name: str) -> int:
        return len((data / f"{name}.csv").read_text(encoding="utf-8").splitlines()) - 1

    def set_aside(table: str) -> int:
        return sum(count for reason, count in quarantined.items() if reason.startswith(f"{table}: "))

    events_scored = int(sum(totals(out).values()))
    assert (rows_in("leads"), summary["leads"], set_aside("leads")) == (4 + 3, 4, 3)
    assert (rows_in("events"), events_scored, set_aside("events")) == (6 + 7, 7, 6)
    written = duckdb.execute(f"SELECT \"table\", count(*) FROM read_parquet('{out}/quarantine.parquet') "
                             "GROUP BY 1 ORDER BY 1").fetchall()
    assert written == [("events", 6), ("leads", 3)]


def test_duplicate_lead_rows_are_each_either_scored_or_quarantined_never_both(tmp_path: Path,
                                                                              model: Path) -> None:
    """Enough rows for a parallel scan: the scored row and the quarantined row of an id must differ."""
    data = csv_data(tmp_path / "data")
    (data / "leads.csv").unlink()
    duckdb.execute(
        "COPY (SELECT i % 3000 + 1 AS lead_id, NULL::BIGINT AS account_id, 'u' || i || '@acme.com' AS email, "
        "CASE WHEN i < 3000 THEN 'vp' ELSE 'individual' END AS seniority, 'T' AS job_title, "
        "'europe' AS region, TIMESTAMP '2026-01-01' AS created_at FROM range(6000) t(i)) "
        f"TO '{data}/leads.parquet' (ROW_GROUP_SIZE 500)")
    result = api.score(model, data, out=tmp_path / "out", as_of=AS_OF)
    assert result.leads == 3000
    assert result.quarantined == {"leads: duplicate lead_id (first row kept)": 3000}
    both = duckdb.execute(
        f"SELECT count(*) FROM read_parquet('{tmp_path}/out/quarantine.parquet') q "
        f"JOIN read_parquet('{tmp_path}/out/lead_scores.parquet') s ON CAST(s.lead_id AS VARCHAR) = q.key "
        "WHERE json_extract_string(q.record, '$.seniority') = "
        "CASE WHEN s.fit >= 10 THEN 'vp' ELSE 'individual' END").fetchone()
    assert both == (0,)


def test_explain_of_a_duplicated_lead_explains_the_row_that_was_scored(tmp_path: Path, model: Path) -> None:
    # An earlier-created second row for lead 3, as a director: it is the 'first' row, so it is kept.
    data = csv_data(tmp_path / "data", extra_leads="3,20,cy@initech.io,director,Director,europe,"
                                                   "2025-12-01 09:00:00\n")
    result = api.score(model, data, out=tmp_path / "out", as_of=AS_OF)
    assert result.quarantined == {"leads: duplicate lead_id (first row kept)": 1}
    [(record,)] = duckdb.execute(f"SELECT record FROM read_parquet('{tmp_path}/out/quarantine.parquet')"
                                 ).fetchall()
    assert json.loads(record)["seniority"] == "individual"
    scored = totals(tmp_path / "out")[3]
    assert scored == 11.0  # director 10 + page_view 1
    assert api.explain(model, data, 3, as_of=AS_OF).total == scored


def _parquet_events(data: Path, ids_sql: str, *, files: int = 1) -> None:
    """Replace events.csv by Parquet with many small row groups: 6,000 page views spread over the
    four leads, event ids from ``ids_sql`` (over ``i`` in 0..5999), split over ``files`` files."""
    (data / "events.csv").unlink()
    folder = data / "events"
    folder.mkdir()
    per_file = 6000 // files
    for part in range(files):
        duckdb.execute(
            f"COPY (SELECT {ids_sql} AS event_id, i % 4 + 1 AS lead_id, "
            "TIMESTAMP '2026-06-01' + INTERVAL (i) SECOND AS ts, 'page_view' AS type "
            f"FROM range({part * per_file}, {(part + 1) * per_file}) t(i)) "
            f"TO '{folder}/part-{part}.parquet' (ROW_GROUP_SIZE 500)")


@pytest.mark.parametrize(("ids_sql", "files", "duplicates"), [
    ("i + 1", 1, 0),                      # strictly increasing: proven unique without a sort
    ("(i * 7919) % 6000 + 1", 1, 0),      # unique but shuffled: the sort must not invent duplicates
    ("i % 5000 + 1", 1, 1000),            # ids 1..1000 appear twice in one file
    ("i % 3000 + 1", 2, 3000),            # the second file repeats the first file's ids
])
def test_duplicate_integer_event_ids_in_parquet_are_found_in_any_order(
        ids_sql: str, files: int, duplicates: int, tmp_path: Path, model: Path) -> None:
    data = csv_data(tmp_path / "data")
    _parquet_events(data, ids_sql, files=files)
    result = api.score(model, data, out=tmp_path / "out", as_of=AS_OF)
    expected = {"events: duplicate event_id (first row kept)": duplicates} if duplicates else {}
    assert result.quarantined == expected
    assert len(quarantine_rows(tmp_path / "out")) == duplicates

"""Sales feedback: accept/reject decisions with a reason, kept in an append-only store, and what they
say about the model (acceptance by score band and stage; the rules that fire on rejected leads).

Store layout (a folder)::

    decisions/import-<id>.parquet    the valid rows of one import; never rewritten or deleted
    quarantine/import-<id>.parquet   the rows set aside, each with its reason
    imports.jsonl                    one line per import: file, counts

An import validates every row and quarantines the bad ones with a reason, so nothing is lost
silently and earlier imports are never touched; a row already in the store is not stored twice.
When several decisions exist for one lead, the latest (``decided_at``, then import order) counts.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from leadscore.errors import DataError, Issue
from leadscore.learn.jsonable import Jsonable
from leadscore.learn.outcomes import nearest, q

DECISIONS = ("accept", "reject")
REASONS = ("wrong_title", "no_budget", "poor_fit", "student", "competitor", "unsupported_region", "not_ready")
REQUIRED_COLUMNS = ("lead_id", "decision")
OPTIONAL_COLUMNS = ("reason", "decided_at", "rep")
STORE_COLUMNS = ("lead_id VARCHAR, decision VARCHAR, reason VARCHAR, decided_at TIMESTAMP, rep VARCHAR, "
                 "import_id VARCHAR, imported_at TIMESTAMP, source_file VARCHAR, source_row BIGINT")


@dataclass(frozen=True)
class FeedbackImport(Jsonable):
    """What one import did: rows read, stored, set aside (by reason) and already in the store."""

    store: str
    file: str
    import_id: str | None
    rows: int
    stored: int
    already_stored: int
    quarantined: dict[str, int]
    rejects_without_reason: int
    decisions_in_store: int
    files: dict[str, str]


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def _read_file(con: duckdb.DuckDBPyConnection, file: Path) -> list[tuple[int, str, str]]:
    """Load ``file`` as table ``fb_raw`` (all text, with ``__row``); return malformed CSV lines."""
    if not file.is_file():
        raise DataError(f"feedback file {str(file)!r} does not exist",
                        [Issue("not found", file=str(file), hint="give a CSV or Parquet file of decisions")])
    path = _lit(str(file))
    suffix = file.suffix.lower()
    try:
        if suffix == ".parquet":
            con.execute(f"CREATE TEMP TABLE fb_file AS SELECT * FROM read_parquet({path})")
            rejects: list[tuple[int, str, str]] = []
        elif suffix in (".csv", ".tsv", ".txt", ".gz"):
            con.execute(f"CREATE TEMP TABLE fb_file AS SELECT * FROM read_csv({path}, header=true, "
                        "all_varchar=true, store_rejects=true, rejects_table='fb_rej', rejects_scan='fb_scan')")
            rejects = [(int(line or 0), str(message).splitlines()[0], str(text or "")) for line, message, text in
                       con.execute("SELECT line, min(error_message), min(csv_line) FROM fb_rej "
                                   "GROUP BY file_id, line ORDER BY line").fetchall()]
        else:
            raise DataError(f"feedback file {file.name!r}: unknown format",
                            [Issue("not CSV or Parquet", file=str(file), hint="give a .csv or .parquet file")])
    except duckdb.Error as exc:
        raise DataError(f"cannot read feedback file {file}: {str(exc).splitlines()[0]}",
                        [Issue("unreadable file", file=str(file),
                               hint="check it is CSV with a header row, or Parquet")]) from None
    columns = [str(r[0]) for r in con.execute("DESCRIBE fb_file").fetchall()]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise DataError(f"feedback file {file.name!r} has no column(s) {', '.join(repr(m) for m in missing)}",
                        [Issue(f"no column {m!r}", file=str(file), hint=nearest(m, columns)
                               + "; a feedback file has lead_id, decision (accept|reject), reason, "
                                 "and optional decided_at and rep") for m in missing])
    picks = [f"CAST({q(c)} AS VARCHAR) AS {q(c)}" if c in columns else f"CAST(NULL AS VARCHAR) AS {q(c)}"
             for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)]
    con.execute(f"CREATE TEMP TABLE fb_raw AS SELECT row_number() OVER () AS __row, {', '.join(picks)} "
                "FROM fb_file")
    return rejects


_CHECKS = (
    ("missing lead_id", "lead_id IS NULL"),
    ("decision is not accept or reject", "decision IS NULL OR decision NOT IN ({decisions})"),
    ("unknown rejection reason", "reason IS NOT NULL AND reason NOT IN ({reasons})"),
    ("accept with a rejection reason", "decision = 'accept' AND reason IS NOT NULL"),
    ("unparseable decided_at", "decided_raw IS NOT NULL AND decided_at IS NULL"),
    ("duplicate row in file", "dup > 1"),
)


def import_feedback(file: str | Path, store: str | Path, *, now: datetime | None = None) -> FeedbackImport:
    """Validate ``file`` and append its good rows to the feedback ``store`` (created if needed).

    Raises
    ------
    DataError
        The file is missing, unreadable, lacks ``lead_id``/``decision``, or the store cannot be
        written. The store is unchanged then.
    """
    source, folder = Path(file), Path(store)
    when = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None, microsecond=0)
    import_id = f"{when:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    con = _connect()
    try:
        rejects = _read_file(con, source)
        decisions = ", ".join(_lit(d) for d in DECISIONS)
        reasons = ", ".join(_lit(r) for r in REASONS)
        con.execute(
            "CREATE TEMP TABLE fb_norm AS SELECT __row, lead_id, decision, reason, decided_raw, decided_at, rep, "
            "row_number() OVER (PARTITION BY lead_id, decision, reason, decided_at, rep ORDER BY __row) AS dup "
            "FROM (SELECT __row, nullif(trim(lead_id), '') AS lead_id, nullif(lower(trim(decision)), '') AS "
            "decision, nullif(lower(trim(reason)), '') AS reason, nullif(trim(decided_at), '') AS decided_raw, "
            "CAST(TRY_CAST(nullif(trim(decided_at), '') AS TIMESTAMPTZ) AS TIMESTAMP) AS decided_at, "
            "nullif(trim(rep), '') AS rep FROM fb_raw)")
        cases = " ".join(f"WHEN {cond.format(decisions=decisions, reasons=reasons)} THEN {_lit(name)}"
                         for name, cond in _CHECKS)
        con.execute(f"CREATE TEMP TABLE fb_checked AS SELECT *, CASE {cases} END AS problem FROM fb_norm")
        stored_glob = folder / "decisions" / "*.parquet"
        has_store = any((folder / "decisions").glob("*.parquet")) if (folder / "decisions").is_dir() else False
        already = "false"
        if has_store:
            con.execute(f"CREATE TEMP VIEW fb_store AS SELECT * FROM read_parquet({_lit(str(stored_glob))}, "
                        "union_by_name=true)")
            already = ("EXISTS (SELECT 1 FROM fb_store s WHERE s.lead_id = c.lead_id AND s.decision = c.decision "
                       "AND s.reason IS NOT DISTINCT FROM c.reason AND s.decided_at IS NOT DISTINCT FROM "
                       "c.decided_at AND s.rep IS NOT DISTINCT FROM c.rep)")
        con.execute(f"CREATE TEMP TABLE fb_new AS SELECT c.lead_id, c.decision, c.reason, c.decided_at, c.rep, "
                    f"{_lit(import_id)} AS import_id, ?::TIMESTAMP AS imported_at, ? AS source_file, "
                    f"c.__row AS source_row, {already} AS already FROM fb_checked c WHERE problem IS NULL",
                    [when, str(source)])
        quarantine = {str(r): int(n) for r, n in con.execute(
            "SELECT problem, count(*) FROM fb_checked WHERE problem IS NOT NULL GROUP BY 1 ORDER BY 1").fetchall()}
        for _line, _message, _text in rejects:
            quarantine["malformed CSV row"] = quarantine.get("malformed CSV row", 0) + 1
        row = con.execute("SELECT count(*) FILTER (NOT already), count(*) FILTER (already), "
                          "count(*) FILTER (NOT already AND decision = 'reject' AND reason IS NULL) FROM fb_new"
                          ).fetchall()[0]
        stored, already_stored, no_reason = int(row[0]), int(row[1]), int(row[2])
        rows = int(con.execute("SELECT count(*) FROM fb_raw").fetchall()[0][0]) + len(rejects)
        files = _write(con, folder, import_id, stored, rejects, quarantine)
        summary = {"import_id": import_id, "imported_at": when.isoformat(), "file": str(source), "rows": rows,
                   "stored": stored, "already_stored": already_stored, "quarantined": quarantine}
        _append_log(folder, summary)
        total = stored_decisions(folder, con=con)
    finally:
        con.close()
    return FeedbackImport(store=str(folder), file=str(source), import_id=import_id, rows=rows, stored=stored,
                          already_stored=already_stored, quarantined=quarantine, rejects_without_reason=no_reason,
                          decisions_in_store=total, files=files)


def _write(con: duckdb.DuckDBPyConnection, folder: Path, import_id: str, stored: int,
           rejects: list[tuple[int, str, str]], quarantine: dict[str, int]) -> dict[str, str]:
    """Write the new decisions and the quarantined rows, each via a temporary file and a rename."""
    files: dict[str, str] = {}
    try:
        for sub in ("decisions", "quarantine"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        if stored:
            target = folder / "decisions" / f"import-{import_id}.parquet"
            _copy(con, "SELECT * EXCLUDE (already) FROM fb_new WHERE NOT already ORDER BY source_row", target)
            files["decisions"] = str(target)
        if quarantine:
            con.execute("CREATE TEMP TABLE fb_quarantine (source_row BIGINT, reason VARCHAR, record VARCHAR)")
            con.execute("INSERT INTO fb_quarantine SELECT c.__row, c.problem, CAST(to_json(r) AS VARCHAR) "
                        "FROM fb_checked c JOIN fb_raw r USING (__row) WHERE c.problem IS NOT NULL")
            for line, message, text in rejects:
                con.execute("INSERT INTO fb_quarantine VALUES (?, ?, ?)",
                            [line, f"malformed CSV row: {message}", text])
            target = folder / "quarantine" / f"import-{import_id}.parquet"
            _copy(con, "SELECT * FROM fb_quarantine ORDER BY source_row", target)
            files["quarantine"] = str(target)
    except OSError as exc:
        raise DataError(f"cannot write to the feedback store {folder}: {exc.strerror or exc}",
                        [Issue(str(exc), file=str(folder), hint="give --store a writable folder")]) from None
    return files


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    con.execute(f"COPY ({query}) TO {_lit(str(partial))} (FORMAT parquet)")
    os.replace(partial, target)


def _append_log(folder: Path, summary: dict[str, Any]) -> None:
    try:
        with (folder / "imports.jsonl").open("a", encoding="utf-8") as log:
            log.write(json.dumps(summary, sort_keys=True) + "\n")
    except OSError as exc:
        raise DataError(f"cannot write to the feedback store {folder}: {exc.strerror or exc}",
                        [Issue(str(exc), file=str(folder), hint="give --store a writable folder")]) from None


def stored_decisions(store: str | Path, *, con: duckdb.DuckDBPyConnection | None = None) -> int:
    """How many decisions the store holds (0 for an empty or new store)."""
    folder = Path(store) / "decisions"
    if not folder.is_dir() or not any(folder.glob("*.parquet")):
        return 0
    own = con is None
    con = con or _connect()
    try:
        row = con.execute(f"SELECT count(*) FROM read_parquet({_lit(str(folder / '*.parquet'))}, "
                          "union_by_name=true)").fetchall()
        return int(row[0][0])
    finally:
        if own:
            con.close()


def check_store(store: str | Path) -> Path:
    """The store's decisions folder, or a DataError if the store is missing or empty."""
    folder = Path(store)
    files = folder / "decisions"
    if not folder.is_dir():
        raise DataError(f"feedback store {str(folder)!r} does not exist",
                        [Issue("not found", file=str(folder),
                               hint="import decisions first: leadscore feedback import FILE --store DIR")])
    if not files.is_dir() or not any(files.glob("*.parquet")):
        raise DataError(f"feedback store {str(folder)!r} holds no decisions",
                        [Issue("empty store", file=str(folder),
                               hint="import decisions first: leadscore feedback import FILE --store DIR")])
    return files


def load_latest_decisions(con: duckdb.DuckDBPyConnection, store: str | Path) -> int:
    """Table ``fb_latest`` (lead_id, decision, reason): the latest decision per lead; return rows."""
    files = check_store(store)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE fb_latest AS SELECT lead_id, decision, reason FROM "
        f"read_parquet({_lit(str(files / '*.parquet'))}, union_by_name=true) QUALIFY row_number() OVER "
        "(PARTITION BY lead_id ORDER BY decided_at DESC NULLS LAST, imported_at DESC, import_id DESC, "
        "source_row DESC) = 1")
    return int(con.execute("SELECT count(*) FROM fb_latest").fetchall()[0][0])

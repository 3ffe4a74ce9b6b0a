"""Write a scoring session's results: current scores (replaced atomically) and history (appended).

A run writes into a temporary folder first and moves files into place only when everything
succeeded, so a failed run leaves earlier outputs and history exactly as they were.
Directory layout (``--out DIR``)::

    lead_scores.parquet   account_scores.parquet   quarantine.parquet
    score_history/run-<id>.parquet   stage_transitions/run-<id>.parquet   runs.jsonl

With ``--out FILE.duckdb`` the same tables live in one DuckDB file, written in one transaction.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from leadscore.backends.duckdb_engine import Session, translate_errors
from leadscore.errors import DataError, Issue

Format = Literal["parquet", "csv"]


@dataclass(frozen=True)
class WrittenOutputs:
    location: str
    run_id: str
    files: dict[str, str]
    stage_changes: int


OUT_HINT = "give --out a writable folder, or a .duckdb file that is a DuckDB database or does not exist yet"


def _cannot_write(out: Path, exc: OSError) -> DataError:
    return DataError(f"cannot write outputs to {out}: {exc.strerror or exc}",
                     [Issue(str(exc), file=str(out), hint=OUT_HINT)])


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def new_run_id() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


REASON_PREFIX = "why:"


def _split_columns(session: Session) -> tuple[list[str], list[str]]:
    """Public lead-score columns, and the explanation item columns (``why:<item>``)."""
    names = [str(row[0]) for row in session.con.execute("DESCRIBE lead_scores").fetchall()]
    return [n for n in names if not n.startswith(REASON_PREFIX)], [n for n in names
                                                                   if n.startswith(REASON_PREFIX)]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lead_scores_select(session: Session) -> str:
    public, _items = _split_columns(session)
    return f"SELECT {', '.join(_q(c) for c in public)} FROM lead_scores"


def lead_reasons_select(session: Session) -> str:
    """One row per lead, one column per explanation item; the items of a row add up to its total."""
    _public, items = _split_columns(session)
    columns = ", ".join(f"coalesce({_q(c)}, 0.0) AS {_q(c.removeprefix(REASON_PREFIX))}" for c in items)
    return f"SELECT lead_id, {columns} FROM lead_scores"


def _history_select(session: Session, run_id: str) -> str:
    layers = ", ".join(f'"{layer.name}"' for layer in session.plan.layers)
    return (f"SELECT {_lit(run_id)} AS run_id, {_lit(session.plan.version_hash)} AS model_version, "
            f"{_lit(session.plan.name)} AS model, TIMESTAMP {_lit(session.as_of.isoformat(sep=' '))} AS as_of, "
            f"lead_id, {layers}, total, grade, stage FROM lead_scores")


def _transitions_select(session: Session, run_id: str, previous: str | None) -> str:
    """Leads whose stage changed since the previous run (new leads come from NULL)."""
    base = (f"SELECT {_lit(run_id)} AS run_id, {_lit(session.plan.version_hash)} AS model_version, "
            f"TIMESTAMP {_lit(session.as_of.isoformat(sep=' '))} AS as_of, n.lead_id, ")
    if previous is None:
        return base + "CAST(NULL AS VARCHAR) AS from_stage, n.stage AS to_stage, n.total FROM lead_scores n"
    return (base + "p.stage AS from_stage, n.stage AS to_stage, n.total FROM lead_scores n "
            f"LEFT JOIN {previous} p ON p.lead_id = n.lead_id "
            "WHERE p.stage IS DISTINCT FROM n.stage")


def write_directory(session: Session, out: Path, *, fmt: Format = "parquet",
                    run_id: str | None = None, reasons_select: str | None = None) -> WrittenOutputs:
    """Write current tables (atomically replaced) and append this run to the history folders.

    ``reasons_select`` replaces the explanation items read from ``lead_scores`` (an incremental
    run keeps them in a table of their own)."""
    run = run_id or new_run_id()
    staging = out / f".staging-{run}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as exc:
        raise _cannot_write(out, exc) from None
    con = session.con
    ext = fmt
    # Current tables are rewritten every run: Snappy writes them fastest. History only grows, so
    # it is worth zstd's smaller files.
    options = "(FORMAT parquet, COMPRESSION snappy)" if fmt == "parquet" else "(FORMAT csv, HEADER true)"
    history_options = "(FORMAT parquet, COMPRESSION zstd)" if fmt == "parquet" else options
    previous_file = out / f"lead_scores.{ext}"
    previous = None
    changes_row: tuple[Any, ...] | None = None
    try:
        with translate_errors("writing outputs", hint=OUT_HINT):
            if previous_file.exists():
                reader = "read_parquet" if fmt == "parquet" else "read_csv"
                con.execute(f"CREATE OR REPLACE TEMP VIEW previous_scores AS SELECT lead_id, stage "
                            f"FROM {reader}({_lit(str(previous_file))})")
                previous = "previous_scores"
            lead_select = lead_scores_select(session)
            account_select = "SELECT * FROM account_scores" if fmt == "parquet" else (
                "SELECT * REPLACE (CAST(to_json(reasons) AS VARCHAR) AS reasons, "
                "CAST(to_json(top_leads) AS VARCHAR) AS top_leads, "
                "CAST(to_json(committee_roles) AS VARCHAR) AS committee_roles) FROM account_scores")
            plan = {
                f"lead_scores.{ext}": lead_select,
                f"lead_reasons.{ext}": reasons_select or lead_reasons_select(session),
                f"account_scores.{ext}": account_select,
                f"quarantine.{ext}": "SELECT * FROM quarantine",
                f"score_history/run-{run}.{ext}": _history_select(session, run),
                f"stage_transitions/run-{run}.{ext}": _transitions_select(session, run, previous),
            }
            for name, select in plan.items():
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                chosen = history_options if "/" in name else options
                written = con.execute(f"COPY ({select}) TO {_lit(str(target))} {chosen}").fetchall()
                if name.startswith("stage_transitions/"):
                    changes_row = written[0] if written else None  # COPY returns the rows it wrote
        try:  # every folder first: a problem here must be found before any file is replaced
            for name in plan:
                (out / name).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot_write(out, exc) from None
        files: dict[str, str] = {}
        for name in plan:
            final = out / name
            os.replace(staging / name, final)
            files[name.split("/")[0].split(".")[0]] = str(final)
        record = {"run_id": run, "model": session.plan.name, "model_version": session.plan.version_hash,
                  "as_of": session.as_of.isoformat(), "data": session.source,
                  "written_at": datetime.now(UTC).isoformat(),
                  "quarantined": sum(session.quarantine_counts.values())}
        with open(out / "runs.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return WrittenOutputs(str(out), run, files, int(changes_row[0]) if changes_row else 0)


def write_database(session: Session, path: Path, *, run_id: str | None = None) -> WrittenOutputs:
    """Write the same tables into a DuckDB file in one transaction (history tables appended)."""
    run = run_id or new_run_id()
    con = session.con
    alias = "out_db"
    with translate_errors(f"writing {path}", hint=OUT_HINT):
        con.execute(f"ATTACH {_lit(str(path))} AS {alias}")
        try:
            con.execute("BEGIN TRANSACTION")
            exists = {r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [alias]).fetchall()}
            previous = f"{alias}.lead_scores" if "lead_scores" in exists else None
            transitions = _transitions_select(session, run, previous)
            history = _history_select(session, run)
            con.execute(f"CREATE OR REPLACE TEMP TABLE new_transitions AS {transitions}")
            for table, select in (("score_history", history), ("stage_transitions",
                                                                "SELECT * FROM new_transitions")):
                if table in exists:
                    con.execute(f"INSERT INTO {alias}.{table} BY NAME {select}")
                else:
                    con.execute(f"CREATE TABLE {alias}.{table} AS {select}")
            for table, select in (("lead_scores", lead_scores_select(session)),
                                  ("lead_reasons", lead_reasons_select(session)),
                                  ("account_scores", "SELECT * FROM account_scores"),
                                  ("quarantine", "SELECT * FROM quarantine")):
                con.execute(f"CREATE OR REPLACE TABLE {alias}.{table} AS {select}")
            runs = (f"SELECT {_lit(run)} AS run_id, {_lit(session.plan.name)} AS model, "
                    f"{_lit(session.plan.version_hash)} AS model_version, "
                    f"TIMESTAMP {_lit(session.as_of.isoformat(sep=' '))} AS as_of, "
                    f"CAST(now() AS TIMESTAMP) AS written_at")
            if "runs" in exists:
                con.execute(f"INSERT INTO {alias}.runs BY NAME {runs}")
            else:
                con.execute(f"CREATE TABLE {alias}.runs AS {runs}")
            row = con.execute("SELECT count(*) FROM new_transitions").fetchone()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.execute(f"DETACH {alias}")
    return WrittenOutputs(str(path), run, {"database": str(path)}, int(row[0]) if row else 0)

"""Find and open the input tables (leads, events, accounts) as DuckDB views.

A data source is a directory of ``leads``/``events``/``accounts`` files (Parquet or CSV, the
layout ``gen.py`` and ``leadscore demo`` write) or a DuckDB database file with those tables.
CSV rows the reader cannot parse are kept as rejects (with line and reason) for the quarantine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from leadscore.errors import DataError, Issue

TABLES = ("leads", "events", "accounts")
REQUIRED = ("leads", "events")
EXTENSIONS = (".parquet", ".csv", ".csv.gz", ".tsv")


INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                           "UINTEGER", "UBIGINT"})
"""DuckDB's integer column types, as ``DESCRIBE`` names them."""

@dataclass(frozen=True)
class InputTable:
    name: str
    relation: str  # the view name inside the connection
    source: str
    columns: dict[str, str]


@dataclass
class OpenedInputs:
    """Views ``src_leads``, ``src_events``, ``src_accounts`` (if present) in a connection."""

    tables: dict[str, InputTable]
    as_of_hint: datetime | None = None
    csv_rejects: list[tuple[str, int, str, str]] = field(default_factory=list)


def _quote_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _find_file(directory: Path, name: str) -> Path | None:
    for ext in EXTENSIONS:
        candidate = directory / f"{name}{ext}"
        if candidate.exists():
            return candidate
    folder = directory / name
    if folder.is_dir() and any(folder.glob("*.parquet")):
        return folder
    return None


def open_inputs(con: duckdb.DuckDBPyConnection, source: str | Path, *, time_columns: dict[str, str]
                ) -> OpenedInputs:
    """Register the source's tables as views ``src_<table>``; raise DataError naming what is missing."""
    path = Path(source)
    if not path.exists():
        raise DataError(f"data source {str(path)!r} does not exist",
                        [Issue("not found", file=str(path),
                               hint="give a directory with leads and events files (Parquet or CSV) "
                                    "or a DuckDB file with leads and events tables")])
    if path.is_file():
        return _open_database(con, path)
    opened = OpenedInputs(tables={})
    for name in TABLES:
        file = _find_file(path, name)
        if file is None:
            if name in REQUIRED:
                raise DataError(f"{path} has no {name} table",
                                [Issue(f"missing {name}.parquet or {name}.csv", file=str(path),
                                       hint=f"write the {name} table as {name}.parquet or {name}.csv "
                                            "in that directory")])
            continue
        view = f"src_{name}"
        if file.suffix == ".parquet" or file.is_dir():
            target = _quote_path(file / "*.parquet") if file.is_dir() else _quote_path(file)
            _execute(con, f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM read_parquet({target})", file)
        else:
            _open_csv(con, name, view, file, time_columns.get(name), opened)
        opened.tables[name] = InputTable(name, view, str(file), _columns(con, view))
    meta = path / "meta.json"
    if meta.exists():
        try:
            as_of = json.loads(meta.read_text()).get("as_of")
            opened.as_of_hint = datetime.fromisoformat(as_of) if as_of else None
        except (ValueError, OSError, AttributeError):
            opened.as_of_hint = None
    return opened


def _execute(con: duckdb.DuckDBPyConnection, sql: str, file: Path) -> None:
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        raise DataError(f"cannot read {file}: {str(exc).splitlines()[0]}",
                        [Issue("unreadable input file", file=str(file),
                               hint="check that the file is valid Parquet/CSV with a header row")]) from None


def _open_csv(con: duckdb.DuckDBPyConnection, name: str, view: str, file: Path, time_column: str | None,
              opened: OpenedInputs) -> None:
    """CSV: malformed rows become rejects; the time column is read as text and parsed later."""
    quoted = _quote_path(file)
    types = f", types={{'{time_column}': 'VARCHAR'}}" if time_column and "'" not in time_column else ""
    table = f"csv_{name}"
    _execute(con, f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_csv({quoted}, header=true, "
                  f"store_rejects=true, rejects_table='rej_{name}', rejects_scan='rejscan_{name}'"
                  f"{types})", file)
    # DuckDB may record several errors for one line (one per surplus column): one row, one reject.
    rows = con.execute(f"SELECT line, min(error_message), min(csv_line) FROM rej_{name} "
                       "GROUP BY file_id, line ORDER BY line").fetchall()
    opened.csv_rejects.extend((name, int(line or 0), str(message).splitlines()[0], str(text or ""))
                              for line, message, text in rows)
    con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {table}")


def _open_database(con: duckdb.DuckDBPyConnection, path: Path) -> OpenedInputs:
    try:
        con.execute(f"ATTACH {_quote_path(path)} AS src (READ_ONLY)")
    except duckdb.Error as exc:
        raise DataError(f"cannot open {path} as a DuckDB database: {str(exc).splitlines()[0]}",
                        [Issue("not a DuckDB file", file=str(path),
                               hint="give a DuckDB database file or a directory of Parquet/CSV files")]
                        ) from None
    present = {row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' "
        "UNION SELECT view_name FROM duckdb_views() WHERE database_name = 'src'").fetchall()}
    opened = OpenedInputs(tables={})
    for name in TABLES:
        if name not in present:
            if name in REQUIRED:
                raise DataError(f"{path} has no table {name!r}",
                                [Issue(f"missing table {name}", file=str(path),
                                       hint=f"tables found: {', '.join(sorted(present)) or 'none'}")])
            continue
        view = f"src_{name}"
        con.execute(f'CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM src.main."{name}"')
        opened.tables[name] = InputTable(name, view, f"{path}:{name}", _columns(con, view))
    return opened


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE {relation}").fetchall()
    return {str(row[0]): str(row[1]) for row in rows}

"""Helpers for the export tests: a real PostgreSQL server, loading tables, comparing with DuckDB.

The server is Debian's ``postgresql`` package (``.ci/run`` installs it): ``initdb`` into a temp
folder, ``pg_ctl start`` on a free port on 127.0.0.1, stopped at the end. Postgres refuses to run
as root, so under root the folder is handed to the ``postgres`` system user and commands run
through ``runuser``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

TOLERANCE = 1e-9


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/<ver>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql (.ci/run does this)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PASSWORD_USER = "leadscore_pw"
"""The one role of the test server that must authenticate with a password (scram-sha-256)."""


@dataclass(frozen=True)
class PostgresServer:
    port: int
    user: str = "leadscore"
    dbname: str = "postgres"

    def conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={self.dbname}"


def _as_server_user(command: Sequence[str]) -> list[str]:
    if os.geteuid() != 0:
        return list(command)
    return ["runuser", "-u", "postgres", "--", *command]


def run_postgres(folder: Path) -> Iterator[PostgresServer]:
    """Start a throwaway server in ``folder``; yield it; stop it (generator for a fixture)."""
    binaries = postgres_bin()
    folder.mkdir(parents=True, exist_ok=True)
    data, sockets = folder / "pgdata", folder / "sockets"
    sockets.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
        for parent in folder.parents:  # the server user must reach its folder
            if parent == Path("/") or parent == Path("/tmp"):
                break
            parent.chmod(parent.stat().st_mode | 0o711)
    server = PostgresServer(port=_free_port())
    subprocess.run(_as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", server.user,
                                    "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]),
                   check=True, capture_output=True, timeout=120)
    hba = data / "pg_hba.conf"  # one role must give its password (tests of wrong credentials); others: trust
    hba.write_text(f"host all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    options = f"-h 127.0.0.1 -p {server.port} -k {sockets} -c fsync=off -c full_page_writes=off"
    subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", "60",
                                    "-l", str(folder / "server.log"), "start"]),
                   check=True, capture_output=True, timeout=120)
    try:
        yield server
    finally:
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                                        "stop"]), capture_output=True, timeout=120)


def create_database(server: PostgresServer) -> str:
    """A new empty database on ``server`` (one per test keeps tests apart); return its URL."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server.conninfo(), autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://{server.user}@127.0.0.1:{server.port}/{name}"


PG_TYPES = {"int64": "BIGINT", "int32": "INTEGER", "int16": "SMALLINT", "double": "DOUBLE PRECISION",
            "float": "REAL", "bool": "BOOLEAN", "string": "TEXT", "large_string": "TEXT",
            "timestamp[us]": "TIMESTAMP", "timestamp[ns]": "TIMESTAMP", "date32[day]": "DATE"}


def load_postgres_table(con: Any, name: str, table: pa.Table) -> None:
    """Create ``name`` with the table's columns and copy its rows in (psycopg COPY)."""
    columns = ", ".join(f'"{field.name}" {PG_TYPES[str(field.type)]}' for field in table.schema)
    con.execute(f'DROP TABLE IF EXISTS "{name}"')
    con.execute(f'CREATE TABLE "{name}" ({columns})')
    names = ", ".join(f'"{field.name}"' for field in table.schema)
    with con.cursor().copy(f'COPY "{name}" ({names}) FROM STDIN') as copy:
        for row in table.to_pylist():
            copy.write_row([row[field.name] for field in table.schema])


def normalise(value: Any) -> Any:
    """One comparable shape for values from DuckDB, Postgres, Spark: JSON text and structs as lists."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return normalise(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if hasattr(value, "asDict"):  # a pyspark Row
        return normalise(value.asDict(recursive=True))
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):  # numpy arrays and scalars
        return normalise(value.tolist())
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def same(left: Any, right: Any) -> bool:
    """Equal, with numbers to TOLERANCE (relative for large values) and NULL == NULL."""
    left, right = normalise(left), normalise(right)
    if isinstance(left, bool) or isinstance(right, bool):
        return left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        if isinstance(left, float) and math.isnan(left):
            return isinstance(right, float) and math.isnan(right)
        return abs(float(left) - float(right)) <= TOLERANCE * max(1.0, abs(float(left)))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def compare_rows(expected: dict[Any, dict[str, Any]], actual: dict[Any, dict[str, Any]],
                 columns: Sequence[str]) -> list[str]:
    """Differences between two keyed row sets over ``columns`` (empty when they agree)."""
    problems: list[str] = []
    if set(expected) != set(actual):
        missing, extra = set(expected) - set(actual), set(actual) - set(expected)
        problems.append(f"keys differ: missing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}")
    for key in sorted(set(expected) & set(actual)):
        for column in columns:
            if not same(expected[key].get(column), actual[key].get(column)):
                problems.append(f"{key}.{column}: expected {expected[key].get(column)!r}, "
                                f"got {actual[key].get(column)!r}")
                if len(problems) > 20:
                    return problems
    return problems


def keyed(rows: Sequence[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in rows}

"""Shared fixtures for the engine and CLI tests: real data folders in tmp_path, the real CLI.

``leadscore_cli`` runs the real entry point (``leadscore.cli.main.run``: typer app plus the error
handler) in this process, so a test sees exactly the exit code, stdout and stderr a user would,
without paying for a new interpreter per call. Tests that must prove something about a fresh
process (no traceback at all, no heavy imports) use a subprocess instead.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
BENCH = SHARED / "bench"
REFERENCE_MODEL = REPO_ROOT / "benchmarks" / "reference.yaml"
BUNDLED_MODEL = REPO_ROOT / "src" / "leadscore" / "models" / "b2b_saas.yaml"

TINY_AS_OF = "2026-06-30T00:00:00"
"""as_of of the tiny data set: every tiny event is before it."""


@dataclass(frozen=True)
class CliRun:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def leadscore_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                  ) -> Callable[..., CliRun]:
    """Run ``leadscore ARGS...`` through the real entry point; return exit code and output."""
    from leadscore.cli.main import run

    def invoke(*args: str | Path) -> CliRun:
        capsys.readouterr()  # start from empty buffers
        monkeypatch.setattr(sys, "argv", ["leadscore", *map(str, args)])
        try:
            run()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return invoke


def run_leadscore_process(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh interpreter, as a user's shell runs it."""
    return subprocess.run([sys.executable, "-m", "leadscore.cli.main", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


TINY_LEADS: list[dict[str, Any]] = [
    {"lead_id": 1, "account_id": 10, "email": "ann@acme.com", "seniority": "vp", "job_title": "VP Sales",
     "region": "europe", "created_at": _ts("2026-01-05T09:00:00")},
    {"lead_id": 2, "account_id": 10, "email": "bob@gmail.com", "seniority": "manager",
     "job_title": "Sales Manager", "region": "apac", "created_at": _ts("2026-02-01T09:00:00")},
    {"lead_id": 3, "account_id": 20, "email": "cy@initech.io", "seniority": "individual",
     "job_title": "Marketing Intern", "region": "north_america", "created_at": _ts("2026-03-01T09:00:00")},
    {"lead_id": 4, "account_id": None, "email": "dee@freelance.net", "seniority": "director",
     "job_title": "Director of IT", "region": "europe", "created_at": _ts("2026-04-01T09:00:00")},
]
TINY_EVENTS: list[dict[str, Any]] = [
    {"event_id": 1, "lead_id": 1, "ts": _ts("2026-06-01T10:00:00"), "type": "email_open"},
    {"event_id": 2, "lead_id": 1, "ts": _ts("2026-06-10T10:00:00"), "type": "demo_request"},
    {"event_id": 3, "lead_id": 2, "ts": _ts("2026-06-20T10:00:00"), "type": "email_open"},
    {"event_id": 4, "lead_id": 2, "ts": _ts("2026-06-21T10:00:00"), "type": "page_view"},
    {"event_id": 5, "lead_id": 3, "ts": _ts("2026-05-01T10:00:00"), "type": "page_view"},
    {"event_id": 6, "lead_id": 4, "ts": _ts("2026-06-25T10:00:00"), "type": "demo_request"},
]
TINY_ACCOUNTS: list[dict[str, Any]] = [
    {"account_id": 10, "industry": "technology", "employees": 800},
    {"account_id": 20, "industry": "education", "employees": 40},
]

TINY_MODEL = """\
model: tiny
layers:
  fit:
    rules:
      - {name: senior, when: "seniority IN ('vp', 'director')", points: 10}
      - {name: tech, when: "account.industry = 'technology'", points: 5}
  engagement:
    groups:
      activity:
        cap: 50
        events: {email_open: 2, page_view: 1, demo_request: 40}
total: {floor: 0}
grades: {A: "fit >= 10", B: "true"}
stages:
  - {name: hot, min_score: 40, action: Call}
  - {name: cold, min_score: 0, action: Nurture}
"""
"""A small model that validates against the tiny data set."""


def write_table(folder: Path, name: str, rows: Sequence[dict[str, Any]], *, fmt: str = "parquet",
                schema: pa.Schema | None = None) -> Path:
    """Write rows as ``folder/name.parquet`` (or .csv) with pyarrow."""
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(list(rows), schema=schema)
    if fmt == "parquet":
        target = folder / f"{name}.parquet"
        pq.write_table(table, target)
    else:
        import pyarrow.csv as pa_csv

        target = folder / f"{name}.csv"
        pa_csv.write_csv(table, target)
    return target


TINY_SCHEMAS = {
    "leads": pa.schema([("lead_id", pa.int64()), ("account_id", pa.int64()), ("email", pa.string()),
                        ("seniority", pa.string()), ("job_title", pa.string()), ("region", pa.string()),
                        ("created_at", pa.timestamp("us"))]),
    "events": pa.schema([("event_id", pa.int64()), ("lead_id", pa.int64()), ("ts", pa.timestamp("us")),
                         ("type", pa.string())]),
    "accounts": pa.schema([("account_id", pa.int64()), ("industry", pa.string()),
                           ("employees", pa.int64())]),
}


def write_tiny_data(folder: Path, *, fmt: str = "parquet", leads: Sequence[dict[str, Any]] | None = None,
                    events: Sequence[dict[str, Any]] | None = None,
                    accounts: Sequence[dict[str, Any]] | None = None) -> Path:
    """A complete tiny data folder (leads, events, accounts); any table can be replaced."""
    tables = {"leads": TINY_LEADS if leads is None else leads,
              "events": TINY_EVENTS if events is None else events,
              "accounts": TINY_ACCOUNTS if accounts is None else accounts}
    for name, rows in tables.items():
        write_table(folder, name, rows, fmt=fmt, schema=TINY_SCHEMAS[name])
    return folder


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One throwaway PostgreSQL server for the whole session (export tests, the Postgres store).

    Started on first use only; a machine without PostgreSQL fails here with the install hint."""
    from export_support import run_postgres

    yield from run_postgres(tmp_path_factory.mktemp("postgres"))


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny data set as Parquet (read-only: copy it before changing anything)."""
    return write_tiny_data(tmp_path_factory.mktemp("tiny") / "data")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny_model") / "tiny.yaml"
    path.write_text(TINY_MODEL, encoding="utf-8")
    return path


def generate_bench_data(out: Path, *, leads: int, seed: int) -> Path:
    """Synthetic funnel data of the shared benchmark kit (gen.py), as a user would generate it."""
    subprocess.run([sys.executable, str(BENCH / "gen.py"), "--leads", str(leads), "--seed", str(seed),
                    "--out", str(out)], check=True, capture_output=True, timeout=120)
    return out


@pytest.fixture(scope="session")
def bench_data_2000(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """gen.py data: 2,000 leads, seed 1 (read-only)."""
    yield generate_bench_data(tmp_path_factory.mktemp("bench_2000") / "data", leads=2000, seed=1)

"""Learning data: the usual leads/events folder, or a flat table of leads with no events at all.

A flat export (one CSV of leads with a 0/1 outcome, like X Education's ``Leads.csv``) has no
events, and the scoring engine wants an events table. Rather than teach the engine a second input
shape, :func:`scoring_source` gives it a temporary folder holding a link to the leads file and an
empty events table with the columns the model names, typed so joins on the lead key bind.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from leadscore.backends.inputs import EXTENSIONS
from leadscore.compiler.plan import compile_plan
from leadscore.errors import DataError, Issue
from leadscore.spec.loader import LoadedModel

FLAT_SUFFIXES = frozenset({".csv", ".parquet", ".tsv", ".gz"})


@dataclass(frozen=True)
class LearningSource:
    """Where to score from (``path``), and whether the data is a flat table with no events."""

    path: Path
    flat: bool
    original: str


def _leads_file(folder: Path) -> Path | None:
    for ext in EXTENSIONS:
        candidate = folder / f"leads{ext}"
        if candidate.exists():
            return candidate
    return None


def _has_events(folder: Path) -> bool:
    return any((folder / f"events{ext}").exists() for ext in EXTENSIONS) or (
        (folder / "events").is_dir() and any((folder / "events").glob("*.parquet")))


def _empty_events(loaded: LoadedModel, leads_file: Path, target: Path) -> None:
    """An empty events table with the mapped key/lead/time/type columns and every column a rule's
    ``where`` names; the lead column takes the leads key's type."""
    plan = compile_plan(loaded)
    con = duckdb.connect()
    try:
        reader = "read_parquet" if leads_file.suffix == ".parquet" else "read_csv"
        path = "'" + str(leads_file).replace("'", "''") + "'"
        con.execute(f"CREATE VIEW probe AS SELECT * FROM {reader}({path}) LIMIT 0")
        key_type = con.execute("SELECT data_type FROM information_schema.columns "
                               "WHERE table_name = 'probe' AND column_name = ?", [plan.lead_key]).fetchall()
    except duckdb.Error as exc:
        raise DataError(f"cannot read {leads_file}: {str(exc).splitlines()[0]}",
                        [Issue("unreadable leads file", file=str(leads_file),
                               hint="give a CSV (with a header row) or Parquet file of leads")]) from None
    finally:
        con.close()
    lead_type = pa.int64() if key_type and "INT" in str(key_type[0][0]).upper() else pa.string()
    fields = {plan.event_key: pa.string(), plan.event_lead: lead_type, plan.event_time: pa.timestamp("us"),
              plan.event_type: pa.string()}
    for rule in plan.event_rules:
        for ref in (rule.where.refs.values() if rule.where else ()):
            if ref.kind == "event":
                fields.setdefault(ref.name, pa.string())
    schema = pa.schema(list(fields.items()))
    pq.write_table(schema.empty_table(), target)


@contextmanager
def scoring_source(loaded: LoadedModel, data: str | Path) -> Iterator[LearningSource]:
    """The data as the engine can score it; a flat leads table gets an empty events table.

    ``data`` is a folder (leads and events, or leads only), a DuckDB file, or one CSV/Parquet file
    of leads. The temporary folder of a flat source is removed on exit.
    """
    path = Path(data)
    if not path.exists():
        raise DataError(f"data source {str(path)!r} does not exist",
                        [Issue("not found", file=str(path),
                               hint="give a folder of leads (and events), a DuckDB file, or a leads CSV")])
    leads_file: Path | None = None
    if path.is_file() and path.suffix.lower() in FLAT_SUFFIXES:
        leads_file = path
    elif path.is_dir() and not _has_events(path):
        leads_file = _leads_file(path)
        if leads_file is None:
            raise DataError(f"{path} has no leads table",
                            [Issue("missing leads.parquet or leads.csv", file=str(path),
                                   hint="write the leads as leads.csv or leads.parquet in that folder")])
    if leads_file is None:
        yield LearningSource(path, flat=False, original=str(path))
        return
    folder = Path(tempfile.mkdtemp(prefix="leadscore-flat-"))
    try:
        suffix = "".join(leads_file.suffixes[-2:]) if leads_file.name.endswith(".csv.gz") else leads_file.suffix
        link = folder / f"leads{suffix.lower()}"
        try:
            link.symlink_to(leads_file.resolve())
        except OSError:
            shutil.copyfile(leads_file, link)
        _empty_events(loaded, leads_file, folder / "events.parquet")
        yield LearningSource(folder, flat=True, original=str(path))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

"""Data for the learning tests: the synthetic funnel on disk, its sales feedback as a file, and a tiny
hand-made data set whose back-test figures are worked out by hand in the tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from leadscore.synth import generate_funnel

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_MODEL = REPO_ROOT / "src" / "leadscore" / "models" / "b2b_saas.yaml"
FUNNEL_LEADS = 3_000
FUNNEL_SEED = 1
AS_OF = "2026-03-31"


def write_funnel(folder: Path, *, leads: int = FUNNEL_LEADS, seed: int = FUNNEL_SEED) -> Path:
    """The synthetic funnel (leads with outcomes, events, accounts) as Parquet in ``folder``."""
    generate_funnel(leads, seed=seed).write(folder)
    return folder


def shared_funnel(base: Path) -> Path:
    """The funnel under pytest's session folder ``base``, written once and reused by every module
    (generation is deterministic, so each reads the same data; meta.json is written last)."""
    folder = base / f"learn-funnel-{FUNNEL_LEADS}-{FUNNEL_SEED}"
    if not (folder / "meta.json").exists():
        write_funnel(folder)
    return folder


def export_feedback(data: Path, target: Path) -> Path:
    """The funnel's sales decisions (``sales_accepted``/``rejection_reason`` of its MQLs) as a
    feedback CSV: lead_id, decision, reason, decided_at (a day after the MQL), rep."""
    leads = pq.read_table(data / "leads.parquet",
                          columns=["lead_id", "mql_at", "sales_accepted", "rejection_reason"])
    leads = leads.filter(pc.is_valid(leads["sales_accepted"]))
    rows = []
    for row in leads.to_pylist():
        accepted = bool(row["sales_accepted"])
        rows.append({"lead_id": row["lead_id"], "decision": "accept" if accepted else "reject",
                     "reason": None if accepted else row["rejection_reason"],
                     "decided_at": (row["mql_at"] + timedelta(days=1)).isoformat(),
                     "rep": f"rep{row['lead_id'] % 4}"})
    write_csv(target, rows)
    return target


def write_csv(target: Path, rows: list[dict[str, Any]]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    pa_csv.write_csv(pa.Table.from_pylist(rows), target)
    return target


# -- the tiny data set --------------------------------------------------------------------------------

TINY_AS_OF = datetime(2026, 3, 1)
TINY_MODEL = """\
model: tiny-learn
data:
  leads: {key: lead_id, created: created_at}
  events: {key: event_id, lead: lead_id, time: ts, type: type}
layers:
  fit:
    rules:
      - {name: size, column: size, points: {big: 30, mid: 10}}
  engagement:
    groups:
      web:
        events: {demo_request: 20}
stages:
  - {name: hot, min_score: 30}
  - {name: cold, min_score: 0}
"""


def _t(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# lead, created, size, converted, converted_at, mql_at, source
_TINY = [
    (1, "2026-01-01", "big", True, "2026-03-10", "2026-02-01", "web"),
    (2, "2026-01-02", "big", False, None, None, "web"),
    (3, "2026-01-03", "mid", True, "2026-03-20", None, "ads"),
    (4, "2026-01-04", "mid", False, None, "2026-04-15", "ads"),  # MQL after the window: not counted
    (5, "2026-01-05", "none", False, None, None, "web"),
    (6, "2026-01-06", "none", True, "2026-05-01", None, "ads"),  # converts after the window: a 0
    (7, "2026-01-07", "big", True, "2026-02-15", None, "web"),  # converted before T: left out
    (8, "2026-03-05", "big", True, "2026-03-10", None, "web"),  # created after T: left out
    (9, "2026-01-09", "mid", False, None, "2026-03-15", "ads"),
    (10, "2026-01-10", "none", False, None, None, "web"),
]
TINY_LEADS = [{"lead_id": lead, "created_at": _t(created), "size": size, "converted": converted,
               "converted_at": _t(at), "mql_at": _t(mql), "source": source}
              for lead, created, size, converted, at, mql, source in _TINY]
TINY_EVENTS = [
    {"event_id": 1, "lead_id": 1, "ts": datetime(2026, 2, 20), "type": "demo_request"},  # before T: +20
    {"event_id": 2, "lead_id": 4, "ts": datetime(2026, 3, 2), "type": "demo_request"},  # after T: ignored
]
TINY_SCHEMAS = {
    "leads": pa.schema([("lead_id", pa.int64()), ("created_at", pa.timestamp("us")), ("size", pa.string()),
                        ("converted", pa.bool_()), ("converted_at", pa.timestamp("us")),
                        ("mql_at", pa.timestamp("us")), ("source", pa.string())]),
    "events": pa.schema([("event_id", pa.int64()), ("lead_id", pa.int64()), ("ts", pa.timestamp("us")),
                         ("type", pa.string())]),
}


def write_tiny(folder: Path, *, leads: list[dict[str, Any]] | None = None,
               events: list[dict[str, Any]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(leads if leads is not None else TINY_LEADS, schema=TINY_SCHEMAS["leads"]),
                   folder / "leads.parquet")
    pq.write_table(pa.Table.from_pylist(events if events is not None else TINY_EVENTS,
                                        schema=TINY_SCHEMAS["events"]), folder / "events.parquet")
    return folder


def write_tiny_model(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny.yaml"
    path.write_text(TINY_MODEL, encoding="utf-8")
    return path

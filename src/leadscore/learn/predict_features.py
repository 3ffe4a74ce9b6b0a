"""Point-in-time features for the predictive scorer: who the lead is, and what it did before T.

* profile: lead and account columns (numbers as numbers, short text as categories), without keys,
  times, the outcome or lifecycle columns (:func:`leadscore.learn.tune_data.profile_columns`),
  and without columns that predict the outcome on their own (leaks);
* ``days_since_created``;
* behaviour, computed in DuckDB as of T from events strictly before T and never after: per event
  type, the count in the last 7, 30 and 90 days, and ``days_since_last_event``.

What was chosen at training time is saved next to the scorer (``features.json``), so scoring
builds exactly the same columns, as of its own date.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd

from leadscore.backends import duckdb_engine
from leadscore.backends.quarantine import prepare_inputs
from leadscore.compiler.plan import ScoringPlan
from leadscore.errors import DataError, Issue
from leadscore.learn.tune_data import (
    ProfileColumn,
    column_types,
    fetch_columns,
    is_numeric_type,
    profile_values,
    quote,
)
from leadscore.spec.loader import LoadedModel, model_from_dict

WINDOWS_DAYS: tuple[int, ...] = (7, 30, 90)
FORMAT = "leadscore.predict-features"
FORMAT_VERSION = 1
FEATURES_FILE = "features.json"
MAX_LEVELS = 50


@dataclass(frozen=True)
class FeatureSpec:
    """Which features a scorer was trained on and how to rebuild them."""

    source: Literal["events", "flat"]
    profile: tuple[str, ...]
    categorical: tuple[str, ...]
    event_types: tuple[str, ...] = ()
    windows_days: tuple[int, ...] = WINDOWS_DAYS
    lead_key: str = "lead_id"
    missing_tokens: tuple[str, ...] = ()
    training: Mapping[str, Any] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        if self.source == "flat":
            return list(self.profile)
        behaviour = [f"events_{t}_{w}d" for t in self.event_types for w in self.windows_days]
        return [*self.profile, "days_since_created", *behaviour, "days_since_last_event"]

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["training"] = dict(self.training)
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **document}

    @classmethod
    def read(cls, directory: str | Path) -> FeatureSpec:
        path = Path(directory) / FEATURES_FILE
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(f"{path} does not exist; is {directory} a folder written by 'leadscore predict fit'?",
                            [Issue("not a predict artefact", file=str(path),
                                   hint="train one with: leadscore predict fit --data DIR --out FOLDER")]) from None
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read {path}: {exc}") from None
        if document.get("format") != FORMAT or document.get("format_version") != FORMAT_VERSION:
            raise DataError(f"{path}: not a {FORMAT} file of version {FORMAT_VERSION}",
                            [Issue("unsupported artefact", file=str(path), hint="re-train with this leadscore")])
        return cls(source=document["source"], profile=tuple(document["profile"]),
                   categorical=tuple(document["categorical"]), event_types=tuple(document["event_types"]),
                   windows_days=tuple(document["windows_days"]), lead_key=document["lead_key"],
                   missing_tokens=tuple(document["missing_tokens"]), training=document.get("training", {}))

    def write(self, directory: str | Path) -> Path:
        path = Path(directory) / FEATURES_FILE
        path.write_text(json.dumps(self.to_dict(), indent=1, default=str) + "\n", encoding="utf-8")
        return path


MAPPING_MODEL: Mapping[str, Any] = {
    "model": "predict-features",
    "layers": {"none": {"rules": [{"name": "nothing", "when": "false", "points": 0}]}},
    "stages": [{"name": "all"}],
}
"""A model that only names the default data mapping (lead_id, created_at, events' ts and type), so
the engine's input checks and quarantine run exactly as for scoring."""


def open_clean(data: str | Path, loaded: LoadedModel | None = None
               ) -> tuple[duckdb.DuckDBPyConnection, ScoringPlan, datetime | None]:
    """A connection with the engine's clean ``leads``/``events``/``accounts`` views of ``data``."""
    model = loaded or model_from_dict(MAPPING_MODEL)
    con, opened, plan = duckdb_engine.open_data(model, data)
    try:
        with duckdb_engine.translate_errors("checking input rows"):
            prepare_inputs(con, opened, plan)
    except BaseException:
        con.close()
        raise
    return con, plan, opened.as_of_hint


def select_leads_at(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, as_of: datetime) -> int:
    """Temp table ``scoring_leads(lead_id)``: every lead created before ``as_of``."""
    created = plan.lead_created if plan.lead_created in column_types(con, "leads") else None
    where = f" WHERE {quote(created)} IS NULL OR {quote(created)} < ?" if created else ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE scoring_leads AS SELECT {quote(plan.lead_key)} AS lead_id "
                f"FROM leads{where}", [as_of] if created else [])
    return int(con.execute("SELECT count(*) FROM scoring_leads").fetchall()[0][0])


def choose_profile(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, candidates: Sequence[ProfileColumn],
                   values: Mapping[str, npt.NDArray[Any]]) -> tuple[list[ProfileColumn], dict[str, str]]:
    """Numbers and short text; identifiers and free text (many distinct values) are left out."""
    chosen: list[ProfileColumn] = []
    dropped: dict[str, str] = {}
    for column in candidates:
        if is_numeric_type(column.type_name) or column.type_name == "BOOLEAN":
            chosen.append(column)
            continue
        distinct = int(pd.Series(values[column.name], dtype=object).nunique(dropna=True))
        if distinct > MAX_LEVELS or distinct > 0.5 * max(len(values[column.name]), 1):
            dropped[column.name] = f"text with {distinct:,} distinct values (an identifier or free text)"
        else:
            chosen.append(column)
    return chosen, dropped


def event_types_before(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, as_of: datetime) -> tuple[str, ...]:
    rows = con.execute(f"SELECT DISTINCT CAST({quote(plan.event_type)} AS VARCHAR) FROM events "
                       f"WHERE {quote(plan.event_time)} < ? ORDER BY 1", [as_of]).fetchall()
    return tuple(str(row[0]) for row in rows if row[0] is not None)


def build_features(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, spec: FeatureSpec, as_of: datetime, *,
                   relation: str) -> tuple[npt.NDArray[Any], pd.DataFrame]:
    """Lead ids of ``relation`` (by id) and their feature frame, as of ``as_of``."""
    types = {"lead": column_types(con, "leads"), "account": (
        column_types(con, "accounts") if _has_view(con, "accounts") else {})}
    profile: list[ProfileColumn] = []
    for name in spec.profile:
        kind, column = name.split(".", 1)
        if column not in types[kind]:
            raise DataError(f"the model was trained with {name}, which this data does not have",
                            [Issue(f"no column {column!r} in {kind}s", path=name,
                                   hint="score data with the same columns as the training data")])
        profile.append(ProfileColumn(kind, column, types[kind][column]))  # type: ignore[arg-type]
    values = profile_values(con, plan, profile, relation=relation)
    ids = values.pop("lead_id")
    frame = pd.DataFrame({name: _column(values[name], name in spec.categorical) for name in spec.profile})
    frame["days_since_created"] = _days_since_created(con, plan, as_of, relation)
    behaviour = behaviour_features(con, plan, as_of, spec.event_types, spec.windows_days, relation=relation)
    for name in [c for c in spec.columns if c.startswith("events_") or c == "days_since_last_event"]:
        frame[name] = behaviour[name]
    return ids, frame[spec.columns]


def _column(values: npt.NDArray[Any], categorical: bool) -> Any:
    if categorical:
        return pd.Series([None if v is None else str(v) for v in values], dtype=object)
    return np.asarray([np.nan if v is None else float(v) for v in values], dtype=np.float64) \
        if values.dtype == object else values.astype(np.float64)


def _has_view(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = ? AND temporary", [name]).fetchall()
    return bool(rows[0][0])


def _days_since_created(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, as_of: datetime,
                        relation: str) -> npt.NDArray[np.float64]:
    created = plan.lead_created if plan.lead_created in column_types(con, "leads") else None
    if created is None:
        count = int(con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0])
        return np.full(count, np.nan)
    result = fetch_columns(con, f"SELECT date_diff('second', l.{quote(created)}, ?) / 86400.0 AS days "
                                f"FROM {relation} o JOIN leads l ON l.{quote(plan.lead_key)} = o.lead_id "
                                "ORDER BY o.lead_id", [as_of])
    return np.asarray(result["days"], dtype=np.float64)


def behaviour_features(con: duckdb.DuckDBPyConnection, plan: ScoringPlan, as_of: datetime,
                       event_types: Sequence[str], windows_days: Sequence[int], *, relation: str
                       ) -> dict[str, npt.NDArray[np.float64]]:
    """Per type, events in the last N days before ``as_of``; days since the last event of any type.

    Only events with time < ``as_of`` are read: a feature can never see the future.
    """
    ts, lead, kind = quote(plan.event_time), quote(plan.event_lead), quote(plan.event_type)
    counts = ", ".join(f"count(*) FILTER (WHERE e.{ts} >= ?) AS c{w}" for w in windows_days)
    starts = [as_of - timedelta(days=w) for w in windows_days]
    per_type = fetch_columns(
        con, f"SELECT o.lead_id, CAST(e.{kind} AS VARCHAR) AS type, {counts} FROM {relation} o "
             f"JOIN events e ON e.{lead} = o.lead_id WHERE e.{ts} < ? GROUP BY 1, 2", [*starts, as_of])
    last = fetch_columns(
        con, f"SELECT o.lead_id, date_diff('second', max(e.{ts}), ?) / 86400.0 AS days FROM {relation} o "
             f"LEFT JOIN events e ON e.{lead} = o.lead_id AND e.{ts} < ? GROUP BY 1 ORDER BY 1", [as_of, as_of])
    ids = last["lead_id"]
    position = {key: i for i, key in enumerate(ids.tolist())}
    out: dict[str, npt.NDArray[np.float64]] = {}
    rows = np.asarray([position[key] for key in per_type["lead_id"].tolist()], dtype=np.int64)
    types = per_type["type"]
    for event_type in event_types:
        hit = np.asarray(types == event_type, dtype=bool)
        for w in windows_days:
            column = np.zeros(ids.size, dtype=np.float64)
            column[rows[hit]] = np.asarray(per_type[f"c{w}"], dtype=np.float64)[hit]
            out[f"events_{event_type}_{w}d"] = column
    out["days_since_last_event"] = np.asarray(last["days"], dtype=np.float64)
    return out

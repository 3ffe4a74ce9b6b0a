"""Export API: the scoring SQL per dialect, dbt models, Spark and incremental scoring.

    >>> import leadscore
    >>> print(leadscore.export_sql("model.yaml", dialect="postgres").text())
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadscore.backends.dbt_export import DbtExport
from leadscore.backends.dbt_export import export_dbt as _export_dbt
from leadscore.backends.incremental import IncrementalRun
from leadscore.backends.sql_export import ScoringSQL, TableNames, parse_table_names
from leadscore.backends.sql_export import export_sql as _export_sql
from leadscore.results import ScoreResult
from leadscore.spec.loader import LoadedModel
from leadscore.spec.loader import load_model as _load_model

ModelLike = LoadedModel | str | Path


def _model(model: ModelLike) -> LoadedModel:
    return model if isinstance(model, LoadedModel) else _load_model(model)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def export_sql(model: ModelLike, *, dialect: str, tables: TableNames | str | None = None,
               as_of: datetime | None = None) -> ScoringSQL:
    """The scoring SQL of ``model`` for a warehouse dialect, over configurable table names.

    Parameters
    ----------
    model : a loaded model or the path of a model file.
    dialect : ``duckdb``, ``postgres``, ``spark``, ``snowflake`` or ``bigquery``.
    tables : input table names (``TableNames`` or ``"db.leads,db.events,db.accounts"``).
    as_of : score as of this time (naive UTC); default now.

    Returns
    -------
    ScoringSQL with ``lead_scores`` (self-contained) and ``account_scores`` (reads ``lead_scores``).

    Raises
    ------
    ModelError
        A rule uses a construct the dialect cannot express (named with file:line:col).
    BackendError
        Unknown dialect.
    """
    names = tables if isinstance(tables, TableNames) else parse_table_names(tables)
    return _export_sql(_model(model), dialect, as_of=as_of or _now(), tables=names)


def dbt_export(model: ModelLike, out: str | Path, *, dialect: str = "duckdb", source_name: str = "leadscore",
               source_schema: str | None = None, accounts: bool = True) -> DbtExport:
    """Write the model as dbt models into ``out`` (a folder of your dbt project's ``models/``).

    Writes ``lead_scores.sql`` and ``account_scores.sql`` (tables; inputs are the dbt sources
    ``source_name.leads/events/accounts``; ``as_of`` is the var ``leadscore_as_of``) and
    ``schema.yml`` with the sources and tests: unique and not-null ``lead_id``, not-null totals
    and layers, accepted ``stage`` values.

    Raises
    ------
    ModelError
        A rule uses a construct ``dialect`` cannot express.
    DataError
        ``out`` cannot be written.
    """
    return _export_dbt(_model(model), Path(out), dialect=dialect, source_name=source_name,
                       source_schema=source_schema, accounts=accounts)


def score_spark(model: ModelLike, *, data: str | Path | None = None, tables: TableNames | str | None = None,
                out: str | Path | None = None, as_of: datetime | None = None, top: int = 5,
                spark: Any = None) -> ScoreResult:
    """Score on Spark: a folder of Parquet/CSV (``data``) or catalog tables (``tables``).

    ``spark`` is the session to use (any cluster's); by default a local one. Outputs go to ``out``
    as Parquet folders (``lead_scores``, ``lead_reasons``, ``account_scores``).

    Raises
    ------
    ModelError, DataError
        As on DuckDB: unknown columns (with file:line:col), missing tables.
    BackendError
        pyspark is not installed.
    """
    from leadscore.backends import spark_engine

    started = time.perf_counter()
    loaded = _model(model)
    session = spark or spark_engine.local_session()
    names = tables if isinstance(tables, TableNames) or tables is None else parse_table_names(tables)
    leads, events, accounts, hint = spark_engine.read_inputs(session, data=Path(data) if data else None,
                                                             tables=names)
    when = as_of or hint or _now()
    scores = spark_engine.score_frames(session, loaded, leads, events, accounts, as_of=when)
    outputs = spark_engine.write_outputs(scores, Path(out)) if out is not None else {}
    figures = spark_engine.summarise(scores, top)
    return ScoreResult(model=scores.plan.name, model_version=scores.plan.version_hash, as_of=when,
                       quarantined=dict(scores.quarantine_counts), outputs=outputs, run_id=None,
                       stage_changes=None, seconds=round(time.perf_counter() - started, 3), **figures)


def score_incremental(model: ModelLike, data: str | Path, out: str | Path, *, as_of: datetime | None = None,
                      threads: int | None = None, memory_limit: str | None = None) -> IncrementalRun:
    """Score ``data`` into the folder ``out``, rescoring only leads whose inputs changed since the
    previous incremental run into ``out`` (new or edited events, edited lead or account rows, or, when
    ``as_of`` moved, leads whose score moves with time). The outputs equal a full rescore.

    The first run (or a changed model) scores everything and keeps the state in ``out/incremental``.

    Raises
    ------
    ModelError, DataError, BackendError
    """
    from leadscore.backends.incremental import score_incremental as _score_incremental

    return _score_incremental(_model(model), data, Path(out), as_of=as_of or _now(), threads=threads,
                              memory_limit=memory_limit)


__all__ = ["DbtExport", "ScoringSQL", "TableNames", "dbt_export", "export_sql", "score_incremental", "score_spark"]

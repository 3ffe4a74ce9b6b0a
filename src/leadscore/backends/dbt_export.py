"""The model as dbt models: ``lead_scores.sql``, ``account_scores.sql`` and ``schema.yml`` with tests.

The SQL is ``sql_export``'s for the adapter's dialect. The inputs are dbt sources (``source_name``:
``leads``, ``events``, ``accounts``) and ``as_of`` is the dbt var ``leadscore_as_of`` (default: the
run's start, UTC), so ``dbt build --vars '{leadscore_as_of: "2026-06-30 00:00:00"}'`` scores any
past date. Jinja is put in place of sentinel names after generation: sqlglot never sees it, and no
value from the model reaches the SQL except through sqlglot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from leadscore.backends.predictions import lead_predictions_issue
from leadscore.backends.sql_export import TableNames, export_sql
from leadscore.compiler.plan import ScoringPlan, compile_plan
from leadscore.errors import DataError, Issue
from leadscore.spec.loader import LoadedModel

AS_OF_VAR = "leadscore_as_of"
_SENTINEL_AS_OF = datetime(1901, 2, 3, 4, 5, 6, 789012)
_SENTINEL_PREFIX = "leadscore_dbt_source__"
_SENTINEL_SCORES = "leadscore_dbt_ref__lead_scores"


@dataclass(frozen=True)
class DbtExport:
    """What ``leadscore dbt export`` wrote."""

    model: str
    model_version: str
    dialect: str
    out: str
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "model_version": self.model_version, "dialect": self.dialect,
                "out": self.out, "files": list(self.files)}


def _jinja(sql: str, *, source_name: str, tables: list[str], dialect: str) -> str:
    quote = "`" if dialect in {"spark", "bigquery"} else '"'
    as_of_default = "run_started_at.strftime('%Y-%m-%d %H:%M:%S')"
    text = sql.replace(f"'{_SENTINEL_AS_OF.isoformat(sep=' ')}'",
                       f"'{{{{ var('{AS_OF_VAR}', {as_of_default}) }}}}'")
    for table in tables:
        for spelled in (f"{quote}{_SENTINEL_PREFIX}{table}{quote}", f"{_SENTINEL_PREFIX}{table}"):
            text = text.replace(spelled, f"{{{{ source('{source_name}', '{table}') }}}}")
    for spelled in (f"{quote}{_SENTINEL_SCORES}{quote}", _SENTINEL_SCORES):
        text = text.replace(spelled, "{{ ref('lead_scores') }}")
    return text


def _schema_yml(plan: ScoringPlan, *, source_name: str, source_schema: str | None, has_accounts: bool) -> str:
    """schema.yml as JSON (a YAML subset): sources, models, columns and their tests."""
    not_null = ["total", *[layer.name for layer in plan.layers]]
    columns: list[dict[str, Any]] = [
        {"name": "lead_id", "description": "The lead's id.", "data_tests": ["unique", "not_null"]},
        *[{"name": name, "description": "Never NULL: a layer score or the total.", "data_tests": ["not_null"]}
          for name in not_null],
        {"name": "stage", "description": "The first stage whose min_score and requirements the lead meets.",
         "data_tests": [{"accepted_values": {"values": [stage.name for stage in plan.stages]}}]},
    ]
    source: dict[str, Any] = {"name": source_name, "tables": [{"name": "leads"}, {"name": "events"}]}
    if has_accounts:
        source["tables"].append({"name": "accounts"})
    if source_schema:
        source["schema"] = source_schema
    document = {
        "version": 2,
        "sources": [source],
        "models": [
            {"name": "lead_scores", "description": f"leadscore model '{plan.name}' ({plan.version_hash}): one "
                                                   "row per lead, every explanation item as a 'why:' column.",
             "columns": columns},
            {"name": "account_scores", "description": "Account roll-up of lead_scores plus account rules.",
             "columns": [{"name": "account_id", "data_tests": ["unique", "not_null"]},
                         {"name": "account_score", "data_tests": ["not_null"]}]},
        ],
    }
    return "# Written by leadscore dbt export; regenerate rather than edit.\n" + json.dumps(document, indent=2) + "\n"


def export_dbt(loaded: LoadedModel, out: Path, *, dialect: str = "duckdb", source_name: str = "leadscore",
               source_schema: str | None = None, accounts: bool = True) -> DbtExport:
    """Write ``lead_scores.sql``, ``account_scores.sql`` and ``schema.yml`` into ``out`` (a models folder)."""
    if (problem := lead_predictions_issue(loaded, "a dbt model")) is not None:
        raise problem
    plan = compile_plan(loaded)
    names = TableNames(leads=_SENTINEL_PREFIX + "leads", events=_SENTINEL_PREFIX + "events",
                       accounts=_SENTINEL_PREFIX + "accounts" if accounts else None,
                       lead_scores=_SENTINEL_SCORES)
    exported = export_sql(loaded, dialect, as_of=_SENTINEL_AS_OF, tables=names, plan=plan)
    tables = ["leads", "events", *(["accounts"] if accounts else [])]
    header = (f"-- leadscore model '{plan.name}' ({plan.version_hash}), {exported.dialect}; written by "
              f"leadscore dbt export.\n-- as_of: var('{AS_OF_VAR}'), default the run's start.\n"
              "{{ config(materialized='table') }}\n")
    files = {
        "lead_scores.sql": header + _jinja(exported.lead_scores, source_name=source_name, tables=tables,
                                           dialect=exported.dialect) + "\n",
        "account_scores.sql": header + _jinja(exported.account_scores, source_name=source_name, tables=tables,
                                              dialect=exported.dialect) + "\n",
        "schema.yml": _schema_yml(plan, source_name=source_name, source_schema=source_schema,
                                  has_accounts=accounts),
    }
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (out / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot write dbt models to {out}: {exc.strerror or exc}",
                        [Issue(str(exc), file=str(out), hint="give --out a writable folder "
                                                             "(your dbt project's models/leadscore)")]) from None
    return DbtExport(model=plan.name, model_version=plan.version_hash, dialect=exported.dialect, out=str(out),
                     files=[str(out / name) for name in files])


__all__ = ["AS_OF_VAR", "DbtExport", "export_dbt"]

"""``leadscore sql`` and ``leadscore dbt export``: the model as SQL for a warehouse, or as a dbt model."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from leadscore import api
from leadscore.cli import render

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
ModelOption = Annotated[Path, typer.Option("--model", "-m", help="Model file (YAML).")]
TablesOption = Annotated[str | None, typer.Option(
    "--tables", help="Input tables: db.leads,db.events[,db.accounts] or leads=...,events=...,accounts=...,"
                     "lead_scores=... (default: leads, events, accounts).")]
AsOfOption = Annotated[datetime | None, typer.Option("--as-of", help="Score as of this time (UTC); "
                                                                      "default: now.")]

dbt_app = typer.Typer(no_args_is_help=True, help="Export the model as a dbt project's models.")


def sql(model: ModelOption,
        dialect: Annotated[str, typer.Option(help="duckdb, postgres, spark, snowflake or bigquery.")] = "duckdb",
        tables: TablesOption = None, as_of: AsOfOption = None,
        out: Annotated[Path | None, typer.Option(help="Write the SQL to this file instead of stdout.")] = None,
        as_json: JsonOption = False) -> None:
    """Print the scoring SQL of MODEL for a warehouse dialect (lead scores, then account scores).

    Example: leadscore sql --model model.yaml --dialect snowflake --tables analytics.leads,analytics.events
    """
    result = api.export_sql(api.load_model(model), dialect=dialect, tables=tables, as_of=as_of)
    if as_json:
        render.emit_json(result.to_dict())
    elif out:
        out.write_text(result.text(), encoding="utf-8")
        render.err.print(f"wrote {out}")
    else:
        print(result.text(), end="")


@dbt_app.command("export")
def dbt_export(model: ModelOption,
               out: Annotated[Path, typer.Option(help="Folder for the models (e.g. your project's "
                                                      "models/leadscore).")],
               dialect: Annotated[str, typer.Option(help="The dbt adapter's dialect.")] = "duckdb",
               source: Annotated[str, typer.Option(help="dbt source name of leads/events/accounts.")] = "leadscore",
               source_schema: Annotated[str | None, typer.Option(help="Schema of the source tables.")] = None,
               no_accounts: Annotated[bool, typer.Option("--no-accounts", help="The source has no accounts "
                                                                                "table.")] = False,
               as_json: JsonOption = False) -> None:
    """Write MODEL as dbt models (lead_scores, account_scores) with a schema.yml of tests.

    Example: leadscore dbt export --model model.yaml --out my_project/models/leadscore
    """
    result = api.dbt_export(api.load_model(model), out, dialect=dialect, source_name=source,
                            source_schema=source_schema, accounts=not no_accounts)
    if as_json:
        render.emit_json(result.to_dict())
    else:
        render.err.print(f"wrote {len(result.files)} files to {result.out}; run: dbt build "
                         f"--vars '{{leadscore_as_of: \"YYYY-MM-DD HH:MM:SS\"}}'")


def score_on_engine(model: Path, *, engine: str, data: Path | None, tables: str | None, out: Path | None,
                    as_of: datetime | None, top: int, as_json: bool) -> None:
    """``leadscore score --engine spark``: the same scores from Spark (a local session by default)."""
    if engine != "spark":
        raise typer.BadParameter("use duckdb or spark (--tables needs --engine spark)", param_hint="--engine")
    if (data is None) == (tables is None):
        raise typer.BadParameter("give either --data DIR or --tables db.leads,db.events[,db.accounts]",
                                 param_hint="--data/--tables")
    result = api.score_spark(api.load_model(model), data=data, tables=tables, out=out, as_of=as_of, top=top)
    render.emit_json(result.to_dict()) if as_json else render.render_score(result)

"""``leadscore``: score, explain and check B2B leads with a model kept in git.

Every command that prints figures takes ``--json`` (stdout gets exactly the result's
``to_dict()``). Errors the user can fix print one paragraph and exit 2 (3 for the environment).
"""

from __future__ import annotations

import importlib
import sys
import traceback
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import click
import typer

from leadscore import api
from leadscore.cli import export_commands, learn_commands, render, serve_commands, tune_commands
from leadscore.errors import LeadScoreError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Open, explainable B2B lead and account scoring. Start with: leadscore demo")

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
ModelOption = Annotated[Path, typer.Option("--model", "-m", help="Model file (YAML).")]
DataOption = Annotated[Path, typer.Option("--data", "-d", help="Folder of leads/events/accounts "
                                                               "(Parquet/CSV) or a DuckDB file.")]
AsOfOption = Annotated[datetime | None, typer.Option("--as-of", help="Score as of this time (UTC); only "
                                                                      "earlier events count.")]


def _json_mode() -> bool:
    return "--json" in sys.argv


@app.command()
def demo(out: Annotated[Path, typer.Option(help="Folder for data and outputs.")] = Path("leadscore-demo"),
         leads: Annotated[int, typer.Option(help="How many leads to generate.")] = 100_000,
         seed: Annotated[int, typer.Option(help="Random seed of the synthetic funnel.")] = 0,
         as_json: JsonOption = False) -> None:
    """Generate a synthetic B2B funnel, score it with the bundled model and show the result.

    Example: leadscore demo --leads 100000 --out leadscore-demo
    """
    with render.progress_bar(not as_json) as step:
        result = api.demo(out, leads=leads, seed=seed, progress=step)
    render.emit_json(result.to_dict()) if as_json else render.render_demo(result)


@app.command()
def score(model: ModelOption,
          data: Annotated[Path | None, typer.Option("--data", "-d", help="Folder of leads/events/accounts "
                                                                         "(Parquet/CSV) or a DuckDB file.")] = None,
          out: Annotated[Path | None, typer.Option(help="Output folder, or a .duckdb file.")] = None,
          as_of: AsOfOption = None,
          fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
          threads: Annotated[int | None, typer.Option(help="DuckDB threads (default: all cores).")] = None,
          memory_limit: Annotated[str | None, typer.Option(help="DuckDB memory limit, e.g. 4GB.")] = None,
          top: Annotated[int, typer.Option(help="How many top leads/accounts to show.")] = 5,
          engine: Annotated[str, typer.Option(help="duckdb or spark.")] = "duckdb",
          tables: Annotated[str | None, typer.Option(help="Spark: catalog tables db.leads,db.events"
                                                          "[,db.accounts] instead of --data.")] = None,
          as_json: JsonOption = False) -> None:
    """Score every lead and account in DATA with MODEL and write the outputs to OUT.

    Example: leadscore score --model model.yaml --data ./data --out ./scores --as-of 2026-06-30
    """
    if engine != "duckdb" or tables:
        export_commands.score_on_engine(model, engine=engine, data=data, tables=tables, out=out, as_of=as_of,
                                        top=top, as_json=as_json)
        return
    if data is None:
        raise click.UsageError("Missing option '--data': give the data folder or DuckDB file "
                               "(or --tables with --engine spark).")
    if fmt not in ("parquet", "csv"):
        raise typer.BadParameter("use parquet or csv", param_hint="--format")
    chosen: Literal["parquet", "csv"] = "csv" if fmt == "csv" else "parquet"
    with render.progress_bar(not as_json) as step:
        result = api.score(api.load_model(model), data, out=out, as_of=as_of, fmt=chosen, top=top,
                           progress=step, threads=threads, memory_limit=memory_limit)
    render.emit_json(result.to_dict()) if as_json else render.render_score(result)


@app.command()
def validate(model: Annotated[Path, typer.Argument(help="Model file (YAML).")],
             data: Annotated[Path | None, typer.Option("--data", "-d", help="Check columns and event "
                                                                            "types against this data.")] = None,
             as_json: JsonOption = False) -> None:
    """Check a model file; report every error at once with file:line:col and a hint.

    Example: leadscore validate model.yaml --data ./data
    """
    report = api.validate(model, data=data)
    render.emit_json(report.to_dict()) if as_json else render.render_validation(report)


@app.command()
def explain(lead_id: Annotated[str, typer.Argument(help="The lead's id.")], model: ModelOption,
            data: DataOption, as_of: AsOfOption = None, as_json: JsonOption = False) -> None:
    """Show one lead's score rule by rule, with decay and caps, adding up to its total.

    Example: leadscore explain 4711 --model model.yaml --data ./data
    """
    result = api.explain(api.load_model(model), data, lead_id, as_of=as_of)
    render.emit_json(result.to_dict()) if as_json else render.render_explanation(result)


@app.command()
def diff(old: Annotated[Path, typer.Argument(help="Current model file.")],
         new: Annotated[Path, typer.Argument(help="Changed model file.")], data: DataOption,
         as_of: AsOfOption = None,
         top: Annotated[int, typer.Option(help="How many movers to list.")] = 10,
         as_json: JsonOption = False) -> None:
    """Show what a model change does before it goes live: stage moves and the biggest movers.

    Example: leadscore diff model.yaml model-v2.yaml --data ./data
    """
    report = api.diff(api.load_model(old), api.load_model(new), data, as_of=as_of, top=top)
    render.emit_json(report.to_dict()) if as_json else render.render_diff(report)


@app.command()
def schema(out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None
           ) -> None:
    """Print the JSON Schema of the model file (for editor completion and checking).

    Example: leadscore schema --out leadscore.schema.json
    """
    import json

    text = json.dumps(api.model_json_schema(), indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        render.err.print(f"wrote {out}")
    else:
        print(text)


@app.command()
def init(out: Annotated[Path, typer.Argument(help="Where to write the starter model.")] = Path("model.yaml"),
         force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False) -> None:
    """Write a starter model (the bundled B2B SaaS model) to edit and keep in git.

    Example: leadscore init model.yaml
    """
    if out.exists() and not force:
        raise typer.BadParameter(f"{out} exists; pass --force to overwrite", param_hint="OUT")
    out.write_text(api.bundled_model_path().read_text(encoding="utf-8"), encoding="utf-8")
    render.err.print(f"wrote {out}; check it with: leadscore validate {out} --data DIR")


app.command()(export_commands.sql)
app.add_typer(export_commands.dbt_app, name="dbt")
serve_commands.register(app)  # serve, keys, store: the real-time service
learn_commands.register(app)  # backtest, thresholds, signals, channels, feedback: learning from outcomes
tune_commands.register(app)  # tune, predict fit|score, report: points and predictions from outcomes


def run() -> None:
    """Entry point: user errors print one paragraph (or JSON) and exit 2/3; bugs print a traceback."""
    try:
        # Without standalone mode click returns a typer.Exit's code instead of raising it.
        code = app(standalone_mode=False)
    except LeadScoreError as error:
        _report(error, error.to_dict())
        sys.exit(error.exit_code)
    except typer.Abort:
        render.err.print("aborted")
        sys.exit(1)
    except Exception as error:  # the last-resort handler: anything else is a bug in leadscore
        if isinstance(error, _usage_errors()):
            error.show()  # type: ignore[attr-defined]  # every ClickException has show()
            sys.exit(error.exit_code)  # type: ignore[attr-defined]  # ... and exit_code
        traceback.print_exc()
        render.err.print("[red]internal error[/]: this is a bug in leadscore; please report it with the "
                         "traceback above.")
        sys.exit(70)
    if isinstance(code, int) and code:
        sys.exit(code)


def _usage_errors() -> tuple[type[Exception], ...]:
    """click's ClickException and typer's vendored copy of it: recent typer ships its own click,
    whose BadParameter/MissingParameter are not click's, and both must exit 2 without a traceback."""
    found: list[type[Exception]] = []
    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            found.append(importlib.import_module(module).ClickException)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def _report(error: LeadScoreError, payload: dict[str, Any]) -> None:
    if _json_mode():
        render.emit_json(payload)
    else:
        # soft_wrap: never break a line at the terminal width, so each 'file:line:col: ...' issue
        # stays on one line that editors and grep can use.
        render.err.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)


if __name__ == "__main__":
    run()

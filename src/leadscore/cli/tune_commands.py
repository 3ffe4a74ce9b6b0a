"""CLI commands that learn from outcomes: ``tune``, ``predict fit|score`` and ``report``.

Each parses its options, calls one ``leadscore.api`` function and renders the result (``--json``:
exactly ``result.to_dict()``). ``register(app)`` adds them to the main typer app.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.table import Table

from leadscore import api  # tuning, prediction and reports load on first use
from leadscore.cli import render

if TYPE_CHECKING:
    import leadscore.api.prediction as prediction
    import leadscore.api.reporting as reporting
    import leadscore.api.tuning as tuning

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
DataOption = Annotated[Path, typer.Option("--data", "-d", help="Folder of leads/events/accounts (Parquet/CSV), "
                                                               "a DuckDB file, or (tune, predict fit) a flat "
                                                               "lead table (.csv/.parquet).")]
OutcomeOption = Annotated[str, typer.Option(help="Outcome column: a time (mql_at) or a flag with <outcome>_at "
                                                 "beside it (converted).")]
AsOfOption = Annotated[datetime | None, typer.Option("--as-of", help="Score as of this time (UTC); outcomes "
                                                                     "count in (as-of, as-of + horizon].")]
HorizonOption = Annotated[str, typer.Option(help="Outcome window after --as-of: 90d, 12w, 3m.")]

predict_app = typer.Typer(no_args_is_help=True, help="Train and use a predictive (LightGBM or logistic) "
                                                     "conversion model with reason codes.")


def tune(data: DataOption,
         model: Annotated[Path | None, typer.Argument(help="Model to tune (optional for a flat table).")] = None,
         outcome: OutcomeOption = "converted", as_of: AsOfOption = None,
         horizon: HorizonOption = "90d",
         out: Annotated[Path | None, typer.Option(help="Write the tuned model here (.yaml), with "
                                                       ".changes.md and .tune.json beside it.")] = None,
         pdo: Annotated[float, typer.Option(help="Points that double the odds of converting.")] = 20.0,
         exclude: Annotated[list[str] | None, typer.Option(help="Column never to learn from (repeat).")] = None,
         bins: Annotated[bool, typer.Option(help="Offer bins/levels of columns no rule uses.")] = True,
         id_column: Annotated[str | None, typer.Option(help="Lead id column of a flat table.")] = None,
         as_json: JsonOption = False) -> None:
    """Learn a model's points from outcomes and write the tuned model plus a readable diff.

    Example: leadscore tune model.yaml --data ./data --as-of 2025-12-31 --horizon 90d --out tuned.yaml
    """
    with render.progress_bar(not as_json) as step:
        result = api.tune(model, data, outcome=outcome, as_of=as_of, horizon=horizon, out=out, pdo=pdo,
                             exclude=exclude or (), bins=bins, levels=bins, id_column=id_column, progress=step)
    render.emit_json(result.to_dict()) if as_json else render_tune(result)


@predict_app.command("fit")
def predict_fit(data: DataOption, outcome: OutcomeOption = "converted", as_of: AsOfOption = None,
                horizon: HorizonOption = "90d",
                out: Annotated[Path, typer.Option(help="Artefact folder to write.")] = Path("predictive-model"),
                algorithm: Annotated[str, typer.Option(help="lightgbm or logistic.")] = "lightgbm",
                exclude: Annotated[list[str] | None, typer.Option(help="Column never to learn from (repeat).")
                                   ] = None,
                small_data: Annotated[str, typer.Option(help="raise (default) or warn when there are too few "
                                                             "outcomes.")] = "raise",
                as_json: JsonOption = False) -> None:
    """Train a calibrated conversion model on profile columns and behaviour before --as-of.

    Example: leadscore predict fit --data ./data --outcome converted --as-of 2025-12-31 --out ./predictive-model
    """
    if algorithm not in ("lightgbm", "logistic"):
        raise typer.BadParameter("use lightgbm or logistic", param_hint="--algorithm")
    if small_data not in ("raise", "warn"):
        raise typer.BadParameter("use raise or warn", param_hint="--small-data")
    chosen: Literal["lightgbm", "logistic"] = "logistic" if algorithm == "logistic" else "lightgbm"
    guard: Literal["raise", "warn"] = "warn" if small_data == "warn" else "raise"
    result = api.predict_fit(data, outcome=outcome, as_of=as_of, horizon=horizon, out=out,
                                    algorithm=chosen, exclude=exclude or (), small_data=guard)
    render.emit_json(result.to_dict()) if as_json else render_predict_fit(result)


predict_app.command("train", help="Same as 'fit': train and save a calibrated conversion model.")(predict_fit)


@predict_app.command("score")
def predict_score(model_dir: Annotated[Path, typer.Option("--model-dir", help="Artefact folder from "
                                                                              "'predict fit'.")],
                  data: DataOption, as_of: AsOfOption = None,
                  out: Annotated[Path, typer.Option(help="Folder for predictions.parquet.")] = Path("predictions"),
                  top: Annotated[int, typer.Option(help="How many leads to show.")] = 5,
                  as_json: JsonOption = False) -> None:
    """Write each lead's conversion probability and its top-3 reason codes to OUT/predictions.parquet.

    Example: leadscore predict score --model-dir ./predictive-model --data ./data --out ./predictions
    """
    result = api.predict_score(model_dir, data, as_of=as_of, out=out, top=top)
    render.emit_json(result.to_dict()) if as_json else render_predict_score(result)


def report(model: Annotated[Path, typer.Option("--model", "-m", help="Model file (YAML).")], data: DataOption,
           outcome: OutcomeOption = "converted", as_of: AsOfOption = None, horizon: HorizonOption = "90d",
           out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
           as_json: JsonOption = False) -> None:
    """Write one self-contained HTML report (works offline): how well MODEL's scores predicted outcomes.

    Example: leadscore report --model model.yaml --data ./data --outcome converted --as-of 2026-03-31 --out report.html
    """
    result = api.report(model, data, outcome=outcome, as_of=as_of, horizon=horizon, out=out)
    render.emit_json(result.to_dict()) if as_json else render_report(result)


def register(app: typer.Typer) -> None:
    """Add ``tune``, ``predict fit|score`` and ``report`` to the main app."""
    app.command()(tune)
    app.add_typer(predict_app, name="predict")
    app.command()(report)


# -- rendering ------------------------------------------------------------------------------------------


def _figure(value: float | None, fmt: str = ".3f") -> str:
    return "-" if value is None else format(value, fmt)


def _points(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int | float):
        return f"{value:+g}" if value else "0"
    return str(value)


def render_tune(result: tuning.TuneResult) -> None:
    data = result.to_dict()
    population, learner, auc = data["population"], data["learner"], data["auc"]
    render.out.print(f"[bold]{data['model']}[/] -> {data['tuned_model']}: learned from {population['leads']:,} "
                     f"leads, {population['conversions']:,} converted ({population['base_rate']:.2%}); "
                     f"{data['outcome'].get('description', '')}")
    render.out.print(f"{learner['features']} features, C={learner['C']:.3g}, {learner['pdo']:g} points double "
                     "the odds. ROC AUC: " + ", ".join(f"{k.replace('_', ' ')} {_figure(v)}" for k, v in auc.items()))
    table = Table(title="Points (old -> new)")
    for column in ("layer", "rule", "item", "old", "new", "lift", "log-odds"):
        table.add_column(column, justify="right" if column in ("old", "new", "lift", "log-odds") else "left")
    for change in data["rules"]:
        lift = "" if change["lift"] is None else f"{change['lift']:.2f}x"
        coefficient = "" if change["coefficient"] is None else f"{change['coefficient']:+.3f}"
        table.add_row(change["layer"], change["rule"], str(change["item"] or "")[:40], _points(change["old_points"]),
                      _points(change["new_points"]), lift, coefficient)
    render.out.print(table)
    if data["thresholds"]:
        moved = Table(title="Thresholds (same share of leads)")
        for column in ("where", "old", "new", "share old -> new"):
            moved.add_column(column)
        for item in data["thresholds"]:
            moved.add_row(item["where"], f"{item['old']:g}", f"{item['new']:g}",
                          f"{item['share_old']:.1%} -> {item['share_new']:.1%}")
        render.out.print(moved)
    for warning in data["warnings"]:
        render.out.print(f"[yellow]warning:[/] {warning}")
    for name, path in data["files"].items():
        render.out.print(f"  {name:<9} {path}")


def render_predict_fit(result: prediction.PredictFitResult) -> None:
    data = result.to_dict()
    render.out.print(f"[bold]{data['algorithm']}[/] trained on {data['leads']:,} leads "
                     f"({data['conversions']:,} converted) with {len(data['features'])} features; "
                     f"validation ROC AUC {_figure(data['validation']['roc_auc'])}, "
                     f"ECE {_figure(data['validation']['ece'])}")
    for name, reason in data["dropped_columns"].items():
        render.out.print(f"  left out {name}: {reason}")
    for warning in data["warnings"]:
        render.out.print(f"[yellow]warning:[/] {warning}")
    render.out.print(f"Artefact: {data['artefact']}")


def render_predict_score(result: prediction.PredictScoreResult) -> None:
    data = result.to_dict()
    render.out.print(f"Scored {data['leads']:,} leads as of {data['as_of']}: mean probability "
                     f"{data['mean_probability']:.3f}; wrote {data['predictions']}")
    table = Table(title="Most likely to convert")
    for column in ("lead", "probability", "reasons"):
        table.add_column(column)
    for lead in data["top_leads"]:
        reasons = ", ".join(f"{r['feature']} {r['contribution']:+.2f}" for r in lead["reasons"])
        table.add_row(str(lead["lead_id"]), f"{lead['probability']:.3f}", reasons)
    render.out.print(table)


def render_report(result: reporting.ReportResult) -> None:
    data = result.to_dict()
    render.out.print(f"Wrote {data['out']}: {data['leads']:,} leads, {data['conversions']:,} converted, "
                     f"ROC AUC {_figure(data['roc_auc'])}; charts: {', '.join(data['charts'])}")

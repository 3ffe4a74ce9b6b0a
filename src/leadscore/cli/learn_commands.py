"""``leadscore backtest|thresholds|signals|channels|feedback``: learning from outcomes, thin over
``leadscore.api.learning``. Every command takes ``--json`` (stdout gets exactly ``to_dict()``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from leadscore import api  # learning entry points load on first use
from leadscore.cli import learn_render, render

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
ModelOption = Annotated[Path, typer.Option("--model", "-m", help="Model file (YAML).")]
DataOption = Annotated[Path, typer.Option("--data", "-d", help="Folder of leads/events (Parquet/CSV), a DuckDB "
                                                               "file, or a flat leads CSV/Parquet file.")]
OutcomeOption = Annotated[str, typer.Option(help="Yes/no column saying a lead converted.")]
OutcomeTimeOption = Annotated[str | None, typer.Option(help="When it converted (default: <outcome>_at).")]
HorizonOption = Annotated[str, typer.Option(help="How long after --as-of a conversion counts: 90d, 12w, 6m.")]
MinConversionsOption = Annotated[int, typer.Option(help="Fewest conversions a figure may rest on.")]
AllowLeakOption = Annotated[list[str] | None, typer.Option(
    "--allow-leak", help="A column the model reads that is known before the outcome although it predicts it "
                         "almost perfectly (repeatable).")]

feedback_app = typer.Typer(no_args_is_help=True, help="Sales accept/reject feedback: import it, report on it.")


def backtest(model: ModelOption, data: DataOption, outcome: OutcomeOption = "converted",
             outcome_time: OutcomeTimeOption = None,
             as_of: Annotated[list[datetime] | None, typer.Option(
                 "--as-of", help="Score as of this date; repeat for a trend. Not for flat tables.")] = None,
             horizon: HorizonOption = "90d",
             by: Annotated[list[str] | None, typer.Option(help="Break down by this lead column (repeatable).")] = None,
             bands: Annotated[int, typer.Option(help="Number of score bands.")] = 10,
             min_conversions: MinConversionsOption = 10,
             feedback: Annotated[Path | None, typer.Option(help="Feedback store: add acceptance by band.")] = None,
             min_auc: Annotated[float | None, typer.Option(help="Exit 4 if any ROC AUC is below this.")] = None,
             allow_leak: AllowLeakOption = None, as_json: JsonOption = False) -> None:
    """Score leads as of T with only what was known then; check the scores against (T, T+horizon].

    Example: leadscore backtest -m model.yaml -d data --outcome converted --as-of 2026-03-31 --horizon 90d --by source
    """
    with render.progress_bar(not as_json) as step:
        report = api.backtest(model, data, outcome=outcome, outcome_time=outcome_time, as_of=as_of or None,
                                   horizon=horizon, by=by or (), bands=bands, min_conversions=min_conversions,
                                   feedback=feedback, allow_leak=allow_leak or (), progress=step)
    render.emit_json(report.to_dict()) if as_json else learn_render.render_backtest(report)
    if min_auc is not None and any(window.roc_auc < min_auc for window in report.windows):
        render.err.print(f"ROC AUC below --min-auc {min_auc}")
        raise SystemExit(4)  # a requested gate failed (click would swallow typer.Exit's code here)


def thresholds(model: ModelOption, data: DataOption, outcome: OutcomeOption = "converted",
               outcome_time: OutcomeTimeOption = None,
               as_of: Annotated[datetime | None, typer.Option("--as-of", help="Score as of this date.")] = None,
               horizon: HorizonOption = "90d",
               capacity: Annotated[str | None, typer.Option(help="Leads sales can work: 400/week, 80/day.")] = None,
               target_precision: Annotated[float | None, typer.Option(help="Wanted conversion rate, 0-1.")] = None,
               target_recall: Annotated[float | None, typer.Option(help="Wanted share of conversions, 0-1.")] = None,
               stage: Annotated[str | None, typer.Option(help="Stage to set (default: the second).")] = None,
               write: Annotated[Path | None, typer.Option(help="Write a model copy with the new line.")] = None,
               min_conversions: MinConversionsOption = 10, allow_leak: AllowLeakOption = None,
               as_json: JsonOption = False) -> None:
    """Recommend a stage's min_score from history for a sales capacity or a precision/recall target.

    Example: leadscore thresholds -m model.yaml -d data --as-of 2026-03-31 --capacity 400/week --write new.yaml
    """
    report = api.recommend_thresholds(
        model, data, outcome=outcome, outcome_time=outcome_time, as_of=as_of, horizon=horizon, capacity=capacity,
        target_precision=target_precision, target_recall=target_recall, stage=stage, write=write,
        min_conversions=min_conversions, allow_leak=allow_leak or ())
    render.emit_json(report.to_dict()) if as_json else learn_render.render_thresholds(report)


def signals(model: ModelOption, data: DataOption, outcome: OutcomeOption = "converted",
            outcome_time: OutcomeTimeOption = None,
            as_of: Annotated[datetime | None, typer.Option("--as-of", help="Evaluate profile rules as of this "
                                                                           "date (default: the data's).")] = None,
            min_conversions: MinConversionsOption = 10, as_json: JsonOption = False) -> None:
    """Which event types and profile rules come before conversion, how often, and how many days before.

    Example: leadscore signals --model model.yaml --data ./data --outcome converted
    """
    report = api.signals(model, data, outcome=outcome, outcome_time=outcome_time, as_of=as_of,
                              min_conversions=min_conversions)
    render.emit_json(report.to_dict()) if as_json else learn_render.render_signals(report)


def channels(model: ModelOption, data: DataOption,
             by: Annotated[str, typer.Option(help="Lead column naming the channel.")] = "source",
             as_of: Annotated[datetime | None, typer.Option("--as-of", help="Score as of this date.")] = None,
             outcome: Annotated[str, typer.Option(help="Yes/no conversion column, if any.")] = "converted",
             as_json: JsonOption = False) -> None:
    """Channel quality: cost per lead, stage mix, sales acceptance, opportunities and revenue per source.

    Example: leadscore channels --model model.yaml --data ./data --by source
    """
    report = api.channels(model, data, by=by, as_of=as_of, outcome=outcome)
    render.emit_json(report.to_dict()) if as_json else learn_render.render_channels(report)


@feedback_app.command("import")
def feedback_import(file: Annotated[Path, typer.Argument(help="CSV or Parquet: lead_id, decision, reason, "
                                                             "decided_at, rep.")],
                    store: Annotated[Path, typer.Option(help="Feedback store folder (created if needed).")],
                    as_json: JsonOption = False) -> None:
    """Import sales accept/reject decisions into an append-only store; bad rows are quarantined.

    Example: leadscore feedback import decisions.csv --store ./feedback
    """
    result = api.import_feedback(file, store=store)
    render.emit_json(result.to_dict()) if as_json else learn_render.render_feedback_import(result)


@feedback_app.command("report")
def feedback_report(model: ModelOption, data: DataOption,
                    store: Annotated[Path, typer.Option(help="Feedback store folder.")],
                    as_of: Annotated[datetime | None, typer.Option("--as-of", help="Score as of this date.")] = None,
                    bands: Annotated[int, typer.Option(help="Number of score bands.")] = 10,
                    as_json: JsonOption = False) -> None:
    """Sales acceptance by score band and stage, and the rules that fire on rejected leads.

    Example: leadscore feedback report --model model.yaml --data ./data --store ./feedback
    """
    report = api.feedback_report(model, data, store=store, as_of=as_of, bands=bands)
    render.emit_json(report.to_dict()) if as_json else learn_render.render_feedback_report(report)


def register(app: typer.Typer) -> None:
    """Add the learning commands to the ``leadscore`` app."""
    for command in (backtest, thresholds, signals, channels):
        app.command()(command)
    app.add_typer(feedback_app, name="feedback")

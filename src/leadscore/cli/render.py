"""Rendering for the CLI: rich tables to stdout for people, exact ``to_dict()`` JSON for machines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from leadscore.results import DemoResult, DiffReport, Explanation, ScoreResult, ValidationReport

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def emit_json(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, indent=2, default=str))


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, float], None]]:
    """A progress bar on stderr (only on a terminal and never with --json)."""
    if not enabled or not err.is_terminal:
        yield lambda _name, _fraction: None
        return
    with Progress(TextColumn("[bold]{task.description:<28}"), BarColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("starting", total=1.0)

        def update(name: str, fraction: float) -> None:
            bar.update(task, description=name, completed=fraction)

        yield update


def _reasons(reasons: list[dict[str, Any]] | None, limit: int = 3) -> str:
    items = sorted(reasons or [], key=lambda r: (-abs(r["points"]), r["rule"]))[:limit]
    return ", ".join(f"{r['rule']} {r['points']:+.1f}" for r in items)


def render_score(result: ScoreResult) -> None:
    out.print(f"[bold]{result.model}[/] ({result.model_version}) as of {result.as_of:%Y-%m-%d %H:%M}: "
              f"{result.leads:,} leads, {result.accounts:,} accounts in {result.seconds:.1f}s")
    stages = Table(title="Leads per stage")
    stages.add_column("stage")
    stages.add_column("leads", justify="right")
    stages.add_column("share", justify="right")
    for stage, count in result.stage_counts.items():
        stages.add_row(stage, f"{count:,}", f"{100 * count / max(result.leads, 1):.1f}%")
    out.print(stages)
    leads = Table(title="Top leads")
    for column in ("lead", "total", "grade", "stage", "why", "next action"):
        leads.add_column(column)
    for lead in result.top_leads:
        leads.add_row(str(lead["lead_id"]), f"{lead['total']:.1f}", str(lead["grade"]), str(lead["stage"]),
                      _reasons(lead.get("top_reasons")), str(lead.get("next_action") or ""))
    out.print(leads)
    accounts = Table(title="Top accounts")
    for column in ("account", "score", "engaged contacts", "leads", "committee roles", "top leads"):
        accounts.add_column(column)
    for account in result.top_accounts:
        accounts.add_row(str(account["account_id"]), f"{account['account_score']:.1f}",
                         str(account["engaged_leads"]), str(account["lead_count"]),
                         ", ".join(account.get("committee_roles") or []) or "-",
                         ", ".join(map(str, account.get("top_leads") or [])))
    out.print(accounts)
    if result.quarantined:
        total = sum(result.quarantined.values())
        out.print(f"[yellow]{total:,} rows quarantined (kept with a reason in quarantine):[/]")
        for reason, count in sorted(result.quarantined.items()):
            out.print(f"  {count:>8,}  {reason}")
    else:
        out.print("No rows quarantined.")
    for name, path in result.outputs.items():
        out.print(f"  {name:<18} {path}")


def render_demo(result: DemoResult) -> None:
    render_score(result.score)
    out.print(f"Synthetic data: {result.data_dir}")
    out.print(f"DuckDB file:    {result.database}")
    out.print("Next: leadscore explain LEAD_ID --model <model> --data " + result.data_dir)


def render_validation(report: ValidationReport) -> None:
    checked = "checked against the data" if report.checked_against_data else "structure and conditions"
    out.print(f"[green]OK[/] {report.source or report.model}: {report.rules} rules in "
              f"{len(report.layers)} layers ({', '.join(report.layers)}), stages "
              f"{' > '.join(report.stages)} ({checked}); version {report.version_hash}")
    for warning in report.warnings:
        out.print(f"[yellow]warning:[/] {warning}")


def render_explanation(explanation: Explanation) -> None:
    out.print(f"[bold]Lead {explanation.lead_id}[/] — {explanation.model} ({explanation.model_version}) as of "
              f"{explanation.as_of:%Y-%m-%d %H:%M}" + (f", segment {explanation.segment}"
                                                      if explanation.segment else ""))
    table = Table()
    for column in ("layer", "rule", "points", "detail"):
        table.add_column(column, justify="right" if column == "points" else "left")
    for reason in explanation.reasons:
        table.add_row(reason["layer"], reason["rule"], f"{reason['points']:+.4f}", reason.get("detail") or "")
    table.add_row("", "[bold]total[/]", f"[bold]{explanation.total:.4f}[/]", "")
    out.print(table)
    layers = ", ".join(f"{name} {value:.2f}" for name, value in explanation.layers.items())
    out.print(f"Layers: {layers}")
    out.print(f"Grade {explanation.grade}, stage {explanation.stage}: {explanation.next_action or '-'}")
    if explanation.last_activity_at:
        out.print(f"Last meaningful activity: {explanation.last_activity_type} at "
                  f"{explanation.last_activity_at:%Y-%m-%d %H:%M}")


def render_diff(report: DiffReport) -> None:
    out.print(f"{report.old_model} -> {report.new_model}: {report.changed_stage:,} of {report.leads:,} leads "
              f"change stage; mean total change {report.mean_total_change:+.2f}")
    stages = sorted({s for row in report.matrix.values() for s in row} | set(report.matrix))
    table = Table(title="Stage from (rows) -> to (columns)")
    table.add_column("from \\ to")
    for stage in stages:
        table.add_column(stage, justify="right")
    for src in stages:
        row = report.matrix.get(src, {})
        table.add_row(src, *[f"{row.get(dst, 0):,}" for dst in stages])
    out.print(table)
    movers = Table(title="Biggest movers")
    for column in ("lead", "before", "after", "change", "why"):
        movers.add_column(column)
    for mover in report.movers:
        why = ", ".join(f"{c['rule']} {c['change']:+.1f}" for c in mover["why"][:3])
        movers.add_row(str(mover["lead_id"]), f"{mover['old_total']:.1f} {mover['from_stage']}",
                       f"{mover['new_total']:.1f} {mover['to_stage']}", f"{mover['change']:+.1f}", why)
    out.print(movers)

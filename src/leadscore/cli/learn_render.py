"""Rich tables for the learning commands (people); ``--json`` prints ``to_dict()`` instead (machines)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table

from leadscore.cli.render import out

if TYPE_CHECKING:  # annotations only: the learning code loads when a command runs
    from leadscore.api.learning import (
        BacktestReport,
        ChannelReport,
        FeedbackImport,
        FeedbackReport,
        SignalReport,
        ThresholdReport,
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    table = Table(title=title)
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def _warnings(warnings: Sequence[str]) -> None:
    for warning in warnings:
        out.print(f"[yellow]warning:[/] {warning}")


def _group_rows(rows: Sequence[Any], funnel: Sequence[str], *, bounds: bool) -> list[list[str]]:
    lines = []
    for row in rows:
        steps = [str((row.funnel or {}).get(step, "-")) for step in funnel]
        lines.append([row.label.removeprefix("band "), *([_num(row.lower)] if bounds else []), f"{row.leads:,}",
                      f"{row.conversions:,}", _pct(row.conversion_rate), _num(row.lift, 2),
                      *([_pct(row.cumulative_share_of_conversions)] if bounds else []), *steps,
                      _num(row.median_days_to_conversion)])
    return lines


def render_backtest(report: BacktestReport) -> None:
    out.print(f"[bold]{report.model}[/] ({report.model_version}) back-test on {report.data}: outcome "
              f"{report.outcome!r}" + (f" within {report.horizon_days:g} days" if report.horizon_days else ""))
    for window in report.windows:
        when = f"as of {window.as_of:%Y-%m-%d} -> {window.horizon_end:%Y-%m-%d}" if window.as_of and \
            window.horizon_end else "whole table"
        out.print(f"\n[bold]{when}[/]: {window.leads:,} leads, {window.conversions:,} converted "
                  f"({_pct(window.base_rate)}); ROC AUC {window.roc_auc:.3f}, PR AUC {window.pr_auc:.3f}")
        funnel = list(window.funnel_steps)
        head = ["leads", "conv", "rate", "lift"]
        out.print(_table("By score band (1 = highest)", ["band", "score >=", *head, "cum", *funnel, "days"],
                         _group_rows(window.bands, funnel, bounds=True)))
        out.print(_table("By stage", ["stage", *head, *funnel, "days"],
                         _group_rows(window.stages, funnel, bounds=False)))
        for column, groups in window.groups.items():
            columns = [column, "leads", "converted", "rate", "ROC AUC", "PR AUC", "top band lift"]
            out.print(_table(f"By {column}", columns,
                             [[g.value, f"{g.leads:,}", f"{g.conversions:,}", _pct(g.conversion_rate),
                               _num(g.roc_auc, 3), _num(g.pr_auc, 3), _num(g.bands[0].lift if g.bands else None, 2)]
                              for g in groups]))
        if window.excluded:
            out.print("Left out: " + "; ".join(f"{n:,} {reason}" for reason, n in window.excluded.items()))
        out.print("cum: share of conversions in this band and above; days: median days from the as-of date to "
                  "conversion" + (f"; {', '.join(funnel)}: leads reaching that funnel step" if funnel else ""))
        if window.funnel_untimed:
            out.print(f"Funnel steps with no time column (counted as recorded): {', '.join(window.funnel_untimed)}")
        if window.feedback is not None:
            _render_feedback_summary(window.feedback)
        _warnings(window.warnings)
    if len(report.trend) > 1:
        out.print(_table("Trend", ["as of", "leads", "converted", "ROC AUC", "PR AUC", "top band lift"],
                         [[f"{p.as_of:%Y-%m-%d}" if p.as_of else "-", f"{p.leads:,}", f"{p.conversions:,}",
                           f"{p.roc_auc:.3f}", f"{p.pr_auc:.3f}", _num(p.top_band_lift, 2)] for p in report.trend]))
    for note in report.notes:
        out.print(f"Note: {note}")


def render_thresholds(report: ThresholdReport) -> None:
    when = f" as of {report.as_of:%Y-%m-%d}" if report.as_of else ""
    out.print(f"[bold]{report.model}[/]{when}: {report.leads:,} leads, {report.conversions:,} converted "
              f"({_pct(report.base_rate)})" + (f"; inflow {report.weekly_inflow:,.0f} leads/week over the last "
                                              f"{report.inflow_weeks:.1f} weeks" if report.weekly_inflow else ""))
    out.print(_table(f"Thresholds for stage {report.stage} (now {report.current_min_score:g})",
                     ["criterion", "min_score", "leads above", "leads/week", "precision", "recall", "conv./week"],
                     [[c.criterion, _num(c.threshold, 0), f"{c.leads_above:,}", _num(c.leads_per_week),
                       _pct(c.precision), _pct(c.recall), _num(c.expected_conversions_per_week, 2)]
                      for c in report.choices]))
    out.print(_table("Trade-offs", ["min_score", "leads above", "share", "leads/week", "captured", "precision",
                                    "recall"],
                     [[f"{r.threshold:g}", f"{r.leads_above:,}", _pct(r.share_of_leads), _num(r.leads_per_week),
                       f"{r.conversions_captured:,}", _pct(r.precision), _pct(r.recall)] for r in report.tradeoffs]))
    if report.recommended_min_score is not None:
        out.print(f"[green]Recommended[/] {report.stage} min_score: {report.recommended_min_score:g} "
                  f"(now {report.current_min_score:g})")
    if report.written:
        out.print(f"Wrote {report.written}; review it with: leadscore diff MODEL {report.written} --data DIR")
    _warnings(report.warnings)


def render_signals(report: SignalReport) -> None:
    out.print(f"[bold]{report.model}[/]: {report.leads:,} leads, {report.converters:,} converted "
              f"({_pct(report.base_rate)}); profile rules as of {report.rules_as_of:%Y-%m-%d}")
    head = ["converters", "others", "conv. share", "other share", "lift"]
    if report.events:
        out.print(_table("Event types (closest to conversion first)", ["event", *head, "median days", "p25-p75"],
                         [[s.name, f"{s.converters_showing:,}", f"{s.non_converters_showing:,}",
                           _pct(s.converter_share), _pct(s.non_converter_share), _num(s.lift, 2),
                           _num(s.median_days_to_conversion),
                           f"{_num(s.p25_days_to_conversion)}-{_num(s.p75_days_to_conversion)}"]
                          for s in report.events]))
    out.print(_table("Profile rules (by lift)", ["rule", *head],
                     [[s.name, f"{s.converters_showing:,}", f"{s.non_converters_showing:,}", _pct(s.converter_share),
                       _pct(s.non_converter_share), _num(s.lift, 2)] for s in report.rules]))
    _warnings(report.warnings)


def render_channels(report: ChannelReport) -> None:
    out.print(f"[bold]{report.model}[/] channel quality by {report.by} (stages as of {report.as_of:%Y-%m-%d})")
    rows = [*report.channels, report.total]
    out.print(_table("Channels", [report.by, "leads", "cost/lead", "mean score", "MQL", "accepted", "opps",
                                  "won", "revenue", "cost/opp"],
                     [[r.channel, f"{r.leads:,}", _num(r.cost_per_lead, 2), _num(r.mean_score), _pct(r.mql_rate),
                       _pct(r.acceptance_rate), _num(r.opportunities, 0), _num(r.won, 0), _num(r.revenue, 0),
                       _num(r.cost_per_opportunity, 2)] for r in rows]))
    stages = list(report.total.stage_share)
    out.print(_table("Stage mix", [report.by, *stages],
                     [[r.channel, *(_pct(r.stage_share.get(s, 0.0)) for s in stages)] for r in rows]))
    for figure, why in report.skipped.items():
        out.print(f"skipped {figure}: {why}")


def render_feedback_import(result: FeedbackImport) -> None:
    out.print(f"{result.file}: {result.rows:,} rows, {result.stored:,} stored, {result.already_stored:,} already in "
              f"the store, {sum(result.quarantined.values()):,} quarantined; the store now holds "
              f"{result.decisions_in_store:,} decisions")
    for reason, count in result.quarantined.items():
        out.print(f"  [yellow]{count:>8,}[/]  {reason}")
    if result.rejects_without_reason:
        out.print(f"{result.rejects_without_reason:,} rejections have no reason")
    for name, path in result.files.items():
        out.print(f"  {name:<12} {path}")


def _render_feedback_summary(summary: Any) -> None:
    out.print(f"Feedback: {summary.matched:,} of {summary.decisions:,} decisions matched ("
              f"{summary.unknown_leads:,} unknown leads, {summary.not_evaluated:,} not evaluated); acceptance "
              f"{_pct(summary.acceptance_rate)}")
    for title, rows in (("Acceptance by band", summary.by_band), ("Acceptance by stage", summary.by_stage)):
        out.print(_table(title, ["", "decided", "accepted", "rejected", "acceptance", "top reasons"],
                         [[r.label, f"{r.decided:,}", f"{r.accepted:,}", f"{r.rejected:,}", _pct(r.acceptance_rate),
                           ", ".join(f"{k} {v}" for k, v in r.top_reasons.items())] for r in rows]))
    out.print(_table("Rules on rejected vs accepted leads", ["rule", "on rejected", "on accepted", "difference",
                                                             "top reasons"],
                     [[r.rule, _pct(r.rejected_share), _pct(r.accepted_share), _pct(r.difference),
                       ", ".join(f"{k} {v}" for k, v in r.top_reasons.items())] for r in summary.rules[:10]]))


def render_feedback_report(report: FeedbackReport) -> None:
    out.print(f"[bold]{report.model}[/] ({report.model_version}) as of {report.as_of:%Y-%m-%d}: {report.leads:,} leads")
    _render_feedback_summary(report.summary)

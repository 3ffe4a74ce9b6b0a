"""The report page: one self-contained HTML file (inline CSS and SVG, no script, nothing fetched).

A Content-Security-Policy of ``default-src 'none'`` in the page itself makes the promise checkable:
a browser refuses any request the page might try, so it renders the same on a plane.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from leadscore.learn.report import ReportFigures
from leadscore.learn.report_svg import PALETTE, Chart, Series, bar_chart, hbar_chart, line_chart, percent, plain

MIN_BIN_LEADS = 10
"""Calibration bins with fewer leads are not drawn: one lead's outcome is not a rate."""

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f8fafc;color:#0f172a}
header{background:#0f172a;color:#f8fafc;padding:20px 32px}
header h1{margin:0 0 6px;font-size:22px} header p{margin:0;color:#cbd5e1;font-size:14px}
.cards{display:flex;gap:12px;flex-wrap:wrap;padding:16px 32px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:10px 16px;min-width:120px}
.card b{display:block;font-size:22px} .card span{color:#475569;font-size:12px}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(600px,1fr));gap:16px;padding:0 32px 32px}
section{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px 16px}
section h2{font-size:16px;margin:4px 0} section p.caption{color:#475569;font-size:13px;margin:4px 0 8px}
svg.chart{max-width:100%;height:auto} .grid{stroke:#e2e8f0} .reference{stroke:#94a3b8;stroke-dasharray:4 3}
.line{fill:none;stroke-width:2} .whisker{stroke:#0f172a;stroke-width:1.5}
.tick{font-size:11px;fill:#475569} .axis-label{font-size:12px;fill:#0f172a} .legend{font-size:12px;fill:#0f172a}
div.table{overflow-x:auto} table{border-collapse:collapse;font-size:11px;margin-top:8px;width:100%}
th,td{border-bottom:1px solid #e2e8f0;padding:3px 6px;text-align:right} th:first-child,td:first-child{text-align:left}
ul.notes{color:#92400e;font-size:13px;padding:0 48px}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def build_charts(figures: ReportFigures) -> list[Chart]:
    """Every chart of the report, in page order; charts without data are left out."""
    charts: list[Chart] = []
    hist = figures.histogram
    centres = [(a + b) / 2 for a, b in zip(hist.edges[:-1], hist.edges[1:], strict=True)]
    charts.append(bar_chart(
        "distribution", "Score distribution by outcome",
        "Share of converted and of other leads in each score range: the further apart, the better the score "
        "separates them.", [plain(c) for c in centres],
        [Series("converted", hist.converted, PALETTE[0]), Series("not converted", hist.lost, PALETTE[1])],
        fmt=percent, x_label="score (total)", y_label="share of leads", label_every=4))
    bands = figures.bands.bands
    charts.append(bar_chart(
        "bands", "Conversion rate by score band",
        f"Leads split into {len(bands)} bands of about equal size, highest scores first; the dashed line is "
        "the average conversion rate.", [str(b.band) for b in bands],
        [Series("conversion rate", [b.conversion_rate for b in bands], PALETTE[0])], fmt=percent,
        x_label="score band (1 = highest scores)", y_label="converted", reference=figures.base_rate))
    stages = [s for s in figures.stages if s["leads"]]
    if stages:
        charts.append(bar_chart(
            "stages", "Conversion rate by stage", "Did the stages the model assigns at the as-of date convert "
            "in that order?", [s["stage"] for s in stages],
            [Series("conversion rate", [s["conversion_rate"] for s in stages], PALETTE[2])], fmt=percent,
            x_label="stage", y_label="converted", reference=figures.base_rate))
    points = figures.lift.points
    charts.append(line_chart(
        "lift", "Lift curve (cumulative gains)",
        "Working the top x% of leads by score captures y% of the conversions; the diagonal is random order.",
        [Series("conversions captured", [p.share_of_conversions for p in points], PALETTE[0],
                xs=[p.share_of_leads for p in points])],
        x_max=1.0, left_max=1.0, fmt_x=percent, fmt_left=percent, x_label="share of leads worked (by score)",
        y_label="share of conversions", diagonal=True))
    calibration = [p for p in figures.calibration.points if p.leads >= MIN_BIN_LEADS]
    top = max([p.mean_predicted for p in calibration] + [p.observed_rate for p in calibration] + [1e-9])
    scale = min(1.0, max(0.05, round(top * 1.2, 2)))
    charts.append(line_chart(
        "calibration", "Calibration of the score as a probability",
        f"A logistic map of the score to a probability, fitted out of fold; points on the diagonal mean its "
        f"probabilities come true (ECE {figures.calibration.ece:.3f}; bins of {MIN_BIN_LEADS}+ leads).",
        [Series("observed rate", [p.observed_rate for p in calibration], PALETTE[3],
                xs=[p.mean_predicted for p in calibration])],
        x_max=scale, left_max=scale, fmt_x=percent, fmt_left=percent, x_label="predicted probability",
        y_label="observed conversion rate", diagonal=True))
    rows = figures.thresholds.rows
    charts.append(line_chart(
        "thresholds", "Threshold trade-off",
        "Work every lead at or above a threshold: recall is the share of conversions you reach, precision "
        "the conversion rate of the leads you work (right axis).",
        [Series("recall", [r.recall for r in rows], PALETTE[0], xs=[r.share_of_leads for r in rows]),
         Series("precision", [r.precision for r in rows], PALETTE[1], xs=[r.share_of_leads for r in rows],
                axis="right")],
        x_max=1.0, left_max=1.0, fmt_x=percent, fmt_left=percent, fmt_right=percent,
        x_label="share of leads at or above the threshold", y_label="recall", right_label="precision"))
    if figures.channels:
        channels = figures.channels
        charts.append(bar_chart(
            "channels", "Channel quality",
            "Conversion rate by lead source; the table adds cost per conversion and opportunities where the "
            "data has them.", [c["channel"] for c in channels],
            [Series("conversion rate", [c["conversion_rate"] for c in channels], PALETTE[2])], fmt=percent,
            x_label="source", y_label="converted", reference=figures.base_rate))
    if figures.signals:
        signals = figures.signals
        charts.append(hbar_chart(
            "signals", "Signal to conversion",
            "Median days from a converting lead's last event of each type to its conversion (line: middle "
            "half of leads). Short bars are late-stage signals worth an immediate call.",
            [f"{s['event_type']} ({s['converted_leads']})" for s in signals], [s["median_days"] for s in signals],
            [(s["p25_days"], s["p75_days"]) for s in signals], fmt=plain, x_label="days before conversion"))
    return charts


def _channel_table(figures: ReportFigures) -> str:
    columns: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("leads", lambda c: f"{c['leads']:,}"), ("conversions", lambda c: f"{c['conversions']:,}"),
               ("rate", lambda c: percent(c["conversion_rate"] or 0.0))]
    first = figures.channels[0]
    if "cost" in first:
        columns += [("cost", lambda c: _money(c.get("cost"))),
                    ("cost / conversion", lambda c: _money(c.get("cost_per_conversion")))]
    if "opportunities" in first:
        columns.append(("opportunities", lambda c: f"{c['opportunities'] or 0:,}"))
    if "pipeline" in first:
        columns.append(("pipeline", lambda c: _money(c.get("pipeline"))))
    columns.append(("mean score", lambda c: plain(c["mean_score"] or 0.0)))
    head = "".join(f"<th>{_e(name)}</th>" for name, _ in columns)
    body = "".join("<tr><td>" + _e(c["channel"]) + "</td>" + "".join(f"<td>{_e(cell(c))}</td>" for _, cell in columns)
                   + "</tr>" for c in figures.channels)
    return (f'<div class="table"><table><thead><tr><th>source</th>{head}</tr></thead><tbody>{body}</tbody>'
            "</table></div>")


def render_page(figures: ReportFigures, charts: Sequence[Chart], *, generated_at: datetime | None = None) -> str:
    """The whole HTML document."""
    when = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    window = figures.window
    cards = [("ROC AUC", f"{figures.roc_auc:.3f}"), ("leads at the as-of date", f"{figures.leads:,}"),
             ("converted in the window", f"{figures.conversions:,}"), ("base rate", percent(figures.base_rate)),
             ("top 10% capture", percent(_capture(figures, 0.1))), ("PR AUC", f"{figures.pr_auc:.3f}")]
    sections = []
    for chart in charts:
        extra = _channel_table(figures) if chart.id == "channels" else ""
        sections.append(f'<section id="section-{_e(chart.id)}"><h2>{_e(chart.title)}</h2>'
                        f'<p class="caption">{_e(chart.caption)}</p>{chart.svg}{extra}</section>')
    notes = "".join(f"<li>{_e(note)}</li>" for note in figures.notes)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>leadscore report: {_e(figures.model)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{_e(figures.model)}: how well the scores predicted outcomes</h1>"
        f"<p>Scored as of {window.as_of:%Y-%m-%d %H:%M} (model version {_e(figures.model_version)}), data "
        f"{_e(figures.data)}; outcome: {_e(window.describe())}. Generated {when} by leadscore report.</p></header>"
        '<div class="cards">' + "".join(f'<div class="card"><b>{_e(v)}</b><span>{_e(k)}</span></div>'
                                        for k, v in cards) + "</div>"
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
        + "<main>" + "".join(sections) + "</main></body></html>\n")


def _capture(figures: ReportFigures, share: float) -> float:
    points = [p for p in figures.lift.points if p.share_of_leads <= share + 1e-9]
    return points[-1].share_of_conversions if points else 0.0

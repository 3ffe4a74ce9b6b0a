"""``report``: one self-contained HTML file of charts on how well a model's scores predicted outcomes.

    >>> import leadscore
    >>> leadscore.report("model.yaml", "data/", outcome="converted", as_of=datetime(2026, 3, 31),
    ...                  out="report.html").charts
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from leadscore.api.tuning import horizon_days
from leadscore.errors import DataError, Issue
from leadscore.spec.loader import LoadedModel
from leadscore.spec.loader import load_model as _load_model

ModelLike = LoadedModel | str | Path


@dataclass(frozen=True)
class ReportResult:
    """The report file, its headline figures, and each chart with the number of marks it draws."""

    out: str
    model: str
    as_of: datetime
    leads: int
    conversions: int
    roc_auc: float
    charts: dict[str, int]
    figures: dict[str, Any] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"out": self.out, "model": self.model, "as_of": self.as_of.isoformat(), "leads": self.leads,
                "conversions": self.conversions, "roc_auc": self.roc_auc, "charts": dict(self.charts),
                "figures": self.figures}


def report(model: ModelLike, data: str | Path, *, outcome: str = "converted", as_of: datetime | None = None,
           horizon: str | float = "90d", out: str | Path = "report.html", threads: int | None = None
           ) -> ReportResult:
    """Score ``data`` as of ``as_of`` and write the HTML report to ``out``.

    Charts: score distribution by outcome, conversion by score band and by stage, lift curve,
    calibration curve, threshold trade-off, channel quality (by ``source``, with cost and
    opportunities where those columns exist) and signal-to-conversion times.

    Raises
    ------
    ModelError, DataError
        As ``score``; also when no lead, or every lead, converted in the window.
    """
    from leadscore.learn.report import build_report
    from leadscore.learn.report_html import build_charts, render_page

    loaded = model if isinstance(model, LoadedModel) else _load_model(model)
    figures = build_report(loaded, data, outcome=outcome, as_of=as_of, horizon_days=horizon_days(horizon),
                           threads=threads)
    charts = build_charts(figures)
    target = Path(out)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_page(figures, charts), encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot write the report to {target}: {exc.strerror or exc}",
                        [Issue(str(exc), file=str(target), hint="give --out a writable .html path")]) from None
    return ReportResult(out=str(target), model=figures.model, as_of=figures.window.as_of, leads=figures.leads,
                        conversions=figures.conversions, roc_auc=figures.roc_auc,
                        charts={chart.id: chart.marks for chart in charts}, figures=figures.to_dict())

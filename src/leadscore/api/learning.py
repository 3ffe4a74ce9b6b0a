"""Learning from outcomes: back-tests, stage thresholds, signals, channel quality and sales feedback.

    >>> import leadscore
    >>> report = leadscore.backtest("model.yaml", "data/", outcome="converted", as_of="2026-03-31",
    ...                             horizon="90d", by=["source"])
    >>> report.windows[0].roc_auc, report.windows[0].bands[0].lift
    >>> leadscore.recommend_thresholds("model.yaml", "data/", as_of="2026-03-31", capacity="400/week")

Each function takes the model (a loaded model or a model file) and the data positionally and the
rest keyword-only, and returns a frozen result whose ``to_dict()`` is what ``--json`` prints.
Unusable input (no outcome column, one class only, too few conversions, a column that leaks the
outcome) raises ``DataError`` saying what is wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from leadscore.errors import DataError, Issue
from leadscore.learn.backtest import BacktestReport, run_backtest
from leadscore.learn.channels import ChannelReport, run_channels
from leadscore.learn.feedback import FeedbackImport
from leadscore.learn.feedback import import_feedback as _import_feedback
from leadscore.learn.feedback_report import FeedbackReport, run_feedback_report
from leadscore.learn.outcomes import OutcomeSpec
from leadscore.learn.signals import SignalReport, run_signals
from leadscore.learn.thresholds import ThresholdReport, parse_capacity, run_thresholds
from leadscore.spec.durations import parse_duration_days
from leadscore.spec.loader import LoadedModel
from leadscore.spec.loader import load_model as _load_model

ModelLike = LoadedModel | str | Path
DateLike = datetime | str
Progress = Callable[[str, float], None]

__all__ = ["BacktestReport", "ChannelReport", "FeedbackImport", "FeedbackReport", "SignalReport", "ThresholdReport",
           "backtest", "channels", "feedback_report", "import_feedback", "recommend_thresholds", "signals"]


def _model(model: ModelLike) -> LoadedModel:
    return model if isinstance(model, LoadedModel) else _load_model(model)


def _date(value: DateLike, *, option: str = "--as-of") -> datetime:
    """A naive UTC datetime (the engine's convention); aware values are converted to UTC."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise DataError(f"cannot read date {value!r}",
                            [Issue("not a date", path=option, hint="write it as 2026-03-31 or 2026-03-31T12:00")]
                            ) from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def _dates(value: DateLike | Sequence[DateLike] | None) -> list[datetime]:
    if value is None:
        return []
    if isinstance(value, datetime | str):
        return [_date(value)]
    return sorted({_date(v) for v in value})


def _spec(outcome: str, outcome_time: str | None, horizon: str | float, min_conversions: int) -> OutcomeSpec:
    try:
        days = parse_duration_days(horizon)
    except ValueError as exc:
        raise DataError(f"cannot read --horizon {horizon!r}",
                        [Issue(str(exc), path="--horizon", hint="e.g. 90d, 12w or 6m")]) from None
    if min_conversions < 1:
        raise DataError(f"--min-conversions must be at least 1, got {min_conversions}")
    return OutcomeSpec(column=outcome, time_column=outcome_time, horizon_days=days, min_conversions=min_conversions)


def backtest(model: ModelLike, data: str | Path, *, outcome: str = "converted", outcome_time: str | None = None,
             as_of: DateLike | Sequence[DateLike] | None = None, horizon: str | float = "90d",
             by: Sequence[str] = (), bands: int = 10, min_conversions: int = 10,
             feedback: str | Path | None = None, allow_leak: Sequence[str] = (),
             progress: Progress | None = None) -> BacktestReport:
    """Score every lead as of each ``as_of`` date with only what was known then; measure the scores
    against the outcomes in (as_of, as_of + horizon].

    Parameters
    ----------
    model : a loaded model or the path of a model file.
    data : a folder of leads and events (or a DuckDB file), or a flat leads table (CSV/Parquet file,
        or a folder with only leads) whose outcome is a 0/1 column with no time.
    outcome : the yes/no column saying a lead converted.
    outcome_time : its time column (default ``<outcome>_at``).
    as_of : one date or several (a trend); required for event data, at most one for a flat table.
    horizon : how long after ``as_of`` a conversion counts (``90d``, ``12w``, or days).
    by : lead columns to break the figures down by (such as ``source``), besides the model's segments.
    bands : number of score bands (quantiles; band 1 holds the highest scores).
    min_conversions : fewest conversions a window may rest on.
    feedback : a feedback store (``leadscore feedback import``) to add acceptance by band and the
        rules behind rejections.
    allow_leak : columns the model reads that are known before the outcome even though they predict
        it almost perfectly.

    Returns
    -------
    BacktestReport

    Raises
    ------
    ModelError, DataError
        Among others: no outcome column, an outcome that is all one class, too few conversions, a
        column that leaks the outcome.

    Examples
    --------
    >>> leadscore.backtest("model.yaml", "data/", as_of=["2025-12-31", "2026-03-31"], by=["source"])
    """
    return run_backtest(_model(model), data, _spec(outcome, outcome_time, horizon, min_conversions),
                        as_of=_dates(as_of), by=list(by), n_bands=bands, feedback=feedback,
                        allow_leak=list(allow_leak), progress=progress)


def recommend_thresholds(model: ModelLike, data: str | Path, *, outcome: str = "converted",
                         outcome_time: str | None = None, as_of: DateLike | None = None,
                         horizon: str | float = "90d", capacity: str | float | None = None,
                         target_precision: float | None = None, target_recall: float | None = None,
                         stage: str | None = None, write: str | Path | None = None, min_conversions: int = 10,
                         inflow_weeks: float = 13.0, allow_leak: Sequence[str] = ()) -> ThresholdReport:
    """Recommend a stage's ``min_score`` from history, for an SDR capacity or a precision/recall target.

    Parameters
    ----------
    capacity : leads sales can work, ``400/week`` (also ``80/day``, ``1600/month`` or a number a week),
        out of the weekly inflow measured from lead creation times over ``inflow_weeks`` before ``as_of``.
    target_precision, target_recall : shares in (0, 1].
    stage : the stage to set (default: the model's second stage, usually the MQL line).
    write : write a copy of the model with the recommended ``min_score`` there (all else kept).
    Other parameters as in :func:`backtest`.

    Returns
    -------
    ThresholdReport

    Examples
    --------
    >>> leadscore.recommend_thresholds("model.yaml", "data/", as_of="2026-03-31", capacity="400/week",
    ...                                write="model-v2.yaml")
    """
    return run_thresholds(
        _model(model), data, _spec(outcome, outcome_time, horizon, min_conversions),
        as_of=_date(as_of) if as_of is not None else None,
        capacity_per_week=parse_capacity(capacity) if capacity is not None else None,
        target_precision=target_precision, target_recall=target_recall, stage=stage, write=write,
        inflow_weeks=inflow_weeks, allow_leak=list(allow_leak))


def signals(model: ModelLike, data: str | Path, *, outcome: str = "converted", outcome_time: str | None = None,
            as_of: DateLike | None = None, min_conversions: int = 10) -> SignalReport:
    """How often converters vs non-converters show each event type and profile rule, the lift, and
    the median days from an event type's last occurrence to the conversion.

    ``as_of`` is when profile rules are evaluated (default: the data's ``meta.json`` date, else now).

    Examples
    --------
    >>> [(s.name, s.median_days_to_conversion) for s in leadscore.signals("model.yaml", "data/").events]
    """
    return run_signals(_model(model), data, _spec(outcome, outcome_time, "90d", min_conversions),
                       as_of=_date(as_of) if as_of is not None else None)


def channels(model: ModelLike, data: str | Path, *, by: str = "source", as_of: DateLike | None = None,
             outcome: str | None = "converted") -> ChannelReport:
    """Channel quality: leads, cost per lead, stage mix, MQLs, sales acceptance, opportunities, revenue
    and cost per opportunity per ``by`` value, where the columns exist (the others are named as skipped).

    Examples
    --------
    >>> leadscore.channels("model.yaml", "data/", by="campaign").total.cost_per_opportunity
    """
    return run_channels(_model(model), data, by=by, as_of=_date(as_of) if as_of is not None else None,
                        outcome=outcome)


def import_feedback(file: str | Path, *, store: str | Path) -> FeedbackImport:
    """Append sales accept/reject decisions (CSV/Parquet: lead_id, decision, reason, decided_at, rep)
    to the feedback store folder; bad rows are quarantined with a reason, earlier feedback is kept.

    Examples
    --------
    >>> leadscore.import_feedback("decisions.csv", store="feedback/").quarantined
    """
    return _import_feedback(file, store)


def feedback_report(model: ModelLike, data: str | Path, *, store: str | Path, as_of: DateLike | None = None,
                    bands: int = 10) -> FeedbackReport:
    """Sales acceptance by score band and stage, and the rules that fire on rejected leads more often
    than on accepted ones, for the decisions in a feedback store.

    Examples
    --------
    >>> leadscore.feedback_report("model.yaml", "data/", store="feedback/").summary.rules[:3]
    """
    return run_feedback_report(_model(model), data, store, as_of=_date(as_of) if as_of is not None else None,
                               n_bands=bands)

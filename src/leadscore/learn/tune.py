"""``leadscore tune``: learn a model's points from outcomes; keep its rules, names and shape.

1. Score every lead as of T with the current model and label the leads known at T with whether
   they converted in ``(T, T + horizon]`` (:mod:`leadscore.learn.tune_data`).
2. Build features from the model's own explanation items plus candidate bins and levels of
   columns no rule uses yet (:mod:`leadscore.learn.tune_features`).
3. Fit :class:`~leadscore.learn.scorecard.ScorecardLearner` (L2 logistic regression, strength by
   stratified cross-validation) and scale it to integer points: ``pdo`` points double the odds.
4. Write the points into the model file (comments and layout kept), drop caps and floors (they
   would cut an additive model), add the learned bins as a ``learned`` layer, score again with the
   new model and move every score threshold so that stages, grades and requirements let about the
   same share of leads through (:mod:`leadscore.learn.tune_rewrite`).

The tuned model is an ordinary model: it loads, validates, scores and explains itself. Its total
is points above a lead with no rule applying; the probability of converting is
``sigmoid(intercept + total / factor)`` with the numbers given in the summary.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from leadscore.backends import duckdb_engine
from leadscore.compiler.events_sql import meaningful_types
from leadscore.compiler.plan import ScoringPlan, compile_plan
from leadscore.errors import Issue, ModelError
from leadscore.learn.metrics import roc_auc
from leadscore.learn.scorecard import IndicatorSet, ScorecardLearner
from leadscore.learn.tune_changes import TuneSummary, changes_markdown
from leadscore.learn.tune_data import (
    OutcomeWindow,
    column_types,
    label_population,
    outcome_window,
    profile_columns,
    profile_values,
    scored_frame,
)
from leadscore.learn.tune_features import candidate_frame, referenced_columns, rule_features
from leadscore.learn.tune_points import (
    LEARNED_LAYER,
    _apply_points,
    _bin_rules,
    _remap_thresholds,
    _remove_bounds,
    _score_columns,
)
from leadscore.learn.tune_rewrite import (
    Document,
    dump_document,
    model_document,
)
from leadscore.spec.loader import LoadedModel, load_model_text

FloatArray = npt.NDArray[np.float64]
Progress = Callable[[str, float], None]
BIN_QUANTILES: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)


@dataclass(frozen=True)
class TuneSettings:
    """How to learn: the scorecard's parameters and which candidate columns to offer."""

    pdo: float = 20.0
    penalty: str = "l2"
    Cs: int = 10
    cv: int = 5
    bins: bool = True
    levels: bool = True
    max_levels: int = 12
    min_support: float = 0.02
    leak_threshold: float = 0.9
    exclude: tuple[str, ...] = ()
    random_state: int = 0

    def learner(self, *, binary_only: bool) -> ScorecardLearner:
        return ScorecardLearner(penalty=self.penalty, Cs=self.Cs, cv=self.cv, pdo=self.pdo,  # type: ignore[arg-type]
                                binary_only=binary_only, random_state=self.random_state)


@dataclass(frozen=True)
class TunedModel:
    """The tuned model (document, YAML text, validated model) and what changed."""

    document: Document
    text: str
    loaded: LoadedModel
    summary: TuneSummary

    @property
    def changes(self) -> str:
        return changes_markdown(self.summary)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run small linear algebra on one BLAS thread.

    The logistic fits here multiply matrices of a few thousand rows by ~100 columns: threads buy
    nothing, and on a busy machine OpenBLAS's spinning threads made each product 10x slower
    (measured: 0.24 s vs 0.023 s for 7,400 x 82). The limit is lifted when the block ends.
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # ships no type hints

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def out_of_fold_auc(X: pd.DataFrame, y: npt.NDArray[np.int64], C: float, folds: int, seed: int) -> float | None:
    """ROC AUC of the same logistic model scored out of fold (C as chosen on all leads)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    k = min(folds, int(y.sum()), int(y.size - y.sum()))
    if k < 2:
        return None
    model = LogisticRegression(C=C, solver="newton-cholesky", max_iter=1000)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    with one_blas_thread():
        scores = cross_val_predict(model, X.to_numpy(dtype=np.float64), y, cv=splitter, method="decision_function")
    return roc_auc(y, scores)


# -- rules mode ----------------------------------------------------------------------------------------


def tune_rules(loaded: LoadedModel, data: str | Path, *, outcome: str, as_of: datetime, horizon_days: float,
               settings: TuneSettings | None = None, tuned_name: str = "tuned model",
               threads: int | None = None, progress: Progress | None = None) -> TunedModel:
    """Learn new points for ``loaded``'s rules from outcomes after ``as_of`` (see the module docs).

    Raises
    ------
    ModelError
        The model has segments (tune each segment's model on its own).
    DataError
        The outcome column is missing or not 0/1, or no lead (or every lead) converted.
    """
    settings = settings or TuneSettings()
    step = progress or (lambda _name, _fraction: None)
    if loaded.spec.segments:
        raise ModelError("tune learns one model at a time; this model has segments",
                         [loaded.issue(("segments",), "segments are not tuned",
                                       hint="tune each segment's model file on its own data")])
    step("scoring with the current model", 0.05)
    session = duckdb_engine.run_scoring(loaded, data, as_of=as_of, threads=threads)
    warnings: list[str] = []
    try:
        con, plan = session.con, session.plan
        window = outcome_window(column_types(con, "leads"), outcome, as_of=session.as_of,
                                horizon_days=horizon_days)
        population = label_population(con, plan, window)
        warnings += _window_warnings(con, plan, window, population.outcome_missing)
        score_columns = _score_columns(plan)
        frame = scored_frame(con, [*score_columns, *(f"why:{r}" for r in _rule_names(plan))])
        candidates, dropped = profile_columns(con, plan, window, exclude=settings.exclude)
        values = profile_values(con, plan, candidates) if settings.bins else {}
    finally:
        session.close()
    y = np.asarray(frame["y"], dtype=np.int64)
    step("learning points", 0.4)
    features = rule_features(plan, frame)
    bins_frame, more_dropped = (candidate_frame(candidates, values, used=referenced_columns(plan),
                                                max_levels=settings.max_levels, levels=settings.levels)
                                if settings.bins else (pd.DataFrame(index=range(y.size)), {}))
    dropped.update(more_dropped)
    bins_frame, leaks = _drop_leaks(bins_frame, y, settings.leak_threshold)
    dropped.update(leaks)
    indicators = _indicators(bins_frame, settings)
    X = pd.concat([pd.DataFrame(features.columns), indicators.transform(bins_frame).astype(np.float64)], axis=1)
    if X.shape[1] == 0:
        raise ModelError("nothing to tune: no rule of this model varies among the training leads",
                         [Issue("no features", hint="check --as-of: rules and events must exist before it")])
    with one_blas_thread():
        learner = settings.learner(binary_only=False).fit(X, y)

    step("writing the tuned model", 0.6)
    document = model_document(loaded)
    changes = _apply_points(document, loaded, features.features, features.kept, learner, X, y)
    bin_rules, bin_changes = _bin_rules(indicators, learner, X, y, taken=set(_all_names(loaded)))
    changes += bin_changes
    if bin_rules:
        document["layers"][LEARNED_LAYER] = {"description": "bins and levels learned by leadscore tune",
                                             "rules": bin_rules}
    removed = _remove_bounds(document)
    if "meaningful_events" not in document and plan.event_rules:
        # Points may change sign; what counts as activity (and days_since_last_activity) must not.
        document["meaningful_events"] = sorted(meaningful_types(plan))
        removed.append("meaningful_events made explicit (the event types that counted as activity before)")
    _describe(document, loaded, window, settings, learner)
    draft = load_model_text(dump_document(document), source=tuned_name)

    step("scoring with the tuned model", 0.7)
    new_session = duckdb_engine.run_scoring(draft, data, as_of=window.as_of, threads=threads)
    try:
        label_population(new_session.con, new_session.plan, window)
        new_frame = scored_frame(new_session.con, [*score_columns, *(f"why:{r.name}"
                                                                      for r in new_session.plan.profile_rules)])
    finally:
        new_session.close()
    thresholds, more_warnings = _remap_thresholds(document, loaded, plan, frame, new_frame, draft)
    warnings += more_warnings
    header = (f"Tuned by leadscore tune from {loaded.spec.model} (version {loaded.spec.version}) on {data}, "
              f"as of {window.as_of:%Y-%m-%d}.\nWhat changed and why: see the .changes.md file written beside it.")
    text = dump_document(document, header=header)
    tuned = load_model_text(text, source=tuned_name)
    compile_plan(tuned)
    auc = {"current_model": _auc(y, frame["total"]), "tuned_model": _auc(y, new_frame["total"]),
           "tuned_out_of_fold": out_of_fold_auc(X, y, learner.C_, settings.cv, settings.random_state)}
    summary = TuneSummary(
        mode="rules", model=f"{loaded.spec.model} (version {loaded.spec.version})", tuned_model=tuned_name,
        data=str(data), outcome={**window.to_dict(), "description": window.describe()},
        population=population.to_dict(), learner=_learner_dict(learner, settings, X.shape[1], intercept=False),
        auc=auc, rules=tuple(changes), thresholds=tuple(thresholds), removed=tuple(removed),
        dropped_columns=dropped, warnings=tuple(warnings))
    step("done", 1.0)
    return TunedModel(document, text, tuned, summary)


def _rule_names(plan: ScoringPlan) -> list[str]:
    return [r.name for r in plan.profile_rules] + [r.name for r in plan.event_rules]


def _all_names(loaded: LoadedModel) -> list[str]:
    spec = loaded.spec
    return [*spec.layers, *spec.group_names(), *spec.rule_names(), LEARNED_LAYER, "total"]


def _auc(y: npt.NDArray[np.int64], scores: npt.NDArray[Any]) -> float | None:
    values = np.asarray(scores, dtype=np.float64)
    if values.size != y.size or not np.isfinite(values).all():
        return None
    return roc_auc(y, values)


def _window_warnings(con: Any, plan: ScoringPlan, window: OutcomeWindow, missing: int) -> list[str]:
    warnings: list[str] = []
    if window.time_column is None:
        warnings.append(f"{window.column!r} has no time (no {window.column}_at column): outcomes are taken as "
                        "recorded, and may include conversions before the as-of date or long after it")
    if missing:
        warnings.append(f"{missing:,} leads have no {window.column!r} value; they count as not converted")
    from leadscore.learn.tune_data import quote

    row = con.execute(f"SELECT max({quote(plan.event_time)}) FROM events").fetchall()[0]
    last = row[0] if row else None
    if isinstance(last, datetime) and last < window.end:
        warnings.append(f"the data ends at {last:%Y-%m-%d} but the outcome window runs to "
                        f"{window.end:%Y-%m-%d}: later conversions are not in the data, so some "
                        "converting leads look lost (choose an earlier --as-of or a shorter --horizon)")
    return warnings


def _drop_leaks(frame: pd.DataFrame, y: npt.NDArray[np.int64], threshold: float
                ) -> tuple[pd.DataFrame, dict[str, str]]:
    """Columns that predict the outcome almost perfectly on their own were filled in after it."""
    from leadscore.learn.leakage import detect_leakage

    if frame.shape[1] == 0:
        return frame, {}
    report = detect_leakage(frame, y, threshold=threshold)
    dropped = {f.column: f"predicts the outcome on its own (ROC AUC {f.strongest:.2f}): probably filled in "
                         "after the outcome" for f in report.findings}
    return frame.drop(columns=list(dropped)), dropped


def _indicators(frame: pd.DataFrame, settings: TuneSettings) -> IndicatorSet:
    from leadscore.learn.scorecard import build_indicator_features

    if frame.shape[1] == 0:
        return IndicatorSet(())
    return build_indicator_features(frame, quantiles=BIN_QUANTILES, min_support=settings.min_support,
                                    max_levels=settings.max_levels)


def _learner_dict(learner: ScorecardLearner, settings: TuneSettings, n_features: int, *, intercept: bool
                  ) -> dict[str, Any]:
    shift = "" if intercept else f"{learner.intercept_:+.4f} + "
    return {"penalty": settings.penalty, "C": learner.C_, "cv": settings.cv, "pdo": settings.pdo,
            "factor": learner.factor_, "offset": learner.offset_, "intercept": learner.intercept_,
            "intercept_points": learner.intercept_points_, "features": n_features,
            "random_state": settings.random_state,
            "probability": f"1 / (1 + exp(-({shift}(total - {learner.offset_:.4g}) / {learner.factor_:.4f})))"}


def _describe(document: Document, loaded: LoadedModel, window: OutcomeWindow, settings: TuneSettings,
              learner: ScorecardLearner) -> None:
    version = loaded.spec.version
    document["version"] = version + 1 if isinstance(version, int) else f"{version}+tuned"
    document["description"] = (
        f"{loaded.spec.model} tuned on outcomes: {window.describe()}. {settings.pdo:g} points double the "
        f"odds; probability = sigmoid({learner.intercept_:.4f} + total / {learner.factor_:.4f}).")

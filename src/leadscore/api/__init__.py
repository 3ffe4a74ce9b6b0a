"""The public Python API. The CLI and the HTTP service are thin layers over these functions.

    >>> import leadscore
    >>> model = leadscore.load_model("model.yaml")
    >>> result = leadscore.score(model, "data/", out="scores/")
    >>> leadscore.explain(model, "data/", 4711).reasons[:3]
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from leadscore.backends import duckdb_engine
from leadscore.backends.outputs import write_database, write_directory
from leadscore.compiler.plan import compile_plan
from leadscore.errors import DataError, Issue
from leadscore.results import DemoResult, DiffReport, Explanation, ScoreResult, ValidationReport
from leadscore.spec.loader import LoadedModel
from leadscore.spec.loader import load_model as _load_model

# The learning, export and prediction entry points load on first use: `leadscore score` should not
# pay for pyarrow, pandas-facing learning code or the dbt writer at start-up.
_LAZY = {
    'DbtExport': 'export',
    'ScoringSQL': 'export',
    'TableNames': 'export',
    'dbt_export': 'export',
    'export_sql': 'export',
    'score_incremental': 'export',
    'score_spark': 'export',
    'backtest': 'learning',
    'channels': 'learning',
    'feedback_report': 'learning',
    'import_feedback': 'learning',
    'recommend_thresholds': 'learning',
    'signals': 'learning',
    'predict_fit': 'prediction',
    'predict_score': 'prediction',
    'report': 'reporting',
    'tune': 'tuning',
}

if TYPE_CHECKING:
    from leadscore.api.export import DbtExport as DbtExport
    from leadscore.api.export import ScoringSQL as ScoringSQL
    from leadscore.api.export import TableNames as TableNames
    from leadscore.api.export import dbt_export as dbt_export
    from leadscore.api.export import export_sql as export_sql
    from leadscore.api.export import score_incremental as score_incremental
    from leadscore.api.export import score_spark as score_spark
    from leadscore.api.learning import backtest as backtest
    from leadscore.api.learning import channels as channels
    from leadscore.api.learning import feedback_report as feedback_report
    from leadscore.api.learning import import_feedback as import_feedback
    from leadscore.api.learning import recommend_thresholds as recommend_thresholds
    from leadscore.api.learning import signals as signals
    from leadscore.api.prediction import predict_fit as predict_fit
    from leadscore.api.prediction import predict_score as predict_score
    from leadscore.api.reporting import report as report
    from leadscore.api.tuning import tune as tune


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'leadscore.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"leadscore.api.{module}"), name)
    globals()[name] = value
    return value


Progress = Callable[[str, float], None]
ModelLike = LoadedModel | str | Path


def load_model(path: str | Path) -> LoadedModel:
    """Load and validate a model file; raises ModelError listing every problem with file:line:col."""
    return _load_model(path)


def _model(model: ModelLike) -> LoadedModel:
    return model if isinstance(model, LoadedModel) else _load_model(model)


def bundled_model_path(name: str = "b2b_saas") -> Path:
    """Path of a model shipped with leadscore (``b2b_saas``)."""
    path = Path(__file__).resolve().parents[1] / "models" / f"{name}.yaml"
    if not path.exists():
        raise DataError(f"no bundled model named {name!r}",
                        [Issue("unknown bundled model", hint="bundled models: b2b_saas")])
    return path


def validate(model: ModelLike, *, data: str | Path | None = None) -> ValidationReport:
    """Check a model (and, with ``data``, its columns and event types against the data)."""
    loaded = _model(model)
    if data is not None:
        con, _opened, plan = duckdb_engine.open_data(loaded, data, check_event_types=True, predictions=False)
        con.close()
    else:
        plan = compile_plan(loaded)
    warnings: list[str] = []
    last = loaded.spec.stages[-1]
    if last.require or last.min_score > (loaded.spec.total.floor or 0):
        warnings.append(f"no stage catches every lead: the last stage '{last.name}' has a min_score or "
                        "requirements, so some leads may get no stage")
    if not plan.grades:
        warnings.append("no grades defined: every lead's grade will be empty")
    rules = len(plan.profile_rules) + len(plan.event_rules)
    return ValidationReport(model=plan.name, source=loaded.source, version_hash=loaded.version_hash,
                            layers=[layer.name for layer in plan.layers], rules=rules,
                            stages=[stage.name for stage in plan.stages],
                            checked_against_data=data is not None, warnings=warnings)


def score(model: ModelLike, data: str | Path, *, out: str | Path | None = None,
          as_of: datetime | None = None, fmt: Literal["parquet", "csv"] = "parquet", top: int = 5,
          progress: Progress | None = None, threads: int | None = None,
          memory_limit: str | None = None) -> ScoreResult:
    """Score every lead and account in ``data``; write outputs to ``out`` (a folder or .duckdb file).

    Parameters
    ----------
    model : a loaded model or the path of a model file.
    data : a folder with leads/events/accounts (Parquet or CSV) or a DuckDB file with those tables.
    out : where to write; ``None`` scores without writing.
    as_of : score as of this time (only events before it count); default: the data's meta.json
        ``as_of`` if present, else now (UTC).

    Raises
    ------
    ModelError, DataError, BackendError
    """
    started = time.perf_counter()
    loaded = _model(model)
    session = duckdb_engine.run_scoring(loaded, data, as_of=as_of, progress=progress, threads=threads,
                                        memory_limit=memory_limit)
    try:
        written = None
        if out is not None:
            target = Path(out)
            if target.suffix in {".duckdb", ".db"}:
                written = write_database(session, target)
            else:
                written = write_directory(session, target, fmt=fmt)
        return _summarise(session, written.files if written else {}, written.run_id if written else None,
                          written.stage_changes if written else None, top, time.perf_counter() - started)
    finally:
        session.close()


def _summarise(session: duckdb_engine.Session, outputs: dict[str, str], run_id: str | None,
               stage_changes: int | None, top: int, seconds: float) -> ScoreResult:
    con = session.con
    plan = session.plan
    stage_rows = dict(con.execute("SELECT stage, count(*) FROM lead_scores GROUP BY stage").fetchall())
    stage_counts = {stage.name: int(stage_rows.get(stage.name, 0)) for stage in plan.stages}
    if stage_rows.get(None):
        stage_counts["(none)"] = int(stage_rows[None])
    grade_rows = con.execute("SELECT coalesce(grade, '(none)'), count(*) FROM lead_scores GROUP BY 1 "
                             "ORDER BY 1").fetchall()
    columns = ["lead_id", "account_id", "total", "grade", "stage", "next_action", "last_activity_type",
               "last_activity_at"]
    reason_columns = [f"{kind}{i}" for i in range(1, plan.reasons_top + 1) for kind in ("reason", "points")]
    leads = con.execute(f"SELECT {', '.join(columns + reason_columns)} FROM lead_scores "
                        f"ORDER BY total DESC, lead_id LIMIT {int(top)}").fetchall()
    top_leads = []
    for row in leads:
        record = dict(zip(columns, row[: len(columns)], strict=True))
        pairs = row[len(columns):]
        record["top_reasons"] = [{"rule": pairs[i], "points": pairs[i + 1]}
                                 for i in range(0, len(pairs), 2) if pairs[i] is not None]
        top_leads.append(record)
    acc_columns = ["account_id", "account_score", "engaged_leads", "lead_count", "committee_roles",
                   "top_leads"]
    accounts = con.execute(f"SELECT {', '.join(acc_columns)} FROM account_scores "
                           f"ORDER BY account_score DESC, account_id LIMIT {int(top)}").fetchall()
    counts = con.execute("SELECT (SELECT count(*) FROM lead_scores), (SELECT count(*) FROM account_scores)"
                         ).fetchone()
    return ScoreResult(
        model=plan.name, model_version=plan.version_hash, as_of=session.as_of,
        leads=int(counts[0]) if counts else 0, accounts=int(counts[1]) if counts else 0,
        stage_counts=stage_counts, grade_counts={str(g): int(n) for g, n in grade_rows},
        top_leads=top_leads, top_accounts=[_row(acc_columns, row) for row in accounts],
        quarantined=dict(session.quarantine_counts), outputs=outputs, run_id=run_id,
        stage_changes=stage_changes, seconds=round(seconds, 3))


def _row(columns: list[str], row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(columns, row, strict=True))


def diff(old: ModelLike, new: ModelLike, data: str | Path, *, as_of: datetime | None = None,
         top: int = 10) -> DiffReport:
    """What a model change does: stage from->to matrix and the biggest movers, with reasons."""
    old_model, new_model = _model(old), _model(new)
    before = duckdb_engine.run_scoring(old_model, data, as_of=as_of)
    after = duckdb_engine.run_scoring(new_model, data, as_of=as_of or before.as_of)
    try:
        frame = before.con.sql("SELECT lead_id, stage, total FROM lead_scores").to_arrow_table()
        con = after.con
        con.register("before_scores", frame)
        matrix_rows = con.execute(
            "SELECT coalesce(b.stage, '(none)'), coalesce(a.stage, '(none)'), count(*) FROM before_scores b "
            "JOIN lead_scores a USING (lead_id) GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
        matrix: dict[str, dict[str, int]] = {}
        for src, dst, count in matrix_rows:
            matrix.setdefault(str(src), {})[str(dst)] = int(count)
        movers_rows = con.execute(
            "SELECT lead_id, b.stage, a.stage, b.total, a.total, a.total - b.total AS change "
            "FROM before_scores b JOIN lead_scores a USING (lead_id) "
            f"ORDER BY abs(a.total - b.total) DESC, lead_id LIMIT {int(top)}").fetchall()
        ids = [row[0] for row in movers_rows]
        old_items, new_items = _reason_items(before, ids), _reason_items(after, ids)
        movers = [_mover(row, old_items.get(row[0], {}), new_items.get(row[0], {})) for row in movers_rows]
        stats = con.execute(
            "SELECT count(*), count(*) FILTER (b.stage IS DISTINCT FROM a.stage), avg(a.total - b.total) "
            "FROM before_scores b JOIN lead_scores a USING (lead_id)").fetchone()
    finally:
        before.close()
        after.close()
    assert stats is not None
    return DiffReport(old_model=f"{old_model.spec.model} ({old_model.version_hash})",
                      new_model=f"{new_model.spec.model} ({new_model.version_hash})", leads=int(stats[0]),
                      changed_stage=int(stats[1]), matrix=matrix, movers=movers,
                      mean_total_change=float(stats[2] or 0.0))


def _reason_items(session: duckdb_engine.Session, ids: list[Any]) -> dict[Any, dict[str, float]]:
    """Explanation items (rule -> points) of some leads, from a session's lead_scores."""
    from leadscore.backends.outputs import lead_reasons_select

    if not ids:
        return {}
    session.con.execute("CREATE OR REPLACE TEMP TABLE wanted_ids AS SELECT unnest(?) AS lead_id", [ids])
    cursor = session.con.execute(f"SELECT * FROM ({lead_reasons_select(session)}) "
                                 "WHERE lead_id IN (SELECT lead_id FROM wanted_ids)")
    names = [d[0] for d in cursor.description or []]
    return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cursor.fetchall()}


def _mover(row: tuple[Any, ...], old_points: dict[str, float], new_points: dict[str, float]
           ) -> dict[str, Any]:
    lead_id, old_stage, new_stage, old_total, new_total, change = row
    changes: list[dict[str, Any]] = []
    for rule in sorted(set(old_points) | set(new_points)):
        delta = new_points.get(rule, 0.0) - old_points.get(rule, 0.0)
        if abs(delta) > 1e-9:
            changes.append({"rule": rule, "before": old_points.get(rule, 0.0),
                            "after": new_points.get(rule, 0.0), "change": delta})
    changes.sort(key=lambda c: (-abs(c["change"]), c["rule"]))
    return {"lead_id": lead_id, "from_stage": old_stage, "to_stage": new_stage, "old_total": old_total,
            "new_total": new_total, "change": change, "why": changes[:5]}


def explain(model: ModelLike, data: str | Path, lead_id: Any, *, as_of: datetime | None = None
            ) -> Explanation:
    """One lead's score, rule by rule (decay and caps visible), adding up to its total."""
    from leadscore.backends.lead_lookup import fetch_lead
    from leadscore.backends.predictions import prediction_details
    from leadscore.backends.python_eval import score_lead

    loaded = _model(model)
    con, opened, plan = duckdb_engine.open_data(loaded, data, as_of=as_of)
    try:
        when = duckdb_engine.resolve_as_of(as_of, opened)
        context = fetch_lead(con, opened, plan, lead_id, as_of=when)
        predicted = prediction_details(con, loaded, context.lead.get(plan.lead_key))
    finally:
        con.close()
    result = score_lead(plan, context.lead, account=context.account, events=context.events, as_of=when,
                        is_duplicate=context.is_duplicate)
    reasons = [{"rule": r.rule, "layer": r.layer, "points": r.points,
                "detail": predicted.get(r.rule, r.detail)}
               for r in result.reasons]
    return Explanation(lead_id=context.lead.get(plan.lead_key), model=plan.name,
                       model_version=plan.version_hash, as_of=when, segment=result.segment,
                       layers=dict(result.layers), groups=dict(result.groups), total=result.total,
                       grade=result.grade, stage=result.stage, next_action=result.next_action,
                       last_activity_at=result.last_activity_at, last_activity_type=result.last_activity_type,
                       reasons=reasons)


def demo(out: str | Path = "leadscore-demo", *, leads: int = 100_000, seed: int = 0, top: int = 5,
         progress: Progress | None = None) -> DemoResult:
    """Generate a synthetic B2B funnel, score it with the bundled model, write everything to ``out``.

    Outputs: ``out/data`` (the funnel), ``out/scores`` (Parquet scores and history) and
    ``out/leadscore.duckdb`` (the same tables in one DuckDB file).
    """
    from leadscore.synth import generate_funnel

    started = time.perf_counter()
    step = progress or (lambda _name, _fraction: None)
    folder = Path(out)
    data_dir = folder / "data"
    funnel = generate_funnel(leads, seed=seed, progress=lambda name, f: step(f"generating: {name}", f * 0.4))
    funnel.write(data_dir)
    model = _load_model(bundled_model_path())
    session = duckdb_engine.run_scoring(model, data_dir, as_of=funnel.as_of,
                                        progress=lambda name, f: step(f"scoring: {name}", 0.4 + f * 0.45))
    try:
        step("writing outputs", 0.9)
        written = write_directory(session, folder / "scores")
        database = folder / "leadscore.duckdb"
        write_database(session, database, run_id=written.run_id)
        result = _summarise(session, {**written.files, "database": str(database)}, written.run_id,
                            written.stage_changes, top, time.perf_counter() - started)
    finally:
        session.close()
    step("done", 1.0)
    return DemoResult(data_dir=str(data_dir), score=result, database=str(database))


def model_json_schema() -> dict[str, Any]:
    """JSON Schema of the model file, for editors (YAML language servers) to complete and check."""
    from leadscore.spec.model import ScoringModel

    schema = ScoringModel.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "leadscore model file"
    return schema

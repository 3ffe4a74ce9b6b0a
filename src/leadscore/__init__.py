"""leadscore: open, explainable B2B lead and account scoring.

    import leadscore
    model = leadscore.load_model("model.yaml")
    result = leadscore.score(model, "data/", out="scores/")
    print(leadscore.explain(model, "data/", 4711).reasons)

Heavy modules (DuckDB engine, scikit-learn, LightGBM, FastAPI) load only when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "BackendError",
    "ConditionError",
    "DataError",
    "LeadScoreError",
    "ModelError",
    "NotFittedError",
    "backtest",
    "channels",
    "dbt_export",
    "demo",
    "diff",
    "explain",
    "export_sql",
    "feedback_report",
    "import_feedback",
    "load_model",
    "model_json_schema",
    "predict_fit",
    "predict_score",
    "recommend_thresholds",
    "report",
    "score",
    "score_incremental",
    "signals",
    "tune",
    "validate",
]

_API = {"demo", "diff", "explain", "load_model", "model_json_schema", "score", "validate"}
_API |= {"dbt_export", "export_sql", "score_incremental"}
_API |= {"backtest", "channels", "feedback_report", "import_feedback", "recommend_thresholds", "signals"}
_API |= {"predict_fit", "predict_score", "report", "tune"}
_ERRORS = {"BackendError", "ConditionError", "DataError", "LeadScoreError", "ModelError", "NotFittedError"}

if TYPE_CHECKING:
    from leadscore.api import demo, diff, explain, load_model, model_json_schema, score, validate
    from leadscore.api.export import dbt_export, export_sql, score_incremental
    from leadscore.api.learning import (
        backtest,
        channels,
        feedback_report,
        import_feedback,
        recommend_thresholds,
        signals,
    )
    from leadscore.api.prediction import predict_fit, predict_score
    from leadscore.api.reporting import report
    from leadscore.api.tuning import tune
    from leadscore.errors import (
        BackendError,
        ConditionError,
        DataError,
        LeadScoreError,
        ModelError,
        NotFittedError,
    )


def __getattr__(name: str) -> Any:
    """Load the API lazily so ``import leadscore`` stays cheap (no engine work at import)."""
    if name in _API:
        from leadscore import api

        return getattr(api, name)
    if name in _ERRORS:
        from leadscore import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'leadscore' has no attribute {name!r}")

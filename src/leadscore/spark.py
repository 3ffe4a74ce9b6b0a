"""leadscore on Spark: score DataFrames with a model, get DataFrames back.

    >>> import leadscore.spark
    >>> scores = leadscore.spark.score(spark, "model.yaml", leads_df, events_df, accounts_df)
    >>> scores.lead_scores.orderBy("total", ascending=False).show()

Works with a local session (``local[2]``) and with any cluster's session. pyspark is imported
only when a function here runs (``pip install 'leadscore[spark]'``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadscore.backends.spark_engine import SparkScores
    from leadscore.spec.loader import LoadedModel

__all__ = ["score"]


def score(spark: Any, model: LoadedModel | str | Path, leads: Any, events: Any, accounts: Any | None = None, *,
          as_of: datetime | None = None) -> SparkScores:
    """Score Spark DataFrames of leads, events and (optionally) accounts with ``model``.

    Parameters
    ----------
    spark : the SparkSession the DataFrames belong to.
    model : a loaded model or the path of a model file.
    leads, events, accounts : DataFrames with the columns the model's ``data:`` mapping names.
    as_of : score as of this time (naive UTC; only earlier events count); default now.

    Returns
    -------
    SparkScores with lazy DataFrames ``lead_scores``, ``lead_reasons``, ``account_scores`` (the same
    columns and values as the DuckDB backend) and ``quarantine_counts``.

    Raises
    ------
    ModelError
        The model is wrong, or names columns the DataFrames lack (with file:line:col and a hint).
    DataError
        Spark could not run the scoring queries.
    BackendError
        pyspark is not installed.
    """
    from leadscore.backends.spark_engine import score_frames
    from leadscore.spec.loader import LoadedModel, load_model

    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    when = as_of or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    return score_frames(spark, loaded, leads, events, accounts, as_of=when)

"""Predicted probabilities as lead columns: the engine's side of a model's ``predictive`` layers.

Running a saved predictive model belongs to ``leadscore.learn``, a layer above the backends, so
learn registers a provider here (``register_provider``). Before the model is compiled against
the data, the engine asks the provider for one probability per lead *as of the run's as_of*
(features from events before it only, so a back-test stays point-in-time) and joins it onto the
leads as ``__predictive__<layer>``; the layer's rule reads that column like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from leadscore.backends.inputs import InputTable, OpenedInputs
from leadscore.compiler.predictive import predictive_column
from leadscore.errors import ModelError
from leadscore.spec.loader import LoadedModel

Provider = Callable[[Path, str | Path, datetime], Any]
"""(artefact folder, data source, as_of) -> a pyarrow Table with ``lead_id`` and ``probability``."""

_providers: list[Provider] = []


def register_provider(provider: Provider) -> None:
    """Install the function that runs a saved predictive model (``leadscore.learn`` does this)."""
    _providers[:] = [provider]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def attach_predictions(con: duckdb.DuckDBPyConnection, opened: OpenedInputs, loaded: LoadedModel,
                       data: str | Path, as_of: datetime, *, compute: bool = True) -> None:
    """Replace the leads input by a view with one probability column per predictive layer.

    With ``compute=False`` the columns are NULL: enough to check a model against the data's
    schema (``leadscore validate``) without running the predictive model.
    """
    sources = loaded.predictive_sources()
    for name, segment in loaded.segments.items():
        if segment.predictive_sources():
            layer = segment.predictive_sources()[0][0]
            raise ModelError(f"{segment.source or name}: a segment model cannot have a predictive layer",
                             [segment.issue(("layers", layer, "predictive"),
                                            "predictive layers are supported in the main model only",
                                            hint="move 'predictive' to the main model's layer; segments "
                                                 "then keep it as computed there")])
    if not sources:
        return
    if compute and not _providers:
        layer = sources[0][0]
        raise ModelError("this model has a predictive layer, and leadscore.learn is not loaded to run it",
                         [loaded.issue(("layers", layer, "predictive"), "no predictive runner available",
                                       hint="score through leadscore's CLI or API (leadscore.score), which "
                                            "load it, and install the learn extra: pip install "
                                            "'leadscore[learn]'")])
    leads = opened.tables["leads"]
    key = loaded.spec.data.leads.key or "lead_id"
    if key not in leads.columns:
        return  # compile_plan reports the missing key column with its position
    columns, joins = [], []
    for index, (layer, folder) in enumerate(sources):
        column = predictive_column(layer)
        if not compute:
            columns.append(f"CAST(NULL AS DOUBLE) AS {_q(column)}")
            continue
        table = _providers[0](folder, data, as_of)
        view = f"__predictions_{index}"
        con.register(view, table)
        joins.append(f"LEFT JOIN {view} AS p{index} ON CAST(l.{_q(key)} AS VARCHAR) = "
                     f"CAST(p{index}.lead_id AS VARCHAR)")
        columns.append(f"CAST(p{index}.probability AS DOUBLE) AS {_q(column)}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW src_leads_predicted AS SELECT l.*, {', '.join(columns)} "
                f"FROM {leads.relation} AS l {' '.join(joins)}")
    added = {predictive_column(layer): "DOUBLE" for layer, _ in sources}
    opened.tables["leads"] = InputTable(name=leads.name, relation="src_leads_predicted", source=leads.source,
                                        columns={**leads.columns, **added})


def prediction_details(con: duckdb.DuckDBPyConnection, loaded: LoadedModel, lead_id: Any) -> dict[str, str]:
    """Per predictive rule name: the lead's probability and the predictive model's top reason codes
    (feature, value, contribution in log-odds), for ``leadscore explain``."""
    details: dict[str, str] = {}
    for index, (layer, _folder) in enumerate(loaded.predictive_sources()):
        source = loaded.spec.layers[layer].predictive
        view = f"__predictions_{index}"
        try:
            row = con.execute(f"SELECT * FROM {view} WHERE CAST(lead_id AS VARCHAR) = CAST(? AS VARCHAR)",
                              [lead_id]).fetchall()
            names = [d[0] for d in con.description or []]
        except duckdb.Error:
            continue
        if not row or source is None:
            continue
        record = dict(zip(names, row[0], strict=True))
        codes = []
        for k in (1, 2, 3):
            feature = record.get(f"reason{k}")
            if feature is None:
                continue
            value = record.get(f"reason{k}_value")
            contribution = record.get(f"reason{k}_contribution")
            shown = f"{feature}={value}" if value is not None else str(feature)
            codes.append(f"{shown} ({contribution:+.2f})" if isinstance(contribution, float) else shown)
        probability = record.get("probability")
        text = f"probability {probability:.3f} x {source.points:g} points" if isinstance(probability, float) \
            else "no prediction"
        details[source.name] = text + ("; top factors: " + ", ".join(codes) if codes else "")
    return details


def lead_predictions_issue(loaded: LoadedModel, what: str) -> ModelError | None:
    """An error for engines that cannot run a predictive model (Spark, exported SQL, dbt)."""
    sources = loaded.predictive_sources()
    if not sources:
        return None
    layer = sources[0][0]
    return ModelError(f"{what} cannot run the predictive layer '{layer}'",
                      [loaded.issue(("layers", layer, "predictive"),
                                    "predictive layers are scored by a full run on the embedded DuckDB engine",
                                    hint="score with 'leadscore score' (DuckDB), or write the probabilities "
                                         "with 'leadscore predict score', join them onto the leads table and "
                                         "use a rule such as points: \"coalesce(probability, 0) * 40\"",
                                    prefer_key=True)])


__all__ = ["Provider", "attach_predictions", "lead_predictions_issue", "prediction_details", "register_provider"]

"""Run a saved predictive model for every lead as of a time: ``leadscore predict score`` and the
engine's ``predictive`` layers (registered with the engine on import).

The features are those the model was trained with (``FeatureSpec``): profile columns plus
behaviour from events strictly before ``as_of``, so a back-test at T sees what was known at T.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from leadscore.backends.predictions import register_provider
from leadscore.errors import DataError, Issue


def predictions_table(model_dir: Path, data: Path, as_of: datetime | None) -> tuple[Any, list[Any], datetime | None]:
    """(pyarrow table, reason codes per lead, as_of used): ``lead_id``, ``probability`` and for
    k = 1..3 ``reason<k>``, ``reason<k>_value``, ``reason<k>_contribution`` (log-odds)."""
    import pyarrow as pa

    from leadscore.learn.predict_features import FeatureSpec
    from leadscore.learn.predictive import load_scorer

    spec = FeatureSpec.read(model_dir)
    scorer = load_scorer(model_dir)
    when: datetime | None = None
    if spec.source == "flat":
        ids, features = _flat_scoring(data, spec)
    else:
        ids, features, when = _event_scoring(data, spec, as_of)
    probability: list[float] = scorer.predict_proba(features)[:, 1].tolist() if len(features) else []
    reasons = scorer.reason_codes(features, top=3) if len(features) else []
    columns: dict[str, list[Any]] = {"lead_id": list(ids), "probability": probability}
    for k in range(3):
        columns[f"reason{k + 1}"] = [codes[k].feature if len(codes) > k else None for codes in reasons]
        columns[f"reason{k + 1}_value"] = [None if len(codes) <= k or codes[k].value is None else str(codes[k].value)
                                           for codes in reasons]
        columns[f"reason{k + 1}_contribution"] = [codes[k].contribution if len(codes) > k else None
                                                  for codes in reasons]
    return pa.table(columns), list(reasons), when


def layer_probabilities(model_dir: Path, data: str | Path, as_of: datetime) -> Any:
    """The engine's provider: probabilities as of ``as_of`` for an event-stream data source."""
    from leadscore.learn.predict_features import FeatureSpec

    spec = FeatureSpec.read(model_dir)
    if spec.source == "flat":
        raise DataError(f"the predictive artefact {model_dir} was trained on a flat lead table; a predictive "
                        "layer scores a leads/events data source",
                        [Issue("flat artefact in a predictive layer", file=str(model_dir),
                               hint="train it on the event data: leadscore predict fit --data DIR --as-of T")])
    table, _reasons, _when = predictions_table(model_dir, Path(data), as_of)
    return table


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _event_scoring(data: Path, spec: Any, as_of: datetime | None) -> tuple[Any, Any, datetime]:
    from leadscore.learn.predict_features import build_features, open_clean, select_leads_at
    from leadscore.learn.tune_data import naive_utc

    con, plan, hint = open_clean(data)
    try:
        when = naive_utc(as_of or hint or datetime.utcnow().replace(microsecond=0))
        select_leads_at(con, plan, when)
        ids, features = build_features(con, plan, spec, when, relation="scoring_leads")
    finally:
        con.close()
    return [_plain(i) for i in ids], features, when


def _flat_scoring(path: Path, spec: Any) -> tuple[list[Any], Any]:
    import numpy as np
    import pandas as pd

    try:
        frame = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(
            path, low_memory=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read lead table {str(path)!r}: {exc}") from None
    missing = [c for c in (*spec.profile, spec.lead_key) if c and c not in frame.columns]
    if missing:
        raise DataError(f"{path} lacks columns the model was trained with: {missing[:5]}",
                        [Issue("missing column", path=name) for name in missing[:20]])
    features = pd.DataFrame(index=frame.index)
    for name in spec.profile:
        if name in spec.categorical:
            text = frame[name].astype(object)
            features[name] = [None if pd.isna(v) or str(v) in spec.missing_tokens else str(v) for v in text]
        else:
            features[name] = pd.to_numeric(frame[name], errors="coerce").astype(np.float64)
    ids = frame[spec.lead_key].tolist() if spec.lead_key else list(range(len(frame)))
    return ids, features.reset_index(drop=True)


register_provider(layer_probabilities)

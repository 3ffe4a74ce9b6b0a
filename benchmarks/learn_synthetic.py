"""Does ``leadscore tune`` beat the hand-written model? An honest, out-of-time test on the synthetic funnel.

The funnel (default 50,000 leads, seed 0) is generated as of 2026-03-31; its events and outcomes
run on to 2026-06-29. The tuned model is learned as of 2025-12-31 from conversions in the 90 days
after it, so it sees nothing after 2026-03-31. Both models are then scored by the engine as of
2026-03-31 (only earlier events count) and judged on the leads known then against conversions in
(2026-03-31, 2026-06-29]: ROC AUC of each model's total, on the same leads.

For reference, the calibrated LightGBM ``PredictiveScorer`` (``leadscore predict fit``) is trained and
judged the same way (``--no-predictive`` skips it).

Usage: ``python benchmarks/learn_synthetic.py [--leads 50000] [--seed 0] [--json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from leadscore import api
from leadscore.backends import duckdb_engine
from leadscore.learn.metrics import pr_auc, roc_auc
from leadscore.learn.tune_data import column_types, label_population, outcome_window, scored_frame
from leadscore.spec import load_model
from leadscore.spec.loader import LoadedModel
from leadscore.synth import generate_funnel

DATA_AS_OF = datetime(2026, 3, 31)
TRAIN_AS_OF = datetime(2025, 12, 31)
HORIZON_DAYS = 90.0
OUTCOME = "converted"


def evaluate(model: LoadedModel, data: Path, *, as_of: datetime = DATA_AS_OF) -> dict[str, Any]:
    """ROC and PR AUC of a model's totals as of ``as_of`` against conversions in the horizon after it."""
    session = duckdb_engine.run_scoring(model, data, as_of=as_of)
    try:
        window = outcome_window(column_types(session.con, "leads"), OUTCOME, as_of=as_of, horizon_days=HORIZON_DAYS)
        population = label_population(session.con, session.plan, window)
        frame = scored_frame(session.con, ["total"])
    finally:
        session.close()
    y, total = np.asarray(frame["y"], dtype=np.int64), np.asarray(frame["total"], dtype=np.float64)
    return {"roc_auc": roc_auc(y, total), "pr_auc": pr_auc(y, total), "leads": population.leads,
            "conversions": population.conversions, "lead_ids": frame["lead_id"]}


def predictive_auc(data: Path, folder: Path) -> dict[str, Any]:
    """LightGBM trained as of the training date, scored as of the data date, on the same leads."""
    import pyarrow.parquet as pq

    started = time.perf_counter()
    fitted = api.predict_fit(data, outcome=OUTCOME, as_of=TRAIN_AS_OF, horizon=HORIZON_DAYS, out=folder / "model")
    scored = api.predict_score(folder / "model", data, as_of=DATA_AS_OF, out=folder / "predictions")
    predictions = dict(zip(*pq.read_table(scored.predictions, columns=["lead_id", "probability"]).to_pydict()
                           .values(), strict=True))
    return {"predictions": predictions, "validation_roc_auc": fitted.validation["roc_auc"],
            "seconds": time.perf_counter() - started}


def run(leads: int, seed: int, *, predictive: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="leadscore-learn-synthetic-") as tmp:
        folder = Path(tmp)
        data = folder / "data"
        generate_funnel(leads, seed=seed, as_of=DATA_AS_OF).write(data)
        bundled = load_model(api.bundled_model_path())
        started = time.perf_counter()
        tuned = api.tune(bundled, data, outcome=OUTCOME, as_of=TRAIN_AS_OF, horizon=HORIZON_DAYS,
                         out=folder / "tuned.yaml")
        tune_seconds = time.perf_counter() - started
        hand = evaluate(bundled, data)
        learned = evaluate(load_model(folder / "tuned.yaml"), data)
        assert np.array_equal(hand["lead_ids"], learned["lead_ids"]), "both models must be judged on the same leads"
        result: dict[str, Any] = {
            "leads": leads, "seed": seed, "train_as_of": TRAIN_AS_OF.isoformat(),
            "evaluate_as_of": DATA_AS_OF.isoformat(), "horizon_days": HORIZON_DAYS, "outcome": OUTCOME,
            "training": {"leads": tuned.summary.population["leads"],
                         "conversions": tuned.summary.population["conversions"],
                         "tuned_in_sample_roc_auc": tuned.auc["tuned_model"],
                         "tuned_out_of_fold_roc_auc": tuned.auc["tuned_out_of_fold"],
                         "hand_written_in_sample_roc_auc": tuned.auc["current_model"], "seconds": tune_seconds},
            "evaluation": {"leads": hand["leads"], "conversions": hand["conversions"]},
            "hand_written_roc_auc": hand["roc_auc"], "tuned_roc_auc": learned["roc_auc"],
            "hand_written_pr_auc": hand["pr_auc"], "tuned_pr_auc": learned["pr_auc"],
            "tuned_minus_hand_written": learned["roc_auc"] - hand["roc_auc"],
            "tuned_beats_hand_written": learned["roc_auc"] > hand["roc_auc"],
        }
        if predictive:
            reference = predictive_auc(data, folder)
            y = _labels(data)
            ids = [i.item() for i in hand["lead_ids"]]
            p = np.asarray([reference["predictions"][i] for i in ids], dtype=np.float64)
            result["predictive_roc_auc"] = roc_auc([y[i] for i in ids], p)
            result["predictive_validation_roc_auc"] = reference["validation_roc_auc"]
    return result


def _labels(data: Path) -> dict[int, int]:
    import duckdb

    end = f"DATE '{DATA_AS_OF:%Y-%m-%d}' + INTERVAL {int(HORIZON_DAYS)} DAY"
    rows = duckdb.execute(f"SELECT lead_id, coalesce(converted_at > DATE '{DATA_AS_OF:%Y-%m-%d}' AND converted_at "
                          f"<= {end}, FALSE)::INT FROM '{data}/leads.parquet'").fetchall()
    return {int(lead): int(y) for lead, y in rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-predictive", action="store_true", help="skip the LightGBM reference")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.leads, args.seed, predictive=not args.no_predictive)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    evaluation, training = result["evaluation"], result["training"]
    lines = [
        f"Synthetic funnel: {result['leads']:,} leads, seed {result['seed']}. Tuned as of {result['train_as_of'][:10]} "
        f"on {training['leads']:,} leads ({training['conversions']} converted in {result['horizon_days']:g} days).",
        f"Judged as of {result['evaluate_as_of'][:10]} on {evaluation['leads']:,} leads "
        f"({evaluation['conversions']} converted in the next {result['horizon_days']:g} days):",
        f"  hand-written model (b2b_saas.yaml) ROC AUC  {result['hand_written_roc_auc']:.4f}",
        f"  tuned model (leadscore tune)       ROC AUC  {result['tuned_roc_auc']:.4f}"
        f"   ({result['tuned_minus_hand_written']:+.4f}: "
        f"{'beats' if result['tuned_beats_hand_written'] else 'LOSES TO'} the hand-written model)",
    ]
    if "predictive_roc_auc" in result:
        lines.append(f"  predictive (LightGBM, reference)   ROC AUC  {result['predictive_roc_auc']:.4f}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

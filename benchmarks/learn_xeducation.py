"""Cross-validated benchmark of the learners on X Education's Leads.csv, leak-free setting.

5-fold stratified cross-validation (seed 0). In each fold everything learned from data is
learned from the training part only: LightGBM and logistic models with their calibration
(cross-fitted inside ``fit``), and the scorecard's indicator features (levels, quantile
thresholds) and points. The test fold is only scored. Reported per fold and as the mean:

* ``predictive_roc_auc``: calibrated LightGBM ``PredictiveScorer``;
* ``logistic_roc_auc``: calibrated logistic ``PredictiveScorer``;
* ``tuned_points_roc_auc``: the integer-points scorecard, ranked by its integer totals;
* ``ece``: expected calibration error (10 equal-width bins) of the calibrated LightGBM;
* ``tuned_model_engine_roc_auc``: ``leadscore tune`` on the training rows (written as a model
  file), then that file scored by the DuckDB engine on the test rows, ranked by the engine's totals.

Usage: ``python benchmarks/learn_xeducation.py [--data PATH] [--json]``
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
import pandas as pd

from leadscore.learn.flat import XEDUCATION, FlatTable, load_xeducation
from leadscore.learn.metrics import expected_calibration_error, roc_auc
from leadscore.learn.predictive import PredictiveScorer
from leadscore.learn.scorecard import ScorecardLearner, build_indicator_features, scorecard_to_model
from leadscore.spec import load_model, model_from_dict

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT / ".." / "shared" / "data" / "xeducation" / "Leads.csv"
SEED = 0
FOLDS = 5


def ece_noise_floor(p: np.ndarray[Any, Any], draws: int = 200) -> float:
    """Mean ECE of outcomes drawn from ``p`` itself: what a perfectly calibrated model scores
    on a test fold of this size (the ECE that sampling noise alone produces)."""
    rng = np.random.default_rng(SEED)
    values = []
    for _ in range(draws):
        y = (rng.random(p.size) < p).astype(np.int64)
        if 0 < y.sum() < y.size:
            values.append(expected_calibration_error(y, p))
    return float(np.mean(values))


def run_fold(table: FlatTable, train: np.ndarray[Any, Any], test: np.ndarray[Any, Any]) -> dict[str, Any]:
    x_train = table.features.iloc[train].reset_index(drop=True)
    x_test = table.features.iloc[test].reset_index(drop=True)
    y_train, y_test = table.outcome[train], table.outcome[test]
    started = time.perf_counter()

    # One thread: on a shared 2-core machine OpenMP's spinning threads made n_jobs=2 ~10x slower.
    trees = PredictiveScorer(algorithm="lightgbm", n_jobs=1, random_state=SEED).fit(x_train, y_train)
    p_trees = trees.predict_proba(x_test)[:, 1]
    trees_seconds = time.perf_counter() - started

    linear = PredictiveScorer(algorithm="logistic", random_state=SEED).fit(x_train, y_train)
    p_linear = linear.predict_proba(x_test)[:, 1]

    indicators = build_indicator_features(x_train, missing_tokens=XEDUCATION.missing_tokens)
    scorecard = ScorecardLearner(random_state=SEED).fit(indicators.transform(x_train), y_train)
    points = scorecard.score(indicators.transform(x_test))
    model = scorecard_to_model(scorecard, indicators, name="xeducation-tuned", lead_key="Prospect ID")
    model_from_dict(model)  # the tuned scorecard must be a valid leadscore model

    return {
        "predictive_roc_auc": roc_auc(y_test, p_trees),
        "logistic_roc_auc": roc_auc(y_test, p_linear),
        "tuned_points_roc_auc": roc_auc(y_test, points),
        "ece": expected_calibration_error(y_test, p_trees),
        "ece_if_perfectly_calibrated": ece_noise_floor(p_trees),
        "logistic_ece": expected_calibration_error(y_test, p_linear),
        "scorecard_features": len(indicators.features),
        "scorecard_rules": len(model["layers"]["fit"]["rules"]),
        "scorecard_C": scorecard.C_,
        "lightgbm_share_of_fold_time": trees_seconds / (time.perf_counter() - started),
        "test_leads": int(test.size),
    }


def engine_fold(raw: pd.DataFrame, train: np.ndarray[Any, Any], test: np.ndarray[Any, Any],
                folder: Path) -> dict[str, Any]:
    """``leadscore tune`` on the fold's training rows, the written model scored by the engine on the
    test rows (a data folder: the rows as leads, an empty events table): ROC AUC of those totals."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from leadscore import api

    folder.mkdir(parents=True)
    raw.iloc[train].to_csv(folder / "train.csv", index=False)
    tuned = api.tune(None, folder / "train.csv", outcome=XEDUCATION.outcome, out=folder / "tuned.yaml")
    data = folder / "test_data"
    data.mkdir()
    raw.iloc[test].to_parquet(data / "leads.parquet", index=False)
    pq.write_table(pa.table({"event_id": pa.array([], pa.int64()), "lead_id": pa.array([], pa.string()),
                             "ts": pa.array([], pa.timestamp("us")), "type": pa.array([], pa.string())}),
                   data / "events.parquet")
    api.score(folder / "tuned.yaml", data, out=folder / "scores", as_of=datetime(2026, 1, 1))
    scored = pd.read_parquet(folder / "scores" / "lead_scores.parquet", columns=["lead_id", "total"])
    truth = raw.iloc[test].set_index(XEDUCATION.id_column or "")[XEDUCATION.outcome]
    return {"tuned_model_engine_roc_auc": roc_auc(truth.loc[scored["lead_id"]].to_numpy(), scored["total"]),
            "tuned_model_rules": len(load_model(folder / "tuned.yaml").spec.layers["fit"].rules),
            "tuned_model_out_of_fold_roc_auc_on_train": tuned.auc["tuned_out_of_fold"]}


def run(data: Path) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold

    table = load_xeducation(data)
    if table.setting != "no_leak":
        raise SystemExit(f"expected the no_leak setting, got {table.setting}")
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    per_fold = [run_fold(table, train, test)
                for train, test in splitter.split(np.zeros(table.n_rows), table.outcome)]
    raw = pd.read_csv(data, low_memory=False)
    with tempfile.TemporaryDirectory(prefix="leadscore-xeducation-") as tmp:
        for k, (train, test) in enumerate(splitter.split(np.zeros(table.n_rows), table.outcome)):
            per_fold[k].update(engine_fold(raw, train, test, Path(tmp) / f"fold{k}"))

    def mean(key: str) -> float:
        return float(np.mean([fold[key] for fold in per_fold]))

    predictive, logistic, points, ece = (mean("predictive_roc_auc"), mean("logistic_roc_auc"),
                                         mean("tuned_points_roc_auc"), mean("ece"))
    result: dict[str, Any] = {
        "predictive_roc_auc": predictive,
        "logistic_roc_auc": logistic,
        "tuned_points_roc_auc": points,
        "tuned_model_engine_roc_auc": mean("tuned_model_engine_roc_auc"),
        "ece": ece,
        "ece_if_perfectly_calibrated": mean("ece_if_perfectly_calibrated"),
        "folds": FOLDS,
        "seed": SEED,
        "setting": table.setting,
        "differences": {"predictive_minus_logistic": predictive - logistic,
                        "predictive_minus_tuned_points": predictive - points},
        "targets": {"predictive_roc_auc_at_least_0.90": predictive >= 0.90,
                    "ece_at_most_0.02": ece <= 0.02,
                    "tuned_points_within_0.02_of_predictive": predictive - points <= 0.02},
    }
    result["data"] = {"rows": table.n_rows, "positives": table.positives,
                      "features": len(table.numeric_columns) + len(table.categorical_columns),
                      "dropped": list(table.dropped), "dropped_constant": list(table.dropped_constant)}
    result["per_fold"] = per_fold
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="path of Leads.csv")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.data)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    diffs = result["differences"]
    lines = [
        f"X Education, setting {result['setting']}, {result['folds']}-fold stratified CV, seed {result['seed']}",
        f"  predictive (LightGBM, calibrated) ROC AUC  {result['predictive_roc_auc']:.4f}",
        f"  logistic (calibrated) ROC AUC              {result['logistic_roc_auc']:.4f}"
        f"   (predictive - logistic {diffs['predictive_minus_logistic']:+.4f})",
        f"  tuned integer-points scorecard ROC AUC     {result['tuned_points_roc_auc']:.4f}"
        f"   (predictive - points {diffs['predictive_minus_tuned_points']:+.4f})",
        f"  tuned model file scored by the engine      {result['tuned_model_engine_roc_auc']:.4f}"
        "   (leadscore tune -> model.yaml -> leadscore score)",
        f"  ECE of calibrated LightGBM                 {result['ece']:.4f}"
        f"   (a perfectly calibrated model: {result['ece_if_perfectly_calibrated']:.4f} from sampling noise)",
        "  targets: " + ", ".join(f"{k}={'met' if v else 'MISSED'}" for k, v in result["targets"].items()),
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

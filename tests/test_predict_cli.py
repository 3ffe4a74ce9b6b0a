"""``leadscore predict fit|score``: a calibrated, pickle-free conversion model from what was known at T."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from conftest import TINY_EVENTS, CliRun, write_tiny_data
from leadscore.learn.predict_features import (
    FeatureSpec,
    build_features,
    open_clean,
    select_leads_at,
)
from tune_support import TRAIN_AS_OF, funnel_folder, run_cli, write_flat_table

Cli = Callable[..., CliRun]
SCORE_AS_OF = "2026-03-31"


@pytest.fixture(scope="module")
def funnel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return funnel_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory, funnel: Path) -> dict[str, Any]:
    """``leadscore predict fit`` (LightGBM) on the funnel: MQL within 90 days of 2025-12-31."""
    out = tmp_path_factory.mktemp("predict") / "model"
    code, stdout, stderr = run_cli("predict", "fit", "--data", funnel, "--outcome", "mql_at", "--as-of",
                                   TRAIN_AS_OF, "--out", out, "--json")
    assert code == 0, stderr
    return {"json": json.loads(stdout), "out": out}


@pytest.fixture(scope="module")
def scored(fitted: dict[str, Any], funnel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``leadscore predict score`` of every lead known at 2026-03-31 with the fitted artefact."""
    out = tmp_path_factory.mktemp("predictions")
    code, stdout, stderr = run_cli("predict", "score", "--model-dir", fitted["out"], "--data", funnel, "--as-of",
                                   SCORE_AS_OF, "--out", out, "--json")
    assert code == 0, stderr
    return {"json": json.loads(stdout), "out": out}


def test_fit_saves_a_versioned_artefact_without_pickle(fitted: dict[str, Any]) -> None:
    files = sorted(p.name for p in fitted["out"].iterdir())
    assert files == ["booster.txt", "features.json", "manifest.json"]
    manifest = json.loads((fitted["out"] / "manifest.json").read_text(encoding="utf-8"))
    features = json.loads((fitted["out"] / "features.json").read_text(encoding="utf-8"))
    assert (manifest["format"], manifest["format_version"]) == ("leadscore.predictive-scorer", 1)
    assert (features["format"], features["format_version"]) == ("leadscore.predict-features", 1)
    assert features["training"]["as_of"] == "2025-12-31T00:00:00"


def test_features_are_profile_columns_and_behaviour_before_as_of(fitted: dict[str, Any]) -> None:
    features = set(fitted["json"]["features"])
    assert {"events_demo_request_7d", "events_demo_request_30d", "events_demo_request_90d",
            "days_since_last_event", "days_since_created", "lead.source", "account.employees"} <= features
    for leak in ("lead.mql_at", "lead.sales_accepted", "lead.opportunity_amount", "lead.first_name", "lead.email"):
        assert leak not in features
        assert leak in fitted["json"]["dropped_columns"]


def test_validation_on_held_out_leads_is_reported(fitted: dict[str, Any]) -> None:
    validation = fitted["json"]["validation"]
    assert validation["leads"] > 500
    assert validation["roc_auc"] > 0.7
    assert validation["ece"] < 0.05


def test_behaviour_counts_only_events_strictly_before_as_of(tmp_path: Path) -> None:
    late = {"event_id": 99, "lead_id": 1, "ts": datetime(2026, 6, 15), "type": "demo_request"}  # exactly at T
    data = write_tiny_data(tmp_path / "data", events=[*TINY_EVENTS, late])
    spec = FeatureSpec(source="events", profile=(), categorical=(), event_types=("demo_request", "email_open"))
    con, plan, _ = open_clean(data)
    try:
        select_leads_at(con, plan, datetime(2026, 6, 15))
        ids, frame = build_features(con, plan, spec, datetime(2026, 6, 15), relation="scoring_leads")
    finally:
        con.close()
    lead1 = frame.iloc[list(ids).index(1)]
    assert (lead1["events_demo_request_7d"], lead1["events_demo_request_30d"]) == (1.0, 1.0)  # June 10 only
    assert (lead1["events_email_open_7d"], lead1["events_email_open_30d"]) == (0.0, 1.0)  # June 1
    assert lead1["days_since_last_event"] == pytest.approx(5 - 10 / 24)  # June 10, 10:00
    assert list(ids) == [1, 2, 3, 4]


def test_score_writes_probability_and_three_reason_codes(fitted: dict[str, Any], scored: dict[str, Any],
                                                         funnel: Path) -> None:
    summary = scored["json"]
    table = pq.read_table(summary["predictions"]).to_pylist()
    known = duckdb.execute(f"SELECT count(*) FROM '{funnel}/leads.parquet' WHERE created_at < DATE '{SCORE_AS_OF}'"
                           ).fetchall()[0][0]
    assert summary["leads"] == len(table) == known
    assert all(0.0 <= row["probability"] <= 1.0 for row in table)
    features = set(fitted["json"]["features"])
    assert all(row[f"reason{k}"] in features for row in table[:50] for k in (1, 2, 3))
    best = summary["top_leads"][0]
    assert best["probability"] == max(row["probability"] for row in table)
    assert len(best["reasons"]) == 3


def test_too_few_outcomes_is_refused_in_one_paragraph(funnel: Path, tmp_path: Path, leadscore_cli: Cli) -> None:
    result = leadscore_cli("predict", "fit", "--data", funnel, "--outcome", "converted", "--as-of", "2024-12-15",
                           "--horizon", "30d", "--out", tmp_path / "m")
    assert result.code == 2
    assert "needs at least 40 converted" in result.stderr and "Traceback" not in result.stderr


PREDICTION_MODEL = """\
model: with-prediction
layers:
  prediction:
    rules:
      - {name: predicted, points: "coalesce(predicted_probability, 0) * 50"}
  engagement:
    groups:
      intent: {events: {demo_request: 10}}
stages:
  - {name: all, min_score: 0}
"""


def test_the_probability_feeds_a_rules_model_as_a_lead_column(scored: dict[str, Any], funnel: Path,
                                                              tmp_path: Path, leadscore_cli: Cli) -> None:
    """The documented flow: predict score, join predictions.parquet onto the leads, refer to the column."""
    predictions = scored["json"]["predictions"]
    joined = tmp_path / "data_with_predictions"
    joined.mkdir()
    duckdb.execute(f"COPY (SELECT l.*, p.probability AS predicted_probability FROM '{funnel}/leads.parquet' l "
                   f"LEFT JOIN '{predictions}' p USING (lead_id)) TO '{joined}/leads.parquet' (FORMAT parquet)")
    for name in ("events.parquet", "accounts.parquet"):
        os.symlink(funnel / name, joined / name)
    model = tmp_path / "with-prediction.yaml"
    model.write_text(PREDICTION_MODEL, encoding="utf-8")
    result = leadscore_cli("score", "--model", model, "--data", joined, "--as-of", SCORE_AS_OF,
                           "--out", tmp_path / "scores", "--json")
    assert result.code == 0, result.stderr
    points = dict(duckdb.execute(f"SELECT lead_id, predicted FROM '{tmp_path}/scores/lead_reasons.parquet'"
                                 ).fetchall())
    probabilities = dict(duckdb.execute(f"SELECT lead_id, probability FROM '{predictions}'").fetchall())
    assert len(probabilities) > 1000
    assert all(points[lead] == pytest.approx(50 * p) for lead, p in probabilities.items())


def test_a_flat_table_fits_and_scores_with_the_logistic_model(tmp_path: Path, leadscore_cli: Cli) -> None:
    table = write_flat_table(tmp_path / "leads.csv")
    fit = leadscore_cli("predict", "fit", "--data", table, "--outcome", "Converted", "--algorithm", "logistic",
                        "--out", tmp_path / "m", "--json")
    assert fit.code == 0, fit.stderr
    assert json.loads(fit.stdout)["validation"]["roc_auc"] > 0.7
    scored = leadscore_cli("predict", "score", "--model-dir", tmp_path / "m", "--data", table, "--out",
                           tmp_path / "p", "--json")
    assert scored.code == 0, scored.stderr
    rows = pq.read_table(tmp_path / "p" / "predictions.parquet").to_pylist()
    assert [row["lead_id"] for row in rows[:3]] == [1, 2, 3] and len(rows) == 2000


def test_an_unknown_algorithm_is_a_usage_error(funnel: Path, leadscore_cli: Cli) -> None:
    result = leadscore_cli("predict", "fit", "--data", funnel, "--as-of", TRAIN_AS_OF, "--algorithm", "xgboost")
    assert result.code == 2 and "lightgbm or logistic" in result.stderr


def test_train_is_fit_under_the_issue_s_other_name(funnel: Path, tmp_path: Path) -> None:
    out = tmp_path / "trained"
    code, stdout, stderr = run_cli("predict", "train", "--data", funnel, "--outcome", "mql_at", "--as-of",
                                   TRAIN_AS_OF, "--out", out, "--algorithm", "logistic", "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["algorithm"] == "logistic"
    assert sorted(p.name for p in out.iterdir()) == ["features.json", "linear.json", "manifest.json"]

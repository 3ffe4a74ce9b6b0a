"""A ``predictive`` layer in the model file: a saved predictive model's probability as points that
cap, explain and back-test like any rule (DuckDB path and the one-lead Python path agree)."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

import leadscore
from leadscore.api.serving import serving_model_from_text
from leadscore.errors import ModelError
from leadscore.learn.predictive_layer import predictions_table
from tune_support import TRAIN_AS_OF, funnel_folder

SCORE_AS_OF = datetime(2026, 3, 31)
POINTS = 40.0


@pytest.fixture(scope="module")
def funnel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return funnel_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def artefact(tmp_path_factory: pytest.TempPathFactory, funnel: Path) -> Path:
    """A logistic predictive scorer trained as of 2025-12-31 (MQL within 90 days), seeded."""
    out = tmp_path_factory.mktemp("layer") / "predictive-model"
    leadscore.predict_fit(funnel, outcome="mql_at", as_of=datetime.fromisoformat(TRAIN_AS_OF), out=out,
                          algorithm="logistic", random_state=0)
    return out


def _model(folder: Path, artefact: Path, *, points: float = POINTS, cap: float | None = 30) -> Path:
    """A small rules model whose 'predicted' layer is fed by a copy of the artefact next to it
    (``./predictive-model``: paths are relative to the model file)."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "predictive-model").exists():
        shutil.copytree(artefact, folder / "predictive-model")
    cap_line = f"    cap: {cap}\n" if cap is not None else ""
    text = (
        "model: with-prediction\n"
        "layers:\n"
        "  fit:\n"
        "    rules:\n"
        "      - {name: senior, when: \"seniority IN ('vp', 'c_level')\", points: 10}\n"
        "  engagement:\n"
        "    groups:\n"
        "      web: {decay: {half_life: 30d}, events: {pricing_page_view: 10, demo_request: 30}}\n"
        "  predicted:\n"
        f"{cap_line}"
        "    predictive:\n"
        "      artifact: ./predictive-model\n"
        f"      points: {points}\n"
        "stages:\n"
        "  - {name: hot, min_score: 50, action: Call}\n"
        "  - {name: cold, min_score: 0}\n")
    path = folder / "model.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _scores(out: Path) -> dict[Any, dict[str, Any]]:
    return {row["lead_id"]: row for row in pq.read_table(out / "lead_scores.parquet").to_pylist()}


def test_layer_points_are_probability_times_points_capped(tmp_path: Path, funnel: Path, artefact: Path) -> None:
    model = _model(tmp_path / "m", artefact, cap=None)
    leadscore.score(leadscore.load_model(model), funnel, out=tmp_path / "out", as_of=SCORE_AS_OF)
    table, _reasons, _when = predictions_table(artefact, funnel, SCORE_AS_OF)
    expected = dict(zip(table.column("lead_id").to_pylist(), table.column("probability").to_pylist(),
                        strict=True))
    scores = _scores(tmp_path / "out")
    reasons = {row["lead_id"]: row for row in pq.read_table(tmp_path / "out" / "lead_reasons.parquet").to_pylist()}
    assert len(expected) > 100
    checked = 0
    for lead_id, probability in expected.items():
        if lead_id not in scores:
            continue
        assert scores[lead_id]["predicted"] == pytest.approx(probability * POINTS, abs=1e-9)
        assert reasons[lead_id]["predicted_conversion"] == pytest.approx(probability * POINTS, abs=1e-9)
        checked += 1
    assert checked == len(scores)


def test_reasons_add_up_with_the_cap_shown(tmp_path: Path, funnel: Path, artefact: Path) -> None:
    model = _model(tmp_path / "m", artefact, points=80.0, cap=30)
    leadscore.score(leadscore.load_model(model), funnel, out=tmp_path / "out", as_of=SCORE_AS_OF)
    scores = _scores(tmp_path / "out")
    con = duckdb.connect()
    reasons = con.execute(f"SELECT * FROM read_parquet('{tmp_path / 'out' / 'lead_reasons.parquet'}')")
    names = [d[0] for d in reasons.description]
    capped = 0
    for row in reasons.fetchall():
        record = dict(zip(names, row, strict=True))
        lead = record.pop("lead_id")
        assert sum(record.values()) == pytest.approx(scores[lead]["total"], abs=1e-9)
        assert scores[lead]["predicted"] <= 30 + 1e-9
        capped += record["predicted:cap"] < 0
    assert capped > 0, "some leads' predicted points exceed the cap of 30 (80 x probability)"


def test_explain_agrees_with_the_batch_run_and_shows_reason_codes(tmp_path: Path, funnel: Path,
                                                                   artefact: Path) -> None:
    model = leadscore.load_model(_model(tmp_path / "m", artefact))
    leadscore.score(model, funnel, out=tmp_path / "out", as_of=SCORE_AS_OF)
    scores = _scores(tmp_path / "out")
    ranked = sorted(scores.values(), key=lambda row: -row["predicted"])
    for row in (ranked[0], ranked[len(ranked) // 2], ranked[-1]):
        explanation = leadscore.explain(model, funnel, row["lead_id"], as_of=SCORE_AS_OF)
        assert explanation.total == pytest.approx(row["total"], abs=1e-9)
        assert explanation.layers["predicted"] == pytest.approx(row["predicted"], abs=1e-9)
        assert explanation.stage == row["stage"]
        predicted = [r for r in explanation.reasons if r["rule"] == "predicted_conversion"]
        assert predicted and "probability" in predicted[0]["detail"]
    top = leadscore.explain(model, funnel, ranked[0]["lead_id"], as_of=SCORE_AS_OF)
    detail = next(r["detail"] for r in top.reasons if r["rule"] == "predicted_conversion")
    assert "top factors:" in detail


def test_a_backtest_at_t_ignores_events_after_t(tmp_path: Path, funnel: Path, artefact: Path) -> None:
    """The probability is computed from what was known at T: adding later events changes nothing."""
    model = leadscore.load_model(_model(tmp_path / "m", artefact))
    as_of = datetime(2026, 1, 31)
    before = leadscore.backtest(model, funnel, outcome="converted", as_of=[as_of], horizon="60d")
    later = tmp_path / "later"
    shutil.copytree(funnel, later)
    events = str(later / "events.parquet")
    con = duckdb.connect()
    con.execute(f"CREATE TABLE e AS SELECT * FROM read_parquet('{events}')")
    added = con.execute("INSERT INTO e SELECT event_id + 100000000, lead_id, TIMESTAMP '2026-02-15', "
                        "'demo_request', NULL, NULL, NULL FROM e WHERE event_id % 7 = 0").fetchall()[0][0]
    assert added > 100
    con.execute(f"COPY e TO '{events}' (FORMAT parquet)")
    after = leadscore.backtest(model, later, outcome="converted", as_of=[as_of], horizon="60d")
    first, second = before.windows[0], after.windows[0]
    assert (first.leads, first.conversions) == (second.leads, second.conversions)
    assert first.roc_auc == second.roc_auc and first.pr_auc == second.pr_auc
    assert first.bands == second.bands


def test_missing_artefact_is_a_positioned_model_error(tmp_path: Path) -> None:
    model = tmp_path / "model.yaml"
    model.write_text("model: m\nlayers:\n  p:\n    predictive: {artifact: ./nowhere, points: 10}\n"
                     "stages: [{name: all}]\n", encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        leadscore.load_model(model)
    issue = caught.value.issues[0]
    assert (issue.line, issue.path) == (4, "layers.p.predictive.artifact")
    assert "leadscore predict fit" in (issue.hint or "")


def test_sql_dbt_incremental_and_serve_refuse_a_predictive_layer(tmp_path: Path, funnel: Path,
                                                                    artefact: Path) -> None:
    model = leadscore.load_model(_model(tmp_path / "m", artefact))
    for attempt in (lambda: leadscore.export_sql(model, dialect="postgres"),
                    lambda: leadscore.dbt_export(model, tmp_path / "dbt"),
                    lambda: leadscore.score_incremental(model, funnel, tmp_path / "incremental"),
                    lambda: serving_model_from_text((tmp_path / "m" / "model.yaml").read_text(encoding="utf-8"),
                                                    source=str(tmp_path / "m" / "model.yaml"),
                                                    base_dir=tmp_path / "m")):
        with pytest.raises(ModelError) as caught:
            attempt()
        assert caught.value.issues[0].path == "layers.predicted.predictive"
        assert caught.value.issues[0].line == 11  # the "predictive:" key
        assert "embedded DuckDB" in caught.value.issues[0].message


def test_retraining_the_artefact_changes_the_model_version(tmp_path: Path, artefact: Path) -> None:
    model_path = _model(tmp_path / "m", artefact)
    first = leadscore.load_model(model_path).version_hash
    assert leadscore.load_model(model_path).version_hash == first
    manifest = tmp_path / "m" / "predictive-model" / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert leadscore.load_model(model_path).version_hash != first


def test_validate_against_the_data_checks_the_layer_without_running_the_model(tmp_path: Path, funnel: Path,
                                                                               artefact: Path) -> None:
    report = leadscore.validate(_model(tmp_path / "m", artefact), data=funnel)
    assert report.checked_against_data
    assert "predicted" in report.layers

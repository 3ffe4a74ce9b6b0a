"""``leadscore tune``: learn a model's points from outcomes, keep its rules, and explain what changed.

One tune run of the bundled model on the synthetic funnel (as of 2025-12-31, converted within 90
days) through the real CLI serves most tests; they read its files and its ``--json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from conftest import CliRun
from leadscore import api
from leadscore.learn.tune_rewrite import matching_threshold, remap_condition
from leadscore.spec import load_model
from tune_support import BUNDLED_MODEL, TRAIN_AS_OF, funnel_folder, run_cli

Cli = Callable[..., CliRun]


@pytest.fixture(scope="module")
def funnel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return funnel_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory, funnel: Path) -> dict[str, Any]:
    """``leadscore tune`` of the bundled model, as a user runs it: its --json and the files it wrote."""
    out = tmp_path_factory.mktemp("tuned") / "b2b-tuned.yaml"
    code, stdout, stderr = run_cli("tune", BUNDLED_MODEL, "--data", funnel, "--outcome", "converted",
                                   "--as-of", TRAIN_AS_OF, "--horizon", "90d", "--out", out, "--json")
    assert code == 0, stderr
    return {"json": json.loads(stdout), "out": out, "funnel": funnel}


def rules_of(path: Path) -> dict[str, str]:
    """rule name -> layer of every profile and event rule of a model file."""
    spec = load_model(path).spec
    names: dict[str, str] = {}
    for layer_name, layer in spec.layers.items():
        names.update({rule.name: layer_name for rule in layer.rules})
        for group in layer.groups.values():
            names.update({rule.name or key: layer_name for key, rule in group.events.items()})
    return names


def test_tuned_model_keeps_every_rule_in_its_layer(tuned: dict[str, Any]) -> None:
    old, new = rules_of(BUNDLED_MODEL), rules_of(tuned["out"])
    assert {name: new[name] for name in old} == old
    assert {layer for name, layer in new.items() if name not in old} <= {"learned"}


def test_tuned_model_validates_and_scores_with_leadscore_score(tuned: dict[str, Any], tmp_path: Path,
                                                               leadscore_cli: Cli) -> None:
    checked = leadscore_cli("validate", tuned["out"], "--data", tuned["funnel"])
    assert checked.code == 0, checked.stderr
    scored = leadscore_cli("score", "--model", tuned["out"], "--data", tuned["funnel"], "--as-of", "2026-03-31",
                           "--out", tmp_path / "scores", "--json")
    assert scored.code == 0, scored.stderr
    assert json.loads(scored.stdout)["leads"] > 0


def test_tuned_model_explains_itself_reasons_add_up(tuned: dict[str, Any]) -> None:
    explanation = api.explain(tuned["out"], tuned["funnel"], 42)
    assert sum(reason["points"] for reason in explanation.reasons) == pytest.approx(explanation.total, abs=1e-6)
    assert {reason["layer"] for reason in explanation.reasons} <= set(load_model(tuned["out"]).spec.layers)


def test_changes_file_shows_old_and_new_points_per_rule_with_lift(tuned: dict[str, Any]) -> None:
    text = Path(tuned["json"]["files"]["changes"]).read_text(encoding="utf-8")
    senior = next(r for r in tuned["json"]["rules"] if r["rule"] == "senior_title")
    assert senior["old_points"] == 15 and isinstance(senior["new_points"], int)
    row = f"| fit | senior_title |  | +15 | {senior['new_points']:+d} | {senior['coefficient']:+.3f} | " \
          f"{senior['lift']:.2f}x |"
    assert row in text
    assert "## Thresholds" in text and "## Removed" in text


def test_points_are_the_learned_log_odds_scaled_so_20_points_double_the_odds(tuned: dict[str, Any]) -> None:
    factor = tuned["json"]["learner"]["factor"]
    assert factor == pytest.approx(20 / np.log(2))
    learned_per_item = [c for c in tuned["json"]["rules"] if c["coefficient"] is not None
                        and c["kind"] in ("when", "map", "tier", "event", "missing")
                        and not (c["kind"] == "tier" and c["layer"] == "learned")]  # new tiers: running sums
    assert len(learned_per_item) > 30
    for change in learned_per_item:
        assert change["new_points"] == round(factor * change["coefficient"]), change


def test_json_is_the_metadata_file_and_names_the_files(tuned: dict[str, Any]) -> None:
    files = tuned["json"]["files"]
    assert set(files) == {"model", "changes", "metadata"}
    assert json.loads(Path(files["metadata"]).read_text(encoding="utf-8")) == tuned["json"]
    assert files["changes"].endswith("b2b-tuned.changes.md")


def test_caps_and_floors_are_removed_and_listed(tuned: dict[str, Any]) -> None:
    spec = load_model(tuned["out"]).spec
    assert all(layer.cap is None and layer.floor is None for layer in spec.layers.values())
    assert all(group.cap is None for layer in spec.layers.values() for group in layer.groups.values())
    assert spec.total.cap is None and spec.total.floor is None
    removed = " ".join(tuned["json"]["removed"])
    assert "layers.fit.cap (60)" in removed and "total.floor (0)" in removed


def test_thresholds_move_so_each_lets_about_the_same_share_of_leads_through(tuned: dict[str, Any]) -> None:
    moved = {t["where"]: t for t in tuned["json"]["thresholds"]}
    assert {"stages.sales_ready.min_score", "stages.mql.min_score", "grades.A: fit >=",
            "account.rollup.engaged_min"} <= set(moved)
    for threshold in moved.values():
        assert threshold["share_new"] == pytest.approx(threshold["share_old"], abs=0.05), threshold
    spec = load_model(tuned["out"]).spec
    assert spec.stages[0].min_score == moved["stages.sales_ready.min_score"]["new"]
    assert spec.grades["A"] == f"fit >= {moved['grades.A: fit >=']['new']:g}"
    assert spec.stages[-1].min_score <= min(t["new"] for t in moved.values() if "min_score" in t["where"])


def test_requirements_compared_with_zero_keep_their_meaning(tuned: dict[str, Any]) -> None:
    spec = load_model(tuned["out"]).spec
    assert "intent + content > 0" in spec.stages[0].require
    assert "count_events('intent', '30d') >= 1" in spec.stages[0].require


def test_leads_not_known_at_as_of_or_already_converted_are_not_learned_from(tuned: dict[str, Any]) -> None:
    leads = tuned["funnel"] / "leads.parquet"
    created_after, converted_before, population, converted = duckdb.execute(
        f"SELECT count(*) FILTER (created_at >= DATE '{TRAIN_AS_OF}'), "
        f"count(*) FILTER (created_at < DATE '{TRAIN_AS_OF}' AND converted_at <= DATE '{TRAIN_AS_OF}'), "
        f"count(*) FILTER (created_at < DATE '{TRAIN_AS_OF}' AND coalesce(converted_at > DATE '{TRAIN_AS_OF}', TRUE)), "
        f"count(*) FILTER (created_at < DATE '{TRAIN_AS_OF}' AND converted_at > DATE '{TRAIN_AS_OF}' "
        f"AND converted_at <= DATE '{TRAIN_AS_OF}' + INTERVAL 90 DAY) FROM '{leads}'").fetchall()[0]
    assert tuned["json"]["population"] == {
        "leads": population, "conversions": converted, "base_rate": converted / population,
        "created_after_as_of": created_after, "converted_before_as_of": converted_before, "outcome_missing": 0}
    assert tuned["json"]["outcome"]["time_column"] == "converted_at"


def test_lifecycle_and_identity_columns_are_never_learned_from(tuned: dict[str, Any]) -> None:
    dropped = tuned["json"]["dropped_columns"]
    assert {"lead.opportunity_amount", "lead.sales_accepted", "lead.converted", "lead.first_name"} <= set(dropped)
    learned = " ".join(json.dumps(rule) for rule in load_model(tuned["out"]).spec.model_dump()["layers"]
                       .get("learned", {}).get("rules", []))
    for column in ("opportunity", "sales_accepted", "won", "mql_at", "first_name", "rejection_reason"):
        assert column not in learned


def test_learned_layer_holds_bins_as_tiers_and_levels_as_value_maps(tuned: dict[str, Any]) -> None:
    rules = load_model(tuned["out"]).spec.layers["learned"].rules
    by_name = {rule.name: rule for rule in rules}
    assert by_name["source"].column == "lead.source" and isinstance(by_name["source"].points, dict)
    tiers = [rule for rule in rules if rule.tiers]
    assert tiers and all(re.fullmatch(r"(lead|account)\.\w+ >= [\d.]+", t.when) for r in tiers for t in r.tiers or [])


def test_auc_figures_are_reported(tuned: dict[str, Any]) -> None:
    auc = tuned["json"]["auc"]
    assert set(auc) == {"current_model", "tuned_model", "tuned_out_of_fold"}
    assert all(0.5 < value <= 1.0 for value in auc.values())


# -- errors the user can fix ----------------------------------------------------------------------------


def test_an_unknown_outcome_column_names_the_nearest(funnel: Path, leadscore_cli: Cli) -> None:
    result = leadscore_cli("tune", BUNDLED_MODEL, "--data", funnel, "--outcome", "convertd", "--as-of",
                           TRAIN_AS_OF)
    assert result.code == 2
    assert "did you mean 'converted'?" in result.stderr and "Traceback" not in result.stderr


def test_no_conversion_in_the_window_is_one_paragraph(funnel: Path, leadscore_cli: Cli) -> None:
    result = leadscore_cli("tune", BUNDLED_MODEL, "--data", funnel, "--as-of", "2024-11-01", "--horizon", "1d")
    assert result.code == 2
    assert "converted" in result.stderr and "--horizon" in result.stderr and "Traceback" not in result.stderr


def test_a_data_folder_needs_as_of(funnel: Path, leadscore_cli: Cli) -> None:
    result = leadscore_cli("tune", BUNDLED_MODEL, "--data", funnel, "--json")
    assert result.code == 2
    assert json.loads(result.stdout)["issues"][0]["path"] == "--as-of"


def test_a_bad_horizon_names_the_option(funnel: Path, leadscore_cli: Cli) -> None:
    result = leadscore_cli("tune", BUNDLED_MODEL, "--data", funnel, "--as-of", TRAIN_AS_OF, "--horizon", "soon")
    assert result.code == 2 and "--horizon" in result.stderr


# -- thresholds on the new scale -------------------------------------------------------------------------


def test_a_threshold_moves_to_the_same_share_of_leads() -> None:
    old, new = np.arange(100.0), np.arange(100.0) * 3 - 50
    chosen, share_old, share_new = matching_threshold(old, new, 80, ">=")
    assert (share_old, share_new) == (0.2, 0.2)
    assert chosen == 190


def test_a_condition_keeps_its_shape_and_moves_its_number() -> None:
    old, new = np.arange(100.0), np.arange(100.0) * 2
    text, moved = remap_condition("30 <= fit AND NOT competitor", {"fit": (old, new)}, "stages.x.require[0]")
    assert text == "fit >= 60 AND NOT competitor"
    assert moved[0].old == 30 and moved[0].new == 60


def test_comparisons_with_zero_are_not_moved() -> None:
    values = {"intent": (np.arange(10.0), np.arange(10.0) * 5)}
    assert remap_condition("intent > 0", values, "x") == ("intent > 0", [])

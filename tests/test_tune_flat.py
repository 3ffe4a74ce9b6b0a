"""``leadscore tune`` on a flat lead table: a new integer-points model with value maps and tiers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from conftest import CliRun
from leadscore.learn.flat import XEDUCATION_LEAK_COLUMNS
from leadscore.spec import load_model
from tune_support import XEDUCATION_CSV, write_flat_table

Cli = Callable[..., CliRun]


def test_a_flat_table_becomes_a_model_with_value_maps_and_tiers(tmp_path: Path, leadscore_cli: Cli) -> None:
    table = write_flat_table(tmp_path / "leads.csv")
    out = tmp_path / "flat-tuned.yaml"
    result = leadscore_cli("tune", "--data", table, "--outcome", "Converted", "--out", out, "--json")
    assert result.code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["mode"] == "flat" and summary["population"]["leads"] == 2000
    spec = load_model(out).spec
    rules = {rule.name: rule for rule in spec.layers["fit"].rules}
    assert spec.data.leads.key == "lead_id"
    assert isinstance(rules["lead_source"].points, dict) and rules["lead_source"].column == "Lead Source"
    assert rules["lead_source"].points["Referral"] > 0  # the story the table was drawn from
    assert rules["role"].points["Student"] < rules["role"].points.get("Manager", 0)
    assert rules["visits"].tiers and rules["visits"].tiers[0].when.startswith('"Visits" >= ')
    assert "Select" not in rules["lead_source"].points  # the form's unanswered default is missing, not a level
    assert summary["auc"]["tuned_out_of_fold"] > 0.7


def test_a_current_model_gives_old_points_to_compare(tmp_path: Path, leadscore_cli: Cli) -> None:
    table = write_flat_table(tmp_path / "leads.csv")
    first = leadscore_cli("tune", "--data", table, "--outcome", "Converted", "--out", tmp_path / "v1.yaml")
    assert first.code == 0, first.stderr
    second = leadscore_cli("tune", tmp_path / "v1.yaml", "--data", table, "--outcome", "Converted",
                           "--out", tmp_path / "v2.yaml", "--json")
    assert second.code == 0, second.stderr
    summary = json.loads(second.stdout)
    source = [r for r in summary["rules"] if r["rule"] == "lead_source"]
    assert source and all(r["old_points"] for r in source)
    assert load_model(tmp_path / "v2.yaml").spec.version == 2
    assert "| fit | lead_source |" in (tmp_path / "v2.changes.md").read_text(encoding="utf-8")


def test_xeducation_leads_csv_tunes_into_a_leak_free_model(tmp_path: Path, leadscore_cli: Cli) -> None:
    out = tmp_path / "xeducation.yaml"
    result = leadscore_cli("tune", "--data", XEDUCATION_CSV, "--outcome", "Converted", "--out", out, "--json")
    assert result.code == 0, result.stderr
    summary = json.loads(result.stdout)
    spec = load_model(out).spec
    assert spec.data.leads.key == "Prospect ID"
    written = out.read_text(encoding="utf-8")
    assert not any(column in written for column in XEDUCATION_LEAK_COLUMNS)
    assert set(XEDUCATION_LEAK_COLUMNS) <= set(summary["dropped_columns"])
    rules = spec.layers["fit"].rules
    assert any(isinstance(rule.points, dict) for rule in rules) and any(rule.tiers for rule in rules)
    assert summary["outcome"]["setting"] == "no_leak"
    assert summary["auc"]["tuned_out_of_fold"] > 0.85
    assert len(pd.read_csv(XEDUCATION_CSV, usecols=["Converted"])) == summary["population"]["leads"]

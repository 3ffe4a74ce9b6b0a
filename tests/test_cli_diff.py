"""``leadscore diff OLD NEW --data DIR``: what a model change does, before it goes live."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import REFERENCE_MODEL, TINY_AS_OF, TINY_MODEL, CliRun
from leadscore import api
from leadscore.results import DiffReport

Cli = Callable[..., CliRun]
REFERENCE = REFERENCE_MODEL.read_text(encoding="utf-8")
C_LEVEL = "{name: seniority_c_level, when: \"seniority = 'c_level'\", points: 15}"
INTENT_CAP = "      intent:\n        cap: 60\n"


def changed_model(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def one_rule_diff(bench_data_2000: Path, tmp_path_factory: pytest.TempPathFactory) -> DiffReport:
    """The reference model against a copy where only seniority_c_level changed (15 -> 45 points)."""
    assert C_LEVEL in REFERENCE
    new = changed_model(tmp_path_factory.mktemp("one_rule"), "new.yaml",
                        REFERENCE.replace(C_LEVEL, C_LEVEL.replace("points: 15", "points: 45")))
    return api.diff(REFERENCE_MODEL, new, bench_data_2000, top=25)


@pytest.fixture(scope="module")
def mixed_diff(bench_data_2000: Path, tmp_path_factory: pytest.TempPathFactory) -> DiffReport:
    """Some leads gain (c_level +30), others lose (intent cap 60 -> 20): movers go both ways."""
    assert INTENT_CAP in REFERENCE
    text = REFERENCE.replace(C_LEVEL, C_LEVEL.replace("points: 15", "points: 45"))
    new = changed_model(tmp_path_factory.mktemp("mixed"), "new.yaml",
                        text.replace(INTENT_CAP, INTENT_CAP.replace("cap: 60", "cap: 20")))
    return api.diff(REFERENCE_MODEL, new, bench_data_2000, top=40)


def test_diff_matrix_sums_to_the_lead_count(mixed_diff: DiffReport) -> None:
    assert mixed_diff.leads == 2000
    assert sum(count for row in mixed_diff.matrix.values() for count in row.values()) == 2000
    moved = sum(count for src, row in mixed_diff.matrix.items() for dst, count in row.items() if src != dst)
    assert moved == mixed_diff.changed_stage > 0


def test_diff_movers_are_sorted_by_absolute_change(mixed_diff: DiffReport) -> None:
    changes = [mover["change"] for mover in mixed_diff.movers]
    assert len(changes) == 40
    assert min(changes) < 0 < max(changes), "the model change moves leads both ways"
    assert [abs(c) for c in changes] == sorted((abs(c) for c in changes), reverse=True)
    for mover in mixed_diff.movers:
        assert abs(mover["new_total"] - mover["old_total"] - mover["change"]) < 1e-9


def test_diff_names_the_changed_rule_in_the_movers_why(one_rule_diff: DiffReport) -> None:
    movers = one_rule_diff.movers
    assert movers[0]["change"] == pytest.approx(30.0)
    for mover in movers:
        if abs(mover["change"]) < 1e-9:
            continue
        rules = [why["rule"] for why in mover["why"]]
        assert "seniority_c_level" in rules, mover
        why = next(w for w in mover["why"] if w["rule"] == "seniority_c_level")
        assert (why["before"], why["after"]) == (15.0, 45.0)


def test_diff_of_a_model_with_itself_moves_no_lead(tiny_model: Path, tiny_data: Path) -> None:
    report = api.diff(tiny_model, tiny_model, tiny_data, top=5)
    assert report.leads == len(report.movers) == 4
    assert report.changed_stage == 0
    assert all(src == dst for src, row in report.matrix.items() for dst in row)
    assert all(mover["change"] == 0 and mover["why"] == [] for mover in report.movers)


def test_diff_table_shows_the_moves_and_the_changed_rule(tmp_path: Path, tiny_model: Path, tiny_data: Path,
                                                         leadscore_cli: Cli) -> None:
    new = changed_model(tmp_path, "v2.yaml", TINY_MODEL.replace("demo_request: 40", "demo_request: 10"))
    result = leadscore_cli("diff", tiny_model, new, "--data", tiny_data, "--as-of", TINY_AS_OF)
    assert result.code == 0, result.stderr
    assert "2 of 4 leads change stage" in result.stdout
    assert "demo_request -30.0" in result.stdout

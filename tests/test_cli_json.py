"""``--json`` prints exactly the result's ``to_dict()``; under ``--json`` an error is JSON too."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from conftest import TINY_AS_OF, TINY_MODEL, CliRun
from leadscore import api

Cli = Callable[..., CliRun]
AS_OF = datetime.fromisoformat(TINY_AS_OF)


def as_json(payload: dict[str, Any]) -> Any:
    """What ``to_dict()`` looks like once printed as JSON and read back."""
    return json.loads(json.dumps(payload, default=str))


def without(payload: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in keys}


def printed(result: CliRun) -> Any:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def test_score_json_equals_the_score_result(tiny_model: Path, tiny_data: Path, leadscore_cli: Cli) -> None:
    cli = printed(leadscore_cli("score", "--model", tiny_model, "--data", tiny_data, "--as-of", TINY_AS_OF,
                                "--json"))
    expected = api.score(tiny_model, tiny_data, as_of=AS_OF).to_dict()
    assert without(cli, "seconds") == without(as_json(expected), "seconds")
    assert isinstance(cli["seconds"], float)
    assert cli["leads"] == 4


def test_validate_json_equals_the_validation_report(tiny_model: Path, tiny_data: Path,
                                                    leadscore_cli: Cli) -> None:
    cli = printed(leadscore_cli("validate", tiny_model, "--data", tiny_data, "--json"))
    assert cli == as_json(api.validate(tiny_model, data=tiny_data).to_dict())
    assert cli["checked_against_data"] is True


def test_explain_json_equals_the_explanation(tiny_model: Path, tiny_data: Path, leadscore_cli: Cli) -> None:
    cli = printed(leadscore_cli("explain", "1", "--model", tiny_model, "--data", tiny_data, "--as-of",
                                TINY_AS_OF, "--json"))
    assert cli == as_json(api.explain(tiny_model, tiny_data, 1, as_of=AS_OF).to_dict())
    assert cli["total"] == 57.0


def test_diff_json_equals_the_diff_report(tmp_path: Path, tiny_model: Path, tiny_data: Path,
                                          leadscore_cli: Cli) -> None:
    changed = tmp_path / "v2.yaml"
    changed.write_text(TINY_MODEL.replace("demo_request: 40", "demo_request: 10"), encoding="utf-8")
    cli = printed(leadscore_cli("diff", tiny_model, changed, "--data", tiny_data, "--as-of", TINY_AS_OF,
                                "--json"))
    assert cli == as_json(api.diff(tiny_model, changed, tiny_data, as_of=AS_OF).to_dict())
    assert cli["changed_stage"] == 2


def test_demo_json_equals_the_demo_result(tmp_path: Path, leadscore_cli: Cli) -> None:
    cli = printed(leadscore_cli("demo", "--leads", "150", "--seed", "4", "--out", tmp_path / "cli", "--json"))
    expected = as_json(api.demo(tmp_path / "api", leads=150, seed=4).to_dict())
    assert set(cli) == set(expected) == {"data_dir", "database", "score"}
    assert cli["data_dir"] == str(tmp_path / "cli" / "data")
    volatile = ("seconds", "run_id", "outputs")
    assert without(cli["score"], *volatile) == without(expected["score"], *volatile)
    assert set(cli["score"]["outputs"]) == set(expected["score"]["outputs"])
    assert cli["score"]["leads"] == 150


def test_model_error_under_json_is_an_object_with_error_and_issues(tmp_path: Path, tiny_data: Path,
                                                                   leadscore_cli: Cli) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY_MODEL.replace("seniority IN", "senority IN"), encoding="utf-8")
    result = leadscore_cli("score", "--model", bad, "--data", tiny_data, "--json")
    assert result.code == 2
    payload = json.loads(result.stdout)
    assert payload["error"] == f"{bad} has errors"
    assert payload["type"] == "ModelError"
    assert payload["issues"] == [{"message": "unknown column 'senority'", "path": "layers.fit.rules[0].when",
                                  "file": str(bad), "line": 5, "col": 31, "hint": "did you mean 'seniority'?"}]
    assert "Traceback" not in result.stderr


def test_data_error_under_json_is_an_object_with_error_and_issues(tmp_path: Path, tiny_model: Path,
                                                                  leadscore_cli: Cli) -> None:
    result = leadscore_cli("validate", tiny_model, "--data", tmp_path / "missing", "--json")
    assert result.code == 2
    payload = json.loads(result.stdout)
    assert payload["type"] == "DataError"
    assert payload["error"] == f"data source '{tmp_path / 'missing'}' does not exist"
    assert [issue["message"] for issue in payload["issues"]] == ["not found"]
    assert "Traceback" not in result.stderr

"""The service's commands: documented with an example and in the README; keys; a bad model file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CliRun

Cli = Callable[..., CliRun]
README = Path(__file__).resolve().parents[1] / "README.md"
COMMANDS = (("serve",), ("keys", "create"), ("keys", "list"), ("keys", "revoke"), ("store", "export-feedback"),
            ("store", "export-data"))


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_has_an_example(command: tuple[str, ...], leadscore_cli: Cli) -> None:
    result = leadscore_cli(*command, "--help")
    assert result.code == 0, result.stderr
    assert "Example: leadscore " + " ".join(command) in " ".join(result.stdout.split())


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_the_readme_lists_the_command(command: tuple[str, ...]) -> None:
    text = README.read_text(encoding="utf-8")
    assert f"`leadscore {' '.join(command)} " in text or f"`{command[0]} {command[-1]} " in text or (
        f"/ `{command[0]} {command[-1]}`" in text)


def test_keys_are_created_listed_and_revoked(tmp_path: Path, leadscore_cli: Cli) -> None:
    store = tmp_path / "store.db"
    created = leadscore_cli("keys", "create", "--store", store, "--scope", "write", "--label", "crm", "--json")
    assert created.code == 0, created.stderr
    key = json.loads(created.stdout)
    assert key["key"].startswith("lsk_" + key["key_id"] + "_") and key["scope"] == "write"
    listed = json.loads(leadscore_cli("keys", "list", "--store", store, "--json").stdout)
    assert [(k["key_id"], k["label"], k["revoked_at"]) for k in listed] == [(key["key_id"], "crm", None)]
    assert key["key"] not in leadscore_cli("keys", "list", "--store", store).stdout
    assert leadscore_cli("keys", "revoke", key["key_id"], "--store", store).code == 0
    again = leadscore_cli("keys", "revoke", key["key_id"], "--store", store)
    assert again.code == 2 and "no active key" in again.stderr
    assert leadscore_cli("keys", "create", "--store", store, "--scope", "root").code == 2


def test_serve_with_a_broken_model_exits_2_with_file_line_col(tmp_path: Path, leadscore_cli: Cli) -> None:
    model = tmp_path / "model.yaml"
    model.write_text("model: x\nlayers:\n  fit:\n    rules:\n      - {name: a, when: 'employees >', points: 1}\n"
                     "stages: [{name: s}]\n", encoding="utf-8")
    result = leadscore_cli("serve", "--model", model, "--store", tmp_path / "store.db")
    assert result.code == 2
    assert f"{model}:5:" in result.stderr and "Traceback" not in result.stderr


def test_serve_on_a_store_without_a_model_says_to_pass_one(tmp_path: Path, leadscore_cli: Cli) -> None:
    result = leadscore_cli("serve", "--store", tmp_path / "store.db")
    assert result.code == 2 and "--model" in result.stderr

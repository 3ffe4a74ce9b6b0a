"""The learning commands are documented: help with an example, and a line in the README."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CliRun

Cli = Callable[..., CliRun]
README = Path(__file__).resolve().parents[1] / "README.md"
COMMANDS = (("tune",), ("predict", "fit"), ("predict", "score"), ("report",))


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_has_an_example_and_the_json_option(command: tuple[str, ...], leadscore_cli: Cli) -> None:
    result = leadscore_cli(*command, "--help")
    assert result.code == 0, result.stderr
    assert "Example: leadscore " + " ".join(command) in " ".join(result.stdout.split())
    assert "--json" in result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_the_readme_lists_the_command(command: tuple[str, ...]) -> None:
    assert f"`leadscore {' '.join(command)} " in README.read_text(encoding="utf-8") or (
        command[0] == "predict" and f"`{command[0]} {command[1]} " in README.read_text(encoding="utf-8"))

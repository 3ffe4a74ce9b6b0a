"""Command-line mistakes are user errors: exit 2, a usage message, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import CliRun, run_leadscore_process

Cli = Callable[..., CliRun]


def test_bad_format_exits_2_with_a_usage_message(tiny_model: Path, tiny_data: Path, leadscore_cli: Cli) -> None:
    result = leadscore_cli("score", "--model", tiny_model, "--data", tiny_data, "--format", "xml")
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert "Invalid value for --format: use parquet or csv" in result.stderr


def test_missing_required_option_exits_2_naming_it(tiny_model: Path, leadscore_cli: Cli) -> None:
    result = leadscore_cli("score", "--model", tiny_model)
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert "Missing option '--data'" in result.stderr


def test_unknown_command_exits_2_in_a_fresh_process() -> None:
    done = run_leadscore_process("scroe")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "No such command 'scroe'" in done.stderr


def test_error_lines_are_not_wrapped_at_the_terminal_width(tmp_path: Path, leadscore_cli: Cli) -> None:
    folder = tmp_path / ("a_long_folder_name_" * 5) / "models"
    folder.mkdir(parents=True)
    model = folder / "model.yaml"
    model.write_text("model: t\nlayers: {fit: {rules: [{name: a, when: x, pionts: 1}]}}\n"
                     "stages: [{name: all}]\n", encoding="utf-8")
    result = leadscore_cli("validate", model)
    assert result.code == 2
    [issue_line] = [line for line in result.stderr.splitlines() if "pionts" in line]
    assert issue_line.strip().startswith(f"{model}:2:")
    assert issue_line.endswith("(hint: did you mean 'points'?)")

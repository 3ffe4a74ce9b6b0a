"""A bad model file is a ModelError: every problem at once, each at file:line:col with a hint.

Each test writes one short model, checks the library's ModelError (the issue's line and column
point at the offending character), then runs ``leadscore validate`` and checks the user sees exit
code 2 and one paragraph on stderr with the same ``file:line:col`` and no traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CliRun, run_leadscore_process
from leadscore import api
from leadscore.errors import Issue, ModelError

Cli = Callable[..., CliRun]


def rejected(tmp_path: Path, cli: Cli, text: str, *, data: Path | None = None
             ) -> tuple[list[Issue], str, Path]:
    """Validate ``text`` as a model (against ``data``): return the issues, stderr and the file."""
    path = tmp_path / "model.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        api.validate(path, data=data)
    result = cli("validate", path, *(["--data", data] if data else []))
    assert result.code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    assert "\n\n" not in result.stderr.strip(), "the error is one paragraph"
    return caught.value.issues, result.stderr, path


def only(issues: list[Issue]) -> Issue:
    assert len(issues) == 1, [str(i) for i in issues]
    return issues[0]


def test_unknown_key_is_reported_at_the_key_with_a_did_you_mean_hint(tmp_path: Path, leadscore_cli: Cli
                                                                      ) -> None:
    issues, stderr, path = rejected(tmp_path, leadscore_cli, """\
model: t
layers:
  fit:
    rules:
      - {name: senior, when: "seniority = 'vp'", ponts: 5}
stages:
  - {name: all, min_score: 0}
""")
    issue = only(issues)
    assert (issue.line, issue.col) == (5, 50)
    assert issue.message == "unknown key 'ponts'"
    assert issue.hint == "did you mean 'points'?"
    assert f"{path}:5:50: layers.fit.rules[0].ponts: unknown key 'ponts' (hint: did you mean 'points'?)" \
        in stderr


def test_yaml_syntax_error_points_at_the_parser_mark(tmp_path: Path, leadscore_cli: Cli) -> None:
    issues, stderr, path = rejected(tmp_path, leadscore_cli, """\
model: t
layers:
  fit: cap: 60
stages:
  - {name: all, min_score: 0}
""")
    issue = only(issues)
    assert (issue.line, issue.col) == (3, 11)  # the second ':' on the line
    assert "mapping values are not allowed here" in issue.message
    assert f"{path}:3:11: YAML syntax: mapping values are not allowed here" in stderr


def test_unknown_column_with_data_is_reported_inside_the_condition_with_a_suggestion(
        tmp_path: Path, leadscore_cli: Cli, tiny_data: Path) -> None:
    issues, stderr, path = rejected(tmp_path, leadscore_cli, """\
model: t
layers:
  fit:
    rules:
      - {name: senior, when: "region = 'europe' AND senority = 'vp'", points: 5}
stages:
  - {name: all, min_score: 0}
""", data=tiny_data)
    issue = only(issues)
    # The quoted condition starts at column 31; 'senority' is 22 characters into it.
    assert (issue.line, issue.col) == (5, 31 + 22)
    assert issue.message == "unknown column 'senority'"
    assert issue.hint == "did you mean 'seniority'?"
    assert f"{path}:5:53: layers.fit.rules[0].when: unknown column 'senority'" in stderr


def test_unknown_column_is_only_checked_when_data_is_given(tmp_path: Path, tiny_data: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text("model: t\nlayers:\n  fit:\n    rules:\n      - {name: a, when: \"senority = 'vp'\", "
                    "points: 5}\nstages:\n  - {name: all, min_score: 0}\n", encoding="utf-8")
    assert api.validate(path).checked_against_data is False
    with pytest.raises(ModelError):
        api.validate(path, data=tiny_data)


def test_unknown_column_on_the_left_of_in_list_is_reported(tmp_path: Path, leadscore_cli: Cli,
                                                           tiny_data: Path) -> None:
    issues, _stderr, _ = rejected(tmp_path, leadscore_cli, """\
model: t
lists:
  regions: [europe]
layers:
  fit:
    rules:
      - {name: in_region, when: "lead.regoin IN @regions", points: 5}
stages:
  - {name: all, min_score: 0}
""", data=tiny_data)
    issue = only(issues)
    assert (issue.line, issue.col) == (7, 34 + len("lead."))  # at the misspelt name
    assert issue.message == "unknown column 'lead.regoin'"
    assert issue.hint == "did you mean 'region'?"


def test_table_function_read_csv_is_rejected_at_the_function(tmp_path: Path, leadscore_cli: Cli) -> None:
    issues, stderr, path = rejected(tmp_path, leadscore_cli, """\
model: t
layers:
  fit:
    rules:
      - {name: senior, when: "seniority = 'vp' OR read_csv('/etc/passwd') IS NOT NULL", points: 5}
stages:
  - {name: all, min_score: 0}
""")
    issue = only(issues)
    assert (issue.line, issue.col) == (5, 31 + len("seniority = 'vp' OR "))
    assert issue.message == "function read_csv() is not allowed in a condition"
    assert issue.hint is not None and "email_domain" in issue.hint  # lists what is allowed
    assert f"{path}:5:51: layers.fit.rules[0].when: function read_csv() is not allowed" in stderr


def test_several_statements_are_rejected_at_the_semicolon(tmp_path: Path, leadscore_cli: Cli) -> None:
    issues, stderr, path = rejected(tmp_path, leadscore_cli, """\
model: t
layers:
  fit:
    rules:
      - {name: senior, when: "1; DROP TABLE leads", points: 5}
stages:
  - {name: all, min_score: 0}
""")
    issue = only(issues)
    assert (issue.line, issue.col) == (5, 32)
    assert issue.message == "a condition must be one expression, not several statements"
    assert f"{path}:5:32: layers.fit.rules[0].when: a condition must be one expression" in stderr


def test_subquery_is_rejected_once_at_its_parenthesis(tmp_path: Path, leadscore_cli: Cli) -> None:
    issues, stderr, path = rejected(tmp_path, leadscore_cli, """\
model: t
layers:
  fit:
    rules:
      - {name: senior, when: "(SELECT 1) = 1", points: 5}
stages:
  - {name: all, min_score: 0}
""")
    issue = only(issues)
    assert (issue.line, issue.col) == (5, 31)
    assert issue.message == "a subquery is not allowed in a condition"
    assert f"{path}:5:31: layers.fit.rules[0].when: a subquery is not allowed" in stderr


def test_unknown_list_is_reported_at_the_at_sign_with_the_defined_list(tmp_path: Path, leadscore_cli: Cli
                                                                       ) -> None:
    issues, stderr, path = rejected(tmp_path, leadscore_cli, """\
model: t
lists:
  personal_domains: [gmail.com]
layers:
  fit:
    rules:
      - {name: personal, when: "email_domain(email) IN @personal_domain", points: -5}
stages:
  - {name: all, min_score: 0}
""")
    issue = only(issues)
    assert (issue.line, issue.col) == (7, 33 + len("email_domain(email) IN "))
    assert issue.message == "unknown list '@personal_domain'"
    assert issue.hint == "did you mean '@personal_domains'?"
    assert f"{path}:7:56: layers.fit.rules[0].when: unknown list '@personal_domain'" in stderr


def test_duplicate_rule_name_is_reported_at_the_second_use(tmp_path: Path, leadscore_cli: Cli) -> None:
    issues, stderr, path = rejected(tmp_path, leadscore_cli, """\
model: t
layers:
  fit:
    rules:
      - {name: senior, when: "seniority = 'vp'", points: 5}
      - {name: senior, when: "seniority = 'c_level'", points: 5}
stages:
  - {name: all, min_score: 0}
""")
    issue = only(issues)
    assert (issue.line, issue.col) == (6, 16)
    assert issue.message == "duplicate name 'senior'"
    assert issue.hint is not None and "layers.fit.rules[0].name" in issue.hint
    assert f"{path}:6:16: layers.fit.rules[1].name: duplicate name 'senior'" in stderr


def test_negative_group_cap_and_negative_total_cap_are_both_reported(tmp_path: Path, leadscore_cli: Cli
                                                                     ) -> None:
    issues, stderr, path = rejected(tmp_path, leadscore_cli, """\
model: t
layers:
  engagement:
    groups:
      email:
        cap: -5
        events: {email_open: 2}
total: {cap: -1}
stages:
  - {name: all, min_score: 0}
""")
    assert [(i.path, i.line, i.col) for i in issues] == [
        ("layers.engagement.groups.email.cap", 6, 14), ("total.cap", 8, 14)]
    assert all("greater than or equal to 0" in i.message for i in issues)
    assert f"{path}:6:14: layers.engagement.groups.email.cap:" in stderr
    assert f"{path}:8:14: total.cap:" in stderr


def test_stage_that_can_never_match_is_reported(tmp_path: Path, leadscore_cli: Cli) -> None:
    issues, stderr, path = rejected(tmp_path, leadscore_cli, """\
model: t
layers:
  fit:
    rules:
      - {name: senior, when: "seniority = 'vp'", points: 5}
stages:
  - {name: mql, min_score: 50}
  - {name: sales_ready, min_score: 80}
  - {name: all, min_score: 0}
""")
    issue = only(issues)
    assert (issue.path, issue.line, issue.col) == ("stages[1].min_score", 8, 36)
    assert issue.message.startswith("stage 'sales_ready' can never match: stage 'mql'")
    assert issue.hint == "order stages from the highest min_score down"
    assert f"{path}:8:36: stages[1].min_score: stage 'sales_ready' can never match" in stderr


def test_unknown_event_type_is_reported_at_its_name_when_validated_with_data(
        tmp_path: Path, leadscore_cli: Cli, tiny_data: Path) -> None:
    issues, stderr, path = rejected(tmp_path, leadscore_cli, """\
model: t
layers:
  engagement:
    groups:
      email:
        events: {email_opne: 2}
stages:
  - {name: all, min_score: 0}
""", data=tiny_data)
    issue = only(issues)
    assert (issue.line, issue.col) == (6, 18)
    assert issue.message == "event type 'email_opne' does not occur in the data"
    assert issue.hint == "did you mean 'email_open'?"
    assert f"{path}:6:18: layers.engagement.groups.email.events.email_opne: event type 'email_opne'" in stderr


def test_unknown_event_type_given_as_type_is_reported_at_the_type(tmp_path: Path, leadscore_cli: Cli,
                                                                   tiny_data: Path) -> None:
    issues, _stderr, _path = rejected(tmp_path, leadscore_cli, """\
model: t
layers:
  engagement:
    groups:
      email:
        events:
          opens: {type: email_opne, points: 2}
stages:
  - {name: all, min_score: 0}
""", data=tiny_data)
    issue = only(issues)
    assert (issue.path, issue.line, issue.col) == ("layers.engagement.groups.email.events.opens.type", 7, 25)


def test_every_error_is_reported_at_once(tmp_path: Path, leadscore_cli: Cli, tiny_data: Path) -> None:
    issues, stderr, path = rejected(tmp_path, leadscore_cli, """\
model: t
layers:
  fit:
    rules:
      - {name: senior, when: "senority = 'vp'", points: 5}
      - {name: bad_fn, when: "read_csv('x') = 1", points: 5}
      - {name: senior, when: "seniority = 'c_level'", points: 5}
stages:
  - {name: all, min_score: 0}
""", data=tiny_data)
    assert sorted((i.line, i.col, i.message) for i in issues) == [
        (5, 31, "unknown column 'senority'"),
        (6, 31, "function read_csv() is not allowed in a condition"),
        (7, 16, "duplicate name 'senior'"),
    ]
    for line, col in ((5, 31), (6, 31), (7, 16)):
        assert f"{path}:{line}:{col}: " in stderr


def test_model_error_in_a_fresh_process_prints_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text("model: t\nlayers:\n  fit:\n    rules:\n      - {name: a, when: \"x\", pionts: 5}\n"
                    "stages:\n  - {name: all, min_score: 0}\n", encoding="utf-8")
    done = run_leadscore_process("validate", path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{path}:5:" in done.stderr
    assert "did you mean 'points'?" in done.stderr


def test_missing_model_file_is_a_model_error_with_a_hint(tmp_path: Path, leadscore_cli: Cli) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ModelError):
        api.load_model(missing)
    result = leadscore_cli("validate", missing)
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert "does not exist" in result.stderr
    assert "leadscore init" in result.stderr


def test_condition_spanning_lines_reports_where_it_starts(tmp_path: Path, leadscore_cli: Cli,
                                                          tiny_data: Path) -> None:
    """Folded scalars lose their line structure: the issue points at the start, never past a line's end."""
    issues, stderr, path = rejected(tmp_path, leadscore_cli, """\
model: t
layers:
  fit:
    rules:
      - name: folded
        when: >-
          seniority = 'vp'
          AND senority = 'x'
        points: 5
      - name: quoted
        when: "seniority = 'vp'
          AND senorty = 'x'"
        points: 5
      - {name: one_line, when: "seniority = 'vp' AND senoritty = 'x'", points: 5}
stages:
  - {name: all, min_score: 0}
""", data=tiny_data)
    assert [(i.path, i.line, i.col) for i in issues] == [
        ("layers.fit.rules[0].when", 6, 15),
        ("layers.fit.rules[1].when", 11, 16),
        ("layers.fit.rules[2].when", 14, 33 + len("seniority = 'vp' AND ")),
    ]
    assert f"{path}:11:16: layers.fit.rules[1].when: unknown column 'senorty'" in stderr

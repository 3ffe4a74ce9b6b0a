"""``leadscore sql``: golden SQL per model and dialect, parse-back in each dialect, per-dialect
meanings of single constructs (sqlglot's validate_all style) and inexpressible constructs.

Regenerate the golden files only on purpose, and review the diff:
``LEADSCORE_REGENERATE_GOLDEN=1 python -m pytest tests/test_export_sql.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

import leadscore
from conftest import BUNDLED_MODEL, REFERENCE_MODEL, CliRun
from leadscore.compiler.conditions import NameSpace, bind_condition
from leadscore.compiler.dialects import DIALECTS, UnsupportedConstruct, generate
from leadscore.compiler.expand import condition_sql

GOLDEN = Path(__file__).with_name("golden")
AS_OF = datetime(2026, 6, 30)
MODELS = {"bench-reference": REFERENCE_MODEL, "b2b-saas": BUNDLED_MODEL}
REGENERATE = os.environ.get("LEADSCORE_REGENERATE_GOLDEN") == "1"


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_exported_sql_matches_the_golden_file(model_name: str, dialect: str) -> None:
    text = leadscore.export_sql(MODELS[model_name], dialect=dialect, as_of=AS_OF).text()
    golden = GOLDEN / model_name / f"{dialect}.sql"
    if REGENERATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_exported_sql_parses_back_in_its_dialect_unchanged(model_name: str, dialect: str) -> None:
    exported = leadscore.export_sql(MODELS[model_name], dialect=dialect, as_of=AS_OF)
    for statement in (exported.lead_scores, exported.account_scores):
        parsed = sqlglot.parse_one(statement, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
        assert parsed.sql(dialect, pretty=True) == statement


def _condition(text: str) -> exp.Expr:
    names = NameSpace(context="profile", lead_columns=frozenset({"title", "a", "b", "employees"}))
    bound = bind_condition(text, names)
    return condition_sql(bound, lambda key: exp.column(key.partition(":")[2]))


# sqlglot's validate_all: a condition, and what each dialect must say for it (or UnsupportedConstruct).
MEANINGS: dict[str, dict[str, str | type[Exception]]] = {
    "greatest(a, b) > 3": {
        "duckdb": "GREATEST(a, b) > 3",
        "postgres": "GREATEST(a, b) > 3",
        "spark": "GREATEST(a, b) > 3",
        "snowflake": "GREATEST_IGNORE_NULLS(a, b) > 3",
        "bigquery": "GREATEST(COALESCE(a, b), COALESCE(b, a)) > 3",
    },
    "contains(title, 'ops')": {
        "duckdb": "CONTAINS(title, 'ops')",
        "postgres": "(POSITION('ops' IN title) > 0)",
        "spark": "CONTAINS(title, 'ops')",
        "snowflake": "CONTAINS(title, 'ops')",
        "bigquery": "(INSTR(title, 'ops') > 0)",
    },
    "ends_with(title, 'ops')": {
        "duckdb": "ENDS_WITH(title, 'ops')",
        "postgres": "(RIGHT(title, LENGTH('ops')) = 'ops')",
        "spark": "ENDSWITH(title, 'ops')",
        "snowflake": "ENDSWITH(title, 'ops')",
        "bigquery": "ENDS_WITH(title, 'ops')",
    },
    "a / b > 1": {
        "duckdb": "a / b > 1",
        "postgres": "CAST(a AS DOUBLE PRECISION) / b > 1",
        "spark": "a / b > 1",
        "snowflake": "CAST(a AS DOUBLE) / b > 1",
        "bigquery": "a / b > 1",
    },
    "has_word(title, 'intern')": {
        "duckdb": "COALESCE((REGEXP_MATCHES(title, '(?i)\\b(intern)\\b')), FALSE)",
        "postgres": "COALESCE((title ~* '(^|[^A-Za-z0-9_])(intern)([^A-Za-z0-9_]|$)'), FALSE)",
        "spark": "COALESCE((title RLIKE '(?i)(^|[^A-Za-z0-9_])(intern)([^A-Za-z0-9_]|$)'), FALSE)",
        "snowflake": "COALESCE(((REGEXP_INSTR(title, '(^|[^A-Za-z0-9_])(intern)([^A-Za-z0-9_]|$)', 1, 1, 0, 'i') "
                     "> 0)), FALSE)",
        "bigquery": "COALESCE((REGEXP_CONTAINS(title, '(?i)(^|[^A-Za-z0-9_])(intern)([^A-Za-z0-9_]|$)')), FALSE)",
    },
    "employees % 2.5 = 0": {
        "duckdb": "employees % 2.5 = 0",
        "postgres": "employees % 2.5 = 0",
        "spark": "employees % 2.5 = 0",
        "snowflake": "employees % 2.5 = 0",
        "bigquery": UnsupportedConstruct,
    },
}


@pytest.mark.parametrize("condition", sorted(MEANINGS))
def test_each_dialect_keeps_the_meaning_of_a_condition(condition: str) -> None:
    for dialect, expected in MEANINGS[condition].items():
        tree = _condition(condition)
        if isinstance(expected, type):
            with pytest.raises(expected):
                generate(tree, dialect, pretty=False)
        else:
            assert generate(tree, dialect, pretty=False) == expected, dialect


INEXPRESSIBLE = """\
model: odd
layers:
  fit:
    rules:
      - {name: even_headcount, when: "employees % 2.5 = 0", points: 5}
stages:
  - {name: all, min_score: 0}
"""


def test_a_construct_the_dialect_cannot_express_fails_at_export_naming_rule_and_dialect(
        tmp_path: Path, leadscore_cli: Callable[..., CliRun]) -> None:
    model = tmp_path / "odd.yaml"
    model.write_text(INEXPRESSIBLE, encoding="utf-8")
    with pytest.raises(leadscore.ModelError) as caught:
        leadscore.export_sql(model, dialect="bigquery", as_of=AS_OF)
    issue = caught.value.issues[0]
    assert (issue.path, issue.line) == ("layers.fit.rules[0].when", 5)
    assert "bigquery" in issue.message and "'%'" in issue.message
    run = leadscore_cli("sql", "--model", model, "--dialect", "bigquery")
    assert run.code == 2
    assert "layers.fit.rules[0].when" in run.stderr and "bigquery" in run.stderr
    assert "Traceback" not in run.stderr
    assert leadscore_cli("sql", "--model", model, "--dialect", "postgres").code == 0


def test_sql_reads_the_tables_it_is_given(leadscore_cli: Callable[..., CliRun]) -> None:
    run = leadscore_cli("sql", "--model", REFERENCE_MODEL, "--dialect", "snowflake", "--as-of", "2026-06-30",
                        "--tables", "crm.leads,web.events,crm.accounts")
    assert run.code == 0
    assert "FROM crm.leads AS l" in run.stdout and "FROM web.events" in run.stdout
    assert "JOIN crm.accounts AS a" in run.stdout


def test_unknown_dialect_names_the_known_ones(leadscore_cli: Callable[..., CliRun]) -> None:
    run = leadscore_cli("sql", "--model", REFERENCE_MODEL, "--dialect", "oracle")
    assert run.code == 3
    assert "snowflake" in run.stderr


def test_sql_json_carries_both_statements(leadscore_cli: Callable[..., CliRun]) -> None:
    import json

    run = leadscore_cli("sql", "--model", REFERENCE_MODEL, "--dialect", "postgres", "--json")
    payload = json.loads(run.stdout)
    assert payload["dialect"] == "postgres"
    assert payload["lead_scores"].startswith("WITH") and "account_scores" in payload

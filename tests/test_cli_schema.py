"""``leadscore schema`` describes real model files; ``leadscore init`` writes one that validates.

``jsonschema`` is not a dependency, so the schema is checked with the small validator below. It
implements the keywords pydantic emits for the model ($ref, anyOf, type, properties, required,
additionalProperties, items, min/max, pattern) and nothing else: an unknown keyword fails the test
rather than being ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from conftest import BUNDLED_MODEL, REFERENCE_MODEL, CliRun
from leadscore import api

Cli = Callable[..., CliRun]
KNOWN_KEYWORDS = frozenset({
    "$ref", "$defs", "$schema", "anyOf", "type", "properties", "required", "additionalProperties", "items",
    "minimum", "maximum", "exclusiveMinimum", "minItems", "minProperties", "pattern", "default", "title",
    "description",
})
TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


def schema_errors(value: Any, schema: dict[str, Any], root: dict[str, Any], where: str = "$") -> list[str]:
    unknown = set(schema) - KNOWN_KEYWORDS
    assert not unknown, f"the test validator does not know {unknown}"
    errors: list[str] = []
    if "$ref" in schema:
        errors += schema_errors(value, root["$defs"][schema["$ref"].removeprefix("#/$defs/")], root, where)
    if "anyOf" in schema and all(schema_errors(value, option, root, where) for option in schema["anyOf"]):
        errors.append(f"{where}: {value!r} matches none of the accepted forms")
    if "type" in schema and not TYPES[schema["type"]](value):
        return [*errors, f"{where}: expected {schema['type']}, got {type(value).__name__}"]
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        errors += [f"{where}: missing {key}" for key in schema.get("required", []) if key not in value]
        for key, item in value.items():
            if key in properties:
                errors += schema_errors(item, properties[key], root, f"{where}.{key}")
            elif extra is False:
                errors.append(f"{where}: unknown key {key!r}")
            elif isinstance(extra, dict):
                errors += schema_errors(item, extra, root, f"{where}.{key}")
        if len(value) < schema.get("minProperties", 0):
            errors.append(f"{where}: too few keys")
    if isinstance(value, list):
        for index, item in enumerate(value):
            errors += schema_errors(item, schema.get("items", {}), root, f"{where}[{index}]")
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{where}: too few items")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if TYPES["number"](value):
        if value < schema.get("minimum", value) or value > schema.get("maximum", value):
            errors.append(f"{where}: {value} out of range")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append(f"{where}: {value} must be above {schema['exclusiveMinimum']}")
    return errors


@pytest.fixture(scope="module")
def printed_schema() -> dict[str, Any]:
    from typer.testing import CliRunner

    from leadscore.cli.main import app

    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    schema: dict[str, Any] = json.loads(result.stdout)
    return schema


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def test_schema_is_the_model_json_schema(printed_schema: dict[str, Any]) -> None:
    assert printed_schema == json.loads(json.dumps(api.model_json_schema()))
    assert printed_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"model", "layers", "stages"} <= set(printed_schema["required"])


def test_schema_validates_the_reference_model(printed_schema: dict[str, Any]) -> None:
    assert schema_errors(load_yaml(REFERENCE_MODEL), printed_schema, printed_schema) == []


def test_schema_validates_the_bundled_model(printed_schema: dict[str, Any]) -> None:
    assert schema_errors(load_yaml(BUNDLED_MODEL), printed_schema, printed_schema) == []


def test_schema_rejects_an_unknown_key_and_a_bad_duration(printed_schema: dict[str, Any]) -> None:
    document = load_yaml(REFERENCE_MODEL)
    document["layers"]["fit"]["rules"][0]["ponts"] = 5
    document["layers"]["engagement"]["groups"]["email"]["decay"]["half_life"] = "thirty days"
    errors = schema_errors(document, printed_schema, printed_schema)
    assert "$.layers.fit.rules[0]: unknown key 'ponts'" in errors
    assert "$.layers.engagement.groups.email.decay: {'half_life': 'thirty days'} matches none of the " \
           "accepted forms" in errors
    assert len(errors) == 2


def test_schema_out_writes_the_schema_to_a_file(tmp_path: Path, leadscore_cli: Cli,
                                                printed_schema: dict[str, Any]) -> None:
    target = tmp_path / "leadscore.schema.json"
    result = leadscore_cli("schema", "--out", target)
    assert result.code == 0, result.stderr
    assert json.loads(target.read_text(encoding="utf-8")) == printed_schema


def test_init_writes_a_model_that_validates(tmp_path: Path, leadscore_cli: Cli,
                                            printed_schema: dict[str, Any]) -> None:
    target = tmp_path / "model.yaml"
    result = leadscore_cli("init", target)
    assert result.code == 0, result.stderr
    report = api.validate(target)
    assert report.model == "b2b-saas"
    assert leadscore_cli("validate", target).code == 0
    assert schema_errors(load_yaml(target), printed_schema, printed_schema) == []


def test_init_refuses_to_overwrite_without_force(tmp_path: Path, leadscore_cli: Cli) -> None:
    target = tmp_path / "model.yaml"
    target.write_text("mine\n", encoding="utf-8")
    result = leadscore_cli("init", target)
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert "pass --force to overwrite" in result.stderr
    assert target.read_text(encoding="utf-8") == "mine\n"
    assert leadscore_cli("init", target, "--force").code == 0
    assert api.validate(target).model == "b2b-saas"

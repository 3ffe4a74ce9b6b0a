"""A model written by leadscore (tune, thresholds) reads back the same, in leadscore and in YAML 1.1 readers.

Value maps learned from data such as X Education's have keys ``Yes``/``No``; ruamel writes YAML 1.2,
where these are strings, but PyYAML and many editors read YAML 1.1, where they are booleans.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml as pyyaml
from ruamel.yaml import YAML

from conftest import BUNDLED_MODEL
from leadscore.spec import dump_model_yaml, load_model

AMBIGUOUS = ["Yes", "No", "yes", "no", "on", "Off", "y", "N", "true", "False", "null", "~"]


def _with_yes_no_map(document: dict[str, Any]) -> dict[str, Any]:
    rules = document["layers"]["fit"]["rules"]
    rules.append({"name": "newsletter", "column": "region",
                  "points": {word: float(i + 1) for i, word in enumerate(AMBIGUOUS)}})
    return document


def _bundled_document() -> dict[str, Any]:
    loaded = YAML(typ="safe").load(BUNDLED_MODEL.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_dumped_model_loads_back_with_the_same_spec(tmp_path: Path) -> None:
    document = _with_yes_no_map(_bundled_document())
    path = tmp_path / "model.yaml"
    path.write_text(dump_model_yaml(document), encoding="utf-8")
    reloaded = load_model(path)
    rule = next(r for r in reloaded.spec.layers["fit"].rules if r.name == "newsletter")
    assert rule.points == {word: float(i + 1) for i, word in enumerate(AMBIGUOUS)}


def test_yaml11_readers_see_strings_not_booleans(tmp_path: Path) -> None:
    document = _with_yes_no_map(_bundled_document())
    document["description"] = "no"
    text = dump_model_yaml(document)
    read = pyyaml.safe_load(text)
    points = next(r for r in read["layers"]["fit"]["rules"] if r["name"] == "newsletter")["points"]
    assert list(points) == AMBIGUOUS
    assert read["description"] == "no"


def test_booleans_and_numbers_stay_unquoted() -> None:
    text = dump_model_yaml({"name": "m", "flag": True, "count": 3, "label": "Yesterday"})
    assert "flag: true" in text and "count: 3" in text and "label: Yesterday" in text

"""Rewrite a model document with learned points, keeping everything else as the author wrote it.

The model file is edited in place (ruamel round-trip: comments, order and flow style survive), so
the git diff of a tuned model shows the points that changed and little else. Numbers compared with
scores (stage ``min_score``, grades, stage requirements such as ``fit >= 30``, the account roll-up's
``engaged_min``) move to the value that lets about the same share of leads through on the new scale:
a stage keeps its size, so a sales team's workload does not jump because the points did.
"""

from __future__ import annotations

import io
import math
import operator
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlglot import exp

from leadscore.compiler.conditions import ConditionRejected, parse_condition
from leadscore.learn.tune_changes import ThresholdChange
from leadscore.spec.loader import LoadedModel, dump_model_yaml, parse_yaml

FloatArray = npt.NDArray[np.float64]
Document = MutableMapping[str, Any]

COMPARISONS: Mapping[type[exp.Expr], tuple[str, Callable[[Any, Any], Any]]] = {
    exp.GTE: (">=", operator.ge), exp.GT: (">", operator.gt), exp.LTE: ("<=", operator.le),
    exp.LT: ("<", operator.lt),
}
MIRRORED = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}
COMPARISON_CLASSES: Mapping[str, type[exp.Binary]] = {">=": exp.GTE, ">": exp.GT, "<=": exp.LTE, "<": exp.LT}


def model_document(loaded: LoadedModel) -> Document:
    """The model as an editable document: the file's own YAML tree when it came from a file."""
    if loaded.source and Path(loaded.source).is_file():
        document, _positions = parse_yaml(Path(loaded.source).read_text(encoding="utf-8"), loaded.source)
        return document  # type: ignore[no-any-return]  # ruamel's CommentedMap
    dumped: Document = loaded.spec.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    dumped.setdefault("model", loaded.spec.model)
    return dumped


def dump_document(document: Document, *, header: str = "") -> str:
    """YAML text of a document; a round-trip document keeps its comments and layout."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    if isinstance(document, CommentedMap):
        yaml = YAML(typ="rt")
        yaml.width = 110
        buffer = io.StringIO()
        yaml.dump(document, buffer)
        text = buffer.getvalue()
    else:
        text = dump_model_yaml(document)
    lines = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return lines + text


def number(value: float) -> int | float:
    """Integers as ints (the model file says ``15``, not ``15.0``)."""
    return int(value) if float(value).is_integer() else float(value)


# -- thresholds -----------------------------------------------------------------------------------------


def share_passing(values: FloatArray, op: str, threshold: float) -> float:
    if values.size == 0:
        return 0.0
    compare = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}[op]
    return float(np.mean(compare(values, threshold)))


def matching_threshold(old: FloatArray, new: FloatArray, threshold: float, op: str) -> tuple[float, float, float]:
    """An integer ``t`` such that ``new op t`` holds for about the share of leads ``old op threshold``
    did; returns ``(t, share_old, share_new)``."""
    share = share_passing(old, op, threshold)
    if new.size == 0:
        return threshold, share, 0.0
    k = round(share * new.size)
    if op in (">=", ">"):
        ranked = np.sort(new)[::-1]
        if k == 0:
            target = math.floor(float(ranked[0])) + 1.0
            chosen = target if op == ">=" else target - 1.0
        elif k >= new.size:
            low = float(ranked[-1])
            chosen = float(math.floor(low)) if op == ">=" else float(math.ceil(low) - 1)
        else:
            value = float(ranked[k - 1])
            chosen = float(math.floor(value)) if op == ">=" else float(math.ceil(value) - 1)
    else:
        ranked = np.sort(new)
        if k == 0:
            low = float(ranked[0])
            chosen = float(math.floor(low)) if op == "<" else float(math.floor(low) - 1)
        elif k >= new.size:
            high = float(ranked[-1])
            chosen = float(math.floor(high) + 1) if op == "<" else float(math.ceil(high))
        else:
            value = float(ranked[k - 1])
            chosen = float(math.floor(value) + 1) if op == "<" else float(math.ceil(value))
    return chosen, share, share_passing(new, op, chosen)


def _compared(node: exp.Expr, names: Mapping[str, Any]) -> tuple[str, float, str] | None:
    """``(name, number, op)`` for ``name op number`` or ``number op name`` (op as seen from name)."""
    entry = COMPARISONS.get(type(node))
    if entry is None:
        return None
    left, right = node.this, node.expression
    op = entry[0]
    if isinstance(right, exp.Column) and isinstance(left, exp.Literal | exp.Neg):
        left, right, op = right, left, MIRRORED[op]
    if not (isinstance(left, exp.Column) and not left.table and left.name in names):
        return None
    literal = right.this if isinstance(right, exp.Neg) else right
    if not (isinstance(literal, exp.Literal) and literal.is_number):
        return None
    value = float(literal.this) * (-1.0 if isinstance(right, exp.Neg) else 1.0)
    return left.name, value, op


def remap_condition(text: str, values: Mapping[str, tuple[FloatArray, FloatArray]], where: str
                    ) -> tuple[str, list[ThresholdChange]]:
    """Move every non-zero number compared with a layer, group or ``total`` in ``text``.

    Comparisons with 0 keep their meaning on any scale ("any intent at all") and stay. Anything
    more complex (``intent + content > 20``) is left as written; the caller warns about it.
    """
    try:
        tree = parse_condition(text)
    except ConditionRejected:
        return text, []
    changes: list[ThresholdChange] = []

    def replace(node: exp.Expr) -> exp.Expr:
        found = _compared(node, values)
        if found is None or found[1] == 0:
            return node
        name, threshold, op = found
        old, new = values[name]
        chosen, share_old, share_new = matching_threshold(old, new, threshold, op)
        changes.append(ThresholdChange(f"{where}: {name} {op}", threshold, chosen, share_old, share_new))
        literal = exp.Literal.number(number(chosen)) if chosen >= 0 else exp.Neg(
            this=exp.Literal.number(number(-chosen)))
        return COMPARISON_CLASSES[op](this=exp.column(name), expression=literal)

    rewritten = tree.transform(replace)
    if not changes:
        return text, []
    new_text = rewritten.sql()
    return new_text, [ThresholdChange(c.where, c.old, c.new, c.share_old, c.share_new, text, new_text)
                      for c in changes]


def unremapped_numbers(text: str, names: Mapping[str, Any]) -> bool:
    """Does ``text`` compare a non-zero number with an expression of scores that was not remapped?"""
    try:
        tree = parse_condition(text)
    except ConditionRejected:
        return False
    for node in tree.walk():
        if type(node) in COMPARISONS and _compared(node, names) is None:
            columns = {c.name for c in node.find_all(exp.Column) if not c.table}
            numbers = [lit for lit in node.find_all(exp.Literal) if lit.is_number and float(lit.this) != 0]
            if columns & set(names) and numbers:
                return True
    return False

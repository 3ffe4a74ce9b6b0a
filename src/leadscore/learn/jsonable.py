"""``to_dict()`` for the frozen result records of learning: JSON-ready, the same shape ``--json`` prints.

Datetimes become ISO strings, tuples lists, NaN ``None`` and NumPy scalars plain numbers, so a
result can go through ``json.dumps`` as it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import datetime
from typing import Any

import numpy as np


def plain(value: Any) -> Any:
    """``value`` with every nested record, datetime, tuple, NaN and NumPy scalar made JSON-ready."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Jsonable:
    """Mixin for frozen dataclasses: ``to_dict()`` is :func:`plain` of the record."""

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = plain(self)
        return result

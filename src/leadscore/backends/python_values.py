"""SQL values in plain Python, as DuckDB has them: casts, comparisons, arithmetic, literals, and the
text functions leadscore adds (``email_domain``, ``is_valid_email``, ``has_word``, LIKE).

The building blocks of the condition interpreter in ``python_functions``; see its docstring for
the semantics they follow and their known, deliberate limits.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import TypeAlias

from sqlglot import exp

from leadscore.compiler.expand import word_pattern
from leadscore.errors import DataError, Issue

SqlValue: TypeAlias = bool | int | float | Decimal | str | datetime | date | None
"""A value as the interpreter sees it: DuckDB's BOOLEAN, INTEGER, DOUBLE, DECIMAL, VARCHAR, TIMESTAMP."""

Resolver = Callable[[str], SqlValue]
"""Maps a placeholder key (``lead:email``, ``agg:count:intent:30.0``...) to its value for one lead."""

Number: TypeAlias = int | float | Decimal

_TRUE_TEXT = frozenset({"true", "t", "1", "yes", "y"})
_FALSE_TEXT = frozenset({"false", "f", "0", "no", "n"})


def _fail(message: str, hint: str | None = None) -> DataError:
    return DataError(f"cannot evaluate condition: {message}", [Issue(message, hint=hint)])


# ---------------------------------------------------------------------------------------------
# Casts, as DuckDB performs them
# ---------------------------------------------------------------------------------------------


def to_bool(value: SqlValue) -> bool | None:
    """A value used as a condition: numbers are true when non-zero, text is cast as DuckDB casts it."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return value != 0
    if isinstance(value, str):
        text = value.lower()
        if text in _TRUE_TEXT:
            return True
        if text in _FALSE_TEXT:
            return False
    raise _fail(f"{value!r} is not a boolean", "compare the column with a value, e.g. \"col = 'x'\"")


def to_varchar(value: SqlValue) -> str | None:
    """``CAST(value AS VARCHAR)`` in DuckDB: ``true``, ``5``, ``5.0``, ``1e+20``, ``2025-01-01 10:00:00``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Python's repr is the shortest round-trip form with the same switch to exponents as DuckDB.
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return text + (f".{value.microsecond:06d}".rstrip("0") if value.microsecond else "")
    return value.isoformat()


def to_double(value: SqlValue) -> float | None:
    """``CAST(value AS DOUBLE)``: what expression points become before ``coalesce(..., 0)``."""
    if value is None:
        return None
    if isinstance(value, bool | int | float | Decimal):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise _fail(f"text {value!r} is not a number") from None
    raise _fail(f"{value!r} cannot be used as points")


def _text_to_number(text: str, like: Number) -> Number:
    """Text compared with a number is cast to the number's type (DuckDB rounds text to integers)."""
    try:
        parsed = Decimal(text.strip())
        if isinstance(like, float):
            return float(parsed)
        if not parsed.is_finite():  # 'inf' and 'nan' are DOUBLE values only
            raise InvalidOperation(text)
    except InvalidOperation:
        raise _fail(f"text {text!r} is not a number",
                    "compare a text column with quoted text, a number column with a number") from None
    if isinstance(like, Decimal):
        return parsed
    return int(parsed.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _text_to_bool(text: str) -> bool:
    result = to_bool(text)
    assert result is not None
    return result


def _to_timestamp(value: str | date) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise _fail(f"text {value!r} is not a timestamp") from None


def _comparable(left: SqlValue, right: SqlValue) -> tuple[object, object]:
    """Bring two non-NULL values to one type the way DuckDB's implicit casts do."""
    if isinstance(left, bool) and isinstance(right, bool):
        return left, right
    if isinstance(left, bool) or isinstance(right, bool):
        flag, other = (left, right) if isinstance(left, bool) else (right, left)
        assert isinstance(flag, bool)
        if isinstance(other, str):
            pair: tuple[object, object] = (flag, _text_to_bool(other))
        elif isinstance(other, int | float | Decimal):
            pair = (int(flag), other)
        else:
            raise _fail(f"cannot compare {left!r} with {right!r}")
        return pair if isinstance(left, bool) else (pair[1], pair[0])
    if isinstance(left, int | float | Decimal) and isinstance(right, int | float | Decimal):
        if isinstance(left, float) or isinstance(right, float):
            return float(left), float(right)
        return left, right
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    if isinstance(left, str) and isinstance(right, int | float | Decimal):
        return _text_to_number(left, right), right
    if isinstance(right, str) and isinstance(left, int | float | Decimal):
        return left, _text_to_number(right, left)
    if isinstance(left, date | str) and isinstance(right, date | str):
        return _to_timestamp(left), _to_timestamp(right)
    raise _fail(f"cannot compare {left!r} with {right!r}")


def compare(left: SqlValue, right: SqlValue) -> int | None:
    """-1, 0 or 1 as DuckDB orders the two values (NaN equals NaN and sorts last); NULL -> None."""
    if left is None or right is None:
        return None
    a, b = _comparable(left, right)
    if isinstance(a, float) and isinstance(b, float) and (math.isnan(a) or math.isnan(b)):
        return (math.isnan(a) and not math.isnan(b)) - (math.isnan(b) and not math.isnan(a))
    return int(a > b) - int(a < b)  # type: ignore[operator]  # _comparable returned one type


def sql_equal(left: SqlValue, right: SqlValue) -> bool | None:
    order = compare(left, right)
    return None if order is None else order == 0


# ---------------------------------------------------------------------------------------------
# Arithmetic with DuckDB's types: INTEGER, DECIMAL (Python Decimal) and DOUBLE
# ---------------------------------------------------------------------------------------------


def _number(value: SqlValue, what: str) -> Number:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise _fail(f"{what} needs numbers, got {value!r}")
    return value


def _promote(left: Number, right: Number) -> tuple[Number, Number]:
    if isinstance(left, float) or isinstance(right, float):
        return float(left), float(right)
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        return Decimal(left), Decimal(right)
    return left, right


def _divide(left: Number, right: Number) -> float:
    """``/`` is always DOUBLE division in DuckDB; dividing by zero gives inf or NaN, not an error."""
    a, b = float(left), float(right)
    if b == 0.0:
        if a == 0.0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _modulo(left: Number, right: Number) -> Number:
    """``%`` keeps the sign of the dividend (C semantics); integer or DECIMAL ``% 0`` is an error."""
    a, b = _promote(left, right)
    if isinstance(a, float) and isinstance(b, float):
        # C's fmod, which DuckDB uses, is NaN for x % 0 and inf % y; Python's raises there.
        return math.nan if b == 0.0 or math.isinf(a) else math.fmod(a, b)
    if b == 0:
        raise _fail("division by zero in '%'")
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a % b  # Decimal's % already truncates towards zero
    assert isinstance(a, int) and isinstance(b, int)
    remainder = abs(a) % abs(b)
    return -remainder if a < 0 else remainder


def _arithmetic(kind: type[exp.Expr], left: SqlValue, right: SqlValue) -> SqlValue:
    if left is None or right is None:
        return None
    symbol = _SYMBOLS[kind]
    a, b = _number(left, symbol), _number(right, symbol)
    if kind is exp.Div:
        return _divide(a, b)
    if kind is exp.Mod:
        return _modulo(a, b)
    a, b = _promote(a, b)
    if kind is exp.Add:
        return a + b  # type: ignore[operator]  # _promote returned one type
    if kind is exp.Sub:
        return a - b  # type: ignore[operator]
    return a * b  # type: ignore[operator]


_SYMBOLS: MappingProxyType[type[exp.Expr], str] = MappingProxyType({
    exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%"})


def literal_value(node: exp.Literal) -> SqlValue:
    """A literal with DuckDB's type: '5' INTEGER, '1.5' DECIMAL, '1e3' DOUBLE, quoted text VARCHAR.

    Parsed once per node (kept in the node's ``meta``): the service evaluates the same plan's
    literals for every event of every lead it rescores."""
    if _LITERAL in node.meta:
        cached: SqlValue = node.meta[_LITERAL]
        return cached
    text = str(node.this)
    value: SqlValue
    if node.is_string:
        value = text
    elif "e" in text.lower():
        value = float(text)
    elif "." in text:
        value = Decimal(text)
    else:
        value = int(text)
    node.meta[_LITERAL] = value
    return value


_LITERAL = "leadscore.literal_value"


# ---------------------------------------------------------------------------------------------
# Text functions, leadscore functions
# ---------------------------------------------------------------------------------------------


def _text(value: SqlValue, what: str) -> str:
    if not isinstance(value, str):
        raise _fail(f"{what}() needs text, got {value!r}")
    return value


def like(value: str, pattern: str, *, case_insensitive: bool = False) -> bool:
    """SQL LIKE: ``%`` any run, ``_`` one character, no escape character, the whole value."""
    if case_insensitive:
        value, pattern = value.lower(), pattern.lower()
    return _like_pattern(pattern).fullmatch(value) is not None


@functools.lru_cache(maxsize=1024)
def _like_pattern(pattern: str) -> re.Pattern[str]:
    """A LIKE pattern as a compiled regex, once per pattern (the service matches every event)."""
    parts = ["." if char == "_" else ".*" if char == "%" else re.escape(char) for char in pattern]
    return re.compile("".join(parts), flags=re.DOTALL)


def email_well_formed(value: SqlValue) -> bool:
    """Exactly one '@' and a '.' after it; a NULL email is not well-formed (``is_valid_email``)."""
    if value is None:
        return False
    text = _text(value, "is_valid_email")
    return text.count("@") == 1 and "." in text.split("@", 1)[1]


def email_domain(value: SqlValue) -> str | None:
    """Lower-cased part after the '@' of a well-formed email, else NULL."""
    if not email_well_formed(value):
        return None
    assert isinstance(value, str)
    return value.split("@", 1)[1].lower()


def has_word(value: SqlValue, words: list[str]) -> bool:
    """Any word, whole and ignoring case; word characters are ``[A-Za-z0-9_]`` as in RE2. NULL -> false."""
    if value is None:
        return False
    text = _text(value, "has_word")
    return re.search(word_pattern(words), text, flags=re.ASCII) is not None

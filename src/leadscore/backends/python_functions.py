"""Conditions in plain Python: an interpreter over bound sqlglot trees that means what DuckDB means.

The Python evaluator scores one lead without a database, so it must read a bound condition tree
(``compiler.conditions.BoundCondition.tree``) exactly as the compiled SQL does on DuckDB: SQL
three-valued logic, NULL propagation, DuckDB's numeric types (an integer literal is an INTEGER, a
literal with a decimal point a DECIMAL, ``/`` is true division, ``%`` keeps the dividend's sign),
DuckDB's implicit casts in comparisons, LIKE without an escape character, and leadscore's own
functions with the single meaning ``compiler/expand.py`` gives them.

Only the node types of ``compiler/allowlist.py`` (plus the ``Placeholder`` and ``GTE`` nodes the
binder adds) are interpreted; any other node is an error, never a silent pass-through. Where DuckDB
would reject a value at run time (text compared with a number that is not one, a function on the
wrong type, an integer ``% 0``), a ``DataError`` is raised, as the SQL path would raise one.

Known, deliberate limits: case mapping uses Python's ``str.lower``/``str.upper`` (DuckDB's differ
for a few non-ASCII letters such as ``ß``), integer overflow is not an error, ``has_word`` folds
case for ASCII letters only (RE2 also folds e.g. the Kelvin sign), and COALESCE/CASE/GREATEST
return the chosen value's own type where DuckDB unifies the branches' types first (a DECIMAL
branch next to a DOUBLE one becomes DOUBLE there), which can only show in a value's last bits.
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


# ---------------------------------------------------------------------------------------------
# The interpreter
# ---------------------------------------------------------------------------------------------


class _Interpreter:
    """Evaluates one bound tree against one resolver; a table maps each node type to its meaning."""

    def __init__(self, resolve: Resolver) -> None:
        self.resolve = resolve

    def value(self, node: exp.Expr) -> SqlValue:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise _fail(f"{type(node).__name__} is not supported by the Python evaluator",
                        "the allow-list and the evaluator disagree: please report this")
        return handler(self, node)

    def truth(self, node: exp.Expr) -> bool | None:
        return to_bool(self.value(node))


def _and(it: _Interpreter, node: exp.Expr) -> SqlValue:
    left, right = it.truth(node.this), it.truth(node.expression)
    if left is False or right is False:
        return False
    return None if left is None or right is None else True


def _or(it: _Interpreter, node: exp.Expr) -> SqlValue:
    left, right = it.truth(node.this), it.truth(node.expression)
    if left is True or right is True:
        return True
    return None if left is None or right is None else False


def _not(it: _Interpreter, node: exp.Expr) -> SqlValue:
    value = it.truth(node.this)
    return None if value is None else not value


def _comparison(test: Callable[[int], bool]) -> Callable[[_Interpreter, exp.Expr], SqlValue]:
    def handler(it: _Interpreter, node: exp.Expr) -> SqlValue:
        order = compare(it.value(node.this), it.value(node.expression))
        return None if order is None else test(order)

    return handler


def _negated(node: exp.Expr, value: bool | None) -> bool | None:
    return (not value if value is not None else None) if node.args.get("negate") else value


def _is(it: _Interpreter, node: exp.Expr) -> SqlValue:
    value = it.value(node.this)
    target = node.expression
    if isinstance(target, exp.Null):
        return _negated(node, value is None)
    if isinstance(target, exp.Boolean):
        return _negated(node, value is not None and to_bool(value) is bool(target.this))
    raise _fail(f"IS {target.sql()} is not supported")


def _in(it: _Interpreter, node: exp.Expr) -> SqlValue:
    if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
        raise _fail("IN takes a list of values here")
    value = it.value(node.this)
    if value is None:
        return None
    unknown = False
    for item in node.expressions:
        equal = sql_equal(value, it.value(item))
        if equal:
            return True
        unknown = unknown or equal is None
    return None if unknown else False


def _between(it: _Interpreter, node: exp.Expr) -> SqlValue:
    if node.args.get("symmetric"):
        raise _fail("BETWEEN SYMMETRIC is not supported")
    value = it.value(node.this)
    low = compare(value, it.value(node.args["low"]))
    high = compare(value, it.value(node.args["high"]))
    above = None if low is None else low >= 0
    below = None if high is None else high <= 0
    if above is False or below is False:
        return False
    return None if above is None or below is None else True


def _like(case_insensitive: bool) -> Callable[[_Interpreter, exp.Expr], SqlValue]:
    def handler(it: _Interpreter, node: exp.Expr) -> SqlValue:
        value, pattern = it.value(node.this), it.value(node.expression)
        if value is None or pattern is None:
            return None
        name = "ilike" if case_insensitive else "like"
        return _negated(node, like(_text(value, name), _text(pattern, name),
                                   case_insensitive=case_insensitive))

    return handler


def _binary(it: _Interpreter, node: exp.Expr) -> SqlValue:
    return _arithmetic(type(node), it.value(node.this), it.value(node.expression))


def _neg(it: _Interpreter, node: exp.Expr) -> SqlValue:
    value = it.value(node.this)
    return None if value is None else -_number(value, "-")


def _abs(it: _Interpreter, node: exp.Expr) -> SqlValue:
    value = it.value(node.this)
    if value is None:
        return None
    number = _number(value, "abs")
    return -number if number < 0 else number


def _case(it: _Interpreter, node: exp.Expr) -> SqlValue:
    subject = node.this
    for branch in node.args.get("ifs") or []:
        hit = sql_equal(it.value(subject), it.value(branch.this)) if subject is not None else it.truth(branch.this)
        if hit:
            return it.value(branch.args["true"])
    default = node.args.get("default")
    return it.value(default) if default is not None else None


def _if(it: _Interpreter, node: exp.Expr) -> SqlValue:
    if it.truth(node.this):
        return it.value(node.args["true"])
    otherwise = node.args.get("false")
    return it.value(otherwise) if otherwise is not None else None


def _string_function(name: str, apply: Callable[[str], SqlValue]
                     ) -> Callable[[_Interpreter, exp.Expr], SqlValue]:
    def handler(it: _Interpreter, node: exp.Expr) -> SqlValue:
        value = it.value(node.this)
        return None if value is None else apply(_text(value, name))

    return handler


def _string_test(name: str, test: Callable[[str, str], bool]
                 ) -> Callable[[_Interpreter, exp.Expr], SqlValue]:
    def handler(it: _Interpreter, node: exp.Expr) -> SqlValue:
        value, other = it.value(node.this), it.value(node.expression)
        if value is None or other is None:
            return None
        return test(_text(value, name), _text(other, name))

    return handler


def _coalesce(it: _Interpreter, node: exp.Expr) -> SqlValue:
    for argument in (node.this, *node.expressions):
        value = it.value(argument)
        if value is not None:
            return value
    return None


def _extreme(sign: int) -> Callable[[_Interpreter, exp.Expr], SqlValue]:
    """GREATEST/LEAST skip NULLs in DuckDB; NULL only when every argument is NULL."""

    def handler(it: _Interpreter, node: exp.Expr) -> SqlValue:
        best: SqlValue = None
        for argument in (node.this, *node.expressions):
            value = it.value(argument)
            if value is not None and (best is None or (compare(value, best) or 0) * sign > 0):
                best = value
        return best

    return handler


def _anonymous(it: _Interpreter, node: exp.Expr) -> SqlValue:
    name = str(node.name).lower()
    args = node.expressions
    if name == "email_domain":
        return email_domain(it.value(args[0]))
    if name == "is_valid_email":
        return email_well_formed(it.value(args[0]))
    if name == "has_word":
        return has_word(it.value(args[0]), [str(word.name) for word in args[1:]])
    raise _fail(f"function {name}() is not known to the Python evaluator")


def _literal(it: _Interpreter, node: exp.Expr) -> SqlValue:
    assert isinstance(node, exp.Literal)
    return literal_value(node)


def _placeholder(it: _Interpreter, node: exp.Expr) -> SqlValue:
    return it.resolve(str(node.name))


def _boolean(it: _Interpreter, node: exp.Expr) -> SqlValue:
    return bool(node.this)


def _null(it: _Interpreter, node: exp.Expr) -> SqlValue:
    return None


def _paren(it: _Interpreter, node: exp.Expr) -> SqlValue:
    return it.value(node.this)


Handler = Callable[[_Interpreter, exp.Expr], SqlValue]

_HANDLERS: MappingProxyType[type[exp.Expr], Handler] = MappingProxyType({
    exp.Placeholder: _placeholder,
    exp.Literal: _literal,
    exp.Boolean: _boolean, exp.Null: _null, exp.Paren: _paren,
    exp.And: _and, exp.Or: _or, exp.Not: _not,
    exp.EQ: _comparison(lambda order: order == 0),
    exp.NEQ: _comparison(lambda order: order != 0),
    exp.GT: _comparison(lambda order: order > 0),
    exp.GTE: _comparison(lambda order: order >= 0),
    exp.LT: _comparison(lambda order: order < 0),
    exp.LTE: _comparison(lambda order: order <= 0),
    exp.Is: _is, exp.In: _in, exp.Between: _between,
    exp.Like: _like(case_insensitive=False), exp.ILike: _like(case_insensitive=True),
    exp.Add: _binary, exp.Sub: _binary, exp.Mul: _binary, exp.Div: _binary, exp.Mod: _binary,
    exp.Neg: _neg, exp.Abs: _abs,
    exp.Case: _case, exp.If: _if,
    exp.Lower: _string_function("lower", str.lower),
    exp.Upper: _string_function("upper", str.upper),
    exp.Length: _string_function("length", len),
    exp.Trim: _string_function("trim", lambda text: text.strip(" ")),  # DuckDB trims spaces only
    exp.Contains: _string_test("contains", lambda text, part: part in text),
    exp.StartsWith: _string_test("starts_with", str.startswith),
    exp.EndsWith: _string_test("ends_with", str.endswith),
    exp.Coalesce: _coalesce,
    exp.Greatest: _extreme(1), exp.Least: _extreme(-1),
    exp.Anonymous: _anonymous,
})
"""Node type -> meaning. Everything a bound condition may hold; anything else is an error."""


def evaluate(tree: exp.Expr, resolve: Resolver) -> SqlValue:
    """The value of a bound condition tree (NULL as None), placeholders read through ``resolve``."""
    return _Interpreter(resolve).value(tree)


def holds(tree: exp.Expr, resolve: Resolver) -> bool:
    """A condition used as a trigger: true only when it evaluates to TRUE (NULL does not fire)."""
    return to_bool(evaluate(tree, resolve)) is True

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

from collections.abc import Callable
from types import MappingProxyType

from sqlglot import exp

from leadscore.backends.python_values import (
    Resolver,
    SqlValue,
    _arithmetic,
    _fail,
    _number,
    _text,
    compare,
    email_domain,
    email_well_formed,
    has_word,
    like,
    literal_value,
    sql_equal,
    to_bool,
    to_double,
    to_varchar,
)

# The values' public names stay importable from here, where callers have always found them.
__all__ = ["Resolver", "SqlValue", "compare", "email_domain", "email_well_formed", "evaluate", "has_word", "holds",
           "like", "literal_value", "sql_equal", "to_bool", "to_double", "to_varchar"]

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

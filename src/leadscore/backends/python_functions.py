"""Conditions in plain Python: bound sqlglot trees compiled to closures that mean what DuckDB means.

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

import re
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
from leadscore.compiler.expand import word_pattern

# The values' public names stay importable from here, where callers have always found them.
__all__ = ["Resolver", "SqlValue", "compare", "email_domain", "email_well_formed", "evaluate", "has_word", "holds",
           "like", "literal_value", "sql_equal", "to_bool", "to_double", "to_varchar"]

# ---------------------------------------------------------------------------------------------
# The compiler: a bound tree becomes a tree of closures, once per tree
# ---------------------------------------------------------------------------------------------

Compiled = Callable[[Resolver], SqlValue]
"""A condition ready to run: resolver in, SQL value out."""

_COMPILED = "leadscore.compiled_condition"


def compiled(tree: exp.Expr) -> Compiled:
    """The closure of a bound tree, built on first use and kept in the root node's ``meta``.

    Why closures and not a walk of the tree at each call: the service rescores a lead with every
    rule of the model for each event it receives, and walking sqlglot nodes (a handler look-up and
    a dict read per child per call) was most of that time. Building the closures does the walk
    once; running them calls exactly the helpers the walk called, so the meaning is unchanged."""
    found = tree.meta.get(_COMPILED)
    if found is None:
        found = tree.meta[_COMPILED] = _compile(tree)
    return found


def _compile(node: exp.Expr) -> Compiled:
    builder = _BUILDERS.get(type(node))
    if builder is None:
        raise _fail(f"{type(node).__name__} is not supported by the Python evaluator",
                    "the allow-list and the evaluator disagree: please report this")
    return builder(node)


def _truth(node: exp.Expr) -> Callable[[Resolver], bool | None]:
    value = _compile(node)
    return lambda resolve: to_bool(value(resolve))


def _connective(dominant: bool) -> Callable[[exp.Expr], Compiled]:
    """AND (``dominant`` False) and OR (True) in three-valued logic: the dominant value on either side
    wins, else NULL on either side gives NULL. Both sides are evaluated, as DuckDB may."""

    def build(node: exp.Expr) -> Compiled:
        left, right = _truth(node.this), _truth(node.expression)

        def run(resolve: Resolver) -> SqlValue:
            a, b = left(resolve), right(resolve)
            if a is dominant or b is dominant:
                return dominant
            return None if a is None or b is None else not dominant

        return run

    return build


def _not(node: exp.Expr) -> Compiled:
    inner = _truth(node.this)

    def run(resolve: Resolver) -> SqlValue:
        value = inner(resolve)
        return None if value is None else not value

    return run


def _comparison(test: Callable[[int], bool]) -> Callable[[exp.Expr], Compiled]:
    def build(node: exp.Expr) -> Compiled:
        left, right = _compile(node.this), _compile(node.expression)

        def run(resolve: Resolver) -> SqlValue:
            order = compare(left(resolve), right(resolve))
            return None if order is None else test(order)

        return run

    return build


def _negation(node: exp.Expr) -> Callable[[bool | None], bool | None]:
    if node.args.get("negate"):
        return lambda value: None if value is None else not value
    return lambda value: value


def _is(node: exp.Expr) -> Compiled:
    value = _compile(node.this)
    target = node.expression
    negated = _negation(node)
    if isinstance(target, exp.Null):
        return lambda resolve: negated(value(resolve) is None)
    if isinstance(target, exp.Boolean):
        wanted = bool(target.this)

        def run(resolve: Resolver) -> SqlValue:
            got = value(resolve)
            return negated(got is not None and to_bool(got) is wanted)

        return run
    raise _fail(f"IS {target.sql()} is not supported")


_EXACT_TYPES = (str, int)
"""Value types for which IN over literals of the same type is plain set membership (no casts)."""


def _in(node: exp.Expr) -> Compiled:
    if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
        raise _fail("IN takes a list of values here")
    value = _compile(node.this)
    items = [_compile(item) for item in node.expressions]
    literals = [literal_value(item) for item in node.expressions if isinstance(item, exp.Literal)]
    kinds = {type(item) for item in literals}
    exact: frozenset[SqlValue] | None = None
    exact_type: type | None = None
    if len(literals) == len(items) and len(kinds) == 1 and kinds <= set(_EXACT_TYPES):
        exact, exact_type = frozenset(literals), kinds.pop()

    def run(resolve: Resolver) -> SqlValue:
        found = value(resolve)
        if found is None:
            return None
        if exact is not None and type(found) is exact_type:  # same type, no NULLs: equality is ==
            return found in exact
        unknown = False
        for item in items:
            equal = sql_equal(found, item(resolve))
            if equal:
                return True
            unknown = unknown or equal is None
        return None if unknown else False

    return run


def _between(node: exp.Expr) -> Compiled:
    if node.args.get("symmetric"):
        raise _fail("BETWEEN SYMMETRIC is not supported")
    value, low_of, high_of = _compile(node.this), _compile(node.args["low"]), _compile(node.args["high"])

    def run(resolve: Resolver) -> SqlValue:
        found = value(resolve)
        low = compare(found, low_of(resolve))
        high = compare(found, high_of(resolve))
        above = None if low is None else low >= 0
        below = None if high is None else high <= 0
        if above is False or below is False:
            return False
        return None if above is None or below is None else True

    return run


def _like(case_insensitive: bool) -> Callable[[exp.Expr], Compiled]:
    name = "ilike" if case_insensitive else "like"

    def build(node: exp.Expr) -> Compiled:
        value_of, pattern_of = _compile(node.this), _compile(node.expression)
        negated = _negation(node)

        def run(resolve: Resolver) -> SqlValue:
            value, pattern = value_of(resolve), pattern_of(resolve)
            if value is None or pattern is None:
                return None
            return negated(like(_text(value, name), _text(pattern, name), case_insensitive=case_insensitive))

        return run

    return build


def _binary(node: exp.Expr) -> Compiled:
    kind = type(node)
    left, right = _compile(node.this), _compile(node.expression)
    return lambda resolve: _arithmetic(kind, left(resolve), right(resolve))


def _neg(node: exp.Expr) -> Compiled:
    inner = _compile(node.this)

    def run(resolve: Resolver) -> SqlValue:
        value = inner(resolve)
        return None if value is None else -_number(value, "-")

    return run


def _abs(node: exp.Expr) -> Compiled:
    inner = _compile(node.this)

    def run(resolve: Resolver) -> SqlValue:
        value = inner(resolve)
        if value is None:
            return None
        number = _number(value, "abs")
        return -number if number < 0 else number

    return run


def _case(node: exp.Expr) -> Compiled:
    subject = _compile(node.this) if node.this is not None else None
    branches = [(_compile(branch.this), _compile(branch.args["true"])) for branch in node.args.get("ifs") or []]
    default = _compile(node.args["default"]) if node.args.get("default") is not None else None

    def run(resolve: Resolver) -> SqlValue:
        for when, then in branches:
            hit = sql_equal(subject(resolve), when(resolve)) if subject is not None else to_bool(when(resolve))
            if hit:
                return then(resolve)
        return default(resolve) if default is not None else None

    return run


def _if(node: exp.Expr) -> Compiled:
    test, then = _truth(node.this), _compile(node.args["true"])
    otherwise = _compile(node.args["false"]) if node.args.get("false") is not None else None

    def run(resolve: Resolver) -> SqlValue:
        if test(resolve):
            return then(resolve)
        return otherwise(resolve) if otherwise is not None else None

    return run


def _string_function(name: str, apply: Callable[[str], SqlValue]) -> Callable[[exp.Expr], Compiled]:
    def build(node: exp.Expr) -> Compiled:
        inner = _compile(node.this)

        def run(resolve: Resolver) -> SqlValue:
            value = inner(resolve)
            return None if value is None else apply(_text(value, name))

        return run

    return build


def _string_test(name: str, test: Callable[[str, str], bool]) -> Callable[[exp.Expr], Compiled]:
    def build(node: exp.Expr) -> Compiled:
        left, right = _compile(node.this), _compile(node.expression)

        def run(resolve: Resolver) -> SqlValue:
            value, other = left(resolve), right(resolve)
            if value is None or other is None:
                return None
            return test(_text(value, name), _text(other, name))

        return run

    return build


def _arguments(node: exp.Expr) -> list[Compiled]:
    return [_compile(argument) for argument in (node.this, *node.expressions)]


def _coalesce(node: exp.Expr) -> Compiled:
    arguments = _arguments(node)

    def run(resolve: Resolver) -> SqlValue:
        for argument in arguments:
            value = argument(resolve)
            if value is not None:
                return value
        return None

    return run


def _extreme(sign: int) -> Callable[[exp.Expr], Compiled]:
    """GREATEST/LEAST skip NULLs in DuckDB; NULL only when every argument is NULL."""

    def build(node: exp.Expr) -> Compiled:
        arguments = _arguments(node)

        def run(resolve: Resolver) -> SqlValue:
            best: SqlValue = None
            for argument in arguments:
                value = argument(resolve)
                if value is not None and (best is None or (compare(value, best) or 0) * sign > 0):
                    best = value
            return best

        return run

    return build


def _anonymous(node: exp.Expr) -> Compiled:
    name = str(node.name).lower()
    args = node.expressions
    if name in ("email_domain", "is_valid_email"):
        inner = _compile(args[0])
        test = email_domain if name == "email_domain" else email_well_formed
        return lambda resolve: test(inner(resolve))
    if name == "has_word":
        text_of = _compile(args[0])
        pattern = re.compile(word_pattern([str(word.name) for word in args[1:]]), flags=re.ASCII)

        def run(resolve: Resolver) -> SqlValue:
            value = text_of(resolve)
            return False if value is None else pattern.search(_text(value, "has_word")) is not None

        return run
    raise _fail(f"function {name}() is not known to the Python evaluator")


def _literal(node: exp.Expr) -> Compiled:
    assert isinstance(node, exp.Literal)
    value = literal_value(node)
    return lambda resolve: value


def _placeholder(node: exp.Expr) -> Compiled:
    key = str(node.name)
    return lambda resolve: resolve(key)


def _constant(node: exp.Expr) -> Compiled:
    value: SqlValue = bool(node.this) if isinstance(node, exp.Boolean) else None
    return lambda resolve: value


def _paren(node: exp.Expr) -> Compiled:
    return _compile(node.this)


Builder = Callable[[exp.Expr], Compiled]

_BUILDERS: MappingProxyType[type[exp.Expr], Builder] = MappingProxyType({
    exp.Placeholder: _placeholder,
    exp.Literal: _literal,
    exp.Boolean: _constant, exp.Null: _constant, exp.Paren: _paren,
    exp.And: _connective(False), exp.Or: _connective(True), exp.Not: _not,
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
"""Node type -> how to build its closure. Everything a bound condition may hold; anything else is an error."""


def evaluate(tree: exp.Expr, resolve: Resolver) -> SqlValue:
    """The value of a bound condition tree (NULL as None), placeholders read through ``resolve``."""
    return compiled(tree)(resolve)


def holds(tree: exp.Expr, resolve: Resolver) -> bool:
    """A condition used as a trigger: true only when it evaluates to TRUE (NULL does not fire)."""
    return to_bool(compiled(tree)(resolve)) is True

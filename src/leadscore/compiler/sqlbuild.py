"""Small builders for sqlglot trees: quoted identifiers, literals, clamps, filtered aggregates.

Values always go through ``exp.convert``/``exp.Literal`` and names through quoted identifiers:
SQL is never assembled from strings that came from a model file or data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlglot import exp

US_PER_DAY = 86_400_000_000


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def lit(value: object) -> exp.Expr:
    return exp.convert(value)


def num(value: float) -> exp.Expr:
    """A float literal that stays a DOUBLE in every engine (so sums never become DECIMAL)."""
    return exp.cast(exp.Literal.number(repr(float(value))), exp.DataType.build("DOUBLE"))


def alias(expression: exp.Expr, name: str) -> exp.Expr:
    return exp.alias_(expression, name, quoted=True)


def and_all(parts: Sequence[exp.Expr]) -> exp.Expr:
    if not parts:
        return exp.true()
    return exp.and_(*[exp.paren(p) if isinstance(p, exp.Or) else p for p in parts])


def or_all(parts: Sequence[exp.Expr]) -> exp.Expr:
    if not parts:
        return exp.false()
    return exp.or_(*[exp.paren(p) for p in parts])


def true_or_false(condition: exp.Expr) -> exp.Expr:
    """NULL counts as false, as in every rule condition."""
    return exp.Coalesce(this=exp.paren(condition), expressions=[exp.false()])


def case_when(whens: Iterable[tuple[exp.Expr, exp.Expr]], default: exp.Expr | None
              ) -> exp.Expr:
    """CASE WHEN ... built in one go: ``Case.when`` copies the growing CASE on every branch,
    quadratic for the long CASEs of value maps and reason picks. A branch already placed in a
    tree is copied, so no node ever sits in two places."""
    def own(node: exp.Expr) -> exp.Expr:
        return node.copy() if node.parent is not None else node

    ifs = [exp.If(this=own(condition), true=own(value)) for condition, value in whens]
    return exp.Case(ifs=ifs, default=own(default) if default is not None else None)


def clamp(value: exp.Expr, floor: float | None, cap: float | None) -> exp.Expr:
    result = value
    if floor is not None:
        result = exp.Greatest(this=result, expressions=[num(floor)])
    if cap is not None:
        result = exp.Least(this=result, expressions=[num(cap)])
    return result


def add_all(parts: Sequence[exp.Expr]) -> exp.Expr:
    if not parts:
        return num(0.0)
    total = parts[0]
    for part in parts[1:]:
        total = exp.Add(this=total, expression=part)
    return exp.paren(total) if len(parts) > 1 else total


def filtered(aggregate: exp.Expr, condition: exp.Expr) -> exp.Expr:
    return exp.Filter(this=aggregate, expression=exp.Where(this=condition))


def age_days(ts: exp.Expr, as_of: exp.Expr) -> exp.Expr:
    """(as_of - ts) in days as a DOUBLE, from the exact microsecond difference."""
    diff = exp.DateDiff(this=as_of, expression=ts, unit=exp.var("MICROSECOND"))
    return exp.Div(this=exp.cast(diff, exp.DataType.build("DOUBLE")), expression=num(US_PER_DAY))


def timestamp_literal(value: str) -> exp.Expr:
    return exp.cast(exp.Literal.string(value), exp.DataType.build("TIMESTAMP"))

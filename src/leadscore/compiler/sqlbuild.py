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


def lit(value: object) -> exp.Expression:
    return exp.convert(value)


def num(value: float) -> exp.Expression:
    """A float literal that stays a DOUBLE in every engine (so sums never become DECIMAL)."""
    return exp.cast(exp.Literal.number(repr(float(value))), exp.DataType.build("DOUBLE"))


def alias(expression: exp.Expression, name: str) -> exp.Alias:
    return exp.alias_(expression, name, quoted=True)


def and_all(parts: Sequence[exp.Expression]) -> exp.Expression:
    if not parts:
        return exp.true()
    return exp.and_(*[exp.paren(p) if isinstance(p, exp.Or) else p for p in parts])


def or_all(parts: Sequence[exp.Expression]) -> exp.Expression:
    if not parts:
        return exp.false()
    return exp.or_(*[exp.paren(p) for p in parts])


def true_or_false(condition: exp.Expression) -> exp.Expression:
    """NULL counts as false, as in every rule condition."""
    return exp.Coalesce(this=exp.paren(condition), expressions=[exp.false()])


def case_when(whens: Iterable[tuple[exp.Expression, exp.Expression]], default: exp.Expression | None
              ) -> exp.Expression:
    case = exp.Case()
    for condition, value in whens:
        case = case.when(condition, value)
    if default is not None:
        case = case.else_(default)
    return case


def clamp(value: exp.Expression, floor: float | None, cap: float | None) -> exp.Expression:
    result = value
    if floor is not None:
        result = exp.Greatest(this=result, expressions=[num(floor)])
    if cap is not None:
        result = exp.Least(this=result, expressions=[num(cap)])
    return result


def add_all(parts: Sequence[exp.Expression]) -> exp.Expression:
    if not parts:
        return num(0.0)
    total = parts[0]
    for part in parts[1:]:
        total = exp.Add(this=total, expression=part)
    return exp.paren(total) if len(parts) > 1 else total


def filtered(aggregate: exp.Expression, condition: exp.Expression) -> exp.Expression:
    return exp.Filter(this=aggregate, expression=exp.Where(this=condition))


def age_days(ts: exp.Expression, as_of: exp.Expression) -> exp.Expression:
    """(as_of - ts) in days as a DOUBLE, from the exact microsecond difference."""
    diff = exp.DateDiff(this=as_of, expression=ts, unit=exp.var("MICROSECOND"))
    return exp.Div(this=exp.cast(diff, exp.DataType.build("DOUBLE")), expression=num(US_PER_DAY))


def timestamp_literal(value: str) -> exp.Expression:
    return exp.cast(exp.Literal.string(value), exp.DataType.build("TIMESTAMP"))

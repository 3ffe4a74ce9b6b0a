"""Bound condition -> plain SQL tree: placeholders resolved, leadscore functions expanded.

Each leadscore function has exactly one SQL meaning here and one Python meaning in
``backends.python.functions``; tests hold the two to the same answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from leadscore.compiler.conditions import BoundCondition
from leadscore.compiler.dialects import NULLS_IGNORED
from leadscore.compiler.sqlbuild import case_when, lit, true_or_false

Resolver = Callable[[str], exp.Expr]
"""Maps a placeholder key (``lead:email``, ``agg:count:intent:30.0``...) to a SQL expression."""


def word_pattern(words: list[str]) -> str:
    """Case-insensitive whole-word regex; word characters are [A-Za-z0-9_] (RE2 and Python ASCII)."""
    return r"(?i)\b(" + "|".join(re.escape(w) for w in words) + r")\b"


def email_domain_sql(value: exp.Expr) -> exp.Expr:
    after_at = exp.SplitPart(this=value.copy(), delimiter=lit("@"), part_index=lit(2))
    return case_when([(email_well_formed_sql(value), exp.Lower(this=after_at))], None)


def email_well_formed_sql(value: exp.Expr) -> exp.Expr:
    """Exactly one '@' and a '.' after it (a NULL email is not well-formed)."""
    at_count = exp.Sub(
        this=exp.Length(this=value.copy()),
        expression=exp.Length(this=exp.Anonymous(this="REPLACE", expressions=[value.copy(), lit("@"),
                                                                               lit("")])),
    )
    after_at = exp.SplitPart(this=value.copy(), delimiter=lit("@"), part_index=lit(2))
    dot = exp.GT(this=exp.StrPosition(this=after_at, substr=lit(".")), expression=lit(0))
    return exp.and_(exp.EQ(this=at_count, expression=lit(1)), dot)


def has_word_sql(value: exp.Expr, words: list[str]) -> exp.Expr:
    return true_or_false(exp.RegexpLike(this=value, expression=lit(word_pattern(words))))


def condition_sql(bound: BoundCondition, resolve: Resolver) -> exp.Expr:
    """The SQL tree of a bound condition, with every placeholder and function replaced."""

    def place(node: exp.Expr) -> exp.Expr:
        return resolve(str(node.name)) if isinstance(node, exp.Placeholder) else node

    def visit(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            args = node.expressions
            if name == "email_domain":
                return exp.paren(email_domain_sql(args[0]))
            if name == "is_valid_email":
                return true_or_false(email_well_formed_sql(args[0]))
            if name == "has_word":
                return has_word_sql(args[0], [a.name for a in args[1:]])
        if isinstance(node, exp.Greatest | exp.Least):
            node.meta[NULLS_IGNORED] = True  # a model's GREATEST skips NULLs, as DuckDB's does
        return node

    # Placeholders first, then functions, innermost first: in has_word(email_domain(email), ...)
    # the inner call must already be SQL when the outer one is expanded around it (a top-down
    # transform would not visit the replacement's children, and DuckDB would be asked for
    # email_domain()). Reversed breadth-first order visits every child before its parent.
    placed = bound.tree.copy().transform(place, copy=False)
    for node in reversed(list(placed.walk())):
        replacement = visit(node)
        if replacement is node:
            continue
        if node is placed:
            placed = replacement
        else:
            node.replace(replacement)
    return placed


def predicate_sql(bound: BoundCondition, resolve: Resolver) -> exp.Expr:
    """A condition used as a rule trigger: NULL means the rule does not fire."""
    return true_or_false(condition_sql(bound, resolve))

"""Per-dialect differences in one table: node type -> rewrite, per target dialect.

The compiler builds one sqlglot tree, spelled the way DuckDB (the reference engine) means it.
sqlglot already translates most nodes between engines; this module rewrites the few whose
*meaning* sqlglot's generator would change or cannot express for an engine, before generation
(as sqlglot's ``TRANSFORMS`` and ibis's ``SIMPLE_OPS`` tables do):

- time arithmetic (``UnixMicros``, ``DateDiff`` in microseconds, ``UnixToTime``), exact to the
  microsecond in every engine;
- ``has_word``'s regex: DuckDB's ``\\b`` is RE2's ASCII word boundary, Postgres spells ``\\b``
  as backspace, Java's ``\\b`` knows Unicode letters and Snowflake anchors ``REGEXP_LIKE``; every
  other engine gets an explicit ``[^A-Za-z0-9_]`` boundary, which is what the Python evaluator does;
- the account reasons (``list_filter`` with a lambda), ordered and distinct ``ARRAY_AGG`` (Spark's
  ``collect_list`` has no order; empty aggregates are NULL in DuckDB, ``[]`` elsewhere);
- division (Snowflake divides integers into a 6-decimal NUMBER), ``GREATEST``/``LEAST`` (NULLs are
  ignored by DuckDB, Postgres and Spark; BigQuery returns NULL), ``CONTAINS``/``ENDS_WITH``.

Templates are constant SQL text parsed in the target dialect; ``_0``, ``_1``... stand for the
node's arguments. Nothing here formats user values into SQL. A construct a dialect cannot express
raises ``UnsupportedConstruct``; ``generate`` turns any failure into that one exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

DIALECTS: tuple[str, ...] = ("duckdb", "postgres", "spark", "snowflake", "bigquery")
"""Dialects ``leadscore sql`` can write. DuckDB is the reference: its tree is not rewritten."""

NULLS_IGNORED = "leadscore_nulls_ignored"
"""Meta flag on GREATEST/LEAST nodes written in a model condition: NULL arguments are skipped
(DuckDB's meaning), so engines that return NULL instead need a rewrite."""

WORD_PREFIX, WORD_SUFFIX = "(?i)\\b(", ")\\b"
"""``expand.word_pattern``'s fixed frame around the escaped alternation of words."""

BOUNDARY_BEFORE, BOUNDARY_AFTER = "(^|[^A-Za-z0-9_])(", ")([^A-Za-z0-9_]|$)"


class UnsupportedConstruct(Exception):
    """A dialect cannot express a construct with the meaning leadscore gives it."""

    def __init__(self, construct: str, dialect: str, hint: str | None = None) -> None:
        super().__init__(f"{construct} cannot be expressed in {dialect}")
        self.construct = construct
        self.dialect = dialect
        self.hint = hint


Rewrite = Callable[[exp.Expr], exp.Expr]


def template(text: str, dialect: str, *args: exp.Expr) -> exp.Expr:
    """Parse constant SQL ``text`` in ``dialect`` and put ``args`` where ``_0``, ``_1``... stand."""
    tree = sqlglot.parse_one(text, read=dialect)

    def place(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and re.fullmatch(r"_\d+", node.name):
            return args[int(node.name[1:])].copy()
        return node

    return tree.transform(place, copy=False)


# --- time -------------------------------------------------------------------------------------

def _micros(dialect: str) -> str:
    return {"postgres": "CAST(EXTRACT(EPOCH FROM _0) * 1000000 AS BIGINT)",
            "snowflake": "DATE_PART(EPOCH_MICROSECOND, _0)"}.get(dialect, "UNIX_MICROS(_0)")


def _unix_micros(dialect: str) -> Rewrite:
    return lambda node: template(_micros(dialect), dialect, node.this)


def _date_diff_micros(dialect: str) -> Rewrite:
    """DATE_DIFF('MICROSECOND', a, b) as the exact difference of epoch microseconds."""

    def rewrite(node: exp.Expr) -> exp.Expr:
        unit = node.args.get("unit")
        if unit is None or unit.name.upper() != "MICROSECOND":
            raise UnsupportedConstruct(f"DATE_DIFF in {unit.name if unit else 'days'}", dialect)
        later, earlier = node.this, node.expression
        return exp.paren(exp.Sub(this=template(_micros(dialect), dialect, later),
                                 expression=template(_micros(dialect), dialect, earlier)))

    return rewrite


def _postgres_from_micros(node: exp.Expr) -> exp.Expr:
    if node.args.get("scale") != exp.UnixToTime.MICROS:
        raise UnsupportedConstruct("a Unix time not in microseconds", "postgres")
    # TO_TIMESTAMP(double) rounds through seconds as a float; interval arithmetic is exact.
    return exp.paren(template("CAST('1970-01-01 00:00:00' AS TIMESTAMP) + _0 * INTERVAL '1 MICROSECOND'",
                              "postgres", node.this))


def _bigquery_cast(node: exp.Expr) -> exp.Expr:
    """BigQuery's TIMESTAMP is the UTC instant (DATETIME would not compare with TIMESTAMP columns)."""
    to = node.args.get("to")
    if isinstance(to, exp.DataType) and to.this == exp.DataType.Type.TIMESTAMP:
        node.set("to", exp.DataType.build("TIMESTAMPTZ"))
    return node


# --- text -------------------------------------------------------------------------------------

def _word_alternation(pattern: exp.Expr, dialect: str) -> str:
    text = pattern.name if isinstance(pattern, exp.Literal) and pattern.is_string else None
    if text is None or not (text.startswith(WORD_PREFIX) and text.endswith(WORD_SUFFIX)):
        raise UnsupportedConstruct("a regular expression other than has_word()'s", dialect)
    return text[len(WORD_PREFIX):-len(WORD_SUFFIX)]


def _has_word(dialect: str) -> Rewrite:
    def rewrite(node: exp.Expr) -> exp.Expr:
        words = _word_alternation(node.expression, dialect)
        bounded = exp.Literal.string(BOUNDARY_BEFORE + words + BOUNDARY_AFTER)
        if dialect == "postgres":
            return exp.RegexpILike(this=node.this, expression=bounded)
        if dialect == "snowflake":  # REGEXP_LIKE anchors at both ends; REGEXP_INSTR does not
            return exp.paren(template("REGEXP_INSTR(_0, _1, 1, 1, 0, 'i') > 0", dialect, node.this, bounded))
        return exp.RegexpLike(this=node.this, expression=exp.Literal.string("(?i)" + bounded.name))

    return rewrite


def _position_contains(dialect: str) -> Rewrite:
    """CONTAINS(a, b) as 'b occurs in a' (BigQuery's CONTAINS_SUBSTR ignores case; Postgres has none)."""
    return lambda node: exp.paren(template("STRPOS(_0, _1) > 0", dialect, node.this, node.expression))


def _postgres_ends_with(node: exp.Expr) -> exp.Expr:
    return exp.paren(template("RIGHT(_0, LENGTH(_1)) = _1", "postgres", node.this, node.expression))


def _split_part_bigquery(node: exp.Expr) -> exp.Expr:
    index = node.args["part_index"]
    if not (isinstance(index, exp.Literal) and index.is_int):
        raise UnsupportedConstruct("SPLIT_PART with a computed index", "bigquery")
    # SAFE_OFFSET gives NULL past the end where SPLIT_PART gives ''; callers guard the index.
    return template(f"SPLIT(_0, _1)[SAFE_OFFSET({int(index.name) - 1})]", "bigquery",
                    node.this, node.args["delimiter"])


def _postgres_subquery_alias(node: exp.Expr) -> exp.Expr:
    """Postgres before 16 needs an alias on every subquery in FROM."""
    if isinstance(node.parent, exp.From | exp.Join) and not node.alias:
        node.set("alias", exp.TableAlias(this=exp.to_identifier("_sub")))
    return node


def _star_of_driving_table(node: exp.Expr) -> exp.Expr:
    """``SELECT *`` over a join: the compiler joins only to compute new columns, and means the driving
    table's columns (DuckDB lets the joined key appear twice; other engines then call it ambiguous)."""
    from_ = node.args.get("from_") or node.args.get("from")
    if not node.args.get("joins") or from_ is None:
        return node
    driving = from_.this.alias_or_name
    node.set("expressions", [exp.Column(this=exp.Star(), table=exp.to_identifier(driving))
                             if isinstance(e, exp.Star) else e for e in node.expressions])
    return node


def _bigquery_identifier(node: exp.Expr) -> exp.Expr:
    """BigQuery reads a '.' inside a quoted column name as a path: internal names such as
    ``agg__agg:count:intent:30.0`` get '_' instead (every reference is renamed alike)."""
    if "." in node.name:
        return exp.Identifier(this=node.name.replace(".", "_"), quoted=True)
    return node


def _postgres_materialized(node: exp.Expr) -> exp.Expr:
    """Postgres inlines a CTE used once, substituting its expressions into the next one; along the
    lead query's chain of CTEs (each reading the columns of the one before, many times over) the
    planner's expressions then grow without bound. Materialising each step keeps them flat."""
    node.set("materialized", True)
    return node


# --- arithmetic -------------------------------------------------------------------------------

def _snowflake_div(node: exp.Expr) -> exp.Expr:
    """Snowflake divides integers into NUMBER with 6 decimals; DuckDB's '/' is a DOUBLE division."""
    left = node.this
    if not (isinstance(left, exp.Cast) and left.to.this == exp.DataType.Type.DOUBLE):
        node.set("this", exp.cast(left, exp.DataType.build("DOUBLE")))
    return node


def _bigquery_mod(node: exp.Expr) -> exp.Expr:
    for operand in (node.this, node.expression):
        if isinstance(operand, exp.Literal) and not operand.is_string and not operand.is_int:
            raise UnsupportedConstruct("'%' with a fractional operand", "bigquery",
                                       "BigQuery's MOD takes integers only; use whole numbers")
    return node


def _bigquery_nulls_ignored(node: exp.Expr) -> exp.Expr:
    """GREATEST/LEAST over the non-NULL arguments: each argument falls back to the others."""
    if not node.meta.get(NULLS_IGNORED):
        return node  # built by the compiler from values that are never NULL
    args = [node.this, *node.expressions]
    fallbacks = []
    for index, arg in enumerate(args):
        others = [a.copy() for i, a in enumerate(args) if i != index]
        fallbacks.append(exp.Coalesce(this=arg.copy(), expressions=others) if others else arg.copy())
    return type(node)(this=fallbacks[0], expressions=fallbacks[1:])


# --- arrays (account reasons, top leads, committee roles) ---------------------------------------

def _reason_items(node: exp.Expr) -> list[tuple[exp.Expr, exp.Expr]]:
    """The (rule, points) pairs of the account query's ``list_filter([{rule, points}...], ...)``."""
    array = node.expressions[0]
    pairs = []
    for struct in array.expressions:
        fields = {prop.this.name: prop.expression for prop in struct.expressions}
        pairs.append((fields["rule"], fields["points"]))
    return pairs


def _nonzero_items(dialect: str) -> Rewrite:
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Anonymous) or node.name.lower() != "list_filter":
            return node
        pairs = _reason_items(node)
        if dialect == "postgres":
            objects = [template("JSONB_BUILD_OBJECT('rule', _0, 'points', _1)", dialect, rule, points)
                       for rule, points in pairs]
            return exp.Anonymous(this="JSONB_PATH_QUERY_ARRAY", expressions=[
                exp.Anonymous(this="JSONB_BUILD_ARRAY", expressions=objects),
                exp.Literal.string("$[*] ? (@.points != 0)")])
        structs = [exp.Struct(expressions=[
            exp.PropertyEQ(this=exp.to_identifier("rule"), expression=rule.copy()),
            exp.PropertyEQ(this=exp.to_identifier("points"), expression=points.copy())]) for rule, points in pairs]
        item = exp.to_identifier("x")
        points_of_x: exp.Expr = exp.Dot(this=exp.column("x"), expression=exp.to_identifier("points"))
        if dialect == "snowflake":
            points_of_x = template("GET(x, 'points')", dialect)
        return exp.ArrayFilter(this=exp.Array(expressions=structs), expression=exp.Lambda(
            this=exp.NEQ(this=points_of_x, expression=exp.Literal.number(0)), expressions=[item]))

    return rewrite


def _aggregate_parts(node: exp.Expr) -> tuple[exp.Expr, exp.Expr | None]:
    """(aggregate, filter condition or None) of ``agg`` or ``agg FILTER (WHERE cond)``."""
    if isinstance(node, exp.Filter):
        return node.this, node.expression.this
    return node, None


def _null_if_empty(array: exp.Expr, dialect: str) -> exp.Expr:
    """DuckDB's ARRAY_AGG over no rows is NULL; Spark, Snowflake and BigQuery give an empty array."""
    return template("CASE WHEN ARRAY_SIZE(_0) > 0 THEN _0 END", "duckdb", array)


def _spark_filter(node: exp.Expr) -> exp.Expr:
    """collect_list keeps no order: sort (key, value) structs, then keep the values."""
    aggregate, condition = _aggregate_parts(node)
    if not (isinstance(aggregate, exp.ArrayAgg) and isinstance(aggregate.this, exp.Order)):
        return node
    value, key = aggregate.this.this, aggregate.this.expressions[0].this
    pairs = exp.ArrayAgg(this=exp.Struct(expressions=[
        exp.PropertyEQ(this=exp.to_identifier("k"), expression=key.copy()),
        exp.PropertyEQ(this=exp.to_identifier("v"), expression=value.copy())]))
    collected = exp.Filter(this=pairs, expression=exp.Where(this=condition.copy())) if condition else pairs
    return template("TRANSFORM(ARRAY_SORT(_0), p -> p.v)", "spark", collected)


def _sorted_distinct(dialect: str) -> Rewrite:
    def rewrite(node: exp.Expr) -> exp.Expr:
        aggregate, condition = _aggregate_parts(node.this)
        if not (isinstance(aggregate, exp.ArrayAgg) and isinstance(aggregate.this, exp.Distinct)):
            raise UnsupportedConstruct("ARRAY_SORT of anything but a distinct ARRAY_AGG", dialect)
        value = aggregate.this.expressions[0]
        if dialect == "postgres":  # byte order, as DuckDB sorts text, whatever the database's collation
            sorted_agg = template('ARRAY_AGG(DISTINCT _0 COLLATE "C" ORDER BY _0 COLLATE "C")', dialect, value)
            return exp.Filter(this=sorted_agg, expression=exp.Where(this=condition)) if condition else sorted_agg
        if dialect == "bigquery":
            kept = exp.If(this=condition, true=value, false=exp.Null()) if condition else value
            inner = template("ARRAY_AGG(DISTINCT _0 IGNORE NULLS)", dialect, kept)
            return _null_if_empty(template("ARRAY(SELECT r FROM UNNEST(_0) AS r ORDER BY r)", dialect, inner),
                                  dialect)
        return _null_if_empty(node, dialect)

    return rewrite


def _bigquery_filter(node: exp.Expr) -> exp.Expr:
    """ARRAY_AGG must skip NULLs in BigQuery (a NULL element is an error) and keep its ORDER BY."""
    aggregate, condition = _aggregate_parts(node)
    if not (isinstance(aggregate, exp.ArrayAgg) and isinstance(aggregate.this, exp.Order)):
        return node
    value, key = aggregate.this.this, aggregate.this.expressions[0].this
    kept = exp.If(this=condition, true=value, false=exp.Null()) if condition else value
    return template("ARRAY_AGG(_0 IGNORE NULLS ORDER BY _1)", "bigquery", kept, key)


# --- the table ----------------------------------------------------------------------------------

REWRITES: Mapping[str, Mapping[type[exp.Expr], Rewrite]] = MappingProxyType({
    "duckdb": MappingProxyType({}),
    "postgres": MappingProxyType({
        exp.Select: _star_of_driving_table,
        exp.UnixMicros: _unix_micros("postgres"),
        exp.DateDiff: _date_diff_micros("postgres"),
        exp.UnixToTime: _postgres_from_micros,
        exp.RegexpLike: _has_word("postgres"),
        exp.Contains: _position_contains("postgres"),
        exp.EndsWith: _postgres_ends_with,
        exp.Anonymous: _nonzero_items("postgres"),
        exp.ArraySort: _sorted_distinct("postgres"),
        exp.Subquery: _postgres_subquery_alias,
        exp.CTE: _postgres_materialized,
    }),
    "spark": MappingProxyType({
        exp.Select: _star_of_driving_table,
        exp.DateDiff: _date_diff_micros("spark"),
        exp.RegexpLike: _has_word("spark"),
        exp.Anonymous: _nonzero_items("spark"),
        exp.Filter: _spark_filter,
        exp.ArraySort: _sorted_distinct("spark"),
    }),
    "snowflake": MappingProxyType({
        exp.Select: _star_of_driving_table,
        exp.UnixMicros: _unix_micros("snowflake"),
        exp.DateDiff: _date_diff_micros("snowflake"),
        exp.RegexpLike: _has_word("snowflake"),
        exp.Div: _snowflake_div,
        exp.Anonymous: _nonzero_items("snowflake"),
        exp.ArraySort: _sorted_distinct("snowflake"),
    }),
    "bigquery": MappingProxyType({
        exp.Identifier: _bigquery_identifier,
        exp.Select: _star_of_driving_table,
        exp.DateDiff: _date_diff_micros("bigquery"),
        exp.Cast: _bigquery_cast,
        exp.RegexpLike: _has_word("bigquery"),
        exp.Contains: _position_contains("bigquery"),
        exp.SplitPart: _split_part_bigquery,
        exp.Mod: _bigquery_mod,
        exp.Greatest: _bigquery_nulls_ignored,
        exp.Least: _bigquery_nulls_ignored,
        exp.Anonymous: _nonzero_items("bigquery"),
        exp.Filter: _bigquery_filter,
        exp.ArraySort: _sorted_distinct("bigquery"),
    }),
})
"""dialect -> node type -> rewrite. A node type absent here is generated by sqlglot as it is."""


def check_dialect(dialect: str) -> str:
    name = dialect.lower()
    if name not in REWRITES:
        raise UnsupportedConstruct(f"dialect {dialect!r}", dialect,
                                   "dialects: " + ", ".join(DIALECTS))
    return name


def to_dialect(tree: exp.Expr, dialect: str) -> exp.Expr:
    """A copy of ``tree`` with every node the dialect needs rewritten (children first)."""
    table = REWRITES[check_dialect(dialect)]
    if not table:
        return tree.copy()
    return _rewrite(tree.copy(), table)


def _rewrite(node: exp.Expr, table: Mapping[type[exp.Expr], Rewrite]) -> exp.Expr:
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expr):
            node.set(key, _rewrite(value, table))
        elif isinstance(value, list):
            node.set(key, [_rewrite(v, table) if isinstance(v, exp.Expr) else v for v in value])
    rewrite = table.get(type(node))
    return rewrite(node) if rewrite is not None else node


def generate(tree: exp.Expr, dialect: str, *, pretty: bool = True) -> str:
    """SQL text of ``tree`` for ``dialect``; anything sqlglot cannot express raises, never passes."""
    rewritten = to_dialect(tree, dialect)
    try:
        return rewritten.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnsupportedConstruct(message, dialect) from exc


__all__ = ["DIALECTS", "NULLS_IGNORED", "REWRITES", "UnsupportedConstruct", "check_dialect", "generate",
           "template", "to_dialect"]

"""The DuckDB engine's rewrite of the events pass's type code into a list look-up means the same."""

from __future__ import annotations

import duckdb
import sqlglot

from leadscore.backends.duckdb_engine import type_codes_by_position

PORTABLE = ("SELECT CASE \"type\" WHEN 'a' THEN 1 WHEN 'b' THEN 2 WHEN 'c''d' THEN 3 ELSE 0 END AS \"__type_code\" "
            "FROM t ORDER BY rowid")


def test_the_list_look_up_gives_the_case_s_code_for_every_value_null_included() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('a'), ('b'), ('c''d'), ('zz'), (NULL), ('A'), ('')) v(type)")
    rewritten = type_codes_by_position(sqlglot.parse_one(PORTABLE, read="duckdb"))
    assert "LIST_POSITION" in rewritten.sql("duckdb")
    expected = con.execute(PORTABLE).fetchall()
    assert con.execute(rewritten.sql("duckdb")).fetchall() == expected == [(1,), (2,), (3,), (0,), (0,), (0,), (0,)]


def test_other_shapes_are_left_as_they_are() -> None:
    for sql in ("SELECT CASE \"type\" WHEN 'a' THEN 2 WHEN 'b' THEN 1 ELSE 0 END AS \"__type_code\" FROM t",
                "SELECT CASE \"type\" WHEN 'a' THEN 1 ELSE 9 END AS \"__type_code\" FROM t",
                "SELECT CASE WHEN \"type\" = 'a' THEN 1 ELSE 0 END AS \"__type_code\" FROM t",
                "SELECT CASE \"type\" WHEN 'a' THEN 1 ELSE 0 END AS other FROM t"):
        tree = sqlglot.parse_one(sql, read="duckdb")
        before = tree.sql("duckdb")
        assert type_codes_by_position(tree).sql("duckdb") == before


def test_the_rank_look_up_gives_the_case_s_rank_for_every_code_null_included() -> None:
    from leadscore.backends.duckdb_engine import code_rank_lookups

    portable = ("SELECT CASE \"__type_code\" WHEN 1 THEN 0 WHEN 3 THEN 1 WHEN 4 THEN 2 END AS rank "
                "FROM t ORDER BY rowid")
    con = duckdb.connect()
    # __type_code is the engine's own column: 0 (a type no rule names) up to the number of types.
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (0), (1), (2), (3), (4), (5), (NULL)) v(__type_code)")
    rewritten = code_rank_lookups(sqlglot.parse_one(portable, read="duckdb"))
    assert "LIST_EXTRACT" in rewritten.sql("duckdb")
    expected = con.execute(portable).fetchall()
    assert con.execute(rewritten.sql("duckdb")).fetchall() == expected
    assert expected == [(None,), (0,), (None,), (1,), (2,), (None,), (None,)]
    with_default = "SELECT CASE \"__type_code\" WHEN 1 THEN 0 ELSE 5 END AS rank FROM t"
    assert code_rank_lookups(sqlglot.parse_one(with_default, read="duckdb")).sql("duckdb") == \
        sqlglot.parse_one(with_default, read="duckdb").sql("duckdb")

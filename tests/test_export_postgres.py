"""The exported Postgres SQL, run on a real PostgreSQL server, scores exactly as DuckDB does."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pyarrow.parquet as pq
import pytest
from psycopg.rows import dict_row

import leadscore
from conftest import BUNDLED_MODEL, REFERENCE_MODEL
from export_support import PostgresServer, compare_rows, keyed, load_postgres_table
from leadscore.backends import duckdb_engine

AS_OF = datetime(2026, 6, 30)


@pytest.fixture(scope="module")
def synth_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from leadscore.synth import generate_funnel

    folder = tmp_path_factory.mktemp("synth") / "data"
    generate_funnel(400, seed=3).write(folder)
    return folder


def duckdb_scores(model: Path, data: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    session = duckdb_engine.run_scoring(leadscore.load_model(model), data, as_of=AS_OF)
    try:
        leads = session.con.sql("SELECT * FROM lead_scores").to_arrow_table().to_pylist()
        accounts = session.con.sql("SELECT * FROM account_scores").to_arrow_table().to_pylist()
    finally:
        session.close()
    return leads, accounts


def postgres_scores(server: PostgresServer, model: Path, data: Path, schema: str
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    exported = leadscore.export_sql(model, dialect="postgres", as_of=AS_OF,
                                    tables=f"leads={schema}.leads,events={schema}.events,"
                                           f"accounts={schema}.accounts,lead_scores={schema}.lead_scores")
    with psycopg.connect(server.conninfo(), autocommit=True, row_factory=dict_row) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        con.execute(f'CREATE SCHEMA "{schema}"')
        con.execute(f'SET search_path = "{schema}"')
        for name in ("leads", "events", "accounts"):
            load_postgres_table(con, name, pq.read_table(data / f"{name}.parquet"))
        con.execute(f'CREATE TABLE "{schema}".lead_scores AS {exported.lead_scores}')
        leads = con.execute(f'SELECT * FROM "{schema}".lead_scores').fetchall()
        accounts = con.execute(exported.account_scores).fetchall()
    return leads, accounts


@pytest.mark.parametrize(("model", "data_fixture"), [(REFERENCE_MODEL, "bench_data_2000"),
                                                     (BUNDLED_MODEL, "synth_data")],
                         ids=["reference-model", "bundled-model"])
def test_postgres_scores_every_column_as_duckdb(postgres: PostgresServer, model: Path, data_fixture: str,
                                               request: pytest.FixtureRequest) -> None:
    data: Path = request.getfixturevalue(data_fixture)
    expected_leads, expected_accounts = duckdb_scores(model, data)
    leads, accounts = postgres_scores(postgres, model, data, schema=data_fixture)
    columns = list(expected_leads[0])
    assert list(leads[0]) == columns
    assert compare_rows(keyed(expected_leads, "lead_id"), keyed(leads, "lead_id"), columns) == []
    account_columns = list(expected_accounts[0])
    assert list(accounts[0]) == account_columns
    assert compare_rows(keyed(expected_accounts, "account_id"), keyed(accounts, "account_id"),
                        account_columns) == []
    assert len(leads) == len(expected_leads) > 100

"""The Postgres store: bulk load by COPY, the CLI on a URL, clear errors for bad URLs, no password shown.

The behaviours shared with SQLite (ingest, reads, queue, feedback, webhooks, model changes, the
batch agreement, kill -9) run on both backends in the other ``test_serve_*`` modules; this one has
what is particular to a store that is a server: its URL, its credentials, COPY, an optional driver.
All against the session's real PostgreSQL server (``conftest.postgres``), a new database per test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import BUNDLED_MODEL, CliRun
from export_support import PASSWORD_USER, PostgresServer, create_database
from serve_support import FROZEN_NOW, SERVE_MODEL, free_port, start_server, store_rows, wait_for

Cli = Callable[..., CliRun]
NOW = datetime.fromisoformat(FROZEN_NOW)
PASSWORD = "s3cr3t-Pa55"
TABLES = {"leads": "lead_id", "accounts": "account_id", "events": "event_id", "scores": "lead_id",
          "score_history": "lead_id"}


@pytest.fixture(scope="module")
def password_role(postgres: PostgresServer) -> str:
    """A role that must give its password (scram-sha-256); returns its user name."""
    with psycopg.connect(postgres.conninfo(), autocommit=True) as con:
        con.execute(f"DROP ROLE IF EXISTS {PASSWORD_USER}")
        con.execute(f"CREATE ROLE {PASSWORD_USER} LOGIN CREATEDB PASSWORD '{PASSWORD}'")
    return PASSWORD_USER


def with_password(url: str, user: str, password: str) -> str:
    """``postgresql://leadscore@host/db`` with another user and a password."""
    return url.replace("postgresql://leadscore@", f"postgresql://{user}:{password}@")


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from leadscore.api.serving import write_demo_funnel

    folder = tmp_path_factory.mktemp("pg_demo") / "data"
    write_demo_funnel(folder, leads=200, seed=11, as_of=NOW)
    return folder


def table_rows(target: Path | str, table: str) -> list[tuple[Any, ...]]:
    """A table's rows without generated ids, in a stable order, as comparable tuples."""
    columns = {"score_history": "lead_id, at_us, model_version, total, grade, stage, cause"}.get(table, "*")
    return sorted(store_rows(target, f"SELECT {columns} FROM {table}"), key=repr)


def load(target: Path | str, folder: Path) -> dict[str, int]:
    from leadscore.api.serving import load_serving_model
    from leadscore.server import store
    from leadscore.server.loading import load_folder

    con = store.connect(target)
    try:
        return load_folder(con, folder, load_serving_model(BUNDLED_MODEL), now=NOW)
    finally:
        con.close()


def test_a_bulk_load_by_copy_stores_exactly_what_sqlite_stores_and_builds_the_event_indexes(
        tmp_path: Path, postgres: PostgresServer, demo_data: Path, leadscore_cli: Cli) -> None:
    url = create_database(postgres)
    sqlite_file = tmp_path / "store.db"
    counts = load(url, demo_data)
    assert counts == load(sqlite_file, demo_data)
    assert counts["leads"] == counts["scores"] == 200 and counts["events"] > 1_000
    for table in TABLES:
        assert table_rows(url, table) == table_rows(sqlite_file, table), table
    indexes = {r[0] for r in store_rows(url, "SELECT indexname FROM pg_indexes WHERE tablename = 'events'")}
    assert {"events_id", "events_by_lead"} <= indexes
    again = load(url, demo_data)  # into a filled store: rows already there are kept, nothing doubles
    assert again["events"] == counts["events"]
    assert store_rows(url, "SELECT count(*), count(DISTINCT event_id) FROM events") == [(counts["events"],) * 2]
    assert store_rows(url, "SELECT count(*) FROM leads") == [(200,)]
    exported = leadscore_cli("store", "export-data", "--store", url, "--out", tmp_path / "out", "--model",
                             BUNDLED_MODEL)  # the store commands take the URL too
    assert exported.code == 0, exported.stderr
    assert f"{counts['leads']} leads" in exported.stderr and f"{counts['events']} events" in exported.stderr
    feedback = leadscore_cli("store", "export-feedback", "--store", url, "--out", tmp_path / "feedback.parquet")
    assert feedback.code == 0 and "wrote 0 feedback rows" in feedback.stderr


def test_serve_loads_a_folder_into_postgres_and_never_prints_the_password(
        tmp_path: Path, postgres: PostgresServer, password_role: str, demo_data: Path) -> None:
    url = with_password(create_database(postgres), password_role, PASSWORD)
    with psycopg.connect(postgres.conninfo(), autocommit=True) as con:  # the role owns its database
        con.execute(f'ALTER DATABASE "{url.rsplit("/", 1)[1]}" OWNER TO {password_role}')
    server = start_server(url, BUNDLED_MODEL, load=demo_data, folder=tmp_path)
    try:
        with server.client("read") as api:
            lead = api.get("/v1/leads/7").json()
            status = api.get("/v1/status").json()
    finally:
        server.stop()
    assert status["counts"]["leads"] == 200
    stored = store_rows(url, "SELECT total, stage FROM scores WHERE lead_id = '7'")
    assert stored == [(pytest.approx(lead["total"], abs=1e-9), lead["stage"])]
    log = server.log_text()
    assert f"postgresql://{password_role}:***@127.0.0.1" in log
    assert PASSWORD not in log


def test_keys_are_created_listed_and_revoked_on_a_postgres_store(postgres: PostgresServer,
                                                                 leadscore_cli: Cli) -> None:
    url = create_database(postgres)
    created = leadscore_cli("keys", "create", "--store", url, "--scope", "write", "--label", "crm", "--json")
    assert created.code == 0, created.stderr
    key = json.loads(created.stdout)
    listed = json.loads(leadscore_cli("keys", "list", "--store", url, "--json").stdout)
    assert [(k["key_id"], k["label"], k["revoked_at"]) for k in listed] == [(key["key_id"], "crm", None)]
    assert leadscore_cli("keys", "revoke", key["key_id"], "--store", url).code == 0
    again = leadscore_cli("keys", "revoke", key["key_id"], "--store", url)
    assert again.code == 2 and "no active key" in again.stderr
    assert store_rows(url, "SELECT count(*) FROM api_keys WHERE revoked_us IS NOT NULL") == [(1,)]


def bad_urls(server: PostgresServer) -> dict[str, tuple[str, str]]:
    """Bad store URLs (each with a password that must not be printed) and a word of the expected hint."""
    base = f"127.0.0.1:{server.port}"
    return {"unreachable": (f"postgresql://leadscore:{PASSWORD}@127.0.0.1:{free_port()}/db", "server running"),
            "wrong password": (f"postgresql://{PASSWORD_USER}:{PASSWORD}x@{base}/postgres", "password"),
            "unknown user": (f"postgresql://nobody:{PASSWORD}@{base}/postgres", "create the role"),
            "missing database": (f"postgresql://leadscore:{PASSWORD}@{base}/no_such_db", "createdb")}


@pytest.mark.parametrize("case", ["unreachable", "wrong password", "unknown user", "missing database"])
def test_a_bad_store_url_is_a_clear_error_naming_the_store_without_its_password(
        case: str, postgres: PostgresServer, password_role: str, leadscore_cli: Cli, tmp_path: Path) -> None:
    url, hint = bad_urls(postgres)[case]
    for args in (("keys", "list", "--store", url),
                 ("serve", "--model", BUNDLED_MODEL, "--store", url, "--port", str(free_port()))):
        result = leadscore_cli(*args)
        assert result.code == 3, result.stderr  # BackendError: the environment, as for a SQLite file
        assert "cannot open the store 'postgresql://" in result.stderr and ":***@" in result.stderr
        assert hint in result.stderr, result.stderr
        assert PASSWORD not in result.stderr + result.stdout and "Traceback" not in result.stderr


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://ann:pw@db.example:5433/leads", "postgresql://ann:***@db.example:5433/leads"),
    ("postgres://ann:p%40ss@db/leads?sslmode=require", "postgres://ann:***@db/leads?sslmode=require"),
    ("postgresql://ann@db/leads", "postgresql://ann@db/leads"),
    ("postgresql:///leads", "postgresql:///leads"),
])
def test_store_urls_are_shown_with_the_password_redacted(url: str, shown: str) -> None:
    from leadscore.server.settings import Settings
    from leadscore.server.store import redact

    assert redact(url) == shown
    assert Settings(store=url).store == url  # a URL is kept as text (a Path would lose a slash)
    assert Settings(store="some/dir/store.db").store == Path("some/dir/store.db")


def test_without_psycopg_sqlite_serves_and_a_postgres_url_says_which_extra_to_install(tmp_path: Path) -> None:
    script = f"""
import sys
sys.modules["psycopg"] = None  # as if the postgres extra were not installed
from pathlib import Path
from leadscore.errors import BackendError
from leadscore.server import app, store
con = store.connect(Path({str(tmp_path / "store.db")!r}))
con.close()
try:
    store.connect("postgresql://ann:{PASSWORD}@127.0.0.1/x")
except BackendError as error:
    print(error)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "pip install 'leadscore[postgres]'" in done.stdout and PASSWORD not in done.stdout


def _end_sessions(server: PostgresServer, url: str) -> int:
    """What a server restart does to its clients: end every session on the store's database."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(server.conninfo(), autocommit=True) as con:
        ended = con.execute("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchone()
    return int(ended[0]) if ended else 0


def _leader_locks(server: PostgresServer, url: str) -> int:
    from leadscore.server.leader import LEADER_LOCK

    with psycopg.connect(server.conninfo(), autocommit=True) as con:
        found = con.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted "
                            "AND database = (SELECT oid FROM pg_database WHERE datname = %s)",
                            (LEADER_LOCK, url.rsplit("/", 1)[1])).fetchone()
    return int(found[0]) if found else 0


def test_the_service_reconnects_when_the_database_ends_its_sessions(tmp_path: Path, postgres: PostgresServer
                                                                     ) -> None:
    url = create_database(postgres)
    model = tmp_path / "model.yaml"
    model.write_text(SERVE_MODEL, encoding="utf-8")
    server = start_server(url, model, folder=tmp_path)

    def event(index: int) -> dict[str, Any]:
        return {"event_id": index, "lead_id": "c1", "type": "page_view", "ts": "2026-06-29T12:00:00Z"}

    try:
        with server.client("admin") as api:
            api.put("/v1/leads/c1", json={"seniority": "vp"}).raise_for_status()
            api.post("/v1/events", json=event(1)).raise_for_status()
            wait_for(lambda: _leader_locks(postgres, url) == 1)
            assert _end_sessions(postgres, url) >= 2, "the service's connection and the leader's lock"
            assert _leader_locks(postgres, url) == 0
            answers = [api.post("/v1/events", json=event(index)) for index in range(2, 6)]
            assert [answer.status_code for answer in answers] == [200] * 4, answers[0].text
            wait_for(lambda: _leader_locks(postgres, url) == 1)  # the leader took its lock again
            status = api.get("/v1/status").json()
            lead = api.get("/v1/leads/c1").json()
    finally:
        server.stop()
    assert status["worker"]["leader"] is True and status["counts"]["events"] == 5
    assert lead["layers"]["engagement"] == pytest.approx(5 * 0.5 ** (0.5 / 10), abs=1e-9)
    assert "lost the lead" not in server.log_text()


def test_text_postgres_cannot_hold_is_a_422_never_a_5xx(tmp_path: Path, postgres: PostgresServer) -> None:
    url = create_database(postgres)
    model = tmp_path / "model.yaml"
    model.write_text(SERVE_MODEL, encoding="utf-8")
    server = start_server(url, model, folder=tmp_path)
    try:
        with server.client("admin") as api:
            hook = api.post("/v1/webhooks", json={"url": "http://a/\u0000"})  # refused by the schema
            feedback = api.post("/v1/leads/c1/feedback", json={"decision": "reject", "reason": "x\u0000"})
            lead = api.get("/v1/leads/a%00b")  # a path pydantic lets through: refused by the driver
            account = api.put("/v1/accounts/a%00b", json={"industry": "technology"})
            status = api.get("/v1/status")
    finally:
        server.stop()
    assert [r.status_code for r in (hook, feedback, lead, account)] == [422] * 4, [r.text for r in (hook, lead)]
    assert "NUL" in lead.json()["issues"][0]["message"]
    assert status.status_code == 200

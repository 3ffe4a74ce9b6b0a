"""Fuzz the running service from its own OpenAPI schema (schemathesis): no input gives a 5xx.

Every operation is called with generated valid and invalid bodies, paths and queries, with an
admin key so that the requests get past authentication and reach the service's code; on both store
backends (a SQLite file and a PostgreSQL database), whose drivers refuse different inputs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from serve_support import BACKENDS, SERVE_MODEL, Server, new_store, start_server

OPERATIONS = (
    ("POST", "/v1/events"), ("PUT", "/v1/leads/{lead_id}"), ("GET", "/v1/leads/{lead_id}"),
    ("POST", "/v1/leads/{lead_id}/feedback"), ("PUT", "/v1/accounts/{account_id}"),
    ("GET", "/v1/accounts/{account_id}"), ("GET", "/v1/queue"), ("GET", "/v1/model"), ("POST", "/v1/model"),
    ("POST", "/v1/model/rollback"), ("POST", "/v1/webhooks"), ("GET", "/v1/webhooks"),
    ("DELETE", "/v1/webhooks/{webhook_id}"), ("GET", "/v1/status"),
)
"""Every operation of the API (a test checks the list against the schema)."""


@pytest.fixture(scope="module", params=BACKENDS)
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("serve_fuzz")
    model = folder / "model.yaml"
    model.write_text(SERVE_MODEL, encoding="utf-8")
    running = start_server(new_store(request, folder, request.param), model, folder=folder)
    with running.client() as api:
        api.put("/v1/accounts/1", json={"industry": "technology"}).raise_for_status()
        api.put("/v1/leads/1", json={"account_id": 1, "seniority": "vp", "email": "a@b.com"}).raise_for_status()
    try:
        yield running
    finally:
        running.stop()
        assert "Traceback" not in running.log_text(), running.log_text()[-3000:]


@pytest.fixture(scope="module")
def api_schema(fuzzed_server: Server) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json")


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_request_gets_a_server_error(method: str, path: str, api_schema: schemathesis.BaseSchema,
                                        fuzzed_server: Server) -> None:
    # schemathesis' own pytest loader (from_fixture) does not run on pytest 9, so each operation's
    # hypothesis strategy is driven here.
    operation = api_schema[path][method]
    headers = {"X-API-Key": fuzzed_server.keys["admin"]}

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def call(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(base_url=fuzzed_server.url, headers=headers, checks=[not_a_server_error])

    call()


def test_the_fuzzed_operations_are_all_of_the_api(api_schema: schemathesis.BaseSchema, fuzzed_server: Server
                                                 ) -> None:
    import httpx

    paths = httpx.get(f"{fuzzed_server.url}/openapi.json").json()["paths"]
    listed = {(method.upper(), path) for path, methods in paths.items() for method in methods}
    assert listed == set(OPERATIONS)
    assert httpx.get(f"{fuzzed_server.url}/docs").status_code == 200

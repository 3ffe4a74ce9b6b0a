"""``leadscore serve``: ingest, reads, queue, feedback, keys and bad input, against a real server.

One server (a subprocess on 127.0.0.1, clock frozen at 2026-06-30) serves the whole module, once on
each store backend (a SQLite file, a PostgreSQL database); each test uses its own lead ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest

import serve_support
from serve_support import BACKENDS, SERVE_MODEL, Server, new_store, start_server

TS = "2026-06-29T10:00:00Z"


@pytest.fixture(scope="module", params=BACKENDS)
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("serve_api")
    model = folder / "model.yaml"
    model.write_text(SERVE_MODEL, encoding="utf-8")
    running = start_server(new_store(request, folder, request.param), model, folder=folder,
                           env={"LEADSCORE_MAX_BATCH_EVENTS": "20", "LEADSCORE_MAX_BODY_BYTES": "20000"})
    try:
        with running.client() as api:
            api.put("/v1/accounts/10", json={"industry": "technology", "employees": 800}).raise_for_status()
        yield running
    finally:
        running.stop()


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    with server.client("write") as client:
        yield client


def put_lead(api: httpx.Client, lead_id: str, **fields: Any) -> dict[str, Any]:
    body = {"account_id": 10, "seniority": "vp", "region": "europe", "created_at": "2026-06-01T09:00:00Z",
            "email": f"{lead_id}@acme.com", **fields}
    response = api.put(f"/v1/leads/{lead_id}", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def event(event_id: str, lead_id: str, kind: str = "demo_request", ts: str = TS, **props: Any) -> dict[str, Any]:
    return {"event_id": event_id, "lead_id": lead_id, "type": kind, "ts": ts, "properties": props}


def store_rows(server: Server, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of a query on the server's store, read by another connection (another process's view)."""
    return serve_support.store_rows(server.store, sql, *params)


def test_event_returns_the_new_score_stage_and_reasons_that_add_up(api: httpx.Client) -> None:
    put_lead(api, "a1")
    response = api.post("/v1/events", json=event("a1-e1", "a1"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "stored"
    lead = body["lead"]
    assert lead["stage"] == "hot" and lead["previous_stage"] == "warm" and lead["stage_changed"]
    assert lead["next_action"] == "Call now"
    assert lead["reasons_sum"] == pytest.approx(lead["total"], abs=1e-9)
    assert {r["rule"] for r in lead["reasons"]} >= {"senior", "tech", "demo_request"}


def test_other_processes_see_every_commit_while_the_server_runs(api: httpx.Client, server: Server) -> None:
    """The store file is shared: a reader (a backup, an export) sees each acknowledged write at once."""
    for index in range(3):
        put_lead(api, f"v{index}")
        assert store_rows(server, "SELECT count(*) FROM leads WHERE lead_id = ?", f"v{index}") == [(1,)]


def test_the_same_event_twice_changes_nothing(api: httpx.Client, server: Server) -> None:
    put_lead(api, "a2")
    first = api.post("/v1/events", json=event("a2-e1", "a2", "page_view")).json()
    history = store_rows(server, "SELECT count(*) FROM score_history WHERE lead_id = 'a2'")
    again = api.post("/v1/events", json=event("a2-e1", "a2", "page_view")).json()
    assert again["status"] == "duplicate"
    assert again["lead"]["total"] == first["lead"]["total"]
    assert store_rows(server, "SELECT count(*) FROM events WHERE event_id = 'a2-e1'") == [(1,)]
    assert store_rows(server, "SELECT count(*) FROM score_history WHERE lead_id = 'a2'") == history


def test_an_event_id_reused_for_another_event_is_409_and_stores_nothing(api: httpx.Client, server: Server) -> None:
    put_lead(api, "a3")
    api.post("/v1/events", json=event("a3-e1", "a3", "page_view")).raise_for_status()
    batch = {"events": [event("a3-e2", "a3", "email_open"), event("a3-e1", "a3", "demo_request")]}
    response = api.post("/v1/events", json=batch)
    assert response.status_code == 409
    assert response.json()["type"] == "Conflict"
    assert store_rows(server, "SELECT count(*) FROM events WHERE event_id = 'a3-e2'") == [(0,)]


def test_an_event_for_an_unknown_lead_is_kept_and_counts_when_the_lead_arrives(api: httpx.Client) -> None:
    response = api.post("/v1/events", json=event("a4-e1", "a4"))
    assert response.status_code == 200
    assert response.json()["lead_known"] is False and response.json()["lead"] is None
    created = put_lead(api, "a4")
    assert created["created"] is True
    assert any(r["rule"] == "demo_request" for r in created["lead"]["reasons"])


def test_a_lead_read_has_layers_grade_stage_reasons_activity_action_and_history(api: httpx.Client) -> None:
    put_lead(api, "a5")
    api.post("/v1/events", json=event("a5-e1", "a5", "email_open", "2026-06-20T08:00:00+02:00")).raise_for_status()
    lead = api.get("/v1/leads/a5").json()
    assert set(lead["layers"]) == {"fit", "engagement"}
    assert lead["grade"] == "A" and lead["stage"] == "warm" and lead["next_action"] == "Follow up"
    assert lead["last_activity_type"] == "email_open"
    assert lead["last_activity_at"] == "2026-06-20T06:00:00"
    assert lead["owner"] == "emea"
    assert sum(r["points"] for r in lead["reasons"]) == pytest.approx(lead["total"], abs=1e-9)
    assert [h["cause"] for h in lead["history"]] == ["event a5-e1", "lead created"]


def test_an_account_read_lists_engaged_contacts_and_committee_roles(api: httpx.Client) -> None:
    api.put("/v1/accounts/77", json={"industry": "technology"}).raise_for_status()
    put_lead(api, "a6", account_id=77, seniority="vp")
    put_lead(api, "a7", account_id=77, seniority="director")
    put_lead(api, "a8", account_id=77, seniority="individual")
    api.post("/v1/events", json=event("a6-e1", "a6")).raise_for_status()
    account = api.get("/v1/accounts/77").json()
    assert account["lead_count"] == 3
    assert [c["lead_id"] for c in account["engaged_contacts"]] == ["a6", "a7"]
    assert account["committee_roles"] == ["champion", "decision_maker"]
    assert account["account_score"] == pytest.approx(sum(c["total"] for c in account["engaged_contacts"]))


def test_the_queue_is_routed_by_stage_and_owner_within_capacity(server: Server) -> None:
    with server.client("write") as api:
        for index in range(4):
            put_lead(api, f"q{index}", region="europe")
            api.post("/v1/events", json=event(f"q{index}-e", f"q{index}")).raise_for_status()
        put_lead(api, "q9", region="north_america")
        api.post("/v1/events", json=event("q9-e", "q9")).raise_for_status()
    with server.client("read") as reader:
        queue = reader.get("/v1/queue", params={"capacity": 50}).json()
        owners = [item["owner"] for item in queue["leads"] if str(item["lead_id"]).startswith("q")]
        assert owners.count("emea") <= 2 and "americas" in owners
        stages = [item["stage"] for item in queue["leads"]]
        assert stages == sorted(stages, key=["hot", "warm"].index)
        assert len(reader.get("/v1/queue", params={"capacity": 1}).json()["leads"]) == 1
        only = reader.get("/v1/queue", params={"capacity": 10, "owner": "americas"}).json()["leads"]
        assert {item["owner"] for item in only} == {"americas"}


def test_feedback_is_stored_and_exported_to_parquet_for_the_learning_commands(server: Server, tmp_path: Path
                                                                              ) -> None:
    from leadscore.learn.feedback import import_feedback
    from leadscore.server.commands import export_feedback

    with server.client("write") as api:
        put_lead(api, "f1")
        accepted = api.post("/v1/leads/f1/feedback", json={"decision": "accept", "rep": "ann"})
        rejected = api.post("/v1/leads/f1/feedback", json={"decision": "reject", "reason": "no_budget",
                                                           "decided_at": "2026-06-29T12:00:00+02:00"})
        assert (accepted.status_code, rejected.status_code) == (201, 201)
        assert api.post("/v1/leads/f1/feedback", json={"decision": "reject"}).status_code == 422
        assert api.post("/v1/leads/nobody/feedback", json={"decision": "accept"}).status_code == 404
    out = tmp_path / "feedback.parquet"
    assert export_feedback(server.store, out) >= 2
    table = pq.read_table(out)
    assert table.column_names[:5] == ["lead_id", "decision", "reason", "decided_at", "rep"]
    rows = [r for r in table.to_pylist() if r["lead_id"] == "f1"]
    assert [(r["decision"], r["reason"]) for r in rows] == [("accept", None), ("reject", "no_budget")]
    assert rows[1]["decided_at"].isoformat() == "2026-06-29T10:00:00+00:00"
    imported = import_feedback(out, tmp_path / "feedback_store", now=datetime(2026, 7, 1))
    assert imported.stored == imported.rows


@pytest.mark.parametrize(("body", "status", "says"), [
    ({**event("b1", "a1"), "ts": "2026-06-29T10:00:00"}, 422, "timezone"),
    ({**event("b2", "a1"), "ts": "2026-07-30T10:00:00Z"}, 422, "in the future"),
    ({**event("b3", "a1"), "type": ""}, 422, "type"),
    ({"events": [event(f"b4-{i}", "a1") for i in range(21)]}, 422, "at most 20 events"),
    ({**event("b5", "a1"), "properties": {"type": "x"}}, 422, "may not be named type"),
    ({**event("b6", "a1"), "colour": "red"}, 422, "colour"),
])
def test_bad_events_get_a_clear_4xx_and_store_nothing(api: httpx.Client, server: Server, body: dict[str, Any],
                                                      status: int, says: str) -> None:
    before = store_rows(server, "SELECT count(*) FROM events")
    response = api.post("/v1/events", json=body)
    assert response.status_code == status, response.text
    problem = response.json()
    assert says in (problem["error"] + " ".join(i["message"] + i["path"] for i in problem["issues"]))
    assert "Traceback" not in response.text
    assert store_rows(server, "SELECT count(*) FROM events") == before


def test_malformed_json_is_400(api: httpx.Client) -> None:
    response = api.post("/v1/events", content=b'{"event_id": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "malformed JSON body"


def test_a_body_over_the_size_limit_is_413_even_without_content_length(api: httpx.Client) -> None:
    assert api.post("/v1/events", content=b"x" * 30_000).status_code == 413
    chunks = (b"x" * 1_000 for _ in range(40))
    assert api.post("/v1/events", content=chunks).status_code == 413


def test_a_missing_wrong_or_revoked_key_is_401_and_a_weak_scope_403(server: Server) -> None:
    from leadscore.server.commands import list_keys, revoke_key

    assert httpx.get(f"{server.url}/v1/leads/a1").status_code == 401
    wrong = server.keys["read"][:-4] + "AAAA"
    assert httpx.get(f"{server.url}/v1/leads/a1", headers={"X-API-Key": wrong}).status_code == 401
    with server.client("read") as reader:
        assert reader.get("/v1/queue").status_code == 200
        denied = reader.post("/v1/events", json=event("k1", "a1"))
        assert denied.status_code == 403 and "needs 'write'" in denied.json()["error"]
    with server.client("write") as writer:
        assert writer.post("/v1/model", json={"yaml": SERVE_MODEL}).status_code == 403
    key_id = server.keys["read"].split("_")[1]
    assert key_id in [k["key_id"] for k in list_keys(server.store)]
    revoke_key(server.store, key_id)
    with server.client("read") as reader:
        assert reader.get("/v1/queue").status_code == 401
    server.keys["read"] = server.keys["write"]


def test_keys_are_stored_hashed_never_in_clear(server: Server) -> None:
    if isinstance(server.store, Path):
        data = b"".join(p.read_bytes() for p in server.store.parent.glob("store.db*"))
    else:  # every column of every key row, as the database returns it
        data = repr(store_rows(server, "SELECT * FROM api_keys")).encode()
        assert len(store_rows(server, "SELECT * FROM api_keys")) >= 3
    for key in server.keys.values():
        assert key.split("_", 2)[2].encode() not in data


def test_an_unknown_lead_or_account_is_404(api: httpx.Client, server: Server) -> None:
    with server.client("read") as reader:
        assert reader.get("/v1/leads/nobody-here").status_code == 404
        assert reader.get("/v1/accounts/nobody-here").status_code == 404


def test_a_lead_body_with_another_id_or_a_zoneless_created_at_is_422(api: httpx.Client) -> None:
    assert api.put("/v1/leads/z1", json={"lead_id": "z2"}).status_code == 422
    response = api.put("/v1/leads/z1", json={"created_at": "2026-06-01T09:00:00"})
    assert response.status_code == 422 and "no time zone" in response.json()["error"]


def test_integer_and_text_lead_ids_live_side_by_side(api: httpx.Client) -> None:
    api.put("/v1/accounts/88", json={"industry": "retail"}).raise_for_status()
    for lead_id in ("880", "x880"):
        put_lead(api, lead_id, account_id=88, email="same@acme.com", seniority="individual")
    assert api.get("/v1/leads/880").json()["lead_id"] == 880
    account = api.get("/v1/accounts/88").json()
    assert account["lead_count"] == 2 and account["account_score"] == 0.0

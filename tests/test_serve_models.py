"""Live model changes: refused with every issue when wrong, rescored in the background, rolled back;
and time decay, which keeps working with no events at all."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from serve_support import BACKENDS, SERVE_MODEL, Server, new_store, start_server, wait_for

NEW_MODEL = SERVE_MODEL.replace("model: serve-test", "model: serve-test-v2").replace("demo_request: 40",
                                                                                     "demo_request: 50")
SLOW_BUILD = {"LEADSCORE_REBUILD_CHUNK_LEADS": "5", "LEADSCORE_REBUILD_PAUSE_SECONDS": "0.1"}


ON_BOTH = pytest.mark.parametrize("server", BACKENDS, indirect=True)
"""Run a test on both store backends (the fixture's default is SQLite)."""


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    model = tmp_path / "model.yaml"
    model.write_text(SERVE_MODEL, encoding="utf-8")
    store = new_store(request, tmp_path, getattr(request, "param", "sqlite"))
    running = start_server(store, model, env=SLOW_BUILD, folder=tmp_path)
    with running.client() as api:
        api.put("/v1/accounts/1", json={"industry": "technology"}).raise_for_status()
        for index in range(40):
            api.put(f"/v1/leads/m{index}", json={"account_id": 1, "seniority": "vp"}).raise_for_status()
        api.post("/v1/events", json={"event_id": "m0-e", "lead_id": "m0", "type": "demo_request",
                                     "ts": "2026-06-29T00:00:00Z"}).raise_for_status()
    try:
        yield running
    finally:
        running.stop()


def active_version(api: httpx.Client) -> str:
    return str(api.get("/v1/model").json()["active"]["version"])


def test_a_model_with_errors_is_refused_with_every_issue_and_changes_nothing(server: Server) -> None:
    with server.client() as api:
        before = (active_version(api), api.get("/v1/leads/m0").json()["total"])
        broken = SERVE_MODEL.replace("points: 10}", "points: 10, colour: red}").replace(
            "account.industry = 'technology'", "account.industry = = 'technology'")
        response = api.post("/v1/model", json={"yaml": broken})
        assert response.status_code == 422
        problem = response.json()
        assert problem["type"] == "ModelError"
        assert all(issue["line"] and issue["col"] for issue in problem["issues"])
        assert any("colour" in issue["message"] + issue["path"] for issue in problem["issues"])
        typo = api.post("/v1/model", json={"yaml": SERVE_MODEL.replace("seniority IN", "senority IN")})
        assert typo.status_code == 422 and "did you mean 'seniority'" in typo.text
        assert (active_version(api), api.get("/v1/leads/m0").json()["total"]) == before


@ON_BOTH
def test_a_new_model_is_rescored_in_the_background_then_served(server: Server) -> None:
    with server.client() as api:
        old = active_version(api)
        response = api.post("/v1/model", json={"yaml": NEW_MODEL})
        assert response.status_code == 202 and response.json()["status"] == "building"
        new = response.json()["version"]
        during = api.get("/v1/leads/m0").json()
        assert during["model_version"] == old and during["total"] == pytest.approx(15 + 40 * 0.5 ** 0.1)
        api.post("/v1/events", json={"event_id": "m1-e", "lead_id": "m1", "type": "demo_request",
                                     "ts": "2026-06-29T00:00:00Z"}).raise_for_status()
        wait_for(lambda: active_version(api) == new, timeout=30)
        assert api.get("/v1/model").json()["building"] is None
        for lead_id in ("m0", "m1"):
            lead = api.get(f"/v1/leads/{lead_id}").json()
            assert lead["model_version"] == new and lead["total"] == pytest.approx(15 + 50 * 0.5 ** 0.1)
        actions = [(h["action"], h["version"]) for h in api.get("/v1/model").json()["history"]]
        assert actions[:2] == [("activated", new), ("reload", new)]


@ON_BOTH
def test_a_rollback_goes_back_to_the_previous_version(server: Server) -> None:
    with server.client() as api:
        old = active_version(api)
        new = api.post("/v1/model", json={"yaml": NEW_MODEL}).json()["version"]
        wait_for(lambda: active_version(api) == new, timeout=30)
        rolled = api.post("/v1/model/rollback")
        assert rolled.status_code == 202 and rolled.json()["version"] == old
        wait_for(lambda: active_version(api) == old, timeout=30)
        assert api.get("/v1/leads/m0").json()["total"] == pytest.approx(15 + 40 * 0.5 ** 0.1)


def test_sighup_rereads_the_model_file(server: Server) -> None:
    with server.client() as api:
        server.model.write_text(NEW_MODEL, encoding="utf-8")
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: api.get("/v1/model").json()["active"]["name"] == "serve-test-v2", timeout=30)
        server.model.write_text("model: [broken", encoding="utf-8")
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "model reload refused" in server.log_text(), timeout=10)
        assert api.get("/v1/model").json()["active"]["name"] == "serve-test-v2"


def test_scores_read_at_t_reflect_decay_up_to_t_without_any_new_event(server: Server) -> None:
    with server.client() as api:
        at_first = api.get("/v1/leads/m0").json()
        assert at_first["stage"] == "hot"
    server.stop()
    later = start_server(server.store, server.model, keys=server.keys, frozen_now="2026-07-29T00:00:00",
                         folder=server.folder)
    try:
        with later.client() as api:
            lead = api.get("/v1/leads/m0").json()
            assert lead["as_of"] == "2026-07-29T00:00:00Z"
            assert lead["total"] == pytest.approx(15 + 40 * 0.5 ** 3.0, abs=1e-9)  # 30 days, half-life 10
            assert lead["stage"] == "warm"
            assert "m0" not in [item["lead_id"] for item in api.get("/v1/queue").json()["leads"]
                                if item["stage"] == "hot"]
    finally:
        later.stop()


def test_a_model_change_interrupted_by_kill_9_resumes_after_the_restart(server: Server) -> None:
    with server.client() as api:
        new = api.post("/v1/model", json={"yaml": NEW_MODEL}).json()["version"]
    server.kill()
    restarted = start_server(server.store, server.model, keys=server.keys, env=SLOW_BUILD, folder=server.folder)
    try:
        with restarted.client() as api:
            wait_for(lambda: active_version(api) == new, timeout=30)
            assert api.get("/v1/leads/m0").json()["total"] == pytest.approx(15 + 50 * 0.5 ** 0.1)
    finally:
        restarted.stop()


@ON_BOTH
def test_a_model_that_cannot_score_the_stored_leads_fails_and_the_old_one_keeps_serving(server: Server) -> None:
    with server.client() as api:
        old = active_version(api)
        broken = SERVE_MODEL.replace("seniority IN ('vp', 'director')", "seniority > 5")
        response = api.post("/v1/model", json={"yaml": broken})
        assert response.status_code == 202
        history = wait_for(lambda: [h for h in api.get("/v1/model").json()["history"] if h["action"] == "failed"])
        assert history[0]["version"] == response.json()["version"] and "vp" in history[0]["detail"]
        assert active_version(api) == old and api.get("/v1/model").json()["building"] is None
        assert api.get("/v1/leads/m0").json()["model_version"] == old

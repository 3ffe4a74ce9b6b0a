"""Webhooks: a stage change reaches a real receiver, signed, retried, and never lost on a kill -9."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from leadscore.server.webhooks import verify_signature
from serve_support import BACKENDS, SERVE_MODEL, WEBHOOK_SECRET, Receiver, Server, new_store, start_server, wait_for


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The store backend of a test that runs on both (SQLite file, PostgreSQL database)."""
    return str(request.param)


def serve(tmp_path: Path, request: pytest.FixtureRequest | None = None, backend: str = "sqlite") -> Server:
    model = tmp_path / "model.yaml"
    model.write_text(SERVE_MODEL, encoding="utf-8")
    store = new_store(request, tmp_path, backend) if request is not None else tmp_path / "store.db"
    return start_server(store, model, folder=tmp_path)


def make_lead(api: httpx.Client, lead_id: str) -> None:
    api.put(f"/v1/leads/{lead_id}", json={"seniority": "vp", "region": "europe"}).raise_for_status()


def demo_request(api: httpx.Client, event_id: str, lead_id: str) -> None:
    api.post("/v1/events", json={"event_id": event_id, "lead_id": lead_id, "type": "demo_request",
                                 "ts": "2026-06-29T10:00:00Z"}).raise_for_status()


def test_a_lead_becoming_hot_is_delivered_signed_with_a_delivery_id(tmp_path: Path, request: pytest.FixtureRequest,
                                                                    backend: str) -> None:
    receiver = Receiver()
    server = serve(tmp_path, request, backend)
    try:
        with server.client() as api:
            sub = api.post("/v1/webhooks", json={"url": receiver.url, "stages": ["hot"]})
            assert sub.status_code == 201, sub.text
            make_lead(api, "w1")
            demo_request(api, "w1-e1", "w1")
        delivery = wait_for(receiver.received)[0]
        assert verify_signature(WEBHOOK_SECRET, delivery.body, delivery.headers["Leadscore-Signature"])
        assert not verify_signature("another-secret", delivery.body, delivery.headers["Leadscore-Signature"])
        assert not verify_signature(WEBHOOK_SECRET, delivery.body + b" ", delivery.headers["Leadscore-Signature"])
        payload = delivery.json()
        assert payload["delivery_id"] == delivery.headers["Leadscore-Delivery"]
        assert (payload["lead_id"], payload["from_stage"], payload["to_stage"]) == ("w1", "warm", "hot")
        assert payload["top_reasons"][0]["rule"] == "activity"
        time.sleep(0.5)
        assert len(receiver.received()) == 1  # only 'hot' was subscribed: the lead's creation was not sent
    finally:
        server.stop()
        receiver.close()


def test_a_failing_receiver_gets_retries_with_backoff_and_the_same_delivery_id(
        tmp_path: Path, request: pytest.FixtureRequest, backend: str) -> None:
    receiver = Receiver(fail_first=3)
    server = serve(tmp_path, request, backend)
    try:
        with server.client() as api:
            api.post("/v1/webhooks", json={"url": receiver.url, "stages": ["hot"]}).raise_for_status()
            make_lead(api, "w2")
            started = time.monotonic()
            demo_request(api, "w2-e1", "w2")
            wait_for(lambda: len(receiver.received()) == 4, timeout=30)
            elapsed = time.monotonic() - started
            ids = {d.headers["Leadscore-Delivery"] for d in receiver.received()}
            assert len(ids) == 1
            assert elapsed >= 0.2 + 0.4 + 0.8 - 0.1  # backoff 0.2s doubling
            assert wait_for(lambda: api.get("/v1/webhooks").json()["outbox"] == {"delivered": 1})
    finally:
        server.stop()
        receiver.close()


def test_a_delivery_pending_at_a_kill_9_is_sent_after_the_restart(tmp_path: Path, request: pytest.FixtureRequest,
                                                                   backend: str) -> None:
    receiver = Receiver()
    port = receiver.port
    receiver.close()  # the receiver is down: deliveries stay pending
    server = serve(tmp_path, request, backend)
    with server.client() as api:
        api.post("/v1/webhooks", json={"url": f"http://127.0.0.1:{port}/hook"}).raise_for_status()
        make_lead(api, "w3")
        demo_request(api, "w3-e1", "w3")
    server.kill()
    receiver = Receiver(port=port)
    restarted = start_server(server.store, server.model, keys=server.keys, folder=tmp_path)
    try:
        received = wait_for(lambda: {d.json()["to_stage"] for d in receiver.received()} >= {"warm", "hot"} and
                            receiver.received(), timeout=30)
        assert {d.json()["lead_id"] for d in received} == {"w3"}
    finally:
        restarted.stop()
        receiver.close()


def test_unknown_stages_and_bad_urls_are_refused(tmp_path: Path) -> None:
    server = serve(tmp_path)
    try:
        with server.client() as api:
            response = api.post("/v1/webhooks", json={"url": "http://127.0.0.1:1/x", "stages": ["sales_ready"]})
            assert response.status_code == 422 and "hot, warm, cold" in response.json()["issues"][0]["hint"]
            assert api.post("/v1/webhooks", json={"url": "ftp://x"}).status_code == 422
        with server.client("write") as writer:
            assert writer.get("/v1/webhooks").status_code == 403
    finally:
        server.stop()


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_the_default_webhook_secret_is_refused_outside_local_use(environment: str) -> None:
    from pydantic import ValidationError

    from leadscore.server.settings import Settings

    with pytest.raises(ValidationError, match="LEADSCORE_WEBHOOK_SECRET must be set"):
        Settings(environment=environment)
    assert Settings(environment=environment, webhook_secret="s3cret").environment == environment


def test_a_lead_that_decays_out_of_a_stage_is_pushed_without_any_new_event(
        tmp_path: Path, request: pytest.FixtureRequest, backend: str) -> None:
    receiver = Receiver()
    server = serve(tmp_path, request, backend)
    try:
        with server.client() as api:
            api.post("/v1/webhooks", json={"url": receiver.url, "stages": ["warm"]}).raise_for_status()
            make_lead(api, "w4")
            demo_request(api, "w4-e1", "w4")
            assert api.get("/v1/leads/w4").json()["stage"] == "hot"
        server.stop()
        later = start_server(server.store, server.model, keys=server.keys, frozen_now="2026-07-29T00:00:00",
                             folder=tmp_path,
                             env={"LEADSCORE_DECAY_SWEEP_SECONDS": "0.2"})
        try:
            decayed = wait_for(lambda: [d.json() for d in receiver.received() if d.json()["cause"] == "decay"])
            assert (decayed[0]["lead_id"], decayed[0]["from_stage"], decayed[0]["to_stage"]) == ("w4", "hot", "warm")
            with later.client() as api:
                assert api.get("/v1/leads/w4").json()["history"][0]["cause"] == "decay"
        finally:
            later.stop()
    finally:
        server.stop()
        receiver.close()

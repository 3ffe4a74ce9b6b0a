"""``leadscore serve --workers 2``: two processes over one store stay one consistent service.

Concurrent ingests through both workers: every acknowledged event is stored once and the stored
scores equal a batch rescore. A model switch made through one worker is served by both, and the
webhooks it causes are delivered once (only the leader process dispatches). Both on a SQLite file
(writers queue on a lock file, the leader holds a flock) and on a PostgreSQL database (writers queue
on an advisory lock, the leader holds a session advisory lock).
"""

from __future__ import annotations

import random
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from leadscore.server.webhooks import DELIVERY_HEADER
from serve_support import (
    BACKENDS,
    FROZEN_NOW,
    SERVE_MODEL,
    Receiver,
    Server,
    assert_scores_equal_a_batch_rescore,
    make_key,
    new_store,
    start_server,
    store_rows,
    wait_for,
)
from test_serve_crash import LEADS, Stream

NOW = datetime.fromisoformat(FROZEN_NOW)
TWO_WORKERS = {"LEADSCORE_WORKERS": "2", "LEADSCORE_CHECKPOINT_SECONDS": "0.05"}


def _workers_seen(server: Server, key: str) -> dict[int, bool]:
    """pid -> leader, from /v1/status over fresh connections until both workers have answered."""
    seen: dict[int, bool] = {}

    def both() -> bool:
        with httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=10) as client:
            worker = client.get("/v1/status").json()["worker"]
        seen[worker["pid"]] = worker["leader"]
        return len(seen) == 2

    wait_for(both, timeout=30, interval=0.01)
    return seen


def _follower_client(server: Server, key: str) -> httpx.Client:
    """A keep-alive connection that landed on the worker that does not lead."""
    for _ in range(200):
        client = httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=30)
        if not client.get("/v1/status").json()["worker"]["leader"]:
            return client
        client.close()
    raise AssertionError("no connection reached the follower")


def _start(tmp_path: Path, store: Path | str, key: str) -> Server:
    model = tmp_path / "model.yaml"
    model.write_text(SERVE_MODEL, encoding="utf-8")
    make_key(store, "write")  # the store exists before the workers open it
    server = start_server(store, model, keys={"write": key, "admin": key, "read": key}, env=TWO_WORKERS,
                          folder=tmp_path)
    with server.client("write") as client:
        client.put("/v1/accounts/1", json={"industry": "technology"}).raise_for_status()
        for index in range(LEADS):
            client.put(f"/v1/leads/c{index}", json={"account_id": 1 if index % 2 else None,
                                                    "seniority": ["vp", "director", "individual"][index % 3],
                                                    "created_at": "2026-01-01T00:00:00Z"}).raise_for_status()
    return server


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_workers_ingest_concurrently_and_agree_with_a_batch_rescore(tmp_path: Path, backend: str,
                                                                        request: pytest.FixtureRequest) -> None:

    store = new_store(request, tmp_path, backend)
    key = make_key(store, "admin")
    server = _start(tmp_path, store, key)
    try:
        seen = _workers_seen(server, key)
        assert sorted(seen.values()) == [False, True], f"exactly one leader: {seen}"
        rng = random.Random(7)
        streams = [Stream(server.url, key, random.Random(rng.random()), f"w{index}") for index in range(4)]
        for stream in streams:
            stream.thread.start()
        deadline = time.monotonic() + 30
        while sum(len(s.acked) for s in streams) < 400 and time.monotonic() < deadline:
            time.sleep(0.05)
        for stream in streams:
            stream.stop.set()
        for stream in streams:
            stream.thread.join(timeout=30)
            assert not stream.thread.is_alive()
    finally:
        server.stop()
    sent = set().union(*(s.sent for s in streams))
    acked = set().union(*(s.acked for s in streams))
    assert len(acked) >= 400

    stored = [row[0] for row in store_rows(server.store, "SELECT event_id FROM events")]
    served = {row[0]: row[1:] for row in store_rows(
        server.store, "SELECT lead_id, total, stage, grade FROM scores WHERE model_version = "
                      "(SELECT version FROM models WHERE status = 'active')")}
    assert len(stored) == len(set(stored))
    assert acked <= set(stored) <= sent

    assert_scores_equal_a_batch_rescore(server.store, server.model, tmp_path, served, NOW)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_model_posted_to_the_follower_is_built_by_the_leader_and_served_by_both(
        tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    """The follower records the version; the leader builds and switches; webhooks go out once."""
    store = new_store(request, tmp_path, backend)
    key = make_key(store, "admin")
    server = _start(tmp_path, store, key)
    receiver = Receiver()
    try:
        _workers_seen(server, key)
        client = _follower_client(server, key)
        try:
            client.post("/v1/webhooks", json={"url": receiver.url}).raise_for_status()
            old = client.get("/v1/model").json()["active"]["version"]
            # Everyone senior becomes hot: stage changes for two thirds of the leads, webhooks for each.
            hot = SERVE_MODEL.replace("model: serve-test", "model: serve-test-hot").replace(
                "points: 10}", "points: 45}")
            new = client.post("/v1/model", json={"yaml": hot}).json()["version"]
            assert new != old
            assert client.get("/v1/status").json()["worker"]["leader"] is False  # posted to the follower
        finally:
            client.close()

        def everyone_serves_new() -> bool:
            for _ in range(8):  # fresh connections land on either worker
                with httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=10) as client:
                    if client.get("/v1/leads/c0").json()["model_version"] != new:
                        return False
            return True

        wait_for(everyone_serves_new, timeout=60, interval=0.1)
        moved = sum(1 for index in range(LEADS) if index % 3 != 2)  # vp and director leads
        wait_for(lambda: len(receiver.received()) >= moved, timeout=30)
        time.sleep(1.0)  # a second dispatcher would deliver its copies by now
        ids = [delivery.headers[DELIVERY_HEADER] for delivery in receiver.received()]
        assert len(ids) == len(set(ids)) == moved
    finally:
        server.stop()
        receiver.close()

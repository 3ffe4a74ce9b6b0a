"""Crash test: kill -9 the server at random moments during a stream of ingests, again and again.

After every restart, each event that got a success response is stored exactly once, nothing
unsent appears, and the stored scores equal a batch rescore (``leadscore score``) of the same data.
The kills hit a forked copy of the server (``serve_zygote.py``) so that 20 restarts fit in seconds;
the first and the last start are the real ``leadscore serve`` command. The same test runs on a
PostgreSQL store with fewer kills (a killed client's transaction is rolled back by the server).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve_support import (
    FROZEN_NOW,
    SERVE_MODEL,
    assert_scores_equal_a_batch_rescore,
    free_port,
    make_key,
    new_store,
    start_server,
    store_rows,
)

KILLS = {"sqlite": 20, "postgres": 6}
LEADS = 30
ZYGOTE = Path(__file__).with_name("serve_zygote.py")
NOW = datetime.fromisoformat(FROZEN_NOW)


class Stream:
    """Sends events until stopped or refused; remembers what was sent and what was acknowledged."""

    def __init__(self, url: str, key: str, rng: random.Random, prefix: str) -> None:
        self.url, self.key, self.rng, self.prefix = url, key, rng, prefix
        self.sent: set[str] = set()
        self.acked: set[str] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def event(self, index: int) -> dict[str, Any]:
        ts = NOW - timedelta(seconds=self.rng.randrange(1, 60 * 86_400))
        return {"event_id": f"{self.prefix}-{index}", "lead_id": f"c{self.rng.randrange(LEADS)}",
                "type": self.rng.choice(["email_open", "page_view", "page_view", "demo_request"]),
                "ts": ts.isoformat() + "Z",
                "properties": {"url": self.rng.choice(["/", "/pricing", "/blog"])}}

    def run(self) -> None:
        index = 0
        with httpx.Client(base_url=self.url, headers={"X-API-Key": self.key}, timeout=5.0) as client:
            while not self.stop.is_set() and index < 5_000:
                size = self.rng.choice([1, 1, 3])
                events = [self.event(index + i) for i in range(size)]
                index += size
                if self.acked and self.rng.random() < 0.1:  # resend an acknowledged event: a no-op
                    events[0]["event_id"] = self.rng.choice(sorted(self.acked))
                ids = [e["event_id"] for e in events]
                self.sent.update(ids)
                body: dict[str, Any] = events[0] if size == 1 else {"events": events}
                try:
                    response = client.post("/v1/events", json=body)
                except httpx.HTTPError:
                    return
                if response.status_code == 200:
                    self.acked.update(ids)
                elif response.status_code != 409:  # a resend may clash with a random new event's id: never here
                    raise AssertionError(response.text)


@pytest.fixture
def zygote() -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([sys.executable, str(ZYGOTE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
    try:
        yield process
    finally:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        process.kill()
        process.wait()
        process.stdout.close()


def fork_server(zygote: subprocess.Popen[str], store: Path | str, model: Path) -> tuple[int, str]:
    assert zygote.stdin is not None and zygote.stdout is not None
    port = free_port()
    zygote.stdin.write(f"{store} {model} {port} {FROZEN_NOW}\n")
    zygote.stdin.flush()
    pid = int(zygote.stdout.readline())
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/docs", timeout=1.0).status_code == 200:
                return pid, url
        except httpx.HTTPError:
            time.sleep(0.02)
    raise AssertionError("forked server did not start")


@pytest.mark.parametrize("backend", list(KILLS))
def test_kill_9_during_ingest_loses_no_acknowledged_event_and_scores_equal_a_batch_rescore(
        tmp_path: Path, zygote: subprocess.Popen[str], backend: str, request: pytest.FixtureRequest) -> None:

    rng = random.Random(20261123)
    model = tmp_path / "model.yaml"
    model.write_text(SERVE_MODEL.replace("page_view: 1}", "page_view: 1, pricing: {type: page_view, "
                                                          "where: \"url LIKE '/pricing%'\", points: 3}}"),
                     encoding="utf-8")
    store = new_store(request, tmp_path, backend)
    kills = KILLS[backend]
    key = make_key(store, "write")
    first = start_server(store, model, keys={"write": key, "admin": key}, folder=tmp_path)
    with first.client("write") as client:
        client.put("/v1/accounts/1", json={"industry": "technology"}).raise_for_status()
        for index in range(LEADS):
            client.put(f"/v1/leads/c{index}", json={"account_id": 1 if index % 2 else None,
                                                    "seniority": rng.choice(["vp", "director", "individual"]),
                                                    "created_at": "2026-01-01T00:00:00Z"}).raise_for_status()
    first.kill()
    sent: set[str] = set()
    acked: set[str] = set()
    for cycle in range(kills):
        pid, url = fork_server(zygote, store, model)
        stream = Stream(url, key, rng, f"k{cycle}")
        stream.thread.start()
        deadline = time.monotonic() + 10  # the machine may be slow: let a few ingests through first
        while len(stream.acked) < 2 and time.monotonic() < deadline and stream.thread.is_alive():
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.3))  # then kill at a random moment of the stream
        os.kill(pid, signal.SIGKILL)
        stream.stop.set()
        stream.thread.join(timeout=10)
        sent |= stream.sent
        acked |= stream.acked
    assert len(acked) >= kills * 2, "every cycle should have had acknowledged ingests"

    final = start_server(store, model, keys={"write": key, "admin": key}, folder=tmp_path)
    try:
        with final.client("write") as client:
            stored_count = client.get("/v1/status").json()["counts"]["events"]
            lead = client.get("/v1/leads/c1").json()
    finally:
        final.stop()
    stored = [row[0] for row in store_rows(store, "SELECT event_id FROM events")]
    served = {row[0]: row[1:] for row in store_rows(
        store, "SELECT lead_id, total, stage, grade FROM scores WHERE model_version = "
               "(SELECT version FROM models WHERE status = 'active')")}
    assert len(stored) == len(set(stored)) == stored_count
    assert acked <= set(stored), f"acknowledged but lost: {sorted(acked - set(stored))[:5]}"
    assert set(stored) <= sent

    batch, exported = assert_scores_equal_a_batch_rescore(store, model, tmp_path, served, NOW)
    assert exported["events"] == len(stored)
    assert lead["total"] == pytest.approx(batch["c1"][0], abs=1e-9)


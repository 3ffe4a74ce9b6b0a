"""Group commit: concurrent ``POST /v1/events`` requests share one write transaction, and each still
gets exactly the answer it would have got alone (its events' statuses, its leads' scores, its own
error). In process on a real SQLite store, then through the real server under concurrent senders."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from leadscore.server import store
from leadscore.server.app import prepare_store
from leadscore.server.group_commit import GroupCommit, Ingest
from leadscore.server.service import Models, ScoringService
from leadscore.server.settings import Settings
from leadscore.server.store import Conflict, StoredEvent, to_us
from serve_support import FROZEN_NOW, SERVE_MODEL, assert_scores_equal_a_batch_rescore, start_server, store_rows

NOW = datetime.fromisoformat(FROZEN_NOW)


def _service(tmp_path: Path, leads: int) -> ScoringService:
    model_file = tmp_path / "model.yaml"
    model_file.write_text(SERVE_MODEL, encoding="utf-8")
    settings = Settings(store=tmp_path / "store.db", model=model_file, frozen_now=f"{FROZEN_NOW}Z")
    con = store.connect(settings.store)
    active, _pending = prepare_store(settings, con)
    service = ScoringService(con, Models(active), now=settings.now)
    for index in range(leads):
        service.put_lead(f"c{index}", {"seniority": "vp", "created_at": "2026-01-01T00:00:00Z"})
    return service


def _event(event_id: str, lead: str, kind: str = "page_view", minutes: int = 5) -> StoredEvent:
    return StoredEvent(event_id, lead, to_us(NOW - timedelta(minutes=minutes)), kind, {}, False)


def _counted(service: ScoringService) -> tuple[list[int], Ingest]:
    """The service's ingest, noting the size of each batch it is given (one per group)."""
    calls: list[int] = []

    def ingest(events: Sequence[StoredEvent]) -> dict[str, Any]:
        calls.append(len(events))
        return service.ingest(events)

    return calls, ingest


async def _submit_together(group: GroupCommit, requests: list[list[StoredEvent]]) -> list[Any]:
    answers: list[Any] = await asyncio.gather(*(group.submit(events) for events in requests), return_exceptions=True)
    return answers


def test_requests_submitted_together_share_one_transaction_and_get_their_own_results(tmp_path: Path) -> None:
    service = _service(tmp_path, 3)
    calls, ingest = _counted(service)
    group = GroupCommit(ingest, max_events=100)
    requests = [[_event("e1", "c0")], [_event("e2", "c1", "demo_request")],
                [_event("e3", "c0"), _event("e4", "c2")], [_event("e1", "c0")]]  # the last repeats e1
    results = asyncio.run(_submit_together(group, requests))

    assert calls == [5], "one ingest for the four requests"
    assert (group.groups, group.grouped_requests) == (1, 4)
    assert [[item["event_id"] for item in r["results"]] for r in results] == [["e1"], ["e2"], ["e3", "e4"], ["e1"]]
    assert [item["status"] for r in results for item in r["results"]] == [
        "stored", "stored", "stored", "stored", "duplicate"]
    assert sorted(results[2]["leads"]) == ["c0", "c2"] and list(results[1]["leads"]) == ["c1"]
    # Each request sees its leads as stored after the group: c0 has e1 and e3 in every answer about it.
    assert results[0]["leads"]["c0"] == results[2]["leads"]["c0"] == results[3]["leads"]["c0"]
    assert results[0]["leads"]["c0"]["total"] == service.read_score("c0", service.now())["total"]
    assert results[1]["leads"]["c1"]["stage"] == "hot"  # the demo request's 40 points
    assert store_rows(tmp_path / "store.db", "SELECT count(*) FROM events") == [(4,)]


def test_a_failing_request_gets_its_error_and_the_others_of_its_group_are_stored(tmp_path: Path) -> None:
    service = _service(tmp_path, 2)
    service.ingest([_event("old", "c0")])
    calls, ingest = _counted(service)
    group = GroupCommit(ingest, max_events=100)
    reused = _event("old", "c1", "email_open")  # the id of a stored event, with other content: 409
    results = asyncio.run(_submit_together(group, [[_event("a", "c0")], [reused], [_event("b", "c1")]]))

    assert calls == [3, 1, 1, 1], "the group failed as a whole, then each request ran alone"
    assert isinstance(results[1], Conflict)
    assert [r["results"][0]["status"] for r in (results[0], results[2])] == ["stored", "stored"]
    assert sorted(row[0] for row in store_rows(tmp_path / "store.db", "SELECT event_id FROM events")) == [
        "a", "b", "old"]


def test_a_group_holds_at_most_max_events_and_never_splits_a_request(tmp_path: Path) -> None:
    service = _service(tmp_path, 4)
    calls, ingest = _counted(service)
    group = GroupCommit(ingest, max_events=4)
    requests = [[_event(f"r{r}-{i}", f"c{r}") for i in range(size)] for r, size in enumerate((3, 2, 1, 5))]
    results = asyncio.run(_submit_together(group, requests))

    assert calls == [3, 3, 5], "3 | 2+1 | 5: a request larger than the bound goes alone, whole"
    assert [len(r["results"]) for r in results] == [3, 2, 1, 5]
    assert all(item["status"] == "stored" for r in results for item in r["results"])


def test_concurrent_single_event_senders_are_grouped_and_agree_with_a_batch_rescore(tmp_path: Path) -> None:
    model = tmp_path / "model.yaml"
    model.write_text(SERVE_MODEL, encoding="utf-8")
    server = start_server(tmp_path / "store.db", model)
    leads, senders = 40, 16
    answers: list[tuple[dict[str, Any], int, dict[str, Any], bool]] = []
    lock = threading.Lock()

    def send(sender: int) -> None:
        rng = random.Random(sender)
        last: dict[str, Any] = {}
        with server.client("write") as client:
            for index in range(25):
                event = {"event_id": f"s{sender}-{index}", "lead_id": f"c{rng.randrange(leads)}",
                         "type": rng.choice(["page_view", "email_open", "demo_request"]),
                         "ts": (NOW - timedelta(minutes=rng.randrange(1, 9_000))).isoformat() + "Z"}
                resend = index % 10 == 9  # resend this sender's last event: a duplicate, answered as such
                if resend:
                    event = last
                response = client.post("/v1/events", json=event)
                with lock:
                    answers.append((event, response.status_code, response.json(), resend))
                last = event
    try:
        with server.client("write") as client:
            client.put("/v1/accounts/1", json={"industry": "technology"}).raise_for_status()
            for index in range(leads):
                client.put(f"/v1/leads/c{index}", json={"seniority": ["vp", "director", "x"][index % 3],
                                                        "account_id": 1 if index % 2 else None,
                                                        "created_at": "2026-01-01T00:00:00Z"}).raise_for_status()
        threads = [threading.Thread(target=send, args=(sender,)) for sender in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        with server.client("read") as client:
            status = client.get("/v1/status").json()
    finally:
        server.stop()

    assert len(answers) == senders * 25
    for event, code, body, resend in answers:
        assert code == 200, body
        assert body["event_id"] == event["event_id"] and body["lead_id"] == event["lead_id"]
        assert body["lead"]["lead_id"] == event["lead_id"]
        assert body["status"] == ("duplicate" if resend else "stored")
    grouped = status["group_commit"]
    assert grouped["requests"] == senders * 25 and grouped["groups"] < grouped["requests"], grouped

    stored = [row[0] for row in store_rows(server.store, "SELECT event_id FROM events")]
    assert sorted(stored) == sorted({event["event_id"] for event, _code, _body, _resend in answers})
    served = {row[0]: row[1:] for row in store_rows(
        server.store, "SELECT lead_id, total, stage, grade FROM scores WHERE model_version = "
                      "(SELECT version FROM models WHERE status = 'active')")}
    assert_scores_equal_a_batch_rescore(server.store, server.model, tmp_path, served, NOW)


def test_group_commit_can_be_turned_off(tmp_path: Path) -> None:
    model = tmp_path / "model.yaml"
    model.write_text(SERVE_MODEL, encoding="utf-8")
    server = start_server(tmp_path / "store.db", model, env={"LEADSCORE_GROUP_COMMIT": "false"})
    try:
        with server.client("write") as client:
            client.put("/v1/leads/c1", json={"seniority": "vp"}).raise_for_status()
            answer = client.post("/v1/events", json={"event_id": 1, "lead_id": "c1", "type": "demo_request",
                                                     "ts": "2026-06-29T23:00:00Z"})
        with httpx.Client(base_url=server.url, headers={"X-API-Key": server.keys["read"]}) as client:
            status = client.get("/v1/status").json()
    finally:
        server.stop()
    assert answer.status_code == 200 and answer.json()["lead"]["stage"] == "hot", answer.json()["lead"]
    assert status["group_commit"] is None


def test_a_large_batch_is_ingested_on_its_own_at_once(tmp_path: Path) -> None:
    service = _service(tmp_path, 3)
    calls, ingest = _counted(service)
    group = GroupCommit(ingest, max_events=1_000, alone_from=20)
    requests = [[_event("s1", "c0")], [_event(f"b{i}", "c1") for i in range(25)], [_event("s2", "c2")]]
    results = asyncio.run(_submit_together(group, requests))

    assert calls == [25, 2], "the batch of 25 alone, when it came; the two single events together"
    assert (group.groups, group.grouped_requests) == (1, 2)
    assert [len(r["results"]) for r in results] == [1, 25, 1]

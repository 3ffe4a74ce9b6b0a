"""The fast path of ``POST /v1/events`` (server/fast_events.py) answers exactly as the FastAPI route.

Differential: the same requests go, in the same order, to two real servers over equal stores, one
with ``LEADSCORE_FAST_EVENTS=false``; every answer must be the same bytes (status, headers but the
date, body). The requests cover the success path (taken by the fast path) and each way a request is
refused (handed to the FastAPI route, or raised by the ingest). In process: which requests the fast
path answers itself, and that pydantic's JSON parsing accepts no body that FastAPI's refuses.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter, ValidationError

from leadscore.server.commands import revoke_key
from leadscore.server.schemas import EventsBody
from serve_support import FROZEN_NOW, SERVE_MODEL, Server, make_key, start_server

TS = "2026-06-29T10:00:00Z"
MAX_BATCH = 5
MAX_BODY = 20_000
LIMITS = {"LEADSCORE_MAX_BATCH_EVENTS": str(MAX_BATCH), "LEADSCORE_MAX_BODY_BYTES": str(MAX_BODY)}


def event(event_id: Any, lead_id: Any, kind: str = "page_view", ts: str = TS, **props: Any) -> dict[str, Any]:
    return {"event_id": event_id, "lead_id": lead_id, "type": kind, "ts": ts, "properties": props}


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


@dataclass
class Call:
    """One request: ``key`` names the server's key to send (None: no X-API-Key header)."""

    label: str
    body: bytes | None = None
    key: str | None = "write"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    method: str = "POST"
    path: str = "/v1/events"
    chunked: bool = False


CALLS = [
    Call("one event, int ids", as_json(event(1, 1, "demo_request", url="/pricing"))),
    Call("one event, text ids", as_json(event("t-1", "lead-a", "email_open", url="/blog/ünïcode"))),
    Call("a batch, one of an unknown lead",
         as_json({"events": [event("b-1", "lead-a"), event("b-2", 1), event("b-3", "nobody")]})),
    Call("the same event again", as_json(event(1, 1, "demo_request", url="/pricing"))),
    Call("a batch repeating a stored event", as_json({"events": [event("t-1", "lead-a", "email_open",
                                                                       url="/blog/ünïcode"), event("b-4", 1)]})),
    Call("an id reused with other content: 409", as_json(event(1, 1, "email_open"))),
    Call("an id reused inside a batch: 409", as_json({"events": [event("b-5", 1), event("b-1", 1)]})),
    Call("an unknown lead (kept)", as_json(event("u-1", "not-yet"))),
    Call("non-ASCII ids", as_json(event("ünï-1", "nöbody-ü"))),
    # A score decayed to 9.5e-07: FastAPI renders it with pydantic ("9.5367431640625e-7"), json.dumps
    # would write "e-07"; this answer tells the two apart.
    Call("an old event: a tiny decayed score", as_json(event("old-1", "old", ts="2025-12-12T00:00:00Z"))),
    Call("an int id sent as 7.0, a float and a bool property",
         as_json(event(7.0, 1, x=1e16, y=0.1, flag=True, none=None))),
    Call("a NaN property", b'{"event_id": "nan-1", "lead_id": 1, "type": "page_view", "ts": "' + TS.encode()
         + b'", "properties": {"v": NaN}}'),
    Call("a timestamp as a number", as_json({**event("num-ts", 1), "ts": 1782727200})),
    Call("charset in the content type", as_json(event("cs-1", 1)),
         headers={"Content-Type": "application/json; charset=utf-8"}),
    Call("a +json content type (the route takes it)", as_json(event("cs-2", 1)),
         headers={"Content-Type": "application/vnd.api+json"}),
    Call("a chunked body", as_json(event("ch-1", "lead-a")), chunked=True),
    Call("a UTF-8 byte-order mark", b"\xef\xbb\xbf" + as_json(event("bom-1", 1))),
    Call("malformed JSON: 400", b'{"event_id": '),
    Call("an empty body", b""),
    Call("JSON that is not an object", b"[1, 2]"),
    Call("no ts", as_json({k: v for k, v in event("v-1", 1).items() if k != "ts"})),
    Call("ts without a zone", as_json(event("v-2", 1, ts="2026-06-29T10:00:00"))),
    Call("an extra field", as_json({**event("v-3", 1), "colour": "red"})),
    Call("an empty type", as_json(event("v-4", 1, kind=""))),
    Call("an id that is a list", as_json(event(["x"], 1))),
    Call("a lone surrogate", b'{"event_id": "\\ud800", "lead_id": 1, "type": "page_view", "ts": "' + TS.encode()
         + b'"}'),
    Call("an empty batch", as_json({"events": []})),
    Call("a batch over the limit", as_json({"events": [event(f"big-{i}", 1) for i in range(MAX_BATCH + 1)]})),
    Call("a future timestamp", as_json(event("f-1", 1, ts="2026-07-30T10:00:00Z"))),
    Call("a future timestamp in a batch", as_json({"events": [event("f-2", 1),
                                                              event("f-3", 1, ts="2026-07-30T10:00:00Z")]})),
    Call("a reserved property name", as_json({**event("r-1", 1), "properties": {"lead_id": "x"}})),
    Call("missing key: 401", as_json(event("k-1", 1)), key=None),
    Call("a key that is not one: 401", as_json(event("k-2", 1)), key="bogus"),
    Call("a valid key id with a wrong secret: 401", as_json(event("k-3", 1)), key="wrong-secret"),
    Call("a read key: 403", as_json(event("k-4", 1)), key="read"),
    Call("a spare write key, first use", as_json(event("k-5", 1)), key="spare"),
    Call("the spare key again (now verified)", as_json(event("k-6", 1)), key="spare"),
    Call("the spare key after it is revoked: 401", as_json(event("k-7", 1)), key="revoked"),
    Call("text/plain", as_json(event("ct-1", 1)), headers={"Content-Type": "text/plain"}),
    Call("no content type", as_json(event("ct-2", 1)), headers={}),
    Call("form content type", b"event_id=1", headers={"Content-Type": "application/x-www-form-urlencoded"}),
    Call("a body over the size limit: 413", b'{"x": "' + b"y" * MAX_BODY + b'"}'),
    Call("a body over the size limit, chunked: 413", b'{"x": "' + b"y" * MAX_BODY + b'"}', chunked=True),
    Call("GET: 405", None, method="GET"),
    Call("a trailing slash: redirect", as_json(event("sl-1", 1)), path="/v1/events/"),
    Call("after all that, one more event", as_json(event("last", 1, "page_view"))),
    Call("the lead's score", None, method="GET", path="/v1/leads/1"),
    Call("the other lead's score", None, method="GET", path="/v1/leads/lead-a"),
]


@dataclass
class Pair:
    fast: Server
    route: Server


def _setup(server: Server) -> None:
    """The same accounts, leads and extra keys on each server's store."""
    with server.client("admin") as api:
        api.put("/v1/accounts/10", json={"industry": "technology"}).raise_for_status()
        for lead, fields in (("1", {"seniority": "vp"}), ("lead-a", {"seniority": "director"}),
                             ("old", {"created_at": "2025-01-01T00:00:00Z"})):
            api.put(f"/v1/leads/{lead}", json={"account_id": 10, "created_at": "2026-06-01T09:00:00Z",
                                               "region": "europe", **fields}).raise_for_status()
    server.keys["spare"] = make_key(server.store, "write")
    server.keys["wrong-secret"] = server.keys["write"][:-4] + ("AAAA" if not server.keys["write"].endswith("AAAA")
                                                              else "BBBB")
    server.keys["bogus"] = "lsk_nothing_here"


@pytest.fixture(scope="module", params=["group-commit", "no-group-commit"])
def pair(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Pair]:
    env = {**LIMITS, "LEADSCORE_GROUP_COMMIT": "true" if request.param == "group-commit" else "false"}
    servers: list[Server] = []
    try:
        for fast in ("true", "false"):
            folder = tmp_path_factory.mktemp(f"fast_events_{fast}")
            model = folder / "model.yaml"
            model.write_text(SERVE_MODEL, encoding="utf-8")
            servers.append(start_server(folder / "store.db", model, folder=folder,
                                        env={**env, "LEADSCORE_FAST_EVENTS": fast}))
            _setup(servers[-1])
        yield Pair(*servers)
    finally:
        for server in servers:
            server.stop()
        for server in servers:
            assert "Traceback" not in server.log_text(), server.log_text()[-3000:]


def _send(server: Server, call: Call) -> tuple[int, list[tuple[str, str]], bytes]:
    if call.key == "revoked":
        revoke_key(server.store, server.keys["spare"].split("_")[1])
        call = Call(call.label, call.body, "spare", call.headers, call.method, call.path, call.chunked)
    headers = {"Host": "leadscore.test", **call.headers}  # one host for both: a redirect names it
    if call.key is not None:
        headers["X-API-Key"] = server.keys[call.key]
    content: Any = call.body
    if call.chunked and call.body is not None:
        body = call.body
        content = (body[i:i + 1000] for i in range(0, len(body), 1000))
    with httpx.Client(base_url=server.url, timeout=30.0, follow_redirects=False) as client:
        response = client.request(call.method, call.path, content=content, headers=headers)
    kept = [(name, value) for name, value in response.headers.multi_items() if name not in {"date", "server"}]
    return response.status_code, kept, response.content


def test_every_answer_is_the_same_bytes_with_and_without_the_fast_path(pair: Pair) -> None:
    statuses: dict[str, int] = {}
    for call in CALLS:
        fast, route = _send(pair.fast, call), _send(pair.route, call)
        assert fast == route, f"{call.label}:\n fast path: {fast}\n route:     {route}"
        assert fast[0] == 307 or dict(fast[1])["content-type"] == "application/json", call.label
        statuses[call.label] = fast[0]
    # The sequence meant what it says: each kind of answer was reached.
    assert statuses["one event, int ids"] == statuses["a batch, one of an unknown lead"] == 200
    assert statuses["an id reused with other content: 409"] == statuses["an id reused inside a batch: 409"] == 409
    assert statuses["malformed JSON: 400"] == 400
    assert {statuses[c] for c in ("no ts", "ts without a zone", "an extra field", "a batch over the limit",
                                  "a future timestamp", "a reserved property name", "text/plain")} == {422}
    assert statuses["missing key: 401"] == statuses["the spare key after it is revoked: 401"] == 401
    assert statuses["a read key: 403"] == 403
    assert statuses["a body over the size limit: 413"] == statuses["a body over the size limit, chunked: 413"] == 413
    assert statuses["the spare key again (now verified)"] == 200


def test_the_schema_still_documents_post_events(pair: Pair) -> None:
    fast = httpx.get(f"{pair.fast.url}/openapi.json")
    route = httpx.get(f"{pair.route.url}/openapi.json")
    assert fast.status_code == 200 and fast.content == route.content
    operation = fast.json()["paths"]["/v1/events"]["post"]
    assert operation["summary"].startswith("Ingest one event or a batch")
    assert operation["requestBody"]["required"] is True
    assert "application/json" in operation["requestBody"]["content"]
    assert "422" in operation["responses"] and "401" in operation["responses"]
    assert httpx.get(f"{pair.fast.url}/docs").status_code == 200


# -- in process ---------------------------------------------------------------------------------------


def test_the_fast_path_answers_the_good_requests_and_hands_over_the_others(tmp_path: Path) -> None:
    from leadscore.server.app import create_app
    from leadscore.server.fast_events import FastEvents, FastEventsRoute
    from leadscore.server.settings import Settings

    model = tmp_path / "model.yaml"
    model.write_text(SERVE_MODEL, encoding="utf-8")
    app = create_app(Settings(store=tmp_path / "store.db", model=model, frozen_now=f"{FROZEN_NOW}Z",
                              max_batch_events=MAX_BATCH, decay_sweep_seconds=0, checkpoint_seconds=0))
    route = app.router.routes[0]
    assert isinstance(route, FastEventsRoute) and isinstance(route.endpoint, FastEvents)
    endpoint = route.endpoint

    async def run() -> list[tuple[int, int]]:
        async with app.router.lifespan_context(app):
            key = make_key(tmp_path / "store.db", "write")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                         headers={"X-API-Key": key}) as client:
                counts: list[tuple[int, int]] = []
                for body in (event("e1", "x"), event("e2", "x"), {"events": [event("e3", "x")]},
                             event("e4", "x", ts="2030-01-01T00:00:00Z"), {"event_id": "e5"}):
                    await client.post("/v1/events", json=body)
                    counts.append((endpoint.answered, endpoint.handed_over))
                assert (await client.post("/v1/events", json=event("e1", "x", "email_open"))).status_code == 409
                counts.append((endpoint.answered, endpoint.handed_over))
                return counts

    counts = asyncio.run(run())
    # The key's first use goes to the route (it verifies the key); then the fast path answers
    # e2 and the batch, hands over the future timestamp and the invalid body, and raises the 409.
    assert counts == [(0, 1), (1, 1), (2, 1), (2, 2), (2, 3), (2, 3)]

    off = create_app(Settings(store=tmp_path / "store.db", model=model, fast_events=False))
    assert not any(isinstance(r, FastEventsRoute) for r in off.router.routes)


BODIES = [
    b'{"event_id": 1, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z"}',
    b'{"events": [{"event_id": 1, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00+02:00"}]}',
    b'{"event_id": 1, "event_id": 2, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z"}',
    b'{"event_id": 1.0, "lead_id": true, "type": "x", "ts": 1782000000}',
    b'{"event_id": 1, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z", "properties": {"v": 1e400}}',
    b'{"event_id": 1, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z", "properties": {"v": NaN}}',
    b'{"event_id": 1, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z", "properties": {"v": -Infinity}}',
    b'{"event_id": 1, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z", "properties": {"v": 1.5e-320}}',
    b'{"event_id": 12345678901234567890, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z"}',
    b'{"event_id": "\\ud800", "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z"}',
    b'{"event_id": "\\ud83d\\ude00", "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z"}',
    b'{"event_id": 1, "lead_id": "a", "type": "\xed\xa0\x80", "ts": "2026-06-29T10:00:00Z"}',
    b'{"event_id": 1, "lead_id": "a", "type": "x\x01", "ts": "2026-06-29T10:00:00Z"}',
    b'{"event_id": 1, "lead_id": "a", "type": "\xff", "ts": "2026-06-29T10:00:00Z"}',
    b'\xef\xbb\xbf{"event_id": 1, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z"}',
    b' \t\r\n{"event_id": 1, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z"} \n',
    b'{"event_id": 1, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z"} x',
    '{"event_id": 1, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z"}'.encode("utf-16"),
    b'{"event_id": 1, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z", "properties": {"v": 01}}',
    b'{"event_id": 1, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z", "properties": {"v": [1]}}',
    b'{"event_id": 1, "lead_id": "a", "type": "x", "ts": "2026-06-29T10:00:00Z", "properties": {"v": "' + b"[" * 2000
    + b'"}}',
    b"[" * 5000 + b"]" * 5000,
]


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left) and math.isnan(right):
        return True
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    return type(left) is type(right) and bool(left == right)


@pytest.mark.parametrize("body", BODIES)
def test_a_body_the_fast_path_parses_is_parsed_the_same_by_the_route(body: bytes) -> None:
    """The fast path parses with pydantic's JSON parser, the route with json.loads then pydantic: every
    body the first accepts, the second accepts as the same events (what it refuses goes to the route)."""
    adapter: TypeAdapter[Any] = TypeAdapter(EventsBody)
    try:
        fast = adapter.validate_json(body)
    except ValidationError:
        return
    route = adapter.validate_python(json.loads(body))
    assert type(fast) is type(route)
    assert _same(fast.model_dump(), route.model_dump())

"""``POST /v1/events`` without FastAPI's per-request machinery, for the well-formed, authorised request.

Why: it is the hot endpoint (one event per request, thousands a second). py-spy put FastAPI's handler
(dependency solving, validation plumbing, response-model serialisation) at 10-12% of a worker's CPU
on it, more than some of the scoring. This endpoint does the route's own steps directly.

How: a Starlette ``Route`` placed in front of FastAPI's route for the same path (it is left out of
the schema: ``/openapi.json`` and ``/docs`` still describe the route in ``routes.py``). It reads the
body and answers only when everything that can refuse a request passes before anything is stored:
a JSON content type, a write-scope key the key cache has verified before, a body that validates, the
batch limit, ``checked_events`` (no future times, no reserved property names). It then ingests
(through the group commit when on) and sends the bytes FastAPI would send: the route's response
model is its return annotation ``dict[str, Any]``, which FastAPI serialises with pydantic's
``dump_json`` into a 200 with ``content-length`` and ``content-type: application/json``.

Any other request (no or unknown key, weak scope, another content type, bad JSON, a 422, a key not
yet in the cache, dependency overrides in tests) is handed, unchanged and with its body replayed, to
the FastAPI route: the router dispatches it again with this route stepping aside. So every error is
rendered by the code that renders it today. Errors of the ingest itself (409 for a reused event id,
503 from the store) are raised, not handed over, since that would ingest twice: the app's exception
handlers render them as they do for the route. The middleware (body limit, access log) wraps the
router, so it sees both paths alike.

``LEADSCORE_FAST_EVENTS=false`` leaves it out (tests compare both; an escape hatch).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from pydantic import TypeAdapter, ValidationError
from starlette.routing import Match, Route

from leadscore.errors import DataError
from leadscore.server.keys import KeyCache
from leadscore.server.routes import checked_events, ingest_events
from leadscore.server.schemas import EventsBody
from leadscore.server.service import ScoringService
from leadscore.server.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PATH = "/v1/events"
HANDED_OVER = "leadscore.events_handed_over"
"""Scope key set on a request handed to the FastAPI route: this route then does not match it."""

_BODY: TypeAdapter[Any] = TypeAdapter(EventsBody)
_ANSWER: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])
"""The route's response model, dumped as FastAPI dumps it (``dump_json``, default options). Not
``json.dumps``: that writes some floats otherwise (``1e-07`` for pydantic's ``1e-7``, ``NaN`` for ``null``)."""
_JSON = frozenset({b"application/json", b"application/json; charset=utf-8", b"application/json;charset=utf-8"})
"""Content types taken here, compared in lower case; FastAPI takes any ``application/*json``, and the
rest of those go to it."""


class FastEventsRoute(Route):
    """Matches ``POST /v1/events`` only (other methods reach FastAPI's route, which answers 405 as before),
    and not a request it handed over."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != "POST" or HANDED_OVER in scope:
            return Match.NONE, {}
        return super().matches(scope)


def mount(app: FastAPI) -> None:
    """Put the fast path in front of the routes of ``app`` (after ``include_router``)."""
    app.router.routes.insert(0, FastEventsRoute(PATH, FastEvents(app.router), methods=["POST"],
                                                include_in_schema=False))


class FastEvents:
    """The ASGI endpoint (see the module doc); ``router`` is the app's, to hand requests over.

    ``answered`` and ``handed_over`` count the requests of each kind (tests check the split)."""

    def __init__(self, router: ASGIApp) -> None:
        self.router = router
        self.answered = 0
        self.handed_over = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        payload = None
        if message["type"] == "http.request":
            body = messages[0].get("body", b"") if len(messages) == 1 else b"".join(
                m.get("body", b"") for m in messages)
            payload = await self._answer(scope, body)
        if payload is None:
            self.handed_over += 1
            await self._hand_over(scope, messages, receive, send)
            return
        self.answered += 1
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(payload)).encode("latin-1")),
                                (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})

    async def _answer(self, scope: Scope, body: bytes) -> bytes | None:
        """The response body, once the events are stored; None (nothing done) to hand the request over."""
        app: FastAPI = scope["app"]
        if app.dependency_overrides:
            return None
        content_type = presented = None
        for name, value in scope["headers"]:  # the first of each, as Starlette's Headers.get
            if name == b"content-type" and content_type is None:
                content_type = value
            elif name == b"x-api-key" and presented is None:
                presented = value
        if content_type is None or presented is None or content_type.lower() not in _JSON:
            return None
        state = app.state
        service: ScoringService = state.service
        settings: Settings = state.settings
        keys: KeyCache = state.keys
        try:  # what the route's dependencies do (get_service, the WriteKey check)
            service.sync_models(service.con)
            key = keys.check(service.con, presented.decode("latin-1"), verify=False)
        except Exception:  # the route meets it again and renders it as it does today
            return None
        if key is None or not key.allows("write"):
            return None
        try:
            parsed = _BODY.validate_json(body)
            stored = checked_events(parsed, service, settings)
        except (ValidationError, DataError):
            return None
        answer = await ingest_events(parsed, stored, service, state.group_commit)  # its errors propagate
        return _ANSWER.dump_json(answer)

    async def _hand_over(self, scope: Scope, messages: list[Message], receive: Receive, send: Send) -> None:
        """Dispatch the request again, to FastAPI's route, with the messages already read replayed."""
        pending = list(messages)

        async def replay() -> Message:
            return pending.pop(0) if pending else await receive()

        scope[HANDED_OVER] = True
        await self.router(scope, replay, send)

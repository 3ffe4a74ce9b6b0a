"""The FastAPI application: ``create_app(settings)``, its lifespan, error bodies and size limits.

The store connection, the webhook dispatcher and the model rebuilder live in the lifespan: opened
at startup, closed at shutdown. Every error is a JSON body ``{"error", "type", "issues"}`` (the
shape the CLI prints with ``--json``); nothing ever returns a stack trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadscore.api.serving import ServingModel, load_serving_model
from leadscore.errors import BackendError, DataError, Issue, LeadScoreError, ModelError
from leadscore.server import store, versions
from leadscore.server.checkpoint import WalCheckpointer
from leadscore.server.decay import DecaySweep
from leadscore.server.group_commit import GroupCommit
from leadscore.server.keys import KeyCache
from leadscore.server.leader import Leadership, PostgresLeadership
from leadscore.server.schemas import BODY_TAGS
from leadscore.server.service import Models, NotFound, ScoringService
from leadscore.server.settings import Settings, get_settings
from leadscore.server.store import Conflict, Connection, to_us
from leadscore.server.versions import Rebuilder
from leadscore.server.webhooks import Dispatcher

log = logging.getLogger(__name__)
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def prepare_store(settings: Settings, con: Connection | None = None
                  ) -> tuple[ServingModel, ServingModel | None]:
    """Open the store and decide what to serve; raise a LeadScoreError before anything listens.

    Returns the active model and the one to build (a changed ``--model`` file, or a build a
    restart interrupted). A store without a model takes ``settings.model`` as its first version.
    """
    own = con is None
    con = con or store.connect(settings.store, synchronous=settings.synchronous)
    try:
        from_file = load_serving_model(settings.model) if settings.model is not None else None
        active = versions.stored_model(con, "active", same_as=from_file)
        if active is None:
            if from_file is None:
                raise DataError("the store has no model yet", [Issue("no model", file=store.redact(settings.store),
                                                                     hint="start with --model MODEL.yaml")])
            with store.transaction(con):
                versions.record(con, from_file, "active", to_us(settings.now()), "activated")
            return from_file, None
        if from_file is not None and from_file.version != active.version:
            return active, from_file
        return active, versions.stored_model(con, "building")
    finally:
        if own:
            con.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service over ``settings.store`` (default: ``get_settings()`` from ``LEADSCORE_*``)."""
    config = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if config.prewarm and isinstance(config.store, Path):  # a Postgres server caches on its own
            _prewarm(config.store)  # before any SQLite connection of this process: see _prewarm
        con = store.connect(config.store, synchronous=config.synchronous)
        active, pending = prepare_store(config, con)

        def connect() -> Connection:
            return store.connect(config.store, synchronous=config.synchronous)

        wal_thread = config.checkpoint_seconds > 0 and con.dialect == "sqlite"  # Postgres checkpoints itself
        if wal_thread:
            con.execute("PRAGMA wal_autocheckpoint = 0")  # the leader's checkpointer thread does it
        loop = asyncio.get_running_loop()
        dispatcher = Dispatcher(con, secret=config.webhook_secret.get_secret_value(),
                                timeout_seconds=config.webhook_timeout_seconds,
                                backoff_seconds=config.webhook_backoff_seconds,
                                backoff_max_seconds=config.webhook_backoff_max_seconds,
                                max_attempts=config.webhook_max_attempts, poll_seconds=config.webhook_poll_seconds)
        service = ScoringService(con, Models(active), now=config.now, history_limit=config.history_limit,
                                 on_enqueued=lambda: _wake(loop, dispatcher))
        rebuilder = Rebuilder(service, connect, chunk=config.rebuild_chunk_leads,
                              pause_seconds=config.rebuild_pause_seconds)
        checkpointer = WalCheckpointer(connect, interval_seconds=config.checkpoint_seconds)
        sweep = DecaySweep(service, connect, interval_seconds=config.decay_sweep_seconds,
                           chunk=config.rebuild_chunk_leads)
        tasks: list[asyncio.Task[None]] = []
        following: list[asyncio.Task[None]] = []
        leadership = (Leadership(config.store) if isinstance(config.store, Path)
                      else PostgresLeadership(connect))
        rebuilder.leading = lambda: leadership.held
        service.on_models_synced = rebuilder.resume

        def lead(pending: ServingModel | None) -> None:
            """The leader's jobs: builds, webhooks, decay sweeps, WAL checkpoints (see server/leader.py)."""
            if pending is not None and (service.models.building is None
                                        or service.models.building.version != pending.version):
                rebuilder.start(pending, "reload")
            else:
                rebuilder.resume()
            tasks.append(asyncio.create_task(dispatcher.run()))
            following.append(asyncio.create_task(_follow_models(service, leadership)))
            if config.decay_sweep_seconds > 0:
                sweep.start()
            if wal_thread:
                checkpointer.start()

        def take_over() -> None:
            """A follower that becomes the leader: the model file or an interrupted build may be waiting."""
            service.sync_models(con)
            try:
                waiting_model = prepare_store(config, con)[1]
            except LeadScoreError as error:  # e.g. the model file now has errors: lead with the stored models
                log.error("model file not loaded on taking over: %s", error)
                waiting_model = None
            lead(waiting_model)

        waiting: asyncio.Task[None] | None = None
        if leadership.try_acquire():
            _fill_missing_scores(service)
            lead(pending)
        else:  # another worker leads; this one follows the store's models via sync_models
            service.sync_models(con)
            waiting = asyncio.create_task(leadership.wait_and_lead(take_over))
        app.state.settings, app.state.service, app.state.rebuilder = config, service, rebuilder
        app.state.leadership = leadership
        app.state.keys = KeyCache()
        app.state.group_commit = GroupCommit(service.ingest, config.max_batch_events) if config.group_commit else None
        _freeze_startup_objects()
        if config.model is not None:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signal.SIGHUP, _reload_from_file, config, rebuilder)
        try:
            yield
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGHUP)
            for pending_task in [*following, *([waiting] if waiting is not None else [])]:
                if not pending_task.done():
                    pending_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending_task
            dispatcher.stop()
            sweep.stop()
            for task in tasks:
                await task
            service.models = Models(service.models.active, None)  # a running build stops at its next chunk
            rebuilder.wait(timeout=10)
            checkpointer.stop()
            con.close()
            leadership.release()

    app = FastAPI(title="leadscore", version="1", lifespan=lifespan,
                  description="Real-time B2B lead scoring: ingest events, read scores with their reasons, "
                              "work the sales queue, get signed webhooks on stage changes.")
    from leadscore.server import fast_events
    from leadscore.server.routes import router

    app.include_router(router)
    if config.fast_events:
        fast_events.mount(app)
    _error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    return app


FOLLOW_ERRORS: tuple[type[Exception], ...] = (LeadScoreError, *store.StoreError)
"""What following the store's models may raise without stopping the leader: logged, tried again."""


async def _follow_models(service: ScoringService, leadership: Leadership, *, poll_seconds: float = 0.5) -> None:
    """In the leader: notice versions recorded by other workers (a POSTed model) even with no requests
    reaching this process, so that their builds start here; and check that it still leads (on
    Postgres the lock goes with a lost session). A worker that lost the lead to another stops, so that
    no job runs twice; the supervisor (``--workers``) starts it again as a follower."""
    while True:
        await asyncio.sleep(poll_seconds)
        try:
            service.sync_models(service.con)
            if not leadership.confirm():
                log.error("this worker (pid %d) lost the lead to another process; stopping it", os.getpid())
                os.kill(os.getpid(), signal.SIGTERM)
                return
        except FOLLOW_ERRORS as error:  # a stored model that no longer loads, a lost store: say so, go on
            log.error("following model changes: %s", error)


def _freeze_startup_objects() -> None:
    """Move what start-up built (models, compiled rules, caches) out of the garbage collector's sight.

    They live as long as the process, yet every full collection walked them all: tens of milliseconds
    that landed on whichever request triggered it. Measured at 1M leads, 2 workers, 16 connections:
    p99 44 ms -> 16 ms, the longest collection 5 ms (``gc.freeze``, as CPython's docs suggest for
    long-lived servers)."""
    gc.collect()
    gc.freeze()


def _wake(loop: asyncio.AbstractEventLoop, dispatcher: Dispatcher) -> None:
    """Wake the dispatcher from any thread (the rebuild thread enqueues too)."""
    loop.call_soon_threadsafe(dispatcher.wake.set)


def _prewarm(path: Path) -> None:
    """Ask the kernel to read the store file ahead: a cold start then does not pay a disk read for
    each lead's first event (measured: p50 13 ms cold vs 3 ms warm on a million-lead store).

    Call it only while this process has no SQLite connection to the file: closing any descriptor of
    a file drops all of the process's POSIX locks on it, SQLite's included, and other processes would
    then stop seeing this one's commits (https://www.sqlite.org/howtocorrupt.html, section 2.2)."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            advise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)


def _fill_missing_scores(service: ScoringService) -> None:
    """Score leads that have no score under the served version yet (e.g. a store filled by hand)."""
    con = service.con
    version = service.models.active.version
    missing = [str(r[0]) for r in con.execute(
        "SELECT lead_id FROM leads WHERE lead_id NOT IN (SELECT lead_id FROM scores WHERE model_version = ?)",
        (version,)).fetchall()]
    now = service.now()
    for start in range(0, len(missing), 500):
        with store.transaction(con):
            for lead_id in missing[start:start + 500]:
                service.rescore(con, lead_id, now, "service start")


def _reload_from_file(config: Settings, rebuilder: Rebuilder) -> None:
    """SIGHUP: reread the model file; a file with errors is logged and the served model stays."""
    assert config.model is not None
    try:
        rebuilder.start(load_serving_model(config.model), "reload (SIGHUP)")
    except LeadScoreError as error:
        log.error("model reload refused: %s", error)


def _status_of(error: LeadScoreError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict):
        return 409
    if isinstance(error, BackendError):
        return 503
    if isinstance(error, ModelError | DataError):
        return 422
    return 400


def _problem(status: int, error: str, kind: str, issues: list[dict[str, Any]] | None = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "type": kind, "issues": issues or []}, status_code=status, headers=headers)


def _first_line(exc: Exception, default: str) -> str:
    return next(iter(str(exc).splitlines()), default)


def _path(loc: Any) -> str:
    """``body.one.ts`` -> ``body.ts``: the union tag of the events body says nothing to the sender."""
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] == "body" and parts[1] in BODY_TAGS:
        del parts[1]
    return ".".join(parts)


def _error_handlers(app: FastAPI) -> None:
    async def leadscore_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, LeadScoreError)
        return JSONResponse(exc.to_dict(), status_code=_status_of(exc))

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        issues = [{"message": str(err.get("msg", "")), "path": _path(err.get("loc", ())), "hint": None}
                  for err in exc.errors()][:50]
        if any(err.get("type") == "json_invalid" for err in exc.errors()):
            return _problem(400, "malformed JSON body", "ValidationError", issues)
        first = issues[0] if issues else {"path": "", "message": "invalid request"}
        return _problem(422, f"invalid request: {first['path']}: {first['message']}", "ValidationError", issues)

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return _problem(exc.status_code, str(exc.detail), "HTTPError", headers=dict(exc.headers or {}))

    async def internal_error(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", exc, exc_info=exc)
        return _problem(500, "internal error; the server log has the details", "InternalError")

    async def store_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        log.error("store error: %s", exc)
        return _problem(503, "the store is unavailable; try again", "BackendError",
                        [{"message": _first_line(exc, "store error"), "path": None,
                          "hint": "the request was not completed; resend it (event ids make a resend safe)"}],
                        headers={"Retry-After": "1"})

    async def value_refused(_request: Request, exc: Exception) -> JSONResponse:
        return _problem(422, "the store cannot hold a value of the request", "DataError",
                        [{"message": _first_line(exc, "value refused"), "path": None,
                          "hint": "text may not contain NUL characters (\\u0000)"}])

    app.add_exception_handler(store.PostgresError, store_unavailable)
    app.add_exception_handler(store.PostgresValueError, value_refused)
    app.add_exception_handler(LeadScoreError, leadscore_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, internal_error)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, whether or not Content-Length is sent."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"POST", "PUT", "PATCH"}:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        payload = json.dumps({"error": f"request body larger than {self.max_bytes} bytes", "type": "TooLarge",
                              "issues": [{"message": "body too large", "path": "", "hint":
                                          "send smaller batches (LEADSCORE_MAX_BODY_BYTES sets the limit)"}]}
                             ).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})

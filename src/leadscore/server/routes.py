"""The HTTP endpoints (``/v1/...``): parse, call the service, return its dict. No scoring here."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from leadscore.api.serving import FEEDBACK_REASONS, column_warnings, serving_model_from_text
from leadscore.errors import DataError, Issue, ModelError
from leadscore.server import store, versions, webhooks
from leadscore.server.deps import AdminKey, ReadKey, RebuilderDep, ServiceDep, SettingsDep, WriteKey
from leadscore.server.group_commit import GroupCommit
from leadscore.server.schemas import (
    RESERVED_EVENT_FIELDS,
    EventBatch,
    EventIn,
    EventsBody,
    FeedbackIn,
    ModelIn,
    Problem,
    Row,
    WebhookIn,
)
from leadscore.server.service import NotFound, ScoringService
from leadscore.server.settings import Settings
from leadscore.server.store import StoredEvent, canonical_id, to_us

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (400, 401, 403, 404, 409, 413, 422, 503)
}
router = APIRouter(prefix="/v1", responses=ERRORS)
LeadId = Annotated[str, Path(min_length=1, max_length=128, description="The lead's id.")]
AccountId = Annotated[str, Path(min_length=1, max_length=128, description="The account's id.")]


def _stored_events(events: list[EventIn], service: ServiceDep, settings: SettingsDep) -> list[StoredEvent]:
    """Check what pydantic cannot (future times, property names) for the whole batch, then convert."""
    plan = service.models.active.plan
    reserved = RESERVED_EVENT_FIELDS | {plan.event_key, plan.event_lead, plan.event_time, plan.event_type}
    latest = service.now() + timedelta(seconds=settings.max_clock_skew_seconds)
    issues: list[Issue] = []
    converted: list[StoredEvent] = []
    for index, event in enumerate(events):
        where = f"events[{index}]" if len(events) > 1 else "event"
        ts_us = to_us(event.ts)
        if ts_us > to_us(latest):
            issues.append(Issue(f"ts {event.ts.isoformat()} is in the future", path=f"{where}.ts",
                                hint=f"events may be at most {settings.max_clock_skew_seconds:g}s ahead of the "
                                     "server clock; check the sender's clock and zone"))
        clash = sorted(set(event.properties) & reserved)
        if clash:
            issues.append(Issue(f"properties may not be named {', '.join(clash)}", path=f"{where}.properties",
                                hint="those names are the event's own fields"))
        converted.append(StoredEvent(canonical_id(event.event_id), canonical_id(event.lead_id), ts_us, event.type,
                                     dict(event.properties), isinstance(event.event_id, int)))
    if issues:
        raise DataError("the events were not stored: " + issues[0].message, issues)
    return converted


def checked_events(body: EventIn | EventBatch, service: ScoringService, settings: Settings) -> list[StoredEvent]:
    """The body's events, checked (batch size, then ``_stored_events``) and converted; nothing is stored yet.

    Shared by the route below and its fast path (``fast_events``): a DataError here is a 422 of the route."""
    events = body.events if isinstance(body, EventBatch) else [body]
    if len(events) > settings.max_batch_events:
        raise DataError(f"a batch holds at most {settings.max_batch_events} events, got {len(events)}",
                        [Issue("batch too large", path="events",
                               hint=f"split it into batches of {settings.max_batch_events}")])
    return _stored_events(events, service, settings)


async def ingest_events(body: EventIn | EventBatch, stored: list[StoredEvent], service: ScoringService,
                        group: GroupCommit | None) -> dict[str, Any]:
    """Store the checked events (with the group commit when on) and build the answer: a batch gets the
    ingest's result, a single event its status with its lead's score."""
    result = service.ingest(stored) if group is None else await group.submit(stored)
    if isinstance(body, EventBatch):
        return result
    item = result["results"][0]
    return {**item, "lead": result["leads"].get(canonical_id(item["lead_id"]))}


@router.post("/events", summary="Ingest one event or a batch; returns the leads' new scores")
async def post_events(request: Request, body: EventsBody, service: ServiceDep, settings: SettingsDep,
                      _key: WriteKey) -> dict[str, Any]:
    """Store events durably (each event id once) and rescore their leads.

    An event for a lead the service does not know yet is kept (``lead_known: false``) and counts as
    soon as the lead is created with ``PUT /v1/leads/{id}``.
    """
    # A well-formed, authorised request is answered by server/fast_events.py with the same steps and the
    # same bytes; this route serves the others (and documents the endpoint in /openapi.json).
    stored = checked_events(body, service, settings)
    return await ingest_events(body, stored, service, request.app.state.group_commit)


@router.put("/leads/{lead_id}", summary="Create or replace a lead; returns its score")
async def put_lead(lead_id: LeadId, body: Row, service: ServiceDep, _key: WriteKey) -> dict[str, Any]:
    key = service.models.active.plan.lead_key
    if key in body and body[key] is not None and canonical_id(body[key]) != lead_id:
        raise DataError(f"{key} in the body ({body[key]!r}) differs from the path ({lead_id!r})",
                        [Issue("id mismatch", path=key, hint="leave it out of the body or make it equal")])
    return service.put_lead(lead_id, body)


@router.get("/leads/{lead_id}", summary="A lead's score now: layers, grade, stage, reasons, history")
async def get_lead(lead_id: LeadId, service: ServiceDep, _key: ReadKey) -> dict[str, Any]:
    return service.read_lead(lead_id)


@router.post("/leads/{lead_id}/feedback", status_code=201, summary="Sales accept or reject a lead, with a reason")
async def post_feedback(lead_id: LeadId, body: FeedbackIn, service: ServiceDep, _key: WriteKey) -> dict[str, Any]:
    """Stored in the ``feedback`` table; ``leadscore store export-feedback`` writes it for the learning
    commands (``leadscore feedback import``), so reasons use their vocabulary."""
    if body.decision == "reject" and body.reason not in FEEDBACK_REASONS:
        raise DataError("a reject needs a reason" if body.reason is None else f"unknown reason {body.reason!r}",
                        [Issue("reject reason", path="reason", hint="one of: " + ", ".join(FEEDBACK_REASONS))])
    if body.decision == "accept" and body.reason is not None:
        raise DataError("an accept takes no rejection reason", [Issue("accept with a reason", path="reason",
                                                                       hint="put free text in 'note'")])
    return service.feedback(lead_id, body.decision, body.reason, body.decided_at, body.rep, body.note)


@router.put("/accounts/{account_id}", summary="Create or replace an account; rescores its leads")
async def put_account(account_id: AccountId, body: Row, service: ServiceDep, _key: WriteKey) -> dict[str, Any]:
    return service.put_account(account_id, body)


@router.get("/accounts/{account_id}", summary="An account's score, engaged contacts and committee roles")
async def get_account(account_id: AccountId, service: ServiceDep, _key: ReadKey) -> dict[str, Any]:
    return service.read_account(account_id)


@router.get("/queue", summary="The leads sales should call now, routed and within capacity")
async def get_queue(service: ServiceDep, _key: ReadKey,
                    capacity: Annotated[int, Query(ge=1, le=1_000, description="How many leads at most.")] = 20,
                    owner: Annotated[str | None, Query(max_length=200, description="Only this owner's.")] = None
                    ) -> dict[str, Any]:
    return service.queue(capacity, owner)


@router.get("/model", summary="The served model version, one being built, and the version history")
async def get_model(service: ServiceDep, rebuilder: RebuilderDep, _key: ReadKey) -> dict[str, Any]:
    models = service.models
    return {"active": {"version": models.active.version, "name": models.active.name},
            "building": {"version": models.building.version, **rebuilder.progress} if models.building else None,
            "history": versions.history(service.con)}


@router.post("/model", status_code=202, summary="Validate a new model and switch to it once rescored")
async def post_model(body: ModelIn, service: ServiceDep, rebuilder: RebuilderDep, _key: AdminKey) -> dict[str, Any]:
    """A model with errors is refused (422, every issue with line:col) and changes nothing."""
    model = serving_model_from_text(body.yaml, source="POST /v1/model")
    warnings = column_warnings(model, store.known_columns(service.con))
    if warnings and not body.force:
        raise ModelError("the model names columns the service has not seen (send force: true to load it anyway)",
                         warnings)
    started = rebuilder.start(model, "reload")
    return {**started, "warnings": [issue.to_dict() for issue in warnings]}


@router.post("/model/rollback", status_code=202, summary="Go back to the previously active model version")
async def post_rollback(service: ServiceDep, rebuilder: RebuilderDep, _key: AdminKey) -> dict[str, Any]:
    return rebuilder.start(versions.previous_version(service.con, service.models.active.version), "rollback")


@router.post("/webhooks", status_code=201, summary="Subscribe a URL to stage changes")
async def post_webhook(body: WebhookIn, service: ServiceDep, _key: AdminKey) -> dict[str, Any]:
    stages = [stage.name for stage in service.models.active.plan.stages]
    unknown = [s for s in body.stages or [] if s not in stages]
    if unknown:
        raise DataError(f"unknown stage {unknown[0]!r}", [Issue("unknown stage", path="stages",
                                                                hint="stages: " + ", ".join(stages))])
    with store.transaction(service.con) as con:
        sub = webhooks.subscribe(con, body.url, body.stages, to_us(service.now()))
    return sub.to_dict()


@router.get("/webhooks", summary="Subscriptions and the outbox's delivery counts")
async def get_webhooks(service: ServiceDep, _key: AdminKey) -> dict[str, Any]:
    return {"webhooks": [sub.to_dict() for sub in webhooks.subscriptions(service.con)],
            "outbox": webhooks.outbox_counts(service.con)}


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Unsubscribe")
async def delete_webhook(webhook_id: Annotated[str, Path(max_length=64)], service: ServiceDep, _key: AdminKey
                         ) -> Response:
    if not webhooks.unsubscribe(service.con, webhook_id):
        raise NotFound(f"unknown webhook {webhook_id!r}", [Issue("no such webhook")])
    return Response(status_code=204)


@router.get("/status", summary="Counts and the served model")
async def get_status(request: Request, service: ServiceDep, _key: ReadKey) -> dict[str, Any]:
    con = service.con
    group: GroupCommit | None = request.app.state.group_commit
    counts = {table: int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
              for table in ("leads", "accounts", "events", "feedback")}
    return {"model_version": service.models.active.version, "model": service.models.active.name,
            "now": service.now().isoformat() + "Z", "counts": counts, "outbox": webhooks.outbox_counts(con),
            "worker": {"pid": os.getpid(), "leader": request.app.state.leadership.held},
            "group_commit": None if group is None else {"groups": group.groups, "requests": group.grouped_requests}}


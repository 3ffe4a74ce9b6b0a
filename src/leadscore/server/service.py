"""What the endpoints do: store an event, rescore its lead, record history, queue webhooks; read.

Every change is one store transaction: the event (or lead/account row), the lead's new score under
the served model (and under a model being rebuilt, so it is current when it goes live), a history
row when the score moved, and outbox rows when the stage changed. The response is sent after the
commit, so an event acknowledged is an event stored.

Scores are computed by ``leadscore.api.serving.score_one``, the evaluator that gives exactly the
batch numbers. Reads rescore at read time, so decay is always up to the moment of the read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from leadscore.api.serving import (
    LeadScore,
    ServingModel,
    account_roll_up,
    duplicate_keys,
    route_owner,
    score_one,
)
from leadscore.errors import DataError, Issue
from leadscore.server import store
from leadscore.server.store import Connection, ScoreRow, StoredEvent, StoredLead, from_us, to_us
from leadscore.server.webhooks import enqueue_stage_change

NOT_QUEUED = 1_000_000


class NotFound(DataError):
    """An id that the store does not hold (HTTP 404)."""


@dataclass(frozen=True)
class Models:
    """The served model and, while a new one is being rescored, that one too."""

    active: ServingModel
    building: ServingModel | None = None

    @property
    def serving(self) -> tuple[ServingModel, ...]:
        """The models a change is scored under: the active one, then the one being built."""
        return (self.active,) if self.building is None else (self.active, self.building)


@dataclass(frozen=True)
class Prepared:
    """A lead scored before the write transaction, and the state of the store it was scored from."""

    models: Models
    lead: StoredLead
    scores: tuple[tuple[ServingModel, LeadScore], ...]
    new_ids: frozenset[str]
    fingerprint: tuple[object, ...]


def versions_seq(con: Connection) -> int:
    """How many model-status changes the store has seen: another process moved a version when this grew."""
    return int(store.get_meta(con, store.MODELS_CHANGED) or 0)


def stage_rank(model: ServingModel, stage: str | None) -> int:
    stages = model.routing.stages
    return stages.index(stage) if stage in stages else NOT_QUEUED


def typed_id(text: str) -> int | str:
    """A key as a value: ``"42"`` becomes 42 (as in the usual integer-keyed exports), others stay text."""
    try:
        number = int(text)
    except ValueError:
        return text
    return number if str(number) == text and -(2 ** 63) <= number < 2 ** 63 else text


def summary(score: LeadScore, model: ServingModel, as_of: datetime, previous: ScoreRow | None) -> dict[str, Any]:
    body = score.to_dict()
    body.update(model=model.name, model_version=model.version, as_of=as_of.isoformat() + "Z",
                previous_stage=previous.stage if previous else None,
                stage_changed=previous is None or previous.stage != score.stage,
                reasons_sum=sum(item.points for item in score.reasons))
    return body


class ScoringService:
    """The service's state: its store connection, the served model(s) and the clock."""

    def __init__(self, con: Connection, models: Models, *, now: Callable[[], datetime],
                 history_limit: int = 50, on_enqueued: Callable[[], None] | None = None) -> None:
        self.con = con
        self.models = models
        self.now = now
        self.history_limit = history_limit
        self.on_enqueued = on_enqueued or (lambda: None)
        self.lock = threading.Lock()  # guards ``models`` against the rebuild thread's swap
        self.known_props: set[str] = set(store.known_columns(con).get("events", ()))
        self.models_seq = versions_seq(con)
        self.on_models_synced: Callable[[], None] = lambda: None  # the leader resumes builds here

    # -- scoring one lead from the store ----------------------------------------------------------

    def lead_inputs(self, con: Connection, model: ServingModel, lead: StoredLead,
                    events: Sequence[StoredEvent] | None = None
                    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]], bool]:
        plan = model.plan
        account = store.get_account(con, lead.account_id)
        lead_key = lead.row.get(plan.lead_key)
        stored = store.events_of_lead(con, lead.lead_id) if events is None else events
        events_rows = [{**event.props, plan.event_key: event.key, plan.event_lead: lead_key,
                        plan.event_time: from_us(event.ts_us), plan.event_type: event.type} for event in stored]
        duplicate = False
        if lead.email_norm is not None:
            same = store.leads_with_email(con, lead.email_norm)
            if len(same) > 1:
                rows = [other.row for other in same]
                if len({type(row.get(plan.lead_key)) for row in rows}) > 1:  # 42 and "a1": compare as text
                    rows = [{**row, plan.lead_key: str(row.get(plan.lead_key))} for row in rows]
                    lead_key = str(lead_key)
                duplicate = lead_key in duplicate_keys(model, rows)
        return account, events_rows, duplicate

    def score_stored(self, con: Connection, model: ServingModel, lead: StoredLead, as_of: datetime
                     ) -> LeadScore:
        return self.score_events(con, model, lead, None, as_of)

    def score_events(self, con: Connection, model: ServingModel, lead: StoredLead,
                     events: Sequence[StoredEvent] | None, as_of: datetime) -> LeadScore:
        """The lead's score from its stored rows and ``events`` (default: its stored events)."""
        account, rows, duplicate = self.lead_inputs(con, model, lead, events)
        return score_one(model, lead.row, account=account, events=rows, as_of=as_of, is_duplicate=duplicate)

    def rescore(self, con: Connection, lead_id: str, now: datetime, cause: str
                ) -> tuple[LeadScore, ScoreRow | None] | None:
        """Rescore a stored lead under the served (and building) model; inside a transaction."""
        lead = store.get_lead(con, lead_id)
        if lead is None:
            return None
        models = self.models
        scored = [(model, self.score_stored(con, model, lead, now)) for model in models.serving]
        return self.record(con, lead_id, models, scored, now, cause)

    def record(self, con: Connection, lead_id: str, models: Models,
               scored: Sequence[tuple[ServingModel, LeadScore]], now: datetime, cause: str
               ) -> tuple[LeadScore, ScoreRow | None] | None:
        """Store a lead's new scores, with history and webhooks when they moved; inside a transaction."""
        now_us = to_us(now)
        result: tuple[LeadScore, ScoreRow | None] | None = None
        for model, score in scored:
            row = ScoreRow(lead_id, score.total, score.grade, score.stage, score.next_action)
            previous = store.get_score(con, model.version, lead_id)
            store.put_score(con, model.version, row, stage_rank(model, score.stage), now_us)
            if model is models.active:
                result = (score, previous)
                if previous is None or (previous.total, previous.stage, previous.grade) != (
                        row.total, row.stage, row.grade):
                    store.add_history(con, model.version, row, now_us, cause)
                if previous is None or previous.stage != row.stage:
                    self.stage_changed(con, model, score, previous.stage if previous else None, now, cause)
        return result

    def stage_changed(self, con: Connection, model: ServingModel, score: LeadScore, old: str | None,
                      now: datetime, cause: str) -> None:
        payload = {"type": "lead.stage_changed", "lead_id": score.lead_id, "from_stage": old,
                   "to_stage": score.stage, "total": score.total, "grade": score.grade,
                   "next_action": score.next_action, "model_version": model.version, "cause": cause,
                   "occurred_at": now.isoformat() + "Z",
                   "top_reasons": [{"rule": rule, "points": points} for rule, points in score.top_reasons]}
        if enqueue_stage_change(con, payload, score.stage, to_us(now)):
            self.on_enqueued()

    # -- ingest -------------------------------------------------------------------------------------

    def ingest(self, events: Sequence[StoredEvent]) -> dict[str, Any]:
        """Store events (each id once), rescore their leads; one write transaction for the whole batch.

        The leads are scored first, from one read snapshot with the batch's new events added, outside
        the write lock; the write transaction then stores the events and keeps each score whose
        inputs are still what the snapshot held (same lead and account rows, same stored events,
        same e-mail group, same models), rescoring the others inside. Several worker processes
        thus score in parallel and hold the store's one write lock only to write."""
        now = self.now()
        now_us = to_us(now)
        statuses: list[dict[str, Any]] = []
        touched: dict[str, str] = {}
        prepared, seen = self.prepare(events, now)
        with store.transaction(self.con) as con:
            untouched = seen is not None and store.others_commits(con) == seen  # nobody wrote since the snapshot
            self.sync_models(con)
            props = sorted({name for event in events for name in event.props} - self.known_props)
            if props:
                store.add_columns(con, "events", props)
            valid = {lead_id: early for lead_id, early in prepared.items()
                     if early.models is self.models
                     and (untouched or store.lead_fingerprint(con, early.lead) == early.fingerprint)}
            known_leads: dict[str, bool] = {}
            stored: dict[str, set[str]] = {}
            for event in events:
                status = store.insert_event(con, event, now_us)
                known = known_leads.get(event.lead_id)
                if known is None:  # a lead whose fingerprint still holds exists: no need to look
                    known = known_leads[event.lead_id] = event.lead_id in valid or store.lead_exists(con, event.lead_id)
                statuses.append({"event_id": event.key, "lead_id": typed_id(event.lead_id), "status": status,
                                 "lead_known": known})
                if status == "stored" and known:
                    touched.setdefault(event.lead_id, f"event {event.event_id}")
                    stored.setdefault(event.lead_id, set()).add(event.event_id)
            scores: dict[str, dict[str, Any]] = {}
            for lead_id, cause in touched.items():
                early = valid.get(lead_id)
                if early is not None and early.new_ids == stored[lead_id]:
                    done = self.record(con, lead_id, early.models, early.scores, now, cause)
                else:
                    done = self.rescore(con, lead_id, now, cause)
                if done is not None:
                    scores[lead_id] = summary(done[0], self.models.active, now, done[1])
        self.known_props.update(props)
        for item in statuses:  # duplicates and events of known leads untouched by this batch
            lead_id = str(item["lead_id"])
            if item["lead_known"] and lead_id not in scores:
                scores[lead_id] = self.read_score(lead_id, now)
        return {"results": statuses, "leads": scores}

    def prepare(self, events: Sequence[StoredEvent], now: datetime) -> tuple[dict[str, Prepared], int | None]:
        """Score the batch's known leads from one read snapshot, each with its new events added; also
        return the snapshot's ``store.others_commits``, so that the write transaction can skip the
        per-lead fingerprint checks when no other connection has committed since (one worker, no build)."""
        by_lead: dict[str, dict[str, StoredEvent]] = {}
        for event in events:
            by_lead.setdefault(event.lead_id, {}).setdefault(event.event_id, event)
        prepared: dict[str, Prepared] = {}
        with store.snapshot(self.con) as con:
            seen = store.others_commits(con)  # the snapshot's first read: names what it sees
            self.sync_models(con)
            models = self.models
            for lead_id, batch in by_lead.items():
                lead = store.get_lead(con, lead_id)
                if lead is None:
                    continue
                stored_events = store.events_of_lead(con, lead_id)
                have = {event.event_id for event in stored_events}
                new = [event for event_id, event in batch.items() if event_id not in have]
                if not new:  # only resent events: nothing to score, nothing to check later
                    continue
                fingerprint = store.lead_fingerprint(con, lead)
                scored = tuple((model, self.score_events(con, model, lead, [*stored_events, *new], now))
                               for model in models.serving)
                prepared[lead_id] = Prepared(models, lead, scored, frozenset(e.event_id for e in new), fingerprint)
        return prepared, seen

    def sync_models(self, con: Connection) -> None:
        """Follow model changes made by another worker process (``models`` seq in the store)."""
        seq = versions_seq(con)
        if seq == self.models_seq:
            return
        with self.lock:
            from leadscore.server.versions import stored_model

            active = stored_model(con, "active", same_as=self.models.active) or self.models.active
            building = stored_model(con, "building", same_as=self.models.building)
            if active is not self.models.active or building is not self.models.building:
                self.models = Models(active, building)
            self.models_seq = seq
        self.on_models_synced()

    def read_score(self, lead_id: str, as_of: datetime) -> dict[str, Any]:
        model = self.models.active
        lead = store.get_lead(self.con, lead_id)
        if lead is None:
            raise NotFound(f"unknown lead {lead_id!r}", [Issue("no such lead", path=f"lead_id={lead_id}")])
        score = self.score_stored(self.con, model, lead, as_of)
        return summary(score, model, as_of, store.get_score(self.con, model.version, lead_id))

    def put_lead(self, lead_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        model = self.models.active
        plan = model.plan
        row = {**fields, plan.lead_key: typed_id(lead_id)}
        if plan.lead_created and row.get(plan.lead_created) is not None:
            row[plan.lead_created] = _naive_utc_text(row[plan.lead_created], plan.lead_created)
        account = row.get(plan.lead_account) if plan.lead_account else None
        email = store.email_key(row.get(plan.lead_email or "email"))
        now = self.now()
        with store.transaction(self.con) as con:
            store.add_columns(con, "leads", list(row))
            previous = store.upsert_lead(con, lead_id, None if account is None else str(account), email, row,
                                         to_us(now))
            result = self.rescore(con, lead_id, now, "lead updated" if previous else "lead created")
            # Leads sharing the old or new email may have become (or stopped being) duplicates.
            buckets = {email, previous.email_norm if previous else None} - {None}
            for bucket in buckets:
                for other in store.leads_with_email(con, str(bucket))[:100]:
                    if other.lead_id != lead_id:
                        self.rescore(con, other.lead_id, now, f"duplicate check after lead {lead_id}")
        assert result is not None
        return {"created": previous is None, "lead": summary(result[0], model, now, result[1])}

    def put_account(self, account_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        model = self.models.active
        row = {**fields, model.plan.account_key: typed_id(account_id)}
        now = self.now()
        with store.transaction(self.con) as con:
            store.add_columns(con, "accounts", list(row))
            created = store.get_account(con, account_id) is None
            store.upsert_account(con, account_id, row, to_us(now))
            leads = store.leads_of_account(con, account_id, limit=10_000)
            for lead in leads:
                self.rescore(con, lead.lead_id, now, f"account {account_id} updated")
        return {"account_id": typed_id(account_id), "created": created, "leads_rescored": len(leads)}

    # -- reads ----------------------------------------------------------------------------------------

    def read_lead(self, lead_id: str) -> dict[str, Any]:
        now = self.now()
        body = self.read_score(lead_id, now)
        lead = store.get_lead(self.con, lead_id)
        assert lead is not None
        body["owner"] = route_owner(self.models.active, lead.row, store.get_account(self.con, lead.account_id))
        body["history"] = store.history_of(self.con, lead_id, limit=self.history_limit)
        body["feedback"] = store.feedback_of(self.con, lead_id)
        return body

    def read_account(self, account_id: str) -> dict[str, Any]:
        model = self.models.active
        now = self.now()
        account = store.get_account(self.con, account_id)
        leads = store.leads_of_account(self.con, account_id, limit=10_000)
        if account is None and not leads:
            raise NotFound(f"unknown account {account_id!r}",
                           [Issue("no such account", path=f"account_id={account_id}")])
        scores = [self.score_stored(self.con, model, lead, now) for lead in leads]
        if len({type(score.lead_id) for score in scores}) > 1:  # ties are broken by id: compare as text
            scores = [replace(score, lead_id=str(score.lead_id)) for score in scores]
        rolled = account_roll_up(model, account, typed_id(account_id), scores)
        engaged_min = model.plan.account.engaged_min if model.plan.account else 30.0
        body = rolled.to_dict()
        body.update(model_version=model.version, as_of=now.isoformat() + "Z", known_account=account is not None,
                    engaged_contacts=[{"lead_id": s.lead_id, "total": s.total, "stage": s.stage,
                                       "committee_role": s.committee_role}
                                      for s in sorted(scores, key=lambda s: (-s.total, str(s.lead_id)))
                                      if s.total >= engaged_min])
        return body

    def queue(self, capacity: int, owner: str | None) -> dict[str, Any]:
        """The leads to call now: queue stages first, then grade, then score; decayed to now; owner caps."""
        model = self.models.active
        routing = model.routing
        now = self.now()
        picked: list[dict[str, Any]] = []
        per_owner: dict[str | None, int] = {}
        offset, page, scanned = 0, max(50, capacity * 2), 0
        grade_order = {grade: index for index, (grade, _) in enumerate(model.plan.grades)}
        while len(picked) < capacity * 3 and scanned < max(2_000, capacity * 20):
            ids = store.queue_candidates(self.con, model.version, len(routing.stages), offset=offset, limit=page)
            if not ids:
                break
            offset += len(ids)
            scanned += len(ids)
            decided = store.decided_leads(self.con, ids)
            for lead_id in ids:
                lead = store.get_lead(self.con, lead_id)
                if lead is None or lead_id in decided:
                    continue
                score = self.score_stored(self.con, model, lead, now)
                if score.stage not in routing.stages:
                    continue
                if routing.grades is not None and score.grade not in routing.grades:
                    continue
                who = route_owner(model, lead.row, store.get_account(self.con, lead.account_id))
                if owner is not None and who != owner:
                    continue
                picked.append({"lead_id": score.lead_id, "account_id": score.account_id, "total": score.total,
                               "grade": score.grade, "stage": score.stage, "next_action": score.next_action,
                               "owner": who, "top_reasons": [{"rule": r, "points": p} for r, p in score.top_reasons],
                               "last_activity_at": score.last_activity_at.isoformat() + "Z"
                               if score.last_activity_at else None,
                               "last_activity_type": score.last_activity_type})
        picked.sort(key=lambda item: (routing.stages.index(item["stage"]),
                                      grade_order.get(item["grade"], len(grade_order)), -item["total"],
                                      str(item["lead_id"])))
        chosen: list[dict[str, Any]] = []
        for item in picked:
            limit = routing.owner_capacity(item["owner"])
            if limit is not None and per_owner.get(item["owner"], 0) >= limit:
                continue
            per_owner[item["owner"]] = per_owner.get(item["owner"], 0) + 1
            chosen.append(item)
            if len(chosen) == capacity:
                break
        return {"model_version": model.version, "as_of": now.isoformat() + "Z", "capacity": capacity,
                "stages": list(routing.stages), "leads": chosen}

    def feedback(self, lead_id: str, decision: str, reason: str | None, decided_at: datetime | None,
                 rep: str | None, note: str | None = None) -> dict[str, Any]:
        model = self.models.active
        when = decided_at or self.now()
        when_text = from_us(to_us(when)).isoformat() + "+00:00"
        with store.transaction(self.con) as con:
            if store.get_lead(con, lead_id) is None:
                raise NotFound(f"unknown lead {lead_id!r}", [Issue("no such lead", path=f"lead_id={lead_id}")])
            score = store.get_score(con, model.version, lead_id)
            feedback_id = store.add_feedback(con, lead_id, decision, reason, when_text, rep, score, model.version,
                                             note)
        return {"id": feedback_id, "lead_id": typed_id(lead_id), "decision": decision, "reason": reason,
                "decided_at": when_text, "rep": rep, "note": note}


def _naive_utc_text(value: object, column: str) -> str:
    """A lead's creation time as naive-UTC ISO text; text without a zone is refused."""
    text = str(value).strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DataError(f"{column} {text!r} is not a timestamp",
                        [Issue(f"unparseable {column}", path=column,
                               hint="use ISO 8601 with a zone, e.g. 2026-06-30T12:00:00Z")]) from None
    if moment.tzinfo is None:
        raise DataError(f"{column} {text!r} has no time zone",
                        [Issue(f"{column} without zone", path=column,
                               hint="add the zone, e.g. 2026-06-30T12:00:00Z or +02:00")])
    return from_us(to_us(moment)).isoformat(sep=" ")

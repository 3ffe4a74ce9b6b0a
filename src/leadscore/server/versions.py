"""Served model versions: load a new model live, rescore in the background, switch, roll back.

A new model is validated first (a model with errors changes nothing). It is recorded as
``building`` and every lead is rescored under it by a background thread, in small transactions,
while the service goes on serving the old version's scores; events arriving meanwhile are scored
under both. When all leads are done, one transaction makes it ``active``, records stage changes
(with webhooks) and the switch in ``model_history``. A rollback is a switch back to the version
that was active before, rescored the same way. A restart resumes an unfinished build.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from leadscore.api.serving import ServingModel, serving_model_from_text
from leadscore.errors import DataError, Issue, LeadScoreError
from leadscore.server import store
from leadscore.server.service import Models, ScoringService, stage_rank
from leadscore.server.store import Connection, ScoreRow, StoreError, iso_utc, to_us

log = logging.getLogger(__name__)
RECOVERABLE: tuple[type[Exception], ...] = (LeadScoreError, *StoreError)
"""A user error or a failing store (either backend): logged, the thread carries on."""


def record(con: Connection, model: ServingModel, status: str, now_us: int, action: str) -> None:
    seq_row = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM models").fetchone()
    con.execute("INSERT INTO models (version, name, source, text, status, loaded_us, seq) VALUES "
                "(?, ?, ?, ?, ?, ?, ?) ON CONFLICT (version) DO UPDATE SET status = excluded.status, "
                "seq = excluded.seq, loaded_us = excluded.loaded_us",
                (model.version, model.name, model.loaded.source, model.text, status, now_us, int(seq_row[0])))
    con.execute("INSERT INTO model_history (at_us, action, version, detail) VALUES (?, ?, ?, ?)",
                (now_us, action, model.version, model.loaded.source))
    store.models_changed(con)


def stored_model(con: Connection, status: str, *, same_as: ServingModel | None = None
                 ) -> ServingModel | None:
    """The newest model with this status; ``same_as`` is returned when its text is the stored one."""
    row = con.execute("SELECT text, source FROM models WHERE status = ? ORDER BY seq DESC LIMIT 1",
                      (status,)).fetchone()
    if row is None:
        return None
    if same_as is not None and same_as.text == row[0]:
        return same_as
    return serving_model_from_text(str(row[0]), source=row[1])


def history(con: Connection) -> list[dict[str, Any]]:
    rows = con.execute("SELECT at_us, action, version, detail FROM model_history ORDER BY id DESC LIMIT 100")
    return [{"at": iso_utc(r[0]), "action": r[1], "version": r[2], "detail": r[3]} for r in rows.fetchall()]


def previous_version(con: Connection, current: str) -> ServingModel:
    """The version that was active before the current one (what a rollback goes back to)."""
    rows = con.execute("SELECT version FROM model_history WHERE action IN ('activated') ORDER BY id DESC"
                       ).fetchall()
    for (version,) in rows:
        if version != current:
            text = con.execute("SELECT text, source FROM models WHERE version = ?", (version,)).fetchone()
            return serving_model_from_text(str(text[0]), source=text[1])
    raise DataError("no previous model version to roll back to",
                    [Issue("nothing to roll back", hint="a rollback needs an earlier active version")])


class Rebuilder:
    """Rescores every lead under a new model in a background thread, then makes it the served one."""

    def __init__(self, service: ScoringService, open_connection: Callable[[], Connection], *,
                 chunk: int, pause_seconds: float = 0.0) -> None:
        self.service = service
        self.open_connection = open_connection
        self.chunk = chunk
        self.pause_seconds = pause_seconds
        self.thread: threading.Thread | None = None
        self.progress: dict[str, Any] = {}
        self.leading: Callable[[], bool] = lambda: True

    def start(self, model: ServingModel, action: str) -> dict[str, Any]:
        """Begin serving-in-waiting ``model``; a build already running for another version stops.

        The build itself runs in the leader process (``server/leader.py``): another worker records
        the version as ``building`` and the leader, following the store, rescores and switches."""
        service = self.service
        now_us = to_us(service.now())
        with service.lock:
            if model.version == service.models.active.version and service.models.building is None:
                return {"version": model.version, "status": "active", "unchanged": True}
            with store.transaction(service.con) as con:
                con.execute("UPDATE models SET status = 'superseded' WHERE status = 'building'")
                record(con, model, "building", now_us, action)
                service.models = Models(service.models.active, model)
        self.progress = {"version": model.version, "action": action, "done": 0, "total": None}
        if self.leading():
            self._launch(model)
        return {"version": model.version, "status": "building", "unchanged": False}

    def resume(self) -> None:
        """In the leader: build the version the store says is building, unless this process already does."""
        model = self.service.models.building
        running = self.thread is not None and self.thread.is_alive() and self.progress.get("version") == (
            model.version if model else None)
        if model is None or running or not self.leading():
            return
        self.progress = {"version": model.version, "action": "resumed", "done": 0, "total": None}
        self._launch(model)

    def _launch(self, model: ServingModel) -> None:
        self.thread = threading.Thread(target=self._run, args=(model,), name="leadscore-rebuild", daemon=True)
        self.thread.start()

    def wait(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)

    def _run(self, model: ServingModel) -> None:
        con = self.open_connection()
        try:
            self._rescore_all(con, model)
        except RECOVERABLE as error:  # e.g. a rule that cannot read a stored value
            log.error("model %s not switched to: %s", model.version, error)
            self._fail(con, model, str(error).splitlines()[0])
        except Exception:  # the thread's last-resort handler (as the CLI's): the old version keeps serving
            log.exception("rebuilding scores for model %s failed", model.version)
            self._fail(con, model, "internal error; the server log has the details")
        finally:
            con.close()

    def _fail(self, con: Connection, model: ServingModel, reason: str) -> None:
        with store.transaction(con):
            con.execute("UPDATE models SET status = 'failed' WHERE version = ? AND status = 'building'",
                        (model.version,))
            con.execute("INSERT INTO model_history (at_us, action, version, detail) VALUES (?, 'failed', ?, ?)",
                        (to_us(self.service.now()), model.version, reason))
            store.models_changed(con)
        with self.service.lock:
            if self.service.models.building is model:
                self.service.models = Models(self.service.models.active, None)

    def _current(self, model: ServingModel) -> bool:
        return self.service.models.building is model

    def _rescore_all(self, con: Connection, model: ServingModel) -> None:
        service = self.service
        ids = store.all_lead_ids(con)
        self.progress["total"] = len(ids)
        for start in range(0, len(ids), self.chunk):
            if not self._current(model):
                return
            now = service.now()
            with store.transaction(con):
                for lead_id in ids[start:start + self.chunk]:
                    lead = store.get_lead(con, lead_id)
                    if lead is None:
                        continue
                    score = service.score_stored(con, model, lead, now)
                    store.put_score(con, model.version, ScoreRow(lead_id, score.total, score.grade, score.stage,
                                                                 score.next_action),
                                    stage_rank(model, score.stage), to_us(now))
            self.progress["done"] = min(start + self.chunk, len(ids))
            if self.pause_seconds:
                time.sleep(self.pause_seconds)
        self._activate(con, model)

    def _activate(self, con: Connection, model: ServingModel) -> None:
        service = self.service
        with service.lock:
            if not self._current(model):
                return
            old = service.models.active
            now = service.now()
            now_us = to_us(now)
            differs = "IS NOT" if con.dialect == "sqlite" else "IS DISTINCT FROM"  # NULL-safe "!="
            with store.transaction(con):
                moved = con.execute(
                    "SELECT n.lead_id, o.stage, n.total, n.grade, n.stage FROM scores n LEFT JOIN scores o "
                    "ON o.model_version = ? AND o.lead_id = n.lead_id WHERE n.model_version = ? "
                    f"AND o.stage {differs} n.stage", (old.version, model.version)).fetchall()
                cause = f"model {model.version}"
                for lead_id, from_stage, total, grade, to_stage in moved:
                    row = ScoreRow(lead_id, total, grade, to_stage, None)
                    store.add_history(con, model.version, row, now_us, cause)
                    lead = store.get_lead(con, lead_id)
                    if lead is not None:
                        score = service.score_stored(con, model, lead, now)
                        service.stage_changed(con, model, score, from_stage, now, cause)
                con.execute("UPDATE models SET status = 'retired' WHERE status = 'active'")
                con.execute("UPDATE models SET status = 'active', activated_us = ? WHERE version = ?",
                            (now_us, model.version))
                con.execute("INSERT INTO model_history (at_us, action, version, detail) VALUES (?, ?, ?, ?)",
                            (now_us, "activated", model.version, f"{len(moved)} leads changed stage"))
                con.execute("DELETE FROM scores WHERE model_version != ?", (model.version,))
                store.models_changed(con)
                service.models = Models(model, None)
            self.progress["activated"] = True

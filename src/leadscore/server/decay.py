"""The decay sweep: leads in the sales queue are rescored now and then, with no event needed.

Reads are always decayed to the moment of the read, but a stored score (what the queue ranks and
what stage-change webhooks compare against) moves only when something happens to the lead. A lead
whose demo request is weeks old must still leave ``sales_ready`` and tell the receivers so: this
thread rescores the leads whose stored stage is a queue stage every ``decay_sweep_seconds``, in
small transactions on its own connection, recording history and webhooks like any other change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from leadscore.errors import LeadScoreError
from leadscore.server import store
from leadscore.server.periodic import PeriodicJob
from leadscore.server.service import NOT_QUEUED, ScoringService
from leadscore.server.store import Connection, StoreError

log = logging.getLogger(__name__)
RECOVERABLE: tuple[type[Exception], ...] = (LeadScoreError, *StoreError)
"""A user error or a failing store (either backend): logged, the thread carries on."""


class DecaySweep(PeriodicJob):
    """A daemon thread: sweep every ``interval_seconds`` (the first one an interval after start)."""

    def __init__(self, service: ScoringService, open_connection: Callable[[], Connection], *,
                 interval_seconds: float, chunk: int) -> None:
        super().__init__(open_connection, interval_seconds=interval_seconds, name="leadscore-decay")
        self.service = service
        self.chunk = chunk
        self.sweeps = 0

    def tick(self, con: Connection) -> None:
        try:
            self.sweep(con)
        except RECOVERABLE as error:  # try again at the next sweep
            log.warning("decay sweep stopped early: %s", error)
        self.sweeps += 1

    def sweep(self, con: Connection) -> int:
        """Rescore every lead whose stored stage is in the queue; return how many were rescored."""
        version = self.service.models.active.version
        ids = [str(r[0]) for r in con.execute(
            "SELECT lead_id FROM scores WHERE model_version = ? AND stage_rank < ? ORDER BY lead_id",
            (version, NOT_QUEUED)).fetchall()]
        for start in range(0, len(ids), self.chunk):
            if self.stopping.is_set() or self.service.models.active.version != version:
                return start
            now = self.service.now()
            with store.transaction(con):
                for lead_id in ids[start:start + self.chunk]:
                    self.service.rescore(con, lead_id, now, "decay")
        return len(ids)

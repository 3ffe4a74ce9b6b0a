"""A daemon thread that does one job every few seconds on a store connection of its own.

The decay sweep and the WAL checkpointer share this shape: started by the leader worker, stopped
at shutdown, each round on its own connection so it never waits for the event loop's.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable

from leadscore.server.store import Connection


class PeriodicJob(abc.ABC):
    """Runs ``tick(con)`` every ``interval_seconds`` (the first an interval after ``start``)."""

    def __init__(self, open_connection: Callable[[], Connection], *, interval_seconds: float, name: str,
                 tick_at_stop: bool = False) -> None:
        self.open_connection = open_connection
        self.interval = interval_seconds
        self.tick_at_stop = tick_at_stop
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)

    @abc.abstractmethod
    def tick(self, con: Connection) -> None:
        """One round of the job; errors it can survive are handled here, so the thread goes on."""

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout)

    def _loop(self) -> None:
        con = self.open_connection()
        try:
            while not self.stopping.wait(self.interval):
                self.tick(con)
            if self.tick_at_stop:
                self.tick(con)
        finally:
            con.close()

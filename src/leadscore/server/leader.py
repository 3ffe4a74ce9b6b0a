"""Which worker process runs the store's background jobs.

``leadscore serve --workers N`` starts N processes over one store. Each serves requests; exactly
one, the leader, delivers webhooks, sweeps decay, checkpoints the WAL and resumes an interrupted
model build, so none of them runs twice. The leader is the process holding an ``flock`` on
``<store>.leader-lock``; the kernel releases it when that process dies, however it dies, and the
others try again every few seconds, so a restarted or surviving worker takes over.

On a Postgres store the workers may not share a file system, and the database is what they share:
there the leader is the process whose connection holds a session-level advisory lock
(``PostgresLeadership``), which the server releases when that connection ends, however it ends.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from leadscore.server.store import Connection

LEADER_LOCK = 0x6C656164 + 1
"""The Postgres advisory lock of the leader (the write lock, ``postgres.WRITE_LOCK``, is its neighbour)."""


class Leadership:
    """An exclusive, non-blocking ``flock`` on the store's leader file, held until ``release``."""

    def __init__(self, store_path: Path) -> None:
        self.path = Path(f"{store_path}.leader-lock")
        self.fd = -1

    @property
    def held(self) -> bool:
        return self.fd >= 0

    def try_acquire(self) -> bool:
        """Become the leader if no other process is; True when this process leads."""
        if self.fd >= 0:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the only handle releases the flock
            self.fd = -1

    def confirm(self) -> bool:
        """Whether this process still leads (the leader asks now and then). A file lock cannot be lost."""
        return self.held

    async def wait_and_lead(self, start: Callable[[], None], *, poll_seconds: float = 2.0) -> None:
        """Try every ``poll_seconds`` until this process leads, then call ``start`` (cancel to give up)."""
        while not self.try_acquire():
            await asyncio.sleep(poll_seconds)
        start()


class PostgresLeadership(Leadership):
    """Leadership on a Postgres store: ``pg_try_advisory_lock`` on a connection of its own, held until
    ``release`` closes it (or the process dies and the server ends its session)."""

    def __init__(self, open_connection: Callable[[], Connection]) -> None:
        super().__init__(Path(".unused"))  # no lock file: the base's file members stay idle
        self.open_connection = open_connection
        self.con: Connection | None = None
        self.leading = False

    @property
    def held(self) -> bool:
        return self.leading

    def try_acquire(self) -> bool:
        """Become the leader if no other process is; True when this process leads."""
        if self.leading:
            return True
        if self.con is None:
            self.con = self.open_connection()
        return self._take_lock(self.con)

    def confirm(self) -> bool:
        """Still the leader? The lock lives in the lock connection's session: if that was lost (the
        server restarted, the session was ended) the connection reopens and takes the lock again,
        unless another process took it in between, in which case this one no longer leads."""
        if not self.leading or self.con is None:
            return self.leading
        reconnects = getattr(self.con, "reconnects", 0)
        self.con.execute("SELECT 1").fetchone()
        if getattr(self.con, "reconnects", 0) != reconnects:
            return self._take_lock(self.con)
        return self.leading

    def _take_lock(self, con: Connection) -> bool:
        self.leading = bool(con.execute("SELECT pg_try_advisory_lock(?)", (LEADER_LOCK,)).fetchone()[0])
        return self.leading

    def release(self) -> None:
        if self.con is not None:
            self.con.close()  # the session's advisory lock goes with it
            self.con = None
        self.leading = False

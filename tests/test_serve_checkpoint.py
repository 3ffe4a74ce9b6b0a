"""The WAL checkpointer: the service's commits leave checkpoints to it, and it copies the log back."""

from __future__ import annotations

import time
from pathlib import Path

from leadscore.server import store
from leadscore.server.checkpoint import WalCheckpointer


def _fill(con: object, rows: int, prefix: str) -> None:
    import sqlite3

    assert isinstance(con, sqlite3.Connection)
    for index in range(rows):
        with store.transaction(con):
            store.set_meta(con, f"{prefix}{index}", "x" * 2000)


def test_checkpointer_copies_the_log_that_commits_no_longer_copy(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    con = store.connect(path)
    con.execute("PRAGMA wal_autocheckpoint = 0")
    _fill(con, 300, "k")
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 300 * 2000  # nothing was copied back by the commits themselves
    checkpointer = WalCheckpointer(lambda: store.connect(path), interval_seconds=0.05)
    checkpointer.start()
    deadline = time.monotonic() + 10
    while checkpointer.checkpoints < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    checkpointer.stop()
    assert not checkpointer.thread.is_alive()
    assert checkpointer.checkpoints >= 2
    other = store.connect(path)
    busy, log_pages, copied = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and log_pages == copied  # everything in the log is in the store file
    assert store.get_meta(other, "k299") == "x" * 2000
    size = wal.stat().st_size
    _fill(con, 10, "n")  # new rows: the log restarts from its beginning instead of growing
    assert wal.stat().st_size == size
    assert other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1] < 100
    other.close()
    con.close()


def test_a_checkpoint_on_a_closed_connection_is_skipped_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    checkpointer = WalCheckpointer(lambda: store.connect(path), interval_seconds=1)
    con = store.connect(path)
    con.close()
    assert checkpointer.checkpoint(con) is None
    assert checkpointer.checkpoints == 0


def test_once_a_checkpoint_catches_up_the_log_file_is_cut_back_to_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    con = store.connect(path)
    assert con.execute("PRAGMA journal_size_limit").fetchone()[0] == 64 * 1024 * 1024
    con.execute("PRAGMA wal_autocheckpoint = 0")
    con.execute("PRAGMA journal_size_limit = 65536")  # the store's 64 MiB, scaled down to this test
    _fill(con, 300, "k")
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 300 * 2000
    other = store.connect(path)
    busy, log_pages, copied = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and log_pages == copied
    _fill(con, 1, "n")  # the next writer restarts the log and cuts the file back
    assert wal.stat().st_size <= 65536
    other.close()
    con.close()

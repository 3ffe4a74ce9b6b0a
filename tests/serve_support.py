"""Real components for the service tests: ``leadscore serve`` in a subprocess on 127.0.0.1, a real
webhook receiver (``http.server`` in a thread) and keys written straight into the store.

Nothing is mocked: the server is the CLI a user runs, on a free port, with a frozen clock
(``--frozen-now``) so scores are reproducible; tests stop it with SIGTERM or kill it with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

FROZEN_NOW = "2026-06-30T00:00:00"
WEBHOOK_SECRET = "test-webhook-secret"

SERVE_MODEL = """\
model: serve-test
data:
  leads: {key: lead_id, account: account_id, created: created_at}
  events: {key: event_id, lead: lead_id, time: ts, type: type}
layers:
  fit:
    rules:
      - {name: senior, when: "seniority IN ('vp', 'director')", points: 10}
      - {name: tech, when: "account.industry = 'technology'", points: 5}
  engagement:
    groups:
      activity:
        cap: 60
        decay: {half_life: 10d}
        events: {email_open: 2, page_view: 1, demo_request: 40}
total: {floor: 0}
grades: {A: "fit >= 10", B: "true"}
stages:
  - {name: hot, min_score: 40, action: Call now}
  - {name: warm, min_score: 10, action: Follow up}
  - {name: cold, min_score: 0, action: Nurture}
account:
  rollup: {top_n: 2, engaged_min: 10}
  committee: {decision_maker: "seniority = 'vp'", champion: "seniority = 'director'"}
routing:
  stages: [hot, warm]
  owners:
    - {owner: emea, when: "lead.region = 'europe'", capacity: 2}
    - {owner: americas, when: "lead.region = 'north_america'"}
  default_owner: pool
"""
"""A small model with decay, stages, an account roll-up and queue routing."""


BACKENDS = ("sqlite", "postgres")
"""The service's store backends; tests of the important behaviours run on both."""


def new_store(request: pytest.FixtureRequest, folder: Path, backend: str) -> Path | str:
    """A fresh store: a SQLite file in ``folder``, or a new database on the session's PostgreSQL server."""
    if backend == "sqlite":
        return folder / "store.db"
    from export_support import create_database

    return create_database(request.getfixturevalue("postgres"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_key(store: Path | str, scope: str) -> str:
    """An API key written into the store, as ``leadscore keys create`` does."""
    from leadscore.server import keys
    from leadscore.server import store as store_module

    con = store_module.connect(store)
    try:
        with store_module.transaction(con):
            _record, text = keys.create_key(con, scope)  # type: ignore[arg-type]
    finally:
        con.close()
    return text


@dataclass
class Server:
    """A running ``leadscore serve`` process and the keys to talk to it."""

    store: Path | str
    model: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    keys: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)
    folder: Path = Path()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, scope: str = "admin", timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-API-Key": self.keys[scope]}, timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_server(store: Path | str, model: Path, *, keys: dict[str, str] | None = None,
                 frozen_now: str = FROZEN_NOW, load: Path | None = None, env: dict[str, str] | None = None,
                 port: int | None = None, timeout: float = 60.0, folder: Path | None = None) -> Server:
    """Start ``leadscore serve`` and wait until it answers; the keys are made first if not given.

    ``store`` is a SQLite file or a ``postgresql://`` URL; the log goes to ``folder`` (default: the
    store file's folder, else the model's)."""
    folder = folder or (store.parent if isinstance(store, Path) else model.parent)
    folder.mkdir(parents=True, exist_ok=True)
    if keys is None:
        keys = {scope: make_key(store, scope) for scope in ("read", "write", "admin")}
    port = port or free_port()
    log = folder / f"server-{port}.log"
    args = [sys.executable, "-m", "leadscore.cli.main", "serve", "--model", str(model), "--store", str(store),
            "--port", str(port), "--frozen-now", frozen_now]
    if load is not None:
        args += ["--load", str(load)]
    full_env = {**os.environ, "LEADSCORE_WEBHOOK_SECRET": WEBHOOK_SECRET, "LEADSCORE_WEBHOOK_BACKOFF_SECONDS": "0.2",
                "LEADSCORE_WEBHOOK_POLL_SECONDS": "0.1", "LEADSCORE_WEBHOOK_TIMEOUT_SECONDS": "2",
                **(env or {})}
    with log.open("wb") as sink:
        process = subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT, env=full_env)
    server = Server(store, model, port, process, log, keys, env or {}, folder)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log_text()}")
        try:
            if httpx.get(f"{server.url}/docs", timeout=1.0).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"server did not start in {timeout}s:\n{server.log_text()}")


def store_rows(store: Path | str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of a query on the store (``?`` placeholders), through a connection of its own."""
    from leadscore.server import store as store_module

    con = store_module.connect(store)
    try:
        return [tuple(row) for row in con.execute(sql, params).fetchall()]
    finally:
        con.close()


def wait_for(condition: Any, *, timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll ``condition()`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A webhook receiver on 127.0.0.1: records every request; answers ``fail_first`` of them with 500."""

    def __init__(self, *, fail_first: int = 0, port: int | None = None) -> None:
        self.deliveries: list[Delivery] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.deliveries.append(Delivery(self.path, dict(self.headers.items()), body))
                    failing = len(receiver.deliveries) <= receiver.fail_first
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # silence the access log
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def received(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries)


def iso(moment: datetime) -> str:
    """Naive-UTC datetime as ISO text with a zone, as the API wants."""
    return moment.isoformat() + "Z"


def rows_json(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Rows with datetimes as zoned ISO text (JSON bodies for PUT)."""
    for row in rows:
        yield {k: (iso(v) if isinstance(v, datetime) else v) for k, v in row.items()}


def assert_scores_equal_a_batch_rescore(store: Path | str, model: Path, folder: Path,
                                        served: dict[str, tuple[Any, ...]], as_of: datetime
                                        ) -> tuple[dict[str, tuple[Any, ...]], dict[str, int]]:
    """Export the store, score it with ``leadscore score`` as of ``as_of`` and check every served
    (total, stage, grade) against it (totals to 1e-9); return the batch's rows by lead id and the
    exported row counts."""
    import pyarrow.parquet as pq

    from leadscore import api
    from leadscore.server.commands import export_data

    exported = export_data(store, folder / "data")
    api.score(api.load_model(model), folder / "data", out=folder / "batch", as_of=as_of)
    batch = {str(r["lead_id"]): (r["total"], r["stage"], r["grade"])
             for r in pq.read_table(folder / "batch" / "lead_scores.parquet").to_pylist()}
    assert set(batch) == set(served)
    for lead_id, (total, stage, grade) in batch.items():
        assert served[lead_id][0] == pytest.approx(total, abs=1e-9), lead_id
        assert served[lead_id][1:] == (stage, grade), lead_id
    return batch, exported

"""Webhooks: subscriptions, a durable outbox, signed deliveries retried with backoff.

A stage change writes its outbox rows in the same transaction as the new score, so a delivery is
never lost: if the process dies, the row is still pending when it restarts. Delivery is
at-least-once; every delivery carries a ``Leadscore-Delivery`` id that stays the same across
retries, so receivers de-duplicate on it.

Signature (Stripe's scheme): ``Leadscore-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
``HMAC-SHA256(secret, "<t>." + body)``. Receivers recompute it with the shared secret and reject
old timestamps (``verify_signature``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from leadscore.server.store import Connection, StoreError, dumps

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Leadscore-Signature"
DELIVERY_HEADER = "Leadscore-Delivery"
TIMESTAMP_HEADER = "Leadscore-Timestamp"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, body: bytes, header: str, *, now: float | None = None,
                     tolerance_seconds: float = 300.0) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its timestamp is recent enough."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


@dataclass(frozen=True)
class Subscription:
    id: str
    url: str
    stages: tuple[str, ...] | None
    created_us: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "stages": list(self.stages) if self.stages else None}


def subscribe(con: Connection, url: str, stages: Sequence[str] | None, now_us: int) -> Subscription:
    sub = Subscription(f"wh_{uuid.uuid4().hex[:12]}", url, tuple(stages) if stages else None, now_us)
    con.execute("INSERT INTO webhooks VALUES (?, ?, ?, ?, 1)",
                (sub.id, url, dumps(list(stages)) if stages else None, now_us))
    return sub


def unsubscribe(con: Connection, webhook_id: str) -> bool:
    return con.execute("UPDATE webhooks SET active = 0 WHERE id = ? AND active = 1", (webhook_id,)).rowcount == 1


def subscriptions(con: Connection) -> list[Subscription]:
    rows = con.execute("SELECT id, url, stages, created_us FROM webhooks WHERE active = 1 ORDER BY created_us")
    return [Subscription(r[0], r[1], tuple(json.loads(r[2])) if r[2] else None, r[3]) for r in rows.fetchall()]


def enqueue_stage_change(con: Connection, payload: dict[str, Any], to_stage: str | None,
                         now_us: int) -> int:
    """Outbox rows for every subscription that wants this stage; call inside the score's transaction."""
    count = 0
    for sub in subscriptions(con):
        if sub.stages is not None and to_stage not in sub.stages:
            continue
        delivery = f"dlv_{uuid.uuid4().hex}"
        body = dumps({**payload, "delivery_id": delivery, "webhook_id": sub.id})
        con.execute("INSERT INTO outbox (delivery_id, webhook_id, url, payload, created_us, next_us, status) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'pending')", (delivery, sub.id, sub.url, body, now_us, now_us))
        count += 1
    return count


def outbox_counts(con: Connection) -> dict[str, int]:
    return {str(r[0]): int(r[1]) for r in con.execute("SELECT status, count(*) FROM outbox GROUP BY status")}


class Dispatcher:
    """Delivers due outbox rows until stopped; woken early when a transaction enqueued something."""

    def __init__(self, con: Connection, *, secret: str, timeout_seconds: float, backoff_seconds: float,
                 backoff_max_seconds: float, max_attempts: int, poll_seconds: float) -> None:
        self.con = con
        self.secret = secret
        self.timeout = timeout_seconds
        self.backoff = backoff_seconds
        self.backoff_max = backoff_max_seconds
        self.max_attempts = max_attempts
        self.poll = poll_seconds
        self.wake = asyncio.Event()
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True
        self.wake.set()

    async def run(self) -> None:
        import httpx

        async with httpx.AsyncClient(timeout=self.timeout) as client:
            while not self._stopping:
                try:
                    due = self._due()
                    if due:
                        await asyncio.gather(*(self._deliver(client, *row) for row in due))
                        continue
                except StoreError as exc:  # the store is busy or closing: try again shortly
                    log.warning("webhook outbox: %s", exc)
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=self.poll)

    def _due(self) -> list[tuple[str, str, str, int]]:
        now_us = time.time_ns() // 1000
        rows = self.con.execute("SELECT delivery_id, url, payload, attempts FROM outbox "
                                "WHERE status = 'pending' AND next_us <= ? ORDER BY next_us LIMIT 32", (now_us,))
        return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows.fetchall()]

    async def _deliver(self, client: Any, delivery_id: str, url: str, payload: str, attempts: int) -> None:
        import httpx

        body = payload.encode()
        stamp = int(time.time())
        headers = {"Content-Type": "application/json", DELIVERY_HEADER: delivery_id,
                   TIMESTAMP_HEADER: str(stamp), SIGNATURE_HEADER: sign(self.secret, body, stamp),
                   "User-Agent": "leadscore-webhooks"}
        error: str | None = None
        try:
            response = await client.post(url, content=body, headers=headers)
            if not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        now_us = time.time_ns() // 1000
        if error is None:
            self.con.execute("UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_us = ?, "
                             "last_error = NULL WHERE delivery_id = ?", (now_us, delivery_id))
            return
        tries = attempts + 1
        delay = min(self.backoff * 2 ** (tries - 1), self.backoff_max)
        status = "dead" if tries >= self.max_attempts else "pending"
        log.info("webhook %s to %s failed (%s); attempt %d, next in %.1fs", delivery_id, url, error, tries, delay)
        self.con.execute("UPDATE outbox SET attempts = ?, next_us = ?, status = ?, last_error = ? "
                         "WHERE delivery_id = ?", (tries, now_us + int(delay * 1e6), status, error, delivery_id))

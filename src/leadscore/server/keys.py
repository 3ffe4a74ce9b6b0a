"""API keys: created once, shown once, stored only as a salted scrypt hash.

A key reads ``lsk_<key id>_<secret>``. The key id is public (it finds the row); the secret is 32
random bytes that never touch the store in clear: the row keeps a random salt and
``scrypt(secret, salt)``. Scopes nest: ``read`` < ``write`` < ``admin``.

scrypt is slow on purpose (tens of milliseconds), too slow to run on every request. A service keeps
the keys it verified in a small in-memory map (``KeyCache``), keyed by the SHA-256 of the
presented key, and still reads the row on every request so a revoked key stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Literal

from leadscore.errors import DataError, Issue
from leadscore.server.store import Connection

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")
PREFIX = "lsk_"
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    scope: Scope
    label: str | None = None
    created_us: int = 0
    revoked_us: int | None = None

    def allows(self, needed: Scope) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(needed)


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)


def create_key(con: Connection, scope: Scope, *, label: str | None = None) -> tuple[ApiKey, str]:
    """Create a key; return its record and the full key text (shown to the user once, never stored)."""
    if scope not in SCOPES:
        raise DataError(f"unknown scope {scope!r}", [Issue("unknown scope", hint="use read, write or admin")])
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    now_us = time.time_ns() // 1000
    con.execute("INSERT INTO api_keys (key_id, scope, salt, hash, label, created_us) VALUES (?, ?, ?, ?, ?, ?)",
                (key_id, scope, salt, _hash(secret, salt), label, now_us))
    return ApiKey(key_id, scope, label, now_us), f"{PREFIX}{key_id}_{secret}"


def list_keys(con: Connection) -> list[ApiKey]:
    rows = con.execute("SELECT key_id, scope, label, created_us, revoked_us FROM api_keys ORDER BY created_us"
                       ).fetchall()
    return [ApiKey(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def revoke_key(con: Connection, key_id: str) -> bool:
    """Revoke a key by id; False when there is no such active key."""
    cursor = con.execute("UPDATE api_keys SET revoked_us = ? WHERE key_id = ? AND revoked_us IS NULL",
                         (time.time_ns() // 1000, key_id))
    return cursor.rowcount == 1


class KeyCache:
    """Presented keys already verified by scrypt (SHA-256 of the key -> key id); thread-safe."""

    def __init__(self, limit: int = 1024) -> None:
        self._verified: dict[bytes, str] = {}
        self._lock = threading.Lock()
        self._limit = limit

    def check(self, con: Connection, presented: str | None, *, verify: bool = True) -> ApiKey | None:
        """The key's record when ``presented`` is a valid, unrevoked key; else None.

        ``verify=False`` answers only from keys verified before (still reading the row, so a revoked
        key fails) and returns None instead of running scrypt: the fast path of ``POST /v1/events``
        then hands such a request to the route, which verifies it once."""
        if not presented or not presented.startswith(PREFIX):
            return None
        key_id, sep, secret = presented[len(PREFIX):].partition("_")
        if not sep or not key_id or not secret or len(presented) > 200:
            return None
        row = con.execute("SELECT scope, salt, hash, label, created_us, revoked_us FROM api_keys "
                          "WHERE key_id = ?", (key_id,)).fetchone()
        if row is None or row[5] is not None:
            return None
        digest = hashlib.sha256(presented.encode()).digest()
        with self._lock:
            known = self._verified.get(digest) == key_id
        if not known:
            if not verify:
                return None
            if not hmac.compare_digest(_hash(secret, row[1]), row[2]):
                return None
            with self._lock:
                if len(self._verified) >= self._limit:
                    self._verified.clear()
                self._verified[digest] = key_id
        return ApiKey(key_id, row[0], row[3], row[4], None)

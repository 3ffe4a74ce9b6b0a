"""Settings of ``leadscore serve``: environment variables ``LEADSCORE_*`` and command-line overrides.

Nothing is built at import: ``get_settings()`` builds them once per process (cached), and
``create_app(settings)`` takes them explicitly, so tests pass their own.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_WEBHOOK_SECRET = "leadscore-local-only-webhook-secret"


class Settings(BaseSettings):
    """Where the store is, which model to serve, limits, webhook signing and delivery."""

    model_config = SettingsConfigDict(env_prefix="LEADSCORE_", extra="ignore", frozen=True)

    environment: Literal["local", "staging", "production"] = "local"
    store: Path | str = Field(Path("leadscore-store/leadscore.db"),
                              description="The store: a SQLite file, or a Postgres database as a URL "
                                          "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE.")
    model: Path | None = Field(None, description="Model file to serve (and to reread on SIGHUP).")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    synchronous: Literal["normal", "full"] = Field(
        "normal", description="normal: survives a killed process; full: also a power cut (fsync per commit). "
                              "Postgres: full sets synchronous_commit=on; normal keeps the server's setting.")
    max_body_bytes: int = Field(1_000_000, ge=1_000)
    max_batch_events: int = Field(1_000, ge=1)
    max_clock_skew_seconds: float = Field(300.0, ge=0, description="How far in the future an event may be.")
    frozen_now: AwareDatetime | None = Field(
        None, description="Serve as if the time were always this (replays, tests); default: the real clock.")
    webhook_secret: SecretStr = SecretStr(DEFAULT_WEBHOOK_SECRET)
    webhook_timeout_seconds: float = Field(5.0, gt=0)
    webhook_backoff_seconds: float = Field(1.0, gt=0, description="First retry delay; doubles each time.")
    webhook_backoff_max_seconds: float = Field(600.0, gt=0)
    webhook_max_attempts: int = Field(15, ge=1)
    webhook_poll_seconds: float = Field(0.5, gt=0)
    rebuild_chunk_leads: int = Field(200, ge=1, description="Leads rescored per transaction by a model change.")
    rebuild_pause_seconds: float = Field(0.0, ge=0, description="Pause between chunks, to leave room for ingest.")
    history_limit: int = Field(50, ge=1)
    decay_sweep_seconds: float = Field(
        300.0, ge=0, description="Rescore the queued leads this often, so decay moves stages (0: never).")
    workers: int = Field(1, ge=1, le=64, description="Worker processes serving requests over the one store "
                                                      "(one of them also runs webhooks, sweeps, checkpoints).")
    access_log: bool = Field(True, description="Log every request (uvicorn's access log).")
    checkpoint_seconds: float = Field(
        0.25, ge=0, description="Copy the SQLite write-ahead log into the store this often, on a thread of its "
                                "own (0: let the commit that fills the log do it, SQLite's default). "
                                "Not used on Postgres.")
    group_commit: bool = Field(
        True, description="Ingest the events of requests that arrive together in one write transaction "
                          "(each response still waits for its commit); off: one transaction per request.")
    fast_events: bool = Field(
        True, description="Answer well-formed, authorised POST /v1/events requests without FastAPI's per-request "
                          "machinery (same bytes; see server/fast_events.py); off: every request takes the route.")
    prewarm: bool = Field(True, description="At start, ask the OS to read the store file ahead (page cache); "
                                            "SQLite only.")

    @field_validator("store", mode="before")
    @classmethod
    def _store_target(cls, value: object) -> object:
        """A ``postgresql://`` URL stays text (as a Path it would lose a slash); anything else is a file."""
        from leadscore.server.store import locate

        return locate(value) if isinstance(value, str | Path) else value

    @model_validator(mode="after")
    def _secret_outside_local(self) -> Settings:
        """The default webhook secret is public (it is in this file): refuse it anywhere but local use."""
        if self.environment != "local" and self.webhook_secret.get_secret_value() == DEFAULT_WEBHOOK_SECRET:
            raise ValueError("LEADSCORE_WEBHOOK_SECRET must be set outside local use: receivers verify "
                             "webhooks with it, and the default is public")
        if self.environment != "local" and self.frozen_now is not None:
            raise ValueError("LEADSCORE_FROZEN_NOW is for local replays and tests only")
        return self

    def now(self) -> datetime:
        """The service's clock as naive UTC: the frozen time if set, else the real time."""
        from leadscore.server.store import from_us, to_us

        if self.frozen_now is not None:
            return from_us(to_us(self.frozen_now))
        import time

        return from_us(time.time_ns() // 1000)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings from the environment, built on first use."""
    return Settings()

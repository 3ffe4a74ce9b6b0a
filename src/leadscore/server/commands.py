"""What ``leadscore serve``, ``leadscore keys`` and ``leadscore store`` do, for the CLI to call.

The CLI layer may not import the server layer (they are independent siblings); it loads this
module by name when one of those commands runs, as uvicorn loads an app by name. That also keeps
FastAPI and uvicorn out of ``import leadscore.cli.main``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from leadscore.api import bundled_model_path
from leadscore.api.serving import load_serving_model, write_demo_funnel
from leadscore.errors import DataError, Issue
from leadscore.server import keys, store
from leadscore.server.app import create_app, prepare_store
from leadscore.server.loading import load_folder
from leadscore.server.settings import Settings
from leadscore.server.store import StoreTarget, from_us, redact

Announce = Callable[[str], None]
DEMO_STORE = Path("leadscore-serve-demo") / "store.db"


def build_settings(**overrides: Any) -> Settings:
    """Settings from ``LEADSCORE_*`` with the command line's values (those not None) on top."""
    return Settings(**{name: value for name, value in overrides.items() if value is not None})


def serve(settings: Settings, *, load: Path | None, demo: bool, demo_leads: int, announce: Announce) -> None:
    """Prepare the store (model checked, data loaded, demo key made), then serve until stopped."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if demo:
        settings = settings.model_copy(update={"model": settings.model or bundled_model_path(),
                                               "store": settings.store if "store" in settings.model_fields_set
                                               else DEMO_STORE})
    con = store.connect(settings.store, synchronous=settings.synchronous)
    try:
        active, _pending = prepare_store(settings, con)
        empty = con.execute("SELECT count(*) FROM leads").fetchone()[0] == 0
        if demo and empty:
            beside = settings.store.parent if isinstance(settings.store, Path) else DEMO_STORE.parent
            folder = beside / "demo-data"
            announce(f"generating a demo funnel of {demo_leads} leads in {folder}")
            write_demo_funnel(folder, leads=demo_leads, as_of=settings.now())
            load = folder
        if load is not None:
            announce(f"loading {load} into {redact(settings.store)}")
            counts = load_folder(con, load, active, now=settings.now())
            announce("loaded " + ", ".join(f"{n} {name}" for name, n in counts.items()))
        if demo and not [k for k in keys.list_keys(con) if k.revoked_us is None]:
            with store.transaction(con):
                _record, text = keys.create_key(con, "admin", label="demo")
            announce(f"demo admin API key (shown once): {text}")
    finally:
        con.close()
    announce(f"serving on http://{settings.host}:{settings.port}  (API docs: /docs)"
             + (f" with {settings.workers} worker processes" if settings.workers > 1 else ""))
    if settings.workers == 1:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info",
                    access_log=settings.access_log, timeout_graceful_shutdown=5)
        return
    # Worker processes import the app by name and read their settings from the environment.
    os.environ.update(settings_environment(settings))
    uvicorn.run("leadscore.server.app:create_app", factory=True, workers=settings.workers, host=settings.host,
                port=settings.port, log_level="info", access_log=settings.access_log, timeout_graceful_shutdown=5)


def settings_environment(settings: Settings) -> dict[str, str]:
    """``LEADSCORE_*`` variables that rebuild ``settings`` in another process (None values left out)."""
    values: dict[str, str] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            text = value.get_secret_value()
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, datetime):
            text = value.isoformat()
        else:
            text = str(value)
        values[f"LEADSCORE_{name.upper()}"] = text
    return values


def create_key(store_path: StoreTarget, scope: keys.Scope, label: str | None) -> dict[str, Any]:
    con = store.connect(store_path)
    try:
        with store.transaction(con):
            record, text = keys.create_key(con, scope, label=label)
    finally:
        con.close()
    return {"key_id": record.key_id, "scope": record.scope, "label": record.label, "key": text}


def list_keys(store_path: StoreTarget) -> list[dict[str, Any]]:
    con = store.connect(store_path)
    try:
        return [{"key_id": k.key_id, "scope": k.scope, "label": k.label,
                 "created_at": from_us(k.created_us).isoformat() + "Z",
                 "revoked_at": from_us(k.revoked_us).isoformat() + "Z" if k.revoked_us else None}
                for k in keys.list_keys(con)]
    finally:
        con.close()


def revoke_key(store_path: StoreTarget, key_id: str) -> None:
    con = store.connect(store_path)
    try:
        with store.transaction(con):
            done = keys.revoke_key(con, key_id)
    finally:
        con.close()
    if not done:
        raise DataError(f"no active key {key_id!r}", [Issue("unknown or already revoked key",
                                                           hint="'leadscore keys list' shows the keys")])


def export_feedback(store_path: StoreTarget, out: Path) -> int:
    con = store.connect(store_path)
    try:
        return store.export_feedback(con, out)
    finally:
        con.close()


def export_data(store_path: StoreTarget, out: Path, model_path: Path | None = None) -> dict[str, int]:
    """Write the store's leads, accounts and events as a data folder that ``leadscore score`` reads."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from leadscore.server import versions

    con = store.connect(store_path)
    try:
        model = (load_serving_model(model_path) if model_path
                 else versions.stored_model(con, "active"))
        if model is None:
            raise DataError("the store has no model", [Issue("no model", hint="pass --model")])
        plan = model.plan
        leads = [json.loads(r[0]) for r in con.execute("SELECT row FROM leads ORDER BY lead_id")]
        accounts = [json.loads(r[0]) for r in con.execute("SELECT row FROM accounts ORDER BY account_id")]
        events: list[dict[str, Any]] = []
        lead_keys = {str(row.get(plan.lead_key)): row.get(plan.lead_key) for row in leads}
        for event_id, lead_id, ts_us, kind, props, key_int in con.execute(
                "SELECT event_id, lead_id, ts_us, type, props, key_int FROM events ORDER BY ts_us, event_id"):
            events.append({**(json.loads(props) if props else {}),
                           plan.event_key: int(event_id) if key_int else event_id,
                           plan.event_lead: lead_keys.get(lead_id, lead_id), plan.event_time: from_us(ts_us),
                           plan.event_type: kind})
    finally:
        con.close()
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, rows in (("leads", leads), ("accounts", accounts), ("events", events)):
        if not rows and name == "accounts":
            continue
        pq.write_table(_table(pa, rows), out / f"{name}.parquet")
        counts[name] = len(rows)
    return counts


def _table(pa: Any, rows: list[dict[str, Any]]) -> Any:
    """An Arrow table of JSON rows; a column whose values mix types is written as text."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = {}
    for name in names:
        values = [row.get(name) for row in rows]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array([None if v is None else str(v) for v in values], type=pa.string())
    return pa.table(columns) if columns else pa.table({"lead_id": pa.array([], type=pa.string())})

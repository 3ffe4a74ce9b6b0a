"""``leadscore serve``, ``leadscore keys ...`` and ``leadscore store ...``: the real-time service.

Each command parses its arguments and calls one function of ``leadscore.server.commands``, loaded
by name (the CLI and the server are independent layers; loading by name also keeps FastAPI out of
the CLI's import time). Without the ``server`` extra they exit 3 and name the extra to install.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer

from leadscore.cli import render
from leadscore.errors import BackendError, Issue

STORE_HELP = "The service's store: a SQLite file, or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE."
StoreOption = Annotated[str, typer.Option("--store", "-s", help=STORE_HELP)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]

keys_app = typer.Typer(no_args_is_help=True, help="API keys of the service: create, list, revoke.")
store_app = typer.Typer(no_args_is_help=True, help="Export what the service stored (feedback, data).")


def _server() -> ModuleType:
    try:
        return importlib.import_module("leadscore.server.commands")
    except ImportError as exc:
        raise BackendError(f"leadscore serve needs the server extra ({exc.name} is missing)",
                           [Issue("server extra not installed",
                                  hint="pip install 'leadscore[server]'")]) from None


def _say(text: str) -> None:
    render.err.print(text, markup=False, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``keys`` and ``store`` to the main typer app."""
    app.command()(serve)
    app.add_typer(keys_app, name="keys")
    app.add_typer(store_app, name="store")


def serve(model: Annotated[Path | None, typer.Option("--model", "-m", help="Model file to serve.")] = None,
          store: Annotated[str | None, typer.Option("--store", "-s", help="Store file (created if new), or a "
                                                    "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL.")] = None,
          demo: Annotated[bool, typer.Option(help="Serve the bundled model on a generated funnel.")] = False,
          load: Annotated[Path | None, typer.Option(help="First load this data folder (Parquet).")] = None,
          host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
          port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
          demo_leads: Annotated[int, typer.Option(help="Leads in the --demo funnel.")] = 20_000,
          workers: Annotated[int | None, typer.Option(min=1, max=64, help="Worker processes (default 1); "
                                                      "more use more cores for scoring.")] = None,
          frozen_now: Annotated[datetime | None, typer.Option(help="Serve as if it were always this UTC "
                                                                   "time (replays, tests).")] = None) -> None:
    """Serve real-time scores over HTTP: ingest events, read scores, the sales queue, webhooks.

    Settings also come from LEADSCORE_* variables (LEADSCORE_WEBHOOK_SECRET, LEADSCORE_PORT, ...).

    Example: leadscore serve --model model.yaml --store ./store.db --workers 2

    On Postgres (pip install 'leadscore\\[postgres]'): --store postgresql://USER@HOST/DATABASE
    """
    server = _server()
    from datetime import UTC

    overrides: dict[str, Any] = {"model": model, "store": store, "host": host, "port": port, "workers": workers,
                                 "frozen_now": frozen_now.replace(tzinfo=frozen_now.tzinfo or UTC)
                                 if frozen_now else None}
    settings = server.build_settings(**overrides)
    server.serve(settings, load=load, demo=demo, demo_leads=demo_leads, announce=_say)


@keys_app.command("create")
def keys_create(store: StoreOption,
                scope: Annotated[str, typer.Option(help="read, write or admin.")] = "read",
                label: Annotated[str | None, typer.Option(help="A note: who or what uses the key.")] = None,
                as_json: JsonOption = False) -> None:
    """Create an API key; it is shown once and stored only hashed.

    Example: leadscore keys create --store store.db --scope write --label crm-sync
    """
    if scope not in ("read", "write", "admin"):
        raise typer.BadParameter("use read, write or admin", param_hint="--scope")
    created = _server().create_key(store, scope, label)
    if as_json:
        render.emit_json(created)
    else:
        _say(f"created {created['scope']} key {created['key_id']}; it is shown only now:")
        print(created["key"])


@keys_app.command("list")
def keys_list(store: StoreOption, as_json: JsonOption = False) -> None:
    """List API keys (ids, scopes, labels; never the keys themselves).

    Example: leadscore keys list --store store.db
    """
    listed = _server().list_keys(store)
    if as_json:
        render.emit_json(listed)
        return
    for key in listed:
        state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "active"
        print(f"{key['key_id']}  {key['scope']:<5}  {state:<8}  {key['label'] or ''}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id (from 'keys list').")],
                store: StoreOption) -> None:
    """Revoke an API key; a running service refuses it from the next request on.

    Example: leadscore keys revoke 3f9a1c2b7d4e --store store.db
    """
    _server().revoke_key(store, key_id)
    _say(f"revoked {key_id}")


@store_app.command("export-feedback")
def export_feedback(store: StoreOption,
                    out: Annotated[Path, typer.Option(help="Parquet file to write.")] = Path("feedback.parquet")
                    ) -> None:
    """Write sales feedback (lead_id, decision, reason, decided_at, rep, ...) as Parquet.

    Example: leadscore store export-feedback --store store.db --out feedback.parquet
    """
    rows = _server().export_feedback(store, out)
    _say(f"wrote {rows} feedback rows to {out}")


@store_app.command("export-data")
def export_data(store: StoreOption,
                out: Annotated[Path, typer.Option(help="Folder to write leads/accounts/events to.")],
                model: Annotated[Path | None, typer.Option(help="Model whose data mapping names the "
                                                                "columns (default: the served one).")] = None
                ) -> None:
    """Write the store's leads, accounts and events as a folder that 'leadscore score' reads.

    Example: leadscore store export-data --store store.db --out ./data && leadscore score -m model.yaml -d ./data
    """
    counts = _server().export_data(store, out, model)
    _say("wrote " + ", ".join(f"{n} {name}" for name, n in counts.items()) + f" to {out}")

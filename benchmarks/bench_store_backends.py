"""In-process ingest on the two store backends: the same funnel loaded into SQLite and into Postgres.

    python benchmarks/bench_store_backends.py --postgres postgresql://USER@127.0.0.1:PORT/DB --leads 2000
    PYTHONPATH=OTHER_CHECKOUT/src python benchmarks/bench_store_backends.py   # SQLite only: compare trees

For each backend: bulk-load a demo funnel (seed 42) into an empty store (timed), then run
``bench_serve.in_process_reference`` on it: median ms to score one stored lead and to ingest one
event through ``ScoringService.ingest`` (store write, rescore, commit), over ``--events`` events.
The Postgres database must exist and be empty; without ``--postgres`` only SQLite is measured. No
HTTP: this isolates what the store costs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_serve import in_process_reference


def load(target: Path | str, data: Path) -> float:
    """Record the bundled model and bulk-load ``data``; return the seconds the load took."""
    from leadscore.api import bundled_model_path
    from leadscore.server import store
    from leadscore.server.app import prepare_store
    from leadscore.server.loading import load_folder
    from leadscore.server.settings import Settings

    settings = Settings(store=target, model=bundled_model_path())
    con = store.connect(target)
    try:
        active, _ = prepare_store(settings, con)
        started = time.perf_counter()
        load_folder(con, data, active, now=settings.now())
        return time.perf_counter() - started
    finally:
        con.close()


def main() -> None:
    from leadscore.api import bundled_model_path
    from leadscore.api.serving import write_demo_funnel
    from leadscore.server.store import redact

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="URL of an empty database (default: measure SQLite only)")
    parser.add_argument("--leads", type=int, default=2_000)
    parser.add_argument("--events", type=int, default=2_000)
    args = parser.parse_args()
    report: dict[str, Any] = {"leads": args.leads, "events": args.events}
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        write_demo_funnel(data, leads=args.leads, seed=42, as_of=datetime.now(UTC).replace(tzinfo=None))
        targets: list[tuple[str, Path | str]] = [("sqlite", Path(folder) / "store.db")]
        if args.postgres:
            targets.append(("postgres", args.postgres))
        for name, target in targets:
            seconds = load(target, data)
            figures = in_process_reference(target, bundled_model_path(), args.leads, args.events)
            report[name] = {"store": redact(target), "load_seconds": round(seconds, 2), **figures}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

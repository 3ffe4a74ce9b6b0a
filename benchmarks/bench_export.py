"""Spark local[2] vs DuckDB, and incremental vs full, on the same shared-bench data.

    python benchmarks/bench_export.py --leads 1000000 [--skip-spark] [--skip-incremental]

Generates ``../shared/bench/gen.py`` data (seed 42) unless present, then reports wall times,
ratios against the DuckDB full run measured in the same session, and peak memory (RSS of this
process and its children: the Spark JVM is a child).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import leadscore

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "benchmarks" / "reference.yaml"
GEN = REPO.parent / "shared" / "bench" / "gen.py"


def peak_mb() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_mb": round(own, 1), "children_mb": round(children, 1)}


def timed(label: str, action):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = action()
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.1f}s", file=sys.stderr, flush=True)
    return seconds, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=REPO / "bench_data")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--skip-incremental", action="store_true")
    args = parser.parse_args()
    data = args.work / f"leads_{args.leads}_seed_42"
    if not (data / "events.parquet").exists():
        subprocess.run([sys.executable, str(GEN), "--leads", str(args.leads), "--seed", "42", "--out", str(data)],
                       check=True)
    as_of = datetime.fromisoformat(json.loads((data / "meta.json").read_text())["as_of"])
    report: dict[str, object] = {"leads": args.leads, "events": pq.read_metadata(data / "events.parquet").num_rows}

    duckdb_s, _ = timed("duckdb full", lambda: leadscore.score(MODEL, data, out=args.work / "out_duckdb", as_of=as_of))
    report["duckdb_seconds"] = round(duckdb_s, 2)

    if not args.skip_incremental:
        # The events as a folder of Parquet files, to which the new events are appended as one more
        # file: how warehouse exports and lakehouse tables grow.
        copy = args.work / f"incremental_{args.leads}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(data, copy, ignore=shutil.ignore_patterns("events.parquet"))
        (copy / "events").mkdir()
        shutil.copy(data / "events.parquet", copy / "events" / "part-0000.parquet")
        out = args.work / "out_incremental"
        shutil.rmtree(out, ignore_errors=True)
        first_s, _ = timed("incremental first (full)", lambda: leadscore.score_incremental(MODEL, copy, out,
                                                                                           as_of=as_of))
        first_file = copy / "events" / "part-0000.parquet"
        start = pc.max(pq.read_table(first_file, columns=["event_id"])["event_id"]).as_py() + 1
        touched = list(range(1, args.leads + 1, 100))  # 1% of leads get a new event
        rows = pa.Table.from_pylist([{"event_id": start + i, "lead_id": lead, "ts": as_of - timedelta(hours=1),
                                      "type": "pricing_page_view"} for i, lead in enumerate(touched)],
                                    schema=pq.read_schema(first_file))
        pq.write_table(rows, copy / "events" / "part-0001.parquet")
        inc_s, run = timed("incremental after 1% new events", lambda: leadscore.score_incremental(
            MODEL, copy, out, as_of=as_of))
        report.update({"incremental_first_seconds": round(first_s, 2), "incremental_seconds": round(inc_s, 2),
                       "incremental_rescored": run.rescored, "incremental_events_read": run.events_read,
                       "incremental_vs_duckdb_full": round(inc_s / duckdb_s, 3)})

    if not args.skip_spark:
        from leadscore.backends.spark_engine import local_session

        session_s, spark = timed("spark session", lambda: local_session("bench", cores=2))
        spark_s, _ = timed("spark full", lambda: leadscore.api.score_spark(
            MODEL, data=data, out=args.work / "out_spark", as_of=as_of, spark=spark))
        report.update({"spark_session_seconds": round(session_s, 2), "spark_seconds": round(spark_s, 2),
                       "spark_vs_duckdb": round(spark_s / duckdb_s, 2)})
        spark.stop()
    report["peak_memory"] = peak_mb()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

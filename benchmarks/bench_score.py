"""Speed and memory of `leadscore score` against the hand-tuned DuckDB reference, in one run.

    python benchmarks/bench_score.py --leads 1000000 [--repeat 3] [--json]

Generates the shared bench data with ../shared/bench/gen.py (cached under bench_data/), runs
../shared/bench/ref_duckdb.py and `leadscore score` on it as separate processes (wall time and peak
RSS from wait4), checks with ../shared/bench/compare.py that the outputs match, and prints both
times, the ratio (leadscore / reference, best of --repeat) and peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "bench"


def timed(cmd: list[str]) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS in MiB of it and its children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--data", type=Path, default=ROOT / "bench_data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench_out")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    data = args.data / f"leads_{args.leads}_seed_{args.seed}"
    if not (data / "meta.json").exists():
        subprocess.run([sys.executable, str(SHARED / "gen.py"), "--leads", str(args.leads), "--seed",
                        str(args.seed), "--out", str(data)], check=True)
    # An installed wheel has its bytecode compiled by pip; an editable checkout (and a machine with
    # PYTHONDONTWRITEBYTECODE set) would otherwise recompile leadscore's modules on every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "leadscore")], check=True,
                   stdout=subprocess.DEVNULL)
    ref_out = args.out / data.name / "duckdb"
    ours_out = args.out / data.name / "leadscore"
    ref_cmd = [sys.executable, str(SHARED / "ref_duckdb.py"), str(data), str(ref_out)]
    ours_cmd = [sys.executable, "-m", "leadscore.cli.main", "score", "--model",
                str(ROOT / "benchmarks" / "reference.yaml"), "--data", str(data), "--out", str(ours_out),
                "--json"]
    ref_runs, ours_runs = [], []
    for _ in range(args.repeat):  # interleaved, so machine noise hits both alike
        ref_runs.append(timed(ref_cmd))
        with open(os.devnull, "w") as sink:
            start = time.perf_counter()
            proc = subprocess.Popen(ours_cmd, stdout=sink)
            _, status, usage = os.wait4(proc.pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit("leadscore score failed")
            ours_runs.append((time.perf_counter() - start, usage.ru_maxrss / 1024.0))
    same = subprocess.run([sys.executable, str(SHARED / "compare.py"), str(ref_out), str(ours_out)],
                          capture_output=True, text=True)
    ref_best = min(r[0] for r in ref_runs)
    ours_best = min(r[0] for r in ours_runs)
    figures = {
        "leads": args.leads, "seed": args.seed, "repeat": args.repeat,
        "reference_seconds": round(ref_best, 2), "leadscore_seconds": round(ours_best, 2),
        "ratio": round(ours_best / ref_best, 2),
        "reference_peak_mib": round(max(r[1] for r in ref_runs)),
        "leadscore_peak_mib": round(max(r[1] for r in ours_runs)),
        "outputs_match": same.returncode == 0, "compare": same.stdout.strip().splitlines()[-1:],
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>20}: {value}")
    if same.returncode != 0:
        print(same.stdout, file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()

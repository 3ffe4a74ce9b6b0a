"""The reference model of the shared benchmark kit, scored by ``leadscore score``, matches the kit's
hand-written DuckDB scorer (``ref_duckdb.py``) lead by lead, as judged by the kit's ``compare.py``.

All three programs run as separate processes, exactly as the benchmark runs them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import BENCH, REFERENCE_MODEL, generate_bench_data, run_leadscore_process


def test_reference_model_matches_ref_duckdb_on_2000_leads_seed_3(tmp_path: Path) -> None:
    data = generate_bench_data(tmp_path / "data", leads=2000, seed=3)
    ours, reference = tmp_path / "leadscore", tmp_path / "ref_duckdb"
    scored = run_leadscore_process("score", "--model", REFERENCE_MODEL, "--data", data, "--out", ours)
    assert scored.returncode == 0, scored.stderr
    subprocess.run([sys.executable, str(BENCH / "ref_duckdb.py"), str(data), str(reference)], check=True,
                   capture_output=True, timeout=120)
    compared = subprocess.run([sys.executable, str(BENCH / "compare.py"), str(reference), str(ours)],
                              capture_output=True, text=True, timeout=120)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert "compared 2000 leads" in compared.stdout
    assert "OK" in compared.stdout

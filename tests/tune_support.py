"""Data for the tune, predict and report tests: one synthetic funnel per test session, and a flat table.

The funnel is generated once into pytest's session temp folder and reused by every test module
(read-only: copy it before changing anything). Scored as of 2025-12-31 with a 90-day horizon, the
leads known then converted by 2026-03-31, which is before the data ends (2026-06-29).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from leadscore.synth import generate_funnel

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_MODEL = REPO_ROOT / "src" / "leadscore" / "models" / "b2b_saas.yaml"
XEDUCATION_CSV = REPO_ROOT.parent / "shared" / "data" / "xeducation" / "Leads.csv"
FUNNEL_LEADS = 6_000
FUNNEL_SEED = 3
DATA_AS_OF = datetime(2026, 3, 31)
TRAIN_AS_OF = "2025-12-31"
BROWSER = Path("/usr/bin/chromium")
BROWSER_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run")


def funnel_folder(factory: pytest.TempPathFactory) -> Path:
    """The synthetic funnel as Parquet, generated on first use in this session."""
    folder = factory.getbasetemp() / f"tune_funnel_{FUNNEL_LEADS}_{FUNNEL_SEED}"
    if not (folder / "meta.json").exists():
        generate_funnel(FUNNEL_LEADS, seed=FUNNEL_SEED, as_of=DATA_AS_OF).write(folder)
    return folder


def write_flat_table(path: Path, *, n: int = 2_000, seed: int = 0) -> Path:
    """A flat lead table with a known story: referrals and many visits convert, students do not."""
    rng = np.random.default_rng(seed)
    source = rng.choice(["Referral", "Google", "Direct", "Select"], size=n, p=[0.2, 0.4, 0.3, 0.1])
    visits = rng.poisson(4, n).astype(float)
    visits[rng.random(n) < 0.05] = np.nan
    role = rng.choice(["Manager", "Engineer", "Student"], size=n)
    logit = (np.where(source == "Referral", 1.5, 0.0) + 0.3 * (np.nan_to_num(visits, nan=0.0) - 4)
             - np.where(role == "Student", 1.5, 0.0) - 0.8)
    converted = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    pd.DataFrame({"lead_id": np.arange(1, n + 1), "Lead Source": source, "Visits": visits, "Role": role,
                  "Converted": converted}).to_csv(path, index=False)
    return path


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    """``leadscore ARGS...`` through the real entry point, in this process, for module-scoped
    fixtures (the ``leadscore_cli`` fixture is per test): exit code, stdout, stderr."""
    import contextlib
    import io
    import sys

    from leadscore.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["leadscore", *map(str, args)]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                run()
                code = 0
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.argv = saved
    return code, out.getvalue(), err.getvalue()


REPORT_AS_OF = "2026-03-31"


def report_run(factory: pytest.TempPathFactory) -> dict[str, object]:
    """``leadscore report --json`` of the bundled model on the funnel (as of 2026-03-31, converted within
    90 days), run on first use in this session: its JSON and the HTML file."""
    import json

    folder = factory.getbasetemp() / "tune_report"
    summary = folder / "summary.json"
    if not summary.exists():
        folder.mkdir(exist_ok=True)
        code, stdout, stderr = run_cli("report", "--model", BUNDLED_MODEL, "--data", funnel_folder(factory),
                                       "--outcome", "converted", "--as-of", REPORT_AS_OF, "--horizon", "90d",
                                       "--out", folder / "report.html", "--json")
        assert code == 0, stderr
        summary.write_text(stdout, encoding="utf-8")
    return {"json": json.loads(summary.read_text(encoding="utf-8")), "html": folder / "report.html"}


def expected_marks(figures: dict[str, object]) -> dict[str, int]:
    """How many marks each chart must draw, from the report's own figures."""
    f: dict[str, Any] = dict(figures)
    thresholds = f["thresholds"]["rows"]
    marks = {
        "distribution": 2 * len(f["histogram"]["converted"]),
        "bands": len(f["bands"]["bands"]),
        "stages": sum(1 for s in f["stages"] if s["leads"]),
        "lift": len(f["lift"]["points"]),
        "calibration": sum(1 for p in f["calibration"]["points"] if p["leads"] >= 10),
        "thresholds": len(thresholds) + sum(1 for r in thresholds if r["precision"] is not None),
        "channels": len(f["channels"]),
        "signals": len(f["signals"]),
    }
    return {name: count for name, count in marks.items() if count}

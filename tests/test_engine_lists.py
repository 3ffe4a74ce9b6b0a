"""Named lists: ``x IN @list`` expands to the list's values, on any column form (lead.x, account.x)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from leadscore import api

MODEL = """\
model: lists
lists:
  target_regions: [europe, north_america]
  personal: builtin:personal_email_domains
layers:
  fit:
    rules:
      - {name: target_region, when: "lead.region IN @target_regions", points: 5}
      - {name: personal_email, when: "email_domain(email) IN @personal", points: -15}
stages:
  - {name: all, min_score: -100}
"""


def test_qualified_column_in_list_is_scored(tmp_path: Path, tiny_data: Path) -> None:
    model = tmp_path / "model.yaml"
    model.write_text(MODEL, encoding="utf-8")
    api.score(model, tiny_data, out=tmp_path / "out", as_of=datetime(2026, 6, 30))
    totals = dict(duckdb.execute(f"SELECT lead_id, total FROM read_parquet('{tmp_path}/out/lead_scores.parquet')"
                                 ).fetchall())
    # lead 1: europe; lead 2: apac with a gmail address; lead 3: north_america; lead 4: europe.
    assert totals == {1: 5.0, 2: -15.0, 3: 5.0, 4: 5.0}
    explained = {lead: api.explain(model, tiny_data, lead, as_of=datetime(2026, 6, 30)) for lead in (1, 2, 3)}
    assert {lead: [(r["rule"], r["points"]) for r in e.reasons] for lead, e in explained.items()} == {
        1: [("target_region", 5.0)], 2: [("personal_email", -15.0)], 3: [("target_region", 5.0)]}

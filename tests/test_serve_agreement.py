"""Batch and real time agree: stream a demo funnel through the API, then compare with ``leadscore score``.

Accounts and leads are created with PUT, every event before the scoring date is sent with POST
/v1/events, and the service's scores (stored at ingest, and read back) must equal the batch run
on the same data as of the same moment, to 1e-9, with the same stage and grade; accounts too.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from conftest import BUNDLED_MODEL, CliRun
from serve_support import BACKENDS, FROZEN_NOW, iso, new_store, rows_json, start_server, store_rows

LEADS = 300


@pytest.mark.parametrize("backend", BACKENDS)
def test_streamed_demo_events_score_exactly_as_the_batch(tmp_path: Path, leadscore_cli: Any, backend: str,
                                                         request: pytest.FixtureRequest) -> None:
    from leadscore.api.serving import write_demo_funnel

    as_of = datetime.fromisoformat(FROZEN_NOW)
    data = tmp_path / "data"
    write_demo_funnel(data, leads=LEADS, seed=5, as_of=as_of)
    server = start_server(new_store(request, tmp_path, backend), BUNDLED_MODEL, folder=tmp_path)
    try:
        with server.client("write", timeout=120) as api:
            for row in rows_json(pq.read_table(data / "accounts.parquet").to_pylist()):
                api.put(f"/v1/accounts/{row['account_id']}", json=row).raise_for_status()
            for row in rows_json(pq.read_table(data / "leads.parquet").to_pylist()):
                api.put(f"/v1/leads/{row['lead_id']}", json=row).raise_for_status()
            events = [e for e in pq.read_table(data / "events.parquet").to_pylist() if e["ts"] < as_of]
            for start in range(0, len(events), 1000):
                sent = [{"event_id": e["event_id"], "lead_id": e["lead_id"], "type": e["type"], "ts": iso(e["ts"]),
                         "properties": {k: e[k] for k in ("url", "asset", "topic")}}
                        for e in events[start:start + 1000]]
                response = api.post("/v1/events", json={"events": sent})
                assert response.status_code == 200, response.text
            served_leads = {lead_id: api.get(f"/v1/leads/{lead_id}").json() for lead_id in range(1, LEADS + 1, 7)}
            accounts = pq.read_table(data / "accounts.parquet").column("account_id").to_pylist()
            served_accounts = {a: api.get(f"/v1/accounts/{a}").json() for a in accounts[::3]}
    finally:
        server.stop()

    done: CliRun = leadscore_cli("score", "--model", BUNDLED_MODEL, "--data", data, "--out", tmp_path / "batch",
                                 "--as-of", FROZEN_NOW, "--json")
    assert done.code == 0, done.stderr
    batch: dict[int, dict[str, Any]] = {
        r["lead_id"]: r for r in pq.read_table(tmp_path / "batch" / "lead_scores.parquet").to_pylist()}
    assert len(batch) == LEADS
    stored = {int(r[0]): r[1:] for r in store_rows(
        server.store, "SELECT lead_id, total, stage, grade FROM scores WHERE model_version = "
                      "(SELECT version FROM models WHERE status = 'active')")}
    assert set(stored) == set(batch)
    stages = set()
    for lead_id, row in batch.items():
        assert stored[lead_id][0] == pytest.approx(row["total"], abs=1e-9), lead_id
        assert stored[lead_id][1:] == (row["stage"], row["grade"]), lead_id
        stages.add(row["stage"])
    assert len(stages) >= 3, "the funnel should reach several stages"
    for lead_id, lead in served_leads.items():
        row = batch[lead_id]
        assert lead["total"] == pytest.approx(row["total"], abs=1e-9)
        assert (lead["stage"], lead["grade"], lead["next_action"]) == (row["stage"], row["grade"], row["next_action"])
        assert lead["last_activity_type"] == row["last_activity_type"]
    batch_accounts = {r["account_id"]: r for r in
                      pq.read_table(tmp_path / "batch" / "account_scores.parquet").to_pylist()}
    for account_id, account in served_accounts.items():
        row = batch_accounts[account_id]
        assert account["account_score"] == pytest.approx(row["account_score"], abs=1e-9), account_id
        assert account["engaged_leads"] == row["engaged_leads"]
        assert account["committee_roles"] == sorted(row["committee_roles"] or [])

"""Scores computed before the write transaction are kept only if nothing they were computed from
changed in between: with no other connection's commit (SQLite's data_version) the per-lead
fingerprint checks are skipped; after another connection's commit they run, and a lead whose inputs
changed is rescored inside the transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from leadscore.server import store
from leadscore.server.service import ScoringService
from test_serve_group_commit import _event, _service


def _count_fingerprints(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = store.lead_fingerprint

    def counted(con: store.Connection, lead: store.StoredLead) -> tuple[object, ...]:
        calls.append(lead.lead_id)
        return real(con, lead)

    monkeypatch.setattr(store, "lead_fingerprint", counted)
    return calls


def _write_after_prepare(service: ScoringService, write: Any) -> None:
    """Run ``write`` (another connection's commit) between the snapshot scoring and the write transaction."""
    prepare = service.prepare

    def prepare_then_write(*args: Any) -> Any:
        done = prepare(*args)
        write()
        return done

    service.prepare = prepare_then_write  # type: ignore[method-assign,assignment]


def test_no_commit_in_between_skips_the_fingerprint_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service = _service(tmp_path, 2)
    calls = _count_fingerprints(monkeypatch)
    result = service.ingest([_event("e1", "c0"), _event("e2", "c1")])
    assert sorted(calls) == ["c0", "c1"], "the snapshot takes them; the write transaction does not recheck"
    assert [item["status"] for item in result["results"]] == ["stored", "stored"]


def test_another_connections_commit_in_between_is_seen_and_the_changed_lead_rescored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service = _service(tmp_path, 2)
    other = ScoringService(store.connect(tmp_path / "store.db"), service.models, now=service.now)
    # Between the snapshot and the write, another process turns c0 into a non-senior lead (fit 10 -> 0).
    _write_after_prepare(service, lambda: other.put_lead("c0", {"seniority": "intern",
                                                                "created_at": "2026-01-01T00:00:00Z"}))
    calls = _count_fingerprints(monkeypatch)
    result = service.ingest([_event("e1", "c0", "demo_request"), _event("e2", "c1", "demo_request")])

    assert sorted(calls) == ["c0", "c0", "c1", "c1"], "snapshot and write transaction both check each lead"
    assert result["leads"]["c0"]["layers"]["fit"] == 0.0, "c0 rescored with the row the other process wrote"
    assert result["leads"]["c1"]["layers"]["fit"] == 10.0
    for lead in ("c0", "c1"):
        stored = store.get_score(service.con, service.models.active.version, lead)
        assert stored is not None and stored.total == result["leads"][lead]["total"]
        fresh = service.rescore(service.con, lead, service.now(), "check")
        assert fresh is not None and fresh[0].total == stored.total
    other.con.close()

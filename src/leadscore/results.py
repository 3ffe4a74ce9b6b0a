"""Typed, frozen results of the public API; ``to_dict()`` is exactly what ``--json`` prints."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


@dataclass(frozen=True)
class ValidationReport:
    model: str
    source: str | None
    version_hash: str
    layers: list[str]
    rules: int
    stages: list[str]
    checked_against_data: bool
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ScoreResult:
    model: str
    model_version: str
    as_of: datetime
    leads: int
    accounts: int
    stage_counts: dict[str, int]
    grade_counts: dict[str, int]
    top_leads: list[dict[str, Any]]
    top_accounts: list[dict[str, Any]]
    quarantined: dict[str, int]
    outputs: dict[str, str]
    run_id: str | None
    stage_changes: int | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Explanation:
    lead_id: Any
    model: str
    model_version: str
    as_of: datetime
    segment: str | None
    layers: dict[str, float]
    groups: dict[str, float]
    total: float
    grade: str | None
    stage: str | None
    next_action: str | None
    last_activity_at: datetime | None
    last_activity_type: str | None
    reasons: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class DiffReport:
    old_model: str
    new_model: str
    leads: int
    changed_stage: int
    matrix: dict[str, dict[str, int]]
    movers: list[dict[str, Any]]
    mean_total_change: float

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class DemoResult:
    data_dir: str
    score: ScoreResult
    database: str

    def to_dict(self) -> dict[str, Any]:
        return {"data_dir": self.data_dir, "database": self.database, "score": self.score.to_dict()}

"""Request bodies of the HTTP API, validated by pydantic (a bad body is a 422 naming the field).

Events carry fixed field names (``event_id``, ``lead_id``, ``type``, ``ts``, ``properties``); the
model's ``data.events`` mapping decides which columns they become when a lead is scored. Lead and
account bodies are flat objects of column values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag

RESERVED_EVENT_FIELDS = frozenset({"event_id", "lead_id", "type", "ts"})


def _utf8(text: str) -> str:
    """Refuse text that cannot be stored (lone surrogates from ``\\ud800`` escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    if "\x00" in text:
        raise ValueError("text must not contain NUL characters")
    return text


def _utc(moment: datetime) -> datetime:
    try:
        converted = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("timestamp out of range") from None
    if converted.year < 1971:
        raise ValueError("timestamp before 1971")
    return converted


Text = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_utf8)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_utf8)]
IntId = Annotated[int, Field(ge=-(2 ** 63), lt=2 ** 63)]
ColumnName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
Scalar = Text | Annotated[int, Field(ge=-(2 ** 63), lt=2 ** 63)] | float | bool | None
Timestamp = Annotated[AwareDatetime, AfterValidator(_utc)]


class EventIn(BaseModel):
    """One event of one lead. ``ts`` must carry a zone (``Z`` or ``+02:00``)."""

    model_config = ConfigDict(extra="forbid")

    event_id: IntId | Id = Field(description="Unique id: sending the same event again changes nothing.")
    lead_id: IntId | Id
    type: Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_utf8)]
    ts: Timestamp = Field(description="When it happened, with a zone; not in the future.")
    properties: Annotated[dict[ColumnName, Scalar], Field(max_length=50)] = Field(
        default_factory=dict, description="Event columns used by rule filters, e.g. {'url': '/pricing'}.")


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, description="Stored in one transaction, all or nothing.")


def _body_kind(value: Any) -> str:
    return "batch" if isinstance(value, dict) and "events" in value else "one"


EventsBody = Annotated[Annotated[EventIn, Tag("one")] | Annotated[EventBatch, Tag("batch")],
                       Discriminator(_body_kind)]
"""One event, or ``{"events": [...]}``: errors are reported for the shape that was sent."""
BODY_TAGS = frozenset({"one", "batch"})

Row = Annotated[dict[ColumnName, Scalar], Field(max_length=300)]


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "reject"]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_utf8)] | None = Field(
        None, description="Why a lead was rejected (required for a reject; one of the learning commands' "
                          "reasons, e.g. poor_fit, no_budget, wrong_title).")
    note: Annotated[str, StringConstraints(max_length=2_000), AfterValidator(_utf8)] | None = Field(
        None, description="Free text from the rep.")
    rep: Annotated[str, StringConstraints(max_length=200), AfterValidator(_utf8)] | None = None
    decided_at: Timestamp | None = None


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=2_000), AfterValidator(_utf8)]
    stages: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_utf8)]],
                      Field(min_length=1, max_length=50)] | None = Field(
        None, description="Notify when a lead enters one of these stages (default: any stage change).")


class ModelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    yaml: Annotated[str, StringConstraints(min_length=1, max_length=500_000), AfterValidator(_utf8)] = Field(
        description="The whole model file, as YAML text.")
    force: bool = Field(False, description="Load it even if it names columns the service has not seen yet.")


class Problem(BaseModel):
    """Every error body: what went wrong and, per problem, where and how to fix it."""

    error: str
    type: str
    issues: list[dict[str, Any]] = Field(default_factory=list)

"""The scoring model: typed, validated structure of a model file.

This module knows nothing of SQL or engines. Conditions stay strings here; the compiler parses
them with sqlglot and checks them against the allow-list, so a model can be loaded, inspected
and re-written (``leadscore tune``) without an engine.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from leadscore.spec.durations import parse_duration_days

Days = Annotated[
    float,
    BeforeValidator(parse_duration_days),
    # The schema describes what a model file may say ('30d'), not the float it becomes.
    WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0},
                              {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[dhwmy]?\s*$"}],
                    "description": "A duration: days as a number, or '30d', '12h', '2w', '6m', '1y'."}),
]
"""A duration in days; accepts '30d', '12h', '2w', '6m', '1y' or a number."""

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
RuleName = Annotated[str, Field(pattern=NAME_PATTERN)]


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a model file must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DecayStep(Strict):
    after: Days = Field(description="Age from which this factor applies.")
    factor: float = Field(ge=0, le=1, description="Multiplier for events at least this old.")


class Decay(Strict):
    """How an event's points shrink with age. One shape (half-life, steps or linear), plus expiry."""

    half_life: Days | None = Field(None, description="Exponential: points x 0.5^(age/half_life).")
    steps: list[DecayStep] | None = Field(
        None, description="Step: the factor of the last step whose 'after' the age reached."
    )
    linear: Days | None = Field(None, description="Linear: points fall to zero at this age.")
    expire_after: Days | None = Field(None, description="Events older than this count zero.")

    @model_validator(mode="after")
    def _one_shape(self) -> Decay:
        shapes = [s for s in (self.half_life, self.steps, self.linear) if s is not None]
        if len(shapes) > 1:
            raise ValueError("choose one of half_life, steps or linear (expire_after may be added)")
        if not shapes and self.expire_after is None:
            raise ValueError("give half_life, steps, linear or expire_after")
        if self.steps is not None:
            afters = [step.after for step in self.steps]
            if afters != sorted(afters) or len(set(afters)) != len(afters):
                raise ValueError("decay steps must be in increasing order of 'after'")
        return self


class Tier(Strict):
    when: str = Field(description="SQL condition; the first tier whose condition holds wins.")
    points: float


class ProfileRule(Strict):
    """A rule on a lead's (and its account's) columns. Exactly one of three shapes:

    * ``when`` + ``points`` (a number, or an expression string such as ``intent_score / 10``);
    * ``column`` + ``points`` as a value map (``{technology: 20}``) with an optional ``default``;
    * ``tiers``: ordered ``{when, points}``, the first match wins.
    A rule without ``when`` and with expression points always applies.
    """

    name: RuleName
    description: str | None = None
    when: str | None = None
    points: float | str | dict[str, float] | None = None
    column: str | None = None
    default: float | None = None
    tiers: list[Tier] | None = None
    case_sensitive: bool = Field(False, description="Value maps compare case-insensitively unless set.")

    @model_validator(mode="after")
    def _one_shape(self) -> ProfileRule:
        if self.tiers is not None:
            if self.points is not None or self.column is not None or self.when is not None:
                raise ValueError("a tiered rule has only 'tiers' (each with when and points)")
            if not self.tiers:
                raise ValueError("'tiers' needs at least one tier")
        elif self.column is not None:
            if not isinstance(self.points, dict) or not self.points:
                raise ValueError("a value-map rule needs 'points' as a mapping of value: points")
            if self.when is not None:
                raise ValueError("a value-map rule takes no 'when'")
        else:
            if self.points is None:
                raise ValueError("give 'points' (with 'when'), 'column' + 'points' map, or 'tiers'")
            if isinstance(self.points, dict):
                raise ValueError("a points map needs 'column' naming the column it maps")
            if self.when is None and not isinstance(self.points, str):
                raise ValueError("give 'when' for fixed points (or an expression as points)")
        if self.default is not None and self.column is None:
            raise ValueError("'default' applies to value-map rules only")
        return self


class EventRule(Strict):
    """Points for each event of one type, optionally filtered, capped in count, windowed, decayed."""

    points: float
    name: RuleName | None = Field(None, description="Reason name; defaults to the event type.")
    type: str | None = Field(None, description="Event type when the key is a rule name instead.")
    where: str | None = Field(None, description="SQL condition on event columns (url, asset, topic...).")
    max_count: int | None = Field(None, ge=1, description="Only the N most recent events count.")
    within: Days | None = Field(None, description="Only events at most this old count.")
    decay: Decay | None = Field(None, description="Overrides the group's decay for this event.")


def _event_rule(value: Any) -> Any:
    return {"points": value} if isinstance(value, int | float) and not isinstance(value, bool) else value


EventRuleEntry = Annotated[EventRule, BeforeValidator(_event_rule, json_schema_input_type=EventRule | float)]


class EventGroup(Strict):
    """A group of event rules sharing a cap and a decay (email, web, intent...)."""

    cap: float | None = Field(None, ge=0)
    floor: float | None = None
    decay: Decay | None = None
    within: Days | None = None
    events: dict[str, EventRuleEntry] = Field(min_length=1)


class PredictiveSource(Strict):
    """Points from a saved predictive model (``leadscore predict fit``): probability x ``points``.

    The probability is computed for every lead as of the run's ``as_of`` (point in time), and the
    points appear as one explanation item named ``name``, capped with the layer like any rule.
    """

    artifact: str = Field(..., description="Folder written by 'leadscore predict fit', relative to the "
                                           "model file.")
    points: float = Field(..., gt=0, description="Points at probability 1 (points = probability x this).")
    name: RuleName = Field("predicted_conversion", description="Name of the explanation item.")


class Layer(Strict):
    """A score layer (fit, engagement, intent, readiness, revenue, negative...): rules, groups and/or
    a predictive source."""

    description: str | None = None
    cap: float | None = None
    floor: float | None = None
    rules: list[ProfileRule] = Field(default_factory=list)
    groups: dict[str, EventGroup] = Field(default_factory=dict)
    predictive: PredictiveSource | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Layer:
        if not self.rules and not self.groups and self.predictive is None:
            raise ValueError("a layer needs 'rules', 'groups' or 'predictive'")
        if self.cap is not None and self.floor is not None and self.cap < self.floor:
            raise ValueError(f"cap {self.cap} is below floor {self.floor}")
        return self


class Bounds(Strict):
    floor: float | None = None
    cap: float | None = Field(None, ge=0, description="The highest total a lead can reach.")

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if self.cap is not None and self.floor is not None and self.cap < self.floor:
            raise ValueError(f"cap {self.cap} is below floor {self.floor}")
        return self


class Stage(Strict):
    """A funnel stage. Stages are tried top to bottom; the first whose conditions all hold wins."""

    name: RuleName
    min_score: float = 0.0
    require: list[str] = Field(default_factory=list, description="Extra SQL conditions, all must hold.")
    action: str | None = Field(None, description="The next action shown to sales.")


class Rollup(Strict):
    top_n: int = Field(3, ge=1, description="Sum of the N highest lead totals.")
    engaged_min: float = Field(30, description="A lead with total at least this is an engaged contact.")
    beyond_top_points: float = Field(
        0, description="Points per engaged contact ranked below the top N (breadth of engagement)."
    )


class AccountSpec(Strict):
    """Account score = roll-up of its leads + account-level rules; committee roles covered."""

    rollup: Rollup = Field(default_factory=Rollup)
    rules: list[ProfileRule] = Field(default_factory=list)
    committee: dict[str, str] = Field(
        default_factory=dict, description="Role name -> SQL condition on lead columns."
    )
    cap: float | None = None


class TableMapping(Strict):
    key: str | None = None
    account: str | None = None
    created: str | None = None
    email: str | None = None
    lead: str | None = None
    time: str | None = None
    type: str | None = None


class DataMapping(Strict):
    """Which columns hold keys, times and types, so users keep their own column names."""

    leads: TableMapping = Field(
        default_factory=lambda: TableMapping(key="lead_id", account="account_id", created="created_at")
    )
    events: TableMapping = Field(
        default_factory=lambda: TableMapping(key="event_id", lead="lead_id", time="ts", type="type")
    )
    accounts: TableMapping = Field(default_factory=lambda: TableMapping(key="account_id"))

    @field_validator("leads")
    @classmethod
    def _lead_defaults(cls, value: TableMapping) -> TableMapping:
        return value.model_copy(update={"key": value.key or "lead_id"})

    @field_validator("events")
    @classmethod
    def _event_defaults(cls, value: TableMapping) -> TableMapping:
        return value.model_copy(
            update={
                "key": value.key or "event_id",
                "lead": value.lead or "lead_id",
                "time": value.time or "ts",
                "type": value.type or "type",
            }
        )

    @field_validator("accounts")
    @classmethod
    def _account_defaults(cls, value: TableMapping) -> TableMapping:
        return value.model_copy(update={"key": value.key or "account_id"})


class Segment(Strict):
    when: str = Field(description="SQL condition on lead/account columns; first segment that matches wins.")
    model: str = Field(description="Path of the segment's model file, relative to this file.")


class OwnerRule(Strict):
    """A territory/owner rule of the sales queue: the first rule whose condition holds owns the lead."""

    owner: str = Field(pattern=r"\S", description="Owner or team name, e.g. 'emea_sdr'.")
    when: str = Field("true", description="SQL condition on lead and account columns.")
    capacity: int | None = Field(None, ge=0, description="At most this many queued leads for this owner.")


class Routing(Strict):
    """Which leads the sales queue holds (``leadscore serve``: ``GET /v1/queue``) and who owns them."""

    stages: list[str] | None = Field(
        None, description="Stages that enter the queue, most urgent first (default: all but the last)."
    )
    grades: list[str] | None = Field(None, description="Grades that may be queued (default: all).")
    owners: list[OwnerRule] = Field(default_factory=list, description="Owner rules; first match wins.")
    default_owner: str | None = Field(None, description="Owner of leads no owner rule matches.")


class ScoringModel(Strict):
    """A whole model file. Layers, groups and rules keep the order they are written in."""

    model: str = Field(description="The model's name.")
    version: int | str = 1
    description: str | None = None
    data: DataMapping = Field(default_factory=DataMapping)
    lists: dict[str, list[str] | str] = Field(
        default_factory=dict, description="Named lists; 'builtin:personal_email_domains' for built-ins."
    )
    layers: dict[str, Layer] = Field(min_length=1)
    total: Bounds = Field(default_factory=Bounds)
    grades: dict[str, str] = Field(default_factory=dict, description="Grade -> condition, first match.")
    stages: list[Stage] = Field(min_length=1)
    meaningful_events: list[str] | None = Field(
        None, description="Event types that count as meaningful activity (default: all scored types)."
    )
    account: AccountSpec | None = None
    segments: dict[str, Segment] = Field(default_factory=dict)
    reasons_top: int = Field(3, ge=0, le=10, description="How many reason columns to write.")
    routing: Routing | None = Field(None, description="Sales queue: stages, grades and owners.")

    def rule_names(self) -> list[str]:
        """Names of every profile and event rule, in model order (duplicates included)."""
        names: list[str] = []
        for layer in self.layers.values():
            names.extend(rule.name for rule in layer.rules)
            if layer.predictive is not None:
                names.append(layer.predictive.name)
            for group in layer.groups.values():
                names.extend(rule.name or key for key, rule in group.events.items())
        return names

    def group_names(self) -> list[str]:
        return [group for layer in self.layers.values() for group in layer.groups]


ModelKind = Literal["scoring"]

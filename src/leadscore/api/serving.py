"""The scoring calls behind ``leadscore serve``: one lead, one account, the queue's owner rules, a batch.

The HTTP service (``leadscore.server``) keeps leads, accounts and events in its own store and asks
this module for numbers. Every call here is the library's: ``score_one`` is the plain-Python
evaluator that gives exactly the batch (DuckDB) numbers, so a score served in real time equals
``leadscore score`` on the same data as of the same moment.

    >>> model = load_serving_model("model.yaml")                             # doctest: +SKIP
    >>> score_one(model, lead, account=None, events=[], as_of=now).stage     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from leadscore.backends.predictions import lead_predictions_issue
from leadscore.backends.python_eval import AccountScore, LeadScore, duplicate_lead_keys, score_account, score_lead
from leadscore.backends.python_functions import SqlValue, holds
from leadscore.compiler.conditions import BoundCondition, ConditionRejected, NameSpace, bind_condition
from leadscore.compiler.plan import DataSchema, ScoringPlan, compile_plan
from leadscore.errors import Issue, ModelError
from leadscore.learn.feedback import REASONS as FEEDBACK_REASONS
from leadscore.spec.loader import LoadedModel, load_model_text

__all__ = [
    "FEEDBACK_REASONS",
    "AccountScore",
    "LeadScore",
    "OwnerRoute",
    "RoutingPlan",
    "ServingModel",
    "account_roll_up",
    "batch_lead_scores",
    "column_warnings",
    "duplicate_keys",
    "load_serving_model",
    "route_owner",
    "score_one",
    "serving_model_from_text",
    "write_demo_funnel",
]


@dataclass(frozen=True)
class OwnerRoute:
    """An owner rule of the queue, bound: ``condition`` None means 'every lead'."""

    owner: str
    condition: BoundCondition | None
    capacity: int | None


@dataclass(frozen=True)
class RoutingPlan:
    """The queue's stages (most urgent first), allowed grades (None: all) and owner rules."""

    stages: tuple[str, ...]
    grades: tuple[str, ...] | None
    owners: tuple[OwnerRoute, ...]
    default_owner: str | None

    def owner_capacity(self, owner: str | None) -> int | None:
        return next((rule.capacity for rule in self.owners if rule.owner == owner), None)


@dataclass(frozen=True)
class ServingModel:
    """A model ready to serve: the loaded file, its compiled plan, its routing and its YAML text."""

    loaded: LoadedModel
    plan: ScoringPlan
    routing: RoutingPlan
    text: str

    @property
    def version(self) -> str:
        return self.plan.version_hash

    @property
    def name(self) -> str:
        return self.plan.name


def load_serving_model(path: str | Path) -> ServingModel:
    """Load, validate and compile a model file for serving; ModelError lists every problem."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(f"model file {str(file)!r} does not exist",
                         [Issue("file not found", file=str(file),
                                hint="give the path of a .yaml model; 'leadscore init' writes one")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read model file {str(file)!r}: {exc}") from None
    return serving_model_from_text(text, source=str(file), base_dir=file.parent)


def serving_model_from_text(text: str, *, source: str | None = None, base_dir: Path | None = None
                            ) -> ServingModel:
    """Validate and compile YAML text (a model sent to the service); ModelError lists every problem.

    The plan is compiled without a data schema, as ``leadscore validate`` without ``--data``: the
    service's rows are JSON objects in which a missing column simply reads as NULL, so a bare
    column name binds as written (qualify account columns: ``account.industry``).
    ``column_warnings`` checks the names against the columns the service has seen.
    """
    loaded = load_model_text(text, source=source, base_dir=base_dir)
    if (problem := lead_predictions_issue(loaded, "the real-time service")) is not None:
        raise problem  # its one-lead path has no probability column: scores would silently differ
    plan = compile_plan(loaded)
    return ServingModel(loaded=loaded, plan=plan, routing=_routing_plan(loaded, plan), text=text)


def column_warnings(model: ServingModel, columns: Mapping[str, Sequence[str]]) -> list[Issue]:
    """Problems the model would have against the columns seen so far per table (``leads``,
    ``events`` properties, ``accounts``): likely typos, reported without refusing the model."""
    if not columns.get("leads"):
        return []
    mapping = model.loaded.spec.data
    fixed = [mapping.events.key, mapping.events.lead, mapping.events.time, mapping.events.type]
    accounts = columns.get("accounts")
    schema = DataSchema(
        leads=dict.fromkeys([*columns["leads"], *(c for c in (mapping.leads.key, mapping.leads.account,
                                                              mapping.leads.created) if c)], ""),
        events=dict.fromkeys([*columns.get("events", ()), *(name for name in fixed if name)], ""),
        accounts=dict.fromkeys([*accounts, mapping.accounts.key or "account_id"], "") if accounts else None)
    try:
        compile_plan(model.loaded, schema)
    except ModelError as error:
        return list(error.issues)
    return []


def _routing_plan(loaded: LoadedModel, plan: ScoringPlan) -> RoutingPlan:
    spec = loaded.spec.routing
    stage_names = [stage.name for stage in plan.stages]
    if spec is None:
        return RoutingPlan(tuple(stage_names[:-1] or stage_names), None, (), None)
    issues: list[Issue] = []
    stages = spec.stages if spec.stages is not None else stage_names[:-1] or stage_names
    for index, name in enumerate(stages):
        if name not in stage_names:
            issues.append(loaded.issue(("routing", "stages", index), f"unknown stage '{name}'",
                                       hint="stages: " + ", ".join(stage_names)))
    grade_names = [grade for grade, _ in plan.grades]
    for index, grade in enumerate(spec.grades or []):
        if grade not in grade_names:
            issues.append(loaded.issue(("routing", "grades", index), f"unknown grade '{grade}'",
                                       hint="grades: " + (", ".join(grade_names) or "none defined")))
    names = NameSpace(context="segment", lists=dict(_lists(loaded)))
    owners: list[OwnerRoute] = []
    for index, rule in enumerate(spec.owners):
        bound: BoundCondition | None = None
        if rule.when.strip().lower() != "true":
            try:
                bound = bind_condition(rule.when, names)
            except ConditionRejected as rejected:
                for problem in rejected.problems:
                    issues.append(loaded.issue(("routing", "owners", index, "when"), problem.message,
                                               hint=problem.hint, offset=problem.offset))
                continue
        owners.append(OwnerRoute(rule.owner, bound, rule.capacity))
    if issues:
        raise ModelError(f"{loaded.source or 'model'} has errors", issues)
    return RoutingPlan(tuple(stages), tuple(spec.grades) if spec.grades is not None else None,
                       tuple(owners), spec.default_owner)


def _lists(loaded: LoadedModel) -> Iterable[tuple[str, tuple[str, ...]]]:
    from leadscore.spec.builtin_lists import BUILTIN_LISTS

    for name, value in loaded.spec.lists.items():
        if isinstance(value, str):
            yield name, BUILTIN_LISTS.get(value.removeprefix("builtin:"), ())
        else:
            yield name, tuple(str(v) for v in value)


def score_one(model: ServingModel, lead: Mapping[str, Any], *, account: Mapping[str, Any] | None,
              events: Sequence[Mapping[str, Any]], as_of: datetime, is_duplicate: bool = False) -> LeadScore:
    """One lead's score as of ``as_of`` (naive UTC): the batch numbers, reasons adding up to the total."""
    return score_lead(model.plan, lead, account=account, events=events, as_of=as_of, is_duplicate=is_duplicate)


def duplicate_keys(model: ServingModel, leads: Iterable[Mapping[str, Any]]) -> frozenset[object]:
    """Keys of the leads among ``leads`` that ``is_duplicate()`` holds for (an earlier lead, same email)."""
    return duplicate_lead_keys(model.plan, leads)


def account_roll_up(model: ServingModel, account: Mapping[str, Any] | None, account_id: object,
                    leads: Sequence[LeadScore]) -> AccountScore:
    """An account's score from its scored leads: top-N sum, engaged contacts, committee roles covered."""
    return score_account(model.plan, account, account_id, leads)


def route_owner(model: ServingModel, lead: Mapping[str, Any], account: Mapping[str, Any] | None) -> str | None:
    """The owner of a lead under the model's routing rules (first match wins), else the default owner."""

    def resolve(key: str) -> SqlValue:
        kind, _, name = key.partition(":")
        row = lead if kind == "lead" else account if kind == "account" else None
        if row is None:
            return None
        value = row.get(name)
        return value if isinstance(value, bool | int | float | str | datetime) or value is None else str(value)

    for rule in model.routing.owners:
        if rule.condition is None or holds(rule.condition.tree, resolve):
            return rule.owner
    return model.routing.default_owner


def batch_lead_scores(model: ServingModel, data: str | Path, *, as_of: datetime) -> list[tuple[Any, ...]]:
    """Every lead of a data folder scored in batch (DuckDB): ``(lead_id, total, grade, stage,
    next_action)`` rows. Used to fill a service's store quickly when it loads a large data set."""
    from leadscore.backends import duckdb_engine

    session = duckdb_engine.run_scoring(model.loaded, data, as_of=as_of)
    try:
        with duckdb_engine.translate_errors("reading batch scores"):
            rows = session.con.execute("SELECT lead_id, total, grade, stage, next_action FROM lead_scores"
                                       ).fetchall()
    finally:
        session.close()
    return [tuple(row) for row in rows]


def write_demo_funnel(out: str | Path, *, leads: int, seed: int = 0, as_of: datetime | None = None) -> datetime:
    """Write a synthetic funnel (``leadscore demo``'s generator) to ``out`` as Parquet; return its as_of."""
    from leadscore.synth import generate_funnel

    funnel = generate_funnel(leads, seed=seed, as_of=as_of)
    funnel.write(Path(out))
    return funnel.as_of

"""The scoring SQL for a warehouse: one self-contained lead query and one account query per dialect.

What DuckDB runs, for Postgres, Spark, Snowflake or BigQuery: the compiler's trees rewritten by
``compiler.dialects`` and generated with sqlglot's unsupported level set to raise. Each model
condition is generated on its own first, so a construct a dialect cannot express is reported
as a ``ModelError`` at the rule that uses it (file:line:col), never as an engine error at run time.

The exported SQL reads the input tables as they are: the DuckDB backend's quarantine (missing
keys, duplicate ids, unparseable times) is not part of it, so the tables must be clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError

from leadscore.backends.predictions import lead_predictions_issue
from leadscore.compiler.accounts_sql import account_query
from leadscore.compiler.conditions import BoundCondition
from leadscore.compiler.dialects import DIALECTS, UnsupportedConstruct, check_dialect, generate
from leadscore.compiler.expand import condition_sql
from leadscore.compiler.model_sql import Relations, lead_scores_query
from leadscore.compiler.plan import ScoringPlan, compile_plan
from leadscore.errors import BackendError, DataError, Issue, ModelError
from leadscore.spec.loader import LoadedModel

PathKey = tuple[str | int, ...]
TABLE_ROLES = ("leads", "events", "accounts", "lead_scores")


@dataclass(frozen=True)
class TableNames:
    """Where the exported SQL reads from: input tables, and the lead scores the account query rolls up."""

    leads: str = "leads"
    events: str = "events"
    accounts: str | None = "accounts"
    lead_scores: str = "lead_scores"


@dataclass(frozen=True)
class ScoringSQL:
    """The scoring SQL of a model for one dialect."""

    model: str
    model_version: str
    dialect: str
    as_of: str
    tables: TableNames
    lead_scores: str
    account_scores: str

    def text(self) -> str:
        """Both statements with a header each, as ``leadscore sql`` prints them."""
        head = f"-- leadscore model '{self.model}' ({self.model_version}), {self.dialect}, as of {self.as_of}"
        return (f"{head}\n-- lead_scores: one row per lead of {self.tables.leads}\n{self.lead_scores};\n\n"
                f"{head}\n-- account_scores: one row per account, from {self.tables.lead_scores}\n"
                f"{self.account_scores};\n")

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "model_version": self.model_version, "dialect": self.dialect,
                "as_of": self.as_of, "tables": asdict(self.tables), "lead_scores": self.lead_scores,
                "account_scores": self.account_scores}


def parse_table_names(text: str | None, *, default: TableNames | None = None) -> TableNames:
    """``db.leads,db.events[,db.accounts]`` or ``leads=db.l,events=db.e,...`` -> TableNames."""
    base = asdict(default or TableNames())
    if not text:
        return TableNames(**base)
    parts = [part.strip() for part in text.split(",") if part.strip()]
    named = all("=" in part for part in parts)
    if not named and any("=" in part for part in parts):
        raise _bad_tables(text, "mix of named and positional tables")
    if named:
        for part in parts:
            role, _, name = part.partition("=")
            if role.strip() not in TABLE_ROLES:
                raise _bad_tables(text, f"unknown table role {role.strip()!r}")
            base[role.strip()] = name.strip()
    else:
        if not 2 <= len(parts) <= 3:
            raise _bad_tables(text, "give leads and events (and optionally accounts)")
        base.update(zip(("leads", "events", "accounts"), parts, strict=False))
        if len(parts) == 2:
            base["accounts"] = None
    return TableNames(**base)


def _bad_tables(text: str, why: str) -> DataError:
    return DataError(f"cannot read table names {text!r}: {why}",
                     [Issue(why, hint="write --tables db.leads,db.events,db.accounts or "
                                      "--tables leads=db.leads,events=db.events,accounts=db.accounts")])


def table_expression(name: str, dialect: str) -> exp.Table:
    """A (possibly qualified) table name as a sqlglot table, parsed in the target dialect."""
    try:
        table = exp.to_table(name, dialect=dialect)
    except SqlglotError as exc:
        raise _bad_tables(name, f"not a table name in {dialect}: {str(exc).splitlines()[0]}") from None
    if not isinstance(table, exp.Table) or not table.name:
        raise _bad_tables(name, f"not a table name in {dialect}")
    return table


def relations_for(plan: ScoringPlan, tables: TableNames, dialect: str, *,
                  event_columns: frozenset[str] | None = None,
                  lead_columns: frozenset[str] | None = None) -> Relations:
    """Relations over named tables. Without known columns, the events table is taken to have the
    model's event key (``data.events.key``), as the DuckDB backend's inputs do."""
    return Relations(leads=table_expression(tables.leads, dialect), events=table_expression(tables.events, dialect),
                     accounts=table_expression(tables.accounts, dialect) if tables.accounts else None,
                     event_columns=event_columns if event_columns is not None else frozenset({plan.event_key}),
                     lead_columns=lead_columns or frozenset())


def model_conditions(loaded: LoadedModel, plan: ScoringPlan) -> Iterator[tuple[PathKey, BoundCondition]]:
    """Every bound condition of the model with its place in the model file."""
    spec = loaded.spec
    for layer in plan.layers:
        for index, rule in enumerate(layer.rules):
            yield from _profile_conditions(("layers", layer.name, "rules", index), rule)
        for group in layer.groups:
            events = spec.layers[layer.name].groups[group.name].events
            for event_rule in group.rules:
                key = next((k for k, r in events.items() if (r.name or k) == event_rule.name), event_rule.name)
                if event_rule.where is not None:
                    yield ("layers", layer.name, "groups", group.name, "events", key, "where"), event_rule.where
    for grade, bound in plan.grades:
        yield ("grades", grade), bound
    for index, stage in enumerate(plan.stages):
        for r_index, bound in enumerate(stage.require):
            yield ("stages", index, "require", r_index), bound
    if plan.account is not None:
        for index, rule in enumerate(plan.account.rules):
            yield from _profile_conditions(("account", "rules", index), rule)
        for role, bound in plan.account.committee:
            yield ("account", "committee", role), bound
    for segment in plan.segments:
        yield ("segments", segment.name, "when"), segment.condition


def _profile_conditions(path: PathKey, rule: Any) -> Iterator[tuple[PathKey, BoundCondition]]:
    for field in ("condition", "points_expr", "column"):
        bound = getattr(rule, field)
        if bound is not None:
            yield (*path, {"condition": "when", "points_expr": "points", "column": "column"}[field]), bound
    for index, (bound, _points) in enumerate(rule.tiers):
        yield (*path, "tiers", index, "when"), bound


def _placeholder_column(key: str) -> exp.Expr:
    return exp.column(key.replace(":", "_"), quoted=True)


def check_conditions(loaded: LoadedModel, plan: ScoringPlan, dialect: str) -> None:
    """Generate each condition alone for ``dialect``; raise ModelError naming every rule it cannot express."""
    issues: list[Issue] = []
    models: list[tuple[LoadedModel, ScoringPlan]] = [(loaded, plan)]
    models += [(loaded.segments[s.name], s.plan) for s in plan.segments if s.name in loaded.segments]
    for owner, owner_plan in models:
        for path, bound in model_conditions(owner, owner_plan):
            try:
                generate(condition_sql(bound, _placeholder_column), dialect, pretty=False)
            except UnsupportedConstruct as unsupported:
                issues.append(owner.issue(path, f"{unsupported.construct} cannot be expressed in {dialect} "
                                                f"(in '{bound.text}')",
                                          hint=unsupported.hint or f"rewrite the condition, or score this model "
                                                                   f"on another engine than {dialect}"))
    if issues:
        raise ModelError(f"{loaded.source or 'model'} cannot be exported to {dialect}", issues)


def export_sql(loaded: LoadedModel, dialect: str, *, as_of: datetime, tables: TableNames | None = None,
               plan: ScoringPlan | None = None, event_columns: frozenset[str] | None = None,
               pretty: bool = True) -> ScoringSQL:
    """The lead and account scoring SQL of ``loaded`` for ``dialect`` over ``tables``."""
    if (problem := lead_predictions_issue(loaded, "exported SQL")) is not None:
        raise problem
    try:
        name = check_dialect(dialect)
    except UnsupportedConstruct:
        raise BackendError(f"unknown SQL dialect {dialect!r}",
                           [Issue(f"unknown dialect {dialect!r}", hint="dialects: " + ", ".join(DIALECTS))]
                           ) from None
    names = tables or TableNames()
    plan = plan or compile_plan(loaded)
    check_conditions(loaded, plan, name)
    relations = relations_for(plan, names, name, event_columns=event_columns)
    as_of_iso = as_of.isoformat(sep=" ")
    leads_tree = lead_scores_query(plan, relations, as_of_iso)
    accounts_tree = account_query(plan, table_expression(names.lead_scores, name), relations.accounts)
    try:
        leads_sql = generate(leads_tree, name, pretty=pretty)
        accounts_sql = generate(accounts_tree, name, pretty=pretty)
    except UnsupportedConstruct as unsupported:  # the skeleton itself: a gap in compiler.dialects
        raise BackendError(f"leadscore cannot write this model's SQL for {name}: {unsupported}",
                           [Issue(str(unsupported), hint="please report this; score on DuckDB meanwhile")]
                           ) from None
    return ScoringSQL(model=plan.name, model_version=plan.version_hash, dialect=name, as_of=as_of_iso,
                      tables=names, lead_scores=leads_sql, account_scores=accounts_sql)




__all__ = ["TABLE_ROLES", "ScoringSQL", "TableNames", "check_conditions", "export_sql", "model_conditions",
           "parse_table_names", "relations_for", "table_expression"]

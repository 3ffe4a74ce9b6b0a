"""Rule conditions: parse with sqlglot, check against the allow-list, bind names.

A condition string becomes a *bound tree*: a sqlglot tree in which every column reference is
replaced by a ``Placeholder`` naming a ``Ref`` (what the name means: a lead column, a rule that
fired, a layer score...), every event-count function by a ``Placeholder`` naming an
``EventAggregate``, and every ``@list`` by its literal values. The SQL generator and the
plain-Python evaluator both start from this one bound tree, so they cannot disagree on what a
name or a function refers to.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from leadscore.compiler.allowlist import ALLOWED_NODES, BUILTIN_ARITY, CONTEXT_DOC, FUNCTIONS
from leadscore.spec.durations import parse_duration_days

READ_DIALECT = ""  # sqlglot's neutral dialect: ``@name`` parses as a parameter, not DuckDB's abs()

RefKind = Literal["lead", "account", "event", "rule", "group", "layer", "total", "special"]


@dataclass(frozen=True)
class Ref:
    """What a name in a condition refers to."""

    kind: RefKind
    name: str


@dataclass(frozen=True)
class EventAggregate:
    """A per-lead figure over its counted events: a count, or the age of the newest one."""

    kind: Literal["count", "last_age"]
    selector: str | None
    within_days: float | None = None


@dataclass(frozen=True)
class ConditionProblem:
    """A problem found in a condition, ``offset`` characters into its text (0-based)."""

    message: str
    offset: int = 0
    hint: str | None = None


@dataclass(frozen=True)
class BoundCondition:
    """A checked condition: its text, its bound tree and what it refers to."""

    text: str
    tree: exp.Expr
    refs: Mapping[str, Ref]
    aggregates: Mapping[str, EventAggregate]


@dataclass(frozen=True)
class NameSpace:
    """The names a condition may use in one context. ``None`` column sets mean "schema unknown"."""

    context: str
    lead_columns: frozenset[str] | None = None
    account_columns: frozenset[str] | None = None
    event_columns: frozenset[str] | None = None
    derived: Mapping[str, Ref] = field(default_factory=dict)
    lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    selectors: frozenset[str] = frozenset()
    has_created: bool = True


class ConditionRejected(Exception):
    """Raised inside binding; carries every problem found in one condition."""

    def __init__(self, problems: list[ConditionProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def parse_condition(text: str) -> exp.Expr:
    """Parse one condition; raise ConditionRejected with the parser's position on failure."""
    if not text.strip():
        raise ConditionRejected([ConditionProblem("empty condition", 0, "write an SQL expression")])
    try:
        statements = sqlglot.parse(text, read=READ_DIALECT)
    except (ParseError, TokenError) as exc:
        offset = 0
        message = str(exc).splitlines()[0]
        errors = getattr(exc, "errors", None)
        if errors:
            first = errors[0]
            message = first.get("description") or message
            offset = _offset_of(text, first.get("line"), first.get("col"))
        raise ConditionRejected([ConditionProblem(f"cannot parse condition: {message}", offset,
                                                  "conditions are SQL expressions, e.g. "
                                                  "\"employees > 500 AND industry IN ('technology')\"")]
                                ) from None
    real = [s for s in statements if s is not None]
    if len(real) != 1:
        raise ConditionRejected([ConditionProblem(
            "a condition must be one expression, not several statements", max(text.find(";"), 0),
            "remove the ';' and anything after it")])
    return real[0]


def _offset_of(text: str, line: int | None, col: int | None) -> int:
    if not line or not col:
        return 0
    lines = text.split("\n")
    return sum(len(row) + 1 for row in lines[: line - 1]) + max(col - 1, 0)


def _node_offset(text: str, node: exp.Expr) -> int:
    """Best-effort character offset of a node inside the condition text."""
    meta = getattr(node, "meta", None) or {}
    start = meta.get("start")
    if isinstance(start, int):
        return start
    for candidate in (node.name if isinstance(node, exp.Column | exp.Anonymous) else None, node.sql()):
        if candidate:
            found = text.lower().find(str(candidate).lower())
            if found >= 0:
                return found
    return 0


def bind_condition(text: str, names: NameSpace) -> BoundCondition:
    """Parse, check and bind a condition; raise ConditionRejected listing every problem."""
    tree = parse_condition(text)
    problems: list[ConditionProblem] = []
    # A rejected node is reported once; what is inside it (the SELECT of a subquery, the
    # arguments of a forbidden function) is not checked again.
    for node in list(tree.walk(prune=lambda n: type(n) not in ALLOWED_NODES)):
        _check_node(node, text, names, problems)
    if problems:
        raise ConditionRejected(problems)
    binder = _Binder(text, names)
    bound = binder.bind(tree)
    if binder.problems:
        raise ConditionRejected(binder.problems)
    return BoundCondition(text=text, tree=bound, refs=dict(binder.refs), aggregates=dict(binder.aggregates))


def _check_node(node: exp.Expr, text: str, names: NameSpace, problems: list[ConditionProblem]) -> None:
    kind = type(node)
    where = _node_offset(text, node)
    if kind not in ALLOWED_NODES:
        what = "a subquery" if isinstance(node, exp.Subquery | exp.Select) else kind.__name__
        if isinstance(node, exp.Func):
            what = f"function {node.sql_name().lower()}()"
            hint = "allowed functions: " + ", ".join(sorted(_all_function_names()))
        else:
            hint = "conditions may use columns, literals, comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, " \
                   "IS NULL, arithmetic, CASE and the allowed functions"
        problems.append(ConditionProblem(f"{what} is not allowed in a condition", where, hint))
        return
    if kind is exp.Anonymous:
        fname = node.name.lower()
        spec = FUNCTIONS.get(fname)
        if spec is None:
            close = difflib.get_close_matches(fname, _all_function_names(), n=1)
            hint = f"did you mean {close[0]}()?" if close else \
                "allowed functions: " + ", ".join(sorted(_all_function_names()))
            problems.append(ConditionProblem(f"unknown function {fname}()", where, hint))
            return
        args = node.expressions
        if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
            most = "any number of" if spec.max_args is None else str(spec.max_args)
            problems.append(ConditionProblem(
                f"{fname}() takes {spec.min_args} to {most} arguments, got {len(args)}", where, spec.doc))
        if names.context not in spec.contexts:
            problems.append(ConditionProblem(f"{fname}() cannot be used in {names.context} conditions",
                                             where, f"{names.context} conditions see "
                                                    f"{CONTEXT_DOC[names.context]}"))
        for index, arg in enumerate(args):
            if index in spec.literal_args and not (isinstance(arg, exp.Literal) and arg.is_string):
                problems.append(ConditionProblem(
                    f"argument {index + 1} of {fname}() must be a quoted string", where, spec.doc))
    elif kind in BUILTIN_ARITY:
        low, high = BUILTIN_ARITY[kind]
        count = len([a for a in (node.this, *node.expressions) if a is not None])
        if isinstance(node, exp.Contains | exp.StartsWith | exp.EndsWith):
            count = len([a for a in (node.this, node.expression) if a is not None])
        if count < low or (high is not None and count > high):
            problems.append(ConditionProblem(f"{kind.__name__.lower()}() got {count} arguments", where))
    elif kind is exp.Parameter:
        if not isinstance(node.parent, exp.In):
            problems.append(ConditionProblem("@list may only be used as 'x IN @list'", where))
    elif kind is exp.Trim and (node.args.get("expression") is not None or node.args.get("position")):
        problems.append(ConditionProblem("trim() takes one argument", where))


def _all_function_names() -> list[str]:
    builtins = ["lower", "upper", "length", "trim", "abs", "coalesce", "least", "greatest", "contains",
                "starts_with", "ends_with"]
    return sorted([*builtins, *FUNCTIONS])


class _Binder:
    """Replaces names by Ref placeholders and event functions by aggregate placeholders."""

    def __init__(self, text: str, names: NameSpace) -> None:
        self.text = text
        self.names = names
        self.refs: dict[str, Ref] = {}
        self.aggregates: dict[str, EventAggregate] = {}
        self.problems: list[ConditionProblem] = []

    def bind(self, tree: exp.Expr) -> exp.Expr:
        return tree.copy().transform(self._visit, copy=False)

    def _visit(self, node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column):
            ref = self._resolve(node)
            return self._ref_placeholder(ref) if ref else node
        if isinstance(node, exp.In) and isinstance(node.args.get("field"), exp.Parameter):
            return self._expand_list(node)
        if isinstance(node, exp.Anonymous):
            return self._bind_function(node)
        return node

    def _ref_placeholder(self, ref: Ref) -> exp.Expr:
        key = f"{ref.kind}:{ref.name}"
        self.refs[key] = ref
        return exp.Placeholder(this=key)

    def _resolve(self, node: exp.Column) -> Ref | None:
        names = self.names
        name = node.name
        qualifier = node.table.lower() if node.table else ""
        where = _node_offset(self.text, node)
        if node.args.get("db") or node.args.get("catalog"):
            self.problems.append(ConditionProblem(f"'{node.sql()}' has too many parts", where,
                                                  "write column, account.column or lead.column"))
            return None
        if qualifier and qualifier not in {"lead", "account", "event"}:
            self.problems.append(ConditionProblem(f"unknown table '{node.table}' in '{node.sql()}'", where,
                                                  "qualify with lead., account. or event. only"))
            return None
        ctx = names.context
        if not qualifier and ctx in {"stage", "grade"} and name in names.derived:
            return names.derived[name]
        order: tuple[RefKind, ...]
        if qualifier:
            order = (qualifier,)  # type: ignore[assignment]  # checked against the three names above
        elif ctx == "event":
            order = ("event",)
        elif ctx == "account":
            order = ("account",)
        elif ctx == "committee":
            order = ("lead", "account")
        else:
            order = ("lead", "account")
        allowed_kinds = {"event": {"event"}, "account": {"account"}}.get(ctx, {"lead", "account"})
        for kind in order:
            if kind not in allowed_kinds:
                self.problems.append(ConditionProblem(
                    f"'{node.sql()}' is not available in {ctx} conditions", where,
                    f"{ctx} conditions see {CONTEXT_DOC[ctx]}"))
                return None
            columns = self._columns(kind)
            if columns is None:
                # Schema unknown (validate without --data): trust the name, bind it as written.
                return Ref(kind, name)
            match = _match_column(name, columns, quoted=bool(node.this.args.get("quoted")))
            if match is not None:
                return Ref(kind, match)
        known = sorted(set().union(*(self._columns(k) or set() for k in order)) | set(names.derived))
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"{ctx} conditions see {CONTEXT_DOC[ctx]}"
        self.problems.append(ConditionProblem(f"unknown column '{node.sql()}'", where, hint))
        return None

    def _columns(self, kind: str) -> frozenset[str] | None:
        return {"lead": self.names.lead_columns, "account": self.names.account_columns,
                "event": self.names.event_columns}.get(kind, frozenset())

    def _expand_list(self, node: exp.In) -> exp.Expr:
        param = node.args["field"]
        list_name = param.name
        values = self.names.lists.get(list_name)
        if values is None:
            known = sorted(self.names.lists)
            close = difflib.get_close_matches(list_name, known, n=1)
            self.problems.append(ConditionProblem(
                f"unknown list '@{list_name}'", _node_offset(self.text, param),
                f"did you mean '@{close[0]}'?" if close else
                f"define it under 'lists:' (known: {', '.join(known) or 'none'})"))
            return node
        literals: list[exp.Expr] = [exp.Literal.string(v) for v in values] or [exp.Null()]
        # Rewrite in place and return the same node: transform() does not descend into a replaced
        # node, so returning a new In would leave its left side (``lead.region``) unbound.
        node.set("field", None)
        node.set("expressions", literals)
        return node

    def _bind_function(self, node: exp.Anonymous) -> exp.Expr:
        fname = node.name.lower()
        args = node.expressions
        where = _node_offset(self.text, node)
        if fname in {"count_events", "has_event", "days_since_last_event"}:
            selector = args[0].name if args else None
            within = None
            if len(args) > 1:
                try:
                    within = parse_duration_days(args[1].name)
                except ValueError as exc:
                    self.problems.append(ConditionProblem(str(exc), where))
                    return node
            if selector is not None and selector not in self.names.selectors and not selector:
                self.problems.append(ConditionProblem("empty selector", where))
            kind: Literal["count", "last_age"] = "last_age" if fname == "days_since_last_event" else "count"
            agg = EventAggregate(kind, selector, within)
            key = f"agg:{kind}:{selector}:{within}"
            self.aggregates[key] = agg
            placeholder = exp.Placeholder(this=key)
            if fname == "has_event":
                return exp.GTE(this=placeholder, expression=exp.Literal.number(1))
            return placeholder
        if fname in {"days_since_created", "days_since_last_activity", "is_duplicate"}:
            if fname != "is_duplicate" and not self.names.has_created and fname == "days_since_created":
                self.problems.append(ConditionProblem(
                    f"{fname}() needs the leads' creation column", where,
                    "set data.leads.created to the column holding the creation time"))
            return self._ref_placeholder(Ref("special", fname))
        if fname == "has_word":
            words = [a.name for a in args[1:]]
            if any(not w.strip() for w in words):
                self.problems.append(ConditionProblem("has_word() words must not be empty", where))
        return node


def _match_column(name: str, columns: frozenset[str], *, quoted: bool) -> str | None:
    if name in columns:
        return name
    if quoted:
        return None
    lowered = {c.lower(): c for c in columns}
    return lowered.get(name.lower())

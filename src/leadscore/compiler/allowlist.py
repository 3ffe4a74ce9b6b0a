"""What a rule condition may contain. Review changes to this file like security code.

A condition is parsed by sqlglot and every node of its tree must be one of ``ALLOWED_NODES``;
every function call must be a known built-in node (``lower``, ``coalesce``...) or a leadscore
function listed in ``FUNCTIONS``. Subqueries, table functions (``read_csv``), statements
(``DROP``), casts, stars and anything unknown are rejected with the position of the node.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from sqlglot import exp

ALLOWED_NODES: frozenset[type[exp.Expr]] = frozenset({
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren,
    exp.And, exp.Or, exp.Not,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is,
    exp.In, exp.Between, exp.Like, exp.ILike,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg,
    exp.Case, exp.If,
    exp.Lower, exp.Upper, exp.Length, exp.Trim, exp.Coalesce, exp.Abs, exp.Least, exp.Greatest,
    exp.Contains, exp.StartsWith, exp.EndsWith,
    exp.Anonymous,   # only names listed in FUNCTIONS, checked separately
    exp.Parameter, exp.Var,  # only as ``x IN @list``, checked separately
})
"""Node classes a condition may contain; anything else is rejected where it stands."""


@dataclass(frozen=True)
class FunctionSpec:
    """A leadscore function: its arity, where it may be used, and what it means."""

    min_args: int
    max_args: int | None
    contexts: frozenset[str]
    doc: str
    literal_args: tuple[int, ...] = ()
    """Argument positions that must be string literals (selectors, words, durations)."""


PROFILE = frozenset({"profile", "stage", "grade", "segment"})
LEAD_LEVEL = frozenset({"profile", "stage", "grade", "segment", "committee"})

FUNCTIONS: MappingProxyType[str, FunctionSpec] = MappingProxyType({
    "email_domain": FunctionSpec(1, 1, LEAD_LEVEL,
                                 "Lower-cased domain of a well-formed email (one '@', a '.' after it); "
                                 "NULL for a malformed or missing email."),
    "is_valid_email": FunctionSpec(1, 1, LEAD_LEVEL,
                                   "True when the email has exactly one '@' and a '.' after it."),
    "has_word": FunctionSpec(2, None, LEAD_LEVEL | {"event", "account"},
                             "True when the text contains any of the words as a whole word, ignoring "
                             "case ('Intern' matches 'Sales Intern', not 'International').",
                             literal_args=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)),
    "count_events": FunctionSpec(1, 2, PROFILE,
                                 "Number of counted events of a group, rule or event type, optionally "
                                 "only those at most WITHIN old: count_events('intent', '30d').",
                                 literal_args=(0, 1)),
    "has_event": FunctionSpec(1, 2, PROFILE,
                              "True when count_events(...) is at least one.", literal_args=(0, 1)),
    "days_since_last_event": FunctionSpec(0, 1, PROFILE,
                                          "Age in days of the newest counted event (of a group, rule "
                                          "or type when given); NULL when there is none.",
                                          literal_args=(0,)),
    "days_since_created": FunctionSpec(0, 0, PROFILE,
                                       "Days from the lead's creation to as_of (needs data.leads.created)."),
    "days_since_last_activity": FunctionSpec(0, 0, PROFILE,
                                             "Age of the newest counted event, or days since creation "
                                             "when the lead has no event."),
    "is_duplicate": FunctionSpec(0, 0, PROFILE,
                                 "True when an earlier lead (by creation, then id) has the same email, "
                                 "ignoring case and surrounding spaces."),
})
"""leadscore's own functions. Everything else spelled as a call is rejected."""

BUILTIN_ARITY: MappingProxyType[type[exp.Expr], tuple[int, int | None]] = MappingProxyType({
    exp.Lower: (1, 1), exp.Upper: (1, 1), exp.Length: (1, 1), exp.Trim: (1, 1),
    exp.Abs: (1, 1), exp.Coalesce: (1, None), exp.Least: (1, None), exp.Greatest: (1, None),
    exp.Contains: (2, 2), exp.StartsWith: (2, 2), exp.EndsWith: (2, 2),
})

CONTEXT_DOC: MappingProxyType[str, str] = MappingProxyType({
    "profile": "lead and account columns (account.<col> to pick the account's), lists, event counts",
    "event": "columns of the events table (url, asset, topic, ...)",
    "stage": "layer, group and rule names, total, lead and account columns, event counts",
    "grade": "layer, group and rule names, total, lead and account columns, event counts",
    "account": "account columns",
    "committee": "lead columns",
    "segment": "lead and account columns",
})

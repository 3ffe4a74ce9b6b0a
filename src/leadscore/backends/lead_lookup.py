"""Fetch one lead's row, account and counted events from the inputs, for real-time/explain use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from leadscore.backends.inputs import OpenedInputs
from leadscore.backends.quarantine import _time_expression, row_order
from leadscore.compiler.plan import ScoringPlan
from leadscore.errors import DataError, Issue


@dataclass(frozen=True)
class LeadContext:
    lead: dict[str, Any]
    account: dict[str, Any] | None
    events: list[dict[str, Any]]
    is_duplicate: bool


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _records(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def fetch_lead(con: duckdb.DuckDBPyConnection, opened: OpenedInputs, plan: ScoringPlan, lead_id: Any, *,
               as_of: datetime) -> LeadContext:
    """The lead (by id, compared as text so CLI arguments work), its account and events before as_of."""
    leads = opened.tables["leads"]
    key = _q(plan.lead_key)
    created = plan.lead_created if plan.lead_created in leads.columns else None
    replace = f" REPLACE ({_time_expression(created, leads.columns[created])} AS {_q(created)})" \
        if created else ""
    # Of several rows with this id, the one batch scoring keeps (the others are quarantined).
    first_row = f"QUALIFY row_number() OVER (ORDER BY {row_order(leads.columns, first=[created])}) = 1"
    rows = _records(con.execute(f"SELECT *{replace} FROM (SELECT * FROM {leads.relation} "
                                f"WHERE CAST({key} AS VARCHAR) = ? {first_row})", [str(lead_id)]))
    if not rows:
        sample = [r[0] for r in con.execute(f"SELECT {key} FROM {leads.relation} ORDER BY {key} LIMIT 3"
                                            ).fetchall()]
        raise DataError(f"unknown lead id {lead_id!r}",
                        [Issue(f"no lead with {plan.lead_key} = {lead_id!r} in {leads.source}",
                               hint=f"lead ids look like {', '.join(map(str, sample))}; "
                                    "check the id and the data folder")])
    lead = rows[0]
    account = None
    accounts = opened.tables.get("accounts")
    if accounts is not None and plan.lead_account and lead.get(plan.lead_account) is not None:
        found = _records(con.execute(f"SELECT * FROM {accounts.relation} WHERE {_q(plan.account_key)} = ? "
                                     f"QUALIFY row_number() OVER (ORDER BY {row_order(accounts.columns)}) = 1",
                                     [lead[plan.lead_account]]))
        account = found[0] if found else None
    events = opened.tables["events"]
    time_expr = _time_expression(plan.event_time, events.columns.get(plan.event_time, "TIMESTAMP"))
    event_rows = _records(con.execute(
        f"SELECT * REPLACE ({time_expr} AS {_q(plan.event_time)}) FROM {events.relation} "
        f"WHERE {_q(plan.event_lead)} = ?", [lead[plan.lead_key]]))
    is_duplicate = False
    email_col = plan.lead_email or "email"
    if email_col in leads.columns and lead.get(email_col) is not None:
        order = f"({_q(created)}, {key})" if created else f"({key})"
        mine = "(?, ?)" if created else "(?)"
        params: list[Any] = [lead[email_col]]
        params += [lead[created], lead[plan.lead_key]] if created else [lead[plan.lead_key]]
        cast_created = f"{_time_expression(created, leads.columns[created])}" if created else None
        order = f"({cast_created}, {key})" if created else f"({key})"
        row = con.execute(
            f"SELECT count(*) FROM {leads.relation} WHERE lower(trim({_q(email_col)})) = lower(trim(?)) "
            f"AND {order} < {mine}", params).fetchone()
        is_duplicate = bool(row and row[0])
    return LeadContext(lead=lead, account=account, events=event_rows, is_duplicate=is_duplicate)

"""The synthetic B2B funnel behind ``leadscore demo``: accounts, leads with outcomes, and events.

It exists so that anyone can try scoring, back-testing and tuning in a minute without their own
CRM export, and so that tests and benchmarks run on realistic, reproducible data. Same seed and
size give identical tables; nothing here reads files, the clock or the environment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from leadscore.synth.accounts import draw_accounts
from leadscore.synth.catalog import COMPETITOR_DOMAINS, PERSONAL_DOMAINS
from leadscore.synth.columns import US_PER_SECOND
from leadscore.synth.events import EVENT_SCHEMA, Activity, event_blocks
from leadscore.synth.leads import draw_leads
from leadscore.synth.outcomes import draw_outcomes

DEFAULT_AS_OF = datetime(2026, 6, 30)
HISTORY_MONTHS = 18  # leads and events start this many months before as_of
HORIZON_DAYS = 90  # outcomes and events are observed up to as_of + 90 days
LEADS_PER_ACCOUNT = 8
EVENT_BLOCK_LEADS = 100_000  # leads per block of events: bounds temporary arrays (changing it changes events)
TABLES = ("accounts", "leads", "events")
_EPOCH = datetime(1970, 1, 1)

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class SyntheticFunnel:
    """A generated funnel: three Arrow tables, the scoring date and a description of the run.

    ``leads`` carries ground-truth outcome columns (``mql_at`` ... ``opportunity_amount``) for
    back-tests; scorers must not use them, nor events with ``ts >= as_of``.
    """

    accounts: pa.Table
    leads: pa.Table
    events: pa.Table
    as_of: datetime  # naive UTC
    meta: dict[str, Any]

    def write(self, directory: Path, *, fmt: Literal["parquet", "csv"] = "parquet") -> None:
        """Write ``accounts``, ``leads`` and ``events`` as ``<name>.<fmt>`` plus ``meta.json``.

        Parquet is compressed with zstd. CSV uses pyarrow's writer: nulls are empty fields and
        timestamps ``YYYY-MM-DD HH:MM:SS.ffffff``; read it back with the tables' schemas (and
        ``strings_can_be_null``) to get the same tables. The directory is created if needed.

        Raises
        ------
        ValueError
            If ``fmt`` is neither "parquet" nor "csv".
        """
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"unknown format {fmt!r}; expected 'parquet' or 'csv'")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in TABLES:
            table = getattr(self, name)
            if fmt == "parquet":
                pq.write_table(table, directory / f"{name}.parquet", compression="zstd")
            else:
                pa_csv.write_csv(table, directory / f"{name}.csv")
        (directory / "meta.json").write_text(json.dumps(self.meta, indent=2) + "\n", encoding="utf-8")


def _naive_utc(moment: datetime) -> datetime:
    """Aware datetimes are converted to UTC; naive ones are taken to be UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _months_before(moment: datetime, months: int) -> datetime:
    """Same day and time ``months`` calendar months earlier (clamped to the month's last day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


def _epoch_us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def generate_funnel(
    n_leads: int = 100_000,
    *,
    seed: int = 0,
    as_of: datetime | None = None,
    progress: Progress | None = None,
) -> SyntheticFunnel:
    """Generate a deterministic synthetic B2B funnel.

    Leads are created over the 18 months before ``as_of``; events and outcomes run on to
    ``as_of`` + 90 days, so a scorer sees the past and a back-test the future. Conversion depends
    on a hidden propensity (fit, channel, intent, negatives, noise) that a sensible rule model
    recovers to a ROC AUC of roughly 0.8.

    Parameters
    ----------
    n_leads
        Number of leads (at least 1). Accounts are ``max(1, n_leads // 8)``; events about 20 per lead.
    seed
        Non-negative seed for ``numpy.random.default_rng``: same seed and size, same tables.
    as_of
        The scoring date, default 2026-06-30T00:00:00 (naive UTC; aware values are converted).
    progress
        Called as ``progress(step, fraction_done)`` a handful of times, ``fraction_done`` rising to 1.

    Returns
    -------
    SyntheticFunnel

    Raises
    ------
    ValueError
        If ``n_leads`` < 1 or ``seed`` < 0.

    Examples
    --------
    >>> funnel = generate_funnel(2_000, seed=7)
    >>> funnel.leads.num_rows, funnel.meta["horizon_days"]
    (2000, 90)
    """
    if n_leads < 1:
        raise ValueError(f"n_leads must be at least 1, got {n_leads}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    report: Progress = progress or (lambda _step, _fraction: None)
    as_of = _naive_utc(as_of or DEFAULT_AS_OF)
    start = _months_before(as_of, HISTORY_MONTHS)
    as_of_us, start_us = _epoch_us(as_of), _epoch_us(start)
    horizon_us = as_of_us + HORIZON_DAYS * 86_400 * US_PER_SECOND

    rng = np.random.default_rng(seed)
    report("accounts", 0.0)
    acc = draw_accounts(rng, max(1, n_leads // LEADS_PER_ACCOUNT))
    report("leads", 0.05)
    ld = draw_leads(rng, n_leads, acc, start_us, as_of_us)
    report("outcomes", 0.2)
    outcome_columns, journey = draw_outcomes(rng, ld, horizon_us)
    leads = ld.table
    for name, column in outcome_columns.items():
        leads = leads.append_column(name, column)
    activity = Activity(
        created=ld.created, engagement=ld.engagement, expected_events=ld.expected_events,
        malformed=ld.malformed, anchor=journey.anchor, depth=journey.depth, buyer=journey.buyer,
        active_until=journey.active_until, unsubscribed_at=journey.unsubscribed_at,
    )
    blocks = []
    n_blocks = -(-n_leads // EVENT_BLOCK_LEADS)
    for i, block in enumerate(event_blocks(activity, seed=seed, horizon_us=horizon_us,
                                           block_leads=EVENT_BLOCK_LEADS)):
        blocks.append(block)
        report("events", 0.25 + 0.75 * (i + 1) / n_blocks)
    events = pa.concat_tables(blocks) if blocks else EVENT_SCHEMA.empty_table()
    meta: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "events_start": start.isoformat(),
        "horizon_days": HORIZON_DAYS,
        "seed": seed,
        "n_leads": n_leads,
        "n_accounts": acc.table.num_rows,
        "n_events": events.num_rows,
        "personal_domains": list(PERSONAL_DOMAINS),
        "competitor_domains": list(COMPETITOR_DOMAINS),
        "generator": "leadscore.synth",
    }
    report("done", 1.0)
    return SyntheticFunnel(accounts=acc.table, leads=leads, events=events, as_of=as_of, meta=meta)


# Column names of each table, in order: the contract other modules and docs rely on.
COLUMNS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType({
    "accounts": ("account_id", "name", "domain", "industry", "employees", "annual_revenue", "region",
                 "country", "is_target_account", "target_tier", "intent_score", "intent_topic",
                 "tech_stack"),
    "leads": ("lead_id", "account_id", "email", "first_name", "last_name", "job_title", "seniority",
              "function", "country", "region", "source", "campaign", "created_at", "cost", "mql_at",
              "sales_accepted", "rejection_reason", "opportunity", "opportunity_at", "won", "converted",
              "converted_at", "opportunity_amount"),
    "events": tuple(EVENT_SCHEMA.names),
})

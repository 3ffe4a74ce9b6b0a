"""Synthetic engagement events: everyday activity plus a buying journey timed to each lead's outcome.

Two layers per lead. *Background* activity (email, web, content, webinars) is heavy-tailed in count,
scales with the lead's latent engagement, starts at creation and fades out, or, for buyers, thickens
towards the purchase. The *journey* places research and hand-raising events at type-specific gaps
before the lead's decision date (``content.JOURNEY``), so past conversions reveal how far each signal
is from buying. Leads are processed in blocks so memory stays flat as the lead count grows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from types import MappingProxyType

import numpy as np
import pyarrow as pa

from leadscore.synth.columns import (
    US_PER_DAY,
    BoolArray,
    FloatArray,
    IntArray,
    choose,
    choose_within,
    floor_seconds,
    sigmoid,
    strings,
    timestamps,
)
from leadscore.synth.content import (
    BACKGROUND_MIX,
    CONTENT,
    EMAIL_TYPES,
    EVENT_TYPES,
    HAND_RAISES,
    INTENT_MIX,
    JOURNEY,
    JOURNEY_ONLY,
)

EVENT_SCHEMA = pa.schema([
    ("event_id", pa.int64()), ("lead_id", pa.int64()), ("ts", pa.timestamp("us")), ("type", pa.string()),
    ("url", pa.string()), ("asset", pa.string()), ("topic", pa.string()),
])
MAX_EVENTS_PER_LEAD = 5_000  # caps the heavy tail so one lead cannot dominate a block
BOUNCE_RATE = 0.004  # share of emails to valid addresses that bounce (the person left, full mailbox)
MALFORMED_KEEP = 0.3  # of mails to a malformed address, the share logged as bounces before suppression
_TYPE: MappingProxyType[str, int] = MappingProxyType({name: i for i, name in enumerate(EVENT_TYPES)})


@dataclass(frozen=True)
class Activity:
    """Per-lead inputs of the event generator (times in epoch microseconds)."""

    created: IntArray
    engagement: FloatArray
    expected_events: FloatArray
    malformed: BoolArray
    anchor: IntArray
    depth: FloatArray
    buyer: BoolArray
    active_until: IntArray
    unsubscribed_at: IntArray

    def block(self, lo: int, hi: int) -> Activity:
        """The same arrays for leads ``lo..hi-1`` (0-based positions)."""
        return Activity(**{f.name: getattr(self, f.name)[lo:hi] for f in fields(self)})


def _type_ids(names: tuple[str, ...]) -> IntArray:
    """Type ids of ``names``, in order."""
    return np.array([_TYPE[t] for t in names], dtype=np.int64)


def _is_type(names: frozenset[str] | tuple[str, ...]) -> BoolArray:
    """Lookup table by type id: ``_is_type(X)[types]`` is a fast ``np.isin(types, X)``."""
    return np.array([t in names for t in EVENT_TYPES], dtype=np.bool_)


def _background(rng: np.random.Generator, act: Activity) -> tuple[IntArray, IntArray, IntArray]:
    """Everyday events: (lead position, ts, type id)."""
    counts = np.minimum(rng.poisson(act.expected_events), MAX_EVENTS_PER_LEAD)
    lead = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    e = len(lead)
    types = _type_ids(tuple(t for t, _ in BACKGROUND_MIX))[choose(rng, [w for _, w in BACKGROUND_MIX], e)]
    intent = np.flatnonzero(rng.random(e) < sigmoid(-3.6 + 0.7 * act.engagement)[lead])
    intent_types = _type_ids(tuple(t for t, _ in INTENT_MIX))
    types[intent] = intent_types[choose(rng, [w for _, w in INTENT_MIX], len(intent))]
    # A buyer researches and raises a hand only within the journey, which keeps "weeks before
    # buying" per signal type clean; outside it a buyer just browses.
    types[act.buyer[lead] & _is_type(JOURNEY_ONLY)[types]] = _TYPE["page_view"]
    created, end = act.created[lead], act.active_until[lead]
    shape = np.where(act.buyer, 0.6, 1.6)[lead]  # buyers ramp up, everyone else fades out
    ts = created + ((end - created) * rng.random(e) ** shape).astype(np.int64)
    return lead, ts, types


def _journey(rng: np.random.Generator, act: Activity) -> tuple[IntArray, IntArray, IntArray]:
    """Research and hand-raise events at type-specific gaps before each lead's decision date."""
    n = len(act.created)
    counts = np.column_stack([rng.poisson(act.depth * expected) for _, _, _, expected in JOURNEY])
    raise_cols = [i for i, row in enumerate(JOURNEY) if row[0] in HAND_RAISES]
    silent = act.buyer & (counts[:, raise_cols].sum(axis=1) == 0)
    pick = np.array([i for i, row in enumerate(JOURNEY) if row[0] in ("demo_request", "contact_form")])
    counts[np.flatnonzero(silent), pick[rng.integers(0, len(pick), int(silent.sum()))]] += 1  # buyers ask
    leads, stamps, types = [], [], []
    for col, (name, mean_days, sd_days, _) in enumerate(JOURNEY):
        lead = np.repeat(np.arange(n, dtype=np.int64), counts[:, col])
        shape = (mean_days / sd_days) ** 2
        gap = (rng.gamma(shape, mean_days / shape, len(lead)) * US_PER_DAY).astype(np.int64)
        leads.append(lead)
        stamps.append(act.anchor[lead] - gap)
        types.append(np.full(len(lead), _TYPE[name], dtype=np.int64))
    lead, ts, typ = np.concatenate(leads), np.concatenate(stamps), np.concatenate(types)
    # Research before the lead existed was anonymous (dropped later), but a hand-raise that would
    # predate the lead is what created it: move it into the lead's own life.
    created, anchor = act.created[lead], act.anchor[lead]
    early = (ts < created) & _is_type(HAND_RAISES)[typ]
    moved = created + ((anchor - created) * rng.random(len(lead))).astype(np.int64)
    return lead, np.where(early, moved, ts), typ


def _email_fate(rng: np.random.Generator, act: Activity, lead: IntArray, ts: IntArray,
                types: IntArray) -> tuple[BoolArray, IntArray]:
    """Bounces and unsubscribes: which events to keep and their (possibly changed) type."""
    email = _is_type(EMAIL_TYPES)[types]
    malformed = act.malformed[lead]
    bounce = email & (malformed | (rng.random(len(lead)) < BOUNCE_RATE))
    keep = ~(email & malformed & (rng.random(len(lead)) >= MALFORMED_KEEP))
    unsub_at = act.unsubscribed_at[lead]
    keep &= ~(email & (unsub_at >= 0) & (ts > unsub_at))  # no mail after opting out
    return keep, np.where(bounce, _TYPE["email_bounce"], types)


def _content(rng: np.random.Generator, types: IntArray, journey: BoolArray) -> IntArray:
    """Row of ``CONTENT`` behind each event: journey events lean to bottom-of-funnel pages."""
    group = [_TYPE[r[0]] for r in CONTENT]
    row = np.empty(len(types), dtype=np.int64)
    for weights, rows in (([r[4] for r in CONTENT], ~journey), ([r[5] for r in CONTENT], journey)):
        row[rows] = choose_within(rng, types[rows], weights, group)
    return row


def event_blocks(act: Activity, *, seed: int, horizon_us: int, block_leads: int) -> Iterator[pa.Table]:
    """Yield one events table per block of ``block_leads`` leads; lead ``i`` (0-based) is lead_id i+1.

    Each block draws from its own generator seeded with ``[seed, block]``, so a block's events do
    not depend on the draws of the blocks before it (but do depend on ``block_leads``). Event ids
    continue across blocks; within a block rows are in ``ts`` order.
    """
    next_id = 1
    urls, assets, topics = [r[1] for r in CONTENT], [r[2] for r in CONTENT], [r[3] for r in CONTENT]
    for b, lo in enumerate(range(0, len(act.created), block_leads)):
        rng = np.random.default_rng([seed, b])
        part = act.block(lo, lo + block_leads)
        bg_lead, bg_ts, bg_type = _background(rng, part)
        jr_lead, jr_ts, jr_type = _journey(rng, part)
        lead = np.concatenate([bg_lead, jr_lead])
        ts = np.concatenate([bg_ts, jr_ts])
        types = np.concatenate([bg_type, jr_type])
        journey = np.r_[np.zeros(len(bg_lead), dtype=np.bool_), np.ones(len(jr_lead), dtype=np.bool_)]
        keep, types = _email_fate(rng, part, lead, ts, types)
        keep &= (ts >= part.created[lead]) & (ts < horizon_us)
        unsub = np.flatnonzero(part.unsubscribed_at >= 0)
        lead = np.concatenate([lead[keep], unsub])
        ts = floor_seconds(np.concatenate([ts[keep], part.unsubscribed_at[unsub]]))
        types = np.concatenate([types[keep], np.full(len(unsub), _TYPE["unsubscribe"], dtype=np.int64)])
        journey = np.concatenate([journey[keep], np.zeros(len(unsub), dtype=np.bool_)])
        row = _content(rng, types, journey)
        order = np.argsort(ts, kind="stable")
        lead, ts, types, row = lead[order], ts[order], types[order], row[order]
        yield pa.Table.from_arrays([
            pa.array(np.arange(next_id, next_id + len(ts), dtype=np.int64)),
            pa.array(lead + lo + 1, type=pa.int64()),
            timestamps(ts),
            strings(EVENT_TYPES, types),
            strings(urls, row),
            strings(assets, row),
            strings(topics, row),
        ], schema=EVENT_SCHEMA)
        next_id += len(ts)

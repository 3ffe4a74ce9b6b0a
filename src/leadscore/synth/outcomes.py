"""Ground-truth funnel outcomes: MQL, sales acceptance (with a reason), opportunity, closed-won.

Every lead gets a *latent* path first (would it become an MQL, be accepted, ...; and when), drawn
from its propensity. The table then shows only what had happened by the horizon (``as_of`` + 90
days), so stages beyond it are censored exactly as in a real CRM export. The latent dates also
anchor each lead's buying journey in ``events``, so behaviour and outcomes tell one story.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from leadscore.synth.catalog import FUNCTIONS, INDUSTRIES, REJECTION_REASONS, SENIORITIES
from leadscore.synth.columns import (
    US_PER_DAY,
    BoolArray,
    FloatArray,
    IntArray,
    floor_seconds,
    sigmoid,
    strings,
    timestamps,
)
from leadscore.synth.leads import LeadDraw

# Journey intensity by how far a lead's latent path goes: buyers do the whole journey, lost
# opportunities most of it, MQLs that go no further only the hand-raise and a little research.
DEPTH_WON, DEPTH_LOST, DEPTH_MQL = 1.0, 0.8, 0.5
TIER_AMOUNT = (1.0, 1.8, 1.4, 1.2)
REASON_NOISE = 0.15  # share of rejections where the rep picks a reason that is not the obvious one


@dataclass(frozen=True)
class Journey:
    """Latent timing of each lead's activity, used by the event generator (epoch microseconds)."""

    anchor: IntArray  # decision date the journey leads up to (conversion for buyers)
    depth: FloatArray  # 0 = no buying journey; see DEPTH_*
    buyer: BoolArray  # will buy (possibly after the horizon)
    active_until: IntArray  # end of everyday activity, never beyond the horizon
    unsubscribed_at: IntArray  # -1 when the lead never unsubscribes


def _days(rng: np.random.Generator, shape: float, mean_days: float, n: int) -> IntArray:
    """Gamma-distributed durations with the given mean, in whole microseconds."""
    out: IntArray = (rng.gamma(shape, mean_days / shape, n) * US_PER_DAY).astype(np.int64)
    return out


def _rejection_reasons(rng: np.random.Generator, ld: LeadDraw) -> IntArray:
    """Index into ``REJECTION_REASONS``: the first that applies, as a rep would check, with noise."""
    sen = [s[0] for s in SENIORITIES]
    fun = [f[0] for f in FUNCTIONS]
    ind = [i[0] for i in INDUSTRIES]
    applies = np.column_stack([
        ld.competitor,
        ld.student,
        ld.unsupported,
        (ld.seniority == sen.index("individual"))
        | np.isin(ld.function, [fun.index("hr"), fun.index("other")]),
        ld.employees < 50,
        np.isin(ld.industry, [ind.index("retail"), ind.index("other"), ind.index("education")]),
        np.ones(len(ld.created), dtype=np.bool_),  # not_ready: always a possible answer
    ])
    obvious = np.argmax(applies, axis=1).astype(np.int64)
    noisy = rng.random(len(obvious)) < REASON_NOISE
    return np.where(noisy, rng.integers(0, len(REJECTION_REASONS), len(obvious)), obvious)


def draw_outcomes(
    rng: np.random.Generator, ld: LeadDraw, horizon_us: int
) -> tuple[dict[str, pa.Array], Journey]:
    """Outcome columns for the leads table and the latent journey timing for events."""
    n = len(ld.created)
    z, created = ld.propensity, ld.created
    is_mql = rng.random(n) < sigmoid(-1.9 + 1.0 * ld.engagement)
    accept = rng.random(n) < sigmoid(1.0 + 0.8 * z - 3.0 * ld.competitor - 2.5 * ld.student
                                     - 2.5 * ld.unsupported - 0.6 * ld.personal)
    is_opp = is_mql & accept & (rng.random(n) < sigmoid(-0.2 + 0.8 * z))
    is_won = is_opp & (rng.random(n) < sigmoid(-0.6 + 0.7 * z))
    mql_at = floor_seconds(created + _days(rng, 1.0, 60.0, n))
    opp_at = floor_seconds(mql_at + _days(rng, 2.0, 10.0, n))
    won_at = floor_seconds(opp_at + _days(rng, 2.5, 20.0, n))
    lost_at = opp_at + _days(rng, 2.5, 25.0, n)

    mql_seen = is_mql & (mql_at < horizon_us)
    opp_seen = is_opp & (opp_at < horizon_us)
    won_seen = is_won & (won_at < horizon_us)
    rejected = mql_seen & ~accept
    reason = _rejection_reasons(rng, ld)
    amount = np.round(rng.lognormal(np.log(9000.0), 0.7, n) * ld.employees ** 0.25
                      * np.array(TIER_AMOUNT)[ld.tier], 2)
    columns = {
        "mql_at": timestamps(mql_at, mql_seen),
        "sales_accepted": pa.array(accept, type=pa.bool_(), mask=~mql_seen),
        "rejection_reason": strings((*REJECTION_REASONS, None),
                                    np.where(rejected, reason, len(REJECTION_REASONS))),
        "opportunity": pa.array(opp_seen, type=pa.bool_()),
        "opportunity_at": timestamps(opp_at, opp_seen),
        "won": pa.array(won_seen, type=pa.bool_()),
        "converted": pa.array(won_seen, type=pa.bool_()),
        "converted_at": timestamps(won_at, won_seen),
        "opportunity_amount": pa.array(amount, type=pa.float64(), mask=~opp_seen),
    }

    depth = np.where(is_won, DEPTH_WON, np.where(is_opp, DEPTH_LOST, np.where(is_mql, DEPTH_MQL, 0.0)))
    depth = depth * rng.gamma(2.0, 0.5, n)  # some buyers research a lot, others hardly at all
    anchor = np.where(is_won, won_at, np.where(is_opp, lost_at, mql_at + 7 * US_PER_DAY))
    idle_end = created + _days(rng, 1.0, 90.0, n)
    active_until = np.where(is_won, won_at, np.maximum(idle_end, np.where(is_mql, anchor, idle_end)))
    active_until = np.minimum(active_until, horizon_us)
    unsub = rng.random(n) < sigmoid(-2.4 - 0.9 * z)
    unsub_at = floor_seconds(created + (rng.random(n) * (active_until - created)).astype(np.int64))
    journey = Journey(anchor=anchor, depth=depth, buyer=is_won, active_until=active_until,
                      unsubscribed_at=np.where(unsub, unsub_at, -1))
    return columns, journey

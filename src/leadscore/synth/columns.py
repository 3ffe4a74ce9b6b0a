"""Vectorised building blocks shared by the generators: draws by index, Arrow columns from indices.

The generators work on integer index arrays (which title, which country, ...) and only turn them
into Arrow strings at the end with ``take`` on a small dictionary: that keeps a million-lead run a
few numpy passes instead of a million Python objects.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND


def sigmoid(x: FloatArray) -> FloatArray:
    """Logistic function: turns additive log-odds effects into probabilities."""
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


def choose(rng: np.random.Generator, weights: Sequence[float], size: int) -> IntArray:
    """Draw ``size`` indices with probability proportional to ``weights`` (need not sum to one)."""
    p = np.asarray(weights, dtype=np.float64)
    out: IntArray = rng.choice(len(p), size, p=p / p.sum()).astype(np.int64)
    return out


def choose_within(rng: np.random.Generator, group: IntArray, weights: Sequence[float],
                  group_of_row: Sequence[int]) -> IntArray:
    """For each element, draw a row of its own group, weighted within the group.

    ``group_of_row[r]`` names the group of catalogue row ``r``; rows of a group need not be
    contiguous. One ``searchsorted`` on ``group + cumulative share`` does every group at once.
    """
    w = np.asarray(weights, dtype=np.float64)
    g = np.asarray(group_of_row, dtype=np.int64)
    order = np.argsort(g, kind="stable")
    gs, ws = g[order], w[order]
    totals = np.bincount(gs, weights=ws, minlength=int(gs.max()) + 1)
    within = np.cumsum(ws) - np.concatenate([[0.0], np.cumsum(totals)])[gs]
    keys = gs + within / totals[gs]
    ends = np.r_[gs[1:] != gs[:-1], True]
    keys[ends] = gs[ends] + 1.0  # exact group ends, so rounding never spills into the next group
    u = group + rng.random(len(group))
    pos = np.minimum(np.searchsorted(keys, u, side="right"), len(keys) - 1)
    out: IntArray = order[pos].astype(np.int64)
    return out


def rank_within(keys: IntArray) -> IntArray:
    """0 for the first element with a given key, 1 for the second, ... (in array order).

    Used to make names unique by appending a number only to the second and later holders.
    """
    n = len(keys)
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    first = np.r_[True, sk[1:] != sk[:-1]] if n else np.zeros(0, dtype=np.bool_)
    pos = np.arange(n, dtype=np.int64)
    start = np.maximum.accumulate(np.where(first, pos, 0)) if n else pos
    rank = np.empty(n, dtype=np.int64)
    rank[order] = pos - start
    return rank


def strings(values: Sequence[str | None], idx: IntArray) -> pa.Array:
    """Arrow string column ``values[idx]``; ``None`` entries of ``values`` become nulls."""
    # int32 indices: Arrow's take is several times faster with them than with int64.
    return pa.array(values, type=pa.string()).take(pa.array(idx.astype(np.int32), type=pa.int32()))


def timestamps(us: IntArray, valid: BoolArray | None = None) -> pa.Array:
    """Naive-UTC ``timestamp("us")`` column from epoch microseconds, null where not ``valid``."""
    mask = None if valid is None else ~valid
    return pa.array(us.astype(np.int64), type=pa.int64(), mask=mask).cast(pa.timestamp("us"))


def floor_seconds(us: IntArray) -> IntArray:
    """Drop sub-second precision: CRM exports carry whole seconds, and flooring keeps order."""
    out: IntArray = us - us % US_PER_SECOND
    return out

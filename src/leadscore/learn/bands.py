"""Score bands: about equal-sized slices of leads by score, band 1 holding the highest scores.

Cut points are actual scores (``method="higher"`` quantiles), so every band holds at least one
lead and tied scores stay in one band. A band is ``lower <= score < upper`` (``None``: unbounded),
the convention of :func:`leadscore.learn.metrics.lift_table` with ``edges``, so the two agree.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def band_edges(score: FloatArray, n_bands: int) -> FloatArray:
    """Increasing cut points splitting ``score`` into at most ``n_bands`` non-empty bands."""
    if score.size == 0 or n_bands <= 1:
        return np.empty(0, dtype=np.float64)
    levels = np.linspace(0.0, 1.0, n_bands + 1)[1:-1]
    cuts = np.unique(np.quantile(score, levels, method="higher"))
    out: FloatArray = cuts[cuts > score.min()].astype(np.float64)
    return out


def band_numbers(score: FloatArray, edges: FloatArray) -> IntArray:
    """Band of each score: 1 for the highest band, ``len(edges) + 1`` for the lowest."""
    out: IntArray = (edges.size + 1 - np.searchsorted(edges, score, side="right")).astype(np.int64)
    return out


def band_bounds(edges: FloatArray, band: int) -> tuple[float | None, float | None]:
    """``(lower, upper)`` of a band number; ``None`` where it is open."""
    index = edges.size + 1 - band  # interval index from the bottom, 0-based
    lower = float(edges[index - 1]) if index >= 1 else None
    upper = float(edges[index]) if index < edges.size else None
    return lower, upper


def band_label(edges: FloatArray, band: int) -> str:
    lower, upper = band_bounds(edges, band)
    if lower is None and upper is None:
        return "all"
    if lower is None:
        return f"< {upper:g}"
    if upper is None:
        return f">= {lower:g}"
    return f"{lower:g} - <{upper:g}"

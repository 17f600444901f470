"""A merging t-digest in numpy: mergeable, bounded-size quantile sketches for very large runs.

Points (or centroids from other digests) sorted by value are grouped by the k1 scale function
``k(q) = delta / (2 pi) * asin(2q - 1)``: a group spans at most one unit of k, so centroids are single
points near the tails (where the 99.5th percentile lives) and wide in the middle. A digest has about
``delta / 2`` centroids whatever the number of points, and digests merge by compressing their union.
"""

from __future__ import annotations

import numpy as np


def compress(means: np.ndarray, weights: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Centroids (means, weights) of the points or centroids given, in increasing order of mean."""
    if len(means) == 0:
        return means.astype(np.float64), weights.astype(np.float64)
    order = np.argsort(means, kind="stable")
    m, w = means[order].astype(np.float64), weights[order].astype(np.float64)
    total = w.sum()
    q_mid = (np.cumsum(w) - w / 2) / total
    k = delta / (2 * np.pi) * np.arcsin(np.clip(2 * q_mid - 1, -1, 1))
    group = np.floor(k - k[0]).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    gw = np.add.reduceat(w, starts)
    gm = np.add.reduceat(m * w, starts) / gw
    return gm, gw


def quantiles(means: np.ndarray, weights: np.ndarray, lo: float, hi: float, qs: np.ndarray) -> np.ndarray:
    """Estimated quantiles (0..1) from centroids, interpolating between centroid centres and the exact ends."""
    if len(means) == 0:
        return np.full(len(qs), np.nan)
    total = weights.sum()
    centre = (np.cumsum(weights) - weights / 2) / total
    # a single-point centroid at either end sits exactly at the min / max
    x = np.r_[0.0, centre, 1.0]
    y = np.r_[lo, means, hi]
    return np.interp(qs, x, y)

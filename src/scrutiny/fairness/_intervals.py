"""Interval and test helpers: Wilson intervals, percentiles, p-values, corrections.

Pure functions on small arrays; no dependency beyond NumPy and the standard library.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

CORRECTIONS = ("holm", "fdr_bh", "none")


def z_value(level: float) -> float:
    """Two-sided standard normal quantile for a confidence level."""
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def wilson(p: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for proportions ``p`` observed on (effective) sizes ``n``."""
    z = z_value(level)
    p = np.asarray(p, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    ok = (n > 0) & np.isfinite(p)
    z2n = np.divide(z * z, n, out=np.full(n.shape, np.nan), where=ok)
    denom = 1.0 + z2n
    centre = (p + z2n / 2.0) / denom
    spread = np.sqrt(np.maximum(p * (1 - p) / np.where(ok, n, 1.0) + z2n * z2n / (4 * z * z), 0))
    half = z * spread / denom
    low = np.clip(centre - half, 0.0, 1.0)
    high = np.clip(centre + half, 0.0, 1.0)
    # at p = 0 or 1 the bound is exactly 0 or 1 (rounding must not leave the estimate out)
    low = np.where(p <= 0.0, 0.0, np.minimum(low, p))
    high = np.where(p >= 1.0, 1.0, np.maximum(high, p))
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan)


def percentile_interval(reps: np.ndarray, level: float, axis: int = 0) -> tuple[
    np.ndarray, np.ndarray
]:
    """Percentile interval of bootstrap replicates, ignoring undefined replicates."""
    alpha = (1.0 - level) / 2.0
    reps = np.asarray(reps, dtype=np.float64)
    finite = np.isfinite(reps)
    enough = finite.sum(axis=axis) >= max(10, int(0.5 * reps.shape[axis]))
    with np.errstate(all="ignore"):
        if finite.all():
            low, high = np.quantile(reps, [alpha, 1 - alpha], axis=axis)
        else:
            low, high = np.nanquantile(
                np.where(finite, reps, np.nan), [alpha, 1 - alpha], axis=axis
            ) if finite.any() else (np.full(enough.shape, np.nan), np.full(enough.shape, np.nan))
    low = np.where(enough, low, np.nan)
    high = np.where(enough, high, np.nan)
    return low, high


def two_sided_p(z: np.ndarray) -> np.ndarray:
    """Two-sided p-value of standard normal statistics."""
    z = np.abs(np.asarray(z, dtype=np.float64))
    out = np.full(z.shape, np.nan)
    ok = np.isfinite(z)
    out[ok] = [math.erfc(v / math.sqrt(2.0)) for v in z[ok]]
    return out


def adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Adjust p-values for multiple comparisons (Holm or Benjamini-Hochberg)."""
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if m == 0 or method == "none":
        return p.copy()
    order = ok[np.argsort(p[ok], kind="stable")]
    ps = p[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ps)
    elif method == "fdr_bh":
        adj = np.minimum.accumulate(m / np.arange(m, 0, -1) * ps[::-1])[::-1]
    else:  # pragma: no cover - validated at the boundary
        msg = f"unknown correction {method}"
        raise ValueError(msg)
    out[order] = np.minimum(adj, 1.0)
    return out

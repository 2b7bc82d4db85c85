"""Disparities, named criteria and group-difference tests for one grouping level.

Rule: **a disparity is an aggregation of per-group metric values**, and its
interval is the same aggregation applied to every bootstrap replicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scrutiny.exceptions import InvalidParameterError
from scrutiny.fairness._compute import MetricTable
from scrutiny.fairness._intervals import adjust, percentile_interval, two_sided_p
from scrutiny.fairness._metrics import RATE_METRICS, spec_for, split_class_metric
from scrutiny.fairness._stats import Level

#: named fairness criteria -> the metrics whose disparity they are
CRITERIA: dict[str, tuple[str, ...]] = {
    "demographic_parity": ("selection_rate",),
    "equal_opportunity": ("true_positive_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
    "predictive_parity": ("precision",),
    "error_rate_parity": ("error_rate",),
    "disparate_impact": ("selection_rate",),
}

FOUR_FIFTHS = 0.8


@dataclass
class Disparity:
    """How far apart the groups are on one metric."""

    metric: str
    difference: float
    ratio: float
    ci_difference: tuple[float, float] | None
    ci_ratio: tuple[float, float] | None
    max_group: tuple[Any, ...] | None
    min_group: tuple[Any, ...] | None
    to_overall_difference: float
    to_overall_ratio: float
    ci_to_overall_difference: tuple[float, float] | None
    to_reference_difference: float | None = None
    to_reference_ratio: float | None = None
    ci_to_reference_difference: tuple[float, float] | None = None
    #: per-group signed difference and ratio against the reference group
    reference_difference: np.ndarray | None = None
    reference_ratio: np.ndarray | None = None
    reference_difference_ci: tuple[np.ndarray, np.ndarray] | None = None


@dataclass
class GroupTest:
    """Pairwise two-sided tests of equal metric values between groups."""

    metric: str
    group_a: list[int]
    group_b: list[int]
    difference: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    p_adjusted: np.ndarray


@dataclass
class LevelResult:
    """Everything computed for one grouping level."""

    level: Level
    table: MetricTable
    disparities: dict[str, Disparity]
    criteria: dict[str, dict[str, Any]]
    tests: list[GroupTest]
    reference_index: int | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def _ci(low: float, high: float) -> tuple[float, float] | None:
    if np.isfinite(low) and np.isfinite(high):
        return (float(low), float(high))
    return None


def _agg_diff(v: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.nanmax(v, axis=-1) - np.nanmin(v, axis=-1)


def _agg_ratio(v: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        hi = np.nanmax(v, axis=-1)
        lo = np.nanmin(v, axis=-1)
        out = np.divide(lo, hi, out=np.full(np.shape(hi), np.nan), where=hi > 0)
        return np.where((lo == 0) & (hi == 0), 1.0, out)


def _nanall(v: np.ndarray) -> bool:
    return not np.isfinite(v).any()


def match_reference(reference: Any, lvl: Level) -> int | None:
    """Index of the reference group at this level, or None when it does not apply."""
    if reference is None:
        return None
    names = lvl.feature_names
    if isinstance(reference, dict):
        if set(reference) != set(names):
            unknown = set(reference) - set(names)
            if unknown and len(names) > 1:
                msg = (
                    f"The 'reference' parameter names {sorted(unknown)}, which are not sensitive "
                    f"features; they are {names}."
                )
                raise InvalidParameterError(msg)
            return None
        key = tuple(reference[n] for n in names)
    elif isinstance(reference, tuple):
        if len(reference) != len(names):
            return None
        key = reference
    else:
        if len(names) != 1:
            return None
        key = (reference,)
    normalized = [tuple(str(x) for x in k) for k in lvl.keys]
    target = tuple(str(x) for x in key)
    if target in normalized:
        return normalized.index(target)
    shown = [k[0] if len(k) == 1 else k for k in lvl.keys[:20]]
    msg = (
        f"The 'reference' parameter must name an existing group of {', '.join(names)}. "
        f"Got {reference!r} instead. Groups present: {shown}."
    )
    raise InvalidParameterError(msg)


def build_level(
    lvl: Level,
    table: MetricTable,
    overall: MetricTable,
    *,
    reference: Any,
    level_ci: float | None,
    correction: str,
    policy: str | None,
    task: str,
) -> LevelResult:
    """Disparities, criteria and tests for one level."""
    ref = match_reference(reference, lvl)
    disparities: dict[str, Disparity] = {}
    for i, name in enumerate(table.names):
        if name == "count":
            continue
        disparities[name] = _disparity(name, table, i, overall, lvl, ref, level_ci)
    criteria = _criteria(disparities, table, level_ci, policy) if task == "binary" else {}
    tests = [_tests(name, table, i, correction) for i, name in enumerate(table.names)
             if name != "count" and table.value.shape[1] > 1]
    return LevelResult(lvl, table, disparities, criteria, tests, ref)


def _disparity(
    name: str,
    table: MetricTable,
    i: int,
    overall: MetricTable,
    lvl: Level,
    ref: int | None,
    level_ci: float | None,
) -> Disparity:
    v = table.value[i]
    finite = np.isfinite(v)
    spec = spec_for(name)
    nonneg = spec.bounds is not None and spec.bounds[0] >= 0
    if finite.sum() == 0:
        diff = ratio = np.nan
        hi_g = lo_g = None
    else:
        diff = float(_agg_diff(v))
        ratio = float(_agg_ratio(v)) if nonneg else np.nan
        hi_g = lvl.keys[int(np.nanargmax(v))]
        lo_g = lvl.keys[int(np.nanargmin(v))]
    ov = float(overall.value[overall.row(name)][0])
    with np.errstate(all="ignore"):
        to_ov_d = float(np.nanmax(np.abs(v - ov))) if finite.any() else np.nan
        if nonneg and finite.any() and ov > 0:
            rr = np.minimum(v / ov, np.divide(ov, v, out=np.full(v.shape, np.inf), where=v > 0))
            to_ov_r = float(np.nanmin(rr))
        else:
            to_ov_r = np.nan
    ci_d = ci_r = ci_ov = None
    reps = table.reps.get(name)
    if level_ci is not None and reps is not None and finite.sum() >= 2:
        r = np.where(finite[None, :], reps, np.nan)
        d_reps = _agg_diff(r)
        ci_d = _ci(*percentile_interval(d_reps, level_ci))
        if nonneg:
            ci_r = _ci(*percentile_interval(_agg_ratio(r), level_ci))
        ov_reps = overall.reps.get(name)
        if ov_reps is not None:
            with np.errstate(all="ignore"):
                ci_ov = _ci(*percentile_interval(np.nanmax(np.abs(r - ov_reps), axis=1), level_ci))
    d = Disparity(name, diff, ratio, ci_d, ci_r, hi_g, lo_g, to_ov_d, to_ov_r, ci_ov)
    if ref is not None:
        with np.errstate(all="ignore"):
            rd = v - v[ref]
            rr = np.divide(v, v[ref], out=np.full(v.shape, np.nan), where=v[ref] != 0)
        d.reference_difference = rd
        d.reference_ratio = rr if nonneg else np.full(v.shape, np.nan)
        others = np.isfinite(rd) & (np.arange(len(v)) != ref)
        if others.any():
            d.to_reference_difference = float(np.max(np.abs(rd[others])))
            # ratios are undefined (NaN) where the reference value is 0: leave them out, and
            # report None when none is defined (np.nanmin would warn on an all-NaN slice)
            defined = rr[others & np.isfinite(rr)]
            d.to_reference_ratio = float(defined.min()) if nonneg and defined.size else None
        if level_ci is not None and reps is not None:
            with np.errstate(all="ignore"):
                rd_reps = reps - reps[:, [ref]]
            lo, hi = percentile_interval(rd_reps, level_ci)
            d.reference_difference_ci = (lo, hi)
            if others.any():
                d.ci_to_reference_difference = _ci(
                    *percentile_interval(np.nanmax(np.abs(rd_reps[:, others]), axis=1), level_ci)
                )
    return d


def _criteria(
    disparities: dict[str, Disparity],
    table: MetricTable,
    level_ci: float | None,
    policy: str | None,
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for crit, metrics in CRITERIA.items():
        if not all(m in disparities for m in metrics):
            continue
        ds = [disparities[m] for m in metrics]
        entry: dict[str, Any] = {"metrics": list(metrics)}
        if len(ds) == 1:
            d = ds[0]
            entry.update(
                difference=d.difference, ratio=d.ratio,
                ci_difference=d.ci_difference, ci_ratio=d.ci_ratio,
            )
        else:
            entry["difference"] = float(np.nanmax([d.difference for d in ds]))
            entry["ratio"] = float(np.nanmin([d.ratio for d in ds]))
            entry["ci_difference"] = entry["ci_ratio"] = None
            reps = [table.reps.get(m) for m in metrics]
            if level_ci is not None and all(r is not None for r in reps):
                rows = [table.row(m) for m in metrics]
                diffs = np.array(
                    [_agg_diff(np.where(np.isfinite(table.value[i])[None], r, np.nan))
                     for i, r in zip(rows, reps, strict=True)]
                )
                ratios = np.array(
                    [_agg_ratio(np.where(np.isfinite(table.value[i])[None], r, np.nan))
                     for i, r in zip(rows, reps, strict=True)]
                )
                entry["ci_difference"] = _ci(
                    *percentile_interval(np.nanmax(diffs, axis=0), level_ci)
                )
                entry["ci_ratio"] = _ci(*percentile_interval(np.nanmin(ratios, axis=0), level_ci))
        if crit == "disparate_impact" and policy == "four_fifths":
            r = entry["ratio"]
            entry["policy"] = {
                "name": "four_fifths",
                "threshold": FOUR_FIFTHS,
                "below_threshold": bool(np.isfinite(r) and r < FOUR_FIFTHS),
                "note": "An opt-in policy check of the selection-rate ratio against 0.8. It is a "
                "screening flag, not a finding of discrimination or its absence.",
            }
        out[crit] = entry
    return out


def _tests(name: str, table: MetricTable, i: int, correction: str) -> GroupTest:
    v = table.value[i]
    se = table.se[i]
    g = len(v)
    a, b = np.triu_indices(g, k=1)
    diff = v[a] - v[b]
    base, _ = split_class_metric(name)
    with np.errstate(all="ignore"):
        if base in RATE_METRICS:
            n = table.trials[i]
            x = v * n
            pooled = (x[a] + x[b]) / (n[a] + n[b])
            s = np.sqrt(pooled * (1 - pooled) * (1 / n[a] + 1 / n[b]))
        else:
            s = np.sqrt(se[a] ** 2 + se[b] ** 2)
        z = np.where(s > 0, diff / s, np.where(diff == 0, 0.0, np.nan))
    p = two_sided_p(z)
    return GroupTest(name, a.tolist(), b.tolist(), diff, z, p, adjust(p, correction))

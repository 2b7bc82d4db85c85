"""Interval coverage: nominal 95% intervals cover the truth about 95% of the time.

Simulations with known true rates and fixed seeds (so the measured coverage is
the same on every run). With 4000 simulations (8000 per-group intervals, 4000
reference differences) the Monte Carlo standard error of a coverage near 0.95 is
about 0.0025 to 0.0035; the accepted band [0.93, 0.97] is six standard errors
or more on either side, so a failure means a real miscalibration.

Run with ``-s`` to see the measured coverages.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from scrutiny.fairness import assess

pytestmark = pytest.mark.slow

LEVEL = 0.95
LOW, HIGH = 0.93, 0.97
N_SIMS = 4000
SEED = 20240611


def _quiet_assess(*args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return assess(*args, **kwargs)


def _report(what: str, covered: np.ndarray, **extra: Any) -> float:
    coverage = float(np.mean(covered))
    mc_se = float(np.sqrt(coverage * (1 - coverage) / covered.size))
    details = ", ".join(f"{k}={v}" for k, v in extra.items())
    print(f"\n[coverage] {what}: {coverage:.4f} over {covered.size} intervals "
          f"(Monte Carlo s.e. {mc_se:.4f}; {details})")
    return coverage


def _simulate_rate(metric: str, n: int, p: float, sim: int) -> tuple[Any, ...]:
    """Two groups in which ``metric`` has the true value ``p`` on ``n`` rows each."""
    rng = np.random.default_rng([SEED, sim, len(metric)])
    if metric == "selection_rate":
        # n rows per group; the prediction is positive with probability p
        y = rng.integers(0, 2, 2 * n)
        pred = (rng.random(2 * n) < p).astype(int)
        groups = np.repeat(["g1", "g2"], n)
    else:
        # true_positive_rate: n actual positives per group (plus some negatives, which must
        # not matter), each predicted positive with probability p
        n_neg = n // 2
        y = np.tile(np.r_[np.ones(n, dtype=int), np.zeros(n_neg, dtype=int)], 2)
        pred = np.where(y == 1, rng.random(y.size) < p, rng.random(y.size) < 0.5).astype(int)
        groups = np.repeat(["g1", "g2"], n + n_neg)
    return y, pred, groups


@pytest.mark.parametrize("metric", ["selection_rate", "true_positive_rate"])
@pytest.mark.parametrize(("n", "p"), [(200, 0.3)])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_wilson_interval_coverage(metric: str, n: int, p: float, weighted: bool) -> None:
    """Per-group Wilson intervals of a rate cover its true value 93-97% of the time.

    Weighted: every row gets a weight drawn from 0.5-2 independently of its outcome,
    so the weighted rate still estimates ``p``, on a Kish effective size below ``n``.
    """
    covered = []
    widths = []
    for sim in range(N_SIMS):
        y, pred, groups = _simulate_rate(metric, n, p, sim)
        w = None
        if weighted:
            w = np.random.default_rng([SEED, sim, 99]).uniform(0.5, 2.0, y.size)
        r = _quiet_assess(y, pred, sensitive_features=groups, metrics=[metric], ci=LEVEL,
                          n_boot=0, min_group_size=0, sample_weight=w)
        assert len(r.groups) == 2
        for g in r.groups:
            lo, hi = g.ci(metric)
            covered.append(lo <= p <= hi)
            widths.append(hi - lo)
    covered = np.asarray(covered)
    coverage = _report(f"Wilson {metric}, n={n}, p={p}, weighted={weighted}", covered,
                       sims=N_SIMS,
                       mean_width=round(float(np.mean(widths)), 4))
    assert LOW <= coverage <= HIGH, coverage


def test_bootstrap_reference_difference_coverage() -> None:
    """The bootstrap interval of a group's difference to the reference group covers the truth.

    Two groups of 200 rows with true selection rates 0.3 (the reference) and 0.45:
    the true difference is 0.15.
    """
    n, p_ref, p_other = 200, 0.30, 0.45
    truth = p_other - p_ref
    covered = []
    estimates = []
    for sim in range(N_SIMS):
        rng = np.random.default_rng([SEED, 7, sim])
        groups = np.repeat(["ref", "other"], n)
        rate = np.where(groups == "ref", p_ref, p_other)
        pred = (rng.random(2 * n) < rate).astype(int)
        y = rng.integers(0, 2, 2 * n)
        r = _quiet_assess(y, pred, sensitive_features=groups, metrics=["selection_rate"],
                          reference="ref", ci=LEVEL, n_boot=500, random_state=sim,
                          min_group_size=0)
        entries = {g["features"]["sensitive_feature_0"]: g for g in r.to_dict()["groups"]}
        assert entries["ref"]["is_reference"] and not entries["other"]["is_reference"]
        assert entries["ref"]["to_reference"]["selection_rate"]["difference"] == 0.0
        other = entries["other"]["to_reference"]["selection_rate"]
        lo, hi = other["ci_difference"]
        assert lo <= hi
        estimates.append(other["difference"])
        covered.append(lo <= truth <= hi)
    covered = np.asarray(covered)
    coverage = _report(
        "bootstrap difference to reference (selection_rate 0.45 vs 0.30, n=200 each)",
        covered, sims=N_SIMS, n_boot=500, mean_estimate=round(float(np.mean(estimates)), 4),
    )
    # the estimate itself is unbiased for the true difference
    assert abs(np.mean(estimates) - truth) < 3 * 0.048 / np.sqrt(N_SIMS)
    assert LOW <= coverage <= HIGH, coverage

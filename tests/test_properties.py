"""Property-based tests of :func:`scrutiny.fairness.assess`, driven by a metric registry.

Each metric of :data:`scrutiny.fairness.METRICS` is registered with the kind of
data it needs, the kind of interval it gets and whether it is non-negative.
Hypothesis then draws small data sets of each kind and checks, for every
registered metric at once:

* invariance of values (and of intervals, where the property allows) to the
  order of the rows, to renaming the groups, to scaling the sample weights by
  a positive constant, and to duplicating every row;
* bounds: ``difference >= 0``, ``0 <= ratio <= 1`` and ``ratio == 1`` exactly
  when ``difference == 0`` for non-negative metrics; values inside the metric's
  range; Wilson intervals of rates containing their point estimate.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrutiny.fairness import METRICS, assess

# Derandomized: the suite draws the same examples on every run, so that a red run always
# means a change in the code, never a luckier draw. SCRUTINY_HYPOTHESIS_EXAMPLES and
# SCRUTINY_HYPOTHESIS_RANDOM=1 widen the search when hunting for bugs.
SETTINGS = settings(
    max_examples=int(os.environ.get("SCRUTINY_HYPOTHESIS_EXAMPLES", "50")),
    deadline=None,
    derandomize=os.environ.get("SCRUTINY_HYPOTHESIS_RANDOM", "0") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
RTOL = 1e-9
ATOL = 1e-12
#: Interval bounds may carry the square root of a rounding error: a delta-method
#: half-width z*sqrt(v) with v near 0 moves by about z*sqrt(1e-16) when v moves by 1e-16.
CI_ATOL = 1e-7
N_BOOT = 40
GROUP_NAMES = ["a", "b", "c", "d"]


# ---------------------------------------------------------------------------
# the registry


@dataclass(frozen=True)
class MetricCase:
    """What the property tests need to know about one metric."""

    name: str
    #: the data it is computed from: "binary" (labels), "score" (labels + scores), "regression"
    data: str
    #: "wilson" (rates), "normal" (delta method), "bootstrap" (percentiles of replicates)
    interval: str
    #: values are never negative, so ratios between groups are defined
    nonneg: bool
    bounds: tuple[float, float] | None
    #: a total that grows with the data (weighted counts), not a mean or a share
    extensive: bool = False


def _interval_kind(name: str, spec: Any) -> str:
    if spec.kind == "binary":
        return "wilson" if spec.is_rate else "bootstrap"
    if name == "ece":
        return "bootstrap"
    return "normal"


#: metrics that are totals: scaling the weights by c scales them by c, duplicating the
#: rows doubles them. Every other metric is a mean or a share, invariant to both. A new
#: total must be listed here (test_duplicating_rows fails for it otherwise).
EXTENSIVE = frozenset({"selection_count"})

REGISTRY: dict[str, MetricCase] = {
    name: MetricCase(
        name,
        spec.kind,
        _interval_kind(name, spec),
        spec.bounds is not None and spec.bounds[0] >= 0,
        spec.bounds,
        name in EXTENSIVE,
    )
    for name, spec in METRICS.items()
    if name != "count"
}
KINDS = ["binary", "score", "regression"]
TASK = {"binary": "binary", "score": "binary", "regression": "regression"}


def metrics_of(kind: str) -> list[str]:
    return [m for m, c in REGISTRY.items() if c.data == kind]


def test_registry_covers_every_metric() -> None:
    assert set(REGISTRY) == set(METRICS) - {"count"}
    assert set(EXTENSIVE) <= set(REGISTRY)
    assert {c.data for c in REGISTRY.values()} == set(KINDS)
    for kind in KINDS:
        assert metrics_of(kind)
    # the rates get Wilson intervals; selection_rate and true_positive_rate are among them
    assert REGISTRY["selection_rate"].interval == "wilson"
    assert REGISTRY["true_positive_rate"].interval == "wilson"


# ---------------------------------------------------------------------------
# the data


@dataclass(frozen=True)
class Data:
    """One small data set: groups, labels, scores or predictions, weights."""

    kind: str
    group: np.ndarray
    y: np.ndarray
    p: np.ndarray | None
    s: np.ndarray | None
    w: np.ndarray | None

    @property
    def n(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:  # exact values, so that a failing example can be replayed
        def show(a: np.ndarray | None) -> Any:
            return None if a is None else a.tolist()

        return (
            f"Data(kind={self.kind!r}, group={show(self.group)}, y={show(self.y)}, "
            f"p={show(self.p)}, s={show(self.s)}, w={show(self.w)})"
        )

    @property
    def exact_sums(self) -> bool:
        """Weight sums are exact in floating point, whatever the summation order."""
        return self.w is None or bool(np.all(self.w * 4 == np.round(self.w * 4)))

    def take(self, idx: Any) -> Data:
        def t(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[np.asarray(idx)]

        return replace(self, group=t(self.group), y=t(self.y), p=t(self.p), s=t(self.s),
                       w=t(self.w))


#: multiples of 1/4: sums of these are exact whatever the order of the rows
EXACT_WEIGHT = st.sampled_from([0.25, 0.5, 1.0, 2.0, 4.5, 7.75])


@st.composite
def datasets(draw: Any, kind: str, weights: str | None = None) -> Data:
    """Small data sets of one kind; ``weights`` is "none", "exact", "float" or None (any)."""
    # assess compares groups, so at least two are present
    n_groups = draw(st.integers(2, 4))
    names = GROUP_NAMES[:n_groups]
    if kind == "regression":
        # R² needs variation of y within every group, so each group gets two distinct values
        sizes = draw(st.lists(st.integers(2, 12), min_size=n_groups, max_size=n_groups))
        group = np.repeat(np.array(names, dtype=object), sizes)
        n = len(group)
        quarter = st.integers(-20, 20).map(lambda v: v / 4)
        y = np.array(draw(st.lists(quarter, min_size=n, max_size=n)), dtype=np.float64)
        start = 0
        for size in sizes:
            if np.ptp(y[start:start + size]) == 0:
                y[start] += 0.5
            start += size
        p = y + np.array(draw(st.lists(quarter, min_size=n, max_size=n)), dtype=np.float64)
        s = None
        order = np.array(draw(st.permutations(range(n))))
        group, y, p = group[order], y[order], p[order]
    else:
        n = draw(st.integers(2, 40))
        group = np.array(draw(st.lists(st.sampled_from(names), min_size=n, max_size=n)),
                         dtype=object)
        group[:2] = names[:2]
        y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
        p = s = None
        if kind == "binary":
            p = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
        else:
            # a coarse grid gives ties (within and across classes), floats the rest
            score = st.one_of(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0]),
                              st.floats(0.0, 1.0, allow_nan=False))
            s = np.array(draw(st.lists(score, min_size=n, max_size=n)), dtype=np.float64)
    if weights is None:
        weights = draw(st.sampled_from(["none", "exact", "float"]))
    w = None
    if weights == "exact":
        w = np.array(draw(st.lists(EXACT_WEIGHT, min_size=n, max_size=n)), dtype=np.float64)
    elif weights == "float":
        weight = st.one_of(EXACT_WEIGHT, st.floats(0.05, 20.0, allow_nan=False))
        w = np.array(draw(st.lists(weight, min_size=n, max_size=n)), dtype=np.float64)
    return Data(kind, group, y, p, s, w)


def run(d: Data, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return assess(
            d.y, d.p, y_score=d.s, sample_weight=d.w, sensitive_features={"g": d.group},
            metrics=metrics_of(d.kind), task=TASK[d.kind], random_state=11, n_boot=N_BOOT,
            min_group_size=0, **kwargs,
        )


# ---------------------------------------------------------------------------
# comparisons

ALL_INTERVALS = frozenset({"wilson", "normal", "bootstrap"})


def close(a: float | None, b: float | None, atol: float = ATOL) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=atol)


def close_ci(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return close(a[0], b[0], CI_ATOL) and close(a[1], b[1], CI_ATOL)


def by_group(r: Any) -> dict[Any, Any]:
    return {g.features["g"]: g for g in r.groups}


def assert_same_groups(
    r1: Any,
    r2: Any,
    *,
    rename: dict[Any, Any] | None = None,
    count_factor: int = 1,
    total_factor: float = 1.0,
    intervals: set[str] = frozenset(),
) -> None:
    """Same groups, counts and values; intervals compared for the given interval kinds.

    Extensive metrics (totals) are compared after dividing by ``total_factor``.
    """
    g1, g2 = by_group(r1), by_group(r2)
    rename = rename or {k: k for k in g1}
    assert {rename[k] for k in g1} == set(g2)
    for k, row in g1.items():
        other = g2[rename[k]]
        assert other.count == row.count * count_factor, k
        for m in r1.metrics:
            if m == "count":
                continue
            f = total_factor if REGISTRY[m].extensive else 1.0
            assert close(row.value(m) * f, other.value(m)), (k, m, row.value(m), other.value(m))
            if REGISTRY[m].interval in intervals:
                ci = row.ci(m)
                ci = None if ci is None else [ci[0] * f, ci[1] * f]
                assert close_ci(ci, other.ci(m)), (k, m, row.ci(m), other.ci(m))


def assert_same_disparities(
    r1: Any, r2: Any, *, with_intervals: bool, total_factor: float = 1.0
) -> None:
    for m in r1.metrics:
        if m == "count":
            continue
        f = total_factor if REGISTRY[m].extensive else 1.0
        assert close(r1.difference(m) * f, r2.difference(m)), m
        assert close(r1.ratio(m), r2.ratio(m)), m
        assert close(r1.difference(m, method="to_overall") * f,
                     r2.difference(m, method="to_overall")), m
        if with_intervals:
            d1, d2 = r1.disparities[m], r2.disparities[m]
            ci = None if d1.ci_difference is None else [x * f for x in d1.ci_difference]
            assert close_ci(ci, d2.ci_difference), (m, d1.ci_difference, d2.ci_difference)
            assert close_ci(d1.ci_ratio, d2.ci_ratio), m


def assert_same_overall(
    r1: Any,
    r2: Any,
    *,
    with_intervals: bool,
    total_factor: float = 1.0,
    intervals: set[str] = ALL_INTERVALS,
) -> None:
    for m in r1.metrics:
        if m == "count":
            continue
        f = total_factor if REGISTRY[m].extensive else 1.0
        v1, ci1 = r1.overall[m]
        v2, ci2 = r2.overall[m]
        assert close(None if v1 is None else v1 * f, v2), m
        if with_intervals and REGISTRY[m].interval in intervals:
            ci = None if ci1 is None else [x * f for x in ci1]
            assert close_ci(ci, ci2), (m, ci1, ci2)


# ---------------------------------------------------------------------------
# invariances


# Bootstrap replicates are drawn with rng.multinomial from each group's cell shares.
# Reordering rows reorders the additions that make the weighted cell sums, which can
# move a share by one unit in the last place; rng.multinomial is not continuous in
# its probabilities (see test_bootstrap_stable_under_rounding), so bootstrap intervals
# are compared exactly only where the weight sums are exact (no weights, or weights
# that are multiples of 1/4). Values, Wilson and delta-method intervals are compared
# for every data set.


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_row_order(kind: str, data: Any) -> None:
    """Shuffling the rows changes nothing: values and intervals, bootstrap ones included."""
    d = data.draw(datasets(kind), label="data")
    perm = data.draw(st.permutations(range(d.n)), label="permutation")
    r1, r2 = run(d), run(d.take(perm))
    boot = d.exact_sums
    assert_same_groups(r1, r2, intervals=ALL_INTERVALS if boot else {"wilson", "normal"})
    assert_same_overall(r1, r2, with_intervals=True,
                        intervals=ALL_INTERVALS if boot else {"wilson", "normal"})
    assert_same_disparities(r1, r2, with_intervals=boot)


RENAMINGS = [
    ["z", "y", "x", "w"],  # reverses the sorted order
    ["b", "c", "d", "a"],  # a rotation of the same names
    [30, 10, 40, 20],  # another type
    ["group one", "Group two", "groupe trois", "ГРУППА"],
]


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_relabelling_groups(kind: str, data: Any) -> None:
    """Renaming the groups consistently renames the rows of the result, nothing else.

    The group order may change with the names, and with it the order in which
    bootstrap replicates are drawn (the overall replicates are sums of the groups'),
    so only the intervals that are functions of each group's own statistics
    (Wilson, delta method) must be unchanged.
    """
    d = data.draw(datasets(kind), label="data")
    targets = data.draw(st.sampled_from(RENAMINGS), label="names")
    targets = data.draw(st.permutations(targets), label="assignment")
    rename = dict(zip(GROUP_NAMES, targets, strict=True))
    renamed = replace(d, group=np.array([rename[g] for g in d.group], dtype=object))
    r1, r2 = run(d), run(renamed)
    assert_same_groups(r1, r2, rename=rename, intervals={"wilson", "normal"})
    assert_same_overall(r1, r2, with_intervals=True, intervals={"wilson", "normal"})
    assert_same_disparities(r1, r2, with_intervals=False)
    for m in r1.metrics:
        if m != "count" and r1.disparities[m].max_group is not None:
            # the reported extreme groups carry the extreme values
            top = by_group(r2)[r2.disparities[m].max_group[0]].value(m)
            assert close(top, max(g.value(m) for g in r2.groups if not math.isnan(g.value(m))))


#: factors that keep sums of multiples of 1/4 exact, and factors that do not
EXACT_FACTORS = [0.5, 2.0, 3.0, 1024.0]
INEXACT_FACTORS = [0.001, 7.3, 1e6 / 3]


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_scaling_weights(kind: str, data: Any) -> None:
    """Multiplying every weight by one positive constant changes nothing, intervals included."""
    d = data.draw(datasets(kind, weights=data.draw(st.sampled_from(["exact", "float"]))),
                  label="data")
    c = data.draw(st.sampled_from(EXACT_FACTORS + INEXACT_FACTORS), label="factor")
    r1, r2 = run(d), run(replace(d, w=d.w * c))
    boot = d.exact_sums and c in EXACT_FACTORS
    assert_same_groups(r1, r2, intervals=ALL_INTERVALS if boot else {"wilson", "normal"},
                       total_factor=c)
    assert_same_overall(r1, r2, with_intervals=True, total_factor=c,
                        intervals=ALL_INTERVALS if boot else {"wilson", "normal"})
    assert_same_disparities(r1, r2, with_intervals=boot, total_factor=c)


def test_bootstrap_stable_under_rounding() -> None:
    """The same rows in another order give the same bootstrap interval.

    Group b: true negatives weighing 0.9 in all (five rows), one false positive and one
    false negative of weight 0.25 each. Summed in one order or the other, the true
    negatives' total differs in the last place, so the false positives' share of the
    rest is 0.5 plus or minus one unit in the last place.
    """
    cis = []
    for tn_weights in ([0.3, 0.2, 0.25, 0.1, 0.05], [0.05, 0.25, 0.1, 0.2, 0.3]):
        y = [0] * 4 + [0] * 5 + [0, 1]
        p = [0] * 4 + [0] * 5 + [1, 0]
        groups = ["a"] * 4 + ["b"] * 7
        w = [0.25] * 4 + tn_weights + [0.25, 0.25]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = assess(y, p, sample_weight=w, sensitive_features=groups,
                       metrics=["selection_rate"], random_state=0, n_boot=200,
                       min_group_size=0)
        cis.append((r.groups[1].value("selection_rate"),
                    r.disparities["selection_rate"].ci_difference))
    # the groups' values agree to the last digit...
    assert close(cis[0][0], cis[1][0])
    # ...so their bootstrap intervals must agree as well
    assert close_ci(cis[0][1], cis[1][1]), cis


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_duplicating_rows(kind: str, data: Any) -> None:
    """Every row twice: counts and totals double, the other values stay (intervals narrow)."""
    d = data.draw(datasets(kind), label="data")
    twice = d.take(np.r_[np.arange(d.n), np.arange(d.n)])
    r1, r2 = run(d), run(twice)
    assert r2.n_rows == 2 * r1.n_rows
    assert_same_groups(r1, r2, count_factor=2, total_factor=2.0)
    assert_same_overall(r1, r2, with_intervals=False, total_factor=2.0)
    assert_same_disparities(r1, r2, with_intervals=False, total_factor=2.0)


def test_unit_weights_equal_no_weights() -> None:
    """Weights of one give the numbers of unweighted data, intervals included."""
    rng = np.random.default_rng(5)
    n = 300
    d = Data("binary", rng.choice(GROUP_NAMES, n).astype(object), rng.integers(0, 2, n),
             rng.integers(0, 2, n), None, None)
    r1, r2 = run(d), run(replace(d, w=np.ones(n)))
    assert_same_groups(r1, r2, intervals=ALL_INTERVALS)
    assert_same_disparities(r1, r2, with_intervals=True)


# ---------------------------------------------------------------------------
# bounds


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_disparity_bounds(kind: str, data: Any) -> None:
    d = data.draw(datasets(kind), label="data")
    r = run(d)
    for m in r.metrics:
        if m == "count":
            continue
        case = REGISTRY[m]
        values = [g.value(m) for g in r.groups if not math.isnan(g.value(m))]
        diff, ratio = r.difference(m), r.ratio(m)
        if not values:
            assert math.isnan(diff)
            continue
        if case.bounds is not None:
            lo, hi = case.bounds
            assert all(lo <= v <= hi for v in values), (m, values)
        # the difference is the spread of the group values, hence never negative
        assert diff == max(values) - min(values), m
        assert diff >= 0, m
        if not case.nonneg:
            assert math.isnan(ratio), (m, ratio)
            continue
        assert 0.0 <= ratio <= 1.0, (m, ratio)
        assert (ratio == 1.0) == (diff == 0.0), (m, ratio, diff, values)
        if max(values) > 0:
            assert ratio == min(values) / max(values), m
        ci_d = r.disparities[m].ci_difference
        if ci_d is not None:
            assert ci_d[0] >= 0, (m, ci_d)
            assert ci_d[0] <= ci_d[1], (m, ci_d)
        ci_r = r.disparities[m].ci_ratio
        if ci_r is not None:
            assert 0.0 <= ci_r[0] <= ci_r[1] <= 1.0, (m, ci_r)




def _contained(r: Any, *, edges: bool | None) -> None:
    """Intervals hold their estimate; ``edges``: only rates at 0 or 1 (True), none (False)."""
    rows = [*(g.metrics for g in r.groups), r.overall]
    for metrics in rows:
        for m, (v, ci) in metrics.items():
            if m == "count" or v is None or ci is None:
                continue
            assert ci[0] <= ci[1], (m, ci)
            case = REGISTRY[m]
            if case.interval == "wilson" and edges is not None and (v in (0.0, 1.0)) != edges:
                continue
            if case.interval in {"wilson", "normal"}:
                assert ci[0] <= v <= ci[1], (m, v, ci)


@pytest.mark.parametrize("kind", ["binary", "score"])
@SETTINGS
@given(data=st.data())
def test_intervals_contain_the_estimate(kind: str, data: Any) -> None:
    """Wilson intervals of rates inside (0, 1), and delta-method intervals, hold the estimate."""
    d = data.draw(datasets(kind), label="data")
    _contained(run(d), edges=False)


@SETTINGS
@given(data=st.data())
def test_intervals_contain_the_estimate_at_the_edges(data: Any) -> None:
    """The same for rates of exactly 0 or 1."""
    d = data.draw(datasets("binary"), label="data")
    _contained(run(d), edges=True)


def _selection_interval(x: int, n: int, level: float) -> tuple[float, float, float]:
    # the group under test (0) and a second group of 10 rows, half selected
    y = np.zeros(n + 10, dtype=int)
    p = np.r_[np.ones(x, dtype=int), np.zeros(n - x, dtype=int), np.ones(5, dtype=int),
              np.zeros(5, dtype=int)]
    g = np.r_[np.zeros(n, dtype=int), np.ones(10, dtype=int)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = assess(y, p, sensitive_features=g, metrics=["selection_rate"], ci=level, n_boot=0,
                   min_group_size=0)
    v, (lo, hi) = r.groups[0].value("selection_rate"), r.groups[0].ci("selection_rate")
    assert v == x / n
    return lo, v, hi


@SETTINGS
@given(
    n=st.integers(2, 800),
    data=st.data(),
    level=st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99]),
)
def test_wilson_contains_an_inner_rate(n: int, data: Any, level: float) -> None:
    x = data.draw(st.integers(1, n - 1), label="x")
    lo, v, hi = _selection_interval(x, n, level)
    assert 0.0 < lo <= v <= hi < 1.0, (x, n, lo, v, hi)


@pytest.mark.parametrize("level", [0.9, 0.95])
def test_wilson_contains_a_rate_of_zero_or_one(level: float) -> None:
    bad = []
    for n in range(1, 60):
        for x in (0, n):
            lo, v, hi = _selection_interval(x, n, level)
            if not 0.0 <= lo <= v <= hi <= 1.0:
                bad.append((x, n, lo, hi))
    assert not bad, bad[:5]


@pytest.mark.parametrize("weighted", [False, True])
def test_r2_of_a_constant_outcome_is_undefined(weighted: bool) -> None:
    """A group whose outcome does not vary has no R² (not a huge negative number)."""
    y = [0.3, 0.3, 0.3, 1.0, 2.0, 3.5]
    p = [0.2, 0.0, 0.3, 1.1, 2.2, 3.0]
    w = [0.5, 1.7, 2.3, 1.0, 1.0, 1.0] if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = assess(y, p, sample_weight=w, sensitive_features=["a", "a", "a", "b", "b", "b"],
                   task="regression", metrics=["r2"], min_group_size=0, n_boot=10)
    assert math.isnan(r.groups[0].value("r2")), r.groups[0].value("r2")


def test_weighted_auc_stays_within_bounds() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = assess([0, 0, 0, 0, 1, 1, 0], y_score=[0, 0, 0, 0, 0.1, 0.25, 0],
                   sample_weight=[0.25, 0.25, 0.25, 0.25, 0.25, 3.0, 0.05],
                   sensitive_features=["a", "b", "a", "a", "a", "a", "a"], metrics=["roc_auc"],
                   task="binary", min_group_size=0, n_boot=10)
    v, ci = r.groups[0].value("roc_auc"), r.groups[0].ci("roc_auc")
    assert v == 1.0  # every positive of the group scores above every negative
    assert ci[0] <= v <= ci[1]

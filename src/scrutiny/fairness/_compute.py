"""From sufficient statistics to metric values, intervals and bootstrap replicates.

Rule: **uncertainty is computed from the per-group statistics, never by
re-reading rows.** Confusion-derived metrics are bootstrapped by resampling
each group's confusion counts from a multinomial distribution, which has
exactly the distribution of a row bootstrap stratified by group, at a cost
independent of the number of rows. Score and regression metrics use
normal-approximation (delta-method) standard errors, and their disparity
intervals a parametric bootstrap over the group estimates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scrutiny.fairness._intervals import percentile_interval, wilson, z_value
from scrutiny.fairness._metrics import (
    BINARY_METRICS,
    Cells,
    spec_for,
    split_class_metric,
)
from scrutiny.fairness._stats import N_BINS, ConfusionStats, RegressionStats, ScoreStats


@dataclass
class MetricTable:
    """Values, intervals and replicates of every metric for the groups of one level."""

    names: list[str]
    count: np.ndarray  # (G,) unweighted rows per group
    value: np.ndarray  # (M, G)
    low: np.ndarray
    high: np.ndarray
    se: np.ndarray
    #: for rates: (successes, trials) effective sizes used by tests; NaN otherwise
    trials: np.ndarray
    reps: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (B, G)

    def row(self, name: str) -> int:
        """Index of a metric."""
        return self.names.index(name)


def _cells_binary(m: np.ndarray) -> Cells:
    # m[..., true, pred] with class 1 = positive
    return Cells(tp=m[..., 1, 1], fp=m[..., 0, 1], fn=m[..., 1, 0], tn=m[..., 0, 0])


def _cells_ovr(m: np.ndarray, c: int) -> Cells:
    tp = m[..., c, c]
    fn = m[..., c, :].sum(axis=-1) - tp
    fp = m[..., :, c].sum(axis=-1) - tp
    tn = m.sum(axis=(-1, -2)) - tp - fn - fp
    return Cells(tp=tp, fp=fp, fn=fn, tn=tn)


def _cells_for(name: str, m: np.ndarray, classes: list) -> Cells:
    _, cls = split_class_metric(name)
    if cls is None:
        return _cells_binary(m)
    idx = [str(c) for c in classes].index(cls)
    return _cells_ovr(m, idx)


def _metric_from_matrix(name: str, m: np.ndarray, classes: list, task: str) -> np.ndarray:
    base, _ = split_class_metric(name)
    if task == "multiclass" and base == "accuracy" and "[" not in name:
        diag = np.trace(m, axis1=-2, axis2=-1)
        total = m.sum(axis=(-1, -2))
        return np.divide(diag, total, out=np.full(np.shape(total), np.nan), where=total != 0)
    return BINARY_METRICS[base].from_cells(_cells_for(name, m, classes))


def _rate_trials(name: str, w: np.ndarray, w2: np.ndarray, classes: list, task: str) -> np.ndarray:
    """Kish effective number of rows in a rate's denominator."""
    base, _ = split_class_metric(name)
    spec = BINARY_METRICS[base]
    if task == "multiclass" and base == "accuracy" and "[" not in name:
        tw = w.sum(axis=(-1, -2))
        tw2 = w2.sum(axis=(-1, -2))
    else:
        tw = _cells_for(name, w, classes).total(spec.denominator)
        tw2 = _cells_for(name, w2, classes).total(spec.denominator)
    return np.divide(tw * tw, tw2, out=np.zeros_like(tw), where=tw2 > 0)


def cell_shares(flat_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each group's cell proportions (rows) and weight totals, for multinomial draws.

    Shares are quantised to multiples of 2**-40: sums of weights depend on row
    order in their last bits, and the draws must not.
    """
    wsum = flat_w.sum(axis=1)
    pvals = np.divide(flat_w, wsum[:, None], out=np.zeros_like(flat_w), where=wsum[:, None] > 0)
    pvals[wsum <= 0, 0] = 1.0
    pvals = np.round(pvals * 2.0**40) / 2.0**40
    pvals /= pvals.sum(axis=1, keepdims=True)
    return pvals, wsum


def bootstrap_confusion(
    stats: ConfusionStats, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Replicate per-group confusion matrices: shape (B, G, K, K), weighted scale."""
    g, k, _ = stats.n.shape
    n = np.rint(stats.n.sum(axis=(1, 2))).astype(np.int64)
    pvals, wsum = cell_shares(stats.w.reshape(g, k * k))
    draws = rng.multinomial(n, pvals, size=(n_boot, g)).astype(np.float64)
    scale = np.divide(wsum, n, out=np.zeros_like(wsum), where=n > 0)
    return (draws * scale[None, :, None]).reshape(n_boot, g, k, k)


def confusion_table(
    stats: ConfusionStats,
    names: list[str],
    classes: list,
    task: str,
    *,
    level: float | None,
    n_boot: int,
    rng: np.random.Generator,
    boot: np.ndarray | None = None,
) -> tuple[MetricTable, np.ndarray | None]:
    """Metrics for confusion-derived names; also returns the bootstrap matrices.

    ``boot`` passes replicate matrices drawn for a finer level and summed into
    this one, so every level reads the same bootstrap samples.
    """
    count = stats.group_count
    g = len(count)
    m = len(names)
    value = np.full((m, g), np.nan)
    low = np.full((m, g), np.nan)
    high = np.full((m, g), np.nan)
    se = np.full((m, g), np.nan)
    trials = np.full((m, g), np.nan)
    if boot is None and level is not None and n_boot > 0:
        boot = bootstrap_confusion(stats, n_boot, rng)
    if level is None:
        boot = None
    reps: dict[str, np.ndarray] = {}
    for i, name in enumerate(names):
        if name == "count":
            value[i] = count
            continue
        value[i] = _metric_from_matrix(name, stats.w, classes, task)
        base, _ = split_class_metric(name)
        is_rate = BINARY_METRICS[base].is_rate
        if is_rate:
            trials[i] = _rate_trials(name, stats.w, stats.w2, classes, task)
            with np.errstate(invalid="ignore", divide="ignore"):
                se[i] = np.sqrt(value[i] * (1 - value[i]) / trials[i])
        if level is None:
            continue
        if boot is not None:
            reps[name] = _metric_from_matrix(name, boot, classes, task)
            if not is_rate:
                with np.errstate(invalid="ignore"):
                    se[i] = np.nanstd(np.where(np.isfinite(reps[name]), reps[name], np.nan), axis=0)
        if is_rate:
            low[i], high[i] = wilson(value[i], trials[i], level)
        elif boot is not None:
            low[i], high[i] = percentile_interval(reps[name], level)
        low[i] = np.where(np.isfinite(value[i]), low[i], np.nan)
        high[i] = np.where(np.isfinite(value[i]), high[i], np.nan)
    return MetricTable(names, count, value, low, high, se, trials, reps), boot


def _normal_table(
    names: list[str],
    count: np.ndarray,
    values: dict[str, np.ndarray],
    ses: dict[str, np.ndarray],
    *,
    level: float | None,
    n_boot: int,
    rng: np.random.Generator,
    extra_reps: dict[str, np.ndarray] | None = None,
) -> MetricTable:
    g = len(count)
    m = len(names)
    value = np.full((m, g), np.nan)
    low = np.full((m, g), np.nan)
    high = np.full((m, g), np.nan)
    se = np.full((m, g), np.nan)
    reps: dict[str, np.ndarray] = {}
    z = z_value(level) if level is not None else 0.0
    for i, name in enumerate(names):
        if name == "count":
            value[i] = count
            continue
        value[i] = values[name]
        se[i] = ses[name]
        if level is None:
            continue
        spec = spec_for(name)
        lo_b, hi_b = spec.bounds if spec.bounds is not None else (-np.inf, np.inf)
        if extra_reps and name in extra_reps:
            reps[name] = extra_reps[name]
            low[i], high[i] = percentile_interval(reps[name], level)
            continue
        if name == "rmse":
            mse_v, mse_se = values["_mse"], ses["_mse"]
            low[i] = np.sqrt(np.clip(mse_v - z * mse_se, 0.0, None))
            high[i] = np.sqrt(np.clip(mse_v + z * mse_se, 0.0, None))
            if n_boot:
                draw = mse_v + mse_se * rng.standard_normal((n_boot, g))
                reps[name] = np.sqrt(np.clip(draw, 0.0, None))
            continue
        low[i] = np.clip(value[i] - z * se[i], lo_b, hi_b)
        high[i] = np.clip(value[i] + z * se[i], lo_b, hi_b)
        if n_boot:
            draw = value[i] + se[i] * rng.standard_normal((n_boot, g))
            reps[name] = np.clip(draw, lo_b, hi_b)
    nan = np.full((m, g), np.nan)
    return MetricTable(names, count, value, low, high, se, nan, reps)


def regression_table(
    stats: RegressionStats,
    names: list[str],
    *,
    level: float | None,
    n_boot: int,
    rng: np.random.Generator,
) -> MetricTable:
    """Regression metrics with delta-method standard errors."""
    s = stats.sums
    w = s["w"]
    with np.errstate(invalid="ignore", divide="ignore"):
        neff = np.where(s["w2"] > 0, w * w / s["w2"], 0.0)

        def mean(key: str) -> np.ndarray:
            return np.where(w > 0, s[key] / w, np.nan)

        def se_of(m1: np.ndarray, m2: np.ndarray) -> np.ndarray:
            return np.sqrt(np.clip(m2 - m1 * m1, 0.0, None) / neff)

        mp, mpp = mean("p"), mean("pp")
        ma = mean("a")
        mse = mean("r2")
        r4 = mean("r4")
        ybar = mean("y")
        ey2, ey3, ey4 = mean("yy"), mean("y3"), mean("y4")
        var_y = ey2 - ybar * ybar
        # a variance lost in rounding (constant outcome) leaves R² undefined
        var_y = np.where(var_y > 1e-12 * ey2, var_y, 0.0)
        r2 = np.where(var_y > 0, 1.0 - mse / var_y, np.nan)
        # delta method for 1 - a/b, a = E[r^2], b = E[(y - ybar)^2]
        a, b = mse, var_y
        var_a = r4 - a * a
        ed4 = ey4 - 4 * ybar * ey3 + 6 * ybar**2 * ey2 - 3 * ybar**4
        var_b = ed4 - b * b
        er2d2 = mean("r2y2") - 2 * ybar * mean("r2y") + ybar * ybar * a
        cov_ab = er2d2 - a * b
        var_ratio = (var_a / b**2 - 2 * a * cov_ab / b**3 + a * a * var_b / b**4) / neff
        values = {
            "mean_prediction": mp,
            "mae": ma,
            "mse": mse,
            "rmse": np.sqrt(mse),
            "r2": r2,
            "_mse": mse,
        }
        ses = {
            "mean_prediction": se_of(mp, mpp),
            "mae": se_of(ma, mse),
            "mse": se_of(mse, r4),
            "r2": np.sqrt(np.clip(var_ratio, 0.0, None)),
        }
        ses["rmse"] = np.where(mse > 0, ses["mse"] / (2 * np.sqrt(mse)), np.nan)
        ses["_mse"] = ses["mse"]
    return _normal_table(
        names, stats.group_count, values, ses, level=level, n_boot=n_boot, rng=rng
    )


def _ece_from_cells(cal_w: np.ndarray, cal_ws: np.ndarray) -> np.ndarray:
    """ECE from calibration cells ``[..., group, bin, class]``."""
    wb = cal_w.sum(axis=-1)
    wy = cal_w[..., 1]
    ws = cal_ws.sum(axis=-1)
    total = wb.sum(axis=-1)
    gap = np.abs(np.divide(wy - ws, wb, out=np.zeros_like(wb), where=wb > 0))
    return np.divide((wb * gap).sum(axis=-1), total, out=np.full(total.shape, np.nan),
                     where=total > 0)


def score_table(
    stats: ScoreStats,
    names: list[str],
    count: np.ndarray,
    *,
    level: float | None,
    n_boot: int,
    rng: np.random.Generator,
) -> MetricTable:
    """AUC (Hanley-McNeil), Brier (normal) and ECE (cell bootstrap)."""
    auc = stats.auc
    with np.errstate(invalid="ignore", divide="ignore"):
        q1 = auc / (2 - auc)
        q2 = 2 * auc * auc / (1 + auc)
        n1, n2 = stats.n_pos, stats.n_neg
        var_auc = (auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n2 - 1) * (q2 - auc**2)) / (
            n1 * n2
        )
        brier = np.where(stats.brier_w > 0, stats.brier_s1 / stats.brier_w, np.nan)
        b2 = np.where(stats.brier_w > 0, stats.brier_s2 / stats.brier_w, np.nan)
        brier_se = np.sqrt(np.clip(b2 - brier * brier, 0, None) / stats.brier_neff)
    ece = _ece_from_cells(stats.cal_w, stats.cal_ws)
    values = {"roc_auc": auc, "brier": brier, "ece": ece}
    ses = {"roc_auc": np.sqrt(np.clip(var_auc, 0, None)), "brier": brier_se,
           "ece": np.full(len(count), np.nan)}
    extra: dict[str, np.ndarray] = {}
    if "ece" in names and level is not None and n_boot:
        g = stats.cal_n.shape[0]
        n = np.rint(stats.cal_n.sum(axis=(1, 2))).astype(np.int64)
        flat_w = stats.cal_w.reshape(g, -1)
        pv, wsum = cell_shares(flat_w)
        draws = rng.multinomial(n, pv, size=(n_boot, g)).astype(np.float64)
        mean_s = np.divide(
            stats.cal_ws.reshape(g, -1), flat_w, out=np.zeros_like(flat_w), where=flat_w > 0
        )
        unit = np.divide(wsum, n, out=np.zeros_like(wsum), where=n > 0)
        rw = draws * unit[None, :, None]
        shape = (n_boot, g, N_BINS, 2)
        extra["ece"] = _ece_from_cells(rw.reshape(shape), (rw * mean_s[None]).reshape(shape))
        ses["ece"] = np.nanstd(extra["ece"], axis=0)
    return _normal_table(
        names, count, values, ses, level=level, n_boot=n_boot, rng=rng, extra_reps=extra
    )


def stack(tables: list[MetricTable], order: list[str]) -> MetricTable:
    """Merge tables of disjoint metric names into one, in the order given."""
    by_name = {}
    for t in tables:
        for i, n in enumerate(t.names):
            by_name[n] = (t, i)
    count = tables[0].count
    rows = [by_name[n] for n in order]
    reps = {}
    for t in tables:
        reps.update(t.reps)
    return MetricTable(
        list(order),
        count,
        np.array([t.value[i] for t, i in rows]).reshape(len(order), -1),
        np.array([t.low[i] for t, i in rows]).reshape(len(order), -1),
        np.array([t.high[i] for t, i in rows]).reshape(len(order), -1),
        np.array([t.se[i] for t, i in rows]).reshape(len(order), -1),
        np.array([t.trials[i] for t, i in rows]).reshape(len(order), -1),
        reps,
    )

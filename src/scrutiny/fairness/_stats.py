"""Per-group sufficient statistics: one pass over the rows, then only small tables.

Rule: **rows are read once per grouping level; everything after that works on
tables with one row per group.** Classification keeps the (weighted) confusion
matrix per group, regression keeps weighted moment sums, scores keep the
per-group score distribution summaries (AUC needs one sort).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scrutiny.fairness._inputs import Features

N_BINS = 10


@dataclass
class Level:
    """One way of grouping rows: the intersection of some sensitive features.

    The intersection level holds one group code per row. Coarser levels (each
    feature alone, the overall pool) hold a ``mapping`` from the intersection's
    groups to theirs: their statistics are sums of the intersection's, so rows
    are only read again where a metric needs them (ROC AUC).
    """

    name: str
    feature_names: list[str]
    codes: np.ndarray | None  # per row, 0..G-1 (computed on demand for coarser levels)
    keys: list[tuple[Any, ...]]  # one tuple of category values per group
    empty: list[tuple[Any, ...]]  # combinations of categories with no rows
    n_possible: int
    key_codes: np.ndarray | None = None  # (G, n_features) category codes of each group
    parent: Level | None = None
    mapping: np.ndarray | None = None  # parent group -> this level's group
    dense: np.ndarray | None = None  # per row, index into all possible combinations
    remap: np.ndarray | None = None  # combination -> group (for ``dense``)

    @property
    def n_groups(self) -> int:
        """Number of non-empty groups."""
        return len(self.keys)

    def row_codes(self) -> np.ndarray:
        """Group code of every row (derived from the parent level when needed)."""
        if self.codes is None:
            if self.dense is not None and self.remap is not None:
                self.codes = self.remap[self.dense]
            else:
                if self.parent is None or self.mapping is None:  # pragma: no cover
                    msg = f"level {self.name!r} has neither row codes nor a parent level"
                    raise RuntimeError(msg)
                self.codes = self.mapping[self.parent.row_codes()]
        return self.codes


def combine_codes(features: Features, which: list[int]) -> tuple[np.ndarray, list[int], int]:
    """One code per row over all possible combinations of the chosen features."""
    sizes = [len(features.categories[i]) for i in which]
    n_possible = int(np.prod(sizes, dtype=np.float64))
    # the smallest integer type that holds every combination times the confusion cells
    combined = features.codes[which[0]].astype(index_dtype(n_possible * 256))
    for i, size in zip(which[1:], sizes[1:], strict=True):
        combined *= size
        combined += features.codes[i]
    return combined, sizes, n_possible


def make_level(
    features: Features,
    which: list[int],
    name: str,
    *,
    combined: np.ndarray | None = None,
    present: np.ndarray | None = None,
) -> Level:
    """Group rows by the combination of the chosen features' values.

    ``combined`` and ``present`` may be passed when the caller already knows
    them (the engine learns which combinations occur from its first bincount).
    """
    if combined is None:
        combined, sizes, n_possible = combine_codes(features, which)
    else:
        sizes = [len(features.categories[i]) for i in which]
        n_possible = int(np.prod(sizes, dtype=np.float64))
    names = [features.names[i] for i in which]
    if present is None and n_possible > 1 << 24:
        # too many combinations for a dense table: hash the observed ones instead
        import pandas as pd

        codes, observed = pd.factorize(combined, sort=True)
        key_codes = np.stack(np.unravel_index(observed, sizes), axis=1)
        keys = _keys(features, which, key_codes)
        return Level(name, names, np.asarray(codes, dtype=np.intp), keys, [], n_possible,
                     key_codes)
    if present is None:
        present = np.bincount(combined, minlength=n_possible) > 0
    observed = np.flatnonzero(present)
    key_codes = (
        np.stack(np.unravel_index(observed, sizes), axis=1)
        if len(observed)
        else np.zeros((0, len(which)), dtype=np.intp)
    )
    keys = _keys(features, which, key_codes)
    empty: list[tuple[Any, ...]] = []
    if len(observed) < n_possible <= 100_000:
        # leave out values that occur nowhere (gaps in pre-encoded integer codes)
        grid = present.reshape(sizes)
        axes = range(len(sizes))
        real = [grid.any(axis=tuple(a for a in axes if a != k)) for k in axes]
        missing = np.stack(np.unravel_index(np.flatnonzero(~present), sizes), axis=1)
        ok = np.all([real[k][missing[:, k]] for k in axes], axis=0)
        empty = _keys(features, which, missing[ok])
    if len(observed) == n_possible:
        return Level(name, names, combined, keys, empty, n_possible, key_codes)
    remap = np.cumsum(present) - 1
    return Level(name, names, None, keys, empty, n_possible, key_codes, dense=combined,
                 remap=remap)


def _keys(features: Features, which: list[int], key_codes: np.ndarray) -> list[tuple[Any, ...]]:
    cats = [features.categories[i] for i in which]
    return [tuple(c[v] for c, v in zip(cats, row, strict=True)) for row in key_codes.tolist()]


def coarser_level(parent: Level, features: Features, which: int | None, name: str) -> Level:
    """The level of one feature alone (``which``) or of all rows (``None``), from ``parent``."""
    g = parent.n_groups
    if which is None:
        return Level(name, [], None, [()], [], 1, np.zeros((1, 0), dtype=np.intp), parent,
                     np.zeros(g, dtype=np.intp))
    pos = parent.feature_names.index(features.names[which])
    cats = parent.key_codes[:, pos]  # type: ignore[index]
    present = np.unique(cats)
    mapping = np.searchsorted(present, cats).astype(np.intp)
    keys = [(features.categories[which][c],) for c in present.tolist()]
    # every value of a single feature that occurs in the data has rows: nothing is empty
    return Level(name, [features.names[which]], None, keys, [], len(keys), present[:, None],
                 parent, mapping)


def _collapse(values: np.ndarray, mapping: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.zeros((n_groups, *values.shape[1:]), dtype=np.float64)
    np.add.at(out, mapping, values)
    return out


def index_dtype(size: int) -> type[np.signedinteger[Any]]:
    """Smallest signed integer type whose values reach ``size`` (small types are faster)."""
    if size < 1 << 15:
        return np.int16
    if size < 1 << 31:
        return np.int32
    return np.intp


def _bincount(idx: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    return np.bincount(idx, weights=weights, minlength=size).astype(np.float64, copy=False)


@dataclass
class ConfusionStats:
    """Per-group confusion matrices: ``[group, true class, predicted class]``."""

    n: np.ndarray  # row counts
    w: np.ndarray  # sums of weights
    w2: np.ndarray  # sums of squared weights

    @classmethod
    def compute(
        cls,
        codes: np.ndarray,
        n_groups: int,
        n_classes: int,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        *,
        weight: np.ndarray | None,
        counts: np.ndarray | None,
        weight_sq: np.ndarray | None,
    ) -> ConfusionStats:
        """Count one pass of rows into per-group confusion matrices."""
        k2 = n_classes * n_classes
        size = n_groups * k2
        # cell = true * K + pred, in int8 when it fits; index = group * K^2 + cell
        cell = y_true.astype(np.int8 if k2 <= 127 else np.intp) * n_classes
        cell += y_pred
        idx = codes.astype(index_dtype(size), copy=False) * k2
        idx += cell
        shape = (n_groups, n_classes, n_classes)
        n = _bincount(idx, counts, size).reshape(shape)
        if weight is None:
            w = n
            w2 = n
        else:
            w = _bincount(idx, weight, size).reshape(shape)
            w2 = _bincount(idx, weight_sq if weight_sq is not None else weight * weight, size)
            w2 = w2.reshape(shape)
        return cls(n, w, w2)

    def collapse(self, mapping: np.ndarray, n_groups: int) -> ConfusionStats:
        """Sum groups into coarser groups (``mapping``: group -> coarser group)."""
        n = _collapse(self.n, mapping, n_groups)
        if self.w is self.n:
            return ConfusionStats(n, n, n)
        return ConfusionStats(
            n, _collapse(self.w, mapping, n_groups), _collapse(self.w2, mapping, n_groups)
        )

    def select(self, groups: np.ndarray) -> ConfusionStats:
        """Keep only the given groups."""
        if self.w is self.n:
            n = self.n[groups]
            return ConfusionStats(n, n, n)
        return ConfusionStats(self.n[groups], self.w[groups], self.w2[groups])

    @property
    def group_count(self) -> np.ndarray:
        """Rows per group."""
        return self.n.sum(axis=(1, 2))


@dataclass
class RegressionStats:
    """Per-group weighted moment sums, ``y`` centred by a per-group constant.

    The moments of ``y_true`` are kept about ``center`` (one value per group).
    With rows at hand each group is centred at its own weighted mean of
    ``y_true``; pre-aggregated sums from a lazy engine come centred at the
    global ``shift``. Centring per group matters for R²: a variance obtained as
    ``E[(y - c)^2] - E[y - c]^2`` loses about ``((mean - c) / sd)^2`` units in
    the last place, so a single global constant ruins it for groups that lie
    far from the others (a group 10^4 standard deviations away loses 8
    digits). :meth:`collapse` moves the moments to the coarser group's mean
    exactly (binomial expansion) before adding them.
    """

    sums: dict[str, np.ndarray]
    shift: float
    center: np.ndarray | None = None  # per group; None: ``shift`` for every group

    NAMES = (
        "n", "w", "w2", "y", "yy", "y3", "y4", "p", "pp", "a", "r2", "r4", "r2y", "r2y2",
    )

    @staticmethod
    def row_moments(
        y_true: np.ndarray, y_pred: np.ndarray, weight: np.ndarray | None,
        shift: float | np.ndarray,
    ) -> dict[str, np.ndarray | None]:
        """The per-row quantities whose (weighted) sums are kept (``shift``: per row or one)."""
        y = y_true - shift
        r = y_true - y_pred
        r2 = r * r
        yy = y * y
        w = weight
        def wt(x: np.ndarray) -> np.ndarray:
            return x if w is None else x * w
        return {
            "y": wt(y), "yy": wt(yy), "y3": wt(yy * y), "y4": wt(yy * yy),
            "p": wt(y_pred), "pp": wt(y_pred * y_pred), "a": wt(np.abs(r)), "r2": wt(r2),
            "r4": wt(r2 * r2), "r2y": wt(r2 * y), "r2y2": wt(r2 * yy),
        }

    @classmethod
    def compute(
        cls,
        codes: np.ndarray,
        n_groups: int,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        *,
        weight: np.ndarray | None,
        shift: float,
        counts: np.ndarray | None = None,
        weight_sq: np.ndarray | None = None,
    ) -> RegressionStats:
        """Sum the moments per group, each group centred at its own weighted mean.

        Rows may be pre-aggregated (``counts`` rows with constant outcome and
        prediction, ``weight`` their weight sum, ``weight_sq`` their squared-weight sum).
        """
        n = _bincount(codes, counts, n_groups)
        w = n if weight is None else _bincount(codes, weight, n_groups)
        y0 = y_true - shift
        ysum = _bincount(codes, y0 if weight is None else y0 * weight, n_groups)
        center = shift + np.divide(ysum, w, out=np.zeros(n_groups), where=w > 0)
        # a group whose (positively weighted) outcomes are all equal is centred exactly on
        # that value: its centred moments, hence its variance, are then exactly zero (and R²
        # undefined) instead of a rounding residue
        member = np.zeros(n_groups)
        if weight is None:
            member[codes] = y_true
            spread = _bincount(codes, np.abs(y_true - member[codes]), n_groups)
        else:
            pos = weight > 0
            member[codes[pos]] = y_true[pos]
            spread = _bincount(codes, weight * np.abs(y_true - member[codes]), n_groups)
        center = np.where((spread == 0) & (w > 0), member, center)
        sums = {
            k: _bincount(codes, v, n_groups)
            for k, v in cls.row_moments(y_true, y_pred, weight, center[codes]).items()
        }
        sums["n"] = n
        sums["w"] = w
        if weight is None:
            sums["w2"] = n
        else:
            sq = weight_sq if weight_sq is not None else weight * weight
            sums["w2"] = _bincount(codes, sq, n_groups)
        return cls(sums, shift, center)

    @classmethod
    def from_sums(
        cls, codes: np.ndarray, n_groups: int, table: dict[str, np.ndarray], shift: float
    ) -> RegressionStats:
        """Sum pre-aggregated moment rows (from a lazy engine) per group."""
        return cls({k: _bincount(codes, table[k], n_groups) for k in cls.NAMES}, shift)

    def centers(self) -> np.ndarray:
        """The centre of every group's ``y`` moments."""
        if self.center is None:
            return np.full(len(self.sums["n"]), self.shift)
        return self.center

    def recentred(self, new_center: np.ndarray) -> RegressionStats:
        """The same statistics with ``y`` moments about ``new_center`` (exact algebra)."""
        s = self.sums
        d = self.centers() - new_center  # y - new = (y - old) + d
        d2 = d * d
        s0, s1, s2, s3 = s["w"], s["y"], s["yy"], s["y3"]
        out = dict(s)
        out["y"] = s1 + d * s0
        out["yy"] = s2 + 2 * d * s1 + d2 * s0
        out["y3"] = s3 + 3 * d * s2 + 3 * d2 * s1 + d2 * d * s0
        out["y4"] = s["y4"] + 4 * d * s3 + 6 * d2 * s2 + 4 * d2 * d * s1 + d2 * d2 * s0
        out["r2y"] = s["r2y"] + d * s["r2"]
        out["r2y2"] = s["r2y2"] + 2 * d * s["r2y"] + d2 * s["r2"]
        return RegressionStats(out, self.shift, np.asarray(new_center, dtype=np.float64))

    def collapse(self, mapping: np.ndarray, n_groups: int) -> RegressionStats:
        """Sum groups into coarser groups (``mapping``: group -> coarser group).

        Each coarser group is centred at its own weighted mean of ``y_true``.
        """
        s = self.sums
        w = s["w"]
        c = self.centers()
        mean = c + np.divide(s["y"], w, out=np.zeros_like(w), where=w > 0)
        wsum = _collapse(w, mapping, n_groups)
        offset = np.divide(_collapse(w * (mean - self.shift), mapping, n_groups), wsum,
                           out=np.zeros(n_groups), where=wsum > 0)
        new = self.shift + offset
        # where every (weighted) member group has the same centre, keep it exactly: constant
        # groups then stay exactly constant when pooled
        used = w > 0
        lo = np.full(n_groups, np.inf)
        hi = np.full(n_groups, -np.inf)
        np.minimum.at(lo, mapping[used], c[used])
        np.maximum.at(hi, mapping[used], c[used])
        new = np.where(lo == hi, lo, new)
        moved = self.recentred(new[mapping])
        return RegressionStats(
            {k: _collapse(v, mapping, n_groups) for k, v in moved.sums.items()}, self.shift, new
        )

    def select(self, groups: np.ndarray) -> RegressionStats:
        """Keep only the given groups."""
        return RegressionStats(
            {k: v[groups] for k, v in self.sums.items()}, self.shift,
            None if self.center is None else self.center[groups],
        )

    @property
    def group_count(self) -> np.ndarray:
        """Rows per group."""
        return self.sums["n"]


@dataclass
class ScoreStats:
    """Per-group score summaries for binary outcomes."""

    auc: np.ndarray
    n_pos: np.ndarray  # effective numbers of positives / negatives
    n_neg: np.ndarray
    brier_w: np.ndarray  # sum of weights
    brier_s1: np.ndarray  # sum of w (s - y)^2
    brier_s2: np.ndarray  # sum of w (s - y)^4
    brier_neff: np.ndarray
    # calibration cells [group, bin, class]: counts, weights, weighted score sums
    cal_n: np.ndarray
    cal_w: np.ndarray
    cal_ws: np.ndarray
    probabilities: bool

    @classmethod
    def compute(
        cls,
        codes: np.ndarray,
        n_groups: int,
        y: np.ndarray,
        s: np.ndarray,
        *,
        weight: np.ndarray | None,
        counts: np.ndarray | None,
        weight_sq: np.ndarray | None,
        order: np.ndarray | None = None,
    ) -> ScoreStats:
        """One sort for AUC, bincounts for the rest."""
        n_rows = len(y)
        w = np.ones(n_rows) if weight is None else weight
        c = np.ones(n_rows) if counts is None else counts
        w2 = (w if weight is None else w * w) if weight_sq is None else weight_sq
        yb = y.astype(np.float64)
        pos = y.astype(bool)
        auc, n_pos, n_neg = _auc_by_group(codes, n_groups, pos, s, w, w2, order)
        err = s - yb
        e2 = err * err
        bw = _bincount(codes, w, n_groups)
        s1 = _bincount(codes, w * e2, n_groups)
        s2 = _bincount(codes, w * e2 * e2, n_groups)
        bw2 = _bincount(codes, w2, n_groups)
        neff = np.divide(bw * bw, bw2, out=np.zeros_like(bw), where=bw2 > 0)
        probabilities = bool(s.min() >= 0.0 and s.max() <= 1.0)
        bins = np.clip((s * N_BINS).astype(np.intp), 0, N_BINS - 1)
        idx = (codes.astype(np.intp) * N_BINS + bins) * 2 + pos
        size = n_groups * N_BINS * 2
        shape = (n_groups, N_BINS, 2)
        cal_n = _bincount(idx, c, size).reshape(shape)
        cal_w = _bincount(idx, w, size).reshape(shape)
        cal_ws = _bincount(idx, w * s, size).reshape(shape)
        return cls(auc, n_pos, n_neg, bw, s1, s2, neff, cal_n, cal_w, cal_ws, probabilities)


def score_order(s: np.ndarray) -> np.ndarray:
    """The sort order of the scores, shared by every grouping level."""
    return np.argsort(s, kind="stable")


def _auc_by_group(
    codes: np.ndarray,
    n_groups: int,
    pos: np.ndarray,
    s: np.ndarray,
    w: np.ndarray,
    w2: np.ndarray,
    order: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted Mann-Whitney AUC per group (ties count one half).

    Equals the trapezoidal area under the weighted ROC curve, i.e. scikit-learn's
    ``roc_auc_score`` with ``sample_weight``.
    """
    if order is None:
        order = score_order(s)
    g_sorted = codes[order]
    o2 = np.argsort(g_sorted, kind="stable")
    idx = order[o2]  # rows sorted by (group, score)
    g = codes[idx]
    sc = s[idx]
    p = pos[idx]
    wn = np.where(p, 0.0, w[idx])
    wp = np.where(p, w[idx], 0.0)
    # blocks of equal (group, score)
    new_block = np.empty(len(idx), dtype=bool)
    if len(idx):
        new_block[0] = True
        new_block[1:] = (g[1:] != g[:-1]) | (sc[1:] != sc[:-1])
    block = np.cumsum(new_block) - 1
    n_blocks = int(block[-1]) + 1 if len(idx) else 0
    bneg = np.bincount(block, weights=wn, minlength=n_blocks)
    bpos = np.bincount(block, weights=wp, minlength=n_blocks)
    bgroup = g[new_block]
    # negatives strictly below each block, within its group
    cum_neg = np.cumsum(bneg) - bneg
    first_block = np.flatnonzero(np.r_[True, bgroup[1:] != bgroup[:-1]]) if n_blocks else []
    group_start_vals = cum_neg[first_block] if n_blocks else np.array([])
    start_of = np.zeros(n_blocks)
    if n_blocks:
        seg = np.cumsum(np.r_[True, bgroup[1:] != bgroup[:-1]]) - 1
        start_of = group_start_vals[seg]
    below = cum_neg - start_of
    contrib = bpos * (below + 0.5 * bneg)
    num = np.bincount(bgroup, weights=contrib, minlength=n_groups)
    wpos = np.bincount(codes, weights=np.where(pos, w, 0.0), minlength=n_groups)
    wneg = np.bincount(codes, weights=np.where(pos, 0.0, w), minlength=n_groups)
    w2pos = np.bincount(codes, weights=np.where(pos, w2, 0.0), minlength=n_groups)
    w2neg = np.bincount(codes, weights=np.where(pos, 0.0, w2), minlength=n_groups)
    den = wpos * wneg
    auc = np.full(n_groups, np.nan)
    np.divide(num, den, out=auc, where=den > 0)
    np.clip(auc, 0.0, 1.0, out=auc)  # running sums can overshoot by an ulp
    n_pos = np.divide(wpos * wpos, w2pos, out=np.zeros(n_groups), where=w2pos > 0)
    n_neg = np.divide(wneg * wneg, w2neg, out=np.zeros(n_groups), where=w2neg > 0)
    return auc, n_pos, n_neg

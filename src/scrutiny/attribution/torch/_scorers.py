"""Scores from stored features, streamed in blocks (never the full matrix unless asked).

Every method here is a sum over ensemble members (models or checkpoints) of
inner products between a per-query weight vector and per-train features:

.. code-block:: text

    s[q, i] = c_i * sum_m (w_{m,q} . f_{m,i}) * d_{m,i}

* TRAK: ``f = P^T grad(margin)``, ``w = f_q (F^T F + lambda I)^{-1} / M``,
  ``d = 1`` and ``c_i`` = the out-to-loss weight ``1 - p_i`` averaged over members;
* TracIn: ``f, w`` = projected loss gradients, ``w`` times the member's learning rate;
* grad_dot: as TracIn with weight ``1 / M``;
* grad_cos: ``w = f_q / |f_q| / M``, ``d = 1 / |f_i|``.

Models made only of ``nn.Linear`` layers keep exact gradients in factored form
(:class:`~scrutiny.attribution.torch._gradients.LinearFactors`): then
:class:`FactoredScorer` computes ``<g_q, g_i>`` as a sum over layers of
``(delta_q . delta_i) (a_q . a_i)``, with the same query and train weights.

:class:`LinearScorer` evaluates blocks of ``(query chunk, train chunk)``; the
full matrix (:meth:`LinearScorer.full`) is built only on request, otherwise a
running top-k per query is kept (:meth:`LinearScorer.topk`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

#: eigenvalues below this fraction of the largest one are treated as zero (pseudo-inverse)
RCOND = 1e-10


def gram(features: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """``F^T F`` in float64, accumulated over row chunks of a (memmapped) array."""
    k = features.shape[1]
    out = np.zeros((k, k), dtype=np.float64)
    for start in range(0, features.shape[0], chunk):
        block = np.asarray(features[start:start + chunk], dtype=np.float64)
        out += block.T @ block
    return out


def absolute_damping(damping: float, trace: float, n: int, k: int) -> float:
    """``lambda = damping * trace(F^T F) / min(n, k)``: relative to the mean non-zero eigenvalue.

    ``F^T F`` (k x k) built from ``n`` rows has at most ``min(n, k)`` non-zero
    eigenvalues; their mean is ``trace / min(n, k)`` (the mean eigenvalue when
    ``n >= k``). Dividing by ``k`` instead would shrink the damping by ``n / k``
    whenever ``n < k``, and the best ``damping`` would then depend on ``proj_dim``
    (``benchmarks/README.md``, TRAK damping sweep).
    """
    return float(damping) * float(trace) / max(1, min(int(n), int(k)))


def xtx_inverse(
    features: np.ndarray, damping: float = 0.0, chunk: int = 8192
) -> tuple[np.ndarray, float]:
    """``(F^T F + lambda I)^{-1}`` (pseudo-inverse where singular) and the absolute ``lambda``.

    Parameters
    ----------
    features : ndarray of shape (n, k)
        Train features of one model.
    damping : float, default=0.0
        ``lambda`` relative to the mean non-zero eigenvalue ``trace(F^T F) / min(n, k)``
        (:func:`absolute_damping`).
    chunk : int, default=8192
        Rows read at a time.

    Returns
    -------
    inverse : ndarray of shape (k, k), float64
    lambda_abs : float
    """
    xtx = gram(features, chunk)
    lam = absolute_damping(damping, float(np.trace(xtx)), features.shape[0], xtx.shape[0])
    if lam > 0:
        inv = _spd_inverse(xtx + lam * np.eye(xtx.shape[0]))
        if inv is not None:
            return inv, lam
    w, v = np.linalg.eigh(xtx)
    w = w + lam
    cut = RCOND * max(float(w.max(initial=0.0)), np.finfo(np.float64).tiny)
    inv_w = np.where(w > cut, 1.0 / np.where(w > cut, w, 1.0), 0.0)
    return (v * inv_w) @ v.T, lam


def kernel_inverse(features: np.ndarray, damping: float) -> tuple[np.ndarray, float]:
    """``(F F^T + lambda I)^{-1}`` (n x n) and ``lambda`` (:func:`absolute_damping`).

    The dual form of :func:`xtx_inverse` for ``n < k``, with the same ``lambda``:
    ``(F^T F + lambda I)^{-1} = (I - F^T (F F^T + lambda I)^{-1} F) / lambda``.
    Needs ``damping > 0``.
    """
    f = np.asarray(features, dtype=np.float64)
    kern = f @ f.T
    lam = absolute_damping(damping, float(np.trace(kern)), f.shape[0], f.shape[1])
    inv = _spd_inverse(kern + lam * np.eye(kern.shape[0])) if lam > 0 else None
    if inv is None:  # pragma: no cover - lambda > 0 makes it positive definite
        inv = np.linalg.pinv(kern + lam * np.eye(kern.shape[0]))
    return inv, lam


def dual_weights(
    features: np.ndarray, query_features: np.ndarray, kern_inv: np.ndarray, lam: float
) -> np.ndarray:
    """``q (F^T F + lambda I)^{-1}`` through the n x n dual: ``(q - (q F^T) K^-1 F) / lambda``."""
    f = np.asarray(features, dtype=np.float64)
    q = np.asarray(query_features, dtype=np.float64)
    return (q - ((q @ f.T) @ kern_inv) @ f) / lam


def _spd_inverse(a: np.ndarray) -> np.ndarray | None:
    """Inverse of a symmetric positive-definite matrix by Cholesky (None if not SPD)."""
    try:
        from scipy.linalg import lapack
    except ImportError:  # pragma: no cover - scipy comes with scikit-learn
        try:
            return np.linalg.inv(a)
        except np.linalg.LinAlgError:
            return None
    chol, info = lapack.dpotrf(a, lower=False)
    if info != 0:
        return None
    inv, info = lapack.dpotri(chol, lower=False)
    if info != 0:  # pragma: no cover - dpotrf succeeded
        return None
    lower = np.tril_indices(inv.shape[0], -1)
    inv[lower] = inv.T[lower]  # dpotri fills the upper triangle only
    return inv


@runtime_checkable
class Scorer(Protocol):
    """Computes blocks of the score matrix."""

    n_query: int
    n_train: int

    def block(self, q0: int, q1: int, t0: int, t1: int) -> np.ndarray:
        """Scores of queries ``q0:q1`` against training rows ``t0:t1``."""
        ...


class BlockScorer:
    """Full matrix or running top-k from a ``block`` function (subclasses define it)."""

    n_query: int
    n_train: int
    query_chunk: int
    train_chunk: int

    def block(self, q0: int, q1: int, t0: int, t1: int) -> np.ndarray:  # pragma: no cover
        """Scores (float64) of queries ``q0:q1`` against training rows ``t0:t1``."""
        raise NotImplementedError

    def full(self, out: np.ndarray | None = None) -> np.ndarray:
        """The whole (n_query, n_train) matrix, written block by block into ``out``."""
        if out is None:
            out = np.empty((self.n_query, self.n_train), dtype=np.float32)
        for q0 in range(0, self.n_query, self.query_chunk):
            q1 = min(self.n_query, q0 + self.query_chunk)
            for t0 in range(0, self.n_train, self.train_chunk):
                t1 = min(self.n_train, t0 + self.train_chunk)
                out[q0:q1, t0:t1] = self.block(q0, q1, t0, t1)
        return out

    def topk(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` largest-magnitude scores per query, sorted by decreasing score.

        Returns
        -------
        indices : ndarray of shape (n_query, min(k, n_train)), int64
        scores : ndarray of shape (n_query, min(k, n_train)), float64
        """
        k = max(1, min(int(k), self.n_train))
        idx_out = np.empty((self.n_query, k), dtype=np.int64)
        val_out = np.empty((self.n_query, k), dtype=np.float64)
        for q0 in range(0, self.n_query, self.query_chunk):
            q1 = min(self.n_query, q0 + self.query_chunk)
            best_val = np.empty((q1 - q0, 0), dtype=np.float64)
            best_idx = np.empty((q1 - q0, 0), dtype=np.int64)
            for t0 in range(0, self.n_train, self.train_chunk):
                t1 = min(self.n_train, t0 + self.train_chunk)
                vals = np.concatenate([best_val, self.block(q0, q1, t0, t1)], axis=1)
                idx = np.concatenate(
                    [best_idx, np.broadcast_to(np.arange(t0, t1), (q1 - q0, t1 - t0))], axis=1)
                if vals.shape[1] > k:
                    keep = np.argpartition(-np.abs(vals), k - 1, axis=1)[:, :k]
                    vals = np.take_along_axis(vals, keep, axis=1)
                    idx = np.take_along_axis(idx, keep, axis=1)
                best_val, best_idx = vals, idx
            order = np.argsort(-best_val, axis=1, kind="stable")
            val_out[q0:q1] = np.take_along_axis(best_val, order, axis=1)
            idx_out[q0:q1] = np.take_along_axis(best_idx, order, axis=1)
        return idx_out, val_out


class LinearScorer(BlockScorer):
    """``s[q, i] = col_scale[i] * sum_m (W_m[q] . F_m[i]) * member_scale_m[i]``.

    Parameters
    ----------
    query_weights : sequence of ndarray of shape (n_query, k)
        One per member.
    train_features : sequence of ndarray of shape (n_train, k)
        One per member (memmaps are read chunk by chunk).
    member_scales : sequence of (ndarray of shape (n_train,) or None), optional
        Per-member column weights.
    col_scale : ndarray of shape (n_train,), optional
        Column weights applied after summing the members.
    query_chunk, train_chunk : int
        Block sizes: at most ``query_chunk x train_chunk`` scores exist at once
        (plus the running top-k).
    """

    def __init__(
        self,
        query_weights: Sequence[np.ndarray],
        train_features: Sequence[np.ndarray],
        *,
        member_scales: Sequence[np.ndarray | None] | None = None,
        col_scale: np.ndarray | None = None,
        query_chunk: int = 1024,
        train_chunk: int = 8192,
    ) -> None:
        if len(query_weights) != len(train_features) or not query_weights:
            msg = "one query-weight matrix per member of train features is needed"
            raise ValueError(msg)
        self.query_weights = list(query_weights)
        self.train_features = list(train_features)
        self.member_scales = list(member_scales) if member_scales is not None else [None] * len(
            query_weights)
        self.col_scale = col_scale
        self.n_query = int(self.query_weights[0].shape[0])
        self.n_train = int(self.train_features[0].shape[0])
        self.query_chunk = max(1, int(query_chunk))
        self.train_chunk = max(1, int(train_chunk))

    def block(self, q0: int, q1: int, t0: int, t1: int) -> np.ndarray:
        """Scores (float64) of queries ``q0:q1`` against training rows ``t0:t1``."""
        out = np.zeros((q1 - q0, t1 - t0), dtype=np.float64)
        for w, f, d in zip(self.query_weights, self.train_features, self.member_scales,
                           strict=True):
            part = np.asarray(w[q0:q1], dtype=np.float32) @ np.asarray(
                f[t0:t1], dtype=np.float32).T
            if d is not None:
                part = part * np.asarray(d[t0:t1], dtype=np.float32)
            out += part
        if self.col_scale is not None:
            out *= np.asarray(self.col_scale[t0:t1], dtype=np.float64)
        return out


#: at most this many train-side numbers (float32) in one side-by-side product of members
CONCAT_BUDGET = 2**22

#: one member's factors: per layer (a' of the queries, delta of the queries,
#: a' of the train rows, delta of the train rows)
Factors = Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


class FactoredScorer(BlockScorer):
    """``s[q, i] = sum_m w_m[q] d_m[i] sum_l (D_q . D_i) (A_q . A_i)`` (exact gradient products).

    Parameters
    ----------
    members : sequence of Factors
        Per member, per linear layer: ``(A_query, D_query, A_train, D_train)``.
    query_scales : sequence of ndarray of shape (n_query,)
        Per-member query weights (learning rate, ``1 / M``, ``1 / |g_q|``).
    member_scales : sequence of (ndarray of shape (n_train,) or None)
        Per-member train weights (``1 / |g_i|`` for grad_cos).
    query_chunk, train_chunk : int
        Block sizes.
    """

    def __init__(
        self,
        members: Sequence[Factors],
        query_scales: Sequence[np.ndarray],
        member_scales: Sequence[np.ndarray | None],
        *,
        query_chunk: int = 1024,
        train_chunk: int = 8192,
    ) -> None:
        self.members = [list(m) for m in members]
        self.query_scales = list(query_scales)
        self.member_scales = list(member_scales)
        first = self.members[0][0]
        self.n_query = int(first[0].shape[0])
        self.n_train = int(first[2].shape[0])
        self.query_chunk = max(1, int(query_chunk))
        self.train_chunk = max(1, int(train_chunk))
        #: layers whose inputs ``a'`` are the same for every member (the first layer of
        #: checkpoints of one model sees the raw inputs): their ``A_q . A_i`` block is
        #: computed once per block instead of once per member
        self.shared_inputs = [
            all(_same(m[layer][0], self.members[0][layer][0])
                and _same(m[layer][2], self.members[0][layer][2]) for m in self.members[1:])
            for layer in range(len(self.members[0]))
        ] if len(self.members) > 1 else [False] * len(self.members[0])

    def block(self, q0: int, q1: int, t0: int, t1: int) -> np.ndarray:
        """Scores (float64) of queries ``q0:q1`` against training rows ``t0:t1``.

        The query and train weights are folded into the ``delta`` factors. For a
        layer with shared inputs, ``sum_m (w_m D_q^m . d_m D_i^m)`` is one product
        of the members' ``delta`` blocks placed side by side (in groups of at most
        :data:`CONCAT_BUDGET` train-side numbers), times ``A_q . A_i``.
        """
        out = np.zeros((q1 - q0, t1 - t0), dtype=np.float64)
        n_members = len(self.members)
        for layer, shared in enumerate(self.shared_inputs):
            aq, _, at, _ = self.members[0][layer]
            if shared:
                acts = _f32(aq[q0:q1]) @ _f32(at[t0:t1]).T
                width = max(1, int(self.members[0][layer][3].shape[1]) * (t1 - t0))
                step = max(1, CONCAT_BUDGET // width)
                for g0 in range(0, n_members, step):
                    parts = [self._scaled(m, layer, q0, q1, t0, t1)
                             for m in range(g0, min(n_members, g0 + step))]
                    back = np.concatenate([p[0] for p in parts], axis=1) @ \
                        np.concatenate([p[1] for p in parts], axis=1).T
                    back *= acts
                    out += back
                continue
            for m, layers in enumerate(self.members):
                aq, _, at, _ = layers[layer]
                dq, dt = self._scaled(m, layer, q0, q1, t0, t1)
                back = dq @ dt.T
                back *= _f32(aq[q0:q1]) @ _f32(at[t0:t1]).T
                out += back
        return out

    def _scaled(self, m: int, layer: int, q0: int, q1: int, t0: int, t1: int
                ) -> tuple[np.ndarray, np.ndarray]:
        """Member ``m``'s query deltas times its query weights, train deltas times its own."""
        _, dq, _, dt = self.members[m][layer]
        ms = self.member_scales[m]
        q = _f32(dq[q0:q1]) * _f32(self.query_scales[m][q0:q1])[:, None]
        t = _f32(dt[t0:t1])
        if ms is not None:
            t = t * _f32(ms[t0:t1])[:, None]
        return q, t


def _f32(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two factor arrays hold the same values (cheap next to scoring with them)."""
    return a is b or (a.shape == b.shape and bool(np.array_equal(a, b)))


def factored_sq_norms(layers: Sequence[tuple[np.ndarray, np.ndarray]], chunk: int = 8192
                      ) -> np.ndarray:
    """``|g_i|^2 = sum_l |delta_i|^2 |a'_i|^2`` from one member's (a', delta) per layer."""
    n = layers[0][0].shape[0]
    out = np.zeros(n, dtype=np.float64)
    for s in range(0, n, chunk):
        for a, d in layers:
            a64 = np.asarray(a[s:s + chunk], dtype=np.float64)
            d64 = np.asarray(d[s:s + chunk], dtype=np.float64)
            out[s:s + chunk] += (a64 * a64).sum(1) * (d64 * d64).sum(1)
    return out

"""Evaluating attributions against retraining: LDS, leave-one-out correlation, mislabel AUC.

The ground truth of an attribution is counterfactual: what happens to a
query when training examples are removed. These functions compare scores (in
scrutiny's convention: ``scores[q, i] > 0`` means example ``i`` helped query
``q``) with the measured outcomes of retrained models. NumPy and SciPy only.

* :func:`lds` - linear datamodeling score (Park et al. 2023): for each query,
  the Spearman correlation, across random training subsets, between the summed
  scores of each subset and the output of a model retrained on it.
* :func:`loo_correlation` - per-query correlation between scores and the
  measured loss change when each example is left out.
* :func:`mislabel_auc` - ROC AUC of self-influence scores at finding flipped labels.
* :func:`spearman_topk` - agreement of two attributions on each query's top examples.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scrutiny.exceptions import DataValidationError, InvalidParameterError

__all__ = ["lds", "lds_per_query", "loo_correlation", "mislabel_auc", "spearman_topk"]


def _scores_2d(scores: Any, name: str = "scores") -> np.ndarray:
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        msg = f"{name} must be 2-D (n_query, n_train). Got shape {arr.shape}."
        raise DataValidationError(msg)
    return arr


def _masks(subsets: Any, n_train: int) -> np.ndarray:
    """Subsets as a boolean (n_subsets, n_train) mask (from masks or index lists)."""
    if isinstance(subsets, np.ndarray) and subsets.ndim == 2 and subsets.dtype == bool:
        masks = subsets
    else:
        rows = list(subsets)
        if rows and np.asarray(rows[0]).dtype == bool:
            masks = np.asarray(rows, dtype=bool)
        else:
            masks = np.zeros((len(rows), n_train), dtype=bool)
            for j, idx in enumerate(rows):
                ix = np.asarray(idx, dtype=np.int64)
                if ix.size and (ix.min() < 0 or ix.max() >= n_train):
                    msg = (
                        f"subset {j} has indices outside [0, {n_train - 1}]; subsets must index "
                        "the training examples that the scores' columns describe."
                    )
                    raise DataValidationError(msg)
                masks[j, ix] = True
    if masks.ndim != 2 or masks.shape[1] != n_train:
        msg = (
            f"subsets must be a boolean mask of shape (n_subsets, {n_train}) or a list of index "
            f"arrays. Got shape {masks.shape}."
        )
        raise DataValidationError(msg)
    return masks


def _rank_rows(a: np.ndarray) -> np.ndarray:
    """Average ranks along the last axis (ties share their mean rank)."""
    from scipy.stats import rankdata

    return rankdata(a, axis=-1)


def _corr_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of matching rows; NaN where a row is constant."""
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    den = np.sqrt((a * a).sum(-1) * (b * b).sum(-1))
    num = (a * b).sum(-1)
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _corr_rows(_rank_rows(a), _rank_rows(b))


def _nanmean(values: np.ndarray, what: str) -> float:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        msg = f"{what} is undefined: every query's values are constant."
        raise DataValidationError(msg)
    return float(finite.mean())


def lds_per_query(scores: Any, subsets: Any, retrained_outputs: Any) -> np.ndarray:
    """The linear datamodeling score of each query (see :func:`lds`).

    Returns
    -------
    ndarray of shape (n_query,)
        Spearman correlation per query; NaN where the predictions or the
        measured outputs are constant across subsets.
    """
    s = _scores_2d(scores)
    masks = _masks(subsets, s.shape[1])
    out = np.asarray(retrained_outputs, dtype=np.float64)
    if out.ndim == 1:
        out = out[:, None]
    if out.shape != (masks.shape[0], s.shape[0]):
        msg = (
            f"retrained_outputs must have shape (n_subsets, n_query) = "
            f"({masks.shape[0]}, {s.shape[0]}). Got {out.shape}."
        )
        raise DataValidationError(msg)
    if masks.shape[0] < 3:
        raise InvalidParameterError.from_value(
            "subsets", "lds", "at least 3 subsets (100 is usual)", masks.shape[0]
        )
    predicted = masks.astype(np.float64) @ s.T  # (n_subsets, n_query)
    return _spearman_rows(predicted.T, out.T)


def lds(scores: Any, subsets: Any, retrained_outputs: Any) -> float:
    """Linear datamodeling score: how well summed scores predict retrained models' outputs.

    For each query ``q`` and subset ``S_j``, the prediction is
    ``sum(scores[q, i] for i in S_j)``; LDS is the Spearman correlation, over
    the subsets, between these predictions and ``retrained_outputs[j, q]``,
    averaged over queries (Park et al. 2023; dattri's ``retrain_lds`` uses 100
    random 50 % subsets).

    Parameters
    ----------
    scores : array-like of shape (n_query, n_train)
        Attribution scores, positive = helpful (scrutiny's convention).
    subsets : array-like of bool of shape (n_subsets, n_train), or list of index arrays
        The training subsets the models were retrained on.
    retrained_outputs : array-like of shape (n_subsets, n_query)
        For each retrained model, an output per query where **higher means
        better for the query**: TRAK's margin (log-odds of the true class) or
        minus the loss. Average over several training seeds per subset to
        reduce noise.

    Returns
    -------
    float
        Mean over queries (queries whose values are constant are skipped).

    Raises
    ------
    DataValidationError
        Shapes that do not match, or every query constant.
    InvalidParameterError
        Fewer than 3 subsets.

    See Also
    --------
    lds_per_query : the per-query values.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> scores = rng.normal(size=(2, 20))
    >>> masks = rng.random((30, 20)) < 0.5
    >>> outputs = masks @ scores.T  # a perfectly additive "model"
    >>> round(lds(scores, masks, outputs), 6)
    1.0
    """
    return _nanmean(lds_per_query(scores, subsets, retrained_outputs), "LDS")


def loo_correlation(
    scores: Any, loo_effects: Any, *, method: str = "spearman"
) -> float:
    """Mean per-query correlation between scores and measured leave-one-out effects.

    Parameters
    ----------
    scores : array-like of shape (n_query, n_train)
        Attribution scores (positive = helpful).
    loo_effects : array-like of shape (n_query, n_train)
        Measured ``loss(query | trained without i) - loss(query | trained on all)``:
        positive when removing ``i`` hurts the query, the same sign as the scores.
        Columns that were not retrained can be NaN; they are ignored.
    method : {"spearman", "pearson"}, default="spearman"
        Correlation.

    Returns
    -------
    float
        Mean over queries of the correlation.

    Raises
    ------
    InvalidParameterError
        Unknown ``method``.
    DataValidationError
        Shapes that differ.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([[3.0, 1.0, -2.0]])
    >>> loo_correlation(s, 2 * s)
    1.0
    """
    if method not in ("spearman", "pearson"):
        raise InvalidParameterError.from_value(
            "method", "loo_correlation", "'spearman' or 'pearson'", method
        )
    s = _scores_2d(scores)
    e = _scores_2d(loo_effects, "loo_effects")
    if s.shape != e.shape:
        msg = f"scores has shape {s.shape} but loo_effects has {e.shape}."
        raise DataValidationError(msg)
    vals = []
    for q in range(s.shape[0]):
        keep = np.isfinite(e[q]) & np.isfinite(s[q])
        a, b = s[q, keep][None], e[q, keep][None]
        if a.shape[1] < 3:
            vals.append(np.nan)
            continue
        vals.append((_spearman_rows(a, b) if method == "spearman" else _corr_rows(a, b))[0])
    return _nanmean(np.asarray(vals), "loo_correlation")


def mislabel_auc(self_scores: Any, is_flipped: Any) -> float:
    """ROC AUC of self-influence at ranking flipped (mislabeled) examples first.

    Parameters
    ----------
    self_scores : array-like of shape (n_train,)
        Each example's score on itself (its own loss rise if removed); larger =
        more suspicious. For value-style scores where low = suspicious, pass
        ``-values``.
    is_flipped : array-like of bool of shape (n_train,)
        True for the examples whose labels were corrupted.

    Returns
    -------
    float
        Probability that a random flipped example scores above a random clean
        one (ties count half); 0.5 = chance.

    Raises
    ------
    DataValidationError
        Lengths differ, or only one class is present.

    Examples
    --------
    >>> mislabel_auc([0.9, 0.1, 0.8, 0.2], [True, False, True, False])
    1.0
    """
    from scipy.stats import rankdata

    s = np.asarray(self_scores, dtype=np.float64).ravel()
    f = np.asarray(is_flipped).astype(bool).ravel()
    if s.shape != f.shape:
        msg = f"self_scores has {s.size} values but is_flipped has {f.size}."
        raise DataValidationError(msg)
    n_pos, n_neg = int(f.sum()), int((~f).sum())
    if n_pos == 0 or n_neg == 0:
        msg = "is_flipped must contain both flipped and clean examples."
        raise DataValidationError(msg)
    ranks = rankdata(s)
    return float((ranks[f].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def spearman_topk(reference: Any, candidate: Any, k: int | None = 100) -> float:
    """Mean per-query Spearman correlation between two attributions on the top examples.

    Parameters
    ----------
    reference, candidate : array-like of shape (n_query, n_train)
        Two score matrices over the same queries and training examples.
    k : int or None, default=100
        Compare on each query's ``k`` largest-magnitude reference scores;
        ``None`` compares whole rows.

    Returns
    -------
    float
        Mean over queries.

    Raises
    ------
    DataValidationError
        Shapes that differ.
    InvalidParameterError
        ``k`` smaller than 3.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(10.0)[None]
    >>> spearman_topk(a, a ** 3, k=5)
    1.0
    """
    a = _scores_2d(reference, "reference")
    b = _scores_2d(candidate, "candidate")
    if a.shape != b.shape:
        msg = f"reference has shape {a.shape} but candidate has {b.shape}."
        raise DataValidationError(msg)
    if k is not None:
        if k < 3:
            raise InvalidParameterError.from_value("k", "spearman_topk", "at least 3 or None", k)
        k = min(int(k), a.shape[1])
        top = np.argpartition(-np.abs(a), k - 1, axis=1)[:, :k]
        a = np.take_along_axis(a, top, axis=1)
        b = np.take_along_axis(b, top, axis=1)
    return _nanmean(_spearman_rows(a, b), "spearman_topk")

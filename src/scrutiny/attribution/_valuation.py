"""Model-agnostic data valuation: exact KNN-Shapley and Data-OOB.

Both methods value training examples without differentiating the model, so
they work for any classifier (KNN-Shapley, on features or embeddings) or any
bagging ensemble (Data-OOB).

* ``knn_shapley`` (Jia et al., VLDB 2019) — the exact Shapley value of every
  training example for the utility "fraction of the ``K`` nearest neighbours of
  the query that carry the query's label", computed by the closed-form
  recursion in ``O(n log n)`` per query. ``scores[q, i] > 0`` means example
  ``i`` helps a KNN surrogate classify query ``q`` correctly, in line with the
  package-wide sign convention (the query's loss is ``-utility``).
* ``data_oob`` (Kwon & Zou, ICML 2023) — for each training example, how well the
  ensemble members that did *not* see it predict its label. It values the
  training set itself, not a query: the result has one row.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from scrutiny.attribution._api import as_2d, check_shapes
from scrutiny.attribution._registry import Method, register
from scrutiny.attribution._result import AttributionResult
from scrutiny.exceptions import DataValidationError, InvalidParameterError

#: largest (queries x training examples) block of distances held in memory at once
_BLOCK = 2_000_000

_METRICS = ("euclidean", "cosine")


# ---------------------------------------------------------------------------
# KNN-Shapley


def knn_shapley_values(
    dist: np.ndarray, y_train: np.ndarray, y_query: np.ndarray, n_neighbors: int
) -> np.ndarray:
    """Exact KNN-Shapley values from a (n_query, n_train) distance block.

    Jia et al. (2019), Theorem 1. With training points sorted by distance to the
    query (``a_1`` nearest), ``s_{a_n} = 1[y_{a_n} = y_q] · min(K, n) / (n K)``
    (``1[·] / n`` when ``K <= n``) and
    ``s_{a_j} = s_{a_{j+1}} + (1[y_{a_j} = y_q] - 1[y_{a_{j+1}} = y_q]) / K
    * min(K, j) / j``. Ties in distance are broken by training index (stable sort).

    Parameters
    ----------
    dist : ndarray of shape (n_query, n_train)
        Distances from each query to each training example.
    y_train : ndarray of shape (n_train,)
        Training labels.
    y_query : ndarray of shape (n_query,)
        Query labels.
    n_neighbors : int
        ``K`` of the KNN utility.

    Returns
    -------
    ndarray of shape (n_query, n_train)
        Shapley values, in training-example order.
    """
    n = dist.shape[1]
    order = np.argsort(dist, axis=1, kind="stable")
    match = (y_train[order] == y_query[:, None]).astype(float)
    rank = np.arange(1, n, dtype=float)  # j = 1 .. n-1
    coef = np.minimum(n_neighbors, rank) / (rank * n_neighbors)
    steps = (match[:, :-1] - match[:, 1:]) * coef
    sorted_vals = np.empty_like(match)
    sorted_vals[:, -1] = match[:, -1] * min(n_neighbors, n) / (n * n_neighbors)
    if n > 1:
        # s_j = s_n + sum_{t >= j} steps_t  (reverse cumulative sum)
        sorted_vals[:, :-1] = sorted_vals[:, -1:] + np.cumsum(steps[:, ::-1], axis=1)[:, ::-1]
    out = np.empty_like(sorted_vals)
    np.put_along_axis(out, order, sorted_vals, axis=1)
    return out


def _pairwise(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    if metric == "cosine":
        an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
        bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
        return 1.0 - an @ bn.T
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(sq, 0.0))


def _numeric(arr: np.ndarray, name: str, hint: str) -> np.ndarray:
    try:
        out = np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        msg = f"{name} has non-numeric columns, so distances between rows are undefined. {hint}"
        raise DataValidationError(msg) from None
    if not np.isfinite(out).all():
        msg = f"{name} contains NaN or infinite values. Impute them (or pass embeddings=...)."
        raise DataValidationError(msg)
    return out


def _is_pipeline(model: Any) -> bool:
    return hasattr(model, "steps") and hasattr(model, "__getitem__") and len(model.steps) > 1


def _representation(
    model: Any, x_train: Any, x_query: Any, embeddings: Any
) -> tuple[np.ndarray, np.ndarray, str]:
    """The vectors distances are measured on, and a description of them."""
    hint = (
        "Pass embeddings=(train_vectors, query_vectors) or a function mapping rows to vectors, "
        "or a scikit-learn Pipeline whose first steps encode the columns."
    )
    if embeddings is not None:
        if callable(embeddings):
            e_train, e_query = embeddings(x_train), embeddings(x_query)
            where = "embeddings (from the function given)"
        elif isinstance(embeddings, tuple | list) and len(embeddings) == 2:
            e_train, e_query = embeddings
            where = "embeddings (given)"
        else:
            raise InvalidParameterError.from_value(
                "embeddings", "knn_shapley",
                "None, a function of X, or a pair (train_embeddings, query_embeddings)",
                type(embeddings).__name__,
            )
        e_train = _numeric(as_2d(e_train, "train embeddings"), "train embeddings", hint)
        e_query = _numeric(as_2d(e_query, "query embeddings"), "query embeddings", hint)
        if e_train.shape[1] != e_query.shape[1]:
            msg = (
                f"Train embeddings have {e_train.shape[1]} dimensions but query embeddings have "
                f"{e_query.shape[1]}. Embed both with the same function."
            )
            raise DataValidationError(msg)
        return e_train, e_query, where
    a_train, a_query = as_2d(x_train, "X_train"), as_2d(x_query, "X_query")
    if a_train.dtype.kind not in "biuf" and _is_pipeline(model):
        pre = model[:-1]
        t_train, t_query = pre.transform(x_train), pre.transform(x_query)
        if hasattr(t_train, "toarray"):  # sparse encoders (OneHotEncoder)
            t_train, t_query = t_train.toarray(), t_query.toarray()
        e_train = as_2d(t_train, "transformed X_train")
        e_query = as_2d(t_query, "transformed X_query")
        return (
            _numeric(e_train, "transformed X_train", hint),
            _numeric(e_query, "transformed X_query", hint),
            "the model pipeline's encoded features (all steps but the last)",
        )
    return _numeric(a_train, "X_train", hint), _numeric(a_query, "X_query", hint), "raw features"


def _label_array(y: Any, name: str) -> np.ndarray:
    arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if arr.ndim != 1:
        arr = arr.ravel() if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1:
        msg = f"{name} must be 1-D (one label per row). Got shape {arr.shape}."
        raise DataValidationError(msg)
    return arr


def _top(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k largest-magnitude scores per row, sorted by decreasing score."""
    k = min(k, scores.shape[1])
    idx = np.argpartition(-np.abs(scores), k - 1, axis=1)[:, :k]
    val = np.take_along_axis(scores, idx, axis=1)
    order = np.argsort(-val, axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(val, order, axis=1)


def knn_shapley(
    model: Any,
    X_train: Any,
    y_train: Any,
    X_query: Any,
    y_query: Any,
    *,
    n_neighbors: int = 10,
    embeddings: Callable[[Any], Any] | tuple[Any, Any] | None = None,
    metric: str = "euclidean",
    standardize: bool | str = "auto",
    top_k: int | None = None,
) -> AttributionResult:
    """Exact KNN-Shapley values of every training example for every query.

    The Shapley value of example ``i`` for query ``q`` under the utility of a
    ``K``-nearest-neighbour classifier: the share of the ``K`` nearest training
    examples (among a coalition) that carry ``q``'s label, averaged over all
    coalitions (Jia et al., 2019, exact recursion). It values data for a KNN
    surrogate of the model — it does not look inside ``model``.

    Parameters
    ----------
    model : estimator or None
        The fitted model. Used only when it is a scikit-learn Pipeline and the
        features are not numeric (distances are then measured on the output of
        all steps but the last). ``None`` is accepted.
    X_train, y_train : array-like
        Training features (or anything ``embeddings`` accepts) and class labels.
    X_query, y_query : array-like
        Query features and labels.
    n_neighbors : int, default=10
        ``K`` of the KNN utility.
    embeddings : callable or (array, array), default=None
        Measure distances on embeddings instead of features: a function mapping
        rows to vectors (applied to ``X_train`` and ``X_query``), or the pair
        ``(train_embeddings, query_embeddings)``.
    metric : {"euclidean", "cosine"}, default="euclidean"
        Distance between vectors.
    standardize : bool or "auto", default="auto"
        Scale each dimension to unit variance (training statistics) before
        measuring distances. ``"auto"``: on raw features yes, on embeddings no.
    top_k : int, default=None
        Keep only the ``top_k`` largest-magnitude scores per query
        (``top_indices``/``top_scores``) instead of the full matrix.

    Returns
    -------
    AttributionResult
        ``scores[q, i]``: the Shapley value of ``i`` for ``q``'s correct
        classification. Positive means ``i`` helps (same direction as "``q``'s
        loss would rise without ``i``"). Each row sums to the utility of the full
        training set, ``(# of q's K neighbours with q's label) / K``.

    Raises
    ------
    InvalidParameterError
        Bad ``n_neighbors``, ``metric``, ``standardize``, ``embeddings`` or ``top_k``.
    DataValidationError
        Non-numeric features without embeddings, mismatched rows, continuous labels.
    """
    where = "knn_shapley"
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, int | np.integer) \
            or n_neighbors < 1:
        raise InvalidParameterError.from_value("n_neighbors", where, "an integer >= 1", n_neighbors)
    if metric not in _METRICS:
        raise InvalidParameterError.from_value("metric", where, f"one of {_METRICS}", metric)
    if standardize not in (True, False, "auto"):
        raise InvalidParameterError.from_value(
            "standardize", where, "True, False or 'auto'", standardize
        )
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int | np.integer)
                              or top_k < 1):
        raise InvalidParameterError.from_value("top_k", where, "None or an integer >= 1", top_k)
    y_tr, y_q = _label_array(y_train, "y_train"), _label_array(y_query, "y_query")
    e_train, e_query, space = _representation(model, X_train, X_query, embeddings)
    check_shapes(None, e_train, y_tr, e_query, y_q)
    if y_tr.dtype.kind == "f" and len(np.unique(y_tr)) > max(20, len(y_tr) // 10):
        msg = (
            "knn_shapley values data for classification: y_train looks continuous "
            f"({len(np.unique(y_tr))} distinct values). Pass class labels, or use "
            "method='influence' for a regression model."
        )
        raise DataValidationError(msg)
    if len(e_train) == 0:
        msg = "X_train has no rows."
        raise DataValidationError(msg)
    scale = standardize if standardize != "auto" else space == "raw features"
    if scale:
        mu, sd = e_train.mean(0), e_train.std(0)
        sd[sd == 0] = 1.0
        e_train, e_query = (e_train - mu) / sd, (e_query - mu) / sd
    n, n_q = len(e_train), len(e_query)
    k = int(n_neighbors)
    full = np.empty((n_q, n)) if top_k is None else None
    tops_i, tops_v = [], []
    step = max(1, _BLOCK // max(n, 1))
    for start in range(0, n_q, step):
        stop = min(n_q, start + step)
        vals = knn_shapley_values(_pairwise(e_query[start:stop], e_train, metric), y_tr,
                                  y_q[start:stop], k)
        if full is not None:
            full[start:stop] = vals
        else:
            ti, tv = _top(vals, int(top_k))  # type: ignore[arg-type]
            tops_i.append(ti)
            tops_v.append(tv)
    notes = [
        "KNN-Shapley values data for a K-nearest-neighbour surrogate measured on "
        f"{space}, not for the model itself; it agrees with the model only as far as "
        "neighbours in this space predict its behaviour.",
        "Shapley values average an example's marginal contribution over all subsets of the "
        "training set: they are not the effect of removing that one example (which, for "
        "KNN, is zero for every example outside the query's K neighbours).",
    ]
    if k >= n:
        notes.append(f"n_neighbors={k} >= n_train={n}: every example is a neighbour.")
    result = AttributionResult(
        method="knn_shapley",
        scores=full,
        top_indices=np.vstack(tops_i) if tops_i else None,
        top_scores=np.vstack(tops_v) if tops_v else None,
        params={"n_neighbors": k, "metric": metric, "standardize": bool(scale),
                "space": space, "top_k": top_k, "n_train": n, "n_query": n_q},
        notes=notes,
    )
    return result


# ---------------------------------------------------------------------------
# Data-OOB

_BAGGING = (
    "BaggingClassifier", "BaggingRegressor", "RandomForestClassifier", "RandomForestRegressor",
    "ExtraTreesClassifier", "ExtraTreesRegressor",
)


def _final(model: Any) -> tuple[Any, Any]:
    """(final estimator, preprocessing pipeline or None)."""
    if _is_pipeline(model):
        return model[-1], model[:-1]
    return model, None


def _oob_applies(model: Any) -> str | None:
    est, _ = _final(model)
    name = type(est).__name__
    if name not in _BAGGING:
        return (
            f"data_oob needs a bagging ensemble ({', '.join(_BAGGING)}), "
            f"got {name}"
        )
    if name.startswith(("RandomForest", "ExtraTrees")) and not getattr(est, "bootstrap", False):
        return f"data_oob needs bootstrap=True ({name} was built with bootstrap=False)"
    if name.startswith("Bagging") and not getattr(est, "bootstrap", True) \
            and getattr(est, "max_samples", 1.0) in (1.0, None):
        return "data_oob needs out-of-bag rows: use bootstrap=True or max_samples < 1.0"
    return None


def _knn_applies(model: Any) -> str | None:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return (
            "knn_shapley does not read a PyTorch module; embed the data with it and call "
            "attribute(None, train_embeddings, y_train, query_embeddings, y_query, "
            "method='knn_shapley')"
        )
    return None


def data_oob_values(
    model: Any,
    X_train: Any,
    y_train: Any,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Data-OOB values of the training set of a fitted bagging ensemble.

    Parameters
    ----------
    model : bagging ensemble
        A ``BaggingClassifier``, ``BaggingRegressor``, ``RandomForest*`` or
        ``ExtraTrees*`` (or a Pipeline ending in one), fitted with bootstrap
        sampling on ``X_train``, in the same row order.
    X_train, y_train : array-like
        The training data the ensemble was fitted on.

    Returns
    -------
    values : ndarray of shape (n_train,)
        Classification: the share of out-of-bag members predicting the row's
        label. Regression: minus the mean squared out-of-bag error. NaN for rows
        that were never out of bag.
    counts : ndarray of shape (n_train,)
        How many members had the row out of bag.
    is_classifier : bool
        Whether values are accuracies (True) or negative squared errors.
    """
    est, pre = _final(model)
    y = _label_array(y_train, "y_train")
    x = pre.transform(X_train) if pre is not None else X_train
    if hasattr(x, "toarray"):  # sparse encoders
        x = x.toarray()
    x = _numeric(as_2d(x, "X_train"), "X_train", "Pass the (encoded) matrix the ensemble saw.")
    n = len(x)
    if len(y) != n:
        msg = f"y_train has {len(y)} rows but X_train has {n}."
        raise DataValidationError(msg)
    n_fit = getattr(est, "_n_samples", None)
    if n_fit is not None and n_fit != n:
        msg = (
            f"The ensemble was fitted on {n_fit} rows but X_train has {n}. Data-OOB needs the "
            "exact training rows, in the order used for fit."
        )
        raise DataValidationError(msg)
    is_clf = hasattr(est, "classes_")
    if is_clf:
        classes = np.asarray(est.classes_)
        pos = np.searchsorted(classes, y) if classes.dtype.kind != "O" else None
        if pos is None:
            lookup = {c: i for i, c in enumerate(classes.tolist())}
            if not set(y.tolist()) <= set(lookup):
                pos = np.full(n, -1)
            else:
                pos = np.array([lookup[v] for v in y.tolist()])
        pos = np.clip(pos, 0, len(classes) - 1)
        if not np.array_equal(classes[pos], y):
            msg = (
                "y_train holds labels the ensemble was not fitted on "
                f"(classes_ = {classes.tolist()[:10]}). Pass the training labels."
            )
            raise DataValidationError(msg)
        target: np.ndarray = pos
    else:
        target = y.astype(float)
    total = np.zeros(n)
    counts = np.zeros(n)
    samples = est.estimators_samples_
    feats = getattr(est, "estimators_features_", None)
    xf = x.astype(np.float32) if type(est).__name__.startswith(("Random", "Extra")) else x
    for b, member in enumerate(est.estimators_):
        drawn = np.asarray(samples[b])
        inbag = np.zeros(n, bool)
        if drawn.dtype == bool:
            inbag |= drawn
        else:
            inbag[drawn] = True
        oob = np.flatnonzero(~inbag)
        if len(oob) == 0:
            continue
        rows = xf[oob] if feats is None else xf[oob][:, feats[b]]
        pred = member.predict(rows)
        if is_clf:
            total[oob] += (np.asarray(pred).astype(int) == target[oob])
        else:
            total[oob] -= (np.asarray(pred, dtype=float) - target[oob]) ** 2
        counts[oob] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
    return values, counts, is_clf


def data_oob(
    model: Any,
    X_train: Any,
    y_train: Any,
    X_query: Any = None,
    y_query: Any = None,
) -> AttributionResult:
    """Data-OOB values (Kwon & Zou, 2023) of every training example.

    For each training example, the members of a bagging ensemble that did not
    see it (it was out of their bootstrap sample) predict its label; its value
    is how well they do. A low value means the rest of the data disagrees with
    the example's label — typical of mislabeled or atypical rows.

    Parameters
    ----------
    model : bagging ensemble
        A fitted ``BaggingClassifier``/``BaggingRegressor`` or a
        ``RandomForest*``/``ExtraTrees*`` with ``bootstrap=True`` (optionally the
        last step of a Pipeline).
    X_train, y_train : array-like
        The exact training rows, in the order used for ``fit``.
    X_query, y_query : ignored
        Data-OOB values the training set itself; queries play no part.

    Returns
    -------
    AttributionResult
        ``scores`` has ONE row (shape ``(1, n_train)``), a global value shared
        by all queries: the example's Data-OOB value minus the mean value, so
        positive = more useful than the average example. The raw values are in
        ``extras["values"]`` and the out-of-bag counts in ``extras["oob_counts"]``.

    Raises
    ------
    DataValidationError
        Rows or labels that do not match the fitted ensemble, or no row ever out of bag.
    """
    values, counts, is_clf = data_oob_values(model, X_train, y_train)
    never = int((counts == 0).sum())
    if never == len(values):
        msg = "No training row was ever out of bag, so Data-OOB is undefined. Use bootstrap=True."
        raise DataValidationError(msg)
    centered = values - np.nanmean(values)
    centered = np.where(np.isnan(centered), 0.0, centered)
    notes = [
        "Data-OOB is a global value of each training example (row 0 of scores), not an "
        "effect on any one query: it measures how well ensemble members that did not see "
        "the example predict its label. scores = value - mean value.",
        "A low value flags rows the rest of the data disagrees with (mislabeled, atypical or "
        "ambiguous); it does not say removing them would help a particular prediction.",
    ]
    if never:
        notes.append(f"{never} rows were never out of bag; their score is 0 (unknown).")
    result = AttributionResult(
        method="data_oob",
        scores=centered[None, :],
        params={"n_estimators": len(_final(model)[0].estimators_),
                "task": "classification" if is_clf else "regression",
                "value": "accuracy of out-of-bag members" if is_clf
                else "minus mean squared out-of-bag error"},
        notes=notes,
        extras={"values": values, "oob_counts": counts.astype(int)},
    )
    if is_clf:
        low = int(np.nansum(values < 0.5))
        if low:
            result.findings.append({
                "kind": "label_issue",
                "message": f"{low} training rows are predicted wrongly by most of the ensemble "
                "members that did not see them (Data-OOB value < 0.5): check their labels.",
                "count": low,
            })
    return result


register(Method(
    name="data_oob",
    run=data_oob,
    applies=_oob_applies,
    summary="Data-OOB (Kwon & Zou 2023): out-of-bag accuracy of each training row in a "
    "bagging ensemble; one global row of values.",
))
register(Method(
    name="knn_shapley",
    run=knn_shapley,
    applies=_knn_applies,
    summary="Exact KNN-Shapley (Jia et al. 2019) on features or embeddings; model-agnostic.",
))

"""Which training examples drive a group disparity, and what removing them would do.

The measurement is a group gap on held-out data, made smooth so it can be
differentiated (Wang et al. 2022; Li & Liu 2022):

* ``demographic_parity`` — mean predicted probability of the positive class in
  the highest-rate group minus the lowest-rate group;
* ``equal_opportunity`` — the same among rows whose true label is positive
  (a smooth true-positive-rate gap);
* ``group_loss`` — mean loss of the worst group minus the best group.

The two groups are fixed at the fitted model (so the gap is positive), and the
influence of training example ``i`` on the gap ``F`` is ``∇F(θ̂)ᵀ H⁻¹ t_i``
(exact Hessian, :func:`~scrutiny.attribution._linear.linear_parts`). Sign
convention — the package's, with the gap as the "query loss": a positive score
means removing the example would WIDEN the gap; the examples that DRIVE the
gap (removing them narrows it) have negative scores.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from scrutiny.attribution._api import as_2d, check_fitted
from scrutiny.attribution._result import AttributionResult
from scrutiny.exceptions import (
    ColumnNotFoundError,
    DataValidationError,
    InvalidParameterError,
)

WHERE = "attribute_disparity"
DISPARITY_TARGETS = ("equal_opportunity", "demographic_parity", "group_loss")
_SEP = " & "


# --------------------------------------------------------------------------- inputs


def _labels_1d(y: Any, name: str) -> np.ndarray:
    arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        msg = f"{name} must be 1-D (one value per row). Got shape {arr.shape}."
        raise DataValidationError(msg)
    return arr


def _is_column_names(values: Any, frame: Any) -> bool:
    """A column name, or a short list of strings naming columns of ``frame``."""
    if isinstance(values, str):
        return True
    if not (isinstance(values, list | tuple) and values
            and all(isinstance(v, str) for v in values) and hasattr(frame, "columns")):
        return False
    return set(values) <= {str(c) for c in frame.columns} or len(values) != len(frame)


def _is_label_like(groups: Any, frame: Any) -> bool:
    """True for one label per row (or column names); False for a list of index groups."""
    if _is_column_names(groups, frame) or hasattr(groups, "iloc") or isinstance(groups, dict):
        return True
    if isinstance(groups, np.ndarray):
        return groups.ndim == 1 and (
            groups.dtype != object or all(np.ndim(g) == 0 for g in groups))
    if isinstance(groups, list | tuple):
        return all(np.ndim(g) == 0 for g in groups)
    return False


def _group_labels(values: Any, n: int, name: str, frame: Any = None) -> np.ndarray:
    """One string label per row from a column name(s), an array, a Series or a DataFrame."""
    if _is_column_names(values, frame):
        if frame is None or not hasattr(frame, "columns"):
            msg = (
                f"{name} names column(s) {values!r}, but the data has no column names. Pass "
                "the values themselves (one per row)."
            )
            raise InvalidParameterError(msg)
        cols = [values] if isinstance(values, str) else list(values)
        for c in cols:
            if c not in frame.columns:
                raise ColumnNotFoundError.from_missing(c, [str(x) for x in frame.columns],
                                                       parameter=name)
        values = frame[cols]
    if isinstance(values, dict):
        import pandas as pd

        values = pd.DataFrame(values)
    if hasattr(values, "to_pandas") and not hasattr(values, "iloc"):
        values = values.to_pandas()
    if hasattr(values, "columns") and hasattr(values, "iloc"):
        cols = list(values.columns)
        arr = values.to_numpy(dtype=object)
        if len(cols) == 1:
            out = np.array([str(v) for v in arr[:, 0]], dtype=object)
        else:
            out = np.array([_SEP.join(f"{c}={v}" for c, v in zip(cols, row, strict=True))
                            for row in arr], dtype=object)
    else:
        raw = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
        if raw.ndim == 2 and raw.shape[1] == 1:
            raw = raw[:, 0]
        if raw.ndim == 2:
            out = np.array([_SEP.join(map(str, row)) for row in raw], dtype=object)
        elif raw.ndim == 1:
            out = np.array([str(v) for v in raw.tolist()], dtype=object)
        else:
            msg = f"{name} must hold one value (or one row of values) per row."
            raise DataValidationError(msg)
    if len(out) != n:
        msg = f"{name} has {len(out)} rows but the data has {n}. Pass one value per row."
        raise DataValidationError(msg)
    return out


def _unwrap(model: Any, x_train: Any, x_eval: Any) -> tuple[Any, np.ndarray, np.ndarray, str]:
    """(estimator, train matrix, eval matrix, note) — Pipelines become their last step."""
    if hasattr(model, "steps") and len(getattr(model, "steps", [])) > 1:
        pre, est = model[:-1], model[-1]
        xt, xe = pre.transform(x_train), pre.transform(x_eval)
        if hasattr(xt, "toarray"):
            xt, xe = xt.toarray(), xe.toarray()
        note = (
            "The model is a Pipeline: attribution runs on its last step with the other steps "
            "held fixed (retraining refits the last step only)."
        )
        return est, np.asarray(xt, dtype=float), np.asarray(xe, dtype=float), note
    return model, np.asarray(as_2d(x_train, "X_train"), dtype=float), \
        np.asarray(as_2d(x_eval, "X_eval"), dtype=float), ""


# --------------------------------------------------------------------------- the measurement


class _Gap:
    """A smooth group gap F(θ) on fixed eval rows, with its gradient."""

    def __init__(self, parts: Any, target: str, x: np.ndarray, y: np.ndarray,
                 groups: np.ndarray, pos_label: Any, min_rows: int) -> None:
        self.parts, self.target, self.x, self.y = parts, target, x, y
        spec = parts.spec
        self.kind = spec.kind
        if target != "group_loss":
            if spec.classes is None or len(spec.classes) != 2:
                what = "a regression model" if spec.classes is None else \
                    f"a {len(spec.classes)}-class model"
                msg = (
                    f"target={target!r} needs a binary classifier, got {what}. "
                    "target='group_loss' applies to every supported model."
                )
                raise InvalidParameterError(msg)
            classes = spec.classes.tolist()
            if pos_label is None:
                pos_label = classes[1]
            if pos_label not in classes:
                raise InvalidParameterError.from_value(
                    "pos_label", WHERE, f"one of the model's classes {classes}", pos_label)
            self.pos_index = classes.index(pos_label)
        self.pos_label = pos_label
        members = np.ones(len(y), bool)
        if target == "equal_opportunity":
            members = y == pos_label
        self.eligible = members
        names, counts = np.unique(groups[members], return_counts=True)
        keep = names[counts >= min_rows]
        if len(keep) < 2:
            rows = "rows with a positive label" if target == "equal_opportunity" else "rows"
            found = dict(zip(names.tolist(), counts.tolist(), strict=True))
            msg = (
                f"target={target!r} needs at least two groups with >= {min_rows} {rows} in the "
                f"held-out data; found {found}. Pass more held-out rows or lower min_group_size."
            )
            raise DataValidationError(msg)
        self.groups = groups
        self.candidates = keep
        rates = self.group_rates(self.values())
        self.high = max(rates, key=rates.get)
        self.low = min(rates, key=rates.get)
        self.rates0 = rates
        hi = members & (groups == self.high)
        lo = members & (groups == self.low)
        self.coef = np.where(hi, 1.0 / hi.sum(), 0.0) - np.where(lo, 1.0 / lo.sum(), 0.0)

    # per-row quantity m_i(θ) whose group means make the gap
    def values(self, theta: np.ndarray | None = None) -> np.ndarray:
        p = self.parts
        if self.target == "group_loss":
            return p.loss(self.x, self.y, theta)
        z = np.asarray(p.decision(self.x, theta), dtype=float)
        s = 1.0 / (1.0 + np.exp(-z))
        return s if self.pos_index == 1 else 1.0 - s

    def group_rates(self, values: np.ndarray) -> dict[str, float]:
        out = {}
        for g in self.candidates:
            sel = self.eligible & (self.groups == g)
            out[str(g)] = float(values[sel].mean())
        return out

    def value(self, theta: np.ndarray | None = None) -> float:
        return float(self.coef @ self.values(theta))

    def gradient(self) -> np.ndarray:
        p = self.parts
        rows = np.flatnonzero(self.coef)
        c = self.coef[rows]
        if self.target == "group_loss":
            return c @ p.grads(self.x[rows], self.y[rows])
        z = np.asarray(p.decision(self.x[rows]), dtype=float)
        s = 1.0 / (1.0 + np.exp(-z))
        dz = s * (1.0 - s) * (1.0 if self.pos_index == 1 else -1.0)
        return (c[:, None] * p.grads_from_outputs(self.x[rows], dz)).sum(axis=0)

    # the same measurement for any fitted model of the same kind (for retrained clones)
    def measure(self, model: Any) -> tuple[float, float]:
        """(smooth gap, hard gap) of a fitted model, same two groups."""
        from scrutiny.attribution._linear import per_example_loss

        if self.target == "group_loss":
            loss = per_example_loss(model, self.x, self.y, smoothing=self.parts.spec.smoothing)
            v = float(self.coef @ loss)
            return v, v
        # binary linear models: decision = x·w + b, predict = classes_[decision > 0]
        z = self.x @ np.asarray(model.coef_, dtype=float).ravel() + float(
            np.ravel(model.intercept_)[0])
        s = 1.0 / (1.0 + np.exp(-z))
        s = s if self.pos_index == 1 else 1.0 - s
        hard = ((z > 0) == (self.pos_index == 1)).astype(float)
        return float(self.coef @ s), float(self.coef @ hard)


# --------------------------------------------------------------------------- helpers


def _kmeans_groups(x: np.ndarray, n_clusters: int, random_state: Any) -> np.ndarray:
    from sklearn.cluster import KMeans

    mu, sd = x.mean(0), x.std(0)
    sd[sd == 0] = 1.0
    km = KMeans(n_clusters=n_clusters, n_init=4, random_state=random_state)
    return np.array([f"cluster {c}" for c in km.fit_predict((x - mu) / sd)], dtype=object)


def _describe_cluster(x: np.ndarray, members: np.ndarray, names: list[str] | None) -> str:
    """The 3 features whose mean most distinguishes the members (standardised difference)."""
    if members.all():
        return ""
    if names is None or len(names) != x.shape[1]:  # e.g. a Pipeline's transformed columns
        names = [f"feature {j}" for j in range(x.shape[1])]
    sd = x.std(0)
    sd[sd == 0] = 1.0
    diff = (x[members].mean(0) - x[~members].mean(0)) / sd
    top = np.argsort(-np.abs(diff))[:3]
    return ", ".join(f"{names[j]} {'high' if diff[j] > 0 else 'low'}" for j in top)


def _feature_names(x: Any, est: Any) -> list[str] | None:
    if hasattr(est, "steps") and len(est.steps) > 1:  # a Pipeline: its transformed columns
        try:
            return [str(c) for c in est[:-1].get_feature_names_out()]
        except (AttributeError, ValueError, TypeError):
            return None
    if hasattr(x, "columns"):
        return [str(c) for c in x.columns]
    names = getattr(est, "feature_names_in_", None)
    return None if names is None else [str(c) for c in names]


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


# --------------------------------------------------------------------------- public API


def undersampled_slices(
    X: Any,
    sensitive: Any,
    *,
    y: Any = None,
    reference: Any = None,
    min_count: int = 30,
    min_ratio: float = 0.5,
    pos_label: Any = None,
) -> list[dict[str, Any]]:
    """Report slices (sensitive groups) with too few training rows.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n, d)
        The training data (used for its row count, and to look up column names).
    sensitive : str, list of str, array-like or DataFrame
        Column name(s) of ``X``, or the sensitive values themselves (one per row;
        several columns make intersectional slices).
    y : array-like of shape (n,), default=None
        Training labels: adds positives per slice (true-positive rates, and so
        equal opportunity, are estimated from positives only).
    reference : array-like or DataFrame, default=None
        Sensitive values of a reference population (held-out or deployment
        rows): adds each slice's share there and the ratio of shares.
    min_count : int, default=30
        A slice with fewer rows (or, with ``y``, fewer positives) is flagged.
    min_ratio : float, default=0.5
        With ``reference``: a slice whose training share is below ``min_ratio``
        × its reference share is flagged.
    pos_label : object, default=None
        The positive label (default: the larger of two labels).

    Returns
    -------
    list of dict
        One row per slice, smallest first: ``slice``, ``count``, ``share``,
        ``positives``, ``reference_share``, ``ratio``, ``undersampled`` and
        ``reasons``.

    Raises
    ------
    DataValidationError
        Lengths that do not match.
    InvalidParameterError
        Bad ``min_count`` or ``min_ratio``.
    """
    where = "undersampled_slices"
    if isinstance(min_count, bool) or not isinstance(min_count, int | np.integer) \
            or min_count < 1:
        raise InvalidParameterError.from_value("min_count", where, "an integer >= 1", min_count)
    if not 0 < float(min_ratio) <= 1:
        raise InvalidParameterError.from_value("min_ratio", where, "a number in (0, 1]",
                                               min_ratio)
    n = len(X) if hasattr(X, "__len__") else as_2d(X, "X").shape[0]
    labels = _group_labels(sensitive, n, "sensitive", X)
    names, counts = np.unique(labels, return_counts=True)
    pos = None
    if y is not None:
        yy = _labels_1d(y, "y")
        if len(yy) != n:
            msg = f"y has {len(yy)} rows but X has {n}."
            raise DataValidationError(msg)
        if pos_label is None:
            uniq = np.unique(yy)
            pos_label = uniq[-1]
        pos = yy == pos_label
    ref_share: dict[str, float] = {}
    if reference is not None:
        ref = _group_labels(reference, len(reference), "reference")
        rn, rc = np.unique(ref, return_counts=True)
        ref_share = {str(a): float(b) / len(ref) for a, b in zip(rn, rc, strict=True)}
    rows = []
    for name, count in zip(names, counts, strict=True):
        share = float(count) / n
        reasons = []
        if count < min_count:
            reasons.append(f"{count} training rows (< {min_count})")
        positives = None
        if pos is not None:
            positives = int((pos & (labels == name)).sum())
            if positives < min_count:
                reasons.append(f"{positives} positive training rows (< {min_count})")
        rshare = ref_share.get(str(name)) if reference is not None else None
        ratio = share / rshare if rshare else None
        if ratio is not None and ratio < min_ratio:
            reasons.append(f"training share {share:.1%} is {ratio:.2f}× its reference share "
                           f"{rshare:.1%}")
        rows.append({
            "slice": str(name), "count": int(count), "share": share, "positives": positives,
            "reference_share": rshare, "ratio": ratio, "undersampled": bool(reasons),
            "reasons": reasons,
        })
    for name, rshare in ref_share.items():
        if name not in set(map(str, names)):
            rows.append({
                "slice": name, "count": 0, "share": 0.0, "positives": 0 if pos is not None
                else None, "reference_share": rshare, "ratio": 0.0, "undersampled": True,
                "reasons": ["no training rows at all"],
            })
    rows.sort(key=lambda r: (r["count"], r["slice"]))
    return rows


def attribute_disparity(
    model: Any,
    X_train: Any,
    y_train: Any,
    X_eval: Any,
    y_eval: Any,
    *,
    sensitive_features: Any,
    target: str = "equal_opportunity",
    groups: Any = None,
    top_k: int = 20,
    verify: bool = True,
    random_state: int | None = None,
    train_sensitive_features: Any = None,
    sample_weight: Any = None,
    pos_label: Any = None,
    reweight: float = 0.5,
    n_clusters: int = 8,
    n_random: int = 5,
    min_group_size: int = 10,
    damping: float | None = None,
) -> AttributionResult:
    """Which training examples drive a group gap measured on held-out data.

    Parameters
    ----------
    model : estimator
        A fitted convex scikit-learn model that :func:`linear_parts` supports
        (``LogisticRegression``, ``LinearSVC``, ``SGDClassifier``; ``Ridge`` and
        ``LinearRegression`` with ``target="group_loss"``), or a Pipeline ending
        in one (earlier steps are held fixed).
    X_train, y_train : array-like
        The training data the model was fitted on.
    X_eval, y_eval : array-like
        Held-out rows the gap is measured on.
    sensitive_features : str, list of str, array-like or DataFrame
        Group of each held-out row: values, or column name(s) of ``X_eval``.
        Several columns make intersectional groups.
    target : {"equal_opportunity", "demographic_parity", "group_loss"}, default="equal_opportunity"
        The gap: smooth true-positive-rate gap, smooth selection-rate gap, or
        mean-loss gap, between the highest and lowest group at the fitted model.
    groups : array-like, list of index arrays, or None, default=None
        Training slices for group attribution: one label per training row, or a
        list of index arrays. ``None``: ``n_clusters`` k-means clusters of the
        standardised training features.
    top_k : int, default=20
        How many disparity drivers to name and act on.
    verify : bool, default=True
        Check the predicted effects by real retraining (warm-started refits;
        also ``n_random`` removals of ``top_k`` random rows as a baseline).
    random_state : int, default=None
        Seed for k-means and the random baseline.
    train_sensitive_features : array-like or DataFrame, default=None
        Groups of the training rows: enables the undersampled-slice report and
        a per-group breakdown of the drivers.
    sample_weight : array-like, default=None
        Sample weights used in ``fit``.
    pos_label : object, default=None
        Positive class (default: the model's second class).
    reweight : float, default=0.5
        Weight given to the drivers by the simulated "reweight" action.
    n_clusters : int, default=8
        Clusters when ``groups`` is None.
    n_random : int, default=5
        Random removals in the verification baseline.
    min_group_size : int, default=10
        Held-out groups with fewer (positive, for equal opportunity) rows are ignored.
    damping : float, default=None
        Hessian damping (see :func:`linear_parts`).

    Returns
    -------
    AttributionResult
        ``scores`` of shape ``(1, n_train)``: the first-order change of the
        smooth gap if the example were removed — positive: removing it WIDENS
        the gap; negative: it drives the gap. ``extras`` holds ``gap``
        (smooth and hard values, the two groups, per-group rates), ``drivers``,
        ``actions`` (remove / reweight / relabel the drivers: predicted and, with
        ``verify``, actual change after retraining), ``random_baseline``,
        ``group_attribution``, ``closing_curve`` and ``undersampled_slices``.

    Raises
    ------
    InvalidParameterError
        Unknown ``target``, unsupported model (the message names the methods
        that apply), or a target the model cannot express.
    NotFittedError
        The model is not fitted.
    DataValidationError
        Mismatched rows, or fewer than two held-out groups large enough.

    See Also
    --------
    undersampled_slices : The slice report on its own.
    explain_query : Privacy-aware presentation of the top training cases.
    """
    from scrutiny.attribution._linear import linear_parts, normalize_groups

    start = time.perf_counter()
    if target not in DISPARITY_TARGETS:
        raise InvalidParameterError.from_value("target", WHERE, f"one of {DISPARITY_TARGETS}",
                                               target)
    for name, value, low in (("top_k", top_k, 1), ("n_clusters", n_clusters, 2),
                             ("n_random", n_random, 0), ("min_group_size", min_group_size, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise InvalidParameterError.from_value(name, WHERE, f"an integer >= {low}", value)
    if not 0 <= float(reweight) < 1:
        raise InvalidParameterError.from_value("reweight", WHERE, "a weight in [0, 1)", reweight)
    check_fitted(model)
    est, xt, xe, pipe_note = _unwrap(model, X_train, X_eval)
    yt = _labels_1d(y_train, "y_train")
    ye = _labels_1d(y_eval, "y_eval")
    if len(ye) != len(xe):
        msg = f"y_eval has {len(ye)} rows but X_eval has {len(xe)}."
        raise DataValidationError(msg)
    parts = linear_parts(est, xt, yt, sample_weight, damping=damping)
    n = parts.n_train
    sens_eval = _group_labels(sensitive_features, len(xe), "sensitive_features", X_eval)
    gap = _Gap(parts, target, xe, ye, sens_eval, pos_label, int(min_group_size))
    f0 = gap.value()
    grad = gap.gradient()
    v = parts.solve(grad)
    t = parts.train_grads()
    scores = t @ v  # rise of F when example i is removed
    k = int(min(top_k, n - 1))
    order = np.argsort(scores, kind="stable")
    drivers = order[:k][scores[order[:k]] < 0]
    k = len(drivers)
    sw = parts.sample_weight

    notes = [
        f"Score of training example i = first-order change of the smooth {target} gap on the "
        "held-out rows if i were removed (∇Fᵀ H⁻¹ t_i, exact Hessian). Positive: removing i "
        "would WIDEN the gap; negative: i drives the gap. This is the package convention "
        "with the gap as the query loss.",
        f"The gap is measured between the groups {gap.high!r} (highest) and {gap.low!r} "
        "(lowest) of the fitted model, kept fixed for every prediction and retraining.",
        "Smooth gap: predicted probabilities instead of thresholded predictions; the hard gap "
        "(thresholded) is reported beside it and is what a fairness audit measures.",
        "First-order influence under-estimates the effect of removing many examples at once "
        "(Koh et al. 2019); the Newton-step prediction and the retraining check are reported "
        "beside it.",
        *parts.notes,
    ]
    if pipe_note:
        notes.append(pipe_note)
    if target != "group_loss" and parts.spec.kind == "margin" and parts.spec.margin != "log_loss":
        notes.append(f"{parts.spec.name} has no probabilities: the smooth rate uses the "
                     "logistic function of its decision value.")

    # ---- simulated actions -------------------------------------------------
    actions: dict[str, Any] = {}
    base_model = parts.retrain() if verify else None
    base_gap = gap.measure(base_model) if base_model is not None else None
    hard0 = gap.measure(est)[1]

    def _actual(model_after: Any) -> dict[str, float]:
        assert base_gap is not None
        smooth, hard = gap.measure(model_after)
        return {"actual_change": smooth - base_gap[0], "actual_gap": smooth,
                "actual_hard_change": hard - base_gap[1], "actual_hard_gap": hard}

    if k:
        first = float(scores[drivers].sum())
        step = parts.newton_steps([drivers])[0]
        newton = gap.value(parts.theta + step) - f0
        remove = {"k": k, "predicted_change": first, "predicted_gap": f0 + first,
                  "newton_change": newton, "newton_gap": f0 + newton}
        w = sw.copy()
        w[drivers] *= float(reweight)
        rw = {"k": k, "weight": float(reweight),
              "predicted_change": (1.0 - float(reweight)) * first,
              "predicted_gap": f0 + (1.0 - float(reweight)) * first}
        relabel: dict[str, Any] | None = None
        classes = parts.spec.classes
        if classes is not None and len(classes) == 2:
            y_new = yt.copy()
            flip = {classes[0]: classes[1], classes[1]: classes[0]}
            y_new[drivers] = np.array([flip[lab] for lab in yt[drivers].tolist()], dtype=yt.dtype)
            g_old = parts.grads(xt[drivers], yt[drivers])
            g_new = parts.grads(xt[drivers], y_new[drivers])
            change = float(((parts.weights[drivers][:, None] * (g_old - g_new)) @ v).sum())
            relabel = {"k": k, "predicted_change": change, "predicted_gap": f0 + change}
        if verify:
            mask = np.ones(n, bool)
            mask[drivers] = False
            remove.update(_actual(parts.retrain(mask=mask)))
            rw.update(_actual(parts.retrain(weights=w)))
            if relabel is not None:
                relabeled = linear_parts(est, xt, y_new, sample_weight, damping=damping)
                relabel.update(_actual(relabeled.retrain()))
        actions = {"remove": remove, "reweight": rw}
        if relabel is not None:
            actions["relabel"] = relabel

    random_baseline: dict[str, Any] | None = None
    if verify and k and n_random:
        rng = np.random.default_rng(random_state)
        draws = []
        for _ in range(int(n_random)):
            pick = rng.choice(n, size=k, replace=False)
            mask = np.ones(n, bool)
            mask[pick] = False
            draws.append(_actual(parts.retrain(mask=mask)))
        ch = np.array([d["actual_change"] for d in draws])
        hch = np.array([d["actual_hard_change"] for d in draws])
        random_baseline = {
            "k": k, "draws": int(n_random),
            "mean_change": float(ch.mean()), "sd_change": float(ch.std(ddof=1)) if len(ch) > 1
            else 0.0,
            "mean_hard_change": float(hch.mean()),
            "sd_hard_change": float(hch.std(ddof=1)) if len(hch) > 1 else 0.0,
            "changes": ch, "hard_changes": hch,
        }

    # ---- group attribution -------------------------------------------------
    names = _feature_names(X_train, model)
    if groups is None:
        labels = _kmeans_groups(xt, int(min(n_clusters, n - 1)), random_state)
        group_names = [str(g) for g in np.unique(labels)]
        group_list = [np.flatnonzero(labels == g) for g in group_names]
        group_source = f"k-means ({len(group_list)} clusters of the standardised features)"
    elif _is_label_like(groups, X_train):
        labels = _group_labels(groups, n, "groups", X_train)
        group_names = [str(g) for g in np.unique(labels)]
        group_list = [np.flatnonzero(labels == g) for g in group_names]
        group_source = "the slices given"
    else:
        group_list = normalize_groups(groups, n)
        group_names = [f"group {j}" for j in range(len(group_list))]
        group_source = "the index groups given"
    group_rows = []
    usable = [(nm, g) for nm, g in zip(group_names, group_list, strict=True) if 0 < len(g) < n]
    steps = parts.newton_steps([g for _, g in usable]) if usable else np.empty((0, 0))
    driver_set = set(drivers.tolist())
    for (nm, g), stp in zip(usable, steps, strict=True):
        members = np.zeros(n, bool)
        members[g] = True
        row: dict[str, Any] = {
            "group": nm, "size": len(g), "share": len(g) / n,
            "predicted_change": float(scores[g].sum()),
            "newton_change": gap.value(parts.theta + stp) - f0,
            "drivers_in_group": len(driver_set & set(g.tolist())),
            "mean_score": float(scores[g].mean()),
        }
        if groups is None:
            row["description"] = _describe_cluster(xt, members, names)
        if verify:
            row.update(_actual(parts.retrain(mask=~members)))
        group_rows.append(row)
    group_rows.sort(key=lambda r: r["newton_change"])

    # ---- closing curve: predicted gap after removing the top-j drivers --------
    neg = order[scores[order] < 0]
    grid = sorted({int(j) for j in np.unique(np.geomspace(1, max(len(neg), 1), 12).astype(int))})
    cum = np.cumsum(scores[neg]) if len(neg) else np.zeros(0)
    curve = [{"removed": j, "predicted_gap": f0 + float(cum[j - 1])} for j in grid if j <= len(cum)]
    closing = next((j for j in range(len(cum)) if f0 + cum[j] <= 0), None)

    # ---- drivers, slices and findings ----------------------------------------
    sens_train = None
    if train_sensitive_features is not None:
        sens_train = _group_labels(train_sensitive_features, n, "train_sensitive_features",
                                   X_train)
    driver_rows = [{
        "train_index": int(i), "score": float(scores[i]), "label": _py(yt[i]),
        **({"group": str(sens_train[i])} if sens_train is not None else {}),
    } for i in drivers]
    slices = None
    findings: list[dict[str, Any]] = []
    if k:
        msg = (
            f"The {target.replace('_', ' ')} gap between {gap.high!r} and {gap.low!r} is "
            f"{f0:.3f} (smooth) / {hard0:.3f} (thresholded) on {len(xe)} held-out rows. "
            f"Removing the {k} training rows that drive it most is predicted to change it by "
            f"{actions['remove']['newton_change']:+.3f} (Newton step)"
        )
        if verify:
            msg += (f"; retraining without them changed it by "
                    f"{actions['remove']['actual_change']:+.3f} (thresholded "
                    f"{actions['remove']['actual_hard_change']:+.3f})")
            if random_baseline is not None:
                msg += (f", against {random_baseline['mean_change']:+.3f} for {k} random rows")
        labels_of = [str(_py(yt[i])) for i in drivers]
        common, count = np.unique(labels_of, return_counts=True)
        msg += f". Their labels: {dict(zip(common.tolist(), count.tolist(), strict=True))}"
        if sens_train is not None:
            gs, gc = np.unique(sens_train[drivers], return_counts=True)
            msg += f"; their groups: {dict(zip(gs.tolist(), gc.tolist(), strict=True))}"
        findings.append({"kind": "disparity_driver", "message": msg + ".", "count": k})
    else:
        findings.append({
            "kind": "disparity_driver",
            "message": f"No training row's removal is predicted to narrow the {target} gap.",
            "count": 0,
        })
    if sens_train is not None:
        same = bool(set(sens_train.tolist()) & set(sens_eval.tolist()))
        slices = undersampled_slices(xt, sens_train, y=yt if target == "equal_opportunity"
                                     else None, reference=sens_eval if same else None,
                                     pos_label=gap.pos_label if target != "group_loss" else None)
        if not same:
            notes.append("The training and held-out sensitive values share no group, so the "
                         "slice report does not compare shares with the held-out rows.")
        for s in slices:
            if s["undersampled"]:
                findings.append({
                    "kind": "undersampled_slice",
                    "message": f"Slice {s['slice']!r} is undersampled in training: "
                    + "; ".join(s["reasons"]) + ".",
                    "count": s["count"],
                })
    if group_rows:
        best = group_rows[0]
        if best["newton_change"] < 0:
            findings.append({
                "kind": "disparity_driver",
                "message": (
                    f"Of the training {('clusters' if groups is None else 'slices')}, removing "
                    f"{best['group']!r} ({best['size']} rows"
                    + (f"; {best['description']}" if best.get("description") else "")
                    + f") would narrow the gap most: {best['newton_change']:+.3f} predicted"
                    + (f", {best['actual_change']:+.3f} after retraining" if verify else "")
                    + "."
                ),
                "count": best["size"],
            })

    return AttributionResult(
        method=f"disparity:{target}",
        scores=scores[None, :],
        params={
            "target": target, "model": parts.spec.name, "top_k": int(top_k),
            "verify": bool(verify), "reweight": float(reweight), "n_train": n,
            "n_eval": len(xe), "pos_label": _py(gap.pos_label), "damping": parts.damping,
            "groups": group_source, "min_group_size": int(min_group_size),
        },
        seed=random_state,
        seconds=time.perf_counter() - start,
        notes=notes,
        findings=findings,
        extras={
            "gap": {"smooth": f0, "hard": hard0, "high_group": gap.high, "low_group": gap.low,
                    "group_rates": gap.rates0,
                    "refit_smooth": None if base_gap is None else base_gap[0],
                    "refit_hard": None if base_gap is None else base_gap[1]},
            "drivers": driver_rows,
            "actions": actions,
            "random_baseline": random_baseline,
            "group_attribution": group_rows,
            "closing_curve": curve,
            "drivers_to_close_gap": None if closing is None else int(closing + 1),
            "undersampled_slices": slices,
        },
    )


def explain_query(
    result: AttributionResult,
    train_frame: Any,
    *,
    query: int = 0,
    shareable: Sequence[str] | None = None,
    k: int = 5,
    kind: str = "helpful",
    min_group_size: int = 1,
) -> dict[str, Any]:
    """End-user explanation: the training cases behind a prediction, shareable columns only.

    Parameters
    ----------
    result : AttributionResult
        Any per-query attribution (``influence``, ``knn_shapley``...).
    train_frame : DataFrame
        The training rows (pandas, polars or pyarrow), in training order; may
        hold more columns than the model used.
    query : int, default=0
        Row of the query in ``result``.
    shareable : list of str
        Columns that may be shown to the person asking. Required: nothing is
        shown unless it is declared shareable.
    k : int, default=5
        How many training cases.
    kind : {"helpful", "harmful"}, default="helpful"
        Cases that supported the prediction (largest positive scores) or went
        against it.
    min_group_size : int, default=1
        Withhold a case whose shareable values are shared by fewer than this
        many training rows (a k-anonymity guard; 1 turns it off).

    Returns
    -------
    dict
        ``query``, ``method``, ``shown_columns``, ``cases`` (each with ``rank``,
        ``direction``, ``strength`` in [0, 1] relative to the strongest case and
        ``values`` restricted to the shareable columns, or ``withheld``) and a
        ``note``. Training-row indices and raw scores are not included.

    Raises
    ------
    InvalidParameterError
        No shareable column declared, bad ``k``/``kind``/``min_group_size``.
    ColumnNotFoundError
        A shareable column is not in ``train_frame``.
    DataValidationError
        ``train_frame`` does not have one row per training example.
    """
    where = "explain_query"
    if not shareable or isinstance(shareable, str):
        msg = (
            "explain_query shows training cases only through columns declared shareable, and "
            f"none were declared (shareable={shareable!r}). Pass shareable=[...] with the "
            "columns that may be shown, e.g. shareable=['age', 'occupation']."
        )
        raise InvalidParameterError(msg)
    if kind not in ("helpful", "harmful"):
        raise InvalidParameterError.from_value("kind", where, "'helpful' or 'harmful'", kind)
    for name, value in (("k", k), ("min_group_size", min_group_size)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise InvalidParameterError.from_value(name, where, "an integer >= 1", value)
    frame = train_frame
    if hasattr(frame, "to_pandas") and not hasattr(frame, "iloc"):
        frame = frame.to_pandas()
    if not hasattr(frame, "columns"):
        msg = (f"train_frame must be a DataFrame with named columns, got "
               f"{type(train_frame).__name__}.")
        raise InvalidParameterError(msg)
    cols = list(shareable)
    for c in cols:
        if c not in frame.columns:
            raise ColumnNotFoundError.from_missing(c, [str(x) for x in frame.columns],
                                                   parameter="shareable")
    n_train = (result.scores.shape[1] if result.scores is not None
               else result.params.get("n_train"))
    if n_train is not None and len(frame) != n_train:
        msg = (f"train_frame has {len(frame)} rows but the attribution covers {n_train} "
               "training examples. Pass the training rows in training order.")
        raise DataValidationError(msg)
    pairs = result.top(query, k, kind=kind)
    shown = frame[cols].reset_index(drop=True)
    counts = None
    if min_group_size > 1:
        counts = shown.assign(_rows=1).groupby(cols, dropna=False)["_rows"].transform("size")
    strongest = max((abs(s) for _, s in pairs), default=0.0) or 1.0
    cases = []
    for rank, (i, s) in enumerate(pairs, start=1):
        case: dict[str, Any] = {
            "rank": rank,
            "direction": "supported the prediction" if s > 0 else "went against the prediction",
            "strength": round(abs(s) / strongest, 3),
        }
        if counts is not None and int(counts.iloc[i]) < min_group_size:
            case["withheld"] = (f"fewer than {min_group_size} training rows share these "
                                "values")
        else:
            case["values"] = {c: _py(shown.iloc[i][c]) for c in cols}
        cases.append(case)
    return {
        "query": int(query),
        "method": result.method,
        "shown_columns": cols,
        "cases": cases,
        "note": (
            "Similar training cases shown through the declared shareable columns only; other "
            "columns, row identifiers and raw scores are left out. Cases illustrate what the "
            "model learned from; they are not the only reason for the prediction."
        ),
    }

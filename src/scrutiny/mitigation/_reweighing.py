"""Kamiran & Calders reweighing, and the input checks shared by the mitigators."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from scrutiny.exceptions import DataValidationError, InvalidParameterError, NotFittedError

# --------------------------------------------------------------------------- shared checks


def binary_labels(y: Any, where: str, pos_label: Any = None) -> tuple[np.ndarray, np.ndarray, Any]:
    """(labels as given, 0/1 array, positive label) or a clear error for other tasks."""
    from sklearn.utils.multiclass import type_of_target

    arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    kind = type_of_target(arr)
    if kind != "binary":
        what = {
            "continuous": "continuous targets (regression)",
            "multiclass": f"{len(np.unique(arr))} classes (multiclass)",
        }.get(kind, f"targets of type {kind!r}")
        msg = (
            f"{where} applies to binary classification only; y holds {what}. "
            "Pass 0/1 (or two-valued) labels; scrutiny.mitigation has no mitigator for "
            "multiclass or regression tasks yet (measure their gaps with "
            "scrutiny.fairness.assess)."
        )
        raise InvalidParameterError(msg)
    classes = np.unique(arr)
    if pos_label is None:
        pos_label = classes[1]
    if pos_label not in classes.tolist():
        raise InvalidParameterError.from_value(
            "pos_label", where, f"one of the labels {classes.tolist()}", pos_label)
    return arr, (arr == pos_label).astype(int), pos_label


def group_labels(sensitive_features: Any, n: int, where: str) -> np.ndarray:
    """One string group label per row (several columns make intersectional groups)."""
    from scrutiny.attribution._disparity import _group_labels

    if sensitive_features is None:
        msg = (
            f"{where} needs sensitive_features (one group value per row, keyword-only). "
            "Got None."
        )
        raise InvalidParameterError(msg)
    return _group_labels(sensitive_features, n, "sensitive_features")


def n_rows(X: Any) -> int:
    """Number of rows of a matrix-like input."""
    return int(X.shape[0]) if hasattr(X, "shape") else len(X)


def check_fitted(est: Any, attr: str) -> None:
    """Raise NotFittedError (naming the class and the fix) when ``attr`` is missing."""
    if not hasattr(est, attr):
        msg = f"This {type(est).__name__} instance is not fitted yet: call fit first."
        raise NotFittedError(msg)


# --------------------------------------------------------------------------- reweighing


class Reweighing(BaseEstimator):
    """Reweigh training rows so that label and group are independent (Kamiran & Calders).

    Each row of group ``s`` with label ``y`` gets the weight
    ``P(s) P(y) / P(s, y)`` (weighted frequencies when ``sample_weight`` is
    given, which then multiplies the result). A model trained with these
    weights sees every group with the same base rate. The weights equal
    AIF360's ``Reweighing`` instance weights for a binary sensitive attribute;
    several groups (or several sensitive columns, intersected) are handled the
    same way.

    Parameters
    ----------
    pos_label : scalar, default=None
        The favourable label; default the larger of the two labels.

    Attributes
    ----------
    weights_ : ndarray of shape (n_samples,)
        The weight of each row passed to ``fit``.
    group_weights_ : dict
        ``{(group, label): weight}`` for every observed combination.
    groups_ : ndarray
        The group labels seen in ``fit``.
    classes_ : ndarray of shape (2,)
        The two labels.

    See Also
    --------
    GroupThresholds : Post-processing with group-specific thresholds.
    InfluenceReweighting : Down-weights the rows that drive a gap.

    Examples
    --------
    >>> from scrutiny.mitigation import Reweighing
    >>> w = Reweighing().sample_weight([[0]] * 4, [1, 0, 1, 1], sensitive_features=list("aabb"))
    >>> w.tolist()
    [1.5, 0.5, 0.75, 0.75]
    """

    def __init__(self, *, pos_label: Any = None) -> None:
        self.pos_label = pos_label

    def fit(self, X: Any, y: Any, *, sensitive_features: Any,
            sample_weight: Any = None) -> Reweighing:
        """Compute the weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features (only their number of rows is used).
        y : array-like of shape (n_samples,)
            Binary labels.
        sensitive_features : array-like, DataFrame or dict of arrays
            Group of each row, keyword-only.
        sample_weight : array-like of shape (n_samples,), default=None
            Prior row weights (AIF360's ``instance_weights``).

        Returns
        -------
        Reweighing
            The fitted instance.

        Raises
        ------
        InvalidParameterError
            If ``y`` is not binary.
        DataValidationError
            If lengths disagree or weights are negative.
        """
        n = n_rows(X)
        arr, y01, pos = binary_labels(y, "Reweighing", self.pos_label)
        if len(arr) != n:
            msg = f"y has {len(arr)} rows but X has {n}. Pass one label per row."
            raise DataValidationError(msg)
        groups = group_labels(sensitive_features, n, "Reweighing")
        w0 = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if w0.shape != (n,) or np.any(w0 < 0) or not np.all(np.isfinite(w0)):
            msg = (
                f"sample_weight must hold {n} finite non-negative values; got shape "
                f"{w0.shape}. Pass one weight per row or None."
            )
            raise DataValidationError(msg)
        total = w0.sum()
        weights = w0.copy()
        table: dict[tuple[Any, Any], float] = {}
        gnames = np.unique(groups)
        neg = next(c for c in np.unique(arr).tolist() if c != pos)
        for g in gnames:
            in_g = groups == g
            n_g = w0[in_g].sum()
            for label in (0, 1):
                cell = in_g & (y01 == label)
                n_gy = w0[cell].sum()
                if not cell.any():
                    continue
                n_y = w0[y01 == label].sum()
                factor = (n_g * n_y) / (total * n_gy) if n_gy > 0 else 1.0
                weights[cell] = w0[cell] * factor
                table[(g, pos if label == 1 else neg)] = factor
        self.weights_ = weights
        self.group_weights_ = table
        self.groups_ = gnames
        self.classes_ = np.unique(arr)
        self.pos_label_ = pos
        return self

    def sample_weight(self, X: Any, y: Any, *, sensitive_features: Any,
                      sample_weight: Any = None) -> np.ndarray:
        """Fit and return the weights (the ``fit_transform`` of this pre-processor).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            Binary labels.
        sensitive_features : array-like, DataFrame or dict of arrays
            Group of each row, keyword-only.
        sample_weight : array-like of shape (n_samples,), default=None
            Prior row weights.

        Returns
        -------
        ndarray of shape (n_samples,)
            Pass it as ``sample_weight`` to the model's ``fit``.
        """
        return self.fit(X, y, sensitive_features=sensitive_features,
                        sample_weight=sample_weight).weights_

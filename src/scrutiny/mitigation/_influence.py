"""Data-centric fixes: down-weight or remove the training rows that drive a gap."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from scrutiny.exceptions import DataValidationError, InvalidParameterError, ScrutinyWarning
from scrutiny.mitigation._reweighing import binary_labels, check_fitted, group_labels, n_rows

_CONVEX = ("LogisticRegression", "LinearSVC", "SGDClassifier")


def _take(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if hasattr(X, "iloc") else np.asarray(X)[idx]


class _InfluenceFix(ClassifierMixin, BaseEstimator):
    _where = ""

    def __init__(self, *, estimator: Any = None, top_k: int = 100,
                 target: str = "equal_opportunity", validation_fraction: float = 0.3,
                 random_state: int | None = None) -> None:
        self.estimator = estimator
        self.top_k = top_k
        self.target = target
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def _base(self) -> Any:
        if self.estimator is None:
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(max_iter=2000)
        last = self.estimator[-1] if hasattr(self.estimator, "steps") else self.estimator
        if type(last).__name__ not in _CONVEX:
            msg = (
                f"The 'estimator' parameter of {self._where} must be a convex model whose "
                f"influence is exact ({', '.join(_CONVEX)}, or a Pipeline ending in one). Got "
                f"{type(last).__name__}. For other models use Reweighing, "
                "ExponentiatedGradient, GridSearch or GroupThresholds."
            )
            raise InvalidParameterError(msg)
        return self.estimator

    def _validate(self) -> None:
        if not isinstance(self.top_k, int | np.integer) or self.top_k < 1:
            raise InvalidParameterError.from_value("top_k", self._where, "an int >= 1",
                                                   self.top_k)
        if self.target not in ("equal_opportunity", "demographic_parity"):
            raise InvalidParameterError.from_value(
                "target", self._where, "one of ['demographic_parity', 'equal_opportunity']",
                self.target)
        if not 0 < self.validation_fraction < 1:
            raise InvalidParameterError.from_value(
                "validation_fraction", self._where, "a number in (0, 1)",
                self.validation_fraction)

    def _row_weights(self, n: int, drivers: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def fit(self, X: Any, y: Any, *, sensitive_features: Any, X_val: Any = None,
            y_val: Any = None, sensitive_features_val: Any = None) -> Any:
        """Fit, find the rows that drive the gap, act on them, refit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            Binary labels.
        sensitive_features : array-like, DataFrame or dict of arrays
            Group of each training row, keyword-only.
        X_val, y_val, sensitive_features_val : array-like, default=None
            Validation rows the gap is measured on. When omitted, a stratified
            ``validation_fraction`` of the training rows is held out for the
            measurement and the model is fitted on the rest.

        Returns
        -------
        self
            The fitted instance.

        Raises
        ------
        InvalidParameterError
            If the model is not convex, ``y`` is not binary or a parameter is
            out of range.
        """
        from sklearn.model_selection import train_test_split

        from scrutiny.attribution import attribute_disparity

        self._validate()
        base = self._base()
        n = n_rows(X)
        binary_labels(y, self._where)
        groups = group_labels(sensitive_features, n, self._where)
        y_arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y).ravel()
        given = [v is not None for v in (X_val, y_val, sensitive_features_val)]
        if any(given) and not all(given):
            msg = (
                f"{self._where}.fit needs all of X_val, y_val and sensitive_features_val, or "
                "none of them (then a validation split is held out)."
            )
            raise InvalidParameterError(msg)
        if all(given):
            train = np.arange(n)
            xv, yv = X_val, np.asarray(y_val)
            gv = group_labels(sensitive_features_val, n_rows(X_val), self._where)
        else:
            train, val = train_test_split(
                np.arange(n), test_size=self.validation_fraction, stratify=y_arr,
                random_state=self.random_state)
            train, val = np.sort(train), np.sort(val)
            xv, yv, gv = _take(X, val), y_arr[val], groups[val]
        xt, yt = _take(X, train), y_arr[train]
        if self.top_k >= len(train):
            msg = (
                f"top_k={self.top_k} leaves no training rows ({len(train)} available). "
                "Pass a smaller top_k."
            )
            raise DataValidationError(msg)
        model = clone(base).fit(xt, yt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScrutinyWarning)
            res = attribute_disparity(model, xt, yt, xv, yv, sensitive_features=gv,
                                      target=self.target, top_k=self.top_k, verify=False)
        scores = np.asarray(res.scores)[0]
        order = np.argsort(scores, kind="stable")[: self.top_k]
        drivers = order[scores[order] < 0]  # only rows whose removal narrows the gap
        w = self._row_weights(len(train), drivers)
        keep = w > 0
        fit_kw = {}
        if not np.all(w[keep] == 1.0):
            fit_kw = {_weight_name(base): w[keep]}
        self.estimator_ = clone(base).fit(_take(xt, np.flatnonzero(keep)), yt[keep], **fit_kw)
        self.scores_ = scores
        self.drivers_ = train[drivers]
        self.train_indices_ = train
        self.row_weights_ = w
        self.gap_before_ = res.extras["gap"] if isinstance(res.extras, dict) else None
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predict with the refitted model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted labels.
        """
        check_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the refitted model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Probabilities.
        """
        check_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)


def _weight_name(base: Any) -> str:
    if hasattr(base, "steps"):
        return f"{base.steps[-1][0]}__sample_weight"
    return "sample_weight"


class InfluenceReweighting(_InfluenceFix):
    """Down-weight the training rows that drive a group gap, then refit.

    The model (convex, so influence is exact) is fitted, the gap is measured
    on validation rows, and :func:`scrutiny.attribution.attribute_disparity`
    scores every training row (negative score: removing the row would narrow
    the gap). The ``top_k`` most negative rows get weight ``weight`` and the
    model is refitted. Influence is first-order: check the refitted gap on
    held-out data (the guide shows how).

    Parameters
    ----------
    estimator : estimator, default=None
        ``LogisticRegression``, ``LinearSVC``, ``SGDClassifier`` or a Pipeline
        ending in one; None means ``LogisticRegression(max_iter=2000)``.
    top_k : int, default=100
        How many driving rows to act on (fewer if fewer have negative scores).
    weight : float, default=0.0
        The weight those rows get (0 is removal, 1 changes nothing).
    target : {"equal_opportunity", "demographic_parity"}, default="equal_opportunity"
        The gap (smooth, see :func:`~scrutiny.attribution.attribute_disparity`).
    validation_fraction : float, default=0.3
        Share of rows held out for the measurement when no validation data is passed.
    random_state : int or None, default=None
        Seed of the validation split.

    Attributes
    ----------
    estimator_ : estimator
        The refitted model.
    scores_ : ndarray of shape (n_train,)
        Influence of each training row on the gap.
    drivers_ : ndarray
        Indices (into ``X``) of the rows acted on.
    row_weights_ : ndarray of shape (n_train,)
        Weight of each training row in the refit.
    train_indices_ : ndarray
        Indices (into ``X``) of the rows the model was fitted on.
    classes_ : ndarray
        The labels.

    See Also
    --------
    InfluenceRemoval : Removes the rows instead.
    Reweighing : Group-level reweighing.

    Examples
    --------
    >>> import numpy as np
    >>> from scrutiny.mitigation import InfluenceReweighting
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 3)); g = np.repeat(["a", "b"], 300)
    >>> y = (X[:, 0] + (g == "a") + rng.normal(size=600) > 0.5).astype(int)
    >>> fix = InfluenceReweighting(top_k=20, weight=0.2, random_state=0)
    >>> fix.fit(X, y, sensitive_features=g).predict(X).shape
    (600,)
    """

    _where = "InfluenceReweighting"

    def __init__(self, *, estimator: Any = None, top_k: int = 100, weight: float = 0.0,
                 target: str = "equal_opportunity", validation_fraction: float = 0.3,
                 random_state: int | None = None) -> None:
        super().__init__(estimator=estimator, top_k=top_k, target=target,
                         validation_fraction=validation_fraction, random_state=random_state)
        self.weight = weight

    def _row_weights(self, n: int, drivers: np.ndarray) -> np.ndarray:
        if not isinstance(self.weight, int | float) or not 0 <= self.weight <= 1:
            raise InvalidParameterError.from_value("weight", self._where, "a number in [0, 1]",
                                                   self.weight)
        w = np.ones(n)
        w[drivers] = self.weight
        return w


class InfluenceRemoval(_InfluenceFix):
    """Remove the training rows that drive a group gap, then refit.

    Same as :class:`InfluenceReweighting` with ``weight=0``: the ``top_k``
    rows with the most negative
    :func:`~scrutiny.attribution.attribute_disparity` scores are dropped.

    Parameters
    ----------
    estimator : estimator, default=None
        ``LogisticRegression``, ``LinearSVC``, ``SGDClassifier`` or a Pipeline
        ending in one; None means ``LogisticRegression(max_iter=2000)``.
    top_k : int, default=100
        How many driving rows to remove.
    target : {"equal_opportunity", "demographic_parity"}, default="equal_opportunity"
        The gap.
    validation_fraction : float, default=0.3
        Share of rows held out for the measurement when no validation data is passed.
    random_state : int or None, default=None
        Seed of the validation split.

    Attributes
    ----------
    estimator_ : estimator
        The refitted model.
    scores_ : ndarray of shape (n_train,)
        Influence of each training row on the gap.
    drivers_ : ndarray
        Indices (into ``X``) of the removed rows.
    row_weights_ : ndarray of shape (n_train,)
        1 for kept rows, 0 for removed ones.
    train_indices_ : ndarray
        Indices (into ``X``) of the candidate training rows.
    classes_ : ndarray
        The labels.

    See Also
    --------
    InfluenceReweighting : Down-weights instead of removing.

    Examples
    --------
    >>> import numpy as np
    >>> from scrutiny.mitigation import InfluenceRemoval
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 3)); g = np.repeat(["a", "b"], 300)
    >>> y = (X[:, 0] + (g == "a") + rng.normal(size=600) > 0.5).astype(int)
    >>> fix = InfluenceRemoval(top_k=20, random_state=0).fit(X, y, sensitive_features=g)
    >>> len(fix.drivers_) <= 20
    True
    """

    _where = "InfluenceRemoval"

    def _row_weights(self, n: int, drivers: np.ndarray) -> np.ndarray:
        w = np.ones(n)
        w[drivers] = 0.0
        return w

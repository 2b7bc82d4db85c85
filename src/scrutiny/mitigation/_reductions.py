"""Thin wrappers over Fairlearn's reductions (lazy import), ``sensitive_features`` keyword-only."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from scrutiny.exceptions import InvalidParameterError
from scrutiny.mitigation._reweighing import binary_labels, check_fitted
from scrutiny.mitigation._thresholds import import_fairlearn

REDUCTION_CONSTRAINTS = {
    "demographic_parity": "DemographicParity",
    "equalized_odds": "EqualizedOdds",
    "equal_opportunity": "TruePositiveRateParity",
    "false_positive_rate_parity": "FalsePositiveRateParity",
    "error_rate_parity": "ErrorRateParity",
}


def _moment(constraints: Any, where: str, red: Any) -> Any:
    if isinstance(constraints, str):
        if constraints not in REDUCTION_CONSTRAINTS:
            raise InvalidParameterError.from_value(
                "constraints", where,
                f"one of {sorted(REDUCTION_CONSTRAINTS)} or a fairlearn Moment", constraints)
        return getattr(red, REDUCTION_CONSTRAINTS[constraints])()
    if isinstance(constraints, red.Moment):
        return copy.deepcopy(constraints)  # Fairlearn stores data on the Moment
    raise InvalidParameterError.from_value(
        "constraints", where, f"one of {sorted(REDUCTION_CONSTRAINTS)} or a fairlearn Moment",
        constraints)


def _check_estimator(estimator: Any, where: str) -> None:
    import inspect

    fit = getattr(estimator, "fit", None)
    if fit is None or not hasattr(estimator, "predict"):
        msg = (
            f"The 'estimator' parameter of {where} must be a scikit-learn classifier with "
            f"fit and predict. Got {type(estimator).__name__}."
        )
        raise InvalidParameterError(msg)
    if "sample_weight" not in inspect.signature(fit).parameters:
        msg = (
            f"The 'estimator' parameter of {where} must accept sample_weight in fit (the "
            f"reduction reweighs rows). {type(estimator).__name__}.fit does not. Use "
            "GroupThresholds (needs predict_proba only) instead."
        )
        raise InvalidParameterError(msg)


class _Reduction(ClassifierMixin, BaseEstimator):
    _where = ""

    def _make(self, red: Any, moment: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, X: Any, y: Any, *, sensitive_features: Any, **fit_params: Any) -> Any:
        """Fit Fairlearn's reduction.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            Binary labels.
        sensitive_features : array-like, DataFrame or dict of arrays
            Group of each row, keyword-only.
        **fit_params : dict
            Passed on to Fairlearn's ``fit``.

        Returns
        -------
        self
            The fitted instance.

        Raises
        ------
        InvalidParameterError
            If ``y`` is not binary or the estimator cannot take ``sample_weight``.
        MissingDependencyError
            If Fairlearn is not installed.
        """
        binary_labels(y, self._where)
        _check_estimator(self.estimator, self._where)
        red = import_fairlearn("fairlearn.reductions", self._where)
        moment = _moment(self.constraints, self._where, red)
        self.mitigator_ = self._make(red, moment).fit(
            X, y, sensitive_features=sensitive_features, **fit_params)
        self.classes_ = np.unique(np.asarray(y))
        return self


class ExponentiatedGradient(_Reduction):
    """Fairlearn's exponentiated-gradient reduction (Agarwal et al. 2018), wrapped.

    Gives exactly Fairlearn's ``ExponentiatedGradient`` results: the fitted
    object is ``mitigator_``; ``predict`` draws from the randomized classifier
    with ``random_state``. Fairlearn is imported on ``fit``.

    Parameters
    ----------
    estimator : estimator
        A classifier whose ``fit`` accepts ``sample_weight``.
    constraints : str or fairlearn.reductions.Moment, default="demographic_parity"
        ``"demographic_parity"``, ``"equalized_odds"``, ``"equal_opportunity"``
        (true-positive-rate parity), ``"false_positive_rate_parity"``,
        ``"error_rate_parity"``, or a Moment (copied before use).
    eps : float, default=0.01
        Allowed constraint violation.
    max_iter : int, default=50
        Maximum iterations.
    nu : float or None, default=None
        Convergence threshold (Fairlearn's default when None).
    eta0 : float, default=2.0
        Initial learning rate.
    run_linprog_step : bool, default=True
        Whether to run the linear-program step.
    random_state : int or None, default=None
        Seed of the randomized ``predict``.

    Attributes
    ----------
    mitigator_ : fairlearn.reductions.ExponentiatedGradient
        The fitted Fairlearn object.
    classes_ : ndarray
        The labels.

    See Also
    --------
    GridSearch : Deterministic reduction (one model).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from scrutiny.mitigation import ExponentiatedGradient
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)); g = np.repeat(["a", "b"], 100)
    >>> y = (X[:, 0] + (g == "a") > 0.5).astype(int)
    >>> eg = ExponentiatedGradient(estimator=LogisticRegression(), random_state=0)
    >>> eg.fit(X, y, sensitive_features=g).predict(X).shape
    (200,)
    """

    _where = "ExponentiatedGradient"

    def __init__(self, *, estimator: Any, constraints: Any = "demographic_parity",
                 eps: float = 0.01, max_iter: int = 50, nu: float | None = None,
                 eta0: float = 2.0, run_linprog_step: bool = True,
                 random_state: int | None = None) -> None:
        self.estimator = estimator
        self.constraints = constraints
        self.eps = eps
        self.max_iter = max_iter
        self.nu = nu
        self.eta0 = eta0
        self.run_linprog_step = run_linprog_step
        self.random_state = random_state

    def _make(self, red: Any, moment: Any) -> Any:
        return red.ExponentiatedGradient(
            self.estimator, moment, eps=self.eps, max_iter=self.max_iter, nu=self.nu,
            eta0=self.eta0, run_linprog_step=self.run_linprog_step)

    def predict(self, X: Any) -> np.ndarray:
        """Predict with the randomized classifier (seeded by ``random_state``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted labels.
        """
        check_fitted(self, "mitigator_")
        return self.mitigator_.predict(X, random_state=self.random_state)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of each label under the randomized classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Fairlearn's ``_pmf_predict``.
        """
        check_fitted(self, "mitigator_")
        return self.mitigator_._pmf_predict(X)


class GridSearch(_Reduction):
    """Fairlearn's grid-search reduction, wrapped: one deterministic model.

    Gives exactly Fairlearn's ``GridSearch`` results (the fitted object is
    ``mitigator_``). Fairlearn is imported on ``fit``.

    Parameters
    ----------
    estimator : estimator
        A classifier whose ``fit`` accepts ``sample_weight``.
    constraints : str or fairlearn.reductions.Moment, default="demographic_parity"
        As for :class:`ExponentiatedGradient`.
    selection_rule : str, default="tradeoff_optimization"
        Fairlearn's rule for picking the best model.
    constraint_weight : float, default=0.5
        Weight of the constraint violation in the trade-off.
    grid_size : int, default=10
        Number of Lagrange multiplier vectors.
    grid_limit : float, default=2.0
        Largest multiplier.

    Attributes
    ----------
    mitigator_ : fairlearn.reductions.GridSearch
        The fitted Fairlearn object.
    classes_ : ndarray
        The labels.

    See Also
    --------
    ExponentiatedGradient : Randomized reduction that meets the constraint more tightly.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from scrutiny.mitigation import GridSearch
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)); g = np.repeat(["a", "b"], 100)
    >>> y = (X[:, 0] + (g == "a") > 0.5).astype(int)
    >>> gs = GridSearch(estimator=LogisticRegression(), grid_size=5)
    >>> gs.fit(X, y, sensitive_features=g).predict(X).shape
    (200,)
    """

    _where = "GridSearch"

    def __init__(self, *, estimator: Any, constraints: Any = "demographic_parity",
                 selection_rule: str = "tradeoff_optimization", constraint_weight: float = 0.5,
                 grid_size: int = 10, grid_limit: float = 2.0) -> None:
        self.estimator = estimator
        self.constraints = constraints
        self.selection_rule = selection_rule
        self.constraint_weight = constraint_weight
        self.grid_size = grid_size
        self.grid_limit = grid_limit

    def _make(self, red: Any, moment: Any) -> Any:
        return red.GridSearch(
            self.estimator, moment, selection_rule=self.selection_rule,
            constraint_weight=self.constraint_weight, grid_size=self.grid_size,
            grid_limit=self.grid_limit)

    def predict(self, X: Any) -> np.ndarray:
        """Predict with the selected model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted labels.
        """
        check_fitted(self, "mitigator_")
        return self.mitigator_.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of the selected model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Class probabilities.
        """
        check_fitted(self, "mitigator_")
        return self.mitigator_.predict_proba(X)

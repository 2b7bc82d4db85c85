"""Group-specific thresholds on a scorer's probabilities (post-processing)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from scrutiny.exceptions import InvalidParameterError, MissingDependencyError
from scrutiny.mitigation._reweighing import binary_labels, check_fitted, group_labels, n_rows

CONSTRAINTS = ("equalized_odds", "equal_opportunity", "demographic_parity")
_FAIRLEARN_NAMES = {
    "equalized_odds": "equalized_odds",
    "equal_opportunity": "true_positive_rate_parity",
    "demographic_parity": "demographic_parity",
}


def import_fairlearn(module: str, what: str) -> Any:
    """Import a fairlearn module or raise MissingDependencyError naming the install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - fairlearn is installed in the test env
        msg = (
            f"{what} needs Fairlearn, which is not installed. Run `pip install fairlearn` "
            "(or `pip install scrutiny[mitigation]`)."
        )
        raise MissingDependencyError(msg) from exc


def _threshold_for_rate(scores: np.ndarray, w: np.ndarray, rate: float) -> float:
    """Smallest threshold t with weighted share of ``scores >= t`` at most ``rate``."""
    if len(scores) == 0:
        return 0.5
    order = np.argsort(-scores, kind="stable")
    s, cw = scores[order], np.cumsum(w[order]) / w.sum()
    k = int(np.searchsorted(cw, rate + 1e-12, side="right"))  # rows k-1.. first k selected
    if k <= 0:
        return float(np.nextafter(s[0], np.inf))
    if k >= len(s):
        return float(s[-1])
    # selected rows are those with score >= s[k-1]; ties stay together
    return float(np.nextafter(s[k], np.inf)) if s[k] < s[k - 1] else float(s[k - 1])


class GroupThresholds(ClassifierMixin, BaseEstimator):
    """Post-processing with group-specific thresholds on ``predict_proba``.

    Two modes:

    * ``deterministic=True`` (default): one plain threshold per group.
      Candidates come from a sweep of a common target rate ``r`` over
      ``grid_size`` values in [0, 1]: for ``"demographic_parity"`` each group's
      threshold gives it selection rate ``r``; for ``"equal_opportunity"``
      true-positive rate ``r``; for ``"equalized_odds"`` both sweeps (matched
      true-positive rates, and matched false-positive rates) are candidates.
      Every candidate's gap (on the data passed to ``fit``, for equalized odds
      the larger of the TPR and FPR gaps) and accuracy are computed; the
      chosen thresholds have the highest accuracy among candidates whose gap
      is within ``tolerance`` of the smallest gap found. Predictions are
      reproducible and explainable ("score >= t_g").
    * ``deterministic=False``: Fairlearn's ``ThresholdOptimizer`` (lazily
      imported; this mode wraps it and gives its results), which mixes two
      thresholds per group at random to reach the constraint exactly on the
      fitting data.

    Fit on validation data (not the rows the scorer was trained on) for an
    honest choice.

    Parameters
    ----------
    estimator : estimator
        A binary classifier with ``predict_proba``.
    constraint : str, default="equalized_odds"
        The gap to close: ``"equalized_odds"``, ``"equal_opportunity"`` or
        ``"demographic_parity"``.
    deterministic : bool, default=True
        Plain per-group thresholds (True) or Fairlearn's randomized ones (False).
    prefit : bool, default=True
        Whether ``estimator`` is already fitted; if False, a clone is fitted
        on the data passed to ``fit``.
    tolerance : float, default=0.01
        Deterministic mode: gap slack traded for accuracy (see above).
    grid_size : int, default=201
        Deterministic mode: target rates tried; randomized mode: Fairlearn's
        ``grid_size``.
    pos_label : scalar, default=None
        The favourable label; default the larger label.
    random_state : int or None, default=None
        Randomized mode: seed passed to Fairlearn's ``predict``.

    Attributes
    ----------
    estimator_ : estimator
        The (fitted) scorer.
    thresholds_ : dict
        Deterministic mode: ``{group: threshold}`` on the positive-class probability.
    threshold_optimizer_ : fairlearn.postprocessing.ThresholdOptimizer
        Randomized mode: the fitted Fairlearn object.
    fit_gap_ : float
        Deterministic mode: the gap of the chosen thresholds on the fitting data.
    classes_ : ndarray of shape (2,)
        The labels.

    See Also
    --------
    Reweighing : Pre-processing alternative that needs no groups at predict time.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from scrutiny.mitigation import GroupThresholds
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2)); g = np.repeat(["a", "b"], 200)
    >>> y = (X[:, 0] + (g == "a") + rng.normal(size=400) > 0.5).astype(int)
    >>> lr = LogisticRegression().fit(X, y)
    >>> gt = GroupThresholds(estimator=lr, constraint="demographic_parity")
    >>> gt = gt.fit(X, y, sensitive_features=g)
    >>> sorted(gt.thresholds_)
    ['a', 'b']
    """

    def __init__(self, *, estimator: Any, constraint: str = "equalized_odds",
                 deterministic: bool = True, prefit: bool = True, tolerance: float = 0.01,
                 grid_size: int = 201, pos_label: Any = None,
                 random_state: int | None = None) -> None:
        self.estimator = estimator
        self.constraint = constraint
        self.deterministic = deterministic
        self.prefit = prefit
        self.tolerance = tolerance
        self.grid_size = grid_size
        self.pos_label = pos_label
        self.random_state = random_state

    # ------------------------------------------------------------------ checks
    def _validate(self) -> None:
        where = "GroupThresholds"
        if self.constraint not in CONSTRAINTS:
            raise InvalidParameterError.from_value(
                "constraint", where, f"one of {list(CONSTRAINTS)}", self.constraint)
        if not hasattr(self.estimator, "predict_proba"):
            name = type(self.estimator).__name__
            msg = (
                f"The 'estimator' parameter of GroupThresholds must have predict_proba "
                f"(thresholds apply to probabilities). Got {name}, which has none. Wrap it "
                "in sklearn.calibration.CalibratedClassifierCV, or use Reweighing, "
                "ExponentiatedGradient or GridSearch, which need only fit/predict."
            )
            raise InvalidParameterError(msg)
        if not isinstance(self.tolerance, int | float) or not 0 <= self.tolerance <= 1:
            raise InvalidParameterError.from_value(
                "tolerance", where, "a number in [0, 1]", self.tolerance)
        if not isinstance(self.grid_size, int) or self.grid_size < 2:
            raise InvalidParameterError.from_value(
                "grid_size", where, "an int >= 2", self.grid_size)

    def _proba(self, X: Any) -> np.ndarray:
        proba = np.asarray(self.estimator_.predict_proba(X))
        if proba.ndim != 2 or proba.shape[1] != 2:
            msg = (
                "GroupThresholds applies to binary classifiers; the estimator's "
                f"predict_proba returned shape {proba.shape}. Use a binary classifier."
            )
            raise InvalidParameterError(msg)
        cls = list(self.estimator_.classes_)
        return proba[:, cls.index(self.pos_label_)]

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any, *, sensitive_features: Any,
            sample_weight: Any = None) -> GroupThresholds:
        """Choose the thresholds.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features (validation data when ``prefit``).
        y : array-like of shape (n_samples,)
            Binary labels.
        sensitive_features : array-like, DataFrame or dict of arrays
            Group of each row, keyword-only.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights (deterministic mode, and fitting when ``prefit=False``).

        Returns
        -------
        GroupThresholds
            The fitted instance.

        Raises
        ------
        InvalidParameterError
            If the estimator has no ``predict_proba``, ``y`` is not binary or a
            parameter is out of range.
        """
        self._validate()
        arr, y01, pos = binary_labels(y, "GroupThresholds", self.pos_label)
        n = n_rows(X)
        groups = group_labels(sensitive_features, n, "GroupThresholds")
        self.pos_label_ = pos
        self.classes_ = np.unique(arr)
        if not self.deterministic:
            post = import_fairlearn("fairlearn.postprocessing",
                                    "GroupThresholds(deterministic=False)")
            self.threshold_optimizer_ = post.ThresholdOptimizer(
                estimator=self.estimator, constraints=_FAIRLEARN_NAMES[self.constraint],
                objective="accuracy_score", grid_size=self.grid_size, prefit=self.prefit,
                predict_method="predict_proba",
            ).fit(X, y, sensitive_features=sensitive_features)
            self.estimator_ = self.threshold_optimizer_.estimator_
            return self
        if self.prefit:
            self.estimator_ = self.estimator
        else:
            kw = {} if sample_weight is None else {"sample_weight": sample_weight}
            self.estimator_ = clone(self.estimator).fit(X, y, **kw)
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        scores = self._proba(X)
        self.thresholds_, self.fit_gap_ = self._search(scores, y01, groups, w)
        return self

    def _search(self, s: np.ndarray, y: np.ndarray, g: np.ndarray,
                w: np.ndarray) -> tuple[dict[str, float], float]:
        uniq, codes = np.unique(g, return_inverse=True)
        names = uniq.tolist()
        rates = np.linspace(0.0, 1.0, self.grid_size)
        sweeps = {"demographic_parity": [None], "equal_opportunity": [1],
                  "equalized_odds": [1, 0]}[self.constraint]
        masks = {k: g == k for k in names}
        best: list[tuple[float, float, dict[str, float]]] = []
        for label in sweeps:
            for r in rates:
                th = {}
                for k in names:
                    m = masks[k] if label is None else masks[k] & (y == label)
                    th[k] = _threshold_for_rate(s[m], w[m], r)
                pred = s >= np.array([th[k] for k in names])[codes]
                best.append((self._gap(pred, y, masks, w), self._acc(pred, y, w), th))
        min_gap = min(b[0] for b in best)
        ok = [b for b in best if b[0] <= min_gap + self.tolerance]
        gap, _, th = max(ok, key=lambda b: (b[1], -b[0]))
        return th, float(gap)

    def _gap(self, pred: np.ndarray, y: np.ndarray, masks: dict[str, np.ndarray],
             w: np.ndarray) -> float:
        def rate(cond: np.ndarray) -> np.ndarray:
            out = []
            for m in masks.values():
                mm = m & cond
                out.append(np.average(pred[mm], weights=w[mm]) if w[mm].sum() > 0 else np.nan)
            v = np.array(out)
            v = v[~np.isnan(v)]
            return float(v.max() - v.min()) if len(v) else 0.0

        everyone = np.ones(len(y), bool)
        if self.constraint == "demographic_parity":
            return rate(everyone)
        if self.constraint == "equal_opportunity":
            return rate(y == 1)
        return max(rate(y == 1), rate(y == 0))

    @staticmethod
    def _acc(pred: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
        return float(np.average(pred == (y == 1), weights=w))

    # ------------------------------------------------------------------ predict
    def predict(self, X: Any, *, sensitive_features: Any) -> np.ndarray:
        """Predict labels with the group thresholds.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        sensitive_features : array-like, DataFrame or dict of arrays
            Group of each row, keyword-only (needed: thresholds are per group).

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted labels. A group unseen in ``fit`` gets threshold 0.5.
        """
        check_fitted(self, "estimator_")
        if not self.deterministic:
            return self.threshold_optimizer_.predict(
                X, sensitive_features=sensitive_features, random_state=self.random_state)
        groups = group_labels(sensitive_features, n_rows(X), "GroupThresholds.predict")
        th = np.array([self.thresholds_.get(k, 0.5) for k in groups.tolist()])
        hit = self._proba(X) >= th
        neg = next(c for c in self.classes_.tolist() if c != self.pos_label_)
        return np.where(hit, self.pos_label_, neg)

    def score(self, X: Any, y: Any, *, sensitive_features: Any,
              sample_weight: Any = None) -> float:
        """Accuracy of ``predict``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,)
            True labels.
        sensitive_features : array-like
            Group of each row.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        float
            Weighted accuracy.
        """
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(y, self.predict(X, sensitive_features=sensitive_features),
                                    sample_weight=sample_weight))

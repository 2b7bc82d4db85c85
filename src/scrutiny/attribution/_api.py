"""``attribute``: one entry point for every training-data attribution method."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from scrutiny.attribution._registry import METHODS, load_builtin
from scrutiny.attribution._result import AttributionResult
from scrutiny.exceptions import DataValidationError, InvalidParameterError, NotFittedError

WHERE = "attribute"


def as_2d(x: Any, name: str) -> np.ndarray:
    """A float 2-D array of features (DataFrames become arrays)."""
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        msg = f"{name} must be 2-D (n_samples, n_features). Got shape {arr.shape}."
        raise DataValidationError(msg)
    return arr


def check_fitted(model: Any) -> None:
    """Raise NotFittedError unless a scikit-learn-style model has been fitted."""
    try:
        from sklearn.exceptions import NotFittedError as SkNotFitted
        from sklearn.utils.validation import check_is_fitted
    except ImportError:  # pragma: no cover - sklearn is a core dependency
        return
    if hasattr(model, "fit") and hasattr(model, "get_params"):
        try:
            check_is_fitted(model)
        except SkNotFitted:
            msg = (
                f"The model ({type(model).__name__}) is not fitted. Call fit(X_train, y_train) "
                "before attributing its predictions."
            )
            raise NotFittedError(msg) from None


def check_shapes(
    model: Any, x_train: np.ndarray, y_train: np.ndarray, x_query: np.ndarray,
    y_query: np.ndarray,
) -> None:
    """Same feature counts everywhere; labels match their rows."""
    if len(y_train) != len(x_train):
        msg = f"y_train has {len(y_train)} rows but X_train has {len(x_train)}."
        raise DataValidationError(msg)
    if len(y_query) != len(x_query):
        msg = f"y_query has {len(y_query)} rows but X_query has {len(x_query)}."
        raise DataValidationError(msg)
    if x_query.shape[1] != x_train.shape[1]:
        msg = (
            f"X_query has {x_query.shape[1]} features but X_train has {x_train.shape[1]}. "
            "Pass the same columns, in the same order."
        )
        raise DataValidationError(msg)
    n_in = getattr(model, "n_features_in_", None)
    if n_in is not None and n_in != x_train.shape[1]:
        msg = (
            f"The model was fitted on {n_in} features but X_train has {x_train.shape[1]}. "
            "Pass the training matrix the model was fitted on (after preprocessing)."
        )
        raise DataValidationError(msg)


def applicable_methods(model: Any) -> list[str]:
    """Names of the registered methods that apply to ``model``."""
    load_builtin()
    return [name for name, m in METHODS.items() if m.applies(model) is None]


def attribute(
    model: Any,
    X_train: Any,
    y_train: Any,
    X_query: Any,
    y_query: Any,
    *,
    method: str = "auto",
    **options: Any,
) -> AttributionResult:
    """Attribute predictions (or a group measurement) to training examples.

    Parameters
    ----------
    model : estimator
        A fitted model (scikit-learn estimator, or a PyTorch module for the
        torch methods).
    X_train, y_train : array-like
        The training data the model was fitted on.
    X_query, y_query : array-like
        The examples whose loss is attributed.
    method : str, default="auto"
        ``"influence"``, ``"newton"``, ``"retrain"`` (convex scikit-learn models),
        ``"knn_shapley"``, ``"data_oob"``, ``"trak"``, ``"tracin"``,
        ``"grad_dot"``, ``"grad_cos"``; ``"auto"`` picks the first that applies.
    **options
        Method options (see each method's documentation).

    Returns
    -------
    AttributionResult
        ``scores[q, i]`` estimates how much query ``q``'s loss would rise if
        training example ``i`` were removed (positive: ``i`` helped ``q``).

    Raises
    ------
    InvalidParameterError
        Unknown method, or a method that does not apply to this model (the
        message names those that do).
    NotFittedError
        The model is not fitted.
    DataValidationError
        Mismatched rows or feature counts.
    """
    load_builtin()
    if method != "auto" and method not in METHODS:
        raise InvalidParameterError.from_value(
            "method", WHERE, f"one of {['auto', *sorted(METHODS)]}", method
        )
    check_fitted(model)
    if method == "auto":
        usable = applicable_methods(model)
        if not usable:
            msg = f"No attribution method applies to a {type(model).__name__}."
            raise InvalidParameterError(msg)
        method = usable[0]
    spec = METHODS[method]
    reason = spec.applies(model)
    if reason is not None:
        others = [m for m in applicable_methods(model) if m != method]
        hint = f" Methods that apply: {others}." if others else ""
        msg = f"method={method!r} does not apply to this model: {reason}.{hint}"
        raise InvalidParameterError(msg)
    start = time.perf_counter()
    result = spec.run(model, X_train, y_train, X_query, y_query, **options)
    if not result.seconds:
        result.seconds = time.perf_counter() - start
    return result

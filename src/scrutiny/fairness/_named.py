"""Named disparity functions, thin wrappers over :func:`assess`.

Each returns one number, like Fairlearn's functions of the same name, but is
computed by the same engine (and so takes any dataframe and sample weights).
"""

from __future__ import annotations

from typing import Any

from scrutiny.fairness._assess import assess


def _disparity(
    metrics: tuple[str, ...],
    what: str,
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    method: str,
    sample_weight: Any,
    data: Any,
    pos_label: Any,
) -> float:
    import warnings

    from scrutiny.exceptions import ScrutinyWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScrutinyWarning)
        r = assess(
            y_true, y_pred, sensitive_features=sensitive_features, sample_weight=sample_weight,
            data=data, metrics=list(metrics), ci=None, task="binary", pos_label=pos_label,
            min_group_size=0,
        )
    vals = [
        r.difference(m, method=method) if what == "difference" else r.ratio(m, method=method)
        for m in metrics
    ]
    return max(vals) if what == "difference" else min(vals)


def demographic_parity_difference(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, method: str = "between_groups",
    sample_weight: Any = None, data: Any = None, pos_label: Any = None,
) -> float:
    """Largest gap in selection rate between groups.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or str
        Observed and predicted labels (column names with ``data``).
    sensitive_features : array-like, DataFrame, str or list of str
        The groups (several columns give intersections).
    method : {"between_groups", "to_overall"}, default="between_groups"
        Compare groups with each other or with the overall value.
    sample_weight : array-like or str, default=None
        Row weights.
    data : DataFrame, default=None
        Frame holding named columns.
    pos_label : scalar, default=None
        Positive label when labels are not 0/1.

    Returns
    -------
    float
        The difference (0 means equal selection rates).

    Examples
    --------
    >>> from scrutiny.fairness import demographic_parity_difference
    >>> demographic_parity_difference([0, 1, 0, 1], [1, 1, 0, 0], sensitive_features=list("aabb"))
    1.0
    """
    return _disparity(("selection_rate",), "difference", y_true, y_pred, sensitive_features,
                      method, sample_weight, data, pos_label)


def demographic_parity_ratio(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, method: str = "between_groups",
    sample_weight: Any = None, data: Any = None, pos_label: Any = None,
) -> float:
    """Smallest selection rate divided by the largest (1 means equal).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or str
        Observed and predicted labels (column names with ``data``).
    sensitive_features : array-like, DataFrame, str or list of str
        The groups.
    method : {"between_groups", "to_overall"}, default="between_groups"
        Compare groups with each other or with the overall value.
    sample_weight : array-like or str, default=None
        Row weights.
    data : DataFrame, default=None
        Frame holding named columns.
    pos_label : scalar, default=None
        Positive label when labels are not 0/1.

    Returns
    -------
    float
        The ratio, between 0 and 1.
    """
    return _disparity(("selection_rate",), "ratio", y_true, y_pred, sensitive_features,
                      method, sample_weight, data, pos_label)


def equalized_odds_difference(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, method: str = "between_groups",
    sample_weight: Any = None, data: Any = None, pos_label: Any = None,
) -> float:
    """The larger of the true-positive-rate and false-positive-rate gaps.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or str
        Observed and predicted labels (column names with ``data``).
    sensitive_features : array-like, DataFrame, str or list of str
        The groups.
    method : {"between_groups", "to_overall"}, default="between_groups"
        Compare groups with each other or with the overall value.
    sample_weight : array-like or str, default=None
        Row weights.
    data : DataFrame, default=None
        Frame holding named columns.
    pos_label : scalar, default=None
        Positive label when labels are not 0/1.

    Returns
    -------
    float
        The difference (0 means equal error rates).
    """
    return _disparity(("true_positive_rate", "false_positive_rate"), "difference", y_true,
                      y_pred, sensitive_features, method, sample_weight, data, pos_label)


def equalized_odds_ratio(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, method: str = "between_groups",
    sample_weight: Any = None, data: Any = None, pos_label: Any = None,
) -> float:
    """The smaller of the true-positive-rate and false-positive-rate ratios.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or str
        Observed and predicted labels (column names with ``data``).
    sensitive_features : array-like, DataFrame, str or list of str
        The groups.
    method : {"between_groups", "to_overall"}, default="between_groups"
        Compare groups with each other or with the overall value.
    sample_weight : array-like or str, default=None
        Row weights.
    data : DataFrame, default=None
        Frame holding named columns.
    pos_label : scalar, default=None
        Positive label when labels are not 0/1.

    Returns
    -------
    float
        The ratio, between 0 and 1.
    """
    return _disparity(("true_positive_rate", "false_positive_rate"), "ratio", y_true, y_pred,
                      sensitive_features, method, sample_weight, data, pos_label)


def equal_opportunity_difference(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, method: str = "between_groups",
    sample_weight: Any = None, data: Any = None, pos_label: Any = None,
) -> float:
    """Largest gap in true positive rate between groups.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or str
        Observed and predicted labels (column names with ``data``).
    sensitive_features : array-like, DataFrame, str or list of str
        The groups.
    method : {"between_groups", "to_overall"}, default="between_groups"
        Compare groups with each other or with the overall value.
    sample_weight : array-like or str, default=None
        Row weights.
    data : DataFrame, default=None
        Frame holding named columns.
    pos_label : scalar, default=None
        Positive label when labels are not 0/1.

    Returns
    -------
    float
        The difference (0 means equal true positive rates).
    """
    return _disparity(("true_positive_rate",), "difference", y_true, y_pred, sensitive_features,
                      method, sample_weight, data, pos_label)

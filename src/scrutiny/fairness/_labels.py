"""Deciding the task (binary, multiclass, regression) and encoding labels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scrutiny.exceptions import ContinuousInputWarning, DataValidationError, InvalidParameterError
from scrutiny.fairness._inputs import WHERE, factorize, is_missing
from scrutiny.fairness._metrics import Task

TASKS = ("auto", "binary", "multiclass", "regression")


@dataclass
class Labels:
    """Encoded labels: class codes for classification, floats for regression."""

    task: Task
    classes: list[Any]
    y_true: np.ndarray | None
    y_pred: np.ndarray | None
    y_score: np.ndarray | None
    pos_label: Any = None
    warnings: list[tuple[type[Warning], str]] | None = None


def _check_no_missing(arr: np.ndarray | None, name: str) -> None:
    if arr is None or arr.dtype.kind in "biu":
        return
    miss = is_missing(arr)
    if miss.any():
        where = np.flatnonzero(miss)[:5].tolist()
        msg = (
            f"{name} has {int(miss.sum())} missing value(s) (NaN or None), first at row(s) "
            f"{where}. {WHERE} cannot score rows without a {name.replace('y_', '')} value: "
            "drop or fill them first."
        )
        raise DataValidationError(msg)


def _is_continuous(arr: np.ndarray) -> bool:
    if arr.dtype.kind != "f":
        return False
    finite = np.isfinite(arr)
    if not finite.all():
        msg = (
            f"Labels passed to {WHERE} contain infinite values. Replace them with finite "
            "numbers or drop those rows."
        )
        raise DataValidationError(msg)
    return bool(np.any(arr != np.floor(arr)))


def _as_codes(arr: np.ndarray, classes: list[Any]) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(classes)}
    codes, cats = factorize(arr)
    # integer categories may include values that never occur: they map nowhere (-1)
    remap = np.array([lookup.get(_norm(c), -1) for c in cats], dtype=np.int64)
    return remap[codes]


def _norm(v: Any) -> Any:
    """Make 1.0 and 1 (and True) the same class label."""
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return int(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def _int_range(arr: np.ndarray | None) -> tuple[int, int] | None:
    """Minimum and maximum of an integer or boolean array (one pass each), else None."""
    if arr is None or arr.dtype.kind not in "biu" or not arr.size:
        return None
    if arr.dtype.kind == "b":
        arr = arr.view(np.int8)
    top = int(arr.view(arr.dtype.str.replace("i", "u")).max())  # one reduction
    if top <= 1:
        return 0, top  # 0/1 labels (a class that never occurs changes nothing)
    return int(arr.min()), int(arr.max())


def _uniques(arr: np.ndarray, span: tuple[int, int] | None = None) -> list[Any]:
    if arr.dtype.kind in "biu" and arr.size:
        lo, hi = span or _int_range(arr)  # type: ignore[misc]
        if hi - lo <= 1:
            return sorted({lo, hi})
        if hi - lo < 1 << 16:
            present = np.bincount(arr.astype(np.int64) - lo) > 0
            return (np.flatnonzero(present) + lo).tolist()
    _, cats = factorize(arr)
    return [_norm(c) for c in cats]


def resolve_labels(
    y_true: np.ndarray | None,
    y_pred: np.ndarray | None,
    y_score: np.ndarray | None,
    *,
    task: str,
    pos_label: Any,
    wants: set[str],
) -> Labels:
    """Validate labels and decide the task.

    ``wants`` is the set of metric kinds the user asked for explicitly
    (``{"binary"}``, ``{"regression"}``...), empty for the defaults.
    """
    if task not in TASKS:
        raise InvalidParameterError.from_value("task", WHERE, f"one of {TASKS}", task)
    if y_true is None:
        msg = f"{WHERE} needs y_true (the observed outcomes). Got None."
        raise InvalidParameterError(msg)
    _check_no_missing(y_true, "y_true")
    _check_no_missing(y_pred, "y_pred")
    if y_score is not None:
        _check_no_missing(y_score, "y_score")
        if y_score.dtype.kind not in "biuf":
            msg = (
                f"y_score must hold numbers (scores or probabilities). Got values of dtype "
                f"{y_score.dtype} instead."
            )
            raise DataValidationError(msg)
    notes: list[tuple[type[Warning], str]] = []

    continuous = (y_pred is not None and _is_continuous(y_pred)) or _is_continuous(y_true)
    if task == "auto":
        if "regression" in wants:
            task = "regression"
        elif continuous:
            if wants & {"binary", "score", "multiclass"}:
                which = "y_pred" if y_pred is not None and _is_continuous(y_pred) else "y_true"
                msg = (
                    f"{which} holds continuous values, but classification metrics were "
                    f"requested. Pass class labels as {which}; pass probabilities or scores "
                    "as y_score, or threshold them first (for example y_pred = y_score >= 0.5)."
                )
                raise DataValidationError(msg)
            task = "regression"
            notes.append(
                (
                    ContinuousInputWarning,
                    "y_true or y_pred holds continuous values, so regression metrics were "
                    "computed. If these are probabilities from a classifier, pass them as "
                    "y_score and pass class labels as y_pred.",
                )
            )
    if task == "regression":
        for arr, name in ((y_true, "y_true"), (y_pred, "y_pred")):
            if arr is not None and arr.dtype.kind not in "biuf":
                msg = (
                    f"Regression metrics need numeric {name}. Got values of dtype {arr.dtype} "
                    "instead; pass task='binary' or 'multiclass' for class labels."
                )
                raise DataValidationError(msg)
        if y_pred is None:
            msg = "Regression metrics need y_pred (the predicted values). Got None."
            raise InvalidParameterError(msg)
        return Labels(
            "regression",
            [],
            y_true.astype(np.float64),
            y_pred.astype(np.float64),
            None,
            warnings=notes,
        )
    if continuous:
        which = "y_pred" if y_pred is not None and _is_continuous(y_pred) else "y_true"
        msg = (
            f"{which} holds continuous values, but task={task!r} needs class labels. "
            f"Pass class labels as {which}; pass probabilities as y_score."
        )
        raise DataValidationError(msg)

    span_true, span_pred = _int_range(y_true), _int_range(y_pred)
    classes = _uniques(y_true, span_true)
    if y_pred is not None:
        classes = sorted(set(classes) | set(_uniques(y_pred, span_pred)), key=_sort_key)
    if task == "auto":
        task = "multiclass" if len(classes) > 2 else "binary"
    if task == "binary":
        if len(classes) > 2:
            msg = (
                f"Binary metrics need two classes, but y_true and y_pred hold {len(classes)} "
                f"distinct labels: {classes[:10]}. Pass task='multiclass' for one-vs-rest "
                "rates, or map the labels to two classes first."
            )
            raise DataValidationError(msg)
        if pos_label is None:
            if set(classes) <= {0, 1}:
                pos_label = 1
            else:
                msg = (
                    f"y_true and y_pred hold the labels {classes}, so it is not clear which one "
                    "is the positive outcome. Pass pos_label= (for example "
                    f"pos_label={classes[-1]!r})."
                )
                raise InvalidParameterError(msg)
        pos = _norm(pos_label)
        if pos not in classes and not (set(classes) <= {0, 1} and pos in (0, 1)):
            msg = (
                f"The 'pos_label' parameter of {WHERE} must be one of the labels {classes}. "
                f"Got {pos_label!r} instead."
            )
            raise InvalidParameterError(msg)
        others = [c for c in classes if c != pos]
        neg = others[0] if others else (0 if pos == 1 else "other")
        ordered = [neg, pos]
        yt = _binary_codes(y_true, pos, span_true)
        yp = _binary_codes(y_pred, pos, span_pred) if y_pred is not None else None
        return Labels("binary", ordered, yt, yp, _score(y_score), pos_label=pos, warnings=notes)
    # multiclass
    if y_score is not None:
        msg = (
            "y_score is supported for binary classification only (one score per row). For "
            "multiclass problems pass y_pred labels, or one-vs-rest scores one class at a time."
        )
        raise InvalidParameterError(msg)
    if y_pred is None:
        msg = "Multiclass metrics need y_pred (the predicted labels). Got None."
        raise InvalidParameterError(msg)
    yt = _as_codes(y_true, classes)
    yp = _as_codes(y_pred, classes)
    return Labels("multiclass", classes, yt, yp, None, warnings=notes)


def _score(y_score: np.ndarray | None) -> np.ndarray | None:
    return None if y_score is None else y_score.astype(np.float64)


def _binary_codes(
    arr: np.ndarray, pos: Any, span: tuple[int, int] | None = None
) -> np.ndarray:
    if arr.dtype.kind == "b":
        return arr.view(np.int8) if pos in (1, True) else (~arr).view(np.int8)
    lo, hi = span or _int_range(arr) or (0, 0)
    if arr.dtype.kind in "iu" and pos == 1 and lo >= 0 and hi <= 1:
        return arr  # already 0/1 codes
    if arr.dtype.kind in "iuf" and isinstance(pos, (int, float)):
        return (arr == pos).astype(np.int8)
    return _object_codes(arr, pos)


def _object_codes(arr: np.ndarray, pos: Any) -> np.ndarray:
    codes, cats = factorize(arr)
    hit = np.array([_norm(c) == pos for c in cats], dtype=np.int8)
    return hit[codes]


def _sort_key(v: Any) -> tuple[int, Any]:
    if isinstance(v, (int, float)):
        return (0, v)
    return (1, str(v))

"""Label issues: a self-influence ranking, always beside confident learning (cleanlab).

Two independent views of "which labels look wrong":

* **self-influence** — how much an example's own loss would rise if it were
  removed from training (``g_i^T H^{-1} g_i`` for convex models). Examples the
  model must memorise, mislabeled ones first, rank high. For models without
  exact linear parts the stated proxy is the *out-of-fold loss*.
* **confident learning** (Northcutt et al., 2021; the ``cleanlab`` package) on
  out-of-fold predicted probabilities — the baseline every "mislabeled" answer
  is compared against.

Neither ranking is ground truth: rows both agree on are the ones to inspect first.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from scrutiny.attribution._api import as_2d, check_fitted
from scrutiny.attribution._registry import METHODS, load_builtin
from scrutiny.attribution._result import AttributionResult
from scrutiny.exceptions import (
    DataValidationError,
    InvalidParameterError,
    MissingDependencyError,
)

WHERE = "label_issues"
LABEL_METHODS = ("self_influence", "oof_loss")
_EXTRA = "pip install 'scrutiny[attribution]'"


def _cleanlab() -> tuple[Any, Any]:
    try:
        from cleanlab.filter import find_label_issues
        from cleanlab.rank import get_label_quality_scores
    except ImportError as exc:
        msg = (
            "label_issues compares every ranking with confident learning, which needs the "
            f"optional dependency 'cleanlab' (>= 2.6). Install it with: {_EXTRA}"
        )
        raise MissingDependencyError(msg) from exc
    return find_label_issues, get_label_quality_scores


def _as_labels(y: Any) -> np.ndarray:
    arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        msg = f"y must be 1-D (one label per row). Got shape {arr.shape}."
        raise DataValidationError(msg)
    return arr


def _oof_proba(
    model: Any, x: Any, y: np.ndarray, classes: np.ndarray, cv: int, random_state: Any
) -> np.ndarray:
    """Out-of-fold predicted probabilities, columns in ``classes`` order."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    _, counts = np.unique(y, return_counts=True)
    if counts.min() < cv:
        msg = (
            f"The rarest class has {counts.min()} rows, fewer than cv={cv} folds, so out-of-fold "
            "probabilities cannot be computed. Lower cv or add rows."
        )
        raise DataValidationError(msg)
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    proba = cross_val_predict(clone(model), x, y, cv=folds, method="predict_proba")
    order = np.argsort(classes)  # cross_val_predict sorts classes; map back to model order
    sorted_classes = classes[order]
    out = np.empty_like(proba)
    out[:, order] = proba[:, : len(sorted_classes)]
    return np.clip(out, 1e-12, 1.0)


def _influence_applies(model: Any) -> bool:
    load_builtin()
    spec = METHODS.get("influence")
    return spec is not None and spec.applies(model) is None


def _exact_self_influence(model: Any, x: Any, y: np.ndarray) -> tuple[np.ndarray, str] | None:
    """Self-influence of a supported model (or of a Pipeline's last step); None otherwise."""
    est, xx, note = model, x, ""
    if hasattr(model, "steps") and len(getattr(model, "steps", [])) > 1:
        est = model[-1]
        xx = model[:-1].transform(x)
        if hasattr(xx, "toarray"):
            xx = xx.toarray()
        note = " (the Pipeline's last step, earlier steps held fixed)"
    if not _influence_applies(est):
        return None
    from scrutiny.attribution._linear import self_influence

    return np.asarray(self_influence(est, xx, y), dtype=float), note


def label_issues(
    model: Any,
    X: Any,
    y: Any,
    *,
    method: str = "self_influence",
    cv: int = 5,
    random_state: int | None = None,
    top_k: int = 20,
) -> AttributionResult:
    """Rank training examples by how likely their label is wrong, two ways side by side.

    Parameters
    ----------
    model : classifier
        A fitted classifier with ``predict_proba`` (fitted on ``X``, ``y``). It is
        cloned and refitted ``cv`` times for out-of-fold probabilities.
    X : array-like of shape (n_samples, n_features)
        The training features the model was fitted on.
    y : array-like of shape (n_samples,)
        The (possibly noisy) training labels.
    method : {"self_influence", "oof_loss"}, default="self_influence"
        The ranking shown beside confident learning. ``"self_influence"`` uses
        exact self-influence for models the ``influence`` method supports and
        falls back to the out-of-fold loss (stated in the notes) for others.
    cv : int, default=5
        Folds for the out-of-fold probabilities.
    random_state : int, default=None
        Seed of the fold split.
    top_k : int, default=20
        Rows in ``extras["side_by_side"]``.

    Returns
    -------
    AttributionResult
        ``scores[0, i]`` is example ``i``'s self-influence (or proxy): how much
        its own loss would rise if it were removed — the package convention with
        the example as its own query. Higher = more suspicious. ``extras``:
        ``ranking`` (self-influence order, most suspicious first),
        ``label_quality`` (cleanlab's self-confidence score, lower = more
        suspicious), ``confident_learning_issues`` (rows cleanlab flags, most
        severe first), ``suggested_label`` (out-of-fold argmax),
        ``side_by_side`` (top ``top_k`` of both rankings) and ``agreement``.

    Raises
    ------
    InvalidParameterError
        Unknown ``method``, bad ``cv``, or a model without ``predict_proba``.
    NotFittedError
        The model is not fitted.
    DataValidationError
        Mismatched rows, one class only, or a class rarer than ``cv``.
    MissingDependencyError
        cleanlab is not installed (``pip install 'scrutiny[attribution]'``).
    """
    start = time.perf_counter()
    if method not in LABEL_METHODS:
        raise InvalidParameterError.from_value("method", WHERE, f"one of {LABEL_METHODS}", method)
    if isinstance(cv, bool) or not isinstance(cv, int | np.integer) or cv < 2:
        raise InvalidParameterError.from_value("cv", WHERE, "an integer >= 2", cv)
    if isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) or top_k < 1:
        raise InvalidParameterError.from_value("top_k", WHERE, "an integer >= 1", top_k)
    check_fitted(model)
    if not hasattr(model, "predict_proba"):
        msg = (
            f"label_issues needs predicted probabilities, and a {type(model).__name__} has no "
            "predict_proba. Use a probabilistic classifier (LogisticRegression, a forest, "
            "CalibratedClassifierCV around an SVM...)."
        )
        raise InvalidParameterError(msg)
    find_label_issues, get_label_quality_scores = _cleanlab()
    y_arr = _as_labels(y)
    n = len(y_arr)
    if as_2d(X, "X").shape[0] != n:
        msg = f"y has {n} rows but X has {as_2d(X, 'X').shape[0]}."
        raise DataValidationError(msg)
    classes = np.asarray(getattr(model, "classes_", np.unique(y_arr)))
    if len(classes) < 2:
        msg = "label_issues needs at least two classes in y."
        raise DataValidationError(msg)
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    unknown = set(y_arr.tolist()) - set(lookup)
    if unknown:
        msg = (
            f"y holds labels the model was not fitted on: {sorted(map(str, unknown))[:5]}. "
            f"The model knows {classes.tolist()[:10]}."
        )
        raise DataValidationError(msg)
    labels = np.array([lookup[v] for v in y_arr.tolist()], dtype=int)

    proba = _oof_proba(model, X, y_arr, classes, int(cv), random_state)
    quality = np.asarray(get_label_quality_scores(labels, proba, method="self_confidence"))
    issues = np.asarray(find_label_issues(
        labels, proba, return_indices_ranked_by="self_confidence", n_jobs=1,
    ), dtype=int)
    oof_loss = -np.log(proba[np.arange(n), labels])

    notes: list[str] = []
    exact = _exact_self_influence(model, X, y_arr) if method == "self_influence" else None
    if exact is not None:
        score, where = exact
        used = "self_influence"
        notes.append(
            f"Self-influence t_i^T H^-1 g_i of the fitted model{where} (exact Hessian, convex "
            "loss): how much "
            "example i's own loss would rise if it were removed. Mislabeled examples must be "
            "memorised and rank high; so do rare but correct ones."
        )
    else:
        score = oof_loss
        used = "oof_loss"
        if method == "self_influence":
            notes.append(
                f"Exact self-influence needs a model the 'influence' method supports; a "
                f"{type(model).__name__} is not one, so the stated proxy is used: the "
                "out-of-fold loss -log p(y_i | x_i) from a model that did not see example i "
                "(what self-influence approximates for a model that cannot memorise it)."
            )
        else:
            notes.append("Out-of-fold loss -log p(y_i | x_i) from a model that did not see i.")
    notes.append(
        f"Confident learning (cleanlab) ran on out-of-fold probabilities from {cv} folds, as "
        "its authors require (in-sample probabilities hide label errors)."
    )
    notes.append(
        "A high rank is a reason to look at a row, not proof that its label is wrong: "
        "ambiguous and rare examples rank high too."
    )

    ranking = np.argsort(-score, kind="stable")
    m = len(issues)
    top_self = set(ranking[:m].tolist())
    both = len(top_self & set(issues.tolist()))
    suggested = classes[np.argmax(proba, axis=1)]
    side = []
    for r in range(min(int(top_k), n)):
        i = int(ranking[r])
        row: dict[str, Any] = {
            "rank": r + 1,
            f"{used}_index": i, f"{used}_score": float(score[i]), "label": _py(y_arr[i]),
            "suggested_label": _py(suggested[i]),
        }
        if r < m:
            j = int(issues[r])
            row.update({"confident_learning_index": j, "label_quality": float(quality[j])})
        else:
            row.update({"confident_learning_index": None, "label_quality": None})
        side.append(row)
    agreement = {
        "n_flagged_confident_learning": m,
        "flagged_share": m / n,
        "in_both": both,
        "overlap_share": both / m if m else None,
        "spearman_rank_correlation": _spearman(score, 1.0 - quality),
    }
    findings: list[dict[str, Any]] = [{
        "kind": "label_issue",
        "message": (
            f"Confident learning (cleanlab) flags {m} of {n} rows ({m / n:.1%}) as likely "
            f"mislabeled; {both} of them are also among the {m} rows with the highest "
            f"{used.replace('_', '-')} score. Inspect the rows both rankings agree on first."
        ) if m else (
            f"Confident learning (cleanlab) flags no row of {n} as mislabeled; the "
            f"{used.replace('_', '-')} ranking is still available to inspect."
        ),
        "count": m,
    }]
    return AttributionResult(
        method=f"label_issues:{used}",
        scores=score[None, :],
        params={"method": used, "requested": method, "cv": int(cv), "n": n,
                "classes": classes.tolist(), "cleanlab_ranked_by": "self_confidence"},
        seed=random_state,
        seconds=time.perf_counter() - start,
        notes=notes,
        findings=findings,
        extras={
            "ranking": ranking,
            "label_quality": quality,
            "confident_learning_issues": issues,
            "suggested_label": suggested,
            "side_by_side": side,
            "agreement": agreement,
        },
    )


def _py(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    from scipy.stats import spearmanr

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(spearmanr(a, b).statistic)

"""Label issues: a leave-one-out ranking, always beside confident learning (cleanlab).

Two independent views of "which labels look wrong":

* **the model's own view** (``method``):

  - ``"loo_loss"`` - each row's loss under the model refitted *without it*
    (one exact Newton step, convex models): its in-sample loss plus how much
    removing it raises that loss. Mislabeled rows have both; rare but correct
    rows only the second. For other scikit-learn models the stated proxy is
    the out-of-fold loss (a leave-one-*fold*-out loss).
  - ``"self_influence"`` - how much the row's own loss would rise if it were
    removed (``t_i^T H^{-1} g_i``; TRAK / TracIn / gradient self-scores for
    PyTorch models).
  - ``"oof_loss"`` - the out-of-fold loss ``-log p(y_i | x_i)``.

  ``extra_models`` averages the model's (leave-one-out or out-of-fold)
  probability of each observed label with the out-of-fold probabilities of
  other model classes - a small ensemble, which ranks better when no single
  model class is right.
* **confident learning** (Northcutt et al., 2021; the ``cleanlab`` package) on
  out-of-fold predicted probabilities - the baseline every "mislabeled" answer
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
LABEL_METHODS = ("auto", "loo_loss", "self_influence", "oof_loss")
TORCH_METHODS = ("trak", "tracin", "grad_dot")
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
    if hasattr(y, "detach"):  # a torch tensor
        y = y.detach().cpu().numpy()
    arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        msg = f"y must be 1-D (one label per row). Got shape {arr.shape}."
        raise DataValidationError(msg)
    return arr


def _check_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise InvalidParameterError.from_value(name, WHERE, f"an integer >= {low}", value)


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
    out = np.empty_like(proba)
    out[:, order] = proba[:, : len(classes)]
    return np.clip(out, 1e-12, 1.0)


def _influence_applies(model: Any) -> bool:
    load_builtin()
    spec = METHODS.get("influence")
    return spec is not None and spec.applies(model) is None


def _exact_parts(model: Any, x: Any, y: np.ndarray) -> tuple[Any, str] | None:
    """The exact objective of a supported model (or of a Pipeline's last step); None otherwise."""
    est, xx, note = model, x, ""
    if hasattr(model, "steps") and len(getattr(model, "steps", [])) > 1:
        est = model[-1]
        xx = model[:-1].transform(x)
        if hasattr(xx, "toarray"):
            xx = xx.toarray()
        note = " (the Pipeline's last step, earlier steps held fixed)"
    if not _influence_applies(est):
        return None
    from scrutiny.attribution._linear import linear_parts

    return linear_parts(est, xx, y), note


def _check_pred_probs(pred_probs: Any, n: int, n_classes: int | None) -> np.ndarray:
    p = np.asarray(pred_probs, dtype=float)
    if p.ndim != 2 or p.shape[0] != n or (n_classes is not None and p.shape[1] != n_classes):
        want = f"({n}, {n_classes if n_classes is not None else 'n_classes'})"
        msg = (
            f"pred_probs must have one row per example and one column per class, shape {want}. "
            f"Got shape {p.shape}."
        )
        raise DataValidationError(msg)
    if not np.all(np.isfinite(p)) or p.min() < 0 or not np.allclose(p.sum(1), 1.0, atol=1e-3):
        msg = "pred_probs must hold probabilities: non-negative rows that sum to 1."
        raise DataValidationError(msg)
    return np.clip(p, 1e-12, 1.0)


def label_issues(
    model: Any,
    X: Any,
    y: Any,
    *,
    method: str = "auto",
    cv: int = 5,
    random_state: int | None = None,
    top_k: int = 20,
    extra_models: list[Any] | None = None,
    pred_probs: Any = None,
    torch_method: str = "trak",
    torch_options: dict[str, Any] | None = None,
) -> AttributionResult:
    """Rank training examples by how likely their label is wrong, two ways side by side.

    Parameters
    ----------
    model : classifier or torch.nn.Module
        A fitted classifier with ``predict_proba`` (fitted on ``X``, ``y``; it is
        cloned and refitted ``cv`` times for out-of-fold probabilities), or a
        trained PyTorch module returning logits (or a list of them, an ensemble).
    X : array-like of shape (n_samples, n_features)
        The training features the model was fitted on.
    y : array-like of shape (n_samples,)
        The (possibly noisy) training labels; class indices ``0..C-1`` for a
        PyTorch model.
    method : {"auto", "loo_loss", "self_influence", "oof_loss"}, default="auto"
        The ranking shown beside confident learning. ``"loo_loss"``: each row's
        loss under the model refitted without it (exact Newton step) for models
        the ``influence`` method supports, else the out-of-fold loss (stated in
        the notes). ``"self_influence"``: how much that loss rises when the row
        is removed (exact for supported models, the out-of-fold loss otherwise;
        ``torch_method`` self-scores for PyTorch). ``"oof_loss"``: the
        out-of-fold loss. ``"auto"``: ``"self_influence"`` for PyTorch models,
        ``"loo_loss"`` otherwise.
    cv : int, default=5
        Folds for the out-of-fold probabilities (scikit-learn models).
    random_state : int, default=None
        Seed of the fold split.
    top_k : int, default=20
        Rows in ``extras["side_by_side"]``.
    extra_models : list of classifiers, default=None
        Other model classes (e.g. a ``HistGradientBoostingClassifier``), fitted
        out-of-fold on ``X``; each row's score becomes ``-log`` of the mean,
        over the model and these, of the probability of its observed label.
        With ``"loo_loss"`` or ``"oof_loss"`` and scikit-learn models only.
    pred_probs : array-like of shape (n_samples, n_classes), default=None
        Out-of-fold probabilities computed elsewhere, used instead of the
        model's own cross-validation (for confident learning and
        ``"oof_loss"``). For a PyTorch model, without them confident learning
        runs on in-sample probabilities (stated in the notes).
    torch_method : {"trak", "tracin", "grad_dot"}, default="trak"
        The self-score of a PyTorch model: TRAK's (margin, ``(ΦᵀΦ + λI)⁻¹``,
        averaged over an ensemble), TracIn's over checkpoints, or the squared
        loss-gradient norm.
    torch_options : dict, default=None
        Options of that method, as for :func:`attribute` (``checkpoints``,
        ``learning_rates``, ``proj_dim``, ``damping``, ``device``, ...).

    Returns
    -------
    AttributionResult
        ``scores[0, i]`` is example ``i``'s score, higher = more suspicious:
        its leave-one-out loss, its self-influence (how much its own loss would
        rise if it were removed, the package convention with the example as its
        own query) or its out-of-fold loss. ``extras``: ``ranking`` (most
        suspicious first), ``label_quality`` (cleanlab's self-confidence score,
        lower = more suspicious), ``confident_learning_issues`` (rows cleanlab
        flags, most severe first), ``suggested_label``, ``side_by_side`` (top
        ``top_k`` of both rankings), ``agreement`` and, for the probability
        based scores, ``observed_label_proba`` (per source, the probability of
        each row's observed label).

    Raises
    ------
    InvalidParameterError
        Unknown ``method`` or ``torch_method``, bad ``cv`` or ``top_k``, a
        model without ``predict_proba``, ``extra_models`` with a method or model
        they do not apply to.
    NotFittedError
        The model is not fitted.
    DataValidationError
        Mismatched rows, one class only, a class rarer than ``cv``, malformed
        ``pred_probs``.
    MissingDependencyError
        cleanlab is not installed (``pip install 'scrutiny[attribution]'``), or
        torch for a PyTorch model.

    See Also
    --------
    scrutiny.attribution.evaluation.mislabel_auc : AUC of a ranking against known flips.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_classification(n_samples=300, random_state=0)
    >>> y[:15] = 1 - y[:15]                      # 15 wrong labels
    >>> model = LogisticRegression().fit(X, y)
    >>> res = label_issues(model, X, y, random_state=0)
    >>> res.params["method"]
    'loo_loss'
    >>> int((res.extras["ranking"][:30] < 15).sum()) >= 10
    True
    """
    start = time.perf_counter()
    if method not in LABEL_METHODS:
        raise InvalidParameterError.from_value("method", WHERE, f"one of {LABEL_METHODS}", method)
    _check_int("cv", cv, 2)
    _check_int("top_k", top_k, 1)
    if torch_method not in TORCH_METHODS:
        raise InvalidParameterError.from_value("torch_method", WHERE,
                                               f"one of {TORCH_METHODS}", torch_method)
    if extra_models is not None and not isinstance(extra_models, list | tuple):
        raise InvalidParameterError.from_value("extra_models", WHERE,
                                               "a list of classifiers", extra_models)
    extras_list = list(extra_models or [])
    from scrutiny.attribution._torch_methods import _modules

    if _modules(model) is not None:
        return _torch_label_issues(model, X, y, method=method, top_k=int(top_k),
                                   extra_models=extras_list, pred_probs=pred_probs,
                                   torch_method=torch_method,
                                   torch_options=dict(torch_options or {}), start=start)
    if torch_options:
        msg = "torch_options only apply to a PyTorch model; this model is a " \
              f"{type(model).__name__}."
        raise InvalidParameterError(msg)
    check_fitted(model)
    for m in [model, *extras_list]:
        if not hasattr(m, "predict_proba"):
            msg = (
                f"label_issues needs predicted probabilities, and a {type(m).__name__} has no "
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
    rows = np.arange(n)

    if pred_probs is not None:
        proba = _check_pred_probs(pred_probs, n, len(classes))
        proba_source = "pred_probs (given)"
    else:
        proba = _oof_proba(model, X, y_arr, classes, int(cv), random_state)
        proba_source = f"out-of-fold, {cv} folds"
    quality = np.asarray(get_label_quality_scores(labels, proba, method="self_confidence"))
    issues = np.asarray(find_label_issues(
        labels, proba, return_indices_ranked_by="self_confidence", n_jobs=1,
    ), dtype=int)

    resolved = "loo_loss" if method == "auto" else method
    if extras_list and resolved == "self_influence":
        msg = (
            "extra_models averages probabilities of the observed labels, which self-influence "
            "does not give; use method='loo_loss' (or 'auto') or 'oof_loss'."
        )
        raise InvalidParameterError(msg)
    notes: list[str] = []
    exact = _exact_parts(model, X, y_arr) if resolved in ("loo_loss", "self_influence") \
        else None
    observed: dict[str, np.ndarray] = {}
    if exact is not None and resolved == "self_influence":
        parts, where = exact
        t = parts.train_grads()
        score = np.einsum("ij,ij->i", parts.grads(parts.X, parts.y), parts.solve(t.T).T)
        used = "self_influence"
        notes.append(
            f"Self-influence t_i^T H^-1 g_i of the fitted model{where} (exact Hessian, convex "
            "loss): how much example i's own loss would rise if it were removed. Mislabeled "
            "examples must be memorised and rank high; so do rare but correct ones, which "
            "is why method='loo_loss' ranks mislabeled rows better."
        )
    elif exact is not None:
        parts, where = exact
        observed[f"{type(model).__name__} (leave-one-out)"] = np.clip(
            parts.loo_proba()[rows, labels], 1e-12, 1.0)
        used = "loo_loss"
        notes.append(
            f"Leave-one-out loss -log p(y_i | x_i) of the fitted model{where} refitted without "
            "row i (one exact Newton step on its convex objective): the row's in-sample loss "
            "plus how much removing it raises that loss (its self-influence). Mislabeled rows "
            "score high on both; rare but correct rows only on the second."
        )
    else:
        observed[f"{type(model).__name__} (out-of-fold)"] = proba[rows, labels]
        used = "oof_loss"
        if resolved != "oof_loss":
            notes.append(
                f"Exact {resolved.replace('_', '-')} needs a model the 'influence' method "
                f"supports; a {type(model).__name__} is not one, so the stated proxy is used: "
                "the out-of-fold loss -log p(y_i | x_i) from a model that did not see example "
                "i (a leave-one-fold-out loss)."
            )
        else:
            notes.append("Out-of-fold loss -log p(y_i | x_i) from a model that did not see i.")
    for extra in extras_list:
        p_extra = _oof_proba(extra, X, y_arr, classes, int(cv), random_state)
        observed[f"{type(extra).__name__} (out-of-fold)"] = p_extra[rows, labels]
    if observed:
        score = -np.log(np.mean(list(observed.values()), axis=0))
    if extras_list:
        notes.append(
            f"Ensemble: the score is -log of the mean probability of the observed label over "
            f"{list(observed)}; each extra model was fitted out-of-fold ({cv} folds)."
        )
    notes.append(
        f"Confident learning (cleanlab) ran on {proba_source} probabilities of the model, as "
        "its authors require (in-sample probabilities hide label errors)."
    )
    notes.append(
        "A high rank is a reason to look at a row, not proof that its label is wrong: "
        "ambiguous and rare examples rank high too."
    )
    suggested = classes[np.argmax(proba, axis=1)]
    return _assemble(
        score=score, used=used, ensemble=bool(extras_list), method=method, y_arr=y_arr,
        quality=quality, issues=issues, suggested=suggested, observed=observed, notes=notes,
        top_k=int(top_k), seed=random_state, start=start,
        params={"cv": int(cv), "classes": classes.tolist(),
                "extra_models": [type(m).__name__ for m in extras_list],
                "pred_probs": proba_source},
    )


def _torch_label_issues(
    model: Any, X: Any, y: Any, *, method: str, top_k: int, extra_models: list[Any],
    pred_probs: Any, torch_method: str, torch_options: dict[str, Any], start: float,
) -> AttributionResult:
    """Self-scores of a PyTorch model beside confident learning."""
    if method not in ("auto", "self_influence"):
        msg = (
            f"method={method!r} refits the model, which label_issues cannot do for a PyTorch "
            "module; use method='self_influence' (or 'auto'), and pass out-of-fold "
            "probabilities as pred_probs for the confident-learning baseline."
        )
        raise InvalidParameterError(msg)
    if extra_models:
        msg = "extra_models applies to scikit-learn models; remove it for a PyTorch model."
        raise InvalidParameterError(msg)
    if torch_options.get("loss", "cross_entropy") != "cross_entropy":
        msg = "label_issues needs a classifier: a PyTorch model with loss='cross_entropy'."
        raise InvalidParameterError(msg)
    find_label_issues, get_label_quality_scores = _cleanlab()
    from scrutiny.attribution._torch_methods import INSTALL

    try:
        from scrutiny.attribution.torch import _pipeline
    except MissingDependencyError:  # pragma: no cover - torch is imported if model is a module
        raise
    except ImportError as exc:  # pragma: no cover - torch present but broken
        msg = f"label_issues needs PyTorch, which failed to import ({exc}). {INSTALL}"
        raise MissingDependencyError(msg) from exc
    res = _pipeline.self_influence(torch_method, model, X, y, **torch_options)
    y_arr = _as_labels(y).astype(int)
    score = np.asarray(res.scores[0], dtype=float)
    in_sample = res.extras["proba"]
    n_classes = in_sample.shape[1]
    if pred_probs is not None:
        proba = _check_pred_probs(pred_probs, len(y_arr), n_classes)
        proba_source = "pred_probs (given)"
    else:
        proba = np.clip(in_sample, 1e-12, 1.0)
        proba_source = "in-sample"
    quality = np.asarray(get_label_quality_scores(y_arr, proba, method="self_confidence"))
    issues = np.asarray(find_label_issues(
        y_arr, proba, return_indices_ranked_by="self_confidence", n_jobs=1,
    ), dtype=int)
    notes = [*res.notes]
    notes.insert(0, (
        f"Self-influence of each training row with itself as the query ({torch_method}): how "
        "much its own " + ("margin" if torch_method == "trak" else "loss")
        + " depends on having trained on it. Mislabeled rows must be memorised and rank high; "
        "so do rare but correct ones."
    ))
    if pred_probs is None:
        notes.append(
            "Confident learning (cleanlab) ran on the model's in-sample probabilities: a "
            "network that memorised a wrong label gives it a high probability, which hides "
            "it. Pass out-of-fold probabilities as pred_probs for the baseline its authors "
            "require."
        )
    else:
        notes.append("Confident learning (cleanlab) ran on the given pred_probs.")
    notes.append(
        "A high rank is a reason to look at a row, not proof that its label is wrong: "
        "ambiguous and rare examples rank high too."
    )
    return _assemble(
        score=score, used="self_influence", ensemble=False, method=method, y_arr=y_arr,
        quality=quality, issues=issues, suggested=np.argmax(proba, axis=1), observed={},
        notes=notes, top_k=top_k, seed=torch_options.get("random_state", 0), start=start,
        params={"torch_method": torch_method, "classes": list(range(n_classes)),
                "pred_probs": proba_source, **{f"torch_{k}": v for k, v in res.params.items()}},
    )


def _assemble(
    *, score: np.ndarray, used: str, ensemble: bool, method: str, y_arr: np.ndarray,
    quality: np.ndarray, issues: np.ndarray, suggested: np.ndarray,
    observed: dict[str, np.ndarray], notes: list[str], top_k: int, seed: Any, start: float,
    params: dict[str, Any],
) -> AttributionResult:
    """The result: ranking, side-by-side table, agreement and the finding."""
    n = len(score)
    ranking = np.argsort(-score, kind="stable")
    m = len(issues)
    top_self = set(ranking[:m].tolist())
    both = len(top_self & set(issues.tolist()))
    label = used.replace("_", "-") + (" (ensemble)" if ensemble else "")
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
            f"{label} score. Inspect the rows both rankings agree on first."
        ) if m else (
            f"Confident learning (cleanlab) flags no row of {n} as mislabeled; the "
            f"{label} ranking is still available to inspect."
        ),
        "count": m,
    }]
    extras: dict[str, Any] = {
        "ranking": ranking,
        "label_quality": quality,
        "confident_learning_issues": issues,
        "suggested_label": suggested,
        "side_by_side": side,
        "agreement": agreement,
    }
    if observed:
        extras["observed_label_proba"] = observed
    return AttributionResult(
        method=f"label_issues:{used}" + ("+ensemble" if ensemble else ""),
        scores=score[None, :],
        params={"method": used, "requested": method, "n": n,
                "cleanlab_ranked_by": "self_confidence", **params},
        seed=seed,
        seconds=time.perf_counter() - start,
        notes=notes,
        findings=findings,
        extras=extras,
    )


def _py(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    from scipy.stats import spearmanr

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(spearmanr(a, b).statistic)

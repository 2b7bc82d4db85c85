"""``compare_mitigations``: train candidate mitigators, evaluate them all on held-out rows.

Rule: **every candidate is measured against the same unmitigated model, on the
same held-out rows, with the same resamples.** The unmitigated model is a
clone of the given estimator refitted on the same training rows as every
candidate, so a change is the mitigation's and nothing else's. Each number has
an interval from the fairness engine (Wilson for rates, bootstrap of the group
counts for gaps); each change against the unmitigated model has a paired
bootstrap interval: the held-out rows are resampled once per replicate and
every candidate is scored on that same resample.

The comparison never picks a candidate. It marks which ones are on the
accuracy-versus-gap frontier (no other option has both higher accuracy and a
smaller gap); choosing among them is the team's call, recorded elsewhere.
"""

from __future__ import annotations

import inspect
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from scrutiny.exceptions import (
    DataValidationError,
    InvalidParameterError,
    ScrutinyError,
    ScrutinyWarning,
)

SCHEMA_VERSION = "1.0"

#: the gap each target closes, as the fairness engine's metrics (the gap is the largest)
TARGET_METRICS: dict[str, tuple[str, ...]] = {
    "demographic_parity": ("selection_rate",),
    "equal_opportunity": ("true_positive_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
    "false_positive_rate_parity": ("false_positive_rate",),
    "error_rate_parity": ("error_rate",),
}
TARGET_LABELS: dict[str, str] = {
    "demographic_parity": "demographic parity gap (selection rate)",
    "equal_opportunity": "equal opportunity gap (true positive rate)",
    "equalized_odds": "equalized odds gap (the larger of the true and false positive "
    "rate gaps)",
    "false_positive_rate_parity": "false positive rate gap",
    "error_rate_parity": "error rate gap",
}
#: the recommended criterion (scrutiny.audit) -> the target a mitigator can close
CRITERION_TARGET: dict[str, str] = {
    "recall_parity": "equal_opportunity",
    "fnr_parity": "equal_opportunity",
    "demographic_parity": "demographic_parity",
    "equal_selection_parity": "demographic_parity",
    "equalized_odds": "equalized_odds",
    "fpr_parity": "false_positive_rate_parity",
    "accuracy_parity": "error_rate_parity",
}
_CONVEX = ("LogisticRegression", "LinearSVC", "SGDClassifier")
_PROBA_ONLY_SCORE = frozenset({"ece", "brier", "roc_auc"})


# --------------------------------------------------------------------------- the mitigators


@dataclass(frozen=True)
class _Method:
    """What a mitigator needs from the model, which gaps it closes, and its defaults."""

    name: str
    cls: str
    constraints: tuple[str, ...]
    needs: tuple[str, ...]  # "proba", "weights", "convex"
    description: str
    group_at_predict: bool = False
    randomized: bool = False
    fixed: frozenset[str] = frozenset()  # parameters set by the comparison, not by options


METHODS: dict[str, _Method] = {m.name: m for m in [
    _Method("reweighing", "Reweighing", ("demographic_parity",), ("weights",),
            "Reweighs training rows so that outcome and group are independent, then "
            "retrains the model (pre-processing).", fixed=frozenset({"pos_label"})),
    _Method("thresholds", "GroupThresholds",
            ("equalized_odds", "equal_opportunity", "demographic_parity"), ("proba",),
            "Keeps the unmitigated model and gives each group its own decision threshold, "
            "chosen on validation rows (post-processing).", group_at_predict=True,
            fixed=frozenset({"estimator", "constraint", "prefit", "pos_label"})),
    _Method("exponentiated_gradient", "ExponentiatedGradient", tuple(TARGET_METRICS),
            ("weights",), "Trains a mix of models under a constraint on the gap "
            "(Fairlearn's exponentiated gradient; in-processing).", randomized=True,
            fixed=frozenset({"estimator", "constraints"})),
    _Method("grid_search", "GridSearch", tuple(TARGET_METRICS), ("weights",),
            "Trains models with the gap weighted in and keeps one (Fairlearn's grid "
            "search; in-processing).", fixed=frozenset({"estimator", "constraints"})),
    _Method("influence_reweighting", "InfluenceReweighting",
            ("equal_opportunity", "demographic_parity"), ("weights", "convex"),
            "Down-weights the training rows that influence functions find drive the gap, "
            "then retrains (data fix).", fixed=frozenset({"estimator", "target"})),
    _Method("influence_removal", "InfluenceRemoval",
            ("equal_opportunity", "demographic_parity"), ("convex",),
            "Removes the training rows that influence functions find drive the gap, then "
            "retrains (data fix).", fixed=frozenset({"estimator", "target"})),
]}
#: compared when no candidates are given; grid_search is left out because Fairlearn picks
#: its model by a trade-off measured on the training rows, which often keeps the
#: unconstrained model (ask for it explicitly to see it)
DEFAULT_SET = ("reweighing", "thresholds", "exponentiated_gradient", "influence_reweighting")


def _last_step(estimator: Any) -> Any:
    return estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator


def _accepts_weights(estimator: Any) -> bool:
    fit = getattr(_last_step(estimator), "fit", None)
    return fit is not None and "sample_weight" in inspect.signature(fit).parameters


def _missing_need(method: _Method, estimator: Any) -> str | None:
    """Why ``method`` cannot use ``estimator``, or None when it can."""
    name = type(_last_step(estimator)).__name__
    for need in method.needs:
        if need == "proba" and not hasattr(estimator, "predict_proba"):
            return (f"{method.name} needs a model with predict_proba (thresholds apply to "
                    f"probabilities); {name} has none.")
        if need == "weights" and not _accepts_weights(estimator):
            return (f"{method.name} needs a model whose fit accepts sample_weight; "
                    f"{name}.fit does not.")
        if need == "convex" and name not in _CONVEX:
            return (f"{method.name} needs a convex model whose influence is exact "
                    f"({', '.join(_CONVEX)}, or a Pipeline ending in one); got {name}.")
    return None


def applicable(estimator: Any) -> list[str]:
    """The mitigators that can use ``estimator``."""
    return [m for m, spec in METHODS.items() if _missing_need(spec, estimator) is None]


class _WeightedPipeline(ClassifierMixin, BaseEstimator):
    """A Pipeline whose ``fit`` takes ``sample_weight`` (routed to its last step).

    Fairlearn's reductions call ``fit(X, y, sample_weight=...)``, which a
    scikit-learn Pipeline refuses without metadata routing.
    """

    def __init__(self, *, pipeline: Any = None) -> None:
        self.pipeline = pipeline

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _WeightedPipeline:
        """Fit a clone of the pipeline, passing the weights to its last step."""
        kw = {} if sample_weight is None else {
            f"{self.pipeline.steps[-1][0]}__sample_weight": np.asarray(sample_weight)}
        self.pipeline_ = clone(self.pipeline).fit(X, y, **kw)
        self.classes_ = self.pipeline_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predict with the fitted pipeline."""
        return self.pipeline_.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of the fitted pipeline."""
        return self.pipeline_.predict_proba(X)


def _weighted(estimator: Any) -> Any:
    return _WeightedPipeline(pipeline=estimator) if hasattr(estimator, "steps") else estimator


def _weight_kw(estimator: Any, w: np.ndarray) -> dict[str, np.ndarray]:
    if hasattr(estimator, "steps"):
        return {f"{estimator.steps[-1][0]}__sample_weight": w}
    return {"sample_weight": w}


# --------------------------------------------------------------------------- candidates


@dataclass
class _Candidate:
    index: int | None  # position in the caller's list; None for defaults
    label: str
    method: _Method
    constraint: str
    options: dict[str, Any]


def _as_spec(c: Any, i: int, where: str) -> dict[str, Any]:
    if isinstance(c, str):
        return {"name": c}
    if hasattr(c, "model_dump"):
        return c.model_dump()
    if isinstance(c, dict):
        return dict(c)
    msg = (f"{where}[{i}]: a candidate is a mitigator name or a mapping with name, label, "
           f"constraint and options. Got {type(c).__name__}.")
    raise InvalidParameterError(msg)


def _constraint_for(method: _Method, target: str) -> str | None:
    if target in method.constraints:
        return target
    if method.name == "reweighing":
        return "demographic_parity"
    if method.name == "thresholds" and target == "false_positive_rate_parity":
        return "equalized_odds"  # closes both error-rate gaps, the false positive one included
    return None


def _check_options(method: _Method, options: dict[str, Any], where: str) -> None:
    from scrutiny import mitigation

    cls = getattr(mitigation, method.cls)
    allowed = [p for p in inspect.signature(cls.__init__).parameters
               if p != "self" and p not in method.fixed]
    for key in options:
        if key not in allowed:
            import difflib

            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            msg = (f"{where}.options.{key}: {method.name} has no option {key!r}.{hint} Its "
                   f"options are {allowed} (the comparison sets {sorted(method.fixed)} itself).")
            raise InvalidParameterError(msg)


def resolve_candidates(
    candidates: Sequence[Any] | None,
    target: str,
    estimator: Any,
    *,
    where: str = "candidates",
    labels: Sequence[str] | None = None,
) -> tuple[list[_Candidate], list[dict[str, str]]]:
    """Check every candidate against the model and the target; return them and the skipped.

    Explicit candidates that cannot apply raise an error naming ``where[i]`` and
    the mitigators that do apply; default candidates that cannot apply are
    skipped, with the reason.
    """
    from scrutiny.audit._config import MITIGATORS, UNMITIGATED

    ok = applicable(estimator)
    model_name = type(_last_step(estimator)).__name__
    out: list[_Candidate] = []
    skipped: list[dict[str, str]] = []
    if candidates is None:
        for name in DEFAULT_SET:
            method = METHODS[name]
            reason = _missing_need(method, estimator)
            constraint = _constraint_for(method, target)
            if reason is None and constraint is None:
                reason = (f"{name} cannot target the {TARGET_LABELS[target]}; it supports "
                          f"{list(method.constraints)}.")
            if reason is not None:
                skipped.append({"name": name, "reason": reason})
                continue
            out.append(_Candidate(None, name, method, constraint, {}))
        if not out:
            msg = (f"{where}: no mitigator applies to a {model_name} for the "
                   f"{TARGET_LABELS[target]} ({'; '.join(s['reason'] for s in skipped)}). Use "
                   "a LogisticRegression, or a model with predict_proba and sample_weight.")
            raise InvalidParameterError(msg)
        return out, skipped
    if isinstance(candidates, str | bytes) or not isinstance(candidates, Sequence) or (
            len(candidates) == 0):
        raise InvalidParameterError.from_value(
            "candidates", "compare_mitigations", f"a non-empty list of mitigators from "
            f"{list(MITIGATORS)}, or None for the default set", candidates)
    specs = [_as_spec(c, i, where) for i, c in enumerate(candidates)]
    if labels is None:  # the library path: validate as the config would
        from pydantic import ValidationError

        from scrutiny.audit._config import Mitigate, format_validation_error

        try:
            labels = Mitigate.model_validate({"candidates": specs}).labels()
        except ValidationError as exc:
            text = format_validation_error(exc, "").removeprefix("Invalid audit config : ")
            msg = text.replace("candidates", where, 1)
            raise InvalidParameterError(msg) from None
    for i, (spec, label) in enumerate(zip(specs, labels, strict=True)):
        path = f"{where}[{i}]"
        name = spec.get("name")
        if name not in METHODS:
            import difflib

            close = difflib.get_close_matches(str(name), list(METHODS), n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            msg = f"{path}.name: {name!r} is not a mitigator.{hint} Use one of {list(METHODS)}."
            raise InvalidParameterError(msg)
        method = METHODS[name]
        reason = _missing_need(method, estimator)
        if reason is not None:
            others = [m for m in ok if m != name]
            fix = (f" Candidates that apply to this model: {others}." if others else
                   " No scrutiny mitigator applies to this model; use one whose fit takes "
                   "sample_weight or that has predict_proba.")
            msg = f"{path} ({label}): {reason}{fix}"
            raise InvalidParameterError(msg)
        constraint = spec.get("constraint") or _constraint_for(method, target)
        if constraint is None or constraint not in method.constraints:
            wanted = constraint or target
            others = [m for m in ok if wanted in METHODS[m].constraints]
            msg = (f"{path} ({label}): {name} cannot target the {TARGET_LABELS[wanted]}; it "
                   f"supports {list(method.constraints)}. Set constraint to one of those, or "
                   f"use {others} for this gap.")
            raise InvalidParameterError(msg)
        options = dict(spec.get("options") or {})
        _check_options(method, options, path)
        if label == UNMITIGATED:  # pragma: no cover - refused by the config model
            msg = f"{path}.label: {UNMITIGATED!r} is reserved for the model as it is."
            raise InvalidParameterError(msg)
        out.append(_Candidate(i, label, method, constraint, options))
    return out, skipped


# --------------------------------------------------------------------------- fitting


@dataclass
class _Split:
    X_fit: Any
    y_fit: np.ndarray
    g_fit: np.ndarray
    X_val: Any
    y_val: np.ndarray
    g_val: np.ndarray


def _take(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx].reset_index(drop=True) if hasattr(X, "iloc") else np.asarray(X)[idx]


def _predictor(
    cand: _Candidate, estimator: Any, split: _Split, baseline: Any, seed: int,
) -> tuple[Callable[[Any, np.ndarray], np.ndarray], dict[str, Any]]:
    """Fit one candidate; return its predict(X, groups) and facts about the fit."""
    from scrutiny import mitigation as M

    m, opts, c = cand.method, dict(cand.options), cand.constraint
    n_fit = len(split.y_fit)
    facts: dict[str, Any] = {}
    if m.name == "reweighing":
        w = M.Reweighing(**opts).sample_weight(split.X_fit, split.y_fit,
                                               sensitive_features=split.g_fit)
        model = clone(estimator).fit(split.X_fit, split.y_fit, **_weight_kw(estimator, w))
        facts["weight_range"] = [float(w.min()), float(w.max())]
        return lambda X, g: model.predict(X), facts
    if m.name == "thresholds":
        opts.setdefault("random_state", seed)
        post = M.GroupThresholds(estimator=baseline, constraint=c, prefit=True, **opts)
        post.fit(split.X_val, split.y_val, sensitive_features=split.g_val)
        if getattr(post, "thresholds_", None) is not None and post.deterministic:
            facts["thresholds"] = {str(k): float(v) for k, v in post.thresholds_.items()}
        return lambda X, g: post.predict(X, sensitive_features=g), facts
    if m.name in ("exponentiated_gradient", "grid_search"):
        cls = M.ExponentiatedGradient if m.name == "exponentiated_gradient" else M.GridSearch
        if m.name == "exponentiated_gradient":
            opts.setdefault("random_state", seed)
        else:
            opts.setdefault("grid_size", 100)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Fairlearn's own FutureWarnings
            red = cls(estimator=_weighted(estimator), constraints=c, **opts).fit(
                split.X_fit, split.y_fit, sensitive_features=split.g_fit)
        return lambda X, g: red.predict(X), facts
    # influence methods
    cls = M.InfluenceReweighting if m.name == "influence_reweighting" else M.InfluenceRemoval
    opts.setdefault("top_k", max(10, min(100, n_fit // 50)))
    opts.setdefault("random_state", seed)
    if m.name == "influence_reweighting":
        opts.setdefault("weight", 0.2)
    fix = cls(estimator=estimator, target=c, **opts).fit(
        split.X_fit, split.y_fit, sensitive_features=split.g_fit, X_val=split.X_val,
        y_val=split.y_val, sensitive_features_val=split.g_val)
    facts["rows_acted_on"] = len(fix.drivers_)
    facts["row_weight"] = float(opts.get("weight", 0.0))
    return lambda X, g: fix.predict(X), facts


def _random_control(
    estimator: Any, split: _Split, n_rows: int, weight: float, seed: int,
) -> Callable[[Any, np.ndarray], np.ndarray]:
    """Re-weight (or remove) ``n_rows`` random training rows, refit: the influence control."""
    rng = np.random.default_rng(seed)
    w = np.ones(len(split.y_fit))
    w[rng.choice(len(w), size=min(n_rows, len(w) - 1), replace=False)] = weight
    keep = np.flatnonzero(w > 0)
    X = _take(split.X_fit, keep)
    kw = {} if np.all(w[keep] == 1) else _weight_kw(estimator, w[keep])
    model = clone(estimator).fit(X, split.y_fit[keep], **kw)
    return lambda X, g: model.predict(X)


# --------------------------------------------------------------------------- evaluation


def _codes(groups: np.ndarray) -> tuple[np.ndarray, list[str]]:
    names, codes = np.unique(groups.astype(str), return_inverse=True)
    return codes.astype(np.int64), names.tolist()


def _cells(arr: np.ndarray) -> Any:
    from scrutiny.fairness._metrics import Cells

    return Cells(tp=arr[..., 1, 1], fp=arr[..., 0, 1], fn=arr[..., 1, 0], tn=arr[..., 0, 0])


def _disparity(values: np.ndarray) -> np.ndarray:
    """Largest minus smallest group value along the last axis (NaN groups left out)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(values, axis=-1) - np.nanmin(values, axis=-1)


def paired_bootstrap(
    y: np.ndarray,
    preds: np.ndarray,
    groups: np.ndarray,
    metrics: Sequence[str],
    *,
    sample_weight: np.ndarray | None = None,
    n_boot: int = 1000,
    random_state: int = 0,
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Gaps and accuracy of several prediction vectors on the same row resamples.

    Parameters
    ----------
    y : ndarray of shape (n,)
        0/1 labels.
    preds : ndarray of shape (k, n)
        0/1 predictions of ``k`` models.
    groups : ndarray of shape (n,)
        Group label of each row.
    metrics : sequence of str
        Binary metrics (``scrutiny.fairness.METRICS`` names) whose gap is wanted.
    sample_weight : ndarray of shape (n,), default=None
        Row weights.
    n_boot : int, default=1000
        Resamples of the rows (with replacement, the same for every model).
    random_state : int, default=0
        Seed.

    Returns
    -------
    gaps : dict of str to ndarray of shape (k,)
        Each metric's gap (largest minus smallest group value) per model.
    accuracy : ndarray of shape (k,)
        Weighted accuracy per model.
    gap_reps : dict of str to ndarray of shape (k, n_boot)
        The gaps on every resample.
    accuracy_reps : ndarray of shape (k, n_boot)
        Accuracy on every resample.
    """
    from scrutiny.fairness._metrics import BINARY_METRICS

    k, n = preds.shape
    codes, names = _codes(groups)
    n_g = len(names)
    w0 = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    base = codes * 4 + y.astype(np.int64) * 2
    flat = (np.arange(k)[:, None] * (n_g * 4) + base[None, :] + preds.astype(np.int64)).ravel()
    size = k * n_g * 4

    def table(weights: np.ndarray) -> np.ndarray:
        return np.bincount(flat, weights=np.tile(weights, k), minlength=size).reshape(
            k, n_g, 2, 2)

    full = table(w0)
    rng = np.random.default_rng(random_state)
    boot = np.empty((n_boot, k, n_g, 2, 2))
    for b in range(n_boot):
        counts = np.bincount(rng.integers(0, n, n), minlength=n)
        boot[b] = table(counts * w0)
    boot = np.moveaxis(boot, 0, 1)  # (k, B, G, 2, 2)

    def acc(arr: np.ndarray) -> np.ndarray:
        tot = arr.sum(axis=(-1, -2, -3))
        right = arr[..., 0, 0].sum(axis=-1) + arr[..., 1, 1].sum(axis=-1)
        return np.divide(right, tot, out=np.full(np.shape(tot), np.nan), where=tot > 0)

    gaps, reps = {}, {}
    with np.errstate(all="ignore"):
        for m in metrics:
            spec = BINARY_METRICS[m]
            gaps[m] = _disparity(spec.from_cells(_cells(full)))
            reps[m] = _disparity(spec.from_cells(_cells(boot)))
    return gaps, acc(full), reps, acc(boot)


def _interval(reps: np.ndarray, level: float) -> list[float] | None:
    from scrutiny.fairness._intervals import percentile_interval

    lo, hi = percentile_interval(reps, level)
    lo, hi = float(lo), float(hi)
    return [lo, hi] if np.isfinite(lo) and np.isfinite(hi) else None


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None


def _pair(ci: Any) -> list[float] | None:
    if ci is None:
        return None
    lo, hi = _num(ci[0]), _num(ci[1])
    return None if lo is None or hi is None else [lo, hi]


def pareto_front(points: Sequence[tuple[str, float | None, float | None]]) -> list[str]:
    """Labels whose (accuracy, gap) no other point beats on both (ties do not dominate).

    Parameters
    ----------
    points : sequence of (label, accuracy, gap)
        Higher accuracy and smaller gap are better; points with a missing value
        are left out.

    Returns
    -------
    list of str
        The non-dominated labels, smallest gap first.
    """
    ok = [(lab, a, g) for lab, a, g in points if a is not None and g is not None]
    front = []
    for lab, a, g in ok:
        dominated = any(
            (a2 >= a and g2 <= g) and (a2 > a or g2 < g) for lab2, a2, g2 in ok if lab2 != lab
        )
        if not dominated:
            front.append((g, -a, lab))
    return [lab for _, _, lab in sorted(front)]


# --------------------------------------------------------------------------- the result


@dataclass
class MitigationComparison:
    """Every candidate's accuracy and gaps on held-out rows, with intervals and changes.

    Do not build it yourself: :func:`compare_mitigations` returns one.

    Attributes
    ----------
    target : str
        The gap on the chart's axis (``"equal_opportunity"``, ...).
    candidates : list of dict
        The unmitigated model first (``role="baseline"``), then each candidate
        (``role="candidate"``) and each random control (``role="control"``):
        accuracy and gaps with intervals, per-group values of the target's
        metrics, the change against the unmitigated model with a paired
        bootstrap interval (``effect``), and ``pareto``.
    pareto_front : list of str
        Labels on the accuracy-versus-gap frontier (baseline included, controls
        left out), smallest gap first.
    skipped : list of dict
        Default mitigators left out, each with the reason.
    metrics : list of str
        Every metric whose gap is reported.
    data : dict
        Row counts, groups and the positive label.
    options : dict
        The confidence level, resamples, seed and validation share.
    """

    target: str
    candidates: list[dict[str, Any]]
    pareto_front: list[str]
    skipped: list[dict[str, str]]
    metrics: list[str]
    data: dict[str, Any]
    options: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def candidate(self, label: str) -> dict[str, Any]:
        """The entry of one candidate (``"unmitigated"`` for the baseline).

        Parameters
        ----------
        label : str
            A candidate's label.

        Returns
        -------
        dict
            Its entry in :attr:`candidates`.

        Raises
        ------
        InvalidParameterError
            If no candidate has that label.
        """
        for c in self.candidates:
            if c["label"] == label:
                return c
        raise InvalidParameterError.from_value(
            "label", "MitigationComparison.candidate",
            f"one of {[c['label'] for c in self.candidates]}", label)

    def to_dict(self) -> dict[str, Any]:
        """The comparison as JSON-ready objects (the core of ``mitigation.json``).

        Returns
        -------
        dict
            Keys ``schema_version``, ``target``, ``metrics``, ``data``,
            ``options``, ``candidates``, ``pareto_front``, ``skipped`` and ``notes``.
        """
        return {
            "schema_version": SCHEMA_VERSION,
            "target": {"name": self.target, "label": TARGET_LABELS[self.target],
                       "metrics": list(TARGET_METRICS[self.target])},
            "metrics": list(self.metrics),
            "data": dict(self.data),
            "options": dict(self.options),
            "candidates": self.candidates,
            "pareto_front": list(self.pareto_front),
            "skipped": list(self.skipped),
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- the run


def _binary(y: Any, name: str, pos_label: Any) -> tuple[np.ndarray, Any, list[Any]]:
    from sklearn.utils.multiclass import type_of_target

    arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if (arr.dtype.kind == "f" and np.isnan(arr).any()) or (arr.dtype == object and any(
            v is None or (isinstance(v, float) and np.isnan(v)) for v in arr.tolist())):
        msg = f"{name} has missing values. Drop those rows or fill the labels in."
        raise DataValidationError(msg)
    kind = type_of_target(arr)
    classes = np.unique(arr).tolist()
    if kind != "binary":
        what = {"continuous": "continuous values (a regression task)",
                "multiclass": f"{len(classes)} classes (a multiclass task)"}.get(
                    kind, f"targets of type {kind!r}")
        msg = (f"{name} holds {what}; every scrutiny mitigator applies to binary "
               "classification only. Binarise the outcome (one class versus the rest) or "
               "measure the gaps with scrutiny.fairness.assess.")
        raise InvalidParameterError(msg)
    if len(classes) < 2 and pos_label is None:
        msg = (f"{name} holds a single label ({classes}); training needs both outcomes. Use "
               "more rows, or rows with both outcomes.")
        raise DataValidationError(msg)
    pos = classes[1] if pos_label is None else pos_label
    if pos not in classes and str(pos) in [str(c) for c in classes]:
        pos = classes[[str(c) for c in classes].index(str(pos))]
    if pos not in classes:
        raise InvalidParameterError.from_value("pos_label", "compare_mitigations",
                                               f"one of the labels {classes}", pos_label)
    return (arr == pos).astype(np.int64), pos, classes


def _groups(values: Any, n: int, name: str) -> np.ndarray:
    from scrutiny.mitigation._reweighing import group_labels

    return group_labels(values, n, name)


def _tracked_metrics(
    target: str, constraints: Sequence[str], extra: Sequence[str] | None,
) -> list[str]:
    from scrutiny.fairness._metrics import ALIASES, BINARY_METRICS

    out: list[str] = []
    for c in (target, *constraints):
        out += TARGET_METRICS[c]
    for name in extra or []:
        m = ALIASES.get(name, name)
        if m in BINARY_METRICS and m not in ("accuracy", "base_rate") and (
                m not in _PROBA_ONLY_SCORE):
            out.append(m)
    return list(dict.fromkeys(out))


def _assess_one(y: np.ndarray, pred: np.ndarray, sens: Any, metrics: list[str],
                sample_weight: Any, ci: float, n_boot: int, seed: int,
                min_group_size: int) -> Any:
    from scrutiny.fairness import assess

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScrutinyWarning)
        return assess(y, pred, sensitive_features=sens, metrics=["accuracy", *metrics],
                      sample_weight=sample_weight, pos_label=1, ci=ci, n_boot=n_boot,
                      random_state=seed, min_group_size=min_group_size, reference=None)


def _gap_of(result: Any, constraint: str) -> dict[str, Any]:
    metrics = TARGET_METRICS[constraint]
    if len(metrics) == 1:
        d = result.disparities[metrics[0]]
        return {"value": _num(d.difference), "ci": _pair(d.ci_difference)}
    crit = result.criteria.get(constraint) or {}
    return {"value": _num(crit.get("difference")), "ci": _pair(crit.get("ci_difference"))}


def _entry(label: str, role: str, result: Any, constraints: list[str], metrics: list[str],
           target: str) -> dict[str, Any]:
    acc, acc_ci = result.overall["accuracy"]
    groups = {}
    for m in TARGET_METRICS[target]:
        groups[m] = [
            {"group": ", ".join(str(v) for v in g.features.values()), "count": g.count,
             "value": _num(g.value(m)), "ci": _pair(g.ci(m))}
            for g in result.groups
        ]
    return {
        "label": label,
        "role": role,
        "accuracy": {"value": _num(acc), "ci": _pair(acc_ci)},
        "gaps": {c: _gap_of(result, c) for c in constraints},
        "disparities": {
            m: {"difference": _num(result.disparities[m].difference),
                "ci_difference": _pair(result.disparities[m].ci_difference),
                "ratio": _num(result.disparities[m].ratio)}
            for m in metrics
        },
        "groups": groups,
        "warnings": [w.to_dict() for w in result.warnings],
    }


def _json_safe(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_safe(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return repr(v)


def run_comparison(
    estimator: Any,
    X: Any,
    y: Any,
    X_test: Any,
    y_test: Any,
    *,
    sensitive_features: Any,
    sensitive_features_test: Any,
    candidates: Sequence[Any] | None,
    target: str,
    metrics: Sequence[str] | None,
    validation_fraction: float,
    random_controls: bool,
    pos_label: Any,
    sample_weight_test: Any,
    ci: float,
    n_boot: int,
    random_state: int,
    min_group_size: int,
    where: str = "candidates",
    labels: Sequence[str] | None = None,
    bar: Any = None,
    estimator_where: str = "estimator",
) -> MitigationComparison:
    """The work behind :func:`compare_mitigations` (``where`` names the candidates' field)."""
    from sklearn.model_selection import train_test_split

    if target not in TARGET_METRICS:
        raise InvalidParameterError.from_value(
            "target", "compare_mitigations", f"one of {list(TARGET_METRICS)}", target)
    if not (hasattr(estimator, "fit") and hasattr(estimator, "predict")):
        msg = (f"{estimator_where}: a scikit-learn classifier with fit and predict is needed. "
               f"Got {type(estimator).__name__}.")
        raise InvalidParameterError(msg)
    if not isinstance(validation_fraction, float | int) or not 0 < validation_fraction < 0.9:
        raise InvalidParameterError.from_value(
            "validation_fraction", "compare_mitigations", "a number in (0, 0.9)",
            validation_fraction)
    y01, pos, classes = _binary(y, "y (the training labels)", pos_label)
    yt_arr = np.asarray(y_test.to_numpy() if hasattr(y_test, "to_numpy") else y_test).ravel()
    unseen = sorted({str(c) for c in np.unique(yt_arr).tolist()} - {str(c) for c in classes})
    if unseen:
        msg = (f"y_test (the held-out labels) holds labels {unseen} that the training labels "
               f"{classes} do not. Use the same two labels in both.")
        raise DataValidationError(msg)
    yt01, _, _ = _binary(yt_arr, "y_test (the held-out labels)", pos)
    resolved, skipped = resolve_candidates(candidates, target, estimator, where=where,
                                           labels=labels)
    n, n_test = len(y01), len(yt01)
    g_all = _groups(sensitive_features, n, "sensitive_features")
    g_test = _groups(sensitive_features_test, n_test, "sensitive_features_test")
    strata = np.char.add(g_all.astype(str), y01.astype(str))
    _, counts = np.unique(strata, return_counts=True)
    fit_idx, val_idx = train_test_split(
        np.arange(n), test_size=validation_fraction, random_state=random_state,
        stratify=strata if counts.min() >= 2 else y01)
    fit_idx, val_idx = np.sort(fit_idx), np.sort(val_idx)
    split = _Split(_take(X, fit_idx), y01[fit_idx], g_all[fit_idx],
                   _take(X, val_idx), y01[val_idx], g_all[val_idx])
    constraints = list(dict.fromkeys([target, *(c.constraint for c in resolved)]))
    tracked = _tracked_metrics(target, constraints, metrics)
    n_controls = sum(1 for c in resolved if c.method.name.startswith("influence")) * int(
        random_controls)
    steps = 1 + len(resolved) + n_controls + 1
    task = bar.add_task("Training the unmitigated model", total=steps) if bar is not None \
        else None

    def advance(description: str) -> None:
        if bar is not None:
            bar.update(task, advance=1, description=description)

    t0 = time.perf_counter()
    try:
        baseline = clone(estimator).fit(split.X_fit, split.y_fit)
    except Exception as exc:
        msg = (f"{estimator_where}: refitting the unmitigated model on the training rows "
               f"failed ({' '.join(str(exc).split())[:300]}).")
        raise InvalidParameterError(msg) from None
    runs: list[dict[str, Any]] = [{
        "label": "unmitigated", "role": "baseline", "name": None, "constraint": None,
        "options": {}, "facts": {}, "seconds": time.perf_counter() - t0,
        "predict": lambda X_, g_: baseline.predict(X_),
        "description": "The model as it is, refitted on the same training rows as every "
        "candidate.",
    }]
    for cand in resolved:
        advance(f"Training {cand.label}")
        t0 = time.perf_counter()
        path = f"{where}[{cand.index}]" if cand.index is not None else where
        try:
            predict, facts = _predictor(cand, estimator, split, baseline, random_state)
        except ScrutinyError as exc:
            msg = f"{path} ({cand.label}): {' '.join(str(exc).split())}"
            raise type(exc)(msg) from None
        except Exception as exc:
            msg = (f"{path} ({cand.label}): fitting {cand.method.name} failed "
                   f"({' '.join(str(exc).split())[:300]}). Check its options and the model.")
            raise InvalidParameterError(msg) from None
        runs.append({"label": cand.label, "role": "candidate", "name": cand.method.name,
                     "constraint": cand.constraint, "options": _json_safe(cand.options),
                     "facts": facts, "seconds": time.perf_counter() - t0, "predict": predict,
                     "description": cand.method.description})
        if random_controls and cand.method.name.startswith("influence"):
            advance(f"Training the random control for {cand.label}")
            t0 = time.perf_counter()
            k = int(facts.get("rows_acted_on", 0))
            weight = float(facts.get("row_weight", 0.0))
            ctrl = _random_control(estimator, split, k, weight, random_state + 1)
            what = "removed" if weight == 0 else f"re-weighted to {weight:g}"
            runs.append({
                "label": f"{cand.label}_random_control", "role": "control", "name": "random",
                "constraint": cand.constraint, "options": {}, "control_for": cand.label,
                "facts": {"rows_acted_on": k, "row_weight": weight},
                "seconds": time.perf_counter() - t0, "predict": ctrl,
                "description": f"A control, not a candidate: the same number of training rows "
                f"({k}) as {cand.label}, picked at random and {what}. It shows how much of "
                f"{cand.label}'s change is due to the targeting rather than to any change of "
                "the training rows.",
            })
    advance("Evaluating on the held-out rows")
    preds = []
    for r in runs:
        try:
            p = np.asarray(r["predict"](X_test, g_test))
        except Exception as exc:
            msg = (f"X_test: {r['label']} failed to predict on the held-out rows "
                   f"({' '.join(str(exc).split())[:300]}). Use the same columns as the "
                   "training rows.")
            raise DataValidationError(msg) from None
        preds.append(p.astype(np.int64))
    pred_arr = np.vstack(preds)
    sw = None if sample_weight_test is None else np.asarray(sample_weight_test, dtype=float)
    gaps, accs, gap_reps, acc_reps = paired_bootstrap(
        yt01, pred_arr, g_test, tracked, sample_weight=sw, n_boot=n_boot,
        random_state=random_state)
    constraint_reps = {c: np.nanmax(np.stack([gap_reps[m] for m in TARGET_METRICS[c]]),
                                    axis=0) for c in constraints}
    constraint_pts = {c: np.nanmax(np.stack([gaps[m] for m in TARGET_METRICS[c]]), axis=0)
                      for c in constraints}
    out = []
    for j, r in enumerate(runs):
        res = _assess_one(yt01, pred_arr[j], sensitive_features_test, tracked, sw, ci, n_boot,
                          random_state, min_group_size)
        e = _entry(r["label"], r["role"], res, constraints, tracked, target)
        e.update({
            "name": r["name"], "constraint": r["constraint"], "options": r["options"],
            "description": r["description"], "fit_seconds": round(r["seconds"], 3),
            **{k: v for k, v in r["facts"].items()},
        })
        if "control_for" in r:
            e["control_for"] = r["control_for"]
        method = METHODS.get(r["name"] or "")
        e["uses_group_at_prediction"] = bool(method and method.group_at_predict)
        e["randomized"] = bool(method and method.randomized) or (
            r["name"] == "thresholds" and r["options"].get("deterministic") is False)
        if j > 0:
            e["effect"] = {
                "accuracy": {"change": _num(accs[j] - accs[0]),
                             "ci": _interval(acc_reps[j] - acc_reps[0], ci)},
                "gaps": {c: {"change": _num(constraint_pts[c][j] - constraint_pts[c][0]),
                             "ci": _interval(constraint_reps[c][j] - constraint_reps[c][0], ci)}
                         for c in constraints},
                "disparities": {m: {"change": _num(gaps[m][j] - gaps[m][0]),
                                    "ci": _interval(gap_reps[m][j] - gap_reps[m][0], ci)}
                                for m in tracked},
            }
        out.append(e)
    front = pareto_front([(e["label"], e["accuracy"]["value"], e["gaps"][target]["value"])
                          for e in out if e["role"] != "control"])
    for e in out:
        e["pareto"] = e["label"] in front
    advance("Done")
    notes = [
        "Every candidate and the unmitigated model were trained on the same "
        f"{len(fit_idx)} training rows; {len(val_idx)} further training rows were held out "
        "to fit group thresholds and to measure the gap for the influence methods.",
        f"All numbers are measured on {n_test} held-out rows that no model saw in training.",
    ]
    names = sorted(set(g_test.tolist()))
    return MitigationComparison(
        target=target, candidates=out, pareto_front=front, skipped=skipped, metrics=tracked,
        data={"n_train": n, "n_fit": len(fit_idx), "n_validation": len(val_idx),
              "n_test": n_test, "groups": names, "classes": _json_safe(classes),
              "pos_label": _json_safe(pos)},
        options={"ci": ci, "n_boot": n_boot, "random_state": random_state,
                 "validation_fraction": validation_fraction,
                 "random_controls": random_controls, "min_group_size": min_group_size},
        notes=notes,
    )


def compare_mitigations(
    estimator: Any,
    X: Any,
    y: Any,
    X_test: Any,
    y_test: Any,
    *,
    sensitive_features: Any,
    sensitive_features_test: Any,
    candidates: Sequence[Any] | None = None,
    target: str = "equalized_odds",
    metrics: Sequence[str] | None = None,
    validation_fraction: float = 0.25,
    random_controls: bool = True,
    pos_label: Any = None,
    sample_weight_test: Any = None,
    ci: float = 0.95,
    n_boot: int = 1000,
    random_state: int = 0,
    min_group_size: int = 30,
    progress: bool = False,
) -> MitigationComparison:
    """Train candidate mitigators and compare them all on held-out rows, with intervals.

    The training rows are split once: ``1 - validation_fraction`` of them fit
    the unmitigated model (a clone of ``estimator``) and every candidate; the
    rest fit group thresholds and measure the gap for the influence methods.
    Every model is then scored on ``X_test``. Each accuracy and gap comes with
    an interval from :func:`scrutiny.fairness.assess`; each change against the
    unmitigated model comes with a paired bootstrap interval (the held-out
    rows are resampled ``n_boot`` times, the same resamples for every model).

    The comparison marks the accuracy-versus-gap frontier. It does not pick
    or recommend a candidate: that choice trades values against each other
    and belongs to the people accountable for the model.

    Parameters
    ----------
    estimator : estimator
        A binary classifier (fitted or not; it is cloned), or a Pipeline ending
        in one.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Training features.
    y : array-like of shape (n_samples,)
        Binary training labels.
    X_test : array-like or DataFrame of shape (n_test, n_features)
        Held-out features.
    y_test : array-like of shape (n_test,)
        Held-out labels.
    sensitive_features : array-like, DataFrame or dict of arrays
        Group of each training row, keyword-only (several columns are intersected).
    sensitive_features_test : array-like, DataFrame or dict of arrays
        Group of each held-out row.
    candidates : list, default=None
        Mitigator names (``"reweighing"``, ``"thresholds"``,
        ``"exponentiated_gradient"``, ``"grid_search"``,
        ``"influence_reweighting"``, ``"influence_removal"``) or mappings with
        ``name``, ``label``, ``constraint`` and ``options``. None compares
        reweighing, thresholds, exponentiated gradient and influence
        reweighting, leaving out those the model or the target rules out.
    target : str, default="equalized_odds"
        The gap on the chart's axis and each candidate's default constraint:
        ``"demographic_parity"``, ``"equal_opportunity"``, ``"equalized_odds"``,
        ``"false_positive_rate_parity"`` or ``"error_rate_parity"``.
    metrics : list of str, default=None
        More metrics whose gap is reported (binary metrics of
        ``scrutiny.fairness.METRICS``).
    validation_fraction : float, default=0.25
        Share of the training rows held out for thresholds and influence.
    random_controls : bool, default=True
        For each influence method, also train a control that acts on the same
        number of random rows.
    pos_label : scalar, default=None
        The positive label; default the larger of the two.
    sample_weight_test : array-like of shape (n_test,), default=None
        Weights of the held-out rows.
    ci : float, default=0.95
        Confidence level of every interval.
    n_boot : int, default=1000
        Bootstrap resamples.
    random_state : int, default=0
        Seed of the split, the randomized mitigators and the resamples.
    min_group_size : int, default=30
        Groups smaller than this are flagged in the fairness engine's warnings.
    progress : bool, default=False
        Show a progress bar on the terminal.

    Returns
    -------
    MitigationComparison
        Every candidate's numbers, the changes and the frontier.

    Raises
    ------
    InvalidParameterError
        An unknown mitigator or option, a mitigator the model cannot use (the
        message names ``candidates[i]`` and the mitigators that apply), or a
        multiclass or regression task.
    DataValidationError
        Lengths or labels that disagree.

    See Also
    --------
    scrutiny.fairness.assess : The engine behind every interval.
    Reweighing, GroupThresholds, ExponentiatedGradient, GridSearch,
    InfluenceReweighting, InfluenceRemoval : The mitigators compared.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from scrutiny.mitigation import compare_mitigations
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1200, 3)); g = np.tile(["a", "b"], 600)
    >>> y = (X[:, 0] + (g == "a") + rng.normal(size=1200) > 0.5).astype(int)
    >>> cmp = compare_mitigations(
    ...     LogisticRegression(), X[:800], y[:800], X[800:], y[800:],
    ...     sensitive_features=g[:800], sensitive_features_test=g[800:],
    ...     candidates=["reweighing", "thresholds"], target="equal_opportunity",
    ...     n_boot=100)
    >>> [c["label"] for c in cmp.candidates]
    ['unmitigated', 'reweighing', 'thresholds']
    >>> sorted(cmp.candidate("thresholds")["effect"])
    ['accuracy', 'disparities', 'gaps']
    """
    import contextlib

    from scrutiny.audit._run import _progress

    if not isinstance(n_boot, int) or isinstance(n_boot, bool) or n_boot < 1:
        raise InvalidParameterError.from_value("n_boot", "compare_mitigations",
                                               "an int >= 1 (intervals need resamples)", n_boot)
    if not isinstance(ci, float) or not 0 < ci < 1:
        raise InvalidParameterError.from_value("ci", "compare_mitigations",
                                               "a confidence level in (0, 1)", ci)
    ctx = _progress(progress) if progress else contextlib.nullcontext(None)
    with ctx as bar:
        return run_comparison(
            estimator, X, y, X_test, y_test, sensitive_features=sensitive_features,
            sensitive_features_test=sensitive_features_test, candidates=candidates,
            target=target, metrics=metrics, validation_fraction=validation_fraction,
            random_controls=random_controls, pos_label=pos_label,
            sample_weight_test=sample_weight_test, ci=ci, n_boot=n_boot,
            random_state=random_state, min_group_size=min_group_size, bar=bar)

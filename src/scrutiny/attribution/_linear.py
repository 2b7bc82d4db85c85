"""Exact attribution for convex scikit-learn models: influence, Newton step, retraining.

A fitted linear model defines a training objective

    J(θ) = Σ_i c·s_i·ℓ(y_i, z_i(θ)) + ½ θᵀ diag(r) θ,        z_i = W x_i + b,

with per-example losses ``ℓ``, objective weights ``c·s_i`` and a diagonal
penalty ``r``, all read from the estimator exactly as scikit-learn defines
them:

=====================================  =======================================================
model                                  objective (``s_i``: sample weight × class weight)
=====================================  =======================================================
``LogisticRegression`` (binary)        ``C Σ s_i logloss_i + ½||W||²`` (intercept free; liblinear
                                       penalises it as ``½(b / intercept_scaling)²``)
``LogisticRegression`` (≥ 3 classes)   same with the softmax (multinomial) log-loss
``Ridge``                              ``Σ s_i ||y_i - z_i||² + alpha ||W||²``
``LinearRegression``                   ``Σ s_i ||y_i - z_i||²`` (no penalty: see ``damping``)
``SGDClassifier``                      ``(1/n) Σ s_i φ(y_i z_i) + ½ alpha ||W||²`` (one-vs-rest)
``LinearSVC``                          ``C Σ s_i φ(y_i z_i) + ½||W||² + ½(b / intercept_scaling)²``
=====================================  =======================================================

``φ`` is the margin loss of the classifier: ``log_loss``, ``squared_hinge``,
``modified_huber`` are used as they are; the ``hinge`` (not differentiable at
the margin) is replaced by the softplus ``t·log(1 + exp((1 - m)/t))`` with a
temperature ``t`` (option ``smoothing``), and the notes say so.

Parameters are flattened as ``θ = [W_0, b_0, W_1, b_1, ...]``: for each
output ``k`` the ``d`` coefficients followed by the intercept (when fitted).

Removing training example ``i`` removes its term ``c·s_i·ℓ_i`` from ``J``, so
to first order the parameters move by ``H⁻¹ t_i`` with ``t_i = c s_i ∇ℓ_i``
(plus, for the mean-loss objective of ``SGDClassifier``, the change of the
``1/n`` normalisation) and a query loss rises by ``∇ℓ_qᵀ H⁻¹ t_i``: that is
``method="influence"``. ``method="newton"`` takes one exact Newton step on the
objective *without* the removed examples (``H`` minus their curvature) and
evaluates the query loss at the new parameters. ``method="retrain"`` refits.

The module registers ``influence``, ``newton`` and ``retrain`` and exposes
:func:`linear_parts` for other modules (disparity targets, label issues).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import linalg
from scipy.special import expit, logsumexp, softmax

from scrutiny.attribution._api import as_2d, check_fitted, check_shapes
from scrutiny.attribution._registry import METHODS, Method, register
from scrutiny.attribution._result import AttributionResult
from scrutiny.exceptions import DataValidationError, InvalidParameterError

__all__ = [
    "LinearParts",
    "linear_parts",
    "per_example_loss",
    "self_influence",
    "unsupported_reason",
]

#: scikit-learn estimators handled here (exact class names; subclasses such as
#: ``LogisticRegressionCV`` are refused with a reason).
SUPPORTED_MODELS = ("LogisticRegression", "Ridge", "LinearRegression", "SGDClassifier", "LinearSVC")
MARGIN_LOSSES = ("log_loss", "hinge", "squared_hinge", "modified_huber")
DEFAULT_SMOOTHING = 0.1
DEFAULT_RETRAIN_TOL = 1e-10
#: LogisticRegression solvers of one objective: refits use newton-cholesky (exact, fast)
EXACT_LR_SOLVERS = ("lbfgs", "newton-cg", "newton-cholesky", "sag", "saga")
TARGETS = ("loss", "mean_loss")
#: relative size of the auto damping added to an (almost) singular Hessian
AUTO_DAMPING = 1e-8
_EIGEN_MAX_PARAMS = 3000


# --------------------------------------------------------------------------- which models


def unsupported_reason(model: Any) -> str | None:
    """None when ``model`` is a supported convex scikit-learn model, else why not.

    Parameters
    ----------
    model : object
        Any model.

    Returns
    -------
    str or None
        The reason the exact linear methods do not apply, in words.
    """
    name = type(model).__name__
    if name == "Pipeline":
        return (
            "a Pipeline is not differentiable as a whole; pass its final estimator "
            "(pipeline[-1]) with the transformed features (pipeline[:-1].transform(X))"
        )
    if name in ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier",
                "ExtraTreesRegressor", "GradientBoostingClassifier", "GradientBoostingRegressor",
                "HistGradientBoostingClassifier", "HistGradientBoostingRegressor",
                "DecisionTreeClassifier", "DecisionTreeRegressor"):
        return f"{name} has no gradients (trees are piecewise constant, with no parameters to "\
               "differentiate)"
    if name.startswith("KNeighbors"):
        return f"{name} has no parameters to differentiate (it memorises the training data)"
    module = type(model).__module__
    if name not in SUPPORTED_MODELS or not module.startswith("sklearn."):
        return (
            f"{name} is not one of the convex scikit-learn models these methods know exactly "
            f"({', '.join(SUPPORTED_MODELS)})"
        )
    if name == "LogisticRegression":
        penalty, _ = _lr_penalty(model)
        if penalty in ("l1", "elasticnet"):
            return (
                f"LogisticRegression with an {penalty} penalty is not twice differentiable; "
                "refit with l1_ratio=0 (L2 penalty)"
            )
    if name == "LinearSVC":
        if model.penalty != "l2":
            return ("LinearSVC with penalty='l1' is not twice differentiable; "
                    "refit with penalty='l2'")
        if getattr(model, "multi_class", "ovr") == "crammer_singer":
            return "LinearSVC(multi_class='crammer_singer') is not supported; use 'ovr'"
    if name == "SGDClassifier":
        if model.loss not in MARGIN_LOSSES:
            return (
                f"SGDClassifier(loss={model.loss!r}) has no usable second derivative; use one of "
                f"{list(MARGIN_LOSSES)}"
            )
        if model.penalty in ("l1",) or (model.penalty == "elasticnet" and model.l1_ratio > 0):
            return "SGDClassifier with an L1 part in its penalty is not twice differentiable"
    if name in ("Ridge", "LinearRegression") and getattr(model, "positive", False):
        return f"{name}(positive=True) is a constrained fit: the optimum may sit on the bound"
    return None


def _lr_penalty(model: Any) -> tuple[str | None, float]:
    """The penalty LogisticRegression actually uses (handles the 1.8 deprecation of penalty)."""
    penalty = getattr(model, "penalty", "l2")
    l1_ratio = getattr(model, "l1_ratio", None)
    c = float(model.C)
    if penalty in (None, "none"):
        return None, np.inf
    if penalty == "deprecated":
        if l1_ratio in (0, None):
            penalty = "l2"
        elif l1_ratio == 1:
            penalty = "l1"
        else:
            penalty = "elasticnet"
    if penalty == "elasticnet" and l1_ratio == 0:
        penalty = "l2"
    if np.isinf(c):
        return None, np.inf
    return penalty, c


# --------------------------------------------------------------------------- the model's spec


@dataclass(frozen=True)
class _Spec:
    """What a fitted model defines, independent of any data."""

    name: str
    kind: str  # "logistic" | "multinomial" | "squared" | "margin"
    coef: np.ndarray  # (K, d)
    intercept: np.ndarray  # (K,)
    fit_intercept: bool
    classes: np.ndarray | None
    scale: float  # c (for SGD: 1, and the objective is divided by n)
    mean_loss: bool  # objective uses the mean loss (SGD)
    reg_coef: np.ndarray  # (K,) penalty on coefficients
    reg_intercept: float
    margin: str | None
    smoothing: float
    objective: str
    hyper: dict[str, Any] = field(default_factory=dict)

    @property
    def n_outputs(self) -> int:
        return int(self.coef.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[1])

    @property
    def width(self) -> int:
        """Parameters per output: d coefficients (+ intercept)."""
        return self.n_features + int(self.fit_intercept)

    @property
    def n_params(self) -> int:
        return self.n_outputs * self.width

    def theta(self) -> np.ndarray:
        if self.fit_intercept:
            return np.hstack([self.coef, self.intercept[:, None]]).ravel()
        return self.coef.ravel().copy()

    def reg_vector(self) -> np.ndarray:
        reg = np.repeat(self.reg_coef[:, None], self.width, axis=1)
        if self.fit_intercept:
            reg[:, -1] = self.reg_intercept
        return reg.ravel()


def _class_weights(class_weight: Any, classes: np.ndarray, y_idx: np.ndarray) -> np.ndarray:
    """Per-example class weights as scikit-learn computes them (1 when class_weight is None)."""
    if class_weight is None:
        return np.ones(len(y_idx))
    from sklearn.utils.class_weight import compute_class_weight

    present = np.unique(y_idx)
    cw = np.ones(len(classes))
    cw[present] = compute_class_weight(class_weight, classes=classes[present],
                                       y=classes[y_idx])
    return cw[y_idx]


def _spec(model: Any, smoothing: float = DEFAULT_SMOOTHING) -> _Spec:
    """Read the objective of a fitted supported model."""
    name = type(model).__name__
    coef = np.atleast_2d(np.asarray(model.coef_, dtype=float))
    fit_intercept = bool(getattr(model, "fit_intercept", True))
    intercept = np.broadcast_to(np.asarray(model.intercept_, dtype=float),
                                (coef.shape[0],)).copy()
    classes = getattr(model, "classes_", None)
    k = coef.shape[0]
    reg_intercept = 0.0
    margin = None
    mean_loss = False
    hyper: dict[str, Any] = {}
    if name == "LogisticRegression":
        penalty, c = _lr_penalty(model)
        kind = "multinomial" if len(classes) > 2 else "logistic"
        if penalty is None:
            scale, reg = 1.0, 0.0
            objective = "Σ s_i logloss_i (no penalty)"
        else:
            scale, reg = c, 1.0
            objective = "C·Σ s_i logloss_i + ½||W||²"
        if model.solver == "liblinear" and fit_intercept and penalty is not None:
            reg_intercept = 1.0 / float(model.intercept_scaling) ** 2
            objective += " + ½(b/intercept_scaling)² (liblinear penalises the intercept)"
        if kind == "multinomial":
            objective = objective.replace("logloss", "softmax logloss")
        hyper = {"C": float(model.C), "penalty": penalty, "solver": model.solver}
    elif name == "LinearSVC":
        kind, margin = "margin", model.loss
        scale, reg = float(model.C), 1.0
        reg_intercept = 1.0 / float(model.intercept_scaling) ** 2 if fit_intercept else 0.0
        objective = (f"C·Σ s_i {_phi_name(margin, smoothing)}(y_i z_i) + ½||W||² "
                     "+ ½(b/intercept_scaling)² (one-vs-rest; liblinear penalises the intercept)")
        hyper = {"C": float(model.C), "loss": model.loss}
    elif name == "SGDClassifier":
        kind, margin, mean_loss = "margin", model.loss, True
        scale = 1.0
        reg = 0.0 if model.penalty is None else float(model.alpha)
        objective = (f"(1/n)·Σ s_i {_phi_name(margin, smoothing)}(y_i z_i) + ½·alpha·||W||² "
                     "(one-vs-rest)")
        hyper = {"alpha": float(model.alpha), "loss": model.loss, "penalty": model.penalty}
    elif name == "Ridge":
        kind, scale = "squared", 1.0
        alpha = np.asarray(model.alpha, dtype=float)
        reg = 2.0 * np.broadcast_to(alpha, (k,))  # Hessian of alpha·||w||² is 2·alpha
        objective = "Σ s_i ||y_i - z_i||² + alpha·||W||²"
        hyper = {"alpha": model.alpha}
    elif name == "LinearRegression":
        kind, scale, reg = "squared", 1.0, 0.0
        objective = "Σ s_i ||y_i - z_i||² (ordinary least squares, no penalty)"
    else:  # pragma: no cover - guarded by unsupported_reason
        msg = f"unsupported model {name}"
        raise InvalidParameterError(msg)
    reg_coef = np.broadcast_to(np.asarray(reg, dtype=float), (k,)).copy()
    if not fit_intercept:
        intercept = np.zeros(k)
    return _Spec(
        name=name, kind=kind, coef=coef, intercept=intercept, fit_intercept=fit_intercept,
        classes=None if classes is None else np.asarray(classes), scale=scale,
        mean_loss=mean_loss, reg_coef=reg_coef, reg_intercept=reg_intercept, margin=margin,
        smoothing=float(smoothing), objective=objective, hyper=hyper,
    )


def _phi_name(margin: str | None, smoothing: float) -> str:
    if margin == "hinge":
        return f"smoothed_hinge[t={smoothing:g}]"
    return str(margin)


# --------------------------------------------------------------------------- losses


def _encode_y(spec: _Spec, y: Any, name: str = "y") -> np.ndarray:
    """Labels → the form the loss needs (0/1, class index, ±1 matrix or targets)."""
    y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if spec.kind == "squared":
        y = y.astype(float)
        if y.ndim == 1:
            y = y[:, None]
        if y.shape[1] != spec.n_outputs:
            msg = (f"{name} has {y.shape[1]} target column(s) but the model predicts "
                   f"{spec.n_outputs}. Pass the targets the model was fitted on.")
            raise DataValidationError(msg)
        return y
    if y.ndim != 1:
        y = y.ravel()
    classes = spec.classes
    assert classes is not None
    idx = np.searchsorted(classes, y)
    idx = np.clip(idx, 0, len(classes) - 1)
    bad = classes[idx] != y
    if np.any(bad):
        unknown = sorted({str(v) for v in np.asarray(y)[bad]})[:5]
        msg = (f"{name} holds label(s) {unknown} that the model does not know; its classes are "
               f"{classes.tolist()}. Pass labels from the same encoding as the training labels.")
        raise DataValidationError(msg)
    if spec.kind == "logistic":
        return idx.astype(float)[:, None]
    if spec.kind == "multinomial":
        return idx
    k = spec.n_outputs
    if k == 1:
        return np.where(idx == 1, 1.0, -1.0)[:, None]
    return np.where(idx[:, None] == np.arange(k)[None, :], 1.0, -1.0)


def _class_index(spec: _Spec, y_enc: np.ndarray) -> np.ndarray:
    """Class index of encoded labels (for class weights)."""
    if spec.kind == "multinomial":
        return y_enc
    if spec.kind == "logistic":
        return y_enc[:, 0].astype(int)
    if y_enc.shape[1] == 1:
        return (y_enc[:, 0] > 0).astype(int)
    return np.argmax(y_enc, axis=1)


def _margin_parts(margin: str, m: np.ndarray, t: float) -> tuple[np.ndarray, ...]:
    """φ(m), φ'(m), φ''(m) of a margin loss."""
    if margin == "log_loss":
        return np.logaddexp(0.0, -m), -expit(-m), expit(m) * expit(-m)
    if margin == "hinge":  # softplus-smoothed hinge with temperature t
        u = (1.0 - m) / t
        return t * np.logaddexp(0.0, u), -expit(u), expit(u) * expit(-u) / t
    if margin == "squared_hinge":
        a = np.maximum(0.0, 1.0 - m)
        return a * a, -2.0 * a, 2.0 * (a > 0)
    if margin == "modified_huber":
        a = np.maximum(0.0, 1.0 - m)
        low = m < -1.0
        return (np.where(low, -4.0 * m, a * a), np.where(low, -4.0, -2.0 * a),
                np.where(low, 0.0, 2.0 * (a > 0)))
    msg = f"unknown margin loss {margin!r}"  # pragma: no cover
    raise InvalidParameterError(msg)


def _loss_parts(
    spec: _Spec, z: np.ndarray, y: np.ndarray, order: int = 2
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Per-example loss (n,), dℓ/dz (n, K) and d²ℓ/dz² ((n, K) diagonal or (n, K, K))."""
    if spec.kind == "logistic":
        zz = z[:, 0]
        loss = np.logaddexp(0.0, zz) - y[:, 0] * zz
        if order == 0:
            return loss, None, None
        p = expit(zz)
        return loss, (p - y[:, 0])[:, None], (p * (1.0 - p))[:, None]
    if spec.kind == "multinomial":
        n = len(y)
        lse = logsumexp(z, axis=1)
        loss = lse - z[np.arange(n), y]
        if order == 0:
            return loss, None, None
        p = softmax(z, axis=1)
        r = p.copy()
        r[np.arange(n), y] -= 1.0
        if order == 1:
            return loss, r, None
        d = -p[:, :, None] * p[:, None, :]
        d[:, np.arange(p.shape[1]), np.arange(p.shape[1])] += p
        return loss, r, d
    if spec.kind == "squared":
        e = z - y
        return (e * e).sum(axis=1), 2.0 * e, np.full_like(e, 2.0)
    m = y * z
    phi, dphi, ddphi = _margin_parts(spec.margin or "", m, spec.smoothing)
    return phi.sum(axis=1), dphi * y, ddphi


def _augment(x: np.ndarray, fit_intercept: bool) -> np.ndarray:
    return np.hstack([x, np.ones((len(x), 1))]) if fit_intercept else x


def _decision(spec: _Spec, x: np.ndarray, theta: np.ndarray | None = None) -> np.ndarray:
    """Raw outputs z (n, K)."""
    if theta is None:
        return x @ spec.coef.T + spec.intercept[None, :]
    w = theta.reshape(spec.n_outputs, spec.width)
    return _augment(x, spec.fit_intercept) @ w.T


def _as_features(x: Any, name: str) -> np.ndarray:
    try:
        from scipy import sparse

        if sparse.issparse(x):
            x = x.toarray()
    except ImportError:  # pragma: no cover
        pass
    return np.asarray(as_2d(x, name), dtype=float)


# --------------------------------------------------------------------------- LinearParts


class LinearParts:
    """The training objective of a fitted convex model and its exact derivatives.

    Build it with :func:`linear_parts`. Parameters ``θ`` are flattened as, for
    each output ``k``, the ``d`` coefficients followed by the intercept.

    Attributes
    ----------
    model : estimator
        The fitted model.
    n_params : int
        Length of ``θ``.
    theta : ndarray of shape (n_params,)
        The fitted parameters.
    weights : ndarray of shape (n_train,)
        Objective weight of each training example (``c · s_i``).
    damping : float
        Added to the Hessian's diagonal in :meth:`solve`.
    notes : list of str
        Reliability notes (objective, smoothing, damping, optimality).
    """

    def __init__(
        self, model: Any, spec: _Spec, x: np.ndarray, y_enc: np.ndarray,
        sample_weight: np.ndarray | None, damping: float | None, y_raw: np.ndarray,
    ) -> None:
        self.model = model
        self._spec = spec
        self.X = x
        self.y = y_raw
        self._y = y_enc
        self._xa = _augment(x, spec.fit_intercept)
        n = len(x)
        sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if sw.shape != (n,):
            msg = f"sample_weight has shape {sw.shape}; expected ({n},), one weight per row."
            raise DataValidationError(msg)
        self.sample_weight = sw
        cw_param = getattr(model, "class_weight", None)
        cw = (_class_weights(cw_param, spec.classes, _class_index(spec, y_enc))
              if spec.classes is not None else np.ones(n))
        self._cw_param = cw_param
        norm = 1.0 / n if spec.mean_loss else 1.0
        self.weights = spec.scale * norm * sw * cw
        self.theta = spec.theta()
        self.n_params = spec.n_params
        self._reg = spec.reg_vector()
        # mean-loss objectives (SGD): removing a row also rescales the penalty by 1/n
        self._reg_per_example = self._reg / n if spec.mean_loss else np.zeros_like(self._reg)
        self._null = self._null_direction()
        self.notes: list[str] = [f"Objective ({spec.name}): {spec.objective}."]
        if spec.margin == "hinge":
            self.notes.append(
                f"The hinge loss is not differentiable at the margin: gradients and Hessian use "
                f"the softplus-smoothed hinge t·log(1+exp((1-m)/t)) with t={spec.smoothing:g} "
                "(option smoothing). The model was fitted with the true hinge, so the fitted "
                "parameters are only near the optimum of the smoothed objective."
            )
        if spec.margin in ("squared_hinge", "modified_huber"):
            self.notes.append(
                f"The {spec.margin} loss is differentiable once; its second derivative jumps at "
                "the margin and the generalised Hessian is used."
            )
        if spec.name == "SGDClassifier":
            self.notes.append(
                "SGDClassifier stops at a stochastic approximation of the optimum; influence "
                "assumes the exact optimum. Check the optimality note, and prefer "
                "LogisticRegression(tol=1e-8) when exact attributions matter."
            )
        if spec.n_outputs > 1 and spec.kind == "margin":
            self.notes.append("Multi-class one-vs-rest: the loss is the sum of the binary losses.")
        if cw_param is not None:
            self.notes.append(
                f"class_weight={cw_param!r} multiplies each example's loss; removal treats these "
                "weights as fixed ('balanced' weights shift slightly when rows are removed)."
            )
        self._h: np.ndarray | None = None
        self._chol: Any = None
        self._eig: np.ndarray | None = None
        self.damping, self.damping_source = self._choose_damping(damping)

    # ---- basic quantities -------------------------------------------------

    @property
    def spec(self) -> _Spec:
        """The model's objective (internal description)."""
        return self._spec

    @property
    def n_train(self) -> int:
        """Number of training rows."""
        return len(self.X)

    def _null_direction(self) -> np.ndarray | None:
        """The shift of all softmax intercepts together: the loss ignores it."""
        s = self._spec
        if s.kind != "multinomial" or not s.fit_intercept or s.reg_intercept > 0:
            return None
        v = np.zeros((s.n_outputs, s.width))
        v[:, -1] = 1.0
        v = v.ravel()
        return v / np.linalg.norm(v)

    def encode(self, y: Any, name: str = "y") -> np.ndarray:
        """Labels in the encoding the losses use."""
        return _encode_y(self._spec, y, name)

    def decision(self, x: Any, theta: np.ndarray | None = None) -> np.ndarray:
        """Raw outputs, shaped like the model's ``decision_function`` / ``predict``."""
        z = _decision(self._spec, _as_features(x, "X"), theta)
        return z[:, 0] if z.shape[1] == 1 else z

    def predict_proba(self, x: Any, theta: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities, as the model's ``predict_proba`` (log-loss models only)."""
        return self._proba(_decision(self._spec, _as_features(x, "X"), theta))

    def _proba(self, z: np.ndarray) -> np.ndarray:
        """Class probabilities from raw outputs ``z`` (n, K)."""
        s = self._spec
        if s.kind == "multinomial":
            return softmax(z, axis=1)
        if s.kind == "logistic" or (s.kind == "margin" and s.margin == "log_loss"):
            p = expit(z)
            if p.shape[1] == 1:
                return np.hstack([1.0 - p, p])
            return p / p.sum(axis=1, keepdims=True)
        msg = (f"{s.name} ({s.margin or s.kind} loss) has no probabilities; "
               "use decision() instead.")
        raise InvalidParameterError(msg)

    def loss(self, x: Any, y: Any, theta: np.ndarray | None = None) -> np.ndarray:
        """Per-example loss ``ℓ(y, z)`` (n,), unweighted (no C, no sample weight)."""
        xx = _as_features(x, "X")
        yy = self.encode(y)
        return _loss_parts(self._spec, _decision(self._spec, xx, theta), yy, order=0)[0]

    per_example_loss = loss

    def grads_from_outputs(self, x: Any, dz: np.ndarray) -> np.ndarray:
        """Parameter gradients (n, p) of per-example quantities with output gradients ``dz``.

        For any quantity ``f_i(z_i)`` of example ``i``, ``∇_θ f_i = dz_i ⊗ [x_i, 1]``:
        pass ``dz`` of shape (n,) or (n, K) to build gradients of custom targets
        (a group gap, a selection rate...); sum the rows for an aggregate.
        """
        xa = _augment(_as_features(x, "X"), self._spec.fit_intercept)
        dz = np.asarray(dz, dtype=float)
        if dz.ndim == 1:
            dz = dz[:, None]
        n, k = dz.shape
        return (dz[:, :, None] * xa[:, None, :]).reshape(n, k * xa.shape[1])

    def grads(self, x: Any, y: Any, theta: np.ndarray | None = None) -> np.ndarray:
        """Per-example gradients (n, p) of the per-example loss w.r.t. ``θ``."""
        xx = _as_features(x, "X")
        _, r, _ = _loss_parts(self._spec, _decision(self._spec, xx, theta), self.encode(y),
                              order=1)
        return self.grads_from_outputs(xx, r)

    def train_grads(self, idx: np.ndarray | None = None) -> np.ndarray:
        """Removal gradients ``t_i`` (n, p): ∇θ of what removing example i takes off ``J``."""
        sel = slice(None) if idx is None else idx
        xa = self._xa[sel]
        _, r, _ = _loss_parts(self._spec, xa @ self.theta.reshape(self._spec.n_outputs, -1).T,
                              self._y[sel], order=1)
        g = (r[:, :, None] * xa[:, None, :]).reshape(len(xa), -1)
        g *= self.weights[sel][:, None]
        if self._spec.mean_loss:
            g += (self._reg_per_example * self.theta)[None, :]
        return g

    def objective(self, theta: np.ndarray | None = None,
                  weights: np.ndarray | None = None) -> float:
        """Value of the training objective ``J(θ)``."""
        th = self.theta if theta is None else theta
        w = self.weights if weights is None else weights
        z = self._xa @ th.reshape(self._spec.n_outputs, -1).T
        loss = _loss_parts(self._spec, z, self._y, order=0)[0]
        return float(w @ loss + 0.5 * np.sum(self._reg * th * th))

    def objective_grad(self, theta: np.ndarray | None = None,
                       weights: np.ndarray | None = None,
                       reg: np.ndarray | None = None) -> np.ndarray:
        """Gradient of ``J`` (p,); ~0 at a converged fit."""
        th = self.theta if theta is None else theta
        w = self.weights if weights is None else weights
        rg = self._reg if reg is None else reg
        z = self._xa @ th.reshape(self._spec.n_outputs, -1).T
        _, r, _ = _loss_parts(self._spec, z, self._y, order=1)
        k = self._spec.n_outputs
        g = ((r * w[:, None]).T @ self._xa).reshape(k * self._xa.shape[1])
        return g + rg * th

    def _curvature(self, theta: np.ndarray, rows: Any = slice(None)) -> tuple[np.ndarray, Any]:
        xa = self._xa[rows]
        z = xa @ theta.reshape(self._spec.n_outputs, -1).T
        _, _, d = _loss_parts(self._spec, z, self._y[rows], order=2)
        return xa, d

    def _data_hessian(self, theta: np.ndarray, w: np.ndarray, rows: Any = slice(None)
                      ) -> np.ndarray:
        """Σ_i w_i J_iᵀ D_i J_i over ``rows``."""
        xa, d = self._curvature(theta, rows)
        k, m = self._spec.n_outputs, xa.shape[1]
        h = np.zeros((k * m, k * m))
        for a in range(k):
            for b in range(k):
                if d.ndim == 2:
                    if a != b:
                        continue
                    coeff = w * d[:, a]
                else:
                    coeff = w * d[:, a, b]
                h[a * m:(a + 1) * m, b * m:(b + 1) * m] = (xa * coeff[:, None]).T @ xa
        return h

    def hessian(self) -> np.ndarray:
        """Hessian (p, p) of the training objective at the fitted parameters (no damping)."""
        if self._h is None:
            h = self._data_hessian(self.theta, self.weights)
            h[np.diag_indices_from(h)] += self._reg
            self._h = h
        return self._h

    def _with_fixes(self, h: np.ndarray, damping: float) -> np.ndarray:
        h = h.copy()
        if damping:
            h[np.diag_indices_from(h)] += damping
        if self._null is not None:
            scale = float(np.mean(np.abs(np.diag(h)))) or 1.0
            h += scale * np.outer(self._null, self._null)
        return h

    def _choose_damping(self, damping: float | None) -> tuple[float, str]:
        if damping is not None:
            d = float(damping)
            if not np.isfinite(d) or d < 0:
                raise InvalidParameterError.from_value(
                    "damping", "linear_parts", "a float >= 0 or None", damping)
            return d, "user"
        h = self._with_fixes(self.hessian(), 0.0)
        top = float(np.max(np.abs(np.diag(h)))) or 1.0
        if self.n_params <= _EIGEN_MAX_PARAMS:
            eig = np.linalg.eigvalsh(h)
            self._eig = eig
            if eig[0] > 1e-10 * eig[-1]:
                return 0.0, "none needed"
            d = AUTO_DAMPING * float(eig[-1])
        else:
            try:
                linalg.cho_factor(h, lower=True)
                return 0.0, "none needed"
            except linalg.LinAlgError:
                d = AUTO_DAMPING * top
        self.notes.append(
            f"The Hessian is singular or nearly so (e.g. collinear features such as one-hot "
            f"columns with an intercept, or no penalty): damping={d:.3g} (1e-8 × its largest "
            "eigenvalue) was added to its diagonal. Directions the data never excite do not "
            "affect the scores; pass damping= to choose it, or add an L2 penalty."
        )
        return d, "auto"

    def _factor(self) -> Any:
        if self._chol is None:
            h = self._with_fixes(self.hessian(), self.damping)
            try:
                self._chol = linalg.cho_factor(h, lower=True, check_finite=False)
            except linalg.LinAlgError:
                msg = (
                    f"The Hessian of {self._spec.name}'s objective is not positive definite with "
                    f"damping={self.damping:g}. Pass a larger damping (e.g. damping=1e-3) or "
                    "refit with an L2 penalty."
                )
                raise DataValidationError(msg) from None
        return self._chol

    def solve(self, v: np.ndarray) -> np.ndarray:
        """``(H + damping·I)⁻¹ v`` by Cholesky; ``v`` of shape (p,) or (p, m)."""
        return linalg.cho_solve(self._factor(), np.asarray(v, dtype=float), check_finite=False)

    def condition_number(self) -> float | None:
        """Condition number of the (damped) Hessian, when it was computed."""
        if self._eig is None:
            return None
        eig = self._eig + self.damping
        return float(eig[-1] / eig[0]) if eig[0] > 0 else float("inf")

    def optimality_gap(self) -> float:
        """``||H⁻¹ ∇J(θ̂)|| / ||θ̂||``: how far the fit is from the optimum (relative)."""
        step = self.solve(self.objective_grad())
        return float(np.linalg.norm(step) / max(np.linalg.norm(self.theta), 1e-300))

    # ---- attribution ----------------------------------------------------

    def influence(self, query_grads: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """Scores (m, n) = ``query_grads · H⁻¹ · t_i``: rise of each measurement on removing i.

        ``query_grads`` (m, p) are gradients of any measurements (query losses,
        a group gap...) w.r.t. ``θ``; ``idx`` restricts the training examples.
        """
        q = np.atleast_2d(np.asarray(query_grads, dtype=float))
        t = self.train_grads(idx)
        if len(q) <= len(t):
            return (t @ self.solve(q.T)).T
        return q @ self.solve(t.T)

    def group_influence(self, query_grads: np.ndarray, groups: Sequence[np.ndarray]
                        ) -> np.ndarray:
        """Scores (m, n_groups): first-order effect of removing each group (sum over members)."""
        q = np.atleast_2d(np.asarray(query_grads, dtype=float))
        t = self.train_grads()
        tg = np.stack([t[g].sum(axis=0) for g in groups])
        return (tg @ self.solve(q.T)).T

    def newton_steps(self, groups: Sequence[np.ndarray]) -> np.ndarray:
        """Parameter changes (n_groups, p) of one exact Newton step after removing each group."""
        t = self.train_grads()
        h = self.hessian()
        out = np.empty((len(groups), self.n_params))
        for j, g in enumerate(groups):
            hg = h - self._data_hessian(self.theta, self.weights[g], g)
            hg[np.diag_indices_from(hg)] -= len(g) * self._reg_per_example
            rhs = t[g].sum(axis=0)
            out[j] = self._robust_solve(self._with_fixes(hg, self.damping), rhs)
        return out

    def newton_loo_steps(self, idx: np.ndarray | None = None) -> np.ndarray:
        """Parameter changes (n, p) of one exact Newton step after removing each single example.

        Uses the Woodbury identity: ``H_{-i} = H - U_i V_iᵀ`` has rank ≤ K.
        """
        s = self._spec
        rows = np.arange(self.n_train) if idx is None else np.asarray(idx)
        t = self.train_grads(rows)
        base = self.solve(t.T).T  # H⁻¹ t_i
        if s.mean_loss and np.any(self._reg_per_example):
            # the penalty change is full rank: fall back to direct steps
            return self.newton_steps([np.array([i]) for i in rows])
        xa, d = self._curvature(self.theta, rows)
        k, m = s.n_outputs, xa.shape[1]
        w = self.weights[rows]
        # H⁻¹ applied to the K block copies of each x̃_i: (k, p, n)
        hinv_x = np.empty((k, self.n_params, len(rows)))
        for a in range(k):
            e = np.zeros((self.n_params, len(rows)))
            e[a * m:(a + 1) * m] = xa.T
            hinv_x[a] = self.solve(e)
        out = np.empty_like(base)
        for j in range(len(rows)):
            dj = np.diag(d[j]) if d.ndim == 2 else d[j]
            dj = w[j] * dj
            a_mat = hinv_x[:, :, j]  # (k, p) rows: H⁻¹ J_iᵀ e_a
            jx = np.zeros((k, k))
            for a in range(k):
                jx[:, a] = a_mat[a].reshape(k, m) @ xa[j]  # J_i H⁻¹ J_iᵀ
            # (H - Jᵀ D J)⁻¹ t = H⁻¹t + H⁻¹Jᵀ D (I - J H⁻¹ Jᵀ D)⁻¹ J H⁻¹ t
            jb = base[j].reshape(k, m) @ xa[j]
            try:
                corr = np.linalg.solve(np.eye(k) - jx @ dj, jb)
            except np.linalg.LinAlgError:
                corr = np.linalg.lstsq(np.eye(k) - jx @ dj, jb, rcond=None)[0]
            out[j] = base[j] + a_mat.T @ (dj @ corr)
        return out

    def loo_decision(self, idx: np.ndarray | None = None) -> np.ndarray:
        """Raw outputs (n, K) of each training example under the model refitted without it.

        The refit is one exact Newton step on the objective without the example
        (:meth:`newton_loo_steps`), which for these smooth convex objectives
        matches actual leave-one-out retraining closely (see the user guide).
        """
        s = self._spec
        rows = np.arange(self.n_train) if idx is None else np.asarray(idx)
        theta = self.theta[None, :] + self.newton_loo_steps(rows)
        w = theta.reshape(len(rows), s.n_outputs, s.width)
        return np.einsum("im,ikm->ik", self._xa[rows], w)

    def loo_loss(self, idx: np.ndarray | None = None) -> np.ndarray:
        """Each training example's own loss (n,) under the model refitted without it.

        ``ℓ_i(θ̂₋ᵢ)``: its in-sample loss plus how much removing it raises that
        loss (the exact counterpart of self-influence).
        """
        rows = np.arange(self.n_train) if idx is None else np.asarray(idx)
        return _loss_parts(self._spec, self.loo_decision(rows), self._y[rows], order=0)[0]

    def loo_proba(self, idx: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities (n, K) of each example under the model refitted without it."""
        return self._proba(self.loo_decision(idx))

    def _robust_solve(self, h: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        try:
            return linalg.cho_solve(linalg.cho_factor(h, lower=True, check_finite=False), rhs,
                                    check_finite=False)
        except linalg.LinAlgError:
            return np.linalg.lstsq(h, rhs, rcond=None)[0]

    # ---- retraining -------------------------------------------------------

    def _retrain_weights(self, weights: Any, mask: Any) -> tuple[np.ndarray, np.ndarray]:
        n = self.n_train
        sw = self.sample_weight.copy()
        if weights is not None:
            sw = np.asarray(weights, dtype=float)
            if sw.shape != (n,) or np.any(sw < 0) or not np.all(np.isfinite(sw)):
                msg = (f"weights must be {n} finite non-negative numbers, one per training row. "
                       f"Got shape {sw.shape}.")
                raise DataValidationError(msg)
        keep = np.ones(n, dtype=bool)
        if mask is not None:
            mk = np.asarray(mask)
            if mk.dtype != bool or mk.shape != (n,):
                msg = (f"mask must be a boolean array of {n} values (True keeps the row). "
                       f"Got dtype {mk.dtype}, shape {mk.shape}.")
                raise DataValidationError(msg)
            keep &= mk
        keep &= sw > 0
        return sw, keep

    def retrain(self, weights: Any = None, mask: Any = None, *, solver: str = "model",
                tol: float = DEFAULT_RETRAIN_TOL) -> Any:
        """Refit on the kept rows, warm-started from the fitted coefficients.

        Parameters
        ----------
        weights : array-like of shape (n_train,), optional
            New sample weights (replacing the training ones); rows with weight 0
            are removed.
        mask : bool array-like of shape (n_train,), optional
            ``True`` keeps the row, ``False`` removes it.
        solver : {"model", "newton"}, default="model"
            ``"model"``: the estimator's own ``fit`` on a clone (tolerance
            tightened to ``tol``, warm-started where the estimator allows).
            ``"newton"``: exact Newton iterations on the objective used for the
            derivatives (for hinge models: the smoothed one), from ``θ̂``.
        tol : float, default=1e-10
            Convergence tolerance.

        Returns
        -------
        estimator
            A fitted clone of the model.
        """
        sw, keep = self._retrain_weights(weights, mask)
        if solver == "newton":
            theta = self.newton_refit(sw, keep, tol=tol)
            return self._model_with_theta(theta)
        if solver != "model":
            raise InvalidParameterError.from_value("solver", "LinearParts.retrain",
                                                   "'model' or 'newton'", solver)
        return _refit_model(self.model, self.X[keep], self.y[keep], sw[keep], tol=tol)

    def _model_with_theta(self, theta: np.ndarray) -> Any:
        from sklearn.base import clone

        new = clone(self.model)
        for attr in ("classes_", "n_features_in_", "feature_names_in_", "n_iter_", "t_"):
            if hasattr(self.model, attr):
                setattr(new, attr, getattr(self.model, attr))
        s = self._spec
        w = theta.reshape(s.n_outputs, s.width)
        coef = w[:, :s.n_features].copy()
        intercept = w[:, -1].copy() if s.fit_intercept else np.zeros(s.n_outputs)
        orig = np.asarray(self.model.coef_)
        new.coef_ = coef.reshape(orig.shape)
        orig_b = np.asarray(self.model.intercept_)
        new.intercept_ = intercept.reshape(orig_b.shape) if orig_b.ndim else float(intercept[0])
        return new

    def newton_refit(self, sample_weight: np.ndarray, keep: np.ndarray, *,
                     tol: float = DEFAULT_RETRAIN_TOL, max_iter: int = 100) -> np.ndarray:
        """Minimise the objective restricted to ``keep`` (new weights) from ``θ̂``; returns θ."""
        s = self._spec
        n_keep = int(keep.sum())
        cw = (_class_weights(self._cw_param, s.classes, _class_index(s, self._y[keep]))
              if s.classes is not None else np.ones(n_keep))
        w = np.zeros(self.n_train)
        w[keep] = s.scale * sample_weight[keep] * cw / (n_keep if s.mean_loss else 1.0)
        rows = np.flatnonzero(keep)
        theta = self.theta.copy()
        reg = self._reg
        for _ in range(max_iter):
            g = self.objective_grad(theta, w, reg)
            h = self._data_hessian(theta, w[rows], rows)
            h[np.diag_indices_from(h)] += reg
            step = self._robust_solve(self._with_fixes(h, self.damping), g)
            dec = float(g @ step)  # Newton decrement squared
            f0 = self.objective(theta, w)
            lr = 1.0
            if dec > 1e-10 * max(1.0, abs(f0)):  # far from the optimum: backtrack
                while lr > 1e-10 and self.objective(theta - lr * step, w) > f0 - 1e-4 * lr * dec:
                    lr *= 0.5
            theta = theta - lr * step
            if np.linalg.norm(lr * step) <= tol * max(1.0, float(np.linalg.norm(theta))):
                break
        return theta


def _exact_lr_refit(model: Any) -> bool:
    """LogisticRegression refits switch to newton-cholesky (same objective) when small enough."""
    return model.solver in EXACT_LR_SOLVERS and np.asarray(model.coef_).size <= 2000


def _refit_model(model: Any, x: np.ndarray, y: np.ndarray, sw: np.ndarray, *, tol: float
                 ) -> Any:
    """The estimator's own fit on a clone, tight tolerance, warm start where possible."""
    from sklearn.base import clone

    name = type(model).__name__
    new = clone(model)
    params = new.get_params()
    if "tol" in params and params["tol"] is not None and name != "SGDClassifier":
        new.set_params(tol=min(float(params["tol"]), tol))
    fit_kw: dict[str, Any] = {}
    if name == "LogisticRegression":
        new.set_params(max_iter=max(int(model.max_iter), 10_000))
        if _exact_lr_refit(model):
            new.set_params(solver="newton-cholesky")  # same objective, solved exactly
        if model.solver != "liblinear":
            new.set_params(warm_start=True)
            new.coef_ = np.array(model.coef_, copy=True)
            new.intercept_ = np.array(model.intercept_, copy=True)
    elif name == "LinearSVC":
        new.set_params(max_iter=max(int(model.max_iter), 100_000))
    elif name == "SGDClassifier":
        fit_kw = {"coef_init": np.array(model.coef_, copy=True),
                  "intercept_init": np.array(model.intercept_, copy=True)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new.fit(x, y, sample_weight=sw, **fit_kw)
    if name == "LogisticRegression":
        new.set_params(warm_start=model.warm_start)
    return new


# --------------------------------------------------------------------------- public helpers


def _require_supported(model: Any, where: str) -> None:
    reason = unsupported_reason(model)
    if reason is not None:
        from scrutiny.attribution._api import applicable_methods

        usable = [m for m in applicable_methods(model)
                  if m not in ("influence", "newton", "retrain")]
        hint = f" Methods that apply to it: {usable}." if usable else ""
        msg = f"{where} needs a convex scikit-learn model: {reason}.{hint}"
        raise InvalidParameterError(msg)
    check_fitted(model)


def linear_parts(
    model: Any, X_train: Any, y_train: Any, sample_weight: Any = None,
    *, damping: float | None = None, smoothing: float = DEFAULT_SMOOTHING,
) -> LinearParts:
    """The exact training objective of a fitted convex scikit-learn model.

    Parameters
    ----------
    model : estimator
        A fitted ``LogisticRegression``, ``Ridge``, ``LinearRegression``,
        ``SGDClassifier`` or ``LinearSVC``.
    X_train : array-like of shape (n_train, d)
        The features the model was fitted on (after preprocessing).
    y_train : array-like of shape (n_train,) or (n_train, K)
        The training labels / targets.
    sample_weight : array-like of shape (n_train,), optional
        The sample weights used in ``fit``.
    damping : float or None, default=None
        Added to the Hessian's diagonal before solving. ``None``: 0, unless the
        Hessian is singular (then ``1e-8 ×`` its largest eigenvalue, with a note).
    smoothing : float, default=0.1
        Temperature of the softplus that replaces the hinge loss.

    Returns
    -------
    LinearParts
        Gradients, Hessian, solves, losses and retraining for this model.

    Raises
    ------
    InvalidParameterError
        The model is not supported (the message names methods that apply).
    NotFittedError
        The model is not fitted.
    DataValidationError
        Mismatched rows or feature counts, unknown labels.
    """
    _require_supported(model, "linear_parts")
    if not np.isfinite(smoothing) or smoothing <= 0:
        raise InvalidParameterError.from_value("smoothing", "linear_parts", "a float > 0",
                                               smoothing)
    x = _as_features(X_train, "X_train")
    y_raw = np.asarray(y_train.to_numpy() if hasattr(y_train, "to_numpy") else y_train)
    check_shapes(model, x, y_raw, x, y_raw)
    spec = _spec(model, smoothing)
    if x.shape[1] != spec.n_features:
        msg = (f"The model has {spec.n_features} coefficients per output but X_train has "
               f"{x.shape[1]} features. Pass the matrix the model was fitted on.")
        raise DataValidationError(msg)
    y_enc = _encode_y(spec, y_raw, "y_train")
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    return LinearParts(model, spec, x, y_enc, sw, damping, y_raw)


def per_example_loss(model: Any, X: Any, y: Any, *,
                     smoothing: float = DEFAULT_SMOOTHING) -> np.ndarray:
    """The loss of each example under a fitted convex model (unweighted).

    Parameters
    ----------
    model : estimator
        A supported fitted model.
    X : array-like of shape (n, d)
    y : array-like of shape (n,) or (n, K)
    smoothing : float, default=0.1
        Temperature of the smoothed hinge (hinge models only).

    Returns
    -------
    ndarray of shape (n,)
        Log-loss, squared error or margin loss of each example.
    """
    _require_supported(model, "per_example_loss")
    spec = _spec(model, smoothing)
    x = _as_features(X, "X")
    if x.shape[1] != spec.n_features:
        msg = f"X has {x.shape[1]} features but the model was fitted on {spec.n_features}."
        raise DataValidationError(msg)
    return _loss_parts(spec, _decision(spec, x), _encode_y(spec, y), order=0)[0]


def self_influence(model: Any, X: Any, y: Any, sample_weight: Any = None,
                   *, damping: float | None = None,
                   smoothing: float = DEFAULT_SMOOTHING) -> np.ndarray:
    """How much each training example's own loss would rise if it were removed.

    ``t_iᵀ H⁻¹ ∇ℓ_i`` with the exact Hessian; large values flag examples the
    model had to bend towards (often mislabelled ones).

    Parameters
    ----------
    model : estimator
        A supported fitted model.
    X, y : array-like
        The training data the model was fitted on.
    sample_weight : array-like, optional
        The sample weights used in ``fit``.
    damping, smoothing : see :func:`linear_parts`.

    Returns
    -------
    ndarray of shape (n_train,)
    """
    parts = linear_parts(model, X, y, sample_weight, damping=damping, smoothing=smoothing)
    t = parts.train_grads()
    g = parts.grads(parts.X, parts.y)
    return np.einsum("ij,ij->i", g, parts.solve(t.T).T)


# --------------------------------------------------------------------------- methods


_COMMON = ("target", "groups", "damping", "top_k", "sample_weight", "smoothing", "chunk_size")
_OPTIONS = {
    "influence": _COMMON,
    "newton": _COMMON,
    "retrain": (*_COMMON, "subset", "solver", "tol"),
}


def _check_options(method: str, options: dict[str, Any]) -> None:
    allowed = _OPTIONS[method]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        msg = (f"Unknown option(s) {unknown} for method={method!r}. "
               f"Options it takes: {sorted(allowed)}.")
        raise InvalidParameterError(msg)
    target = options.get("target", "loss")
    if target not in TARGETS:
        raise InvalidParameterError.from_value("target", f"attribute(method={method!r})",
                                               f"one of {list(TARGETS)}", target)
    top_k = options.get("top_k")
    if top_k is not None and (not isinstance(top_k, int | np.integer) or top_k < 1):
        raise InvalidParameterError.from_value("top_k", f"attribute(method={method!r})",
                                               "a positive int or None", top_k)


def normalize_groups(groups: Any, n_train: int) -> list[np.ndarray]:
    """Groups as a list of sorted unique index arrays (from indices or boolean masks)."""
    if groups is None:
        msg = "groups is None"  # pragma: no cover
        raise InvalidParameterError(msg)
    if isinstance(groups, np.ndarray) and groups.ndim == 2:
        if groups.dtype != bool or groups.shape[1] != n_train:
            msg = (f"A groups matrix must be boolean of shape (n_groups, {n_train}). "
                   f"Got dtype {groups.dtype}, shape {groups.shape}.")
            raise DataValidationError(msg)
        out = [np.flatnonzero(row) for row in groups]
    else:
        out = []
        for j, g in enumerate(groups):
            arr = np.asarray(g)
            if arr.dtype == bool:
                if arr.shape != (n_train,):
                    msg = (f"Group {j} is a boolean mask of shape {arr.shape}; "
                           f"expected ({n_train},).")
                    raise DataValidationError(msg)
                arr = np.flatnonzero(arr)
            arr = np.unique(arr.astype(np.int64).ravel()) if arr.size else arr.astype(np.int64)
            if arr.size and (arr[0] < 0 or arr[-1] >= n_train):
                msg = (f"Group {j} holds indices outside 0..{n_train - 1} "
                       f"(min {arr[0]}, max {arr[-1]}).")
                raise DataValidationError(msg)
            out.append(arr)
    for j, g in enumerate(out):
        if len(g) == 0 or len(g) >= n_train:
            msg = (f"Group {j} has {len(g)} rows; a group must remove at least one and fewer "
                   f"than all {n_train} training rows.")
            raise DataValidationError(msg)
    if not out:
        msg = "groups is empty: pass at least one group of training indices."
        raise DataValidationError(msg)
    return out


@dataclass
class _Setup:
    parts: LinearParts
    xq: np.ndarray
    yq: np.ndarray
    target: str
    groups: list[np.ndarray] | None
    top_k: int | None
    chunk: int


def _setup(method: str, model: Any, x_train: Any, y_train: Any, x_query: Any, y_query: Any,
           options: dict[str, Any]) -> _Setup:
    _check_options(method, options)
    xt = _as_features(x_train, "X_train")
    xq = _as_features(x_query, "X_query")
    yt = np.asarray(y_train.to_numpy() if hasattr(y_train, "to_numpy") else y_train)
    yq = np.asarray(y_query.to_numpy() if hasattr(y_query, "to_numpy") else y_query)
    check_shapes(model, xt, yt, xq, yq)
    parts = linear_parts(model, xt, yt, options.get("sample_weight"),
                         damping=options.get("damping"),
                         smoothing=options.get("smoothing", DEFAULT_SMOOTHING))
    parts.encode(yq, "y_query")  # validate query labels early
    groups = options.get("groups")
    groups = None if groups is None else normalize_groups(groups, parts.n_train)
    chunk = int(options.get("chunk_size") or max(1, min(len(xq), 2**22 // max(parts.n_train, 1))))
    return _Setup(parts, xq, yq, options.get("target", "loss"), groups, options.get("top_k"),
                  chunk)


def _query_grads(st: _Setup, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
    g = st.parts.grads(st.xq[rows], st.yq[rows])
    return g.mean(axis=0, keepdims=True) if st.target == "mean_loss" else g


def _query_loss(st: _Setup, theta: np.ndarray | None = None) -> np.ndarray:
    loss = st.parts.loss(st.xq, st.yq, theta)
    return np.array([loss.mean()]) if st.target == "mean_loss" else loss


def _top(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` columns by |score| per row, sorted by decreasing score (NaN ignored)."""
    k = min(k, scores.shape[1])
    mag = np.where(np.isnan(scores), -np.inf, np.abs(scores))
    idx = np.argpartition(-mag, k - 1, axis=1)[:, :k]
    val = np.take_along_axis(scores, idx, axis=1)
    order = np.argsort(-np.where(np.isnan(val), -np.inf, val), axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(val, order, axis=1)


def _emit(st: _Setup, fill: Callable[[np.ndarray], np.ndarray]) -> dict[str, Any]:
    """Run ``fill(query_rows) -> scores`` over query chunks; full matrix or top-k."""
    n_rows = 1 if st.target == "mean_loss" else len(st.xq)
    if st.top_k is None or st.target == "mean_loss":
        scores = fill(np.arange(len(st.xq)))
        if st.top_k is None:
            return {"scores": scores}
        ti, ts = _top(scores, st.top_k)
        return {"top_indices": ti, "top_scores": ts}
    tis, tss = [], []
    for start in range(0, n_rows, st.chunk):
        rows = np.arange(start, min(start + st.chunk, n_rows))
        ti, ts = _top(fill(rows), st.top_k)
        tis.append(ti)
        tss.append(ts)
    return {"top_indices": np.vstack(tis), "top_scores": np.vstack(tss)}


def _params(st: _Setup, method: str, **extra: Any) -> dict[str, Any]:
    p = st.parts
    out: dict[str, Any] = {
        "model": p.spec.name,
        "objective": p.spec.objective,
        **p.spec.hyper,
        "n_params": p.n_params,
        "n_train": p.n_train,
        "damping": p.damping,
        "damping_source": p.damping_source,
        "target": st.target,
        "top_k": st.top_k,
        "groups": None if st.groups is None else len(st.groups),
    }
    if p.spec.margin == "hinge":
        out["smoothing"] = p.spec.smoothing
    cond = p.condition_number()
    if cond is not None:
        out["hessian_condition_number"] = cond
    out.update(extra)
    return out


def _optimality_note(st: _Setup) -> tuple[list[str], dict[str, Any]]:
    """Is θ̂ the optimum? Compare the distance to it with a typical single-removal shift."""
    p = st.parts
    gap_step = p.solve(p.objective_grad())
    gap = float(np.linalg.norm(gap_step))
    sample = np.linspace(0, p.n_train - 1, min(p.n_train, 200)).astype(int)
    shifts = np.linalg.norm(p.solve(p.train_grads(sample).T), axis=0)
    typical = float(np.median(shifts)) or 1e-300
    ratio = gap / typical
    extras = {"optimality_gap": gap, "median_removal_shift": typical,
              "gap_to_shift_ratio": ratio}
    if ratio > 0.1 and p.spec.margin == "hinge":
        return [(
            f"The fitted parameters are {ratio:.2g}× a typical single-removal shift away from the "
            "optimum of the smoothed objective: expected, since the model minimises the true "
            "hinge. Rankings of large effects remain usable; small single-example scores are "
            "not reliable (a smaller smoothing moves the optimum closer but makes the Hessian "
            "stiffer). Cross-check with method='retrain'."
        )], extras
    if ratio > 0.1:
        return [(
            f"The model is not at the optimum of its objective: the remaining Newton step "
            f"(||H⁻¹∇J|| = {gap:.3g}) is {ratio:.2g}× the parameter shift of removing a typical "
            "single example. Leave-one-out effects are then below the fit's own error: refit "
            "with a tighter tolerance (e.g. tol=1e-8, max_iter=10000) before trusting "
            "single-example scores."
        )], extras
    return [f"Optimality: the fit is within {ratio:.2g}× a typical single-removal shift of "
            "the optimum."], extras


def _run_influence(model: Any, X_train: Any, y_train: Any, X_query: Any, y_query: Any,
                   **options: Any) -> AttributionResult:
    start = time.perf_counter()
    st = _setup("influence", model, X_train, y_train, X_query, y_query, options)
    p = st.parts
    notes = list(p.notes)
    opt_notes, extras = _optimality_note(st)
    notes += opt_notes
    notes.append(
        "Influence is the first-order (infinitesimal) effect of removing the example with the "
        "exact Hessian: excellent for single examples of a converged convex model, but it "
        "under-estimates the effect of removing large groups; use method='newton' or 'retrain' "
        "for groups."
    )
    if st.groups is None:
        t = p.train_grads()
        n_q = 1 if st.target == "mean_loss" else len(st.xq)
        t_solved = p.solve(t.T) if n_q >= p.n_params else None  # (p, n)

        def fill(rows: np.ndarray) -> np.ndarray:
            q = _query_grads(st, rows)
            if t_solved is not None:
                return q @ t_solved
            return (t @ p.solve(q.T)).T
    else:
        groups = st.groups

        def fill(rows: np.ndarray) -> np.ndarray:
            return p.group_influence(_query_grads(st, rows), groups)
    out = _emit(st, fill)
    return AttributionResult(
        method="influence", params=_params(st, "influence"), seed=None,
        seconds=time.perf_counter() - start, notes=notes, extras=extras, **out,
    )


def _loss_change(st: _Setup, thetas: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Query loss at each θ minus at θ̂: (len(rows) or 1, n_thetas)."""
    p = st.parts
    s = p.spec
    x = st.xq if st.target == "mean_loss" else st.xq[rows]
    y = st.yq if st.target == "mean_loss" else st.yq[rows]
    ye = p.encode(y)
    xa = _augment(x, s.fit_intercept)
    base = _loss_parts(s, _decision(s, x), ye, order=0)[0]
    out = np.empty((len(thetas), len(x)))
    for j, th in enumerate(thetas):
        z = xa @ th.reshape(s.n_outputs, -1).T
        out[j] = _loss_parts(s, z, ye, order=0)[0] - base
    if st.target == "mean_loss":
        return out.mean(axis=1)[None, :]
    return out.T


def _run_newton(model: Any, X_train: Any, y_train: Any, X_query: Any, y_query: Any,
                **options: Any) -> AttributionResult:
    start = time.perf_counter()
    st = _setup("newton", model, X_train, y_train, X_query, y_query, options)
    p = st.parts
    notes = list(p.notes)
    opt_notes, extras = _optimality_note(st)
    notes += opt_notes
    notes.append(
        "One exact Newton step on the objective without the removed examples (their curvature "
        "taken out of the Hessian), then the query loss evaluated at the new parameters: "
        "captures most of the non-linearity that plain influence misses for groups. Exact for "
        "squared-loss models."
    )
    steps = p.newton_loo_steps() if st.groups is None else p.newton_steps(st.groups)
    thetas = p.theta[None, :] + steps
    out = _emit(st, lambda rows: _loss_change(st, thetas, rows))
    return AttributionResult(
        method="newton", params=_params(st, "newton"), seed=None,
        seconds=time.perf_counter() - start, notes=notes, extras=extras, **out,
    )


def _run_retrain(model: Any, X_train: Any, y_train: Any, X_query: Any, y_query: Any,
                 **options: Any) -> AttributionResult:
    start = time.perf_counter()
    st = _setup("retrain", model, X_train, y_train, X_query, y_query, options)
    p = st.parts
    solver = options.get("solver", "model")
    if solver not in ("model", "newton"):
        raise InvalidParameterError.from_value("solver", "attribute(method='retrain')",
                                               "'model' or 'newton'", solver)
    tol = float(options.get("tol", DEFAULT_RETRAIN_TOL))
    subset = options.get("subset")
    if st.groups is not None:
        if subset is not None:
            msg = "Pass either groups= or subset= to method='retrain', not both."
            raise InvalidParameterError(msg)
        removals = st.groups
        n_cols = len(removals)
        cols = np.arange(n_cols)
    else:
        if subset is None:
            cols = np.arange(p.n_train)
        else:
            cols = np.unique(np.asarray(subset, dtype=np.int64).ravel())
            if cols.size == 0 or cols[0] < 0 or cols[-1] >= p.n_train:
                msg = (f"subset must hold training indices in 0..{p.n_train - 1}. "
                       f"Got {np.asarray(subset).ravel()[:5].tolist()}...")
                raise DataValidationError(msg)
        removals = [np.array([i]) for i in cols]
        n_cols = p.n_train

    def loss_of(m: Any) -> np.ndarray:
        loss = per_example_loss(m, st.xq, st.yq, smoothing=p.spec.smoothing)
        return np.array([loss.mean()]) if st.target == "mean_loss" else loss

    base_model = p.retrain(solver=solver, tol=tol)
    base_loss = loss_of(base_model)
    drift = float(np.max(np.abs(base_loss - _query_loss(st)))) if base_loss.size else 0.0
    n_rows = len(base_loss)
    scores = np.full((n_rows, n_cols), np.nan)
    skipped = 0
    classes = p.spec.classes
    for col, g in zip(cols, removals, strict=True):
        mask = np.ones(p.n_train, dtype=bool)
        mask[g] = False
        if classes is not None and len(np.unique(p.y[mask])) < len(classes):
            skipped += 1
            continue
        new = p.retrain(mask=mask, solver=solver, tol=tol)
        scores[:, col] = loss_of(new) - base_loss
    notes = list(p.notes)
    what = "group" if st.groups is not None else "training example"
    notes.append(
        f"Exact retraining: {len(removals) - skipped} refit(s), one per removed {what}, "
        f"solver={solver!r} (tol={tol:g}, warm-started from the fitted coefficients). Scores "
        "are the query loss of the refit without the removal minus that of a refit on all rows "
        "with the same settings."
    )
    if p.spec.name == "LogisticRegression" and _exact_lr_refit(model) and solver == "model":
        notes.append("LogisticRegression refits use solver='newton-cholesky' (the same objective "
                     f"as solver={model.solver!r}, solved to machine precision in a few steps).")
    if st.groups is None and len(cols) < p.n_train:
        notes.append(f"Only {len(cols)} of {p.n_train} training examples were retrained "
                     "(subset=); the other columns are NaN.")
    if skipped:
        notes.append(f"{skipped} removal(s) would drop a whole class and were left NaN.")
    if drift > 0:
        notes.append(f"The refit on all rows changes the query loss by up to {drift:.3g} from "
                     "the model as given (how far the given fit was from the optimum).")
    if p.spec.name == "SGDClassifier" and solver == "model":
        notes.append("SGDClassifier refits are stochastic: the noise of SGD can exceed a single "
                     "example's effect; solver='newton' retrains the exact objective instead.")
    if p.spec.margin == "hinge" and solver == "newton":
        notes.append("solver='newton' optimises the smoothed hinge objective, not the model's.")
    seed = getattr(model, "random_state", None)
    result = {"scores": scores}
    if st.top_k is not None:
        ti, ts = _top(scores, st.top_k)
        result = {"top_indices": ti, "top_scores": ts}
    extras = {"baseline_drift": drift, "retrained": len(removals) - skipped}
    if st.groups is None:
        extras["subset"] = cols
    return AttributionResult(
        method="retrain",
        params=_params(st, "retrain", solver=solver, tol=tol,
                       subset=None if subset is None else len(cols)),
        seed=seed if isinstance(seed, int | np.integer) else None,
        seconds=time.perf_counter() - start, notes=notes, extras=extras, **result,
    )


def _register() -> None:
    specs = [
        Method("influence", _run_influence, unsupported_reason,
               "Exact-Hessian influence for convex scikit-learn models (first order)."),
        Method("newton", _run_newton, unsupported_reason,
               "One exact Newton step per removal (single examples or groups)."),
        Method("retrain", _run_retrain, unsupported_reason,
               "Exact leave-one-out / group-removal retraining, warm-started."),
    ]
    for m in specs:
        if m.name not in METHODS:
            register(m)


_register()

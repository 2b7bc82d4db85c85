"""Registration of the PyTorch methods: ``trak``, ``tracin``, ``grad_dot``, ``grad_cos``.

This module never imports torch: ``applies`` only looks at ``sys.modules``
(a model can only be a ``torch.nn.Module`` if torch is already imported), and
each ``run`` imports :mod:`scrutiny.attribution.torch` on call, which raises
:class:`~scrutiny.exceptions.MissingDependencyError` naming
``pip install 'scrutiny[torch]'`` when torch is missing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from scrutiny.attribution._registry import Method, register
from scrutiny.attribution._result import AttributionResult
from scrutiny.exceptions import MissingDependencyError

INSTALL = "pip install 'scrutiny[torch]'"


def _modules(model: Any) -> list[Any] | None:
    """The torch modules in ``model`` (one, or a list/tuple of them), else None."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    module_cls = torch.nn.Module
    if isinstance(model, module_cls):
        return [model]
    if isinstance(model, list | tuple) and model and all(isinstance(m, module_cls)
                                                         for m in model):
        return list(model)
    return None


def torch_applies(model: Any) -> str | None:
    """None for a torch module (or a list of them) with trainable float parameters."""
    mods = _modules(model)
    if mods is None:
        got = "None" if model is None else type(model).__name__
        return (
            f"needs a torch.nn.Module (or a list of them, an ensemble); got {got}"
        )
    for mod in mods:
        if not any(p.requires_grad and p.is_floating_point() for p in mod.parameters()):
            return (
                f"needs a differentiable model: the {type(mod).__name__} has no trainable "
                "floating-point parameters"
            )
    return None


def _runner(kind: str) -> Callable[..., AttributionResult]:
    def run(
        model: Any,
        X_train: Any,
        y_train: Any,
        X_query: Any,
        y_query: Any,
        **options: Any,
    ) -> AttributionResult:
        try:
            from scrutiny.attribution.torch import _pipeline
        except MissingDependencyError:
            raise
        except ImportError as exc:  # pragma: no cover - torch present but broken
            msg = f"method={kind!r} needs PyTorch, which failed to import ({exc}). {INSTALL}"
            raise MissingDependencyError(msg) from exc
        return _pipeline.run(kind, model, X_train, y_train, X_query, y_query, **options)

    run.__name__ = f"run_{kind}"
    run.__doc__ = f"Run the {kind!r} method (imports torch on call)."
    return run


_COMMON = (
    "Options: proj_dim (2048), projector ('auto' | 'gaussian' | 'rademacher' | 'identity'), "
    "top_k (100), materialize (False), store_dir (None), batch_size (rows per gradient "
    "batch: 2^24 / n_params within 8..1024; 2048 with exact linear-layer factors), "
    "random_state (0), checkpoints, model_factory, loss ('cross_entropy' | 'mse' | callable), "
    "device, query_chunk (1024), train_chunk (8192)."
)

register(Method(
    name="trak",
    run=_runner("trak"),
    applies=torch_applies,
    summary="TRAK (Park et al. 2023): projected per-sample gradients of the margin, "
    "x_q (X^T X)^-1 x_i weighted by 1 - p_i, averaged over an ensemble of models or "
    "checkpoints. " + _COMMON + " Also damping (0.3, relative to the mean non-zero eigenvalue "
    "of X^T X, trace / min(n, k)).",
    needs="torch",
))
register(Method(
    name="tracin",
    run=_runner("tracin"),
    applies=torch_applies,
    summary="TracInCP (Pruthi et al. 2020): learning-rate-weighted sum over checkpoints of "
    "loss-gradient dot products. " + _COMMON + " Also learning_rates, factored.",
    needs="torch",
))
register(Method(
    name="grad_dot",
    run=_runner("grad_dot"),
    applies=torch_applies,
    summary="Gradient dot product of query and train losses at the final model (baseline). "
    + _COMMON + " Also factored.",
    needs="torch",
))
register(Method(
    name="grad_cos",
    run=_runner("grad_cos"),
    applies=torch_applies,
    summary="Cosine of query and train loss gradients (baseline). " + _COMMON
    + " Also factored.",
    needs="torch",
))

"""PyTorch attribution: TRAK, TracIn and gradient baselines (the only place scrutiny imports torch).

One file per role, each behind a narrow Protocol:

* :mod:`._model_output` - what is differentiated (TRAK's classification margin,
  or a per-sample loss) and the out-to-loss weights;
* :mod:`._gradients` - per-sample gradients with ``torch.func.vmap(grad(...))``;
* :mod:`._projectors` - seeded random projections (:class:`GaussianProjector`,
  :class:`RademacherProjector`) and :class:`IdentityProjector`;
* :mod:`._store` - features persisted as ``.npy`` memmaps plus a metadata JSON
  (:class:`MemmapStore`), so an interrupted run resumes where it stopped;
* :mod:`._scorers` - TRAK's ``x_q (X^T X)^-1 x_i`` with the out-to-loss
  reweighting, TracIn, gradient dot and cosine, streamed in chunks with a
  running top-k (the ``n_query x n_train`` matrix is built only on request);
* :mod:`._pipeline` - wires the parts together for :func:`scrutiny.attribution.attribute`.

Importing this package without torch installed raises
:class:`~scrutiny.exceptions.MissingDependencyError`.
"""

from __future__ import annotations

from scrutiny.exceptions import MissingDependencyError

try:
    import torch as _torch  # noqa: F401 - fail early, with the extra to install
except ImportError as _exc:  # pragma: no cover - exercised by a test that hides torch
    _msg = (
        "The PyTorch attribution methods (trak, tracin, grad_dot, grad_cos) need the optional "
        "dependency 'torch', which is not installed. Install it with: "
        "pip install 'scrutiny[torch]'"
    )
    raise MissingDependencyError(_msg) from _exc

from scrutiny.attribution.torch._gradients import PerSampleGradients
from scrutiny.attribution.torch._model_output import (
    ClassificationMarginOutput,
    LossOutput,
    ModelOutput,
    resolve_loss,
)
from scrutiny.attribution.torch._projectors import (
    GaussianProjector,
    IdentityProjector,
    Projector,
    RademacherProjector,
    make_projector,
)
from scrutiny.attribution.torch._scorers import LinearScorer, xtx_inverse
from scrutiny.attribution.torch._store import MemmapStore, MemoryStore, Store

__all__ = [
    "ClassificationMarginOutput",
    "GaussianProjector",
    "IdentityProjector",
    "LinearScorer",
    "LossOutput",
    "MemmapStore",
    "MemoryStore",
    "ModelOutput",
    "PerSampleGradients",
    "Projector",
    "RademacherProjector",
    "Store",
    "make_projector",
    "resolve_loss",
    "xtx_inverse",
]

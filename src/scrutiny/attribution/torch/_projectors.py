"""Seeded random projections of per-sample gradients (Johnson-Lindenstrauss).

``project(g, model_id) = g @ R_model_id`` with ``R`` of shape
``(n_params, proj_dim)`` and entries of variance ``1 / proj_dim``, so inner
products are preserved in expectation: ``E[<gR, hR>] = <g, h>``. ``R`` is
generated in fixed blocks of parameter rows from
``SeedSequence([seed, model_id, block])`` on the CPU, so the same seed gives
the same projection on every device and whatever the batch size; it is cached
when small, regenerated block by block when large (bounded memory).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from scrutiny.exceptions import InvalidParameterError

#: parameter rows per generated block of the projection matrix
BLOCK_ROWS = 4096
#: cache the whole projection matrix of a model when it has at most this many entries
MAX_CACHED = 2**26


@runtime_checkable
class Projector(Protocol):
    """Maps per-sample gradients (n, n_params) to features (n, proj_dim)."""

    proj_dim: int

    def project(self, grads: torch.Tensor, model_id: int) -> torch.Tensor:
        """Project a batch of flattened gradients of model ``model_id``."""
        ...

    def describe(self) -> dict[str, Any]:
        """JSON-able description (kind, dimensions, seed), stored with the features."""
        ...


class IdentityProjector:
    """No projection: features are the raw gradients (``proj_dim == n_params``)."""

    def __init__(self, n_params: int) -> None:
        self.n_params = int(n_params)
        self.proj_dim = int(n_params)

    def project(self, grads: torch.Tensor, model_id: int) -> torch.Tensor:
        """Return ``grads`` unchanged."""
        return grads

    def describe(self) -> dict[str, Any]:
        """``{"kind": "identity", ...}``."""
        return {"kind": "identity", "n_params": self.n_params, "proj_dim": self.proj_dim}


class _RandomProjector:
    kind = "random"

    def __init__(self, n_params: int, proj_dim: int, *, seed: int = 0) -> None:
        if proj_dim < 1:
            raise InvalidParameterError.from_value(
                "proj_dim", type(self).__name__, "a positive integer", proj_dim
            )
        self.n_params = int(n_params)
        self.proj_dim = int(proj_dim)
        self.seed = int(seed)
        self._cache: dict[tuple[int, torch.device, torch.dtype], torch.Tensor] = {}

    def _generator(self, model_id: int, block: int) -> torch.Generator:
        state = np.random.SeedSequence([self.seed, int(model_id), block]).generate_state(2)
        gen = torch.Generator(device="cpu")
        gen.manual_seed(int(state[0]) << 31 ^ int(state[1]))
        return gen

    def _sample(self, rows: int, gen: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def _block(self, model_id: int, block: int) -> torch.Tensor:
        start = block * BLOCK_ROWS
        rows = min(BLOCK_ROWS, self.n_params - start)
        scale = 1.0 / np.sqrt(self.proj_dim)
        return self._sample(rows, self._generator(model_id, block)) * scale

    def matrix(self, model_id: int) -> torch.Tensor:
        """The full projection matrix (n_params, proj_dim) of one model, float32 on the CPU."""
        n_blocks = -(-self.n_params // BLOCK_ROWS)
        return torch.cat([self._block(model_id, b) for b in range(n_blocks)], dim=0)

    def project(self, grads: torch.Tensor, model_id: int) -> torch.Tensor:
        """``grads @ R_model_id``, shape (n, proj_dim), in the dtype of ``grads``."""
        if grads.shape[1] != self.n_params:
            msg = (
                f"{type(self).__name__} was built for {self.n_params} parameters but got "
                f"gradients of length {grads.shape[1]}."
            )
            raise InvalidParameterError(msg)
        key = (int(model_id), grads.device, grads.dtype)
        if self.n_params * self.proj_dim <= MAX_CACHED:
            if key not in self._cache:
                self._cache.clear()  # one model at a time: features are built model by model
                self._cache[key] = self.matrix(model_id).to(grads.device, grads.dtype)
            return grads @ self._cache[key]
        out = torch.zeros(grads.shape[0], self.proj_dim, dtype=grads.dtype, device=grads.device)
        for b, start in enumerate(range(0, self.n_params, BLOCK_ROWS)):
            r = self._block(model_id, b).to(grads.device, grads.dtype)
            out += grads[:, start:start + r.shape[0]] @ r
        return out

    def describe(self) -> dict[str, Any]:
        """``{"kind", "n_params", "proj_dim", "seed", "block_rows"}``."""
        return {"kind": self.kind, "n_params": self.n_params, "proj_dim": self.proj_dim,
                "seed": self.seed, "block_rows": BLOCK_ROWS}


class GaussianProjector(_RandomProjector):
    """Dense Gaussian projection, entries ``N(0, 1 / proj_dim)``.

    Parameters
    ----------
    n_params : int
        Length of the gradients.
    proj_dim : int
        Dimension of the projected features.
    seed : int, default=0
        Seed of the projection (combined with the model id).
    """

    kind = "gaussian"

    def _sample(self, rows: int, gen: torch.Generator) -> torch.Tensor:
        return torch.randn(rows, self.proj_dim, generator=gen, dtype=torch.float32)


class RademacherProjector(_RandomProjector):
    """Dense Rademacher projection, entries ``+-1 / sqrt(proj_dim)`` with equal odds.

    Parameters
    ----------
    n_params : int
        Length of the gradients.
    proj_dim : int
        Dimension of the projected features.
    seed : int, default=0
        Seed of the projection (combined with the model id).
    """

    kind = "rademacher"

    def _sample(self, rows: int, gen: torch.Generator) -> torch.Tensor:
        bits = torch.randint(0, 2, (rows, self.proj_dim), generator=gen, dtype=torch.int8)
        return bits.to(torch.float32) * 2.0 - 1.0


PROJECTORS = ("auto", "gaussian", "rademacher", "identity")


def make_projector(
    kind: str | Projector, n_params: int, proj_dim: int, seed: int, where: str = "attribute"
) -> Projector:
    """A projector from its name; ``"auto"`` is identity when ``n_params <= proj_dim``."""
    if not isinstance(kind, str):
        if isinstance(kind, Projector):
            return kind
        raise InvalidParameterError.from_value(
            "projector", where, f"one of {list(PROJECTORS)} or a Projector", kind
        )
    if kind == "auto":
        kind = "identity" if n_params <= proj_dim else "gaussian"
    if kind == "identity":
        return IdentityProjector(n_params)
    if kind == "gaussian":
        return GaussianProjector(n_params, proj_dim, seed=seed)
    if kind == "rademacher":
        return RademacherProjector(n_params, proj_dim, seed=seed)
    raise InvalidParameterError.from_value("projector", where, f"one of {list(PROJECTORS)}", kind)

"""Per-sample gradients with ``torch.func``: ``vmap(grad(output))`` over a batch.

A model is held as a :class:`FunctionalModel`: the module (used only as an
architecture, through ``torch.func.functional_call``), its trainable
parameters and everything else (frozen parameters, buffers). A checkpoint is
then just another parameter dictionary for the same module: nothing is copied
or mutated.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch.func import functional_call, grad, vmap

from scrutiny.attribution.torch._model_output import ModelOutput
from scrutiny.exceptions import InvalidParameterError


@dataclass
class FunctionalModel:
    """A module plus one set of parameter values (a model or a checkpoint)."""

    module: torch.nn.Module
    params: dict[str, torch.Tensor]  # trainable, detached, on the device
    rest: dict[str, torch.Tensor]  # frozen parameters and buffers
    learning_rate: float | None = None
    label: str = ""
    _digest: str | None = field(default=None, repr=False)

    @property
    def n_params(self) -> int:
        """Number of trainable scalars (the gradient length)."""
        return sum(int(p.numel()) for p in self.params.values())

    @classmethod
    def from_module(
        cls, module: torch.nn.Module, device: torch.device | None = None, label: str = ""
    ) -> FunctionalModel:
        """The module's own current parameters."""
        params = {
            n: p.detach().to(device) if device is not None else p.detach()
            for n, p in module.named_parameters()
            if p.requires_grad and p.is_floating_point()
        }
        rest = {
            n: p.detach().to(device) if device is not None else p.detach()
            for n, p in module.named_parameters()
            if n not in params
        }
        for n, b in module.named_buffers():
            rest[n] = b.to(device) if device is not None else b
        return cls(module, params, rest, label=label)

    @classmethod
    def from_checkpoint(
        cls,
        template: torch.nn.Module,
        checkpoint: Any,
        device: torch.device | None = None,
        label: str = "",
    ) -> FunctionalModel:
        """Parameters of ``template`` replaced by a state dict (or a path to one)."""
        state, lr = load_checkpoint(checkpoint)
        base = cls.from_module(template, device, label)
        missing = [n for n in base.params if n not in state]
        if missing:
            msg = (
                f"Checkpoint {label or ''} lacks the trainable parameters {missing[:5]} of the "
                f"model ({type(template).__name__}). Pass state dicts of the same architecture "
                "(module.state_dict())."
            )
            raise InvalidParameterError(msg)

        def move(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
            return t.detach().to(device=like.device, dtype=like.dtype)

        params = {n: move(state[n], p) for n, p in base.params.items()}
        rest = {n: move(state[n], t) if n in state else t for n, t in base.rest.items()}
        return cls(template, params, rest, learning_rate=lr, label=label)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Model output of a batch (no gradient)."""
        with torch.no_grad():
            return functional_call(self.module, {**self.params, **self.rest}, (x,))

    def digest(self) -> str:
        """Hash of the parameter values (ties stored features to this model)."""
        if self._digest is None:
            h = hashlib.sha256()
            for name in sorted(self.params):
                t = self.params[name].detach().to("cpu").contiguous()
                h.update(name.encode())
                h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else
                         t.float().numpy().tobytes())
            self._digest = h.hexdigest()[:16]
        return self._digest


def load_checkpoint(checkpoint: Any) -> tuple[dict[str, torch.Tensor], float | None]:
    """A state dict (and a learning rate, when the checkpoint stores one)."""
    obj = checkpoint
    if isinstance(checkpoint, str | Path):
        path = Path(checkpoint)
        if not path.exists():
            msg = f"Checkpoint file {str(path)!r} does not exist."
            raise InvalidParameterError(msg)
        obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, torch.nn.Module):
        return dict(obj.state_dict()), None
    if not isinstance(obj, dict):
        msg = (
            "Each checkpoint must be a state dict (module.state_dict()), a path to a file saved "
            f"with torch.save, or a module. Got {type(obj).__name__}."
        )
        raise InvalidParameterError(msg)
    lr = obj.get("learning_rate")
    for key in ("model_state_dict", "state_dict"):
        if isinstance(obj.get(key), dict):
            return dict(obj[key]), None if lr is None else float(lr)
    return {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}, (
        None if lr is None else float(lr)
    )


@contextlib.contextmanager
def eval_mode(module: torch.nn.Module) -> Iterator[None]:
    """Evaluation mode (no dropout, frozen batch-norm statistics), restored afterwards."""
    flags = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, was in flags:
            m.training = was


class GradientComputer(Protocol):
    """Per-sample gradients of a model output."""

    def per_sample(self, model: FunctionalModel, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Flattened per-sample gradients, shape (n, n_params)."""
        ...

    def out_to_loss(self, model: FunctionalModel, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-sample out-to-loss weights, shape (n,)."""
        ...


class PerSampleGradients:
    """``torch.func.vmap(torch.func.grad(output))`` over a batch.

    Parameters
    ----------
    output : ModelOutput
        What is differentiated (per sample).

    Notes
    -----
    Models whose forward pass cannot be vectorised (data-dependent control
    flow, ``.item()``) fall back to one ``grad`` call per sample, which is
    slower but gives the same numbers; ``used_fallback`` then becomes True.
    """

    def __init__(self, output: ModelOutput) -> None:
        self.output = output
        self.used_fallback = False

    def _sample_fn(self, model: FunctionalModel) -> Any:
        module, rest, out_fn = model.module, model.rest, self.output.output

        def f(params: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
            out = functional_call(module, {**params, **rest}, (xi.unsqueeze(0),))
            return out_fn(out, yi.unsqueeze(0)).sum()

        return f

    def per_sample(self, model: FunctionalModel, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Flattened per-sample gradients, shape (n, n_params), in parameter order."""
        f = self._sample_fn(model)
        names = list(model.params)
        with eval_mode(model.module):
            if not self.used_fallback:
                try:
                    grads = vmap(grad(f), in_dims=(None, 0, 0))(model.params, x, y)
                except RuntimeError as exc:
                    if "vmap" not in str(exc):
                        raise
                    self.used_fallback = True
            if self.used_fallback:
                rows = [grad(f)(model.params, x[i], y[i]) for i in range(x.shape[0])]
                grads = {n: torch.stack([r[n] for r in rows]) for n in names}
        return torch.cat([grads[n].reshape(x.shape[0], -1) for n in names], dim=1)

    def out_to_loss(self, model: FunctionalModel, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-sample out-to-loss weights, shape (n,)."""
        with eval_mode(model.module):
            out = model.forward(x)
            return self.output.out_to_loss(out, y).detach()

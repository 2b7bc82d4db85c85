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
import io
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
        base: FunctionalModel | None = None,
    ) -> FunctionalModel:
        """Parameters of ``template`` replaced by a state dict (or a path to one).

        ``base`` (``from_module(template, device)``, optional) saves rebuilding the
        template's parameter layout for every checkpoint.
        """
        state, lr = load_checkpoint(checkpoint)
        if base is None:
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


#: checkpoint files up to this size are read into memory in one call
_READ_AT_ONCE = 64 * 2**20


def load_checkpoint(checkpoint: Any) -> tuple[dict[str, torch.Tensor], float | None]:
    """A state dict (and a learning rate, when the checkpoint stores one)."""
    obj = checkpoint
    if isinstance(checkpoint, str | Path):
        path = Path(checkpoint)
        if not path.exists():
            msg = f"Checkpoint file {str(path)!r} does not exist."
            raise InvalidParameterError(msg)
        # a small file is read in one call: torch's reader of an open file makes many small
        # reads (~0.1 ms per checkpoint); a large one is left to torch (no second copy)
        source: Any = path
        if path.stat().st_size <= _READ_AT_ONCE:
            source = io.BytesIO(path.read_bytes())
        obj = torch.load(source, map_location="cpu", weights_only=True)
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


class LinearFactors:
    """Exact per-sample gradients of ``nn.Linear`` layers, kept in factored form.

    For a linear layer ``z = a W^T + b`` the gradient of a per-sample output
    ``f_i`` is the outer product ``dW_i = delta_i a_i^T`` (and ``db_i =
    delta_i``), with ``delta_i = d f_i / d z_i``. Two examples' gradients
    then have the inner product

    .. code-block:: text

        <g_q, g_i> = sum over layers of (delta_q . delta_i) * (a'_q . a'_i)

    where ``a' = [a, 1]`` when the bias is trained. One forward and one
    backward pass over a batch give every ``a`` and ``delta``: no per-sample
    gradient of ``d_out x d_in`` numbers is ever formed, and inner products cost
    ``d_in + d_out`` per layer instead of ``d_in x d_out`` (exact, no projection).

    Applies when every trainable parameter is the weight or bias of an
    ``nn.Linear`` called once per forward pass on 2-D input (checked by
    :meth:`unsupported` and, on a few rows, against ``vmap(grad)``).
    """

    def __init__(self, output: ModelOutput) -> None:
        self.output = output
        # layers per (module, trained parameter names), found once per attribution run (a
        # LinearFactors lives for one run, during which the modules are held and unchanged)
        self._layers: dict[tuple[int, tuple[str, ...]], list[Any]] = {}

    def layers(self, model: FunctionalModel) -> list[tuple[str, torch.nn.Linear, bool, bool]]:
        """``(name, module, weight trained, bias trained)`` of the trained linear layers."""
        key = (id(model.module), tuple(model.params))
        if key not in self._layers:
            self._layers[key] = self._find_layers(model)
        return self._layers[key]

    @staticmethod
    def _find_layers(model: FunctionalModel) -> list[tuple[str, torch.nn.Linear, bool, bool]]:
        out = []
        for name, mod in model.module.named_modules():
            if not isinstance(mod, torch.nn.Linear):
                continue
            prefix = f"{name}." if name else ""
            w, b = f"{prefix}weight" in model.params, f"{prefix}bias" in model.params
            if w or b:
                out.append((name, mod, w, b))
        return out

    def unsupported(self, model: FunctionalModel) -> str | None:
        """None when all trainable parameters belong to ``nn.Linear`` layers, else why not."""
        covered = set()
        for name, _, w, b in self.layers(model):
            prefix = f"{name}." if name else ""
            covered |= {f"{prefix}weight"} if w else set()
            covered |= {f"{prefix}bias"} if b else set()
        others = sorted(set(model.params) - covered)
        if others:
            return f"parameters outside nn.Linear layers: {others[:3]}"
        return None

    def dims(self, model: FunctionalModel) -> list[tuple[int, int]]:
        """``(len(a'), len(delta))`` per trained layer."""
        return [(mod.in_features * w + b, mod.out_features)
                for _, mod, w, b in self.layers(model)]

    def factors(
        self, model: FunctionalModel, x: torch.Tensor, y: torch.Tensor
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``[(a', delta)]`` per trained layer, shapes (n, len(a')) and (n, d_out)."""
        layers = self.layers(model)
        inputs: dict[int, list[torch.Tensor]] = {i: [] for i in range(len(layers))}
        probes: dict[int, list[torch.Tensor]] = {i: [] for i in range(len(layers))}
        handles = []

        def hook(i: int) -> Any:
            def fn(_mod: Any, args: tuple[Any, ...], out: torch.Tensor) -> torch.Tensor:
                inputs[i].append(args[0].detach())
                probe = torch.zeros_like(out, requires_grad=True)
                probes[i].append(probe)
                return out + probe

            return fn

        for i, (_, mod, _, _) in enumerate(layers):
            handles.append(mod.register_forward_hook(hook(i)))
        try:
            with eval_mode(model.module), torch.enable_grad():
                out = functional_call(model.module, {**model.params, **model.rest}, (x,))
                value = self.output.output(out, y).sum()
                calls = [len(probes[i]) for i in range(len(layers))]
                if any(c != 1 for c in calls):
                    msg = f"each nn.Linear must run once per forward pass (calls: {calls})"
                    raise _NotFactorable(msg)
                if any(inputs[i][0].ndim != 2 for i in range(len(layers))):
                    msg = "nn.Linear layers must see 2-D (batch, features) input"
                    raise _NotFactorable(msg)
                if value.requires_grad:
                    deltas = torch.autograd.grad(
                        value, [probes[i][0] for i in range(len(layers))], allow_unused=True)
                else:  # the output does not depend on the parameters at all
                    deltas = tuple(None for _ in layers)
        finally:
            for h in handles:
                h.remove()
        result = []
        for i, (_, _, w, b) in enumerate(layers):
            a = inputs[i][0]
            d = deltas[i] if deltas[i] is not None else torch.zeros_like(probes[i][0])
            parts = ([a] if w else []) + ([torch.ones_like(a[:, :1])] if b else [])
            result.append((torch.cat(parts, dim=1).detach(), d.detach()))
        return result

    def verify(self, model: FunctionalModel, x: torch.Tensor, y: torch.Tensor) -> str | None:
        """None when the factored inner products match ``vmap(grad)`` on these rows."""
        try:
            fac = self.factors(model, x, y)
        except _NotFactorable as exc:
            return str(exc)
        gram = sum((d @ d.T) * (a @ a.T) for a, d in fac)
        full = torch.stack([self._plain_grad(model, x[i:i + 1], y[i:i + 1])
                            for i in range(x.shape[0])])
        exact = full @ full.T
        scale = float(exact.abs().max()) or 1.0
        if not torch.allclose(gram, exact, rtol=1e-3, atol=1e-4 * scale):
            return "factored gradients differ from vmap(grad) (shared or reused layers?)"
        return None


    def _plain_grad(self, model: FunctionalModel, x: torch.Tensor, y: torch.Tensor
                    ) -> torch.Tensor:
        """One example's flattened gradient with plain autograd (the reference)."""
        params = {n: p.detach().requires_grad_(True) for n, p in model.params.items()}
        with eval_mode(model.module), torch.enable_grad():
            out = functional_call(model.module, {**params, **model.rest}, (x,))
            value = self.output.output(out, y).sum()
            if not value.requires_grad:
                return torch.zeros(model.n_params, dtype=out.dtype, device=out.device)
            grads = torch.autograd.grad(value, list(params.values()), allow_unused=True)
        return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1)
                          for g, p in zip(grads, params.values(), strict=True)])


class _NotFactorable(RuntimeError):
    pass

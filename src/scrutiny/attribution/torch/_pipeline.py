"""Wiring: options -> models -> features (stored) -> finalised weights -> scores.

The lifecycle, per ensemble member (model or checkpoint), each step persisted
in the store and skipped when already done:

1. ``featurize``: per-sample gradients of the train set, projected, chunk by chunk
   (plus TRAK's out-to-loss weights);
2. ``finalize`` (TRAK): ``(F^T F + lambda I)^{-1}``;
3. query features, the same way;
4. ``score``: streamed blocks, kept as a running top-k or written into the full
   matrix when ``materialize=True``.
"""

from __future__ import annotations

import hashlib
import math
import os
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scrutiny.attribution._result import AttributionResult
from scrutiny.attribution.torch._gradients import (
    FunctionalModel,
    LinearFactors,
    PerSampleGradients,
    eval_mode,
)
from scrutiny.attribution.torch._model_output import ModelOutput, model_output_for, resolve_loss
from scrutiny.attribution.torch._projectors import IdentityProjector, Projector, make_projector
from scrutiny.attribution.torch._scorers import (
    BlockScorer,
    FactoredScorer,
    LinearScorer,
    dual_weights,
    factored_sq_norms,
    kernel_inverse,
    xtx_inverse,
)
from scrutiny.attribution.torch._store import MemmapStore, MemoryStore, Store, check_store
from scrutiny.exceptions import DataValidationError, InvalidParameterError

KINDS = ("trak", "tracin", "grad_dot", "grad_cos")
#: rows per chunk (gradient batch): per-sample gradients (at most GRADIENT_BUDGET floats
#: of gradients at once, 8 to 1024 rows) / exact linear-layer factors
GRADIENT_BUDGET, GRADIENT_BATCH, FACTORED_BATCH = 2**24, 1024, 2048
#: the largest TRAK feature dimension (the k x k inverse is float64)
MAX_TRAK_DIM = 32768
#: hash at most this many bytes of an input array (larger ones: a strided sample of rows)
MAX_HASH_BYTES = 256 * 2**20


class TorchOptions(BaseModel):
    """Options of the PyTorch attribution methods (see :func:`run`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    proj_dim: int = Field(2048, ge=1)
    projector: Any = "auto"
    top_k: int = Field(100, ge=1)
    materialize: bool = False
    store_dir: Any = None
    batch_size: int | None = Field(None, ge=1)
    random_state: int = Field(0, ge=0)
    checkpoints: list[Any] | None = None
    model_factory: Callable[[], Any] | None = None
    learning_rates: float | list[float] | None = None
    loss: Any = "cross_entropy"
    damping: float = Field(0.3, ge=0.0)
    device: Any = None
    query_chunk: int = Field(1024, ge=1)
    train_chunk: int = Field(8192, ge=1)
    factored: bool | None = None


#: options that only some methods accept
ONLY = {"learning_rates": ("tracin",), "damping": ("trak",),
        "factored": ("tracin", "grad_dot", "grad_cos")}


def parse_options(kind: str, options: dict[str, Any], where: str | None = None
                  ) -> TorchOptions:
    """Validate ``attribute(..., **options)`` for a torch method."""
    where = where or f"attribute(method={kind!r})"
    allowed = [n for n in TorchOptions.model_fields if kind in ONLY.get(n, KINDS)]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        msg = (
            f"Unknown option(s) {unknown} for {where}. Accepted options: {sorted(allowed)}."
        )
        raise InvalidParameterError(msg)
    clean = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in options.items()}
    try:
        return TorchOptions(**clean)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        got = clean.get(str(err["loc"][0])) if err["loc"] else None
        raise InvalidParameterError.from_value(field, where, err["msg"].lower(), got) from None


# ---------------------------------------------------------------------------
# inputs


def _as_array_like(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu()
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    return torch.as_tensor(np.ascontiguousarray(np.asarray(x)))


def as_inputs(x: Any, dtype: torch.dtype, name: str) -> torch.Tensor:
    """Features as a CPU tensor; floating data in the model's dtype, integer data kept."""
    t = _as_array_like(x)
    if t.ndim == 0:
        msg = f"{name} must have one row per example. Got a scalar."
        raise DataValidationError(msg)
    if t.is_floating_point() or t.dtype == torch.bool:
        t = t.to(dtype)
    return t


def as_targets(y: Any, target_dtype: str, dtype: torch.dtype, name: str) -> torch.Tensor:
    """Targets as a CPU tensor: class indices (int64) or reals (the model's dtype)."""
    t = _as_array_like(y)
    if target_dtype == "long" or (target_dtype == "float_or_long" and not t.is_floating_point()):
        if t.is_floating_point():
            if not torch.equal(t, t.round()):
                msg = (
                    f"{name} must hold class indices (integers) for a cross-entropy loss. Got "
                    "non-integer values; for regression pass loss='mse'."
                )
                raise DataValidationError(msg)
        elif t.dtype == torch.bool:
            pass
        elif not (t.dtype.is_signed or t.dtype == torch.uint8):  # pragma: no cover - exotic
            msg = f"{name} has an unsupported dtype {t.dtype}."
            raise DataValidationError(msg)
        return t.to(torch.int64).reshape(-1) if t.ndim <= 1 else t.to(torch.int64)
    return t.to(dtype)


def digest(*tensors: torch.Tensor) -> str:
    """A short hash of tensors' shapes and values (a strided sample when huge)."""
    h = hashlib.sha256()
    for tensor in tensors:
        t = tensor.contiguous()
        h.update(str((tuple(t.shape), str(t.dtype))).encode())
        nbytes = t.numel() * t.element_size()
        if nbytes > MAX_HASH_BYTES and t.shape[0] > 1:
            t = t[:: math.ceil(nbytes / MAX_HASH_BYTES)].contiguous()
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()[:16]


def check_rows(x: torch.Tensor, y: torch.Tensor, xname: str, yname: str) -> None:
    """Same number of rows in features and targets."""
    if x.shape[0] != y.shape[0]:
        msg = f"{yname} has {y.shape[0]} rows but {xname} has {x.shape[0]}."
        raise DataValidationError(msg)


# ---------------------------------------------------------------------------
# models


def _is_module(obj: Any) -> bool:
    return isinstance(obj, torch.nn.Module)


def resolve_members(
    model: Any, opts: TorchOptions, device: torch.device | None
) -> list[FunctionalModel]:
    """The ensemble: checkpoints of one architecture, a list of models, or one model."""
    if opts.checkpoints is not None:
        if not opts.checkpoints:
            msg = "checkpoints is empty: pass at least one state dict (or path)."
            raise InvalidParameterError(msg)
        template = opts.model_factory() if opts.model_factory is not None else model
        if not _is_module(template):
            msg = (
                "With checkpoints, pass one torch.nn.Module of the architecture as the model "
                "(or model_factory=...). Got "
                f"{type(template).__name__}."
            )
            raise InvalidParameterError(msg)
        base = FunctionalModel.from_module(template, device)
        return [
            FunctionalModel.from_checkpoint(template, ck, device, label=f"checkpoint {i}",
                                            base=base)
            for i, ck in enumerate(opts.checkpoints)
        ]
    if isinstance(model, list | tuple):
        return [FunctionalModel.from_module(m, device, label=f"model {i}")
                for i, m in enumerate(model)]
    return [FunctionalModel.from_module(model, device, label="model")]


def first_device(model: Any) -> torch.device:
    """The device of the model's first parameter (CPU when it has none)."""
    mod = model[0] if isinstance(model, list | tuple) else model
    for p in mod.parameters():
        return p.device
    return torch.device("cpu")  # pragma: no cover - applies() rejects parameter-free models


def model_dtype(member: FunctionalModel) -> torch.dtype:
    """The floating dtype of the trainable parameters."""
    for p in member.params.values():
        return p.dtype
    return torch.float32  # pragma: no cover


def gradient_free_methods(model: Any) -> list[str]:
    """Registered methods that do not differentiate the model, and apply (or work on embeddings)."""
    from scrutiny.attribution._registry import METHODS

    direct = [n for n, m in METHODS.items() if n not in KINDS and m.applies(model) is None]
    if direct:
        return direct
    return [n for n, m in METHODS.items() if n not in KINDS and m.applies(None) is None]


def not_differentiable(model: Any, what: str) -> InvalidParameterError:
    """The error for a model whose gradients are zero or missing."""
    others = gradient_free_methods(model)
    hint = (
        f" Methods that do not need gradients: {others}"
        + (" (on embeddings or features: attribute(None, X_train, y_train, X_query, y_query, "
           f"method={others[0]!r}))" if others and gradient_free_methods(None) == others else "")
        + "."
        if others else ""
    )
    msg = (
        f"The model's output is not differentiable with respect to its parameters: {what}. "
        "Gradient methods (trak, tracin, grad_dot, grad_cos) need a forward pass built from "
        "differentiable operations (no argmax, round, one_hot, detach or no_grad on the path "
        f"from the parameters to the logits).{hint}"
    )
    return InvalidParameterError(msg)


# ---------------------------------------------------------------------------
# the lifecycle


@dataclass(frozen=True)
class Part:
    """Rows to featurise under one store prefix (the training rows, or a query batch)."""

    prefix: str
    x: torch.Tensor
    y: torch.Tensor
    with_out_to_loss: bool = False


@dataclass
class Featurizer:
    """Computes and stores per-sample gradient features, chunk by chunk.

    Two layouts: projected gradients (``features``, shape (n, k)) or, for
    models made of ``nn.Linear`` layers, exact factors ``(a', delta)`` per
    layer (``factors`` set).

    Each part (training rows, queries) is split into chunks of ``batch_size``
    rows, each stored and logged on its own; chunks still to do, of all parts,
    are then packed into as few gradient passes as ``batch_size`` allows (the
    queries usually ride along with the last training chunk), so a small run
    costs one forward and backward pass per model.
    """

    grads: PerSampleGradients
    projector: Projector
    store: Store
    batch_size: int
    device: torch.device | None
    model_ref: Any
    factors: LinearFactors | None = None

    def _arrays(
        self, part: Part, base: str, member: FunctionalModel
    ) -> tuple[list[np.ndarray], np.ndarray | None]:
        n = part.x.shape[0]
        if self.factors is None:
            arrays = [self.store.array(f"{base}/features", (n, self.projector.proj_dim),
                                       "float32")]
        else:
            arrays = []
            for layer, (d_a, d_delta) in enumerate(self.factors.dims(member)):
                arrays.append(self.store.array(f"{base}/layer_{layer}_a", (n, d_a), "float32"))
                arrays.append(self.store.array(f"{base}/layer_{layer}_delta", (n, d_delta),
                                               "float32"))
        otl = self.store.array(f"{base}/out_to_loss", (n,), "float32") \
            if part.with_out_to_loss else None
        return arrays, otl

    def run(
        self, member_id: int, member: FunctionalModel, parts: Sequence[Part]
    ) -> list[tuple[list[np.ndarray], np.ndarray | None]]:
        """Per part: feature arrays of one member (one, or two per layer) and out-to-loss (n,)."""
        outs = []
        todo: list[tuple[int, int, int, str]] = []  # (part, start, stop, step)
        for p, part in enumerate(parts):
            base = f"{part.prefix}/member_{member_id:03d}"
            outs.append(self._arrays(part, base, member))
            n = part.x.shape[0]
            for c, start in enumerate(range(0, n, self.batch_size)):
                step = f"{base}/chunk_{c:06d}"
                if not self.store.is_done(step):
                    todo.append((p, start, min(n, start + self.batch_size), step))
        group: list[tuple[int, int, int, str]] = []
        rows, checked = 0, False
        for job in todo:
            if group and rows + job[2] - job[1] > self.batch_size:
                self._compute(member_id, member, parts, outs, group, check=not checked)
                checked, group, rows = True, [], 0
            group.append(job)
            rows += job[2] - job[1]
        if group:
            self._compute(member_id, member, parts, outs, group, check=not checked)
        return outs

    def _compute(
        self, member_id: int, member: FunctionalModel, parts: Sequence[Part],
        outs: list[tuple[list[np.ndarray], np.ndarray | None]],
        group: list[tuple[int, int, int, str]], *, check: bool,
    ) -> None:
        """One gradient pass over the rows of ``group``'s chunks; write each, then log it."""
        xb = torch.cat([parts[p].x[a:b] for p, a, b, _ in group]).to(self.device)
        yb = torch.cat([parts[p].y[a:b] for p, a, b, _ in group]).to(self.device)
        if self.factors is None:
            g = self.grads.per_sample(member, xb, yb)
            if check:
                self._check(bool(torch.isfinite(g).all()), bool((g != 0).any()), member)
            feats = [self.projector.project(g, member_id)]
            host = [feats[0].detach().cpu().numpy()]
        else:
            feats = [t for pair in self.factors.factors(member, xb, yb) for t in pair]
            host = [f.detach().cpu().numpy() for f in feats]
            if check:  # the deltas, on the host copy (no device round trip)
                self._check(all(np.isfinite(d).all() for d in host[1::2]),
                            any(d.any() for d in host[1::2]), member)
        otl = None
        if any(outs[p][1] is not None for p, _, _, _ in group):
            otl = self.grads.out_to_loss(member, xb, yb).cpu().numpy()
        offset = 0
        for p, a, b, step in group:
            arrays, otl_arr = outs[p]
            for arr, f in zip(arrays, host, strict=True):
                arr[a:b] = f[offset:offset + b - a]
            if otl_arr is not None and otl is not None:
                otl_arr[a:b] = otl[offset:offset + b - a]
            offset += b - a
            self.store.mark_done(step)

    def _check(self, finite: bool, nonzero: bool, member: FunctionalModel) -> None:
        if not finite:
            msg = (
                f"Per-sample gradients of {member.label} contain NaN or inf. Check the model "
                "and the inputs (scaling, log of zero, overflow in the loss)."
            )
            raise InvalidParameterError(msg)
        if not nonzero:
            raise not_differentiable(
                self.model_ref, f"every per-sample gradient of {member.label} is exactly zero"
            )


def _learning_rates(opts: TorchOptions, members: Sequence[FunctionalModel]) -> tuple[
        list[float], str | None]:
    lrs = opts.learning_rates
    if lrs is None:
        stored = [m.learning_rate for m in members]
        if all(v is not None for v in stored):
            return [float(v) for v in stored if v is not None], None
        return [1.0] * len(members), (
            "No learning rates given (learning_rates=...): every checkpoint weighted 1.0, so "
            "scores are TracIn up to the learning rate."
        )
    if isinstance(lrs, list):
        if len(lrs) != len(members):
            msg = (
                f"learning_rates has {len(lrs)} values but there are {len(members)} "
                "checkpoints; pass one per checkpoint (or one number)."
            )
            raise InvalidParameterError(msg)
        return [float(v) for v in lrs], None
    return [float(lrs)] * len(members), None


#: modules whose factored gradients were checked against autograd (weakly held)
_VERIFIED: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _use_factors(
    kind: str, opts: TorchOptions, output: ModelOutput, member: FunctionalModel,
    x: torch.Tensor, y: torch.Tensor, device: torch.device | None,
) -> LinearFactors | None:
    """The factored exact form, when the model allows it and no projection is asked for."""
    if opts.factored is False:
        return None
    reason = None
    if kind == "trak":
        reason = "TRAK needs (X^T X)^-1 in gradient space"
    elif not (isinstance(opts.projector, str) and opts.projector in ("auto", "identity")):
        reason = f"projector={opts.projector!r} asks for a random projection"
    factors = LinearFactors(output)
    if reason is None:
        reason = factors.unsupported(member)
    if reason is None and _VERIFIED.get(member.module) != output.name:
        rows = min(3, x.shape[0])
        reason = factors.verify(member, x[:rows].to(device), y[:rows].to(device))
        if reason is None:  # the check is structural: once per module object and output
            _VERIFIED[member.module] = output.name
    if reason is None:
        return factors
    if opts.factored:
        msg = f"factored=True cannot be used here: {reason}. Leave factored=None (automatic)."
        raise InvalidParameterError(msg)
    return None


@dataclass
class _Setup:
    """What every torch method needs before the query side: members, features, store."""

    kind: str
    opts: TorchOptions
    where: str
    device: torch.device
    members: list[FunctionalModel]
    n_params: int
    output: ModelOutput
    loss_name: str
    xt: torch.Tensor
    yt: torch.Tensor
    factors: LinearFactors | None
    batch_size: int
    projector: Projector
    layout: dict[str, Any]
    store: Store
    lrs: list[float]
    lr_note: str | None
    grads: PerSampleGradients
    featurizer: Featurizer


def _setup(kind: str, model: Any, X_train: Any, y_train: Any, opts: TorchOptions,
           where: str) -> _Setup:
    """Validate the model and training data; choose the gradient layout; open the store."""
    device = torch.device(opts.device) if opts.device is not None else first_device(model)
    members = resolve_members(model, opts, device)
    sizes = {m.n_params for m in members}
    if len(sizes) != 1:
        msg = (
            f"The ensemble members have different numbers of parameters ({sorted(sizes)}); "
            "pass models (or checkpoints) of one architecture."
        )
        raise InvalidParameterError(msg)
    n_params = sizes.pop()
    if n_params == 0:
        raise not_differentiable(model, "it has no trainable floating-point parameters")
    output: ModelOutput = model_output_for(kind, opts.loss, where)
    loss_name = resolve_loss(opts.loss, where)[0]
    dtype = model_dtype(members[0])
    xt = as_inputs(X_train, dtype, "X_train")
    yt = as_targets(y_train, output.target_dtype, dtype, "y_train")
    check_rows(xt, yt, "X_train", "y_train")
    _check_targets(members[0], xt, yt, output, device, 64)

    factors = _use_factors(kind, opts, output, members[0], xt, yt, device)
    batch_size = opts.batch_size or (
        FACTORED_BATCH if factors is not None
        else int(np.clip(GRADIENT_BUDGET // n_params, 8, GRADIENT_BATCH)))
    projector = make_projector(
        "identity" if factors is not None else opts.projector, n_params, opts.proj_dim,
        opts.random_state, where)
    k = projector.proj_dim
    if kind == "trak" and k > MAX_TRAK_DIM:
        msg = (
            f"TRAK needs a {k} x {k} matrix inverse; use a random projection with "
            f"proj_dim <= {MAX_TRAK_DIM} (projector='gaussian' or 'rademacher')."
        )
        raise InvalidParameterError(msg)
    layout = projector.describe() if factors is None else {
        "kind": "linear_factors", "dims": factors.dims(members[0]), "n_params": int(n_params)}
    store_dir = opts.store_dir
    if isinstance(store_dir, str | os.PathLike):
        store_dir = Path(store_dir) / kind  # one sub-folder per method: a folder serves all
    store = check_store(store_dir, where)
    lrs, lr_note = _learning_rates(opts, members) if kind == "tracin" else ([1.0] * len(
        members), None)
    # digests tie stored features to data and models; a fresh in-memory store needs none
    fresh = type(store) is MemoryStore
    store.prepare({
        "method": kind,
        "features": output.name,
        "loss": loss_name,
        "n_train": int(xt.shape[0]),
        "train_digest": None if fresh else digest(xt, yt),
        "members": None if fresh else [m.digest() for m in members],
        "n_params": int(n_params),
        "projector": layout,
        "batch_size": batch_size,
    })
    grads = PerSampleGradients(output)
    featurizer = Featurizer(grads, projector, store, batch_size, device, model, factors)
    return _Setup(kind, opts, where, device, members, int(n_params), output, loss_name, xt, yt,
                  factors, batch_size, projector, layout, store, lrs, lr_note, grads,
                  featurizer)


def run(
    kind: str,
    model: Any,
    X_train: Any,
    y_train: Any,
    X_query: Any,
    y_query: Any,
    **options: Any,
) -> AttributionResult:
    """Attribute with TRAK, TracIn, gradient dot or cosine (see the method docs)."""
    opts = parse_options(kind, options)
    where = f"attribute(method={kind!r})"
    st = _setup(kind, model, X_train, y_train, opts, where)
    xt, yt = st.xt, st.yt
    xq = as_inputs(X_query, model_dtype(st.members[0]), "X_query")
    yq = as_targets(y_query, st.output.target_dtype, model_dtype(st.members[0]), "y_query")
    check_rows(xq, yq, "X_query", "y_query")
    if xt.shape[1:] != xq.shape[1:]:
        msg = (
            f"X_query rows have shape {tuple(xq.shape[1:])} but X_train rows have "
            f"{tuple(xt.shape[1:])}. Pass the same columns, in the same order."
        )
        raise DataValidationError(msg)
    factors, store, members, output = st.factors, st.store, st.members, st.output
    projector, layout, lrs, lr_note, grads = st.projector, st.layout, st.lrs, st.lr_note, st.grads
    k, n_params, batch_size, device, loss_name = (projector.proj_dim, st.n_params,
                                                  st.batch_size, st.device, st.loss_name)
    qkey = "queries" if type(store) is MemoryStore else f"queries_{digest(xq, yq)}"
    n_members = len(members)
    train_arrays, query_arrays, out_to_loss = [], [], []
    parts = [Part("train", xt, yt, with_out_to_loss=kind == "trak"), Part(qkey, xq, yq)]
    for m, member in enumerate(members):
        (t_arr, otl), (q_arr, _) = st.featurizer.run(m, member, parts)
        train_arrays.append(t_arr)
        query_arrays.append(q_arr)
        if otl is not None:
            out_to_loss.append(otl)

    result = AttributionResult(method=kind, seed=opts.random_state)
    extra_params: dict[str, Any] = {}
    if factors is not None:
        scorer: BlockScorer = _factored_scorer(kind, opts, train_arrays, query_arrays, lrs)
    elif kind == "trak":
        scorer, extra_params = _trak_scorer(opts, store, train_arrays, query_arrays,
                                            out_to_loss, k)
    else:
        scorer = _projected_scorer(kind, opts, train_arrays, query_arrays, lrs)
    if opts.materialize:
        out = store.array(f"{qkey}/scores_{kind}", (scorer.n_query, scorer.n_train), "float32")
        result.scores = scorer.full(out)
        store.flush()
    else:
        result.top_indices, result.top_scores = scorer.topk(opts.top_k)
    result.params = {
        "proj_dim": k,
        "projector": layout,
        "n_members": n_members,
        "n_params": int(n_params),
        "output": output.name,
        "loss": loss_name,
        "batch_size": batch_size,
        "materialize": opts.materialize,
        "top_k": None if opts.materialize else min(opts.top_k, scorer.n_train),
        "device": str(device),
        "store_dir": str(store.root) if isinstance(store, MemmapStore) else None,
        **extra_params,
    }
    if kind == "tracin":
        result.params["learning_rates"] = lrs
    result.notes = _notes(kind, n_members, projector, n_params, lr_note, grads.used_fallback,
                          factors is not None)
    return result


def _trak_scorer(
    opts: TorchOptions, store: Store, train_arrays: list[list[np.ndarray]],
    query_arrays: list[list[np.ndarray]], out_to_loss: list[np.ndarray], k: int,
) -> tuple[LinearScorer, dict[str, Any]]:
    """Finalise (``(F^T F + lambda I)^-1`` per member, stored) and build TRAK's scorer."""
    n_members = len(train_arrays)
    weights, lam_abs = [], []
    n = train_arrays[0][0].shape[0]
    dual = n < k and opts.damping > 0  # n x n instead of k x k: same numbers, cheaper
    for m, ([feats], [qf]) in enumerate(zip(train_arrays, query_arrays, strict=True)):
        inv, lam = _trak_inverse(opts, store, m, feats, dual)
        lam_abs.append(lam)
        if dual:
            w = dual_weights(feats, qf, np.asarray(inv), lam)
        else:
            w = np.asarray(qf, dtype=np.float64) @ np.asarray(inv)
        weights.append((w / n_members).astype(np.float32))
    col_scale = np.mean(out_to_loss, axis=0, dtype=np.float64)
    scorer = LinearScorer(weights, [a[0] for a in train_arrays], col_scale=col_scale,
                          query_chunk=opts.query_chunk, train_chunk=opts.train_chunk)
    return scorer, {"damping": opts.damping, "damping_abs": lam_abs}


def _trak_inverse(opts: TorchOptions, store: Store, m: int, feats: np.ndarray, dual: bool
                  ) -> tuple[np.ndarray, float]:
    """Member ``m``'s ``(F^T F + lambda I)^-1`` (``dual``: ``(F F^T + lambda I)^-1``), stored."""
    n, k = feats.shape
    # "damping_min_nk": lambda relative to trace / min(n, k) (earlier stores: trace / k)
    fin = f"train/member_{m:03d}/{'dual_' if dual else ''}damping_min_nk_{opts.damping!r}"
    inv = store.array(f"{fin}/{'kernel_inv' if dual else 'xtx_inv'}",
                      (n, n) if dual else (k, k), "float64")
    lam_arr = store.array(f"{fin}/damping_abs", (1,), "float64")
    step = f"{fin}/finalized"
    if not store.is_done(step):
        if dual:
            inv[:], lam_arr[0] = kernel_inverse(feats, opts.damping)
        else:
            inv[:], lam_arr[0] = xtx_inverse(feats, opts.damping, opts.train_chunk)
        store.mark_done(step)
    return inv, float(lam_arr[0])


def _projected_scorer(
    kind: str, opts: TorchOptions, train_arrays: list[list[np.ndarray]],
    query_arrays: list[list[np.ndarray]], lrs: list[float],
) -> LinearScorer:
    """TracIn, grad_dot or grad_cos on (projected) gradient features."""
    n_members = len(train_arrays)
    weights: list[np.ndarray] = []
    scales: list[np.ndarray | None] = []
    for m, ([feats], [qf]) in enumerate(zip(train_arrays, query_arrays, strict=True)):
        q = np.asarray(qf, dtype=np.float32)
        if kind == "tracin":
            weights.append(q * np.float32(lrs[m]))
            scales.append(None)
        elif kind == "grad_dot":
            weights.append(q / np.float32(n_members))
            scales.append(None)
        else:  # grad_cos
            qn = np.linalg.norm(q.astype(np.float64), axis=1, keepdims=True)
            weights.append((q / np.where(qn > 0, qn, 1.0) / n_members).astype(np.float32))
            scales.append(_inverse(_row_sq_norms(feats, opts.train_chunk)))
    return LinearScorer(weights, [a[0] for a in train_arrays], member_scales=scales,
                        query_chunk=opts.query_chunk, train_chunk=opts.train_chunk)


def _factored_scorer(
    kind: str, opts: TorchOptions, train_arrays: list[list[np.ndarray]],
    query_arrays: list[list[np.ndarray]], lrs: list[float],
) -> FactoredScorer:
    """TracIn, grad_dot or grad_cos from exact per-layer factors."""
    n_members = len(train_arrays)
    members, q_scales, t_scales = [], [], []
    for m, (t_arr, q_arr) in enumerate(zip(train_arrays, query_arrays, strict=True)):
        layers = [(q_arr[i], q_arr[i + 1], t_arr[i], t_arr[i + 1])
                  for i in range(0, len(t_arr), 2)]
        members.append(layers)
        n_query = q_arr[0].shape[0]
        if kind == "tracin":
            q_scales.append(np.full(n_query, lrs[m]))
            t_scales.append(None)
        elif kind == "grad_dot":
            q_scales.append(np.full(n_query, 1.0 / n_members))
            t_scales.append(None)
        else:  # grad_cos
            q_pairs = list(zip(q_arr[0::2], q_arr[1::2], strict=True))
            t_pairs = list(zip(t_arr[0::2], t_arr[1::2], strict=True))
            q_scales.append(_inverse(factored_sq_norms(q_pairs, opts.train_chunk)) / n_members)
            t_scales.append(_inverse(factored_sq_norms(t_pairs, opts.train_chunk)))
    return FactoredScorer(members, q_scales, t_scales, query_chunk=opts.query_chunk,
                          train_chunk=opts.train_chunk)


#: the methods with a self-score (grad_cos of an example with itself is always 1)
SELF_KINDS = ("trak", "tracin", "grad_dot")
#: options that only concern queries
QUERY_OPTIONS = ("top_k", "materialize", "query_chunk")


def self_influence(kind: str, model: Any, X: Any, y: Any, **options: Any) -> AttributionResult:
    """Each training example's score with itself as the query, without the n x n matrix.

    ``scores[0, i]`` is the diagonal ``s[i, i]`` of :func:`run`'s matrix with the
    training rows as queries: how much example ``i`` raises its own margin
    (TRAK) or lowers its own loss (TracIn, grad_dot) - large for examples the
    model had to memorise, mislabeled ones first. ``extras["proba"]`` holds the
    model's in-sample class probabilities (mean over an ensemble; the last
    checkpoint's with ``checkpoints``), for the confident-learning baseline.
    """
    where = f"label_issues(torch_method={kind!r})"
    if kind not in SELF_KINDS:
        raise InvalidParameterError.from_value("torch_method", "label_issues",
                                               f"one of {list(SELF_KINDS)}", kind)
    asked = sorted(set(options) & set(QUERY_OPTIONS))
    if asked:
        msg = (f"Option(s) {asked} concern queries and do not apply to self-influence "
               f"({where}); remove them.")
        raise InvalidParameterError(msg)
    opts = parse_options(kind, options, where=where)
    st = _setup(kind, model, X, y, opts, where)
    n = st.xt.shape[0]
    n_members = len(st.members)
    part = [Part("train", st.xt, st.yt, with_out_to_loss=kind == "trak")]
    per_member, out_to_loss = [], []
    for m, member in enumerate(st.members):
        [(arrays, otl)] = st.featurizer.run(m, member, part)
        if st.factors is not None:
            sq = factored_sq_norms(list(zip(arrays[0::2], arrays[1::2], strict=True)),
                                   opts.train_chunk)
        elif kind == "trak":
            feats = arrays[0]
            dual = n < st.projector.proj_dim and opts.damping > 0
            inv, lam = _trak_inverse(opts, st.store, m, feats, dual)
            if dual:  # F (F^T F + lam I)^-1 F^T = I - lam (F F^T + lam I)^-1
                sq = 1.0 - lam * np.diagonal(np.asarray(inv))
            else:
                sq = np.empty(n, dtype=np.float64)
                for s0 in range(0, n, opts.train_chunk):
                    block = np.asarray(feats[s0:s0 + opts.train_chunk], dtype=np.float64)
                    sq[s0:s0 + len(block)] = ((block @ np.asarray(inv)) * block).sum(1)
        else:
            sq = _row_sq_norms(arrays[0], opts.train_chunk)
        per_member.append(sq)
        if otl is not None:
            out_to_loss.append(np.asarray(otl, dtype=np.float64))
    if kind == "tracin":
        score = np.sum([lr * sq for lr, sq in zip(st.lrs, per_member, strict=True)], axis=0)
    else:
        score = np.mean(per_member, axis=0)
    if kind == "trak":
        score = score * np.mean(out_to_loss, axis=0)
    st.store.flush()
    result = AttributionResult(method=f"self_influence:{kind}", seed=opts.random_state)
    result.scores = score[None, :]
    result.params = {
        "proj_dim": st.projector.proj_dim, "projector": st.layout, "n_members": n_members,
        "n_params": st.n_params, "output": st.output.name, "loss": st.loss_name,
        "batch_size": st.batch_size, "device": str(st.device),
        "store_dir": str(st.store.root) if isinstance(st.store, MemmapStore) else None,
        **({"damping": opts.damping} if kind == "trak" else {}),
        **({"learning_rates": st.lrs} if kind == "tracin" else {}),
    }
    result.notes = _notes(kind, n_members, st.projector, st.n_params, st.lr_note,
                          st.grads.used_fallback, st.factors is not None)
    result.extras = {"proba": _in_sample_proba(st, opts)}
    return result


def _in_sample_proba(st: _Setup, opts: TorchOptions) -> np.ndarray | None:
    """Softmax of the logits on the training rows (None unless the loss is cross-entropy)."""
    if st.loss_name != "cross_entropy":
        return None
    members = st.members[-1:] if opts.checkpoints is not None else st.members
    chunk = max(1, min(st.batch_size, 4096))
    total: np.ndarray | None = None
    for member in members:
        with eval_mode(member.module):
            parts = [torch.softmax(member.forward(st.xt[s:s + chunk].to(st.device)).float(), -1)
                     .cpu().numpy().astype(np.float64)
                     for s in range(0, st.xt.shape[0], chunk)]
        prob = np.concatenate(parts)
        total = prob if total is None else total + prob
    return None if total is None else total / len(members)


def _row_sq_norms(feats: np.ndarray, chunk: int) -> np.ndarray:
    out = np.empty(feats.shape[0], dtype=np.float64)
    for s in range(0, feats.shape[0], chunk):
        block = np.asarray(feats[s:s + chunk], dtype=np.float64)
        out[s:s + chunk] = (block * block).sum(1)
    return out


def _inverse(sq_norms: np.ndarray) -> np.ndarray:
    """``1 / sqrt(sq_norms)``, 0 where the norm is 0."""
    nrm = np.sqrt(sq_norms)
    return np.where(nrm > 0, 1.0 / np.where(nrm > 0, nrm, 1.0), 0.0)


def _check_targets(
    member: FunctionalModel, x: torch.Tensor, y: torch.Tensor, output: ModelOutput,
    device: torch.device | None, batch_size: int,
) -> None:
    """One forward pass on a few rows: output shape and label range make sense."""
    if x.shape[0] == 0:
        msg = "X_train has no rows."
        raise DataValidationError(msg)
    xb = x[: min(batch_size, x.shape[0])].to(device)
    try:
        out = member.forward(xb)
    except Exception as exc:
        msg = (
            f"The model could not run on X_train rows of shape {tuple(x.shape[1:])}: "
            f"{type(exc).__name__}: {exc}"
        )
        raise DataValidationError(msg) from exc
    if not isinstance(out, torch.Tensor):
        msg = (
            f"The model must return a tensor (logits); it returned {type(out).__name__}. "
            "Wrap it in a module whose forward returns the logits."
        )
        raise InvalidParameterError(msg)
    if output.target_dtype == "long" and y.dtype == torch.int64:
        n_classes = out.shape[-1] if out.ndim >= 2 else 1
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= n_classes:
            msg = (
                f"Labels must be class indices in [0, {n_classes - 1}] for a model with "
                f"{n_classes} outputs. Got labels in [{lo}, {hi}]; encode them as 0..C-1."
            )
            raise DataValidationError(msg)


def _notes(
    kind: str, n_members: int, projector: Projector, n_params: int, lr_note: str | None,
    fallback: bool, factored: bool,
) -> list[str]:
    notes = []
    if kind == "trak":
        notes.append(
            "TRAK scores estimate how much each training example raises the query's margin "
            "(log-odds of its label); positive = helpful. They are sums over an ensemble: with "
            f"{n_members} model(s)/checkpoint(s)"
            + (" quality is low (the TRAK paper uses 10 or more)." if n_members < 5 else ".")
        )
    elif kind == "tracin":
        notes.append(
            "TracIn: sum over checkpoints of learning rate x <grad loss(query), grad loss(train)>;"
            " positive = a gradient step on the example lowered the query's loss. It ignores "
            "curvature and is dominated by examples with large gradients."
        )
    elif kind == "grad_dot":
        notes.append(
            "grad_dot: <grad loss(query), grad loss(train)> at the final model, a baseline that "
            "ignores curvature; examples with large gradients (often mislabeled) dominate."
        )
    else:
        notes.append(
            "grad_cos: cosine of query and train loss gradients, a baseline insensitive to "
            "gradient size; weak at ranking by actual effect (dattri: LDS ~0.19 on MNIST LR)."
        )
    if lr_note:
        notes.append(lr_note)
    if not isinstance(projector, IdentityProjector):
        notes.append(
            f"Gradients of {n_params} parameters were randomly projected to "
            f"{projector.proj_dim} dimensions ({projector.describe()['kind']}, seeded): inner "
            "products are preserved approximately; raise proj_dim for more accuracy."
        )
    if factored:
        notes.append(
            "Exact gradient inner products from per-layer factors (the model is made of "
            "nn.Linear layers): no projection, no per-sample gradient formed."
        )
    if fallback:
        notes.append(
            "The forward pass could not be vectorised with torch.func.vmap; per-sample "
            "gradients were computed one example at a time (slower, same numbers)."
        )
    return notes


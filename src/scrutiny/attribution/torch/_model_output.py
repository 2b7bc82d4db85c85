"""What is differentiated: a per-sample model output and its out-to-loss weight.

Sign convention: every :class:`ModelOutput` returns a quantity that is
*higher when the model serves the example better* (TRAK's classification
margin, or minus the loss). A training example whose gradient step raises a
query's output therefore gets a positive score: it helped the query, and
removing it would raise the query's loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F

from scrutiny.exceptions import InvalidParameterError

#: a per-sample loss: (model output of a batch, targets) -> losses of shape (n,)
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@runtime_checkable
class ModelOutput(Protocol):
    """The function of the model output that attribution differentiates."""

    name: str
    #: "long" for class indices, "float" for real-valued targets
    target_dtype: str

    def output(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Per-sample output, shape (n,): higher means the example is served better."""
        ...

    def out_to_loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Per-sample ``-d loss / d output``, shape (n,) (TRAK's ``Q`` weights)."""
        ...


def _true_class_mask(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    classes = torch.arange(logits.shape[-1], device=logits.device)
    return classes == target.reshape(-1, 1)


@dataclass(frozen=True)
class ClassificationMarginOutput:
    """TRAK's output for multi-class classification with cross-entropy.

    ``output = logit_y - logsumexp(logits of the other classes)``, the log-odds
    of the true class, and ``out_to_loss = 1 - p_y`` (``-d CE / d output``).
    """

    name: str = "classification_margin"
    target_dtype: str = "long"

    def output(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Log-odds of the true class, shape (n,)."""
        mask = _true_class_mask(out, target)
        true_logit = (out * mask).sum(-1)
        others = out.masked_fill(mask, float("-inf"))
        return true_logit - torch.logsumexp(others, dim=-1)

    def out_to_loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``1 - softmax(out)[y]``, shape (n,)."""
        probs = torch.softmax(out, dim=-1)
        return 1.0 - (probs * _true_class_mask(out, target)).sum(-1)


@dataclass(frozen=True)
class LossOutput:
    """Minus a per-sample loss (TracIn, gradient dot/cosine; TRAK for regression).

    ``out_to_loss`` is 1: the output already is (minus) the loss.
    """

    loss: LossFn
    name: str = "loss"
    target_dtype: str = "long"

    def output(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``-loss``, shape (n,)."""
        return -self.loss(out, target)

    def out_to_loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Ones, shape (n,)."""
        return torch.ones(out.shape[0], dtype=out.dtype, device=out.device)


def cross_entropy(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample cross-entropy of logits ``out`` (n, C) against class indices."""
    return F.cross_entropy(out, target, reduction="none")


def squared_error(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample half squared error, summed over output columns."""
    diff = out.reshape(out.shape[0], -1) - target.reshape(target.shape[0], -1)
    return 0.5 * (diff * diff).sum(-1)


LOSSES: dict[str, tuple[LossFn, str]] = {
    "cross_entropy": (cross_entropy, "long"),
    "mse": (squared_error, "float"),
}


def resolve_loss(loss: str | LossFn, where: str = "attribute") -> tuple[str, LossFn, str]:
    """``(name, per-sample loss, target dtype)`` of a loss name or callable."""
    if callable(loss):
        name = getattr(loss, "__qualname__", type(loss).__name__)
        return f"callable:{name}", loss, "float_or_long"
    if loss not in LOSSES:
        raise InvalidParameterError.from_value(
            "loss", where, f"one of {sorted(LOSSES)} or a callable (output, target) -> "
            "per-sample losses of shape (n,)", loss,
        )
    fn, dtype = LOSSES[loss]
    return loss, fn, dtype


def model_output_for(kind: str, loss: str | LossFn, where: str = "attribute") -> ModelOutput:
    """The output a method differentiates.

    ``kind="trak"`` uses the classification margin for cross-entropy (as TRAK
    does) and minus the loss otherwise; the other methods use minus the loss.
    """
    name, fn, dtype = resolve_loss(loss, where)
    if kind == "trak" and name == "cross_entropy":
        return ClassificationMarginOutput()
    return LossOutput(loss=fn, name=f"neg_{name}", target_dtype=dtype)

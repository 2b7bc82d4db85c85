"""scikit-learn's digits with small MLPs trained as one batched tensor program.

The one set-up of the PyTorch attribution checks: the LDS test
(``test_lds.py``), the PyTorch label-issue tests (``test_labels.py``) and the
benchmarks ``bench_attribution_torch.py`` / ``bench_attribution_trak_damping.py``
(which import this module). Defaults: 500 training and 100 query rows, MLP
64-32-10 (tanh), full-batch Adam. ``train_batch`` trains one MLP per row of a
mask (100 subset models, a 10-model ensemble, out-of-fold folds) at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None  # type: ignore[assignment]

SIZES = (64, 32, 10)
N_TRAIN, N_QUERY = 500, 100
EPOCHS, LR, WEIGHT_DECAY = 200, 0.05, 1e-3


def digits_split(n_train: int = N_TRAIN, n_query: int = N_QUERY):
    """Training and query rows of digits (pixels / 16), one fixed shuffle."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    train, query = order[:n_train], order[n_train:n_train + n_query]
    return x[train], y[train], x[query], y[query]


def train_batch(x, y, masks, *, seed, checkpoint_every=0, sizes: Sequence[int] = SIZES):
    """Train one MLP per row of ``masks`` (on the rows it marks) at once; stacked weights."""
    n_models = masks.shape[0]
    gen = torch.Generator().manual_seed(seed)
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1.0 / np.sqrt(fan_in)
        params.append((torch.rand(n_models, fan_in, fan_out, generator=gen) * 2 - 1) * bound)
        params.append((torch.rand(n_models, 1, fan_out, generator=gen) * 2 - 1) * bound)
    params = [p.requires_grad_() for p in params]
    opt = torch.optim.Adam(params, lr=LR)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    weight = torch.as_tensor(masks, dtype=torch.float32)
    weight = weight / weight.sum(1, keepdim=True)
    checkpoints = []
    for epoch in range(EPOCHS):
        opt.zero_grad()
        logits = batched_forward(params, xt)
        ce = torch.nn.functional.cross_entropy(
            logits.reshape(-1, sizes[-1]), yt.repeat(n_models), reduction="none"
        ).reshape(n_models, -1)
        l2 = sum((w ** 2).sum() for w in params[0::2])
        ((ce * weight).sum() + 0.5 * WEIGHT_DECAY * l2).backward()
        opt.step()
        if checkpoint_every and (epoch + 1) % checkpoint_every == 0:
            checkpoints.append([p.detach().clone() for p in params])
    return [p.detach() for p in params], checkpoints


def batched_forward(params, x):
    h = x
    for layer in range(len(params) // 2):
        h = torch.matmul(h, params[2 * layer]) + params[2 * layer + 1]
        if layer < len(params) // 2 - 1:
            h = torch.tanh(h)
    return h


def margins(params, x, y):
    """Log-odds of the true class for every model (rows) and query (columns)."""
    with torch.no_grad():
        logits = batched_forward(params, torch.as_tensor(x))
        mask = torch.nn.functional.one_hot(torch.as_tensor(y), logits.shape[-1]).bool()
        true = (logits * mask).sum(-1)
        return (true - logits.masked_fill(mask, float("-inf")).logsumexp(-1)).numpy()


def probabilities(params, x):
    """Softmax outputs, shape (n_models, n_rows, n_classes)."""
    with torch.no_grad():
        return torch.softmax(batched_forward(params, torch.as_tensor(x)), -1).numpy()


def make_mlp(sizes: Sequence[int] = SIZES):
    """An untrained ``nn.Sequential`` MLP of these widths (tanh between layers)."""
    layers = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1])


def as_module(params, b):
    """Model ``b`` of stacked weights as an ``nn.Sequential`` (widths read from the weights)."""
    sizes = [params[0].shape[1]] + [w.shape[2] for w in params[0::2]]
    mod = make_mlp(sizes)
    lins = [m for m in mod if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for i, lin in enumerate(lins):
            lin.weight.copy_(params[2 * i][b].T)
            lin.bias.copy_(params[2 * i + 1][b, 0])
    return mod

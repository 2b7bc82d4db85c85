"""LDS of the PyTorch methods on scikit-learn's digits with a small MLP (slow, ~1 min on 2 cores).

Protocol (Park et al. 2023; dattri's ``retrain_lds``): 100 random 50 % subsets
of the training set; one MLP retrained on each (its own random
initialisation); the retrained models' margins on the queries are the ground
truth. All MLPs of a batch (100 subset models, the 10-model TRAK ensemble) are
trained at once as one batched tensor program, full-batch Adam.
"""

from __future__ import annotations

import itertools
import os
import time

import numpy as np
import pytest

from scrutiny.attribution import attribute
from scrutiny.attribution.evaluation import lds

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        torch is None and os.environ.get("CI") != "true",
        reason="torch is not installed: pip install 'scrutiny[torch]' (this test runs on CI)",
    ),
]



@pytest.fixture(autouse=True)
def one_thread():
    """Torch and BLAS on one thread: on a shared 2-core machine, multi-threaded kernels on
    these small matrices spin-wait against other processes and run many times slower."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(before)


SIZES = (64, 32, 10)
N_TRAIN, N_QUERY, N_SUBSETS, ENSEMBLE = 500, 100, 100, 10
EPOCHS, LR, WEIGHT_DECAY = 200, 0.05, 1e-3


def digits_split():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    train, query = order[:N_TRAIN], order[N_TRAIN:N_TRAIN + N_QUERY]
    return x[train], y[train], x[query], y[query]


def train_batch(x, y, masks, *, seed, checkpoint_every=0):
    """Train one MLP per row of ``masks`` (on the rows it marks) at once; stacked weights."""
    n_models = masks.shape[0]
    gen = torch.Generator().manual_seed(seed)
    params = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
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
            logits.reshape(-1, SIZES[-1]), yt.repeat(n_models), reduction="none"
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
        mask = torch.nn.functional.one_hot(torch.as_tensor(y), SIZES[-1]).bool()
        true = (logits * mask).sum(-1)
        return (true - logits.masked_fill(mask, float("-inf")).logsumexp(-1)).numpy()


def as_module(params, b):
    layers = []
    for i in range(len(params) // 2):
        lin = torch.nn.Linear(SIZES[i], SIZES[i + 1])
        with torch.no_grad():
            lin.weight.copy_(params[2 * i][b].T)
            lin.bias.copy_(params[2 * i + 1][b, 0])
        layers += [lin, torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1])


def test_lds_digits_mlp(capsys):
    x, y, xq, yq = digits_split()
    masks = np.random.default_rng(1).random((N_SUBSETS, N_TRAIN)) < 0.5
    t0 = time.perf_counter()
    subset_models, _ = train_batch(x, y, masks, seed=100)
    truth = margins(subset_models, xq, yq)  # (n_subsets, n_query)
    t_retrain = time.perf_counter() - t0

    ensemble, checkpoints = train_batch(x, y, np.ones((ENSEMBLE, N_TRAIN), bool), seed=7,
                                        checkpoint_every=EPOCHS // 5)
    accuracy = float((batched_forward(ensemble, torch.as_tensor(xq)).argmax(-1).numpy()
                      == yq).mean())
    models = [as_module(ensemble, b) for b in range(ENSEMBLE)]
    ckpt_states = [as_module(c, 0).state_dict() for c in checkpoints]

    runs = {
        f"trak (ensemble of {ENSEMBLE})": dict(model=models, method="trak"),
        "trak (1 model)": dict(model=models[0], method="trak"),
        f"tracin ({len(checkpoints)} checkpoints)": dict(
            model=models[0], method="tracin", checkpoints=ckpt_states, learning_rates=LR),
        "grad_dot": dict(model=models[0], method="grad_dot"),
        "grad_cos": dict(model=models[0], method="grad_cos"),
    }
    measured = {}
    for name, kw in runs.items():
        t = time.perf_counter()
        res = attribute(kw.pop("model"), x, y, xq, yq, materialize=True, **kw)
        measured[name] = (lds(res.scores, masks, truth), time.perf_counter() - t)

    with capsys.disabled():
        print(f"\n\nLDS on digits ({N_TRAIN} train, {N_QUERY} queries, MLP {SIZES}, "
              f"{N_SUBSETS} random 50% subsets retrained in {t_retrain:.1f} s; "
              f"ensemble test accuracy {accuracy:.3f}):")
        for name, (value, seconds) in measured.items():
            print(f"  {name:<28} LDS = {value:.3f}   ({seconds:.1f} s)")
    assert measured[f"trak (ensemble of {ENSEMBLE})"][0] >= 0.3
    # the ensemble is what makes TRAK work
    assert measured[f"trak (ensemble of {ENSEMBLE})"][0] > measured["trak (1 model)"][0]

"""Benchmark 5: PyTorch attribution, scrutiny against Captum ``TracInCP``.

Same model, data and checkpoints for both, in one process:

* data: scikit-learn's digits (8x8 images, pixels / 16), ``--n-train`` rows
  to attribute to and ``--n-query`` held-out queries;
* model: MLP 64-32-10 (tanh), full-batch Adam (lr 0.05, weight decay 1e-3,
  200 epochs); 5 checkpoints of one run saved as files
  ``{"model_state_dict", "learning_rate"}``, read from disk by both libraries
  (Captum through a four-line ``checkpoints_load_func``); an ensemble of 10
  independently initialised models for TRAK;
* ground truth: ``--subsets`` random 50 % subsets of the training rows, one
  MLP retrained on each (own initialisation), margins of the queries; LDS =
  per-query Spearman between summed scores and these margins, averaged.

Rows: Captum ``TracInCP`` in both of its modes (per-example loss with a
backward per example, and ``sample_wise_grads_per_batch=True`` with a summed
loss), both with one batch holding every training row (Captum recommends
batches as large as memory allows); scrutiny ``tracin`` with its defaults
(exact gradient inner products from per-layer factors, since the MLP is made
of ``nn.Linear`` layers: the same numbers as Captum), with materialised
per-sample gradients (``factored=False``), with a 512-dimensional Gaussian
projection; ``trak`` (10 models and 1 model, defaults); ``grad_dot``.

Time: best and median of ``--repeat`` calls (after one warm-up call) returning
the full (n_query, n_train) matrix; speed-ups are given for both (Captum's runs
spread widely, e.g. 35-58 ms on the smallest MLP, so the best of runs flatters
it). Quality: LDS, and the Spearman agreement of each method with Captum's
scores. Peak memory: each method runs in a child process
(``--child``): one warm-up call on 16 rows (lazy imports, thread pools), then
the peak resident set of the full call above the resident set just before it
(torch's allocations are invisible to tracemalloc).

Goal: equal or better quality than Captum TracInCP in at most a fifth of its
time (ratio >= 5).

Both libraries run on ``--threads`` torch / BLAS threads (default 1: on a
shared 2-core machine, multi-threaded kernels on these small matrices measure
contention, not the methods).

Needs torch and captum (``pip install 'scrutiny[torch]' captum``). Run from
the repository root: ``python benchmarks/bench_attribution_torch.py``
(``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    best_of,
    fmt_bytes,
    fmt_ratio,
    fmt_time,
    footer,
    header,
    print_table,
    verdict,
    vm_hwm,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root
from tests.attribution import _digits
from tests.attribution._digits import EPOCHS, LR, as_module, batched_forward, margins

SIZES = [64, 32, 10]  # --hidden changes the middle width
THREADS = [1]  # --threads
ENSEMBLE, N_CKPT = 10, 5


# ---------------------------------------------------------------------------
# data and models: the set-up of the tests (tests/attribution/_digits.py), widths SIZES


def digits(n_train: int, n_query: int) -> tuple[np.ndarray, ...]:
    return _digits.digits_split(n_train, n_query)


def train_batch(x: np.ndarray, y: np.ndarray, masks: np.ndarray, seed: int,
                checkpoint_every: int = 0) -> tuple[list[Any], list[list[Any]]]:
    """One MLP of widths ``SIZES`` per row of ``masks``, all trained at once."""
    return _digits.train_batch(x, y, masks, seed=seed, checkpoint_every=checkpoint_every,
                               sizes=SIZES)


def make_mlp() -> Any:
    return _digits.make_mlp(SIZES)


def prepare(workdir: Path, n_train: int, n_query: int, n_subsets: int) -> dict[str, Any]:
    """Train everything once; save data, ground truth, checkpoints and ensemble to ``workdir``."""
    import torch

    x, y, xq, yq = digits(n_train, n_query)
    masks = np.random.default_rng(1).random((n_subsets, len(x))) < 0.5
    t0 = time.perf_counter()
    subset_params, _ = train_batch(x, y, masks, seed=100)
    truth = margins(subset_params, xq, yq)
    t_truth = time.perf_counter() - t0
    ens, ckpts = train_batch(x, y, np.ones((ENSEMBLE, len(x)), bool), seed=7,
                             checkpoint_every=EPOCHS // N_CKPT)
    np.savez(workdir / "data.npz", x=x, y=y, xq=xq, yq=yq, masks=masks, truth=truth)
    paths = []
    for i, c in enumerate(ckpts):
        path = workdir / f"checkpoint_{i}.pt"
        torch.save({"model_state_dict": as_module(c, 0).state_dict(), "learning_rate": LR}, path)
        paths.append(str(path))
    for b in range(ENSEMBLE):
        torch.save(as_module(ens, b).state_dict(), workdir / f"ensemble_{b}.pt")
    acc = float((batched_forward(ens, torch.as_tensor(xq)).argmax(-1).numpy() == yq).mean())
    return {"t_truth": t_truth, "accuracy": acc, "n_params": sum(
        p.numel() for p in make_mlp().parameters())}


def median(timing: Any) -> float:
    """The median of a ``best_of`` timing's runs."""
    return float(np.median(timing.times))


# ---------------------------------------------------------------------------
# the methods


def load_inputs(workdir: Path) -> dict[str, Any]:
    import torch

    d = dict(np.load(workdir / "data.npz"))
    d["checkpoints"] = sorted(str(p) for p in workdir.glob("checkpoint_*.pt"))
    models = []
    for b in range(ENSEMBLE):
        m = make_mlp()
        m.load_state_dict(torch.load(workdir / f"ensemble_{b}.pt", weights_only=True))
        models.append(m)
    d["models"] = models
    return d


def methods(inp: dict[str, Any]) -> dict[str, Any]:
    """name -> zero-argument callable returning the (n_query, n_train) score matrix."""
    import torch
    from captum.influence import TracInCP
    from torch.utils.data import TensorDataset

    from scrutiny.attribution import attribute

    x, y, xq, yq = inp["x"], inp["y"], inp["xq"], inp["yq"]
    ckpts = inp["checkpoints"]
    train_ds = TensorDataset(torch.as_tensor(x), torch.as_tensor(y))
    q_inputs = (torch.as_tensor(xq), torch.as_tensor(yq))

    def load(model: Any, path: str) -> float:
        ck = torch.load(path, weights_only=True)
        model.load_state_dict(ck["model_state_dict"])
        return float(ck["learning_rate"])

    def captum(per_example: bool) -> np.ndarray:
        model = make_mlp()
        if per_example:
            tracin = TracInCP(model, train_ds, ckpts, checkpoints_load_func=load,
                              batch_size=len(x),
                              loss_fn=torch.nn.CrossEntropyLoss(reduction="none"),
                              sample_wise_grads_per_batch=False)
        else:
            tracin = TracInCP(model, train_ds, ckpts, checkpoints_load_func=load,
                              batch_size=len(x),
                              loss_fn=torch.nn.CrossEntropyLoss(reduction="sum"),
                              sample_wise_grads_per_batch=True)
        return tracin.influence(q_inputs).detach().numpy()

    def ours(method: str, model: Any, **kw: Any) -> np.ndarray:
        res = attribute(model, x, y, xq, yq, method=method, materialize=True, **kw)
        return np.asarray(res.scores)

    template = make_mlp()
    return {
        "captum TracInCP (per-example loss)": lambda: captum(True),
        "captum TracInCP (sample_wise_grads_per_batch)": lambda: captum(False),
        "scrutiny tracin (default: exact linear factors)": lambda: ours(
            "tracin", template, checkpoints=ckpts),
        "scrutiny tracin, per-sample gradients (factored=False)": lambda: ours(
            "tracin", template, checkpoints=ckpts, factored=False, projector="identity"),
        "scrutiny tracin, projected to 512 (gaussian)": lambda: ours(
            "tracin", template, checkpoints=ckpts, projector="gaussian", proj_dim=512),
        f"scrutiny trak, {ENSEMBLE} models": lambda: ours("trak", inp["models"]),
        "scrutiny trak, 1 model": lambda: ours("trak", inp["models"][0]),
        "scrutiny grad_dot": lambda: ours("grad_dot", inp["models"][0]),
    }


def child(workdir: Path, name: str) -> None:
    """Warm up on 16 rows, then print the full call's peak RSS above the RSS before it.

    The warm-up pays one-time costs (lazy imports inside torch, thread pools)
    with small buffers; ``/proc/self/clear_refs`` (``5``) then resets the
    peak before the measured call.
    """
    import scipy.linalg  # noqa: F401 - imported by scrutiny's TRAK; not part of the peak

    import scrutiny.attribution.torch._pipeline  # noqa: F401
    from scrutiny.attribution._registry import load_builtin

    load_builtin()
    inp = load_inputs(workdir)
    tiny = {**inp, "x": inp["x"][:16], "y": inp["y"][:16], "xq": inp["xq"][:4],
            "yq": inp["yq"][:4]}
    methods(tiny)[name]()
    fn = methods(inp)[name]
    gc.collect()
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    rss_before = _vm_rss()
    fn()
    peak = vm_hwm()
    print(json.dumps({"name": name, "peak_above_start": None if peak is None else
                      peak - rss_before}))


def _vm_rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0  # pragma: no cover


def child_peak(workdir: Path, name: str) -> int | None:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, "--workdir", str(workdir),
         "--hidden", str(SIZES[1]), "--threads", str(THREADS[0])],
        capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_above_start"]


# ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=500)
    parser.add_argument("--n-query", type=int, default=100)
    parser.add_argument("--subsets", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=32, help="hidden width of the MLP")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch and BLAS threads (0: library defaults)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="200 train, 20 queries, 1 repeat")
    parser.add_argument("--no-memory", action="store_true", help="skip the child-process runs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    SIZES[1] = args.hidden
    THREADS[0] = args.threads
    if args.threads > 0:
        import torch
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    if args.child:
        child(Path(args.workdir), args.child)
        return
    if args.quick:
        args.n_train, args.n_query, args.subsets, args.repeat = 200, 20, 30, 1

    from scrutiny.attribution.evaluation import lds, spearman_topk

    header("PyTorch attribution: scrutiny vs Captum TracInCP (digits MLP)", args,
           packages=("torch", "captum", "scikit-learn"))
    with tempfile.TemporaryDirectory(prefix="scrutiny_bench_torch_") as tmp:
        workdir = Path(tmp)
        info = prepare(workdir, args.n_train, args.n_query, args.subsets)
        inp = load_inputs(workdir)
        print(f"\n{args.n_train} train rows, {args.n_query} queries, MLP {tuple(SIZES)} "
              f"({info['n_params']} parameters), {N_CKPT} checkpoints, ensemble of {ENSEMBLE} "
              f"(test accuracy {info['accuracy']:.3f}); ground truth: {args.subsets} subsets "
              f"retrained in {info['t_truth']:.1f} s")
        fns = methods(inp)
        timings, scores = {}, {}
        for name, fn in fns.items():
            t = best_of(fn, args.repeat, warmup=1)
            timings[name], scores[name] = t, t.result
            print(f"  {name}: best {fmt_time(t.best)} (runs: "
                  f"{', '.join(fmt_time(s) for s in t.times)})", flush=True)
        peaks = {name: (None if args.no_memory else child_peak(workdir, name)) for name in fns}

    captum_names = [n for n in fns if n.startswith("captum")]
    fastest_captum = min(captum_names, key=lambda n: timings[n].best)
    reference = scores[fastest_captum]
    quality = {n: lds(s, inp["masks"], inp["truth"]) for n, s in scores.items()}
    rows = []
    for name in fns:
        rows.append([
            name,
            fmt_time(timings[name].best),
            fmt_time(median(timings[name])),
            fmt_ratio(timings[fastest_captum].best / timings[name].best),
            fmt_ratio(median(timings[fastest_captum]) / median(timings[name])),
            f"{quality[name]:.3f}",
            f"{spearman_topk(reference, scores[name], k=None):.4f}",
            f"{spearman_topk(reference, scores[name], k=50):.4f}",
            fmt_bytes(peaks[name]),
        ])
    print_table(
        ["method", "time (best)", "time (median)",
         f"speed-up vs {fastest_captum.split(' (')[0]} (fastest mode), best",
         "speed-up, median",
         "LDS", "Spearman vs Captum (all)", "Spearman vs Captum (top 50)",
         "peak RSS above start"],
        rows, title="Scores of every train row for every query (full matrix)",
    )
    exact = "scrutiny tracin (default: exact linear factors)"
    ratio = timings[fastest_captum].best / timings[exact].best
    ratio_median = median(timings[fastest_captum]) / median(timings[exact])
    same_quality = quality[exact] >= quality[fastest_captum] - 0.005
    for label, r in (("best of runs", ratio), ("median of runs", ratio_median)):
        print(f"goal (same method, quality >= Captum's, time <= 1/5), {label}: {exact}: LDS "
              f"{quality[exact]:.3f} vs {quality[fastest_captum]:.3f}, {fmt_ratio(r)} faster "
              f"-> {verdict(r >= 5 and same_quality)}")
    for name in (f"scrutiny trak, {ENSEMBLE} models", "scrutiny trak, 1 model"):
        slower = timings[name].best / timings[fastest_captum].best
        print(f"for information (another method): {name}: LDS {quality[name]:.3f} vs "
              f"{quality[fastest_captum]:.3f}, {slower:.1f}x the time of Captum TracInCP")
    footer()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()

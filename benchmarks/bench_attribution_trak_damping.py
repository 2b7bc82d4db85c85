"""Benchmark 7: TRAK's ``damping`` on the digits MLP LDS setup (how the default was chosen).

The setup of ``bench_attribution_torch.py`` and ``tests/attribution/test_lds.py``:
scikit-learn's digits, 500 training rows and 100 queries, MLP 64-H-10 (tanh),
full-batch Adam (lr 0.05, weight decay 1e-3, 200 epochs); ground truth: one
MLP retrained on each of ``--subsets`` random 50 % subsets (margins of the
queries); LDS as in ``scrutiny.attribution.evaluation.lds``.

For each ``--seeds`` (a new draw of subsets, retrained models and TRAK
ensemble), TRAK is run with an ensemble of 10 models and with 1 model, at
each ``--proj-dims`` and each damping in ``--dampings`` (``λ = damping ·
trace(ΦᵀΦ) / min(n_train, proj_dim)``, the mean non-zero eigenvalue), plus
the earlier default (``λ = 0.1 · trace(ΦᵀΦ) / proj_dim``, the column "0.1 / k").
Features are computed once per ensemble and projection and stored
(``store_dir``), so each damping only re-solves the inverse and re-scores.
Prints LDS per damping (mean over seeds) and the best damping per row.

Run from the repository root:
``python benchmarks/bench_attribution_trak_damping.py`` (``--hidden 256`` for
the wider MLP; ``--quick``: 1 seed, 30 subsets).
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_attribution_torch import ENSEMBLE, SIZES, as_module, digits, margins, train_batch
from common import footer, header, print_table

DAMPINGS = [0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 1.0, 3.0, 10.0]
OLD = "0.1 / k"  # the earlier default: 0.1 * trace / proj_dim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=500)
    parser.add_argument("--n-query", type=int, default=100)
    parser.add_argument("--subsets", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--proj-dims", default="2048,1024,512,256,128")
    parser.add_argument("--dampings", default=",".join(str(d) for d in DAMPINGS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1 seed, 30 subsets")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.subsets = 1, 30
    SIZES[1] = args.hidden
    import torch
    from threadpoolctl import threadpool_limits

    from scrutiny.attribution import attribute
    from scrutiny.attribution.evaluation import lds

    if args.threads > 0:
        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    dampings = [float(d) for d in args.dampings.split(",")]
    proj_dims = [int(k) for k in args.proj_dims.split(",")]
    header("TRAK damping sweep: LDS on the digits MLP", args, packages=("torch",))
    x, y, xq, yq = digits(args.n_train, args.n_query)
    # rows: (members, proj_dim) -> damping -> [LDS per seed]
    table: dict[tuple[str, int], dict[float, list[float]]] = {}
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        masks = np.random.default_rng(1 + 1000 * seed).random((args.subsets, len(x))) < 0.5
        subset_params, _ = train_batch(x, y, masks, seed=100 + seed)
        truth = margins(subset_params, xq, yq)
        ens, _ = train_batch(x, y, np.ones((ENSEMBLE, len(x)), bool), seed=7 + seed)
        models = [as_module(ens, b) for b in range(ENSEMBLE)]
        print(f"seed {seed}: {args.subsets} subsets + {ENSEMBLE} models trained in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        with tempfile.TemporaryDirectory(prefix="scrutiny_damping_") as tmp:
            for members, model in ((f"{ENSEMBLE} models", models), ("1 model", models[0])):
                for k in proj_dims:
                    store = Path(tmp) / f"{members.replace(' ', '_')}_{k}"
                    row = table.setdefault((members, k), {})
                    for damping in [*dampings, OLD]:
                        value = 0.1 * min(len(x), k) / k if damping == OLD else damping
                        res = attribute(model, x, y, xq, yq, method="trak", proj_dim=k,
                                        damping=value, materialize=True, store_dir=store)
                        row.setdefault(damping, []).append(lds(res.scores, masks, truth))
                    best = max(dampings, key=lambda d: row[d][-1])
                    print(f"  {members}, proj_dim {k}: best damping {best} "
                          f"(LDS {row[best][-1]:.3f}; 0.3: {row.get(0.3, [np.nan])[-1]:.3f}; "
                          f"earlier default: {row[OLD][-1]:.3f})", flush=True)
    n_params = sum(a * b + b for a, b in itertools.pairwise(SIZES))
    rows = []
    for (members, k), by_d in table.items():
        means = {d: float(np.mean(v)) for d, v in by_d.items()}
        best = max(dampings, key=means.__getitem__)
        rows.append([f"{members}, proj_dim {k}",
                     *[f"**{means[d]:.3f}**" if d == best else f"{means[d]:.3f}"
                       for d in dampings], f"{best:g}", f"{means[OLD]:.3f}"])
    print_table(["TRAK", *[f"{d:g}" for d in dampings], "best", OLD], rows,
                title=f"LDS by damping, MLP {tuple(SIZES)} ({n_params} parameters), "
                      f"mean over {args.seeds} seed(s)")
    footer()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()

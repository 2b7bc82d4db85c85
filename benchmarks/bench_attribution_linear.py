"""scrutiny exact influence vs dattri influence functions on the same logistic regression.

One process, one fitted ``LogisticRegression`` (L2, C=1, tol=1e-10), one data
set. Every method scores all training examples for ``--n-query`` test points;
quality is the Spearman correlation with **exact leave-one-out retraining**
(scikit-learn refits, one per training example, shared by all methods) on the
first ``--loo-queries`` of them, over all training examples and over the 100
examples with the largest actual effect.

dattri gets its best-case configuration: the exact objective of the model as
its loss (mean log-loss + the L2 penalty ½·||w||²/(C·n), intercept free), the
plain log-loss as target, one batch holding the whole training set (dattri
rebuilds the Hessian for every train × test batch pair) and the fitted
coefficients copied into a ``torch.nn.Linear``. Its scores equal scrutiny's up
to a positive scale and a per-query constant (the penalty gradient in the train
representations), which leaves rankings unchanged.

Peak memory: ``traced`` is tracemalloc (Python and NumPy; torch's own CPU
allocations are not seen); ``RSS`` is the rise of the resident peak (``VmHWM``,
reset through ``/proc/self/clear_refs``) during one call made in a fresh child
process after the data, the model and the libraries are loaded, which sees
torch too. BLAS and torch run on ``--threads`` threads (default 1: on a shared
2-core machine multi-threaded OpenBLAS on these small matrices is slowed down
up to 100x by contention).

Run from the repository root (dattri and torch are benchmark-only
dependencies)::

    .venv/bin/pip install torch==2.13.0 dattri==0.3.0
    .venv/bin/python benchmarks/bench_attribution_linear.py
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def _threads_from_argv() -> str:
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "1"


# BLAS threads are fixed before NumPy loads: on a shared 2-core machine, multi-threaded
# OpenBLAS on these small matrices can be 100x slower than one thread (contention).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _threads_from_argv()

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))

from common import (  # noqa: E402
    best_of,
    fmt_bytes,
    fmt_ratio,
    fmt_time,
    footer,
    header,
    print_table,
    traced_peak,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


# --------------------------------------------------------------------------- data


def _encode(frame, numeric, categorical, train):
    import pandas as pd

    num = frame[numeric].astype(float)
    num = (num - num[train].mean()) / num[train].std().replace(0.0, 1.0)
    cat = pd.get_dummies(frame[categorical].astype(str), dtype=float)
    cat = cat.loc[:, cat[train].sum() > 0]
    return pd.concat([num, cat], axis=1).to_numpy(dtype=float)


def load(name: str, n_train: int, n_test: int, seed: int = 3):
    """One-hot + standardised features of a real data set, split train / test."""
    if name == "adult":
        from scrutiny.datasets import load_adult

        df = load_adult(split="train")
        df["capital_gain"] = np.log1p(df["capital_gain"])
        df["capital_loss"] = np.log1p(df["capital_loss"])
        numeric = ["age", "education_num", "hours_per_week", "capital_gain", "capital_loss"]
        categorical = ["workclass", "marital_status", "occupation", "relationship", "race", "sex"]
        label = "income"
    elif name == "compas":
        from scrutiny.datasets import load_compas

        df = load_compas(DATA / "compas")
        keep = (df["days_b_screening_arrest"].between(-30, 30) & (df["is_recid"] != -1)
                & (df["c_charge_degree"] != "O") & (df["score_text"] != "N/A"))
        df = df.loc[keep].reset_index(drop=True)
        numeric = ["age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count"]
        categorical = ["c_charge_degree", "sex", "race", "age_cat"]
        label = "two_year_recid"
    elif name == "german":
        from scrutiny.datasets import load_german_credit

        df = load_german_credit(DATA / "german_credit")
        numeric = ["duration_months", "credit_amount", "installment_rate", "residence_since",
                   "age", "existing_credits", "num_dependents"]
        categorical = ["checking_status", "credit_history", "purpose", "savings",
                       "employment_since", "other_debtors", "property",
                       "other_installment_plans", "housing", "job", "telephone",
                       "foreign_worker", "sex"]
        label = "credit_good"
    else:
        raise SystemExit(f"unknown dataset {name!r}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(df))[: n_train + n_test]
    df = df.iloc[order].reset_index(drop=True)
    train = np.zeros(len(df), dtype=bool)
    train[:n_train] = True
    x = _encode(df, numeric, categorical, train)
    y = df[label].to_numpy().astype(int)
    return x[train], y[train], x[~train], y[~train]


# --------------------------------------------------------------------------- memory


def _status(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise OSError(key)


def child_rss_rise(args, name: str) -> int | None:
    """Peak-RSS rise of one call of method ``name`` in a fresh process (Linux; else None)."""
    cmd = [sys.executable, __file__, "--child", name, "--dataset", args.dataset,
           "--n-train", str(args.n_train), "--n-query", str(args.n_query),
           "--threads", str(args.threads)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=900)
        return json.loads(out.stdout.strip().splitlines()[-1])["rss_rise"]
    except (subprocess.SubprocessError, OSError, ValueError, KeyError):
        return None


# --------------------------------------------------------------------------- methods


def scrutiny_scores(model, xt, yt, xq, yq, method="influence"):
    from scrutiny.attribution import attribute

    return attribute(model, xt, yt, xq, yq, method=method).scores  # (n_query, n_train)


def make_dattri(model, xt, yt, xq, yq, solver: str, dtype):
    """A callable computing dattri's (n_query, n_train) influence scores from scratch."""
    import torch
    import torch.nn.functional as F
    from dattri.algorithm.influence_function import IFAttributorCG, IFAttributorExplicit
    from dattri.task import AttributionTask
    from torch.utils.data import DataLoader, TensorDataset

    n, d = xt.shape
    lam = 1.0 / (model.C * n)
    tx, ty = torch.tensor(xt, dtype=dtype), torch.tensor(yt, dtype=dtype)
    qx, qy = torch.tensor(xq, dtype=dtype), torch.tensor(yq, dtype=dtype)

    def run():
        net = torch.nn.Linear(d, 1).to(dtype)
        with torch.no_grad():
            net.weight.copy_(torch.tensor(model.coef_, dtype=dtype))
            net.bias.copy_(torch.tensor(model.intercept_, dtype=dtype))

        def loss_func(params, data):  # the model's objective, divided by C·n
            x, y = data
            z = torch.func.functional_call(net, params, x).squeeze(-1)
            return (F.binary_cross_entropy_with_logits(z, y)
                    + 0.5 * lam * (params["weight"] ** 2).sum())

        def target_func(params, data):  # the query's log-loss
            x, y = data
            z = torch.func.functional_call(net, params, x).squeeze(-1)
            return F.binary_cross_entropy_with_logits(z, y)

        task = AttributionTask(loss_func=loss_func, model=net, checkpoints=net.state_dict(),
                               target_func=target_func)
        if solver == "explicit":
            attributor = IFAttributorExplicit(task=task, device="cpu")
        else:
            attributor = IFAttributorCG(task=task, device="cpu", max_iter=100, tol=1e-10)
        train = DataLoader(TensorDataset(tx, ty), batch_size=n, shuffle=False)
        test = DataLoader(TensorDataset(qx, qy), batch_size=len(qx), shuffle=False)
        attributor.cache(train)
        return attributor.attribute(train, test).detach().cpu().numpy().T

    return run


# --------------------------------------------------------------------------- main


def build_runs(model, xt, yt, xq, yq):
    import torch

    return {
        "scrutiny influence (exact Hessian, Cholesky)":
            lambda: scrutiny_scores(model, xt, yt, xq, yq),
        "scrutiny newton (one Newton step per example)":
            lambda: scrutiny_scores(model, xt, yt, xq, yq, method="newton"),
        "dattri IFAttributorExplicit float64": make_dattri(model, xt, yt, xq, yq, "explicit",
                                                           torch.float64),
        "dattri IFAttributorExplicit float32": make_dattri(model, xt, yt, xq, yq, "explicit",
                                                           torch.float32),
        "dattri IFAttributorCG float64 (100 it)": make_dattri(model, xt, yt, xq, yq, "cg",
                                                              torch.float64),
    }


def fit(xt, yt):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(xt, yt)


def run_child(args) -> None:
    """``--child NAME``: one call in this fresh process; print its peak-RSS rise as JSON."""
    import torch
    from dattri.algorithm import influence_function  # noqa: F401 - imported before baseline

    import scrutiny.attribution._linear  # noqa: F401

    torch.set_num_threads(args.threads)
    xt, yt, xq, yq = load(args.dataset, args.n_train, args.n_query)
    model = fit(xt, yt)
    fn = build_runs(model, xt, yt, xq, yq)[args.child]
    gc.collect()
    before = _status("VmRSS:")
    with open("/proc/self/clear_refs", "w") as fh:  # reset VmHWM to the current RSS
        fh.write("5")
    fn()
    print(json.dumps({"rss_rise": max(0, _status("VmHWM:") - before)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="adult", choices=["adult", "compas", "german"])
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-query", type=int, default=100)
    parser.add_argument("--loo-queries", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1,000 rows, 10 LOO queries")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS / torch threads for every method (default 1)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return
    if args.quick:
        args.n_train, args.loo_queries, args.repeat = 1000, 10, 2
    if args.dataset == "german":
        args.n_train = min(args.n_train, 800)
    header("Exact influence: scrutiny vs dattri (logistic regression)", args,
           packages=("scikit-learn", "torch", "dattri", "scipy"))

    import torch
    from scipy.stats import spearmanr

    from scrutiny.attribution import attribute

    torch.set_num_threads(args.threads)
    xt, yt, xq, yq = load(args.dataset, args.n_train, args.n_query)
    model = fit(xt, yt)
    n, d = xt.shape
    print(f"data: {args.dataset}, {n} train x {d} features (+ intercept), {len(xq)} queries; "
          f"train accuracy {model.score(xt, yt):.3f}")

    # ground truth: exact leave-one-out retraining, one refit per training example
    t0 = time.perf_counter()
    k = args.loo_queries
    truth = attribute(model, xt, yt, xq[:k], yq[:k], method="retrain").scores
    t_loo = time.perf_counter() - t0
    print(f"exact LOO ground truth: {n} refits in {fmt_time(t_loo)} "
          f"({fmt_time(t_loo / n)} per refit)\n")

    runs = build_runs(model, xt, yt, xq, yq)
    rows = []
    base_time = None
    for name, fn in runs.items():
        timing = best_of(fn, args.repeat, warmup=1)
        scores = np.asarray(timing.result, dtype=float)
        rho_all, rho_top = [], []
        for q in range(k):
            rho_all.append(spearmanr(scores[q], truth[q]).statistic)
            top = np.argsort(-np.abs(truth[q]))[:100]
            rho_top.append(spearmanr(scores[q, top], truth[q, top]).statistic)
        traced = traced_peak(fn)
        rss = child_rss_rise(args, name)
        if base_time is None:
            base_time = timing.best
        rows.append([name, fmt_time(timing.best), fmt_ratio(timing.best / base_time),
                     f"{np.mean(rho_all):.4f} (min {np.min(rho_all):.4f})",
                     f"{np.mean(rho_top):.4f} (min {np.min(rho_top):.4f})",
                     fmt_bytes(traced), fmt_bytes(rss)])
    print_table(
        ["method", f"time ({len(xq)} queries x {n} train, best of {args.repeat})",
         "time / scrutiny", f"Spearman vs LOO, all {n} (mean over {k} queries)",
         "Spearman vs LOO, top-100 by actual effect", "peak traced",
         "peak RSS rise (fresh process)"],
        rows,
        title=f"{args.dataset}: influence of every training example on {len(xq)} test losses",
    )
    footer()


if __name__ == "__main__":
    main()

"""Benchmark 6: mislabel detection with 10 % flipped labels - the ceiling and each detector.

What AUC can any detector reach, and how close do scrutiny's ``label_issues``
rankings get? For every setting, 10 % of the training labels are flipped at
random (one draw per seed) and each ranking is scored by its ROC AUC at
putting flipped rows first, and by the share of flipped rows found when
inspecting the top 10 % and 20 % of rows.

Settings (``--settings``):

* ``adult``: the rows of ``tests/attribution/test_labels.py`` - 2,000 rows of
  UCI Adult's training file (seed 3), 5 standardised numeric and 6 one-hot
  categorical columns (45 features), Adult's own labels;
* ``adult-full``: all 32,561 rows of Adult's training file, same encoding;
* ``adult-all``: every one of Adult's 48,842 rows (training and test files),
  all 14 feature columns; no clean rows are left for a ceiling (the
  ``adult-full`` ceiling, 11 columns, is the reference), the detectors are
  ``label_issues`` around a gradient-boosted model (native categorical
  columns, early stopping), around a one-hot logistic regression, and both;
* ``teacher``: the ``adult`` rows with labels from a logistic "teacher" fitted
  on 3,000 other rows (a setting where perfect detection is possible);
* ``compas``: 1,500 rows of COMPAS (ProPublica filter), two-year recidivism
  (needs ``../shared/data/compas``; skipped when absent).

**Ceiling.** The Bayes-optimal detector knows ``p = P(observed label | x)``
under the clean labels and ranks by ``P(flipped | x, y~) = 0.1 (1 - p) /
(0.1 (1 - p) + 0.9 p)``. ``p`` is estimated by a gradient-boosted model
(``HistGradientBoostingClassifier``, early stopping) fitted on every *other*
row of the data set with clean labels (30,561 Adult rows; 16,281 for
``adult-full``, Adult's test file; 4,672 COMPAS rows); for ``teacher`` it is
the teacher's own probability. Finite-sample oracles (the same formula with
``p`` from a model fitted on ``n`` clean held-out rows) show what the sample
size alone allows.

**Detectors** (L2 logistic regression ``C=1`` fitted on the noisy labels):
``label_issues`` with ``method="self_influence"``, ``"loo_loss"`` (the
default) and ``"oof_loss"`` (= cleanlab's self-confidence ranking, the
baseline), the ensemble ``extra_models=[HistGradientBoostingClassifier(...)]``
and the gradient-boosted model alone (out-of-fold); for information, two
variants that were tried and not kept: the rank average of self-influence and
confident learning, and one iteration (drop the top 5 % by leave-one-out
loss, refit, score again).

One BLAS / OpenMP thread (``--threads``). Run from the repository root:
``python benchmarks/bench_attribution_labels.py`` (``--quick``: 3 seeds,
``adult`` and ``teacher`` only).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import footer, header, print_table

NUMERIC = ["age", "education_num", "hours_per_week", "capital_gain", "capital_loss"]
CATEGORICAL = ["workclass", "marital_status", "occupation", "relationship", "race", "sex"]
COMPAS_NUMERIC = ["age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count"]
COMPAS_CATEGORICAL = ["c_charge_degree", "sex", "race", "age_cat"]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
NOISE = 0.10


def encode(frame: pd.DataFrame, numeric: list[str], categorical: list[str],
           fit_rows: np.ndarray) -> np.ndarray:
    """Standardised numeric and one-hot categorical columns (statistics from ``fit_rows``)."""
    num = frame[numeric].astype(float)
    mean, std = num[fit_rows].mean(), num[fit_rows].std().replace(0.0, 1.0)
    cat = pd.get_dummies(frame[categorical].astype(str), dtype=float)
    cat = cat.loc[:, cat[fit_rows].sum() > 0]
    return pd.concat([(num - mean) / std, cat], axis=1).to_numpy(dtype=float)


def adult_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    from scrutiny.datasets import load_adult

    out = []
    for split in ("train", "test"):
        df = load_adult(split=split)
        df["capital_gain"] = np.log1p(df["capital_gain"])
        df["capital_loss"] = np.log1p(df["capital_loss"])
        out.append(df)
    return out[0], out[1]


def hgb(**kw: Any) -> Any:
    """The gradient-boosted extra model (small trees, regularised: 2,000 noisy rows)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    params = {"max_iter": 100, "learning_rate": 0.1, "max_depth": 3, "min_samples_leaf": 40,
              "l2_regularization": 1.0, "random_state": 0}
    return HistGradientBoostingClassifier(**{**params, **kw})


def oracle_model() -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=500, learning_rate=0.05,
                                          early_stopping=True, random_state=0)


def settings(names: list[str]) -> list[dict[str, Any]]:
    """Each setting: training rows, clean labels, held-out clean rows (or a teacher)."""
    from sklearn.linear_model import LogisticRegression

    train, test = adult_frames()
    out = []
    order = np.random.default_rng(3).permutation(len(train))
    if {"adult", "teacher"} & set(names):
        df = train.iloc[order].reset_index(drop=True)  # the test fixture's order
        fit = np.zeros(len(df), bool)
        fit[:2000] = True
        x = encode(df, NUMERIC, CATEGORICAL, fit)
        y = df["income"].to_numpy().astype(int)
        if "adult" in names:
            out.append({"name": "adult", "x": x[fit], "y": y[fit], "x_held": x[~fit],
                        "y_held": y[~fit], "held_note": f"{(~fit).sum():,} other rows"})
        if "teacher" in names:
            teacher = LogisticRegression(max_iter=5000).fit(x[2000:5000], y[2000:5000])
            p = teacher.predict_proba(x[fit])[:, 1]
            out.append({"name": "teacher", "x": x[fit], "y": (p > 0.5).astype(int),
                        "p_clean": np.where(p > 0.5, 1.0, 0.0),
                        "held_note": "the teacher's labels are deterministic: p in {0, 1}"})
    if "adult-full" in names:
        both = pd.concat([train, test], ignore_index=True)
        fit = np.arange(len(both)) < len(train)
        x = encode(both, NUMERIC, CATEGORICAL, fit)
        y = both["income"].to_numpy().astype(int)
        out.append({"name": "adult-full", "x": x[fit], "y": y[fit], "x_held": x[~fit],
                    "y_held": y[~fit], "held_note": f"Adult's test file, {(~fit).sum():,} rows"})
    if "compas" in names:
        if not (SHARED / "compas").exists():
            print(f"compas skipped: {SHARED / 'compas'} not found")
        else:
            from scrutiny.datasets import load_compas

            df = load_compas(SHARED / "compas")
            keep = (df["days_b_screening_arrest"].between(-30, 30) & (df["is_recid"] != -1)
                    & (df["c_charge_degree"] != "O") & (df["score_text"] != "N/A"))
            df = df.loc[keep].reset_index(drop=True)
            df = df.iloc[np.random.default_rng(1).permutation(len(df))].reset_index(drop=True)
            fit = np.zeros(len(df), bool)
            fit[:1500] = True
            x = encode(df, COMPAS_NUMERIC, COMPAS_CATEGORICAL, fit)
            y = df["two_year_recid"].to_numpy().astype(int)
            out.append({"name": "compas", "x": x[fit], "y": y[fit], "x_held": x[~fit],
                        "y_held": y[~fit], "held_note": f"{(~fit).sum():,} other rows"})
    return out


def flip(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(y), int(NOISE * len(y)), replace=False)
    noisy = y.copy()
    noisy[idx] = 1 - noisy[idx]
    truth = np.zeros(len(y), bool)
    truth[idx] = True
    return noisy, truth


def found(score: np.ndarray, truth: np.ndarray, share: float) -> float:
    top = np.argsort(-score, kind="stable")[: int(share * len(score))]
    return float(truth[top].sum() / truth.sum())


def bayes_score(p_clean_pos: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """P(flipped | x, observed label) for 10 % symmetric flips."""
    p = np.where(observed == 1, p_clean_pos, 1.0 - p_clean_pos)
    return NOISE * (1 - p) / (NOISE * (1 - p) + (1 - NOISE) * p)


def all_adult() -> tuple[pd.DataFrame, np.ndarray]:
    """Every Adult row, the 14 feature columns (categorical columns as pandas categories)."""
    train, test = adult_frames()
    df = pd.concat([train, test], ignore_index=True)
    x = df.drop(columns=["income", "split", "score", "prediction"])
    for col in x.columns:
        if not pd.api.types.is_numeric_dtype(x[col]):
            x[col] = x[col].astype("category")
    return x, df["income"].to_numpy().astype(int)


def run_all_adult(seeds: range) -> list[list[str]]:
    """``adult-all``: label_issues around HGB, a one-hot logistic regression, and both."""
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from scrutiny.attribution import label_issues

    x, y = all_adult()
    categorical = [c for c in x.columns if isinstance(x[c].dtype, pd.CategoricalDtype)]
    numeric = [c for c in x.columns if c not in categorical]

    def boosted() -> Any:
        return HistGradientBoostingClassifier(max_iter=1000, learning_rate=0.05,
                                              early_stopping=True, random_state=0,
                                              categorical_features="from_dtype")

    def logistic() -> Any:
        return make_pipeline(
            make_column_transformer(
                (OneHotEncoder(handle_unknown="ignore", min_frequency=20), categorical),
                (StandardScaler(), numeric)),
            LogisticRegression(C=1.0, max_iter=10_000, tol=1e-8))

    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    for seed in seeds:
        noisy, truth = flip(y, seed)
        runs = {
            "label_issues(HGB): out-of-fold loss, 5 folds": (boosted, {}),
            "label_issues(HGB, cv=10)": (boosted, {"cv": 10}),
            "label_issues(one-hot LR): leave-one-out loss": (logistic, {}),
            "label_issues(one-hot LR, extra_models=[HGB])": (logistic,
                                                             {"extra_models": [boosted()]}),
        }
        for name, (make, kw) in runs.items():
            t0 = time.perf_counter()
            res = label_issues(make().fit(x, noisy), x, noisy, random_state=seed, **kw)
            sec = time.perf_counter() - t0
            score = res.scores[0]
            rows.setdefault(name, []).append((roc_auc_score(truth, score), found(score, truth, 0.1),
                                              found(score, truth, 0.2), sec))
            if name.endswith("5 folds"):
                cl = 1 - res.extras["label_quality"]
                rows.setdefault("confident learning (cleanlab, HGB 5-fold)", []).append(
                    (roc_auc_score(truth, cl), found(cl, truth, 0.1), found(cl, truth, 0.2),
                     float("nan")))
        print(f"  seed {seed}: " + ", ".join(f"{n.split(':')[0]} {v[-1][0]:.4f}"
                                              for n, v in rows.items()), flush=True)
    table = []
    for name, vals in rows.items():
        a = np.array(vals)
        sec = "" if np.isnan(a[:, 3]).all() else f"{np.nanmean(a[:, 3]):.1f} s (incl. fit)"
        table.append([name, f"{a[:, 0].mean():.4f} ({a[:, 0].min():.4f}-{a[:, 0].max():.4f})",
                      f"{a[:, 1].mean():.0%}", f"{a[:, 2].mean():.0%}", sec])
    return table


def run_setting(s: dict[str, Any], seeds: range, oracle_sizes: list[int]) -> list[list[str]]:
    from scipy.stats import rankdata
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from scrutiny.attribution import label_issues
    from scrutiny.attribution._linear import linear_parts

    x, y = s["x"], s["y"]
    oracles: dict[str, np.ndarray] = {}
    if "p_clean" in s:
        oracles["CEILING: Bayes-optimal (teacher's p)"] = s["p_clean"]
    else:
        t0 = time.perf_counter()
        oracles[f"CEILING: Bayes-optimal, p from HGB on {s['held_note']}"] = (
            oracle_model().fit(s["x_held"], s["y_held"]).predict_proba(x)[:, 1])
        oracles["oracle: p from logistic regression on the same other rows"] = (
            LogisticRegression(C=1.0, max_iter=10_000).fit(s["x_held"], s["y_held"])
            .predict_proba(x)[:, 1])
        for n_clean in oracle_sizes:
            if n_clean < len(s["y_held"]):
                rows = np.arange(n_clean)
                oracles[f"oracle: p from HGB on {n_clean:,} clean held-out rows"] = (
                    oracle_model().fit(s["x_held"][rows], s["y_held"][rows])
                    .predict_proba(x)[:, 1])
        print(f"  oracles fitted in {time.perf_counter() - t0:.1f} s", flush=True)
    rows: dict[str, list[tuple[float, float, float]]] = {}
    seconds: dict[str, list[float]] = {}
    flagged: list[tuple[int, float]] = []

    def add(name: str, score: np.ndarray, truth: np.ndarray, sec: float | None = None) -> None:
        rows.setdefault(name, []).append(
            (roc_auc_score(truth, score), found(score, truth, 0.1), found(score, truth, 0.2)))
        if sec is not None:
            seconds.setdefault(name, []).append(sec)

    for seed in seeds:
        noisy, truth = flip(y, seed)
        for name, p in oracles.items():
            add(name, bayes_score(p, noisy), truth)
        model = LogisticRegression(C=1.0, max_iter=10_000, tol=1e-8).fit(x, noisy)
        res = {}
        for key, kw in {
            "self_influence": {"method": "self_influence"},
            "loo_loss": {},
            "oof_loss": {"method": "oof_loss"},
            "ensemble": {"extra_models": [hgb()]},
        }.items():
            t0 = time.perf_counter()
            res[key] = label_issues(model, x, noisy, random_state=seed, **kw)
            res[key].seconds = time.perf_counter() - t0
        add("label_issues self_influence", res["self_influence"].scores[0], truth,
            res["self_influence"].seconds)
        add("label_issues loo_loss (default)", res["loo_loss"].scores[0], truth,
            res["loo_loss"].seconds)
        add("confident learning (cleanlab, LR 5-fold) = oof_loss",
            1 - res["loo_loss"].extras["label_quality"], truth, res["oof_loss"].seconds)
        add("label_issues loo_loss + extra_models=[HGB]", res["ensemble"].scores[0], truth,
            res["ensemble"].seconds)
        p_hgb = list(res["ensemble"].extras["observed_label_proba"].values())[1]
        add("HGB alone (out-of-fold)", -np.log(p_hgb), truth)
        add("not kept: rank average self-influence + cleanlab",
            rankdata(res["self_influence"].scores[0]) + rankdata(
                1 - res["loo_loss"].extras["label_quality"]), truth)
        drop = np.argsort(-res["loo_loss"].scores[0])[: int(0.05 * len(y))]
        keep = np.setdiff1d(np.arange(len(y)), drop)
        refit = LogisticRegression(C=1.0, max_iter=10_000, tol=1e-8).fit(x[keep], noisy[keep])
        p2 = refit.predict_proba(x)[np.arange(len(y)), noisy]
        parts = linear_parts(refit, x[keep], noisy[keep])
        p2[keep] = parts.loo_proba()[np.arange(len(keep)), noisy[keep]]
        add("not kept: iterated loo_loss (drop top 5 %, refit)", -np.log(p2), truth)
        issues = res["loo_loss"].extras["confident_learning_issues"]
        flagged.append((len(issues), float(truth[issues].mean()) if len(issues) else 0.0))
        print(f"  seed {seed} done", flush=True)
    table = []
    for name, vals in rows.items():
        a = np.array(vals)
        sec = f"{np.mean(seconds[name]):.2f} s" if name in seconds else ""
        table.append([name, f"{a[:, 0].mean():.3f} ({a[:, 0].min():.3f}-{a[:, 0].max():.3f})",
                      f"{a[:, 1].mean():.0%}", f"{a[:, 2].mean():.0%}", sec])
    n_flag = np.mean([f[0] for f in flagged])
    print(f"  cleanlab flags {n_flag:.0f} rows on average ({n_flag / len(y):.1%} of rows; "
          f"{NOISE:.0%} were flipped), precision {np.mean([f[1] for f in flagged]):.2f}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settings", default="adult,teacher,adult-full,adult-all,compas")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="3 seeds; adult and teacher")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.settings = 3, "adult,teacher"
    import sklearn.ensemble  # noqa: F401 - load OpenMP before limiting it
    from threadpoolctl import threadpool_limits

    if args.threads > 0:
        threadpool_limits(args.threads)
    header("Mislabel detection: Bayes ceiling and label_issues rankings (10 % flipped)", args,
           packages=("scikit-learn", "cleanlab"))
    names = args.settings.split(",")
    if "adult-all" in names:
        names.remove("adult-all")
        n_seeds = min(args.seeds, 5)
        print(f"\n## adult-all: 48,842 rows x 14 columns, {n_seeds} seeds", flush=True)
        t0 = time.perf_counter()
        table = run_all_adult(range(n_seeds))
        print_table(["ranking", "AUC mean (min-max)", "found @10 %", "found @20 %",
                     "time per call"], table, title=f"adult-all ({time.perf_counter() - t0:.0f} s)")
    for s in settings(names):
        n_seeds = min(args.seeds, 3) if s["name"] == "adult-full" else args.seeds
        print(f"\n## {s['name']}: {len(s['y']):,} rows x {s['x'].shape[1]} features, "
              f"{n_seeds} seeds", flush=True)
        t0 = time.perf_counter()
        table = run_setting(s, range(n_seeds), [2000, 8000])
        print_table(["ranking", "AUC mean (min-max)", "found @10 %", "found @20 %",
                     "time per call"], table,
                    title=f"{s['name']} ({time.perf_counter() - t0:.0f} s)")
    footer()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()

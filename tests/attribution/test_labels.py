"""Label issues: leave-one-out loss and self-influence beside confident learning (cleanlab).

Measured on the bundled UCI Adult (2,000 training rows, ``adult`` fixture),
L2 logistic regression, 10 % of labels flipped, seeds 0-4 (the full study,
10 seeds and more settings, is ``benchmarks/bench_attribution_labels.py``):

* leave-one-out loss (the default): AUC 0.911-0.929 (mean 0.922), 61 % of
  the flips found inspecting 10 % of the rows, 80 % at 20 %;
* self-influence: AUC 0.891-0.913 (mean 0.901), 57 % / 75 %;
* confident learning (cleanlab, 5-fold out-of-fold): 0.907-0.928 (mean
  0.921), 61 % / 79 %;
* leave-one-out loss + a gradient-boosted extra model (seeds 0-2): 0.920-0.941
  (mean 0.931), 64 % / 82 %.

An AUC >= 0.95 is NOT reachable on these rows: the Bayes-optimal detector,
which knows P(label | x) from a model fitted on the 30,561 other clean Adult
rows, reaches 0.949-0.961 here (``test_bayes_ceiling_on_adult_is_close_to_095``;
0.956 over 10 seeds in the benchmark); fitted on 2,000 clean rows it reaches
0.937. With labels a model can learn (a logistic "teacher") the default
reaches 0.99.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.ensemble  # noqa: F401 - loads OpenMP before the thread limit below
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from scrutiny.attribution import label_issues
from scrutiny.attribution._linear import linear_parts, self_influence
from scrutiny.attribution.evaluation import mislabel_auc
from scrutiny.exceptions import (
    DataValidationError,
    InvalidParameterError,
    MissingDependencyError,
    NotFittedError,
)

pytest.importorskip("cleanlab")

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def one_thread():
    """BLAS, OpenMP (gradient boosting) and torch on one thread: on a shared 2-core runner,
    threaded kernels on these small problems oversubscribe the cores (HistGradientBoosting
    took 7 s per fit instead of 0.1 s)."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    if before is not None:
        torch.set_num_threads(before)


def _flip(y, seed, share=0.10):
    rng = np.random.default_rng(seed)
    n = len(y)
    idx = rng.choice(n, int(share * n), replace=False)
    noisy = y.copy()
    noisy[idx] = 1 - noisy[idx]
    truth = np.zeros(n, bool)
    truth[idx] = True
    return noisy, truth


def _found(scores, truth, inspect):
    top = np.argsort(-scores, kind="stable")[: int(inspect * len(scores))]
    return truth[top].sum() / truth.sum()


def _report(name, scores, truth):
    auc = mislabel_auc(scores, truth)
    f10, f20 = _found(scores, truth, 0.10), _found(scores, truth, 0.20)
    print(f"  {name:<26} AUC {auc:.3f}   found@10% {f10:.0%}   found@20% {f20:.0%}")
    return auc, f10, f20


def _hgb():
    return HistGradientBoostingClassifier(max_iter=100, max_depth=3, min_samples_leaf=40,
                                          l2_regularization=1.0, random_state=0)


# ---------------------------------------------------------------------------
# how well it works (real data, fixed seeds)


@pytest.mark.slow
def test_adult_ten_percent_flipped_labels(adult):
    rows = []
    for seed in range(5):
        y, truth = _flip(adult.y_train, seed)
        model = LogisticRegression(C=1.0, max_iter=5000, tol=1e-8).fit(adult.X_train, y)
        res = label_issues(model, adult.X_train, y, random_state=seed)
        assert res.params["method"] == "loo_loss"
        print(f"seed {seed}:")
        loo = _report("leave-one-out loss", res.scores[0], truth)
        si = _report("self-influence", self_influence(model, adult.X_train, y), truth)
        cl = _report("confident learning", 1 - res.extras["label_quality"], truth)
        flagged = res.extras["confident_learning_issues"]
        print(f"  cleanlab flags {len(flagged)} rows, precision {truth[flagged].mean():.2f}")
        rows.append((*loo, *si, *cl))
    a = np.array(rows)
    print("mean: loo AUC {:.3f} @10% {:.0%} @20% {:.0%} | self-influence AUC {:.3f} @10% {:.0%} "
          "@20% {:.0%} | cleanlab AUC {:.3f} @10% {:.0%} @20% {:.0%}".format(*a.mean(axis=0)))
    # measured: loo 0.911-0.929 (mean 0.922), 61 % / 80 %; self-influence 0.891-0.913,
    # 57 % / 75 %; cleanlab 0.907-0.928, 61 % / 79 %. Floors with a margin:
    assert a[:, 0].min() >= 0.90 and a[:, 0].mean() >= 0.91
    assert a[:, 1].mean() >= 0.56 and a[:, 2].mean() >= 0.76
    assert a[:, 3].min() >= 0.87
    assert a[:, 6].min() >= 0.89
    assert a[:, 7].mean() >= 0.56 and a[:, 8].mean() >= 0.75
    # the default beats plain self-influence on every seed, and matches confident learning
    assert np.all(a[:, 0] > a[:, 3])
    assert a[:, 0].mean() >= a[:, 6].mean() - 0.005


@pytest.mark.slow
def test_extra_model_ensemble_ranks_better_than_either_alone(adult):
    rows = []
    for seed in range(3):
        y, truth = _flip(adult.y_train, seed)
        model = LogisticRegression(C=1.0, max_iter=5000, tol=1e-8).fit(adult.X_train, y)
        res = label_issues(model, adult.X_train, y, random_state=seed, extra_models=[_hgb()])
        assert res.method == "label_issues:loo_loss+ensemble"
        probs = res.extras["observed_label_proba"]
        assert list(probs) == ["LogisticRegression (leave-one-out)",
                               "HistGradientBoostingClassifier (out-of-fold)"]
        np.testing.assert_allclose(res.scores[0], -np.log(np.mean(list(probs.values()), 0)))
        print(f"seed {seed}:")
        ens = _report("LOO loss + gradient boosting", res.scores[0], truth)
        lr = _report("LOO loss alone", -np.log(probs["LogisticRegression (leave-one-out)"]),
                     truth)
        rows.append((*ens, lr[0]))
    a = np.array(rows)
    # measured: 0.920-0.941 (mean 0.931), 64 % / 82 %; LOO alone 0.911-0.929 (mean 0.921)
    assert a[:, 0].min() >= 0.91 and a[:, 0].mean() >= 0.92
    assert a[:, 1].mean() >= 0.60 and a[:, 2].mean() >= 0.79
    assert a[:, 0].mean() >= a[:, 3].mean() + 0.004


@pytest.mark.slow
def test_bayes_ceiling_on_adult_is_close_to_095(adult):
    """The best any detector can do on these rows, with P(label | x) known from other rows."""
    from scrutiny.datasets import load_adult as read_adult

    from .conftest import _encode

    df = read_adult(split="train")
    df["capital_gain"] = np.log1p(df["capital_gain"])
    df["capital_loss"] = np.log1p(df["capital_loss"])
    df = df.iloc[np.random.default_rng(3).permutation(len(df))].reset_index(drop=True)
    numeric = ["age", "education_num", "hours_per_week", "capital_gain", "capital_loss"]
    categorical = ["workclass", "marital_status", "occupation", "relationship", "race", "sex"]
    train = np.arange(len(df)) < 2000
    x, _ = _encode(df, numeric, categorical, train)
    y = df["income"].to_numpy()
    np.testing.assert_array_equal(x[train], adult.X_train)  # the fixture's rows
    oracle = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.1,
                                            early_stopping=True, random_state=0)
    p_pos = oracle.fit(x[~train], y[~train]).predict_proba(x[train])[:, 1]
    aucs = []
    for seed in range(5):
        noisy, truth = _flip(adult.y_train, seed)
        p_obs = np.where(noisy == 1, p_pos, 1 - p_pos)
        bayes = 0.1 * (1 - p_obs) / (0.1 * (1 - p_obs) + 0.9 * p_obs)
        aucs.append(_report(f"Bayes-optimal, seed {seed}", bayes, truth)[0])
    # measured 0.949-0.961, mean 0.954 (benchmark: 0.956 over 10 seeds): 0.95 is the ceiling
    assert 0.94 <= np.mean(aucs) <= 0.97


@pytest.mark.slow
def test_all_of_adult_with_gradient_boosting_reaches_the_ceiling_band():
    """Every Adult row (48,842) and column, 10 % flipped: the target band is reached.

    With all rows, a flexible model's out-of-fold probabilities come close to
    the Bayes ceiling (0.951 on Adult's training file): ``label_issues`` around
    a gradient-boosted model ranks the flips with AUC near 0.95. Seeds 0 and 3
    are the best and worst of the benchmark's five (``adult-all``).
    """
    import pandas as pd

    from scrutiny.datasets import load_adult as read_adult

    df = read_adult(split="all")
    x = df.drop(columns=["income", "split", "score", "prediction"])
    for col in x.columns:
        if not pd.api.types.is_numeric_dtype(x[col]):
            x[col] = x[col].astype("category")
    y0 = df["income"].to_numpy().astype(int)
    rows = []
    for seed in (0, 3):
        y, truth = _flip(y0, seed)
        model = HistGradientBoostingClassifier(
            max_iter=1000, learning_rate=0.05, early_stopping=True, random_state=0,
            categorical_features="from_dtype").fit(x, y)
        res = label_issues(model, x, y, random_state=seed)
        assert res.params["method"] == "oof_loss"  # the stated proxy for a non-convex model
        print(f"seed {seed}:")
        rows.append(_report("gradient boosting, OOF loss", res.scores[0], truth))
        # confident learning scores the same out-of-fold probabilities: the same ranking
        np.testing.assert_allclose(res.scores[0], -np.log(res.extras["label_quality"]),
                                   rtol=1e-9)
    a = np.array(rows)
    # measured: seed 0 AUC 0.9504, seed 3 0.9473 (benchmark, seeds 0-4: 0.9473-0.9519, mean
    # 0.9496; 69 % / 87 % found), against 0.930 for a one-hot logistic regression's
    # leave-one-out loss on the same rows. Floors with a margin:
    assert a[:, 0].min() >= 0.945 and a[:, 0].mean() >= 0.947
    assert a[:, 1].mean() >= 0.66 and a[:, 2].mean() >= 0.85


@pytest.mark.slow
def test_leave_one_out_loss_reaches_095_when_labels_are_learnable(adult):
    teacher = LogisticRegression(max_iter=5000).fit(adult.X_test, adult.y_test)
    clean = teacher.predict(adult.X_train)
    rows = []
    for seed in range(2):
        y, truth = _flip(clean, seed)
        model = LogisticRegression(C=1.0, max_iter=5000, tol=1e-8).fit(adult.X_train, y)
        res = label_issues(model, adult.X_train, y, random_state=seed)
        print(f"seed {seed}:")
        rows.append(_report("leave-one-out loss", res.scores[0], truth))
        _report("confident learning", 1 - res.extras["label_quality"], truth)
    a = np.array(rows)
    # measured: AUC 0.991-0.993, 86-87 % / 98-100 % (10 % of rows = all the flips at best)
    assert a[:, 0].min() >= 0.98
    assert a[:, 1].mean() >= 0.80 and a[:, 2].mean() >= 0.95


# ---------------------------------------------------------------------------
# what the scores are


def test_leave_one_out_loss_matches_refitting_without_the_row(adult):
    x, y = adult.X_train[:400], adult.y_train[:400]
    model = LogisticRegression(max_iter=10_000, tol=1e-10).fit(x, y)
    parts = linear_parts(model, x, y)
    loo, in_sample = parts.loo_loss(), parts.loss(x, y)
    for i in [*np.argsort(-loo)[:3].tolist(), 0, 1]:
        keep = np.arange(len(y)) != i
        refit = LogisticRegression(max_iter=10_000, tol=1e-10).fit(x[keep], y[keep])
        actual = -np.log(refit.predict_proba(x[i:i + 1])[0, int(y[i])])
        # measured: within 2 % of the refit; the in-sample loss is off by up to 40 %
        assert loo[i] == pytest.approx(actual, rel=0.05)
        assert abs(loo[i] - actual) < 0.2 * abs(in_sample[i] - actual) + 1e-4
    res = label_issues(model, x, y, random_state=0)
    np.testing.assert_allclose(res.scores[0], loo, rtol=1e-6)
    np.testing.assert_allclose(np.exp(-loo), parts.loo_proba()[np.arange(400), y], rtol=1e-6)


def test_leave_one_out_loss_multinomial(compas_multiclass):
    x, y = compas_multiclass.X_train[:300], compas_multiclass.y_train[:300]
    model = LogisticRegression(max_iter=10_000, tol=1e-10).fit(x, y)
    res = label_issues(model, x, y, random_state=0, cv=3)
    assert res.params["method"] == "loo_loss"
    i = int(res.extras["ranking"][0])
    keep = np.arange(len(y)) != i
    refit = LogisticRegression(max_iter=10_000, tol=1e-10).fit(x[keep], y[keep])
    actual = -np.log(refit.predict_proba(x[i:i + 1])[0, list(refit.classes_).index(y[i])])
    assert res.scores[0, i] == pytest.approx(actual, rel=0.05)


def test_self_influence_is_the_linear_modules_and_cleanlab_sits_beside_it(adult):
    x, y = adult.X_train[:600], adult.y_train[:600]
    model = LogisticRegression(max_iter=2000).fit(x, y)
    res = label_issues(model, x, y, method="self_influence", random_state=0, top_k=7)
    np.testing.assert_allclose(res.scores[0], self_influence(model, x, y))
    assert res.method == "label_issues:self_influence"
    assert res.extras["ranking"][0] == int(np.argmax(res.scores[0]))
    side = res.extras["side_by_side"]
    assert len(side) == 7 and {"self_influence_index", "confident_learning_index",
                               "label_quality", "suggested_label"} <= set(side[0])
    quality = res.extras["label_quality"]
    assert quality.shape == (600,) and quality.min() >= 0 and quality.max() <= 1
    flagged = res.extras["confident_learning_issues"]
    assert np.all(np.diff(quality[flagged]) >= -1e-12)  # ranked most severe first
    assert res.findings[0]["kind"] == "label_issue"
    assert res.findings[0]["count"] == len(flagged)
    assert any("cleanlab" in n for n in res.notes)
    res.to_json()


def test_oof_loss_is_confident_learnings_ranking(adult):
    x, y = adult.X_train[:400], adult.y_train[:400]
    model = LogisticRegression(max_iter=2000).fit(x, y)
    res = label_issues(model, x, y, method="oof_loss", random_state=0)
    # binary self-confidence is p(observed label): the same order as -log of it
    np.testing.assert_allclose(res.scores[0], -np.log(res.extras["label_quality"]), rtol=1e-9)


def test_pred_probs_replace_the_cross_validation(adult, monkeypatch):
    from cleanlab.rank import get_label_quality_scores

    from scrutiny.attribution import _labels

    x, y = adult.X_train[:300], adult.y_train[:300]
    model = LogisticRegression(max_iter=2000).fit(x, y)
    probs = np.random.default_rng(0).dirichlet([2, 2], size=300)
    monkeypatch.setattr(_labels, "_oof_proba", lambda *a, **k: pytest.fail("refitted"))
    res = label_issues(model, x, y, pred_probs=probs, method="oof_loss")
    np.testing.assert_allclose(res.extras["label_quality"],
                               get_label_quality_scores(y, probs, method="self_confidence"))
    np.testing.assert_allclose(res.scores[0], -np.log(probs[np.arange(300), y]))
    assert res.params["pred_probs"] == "pred_probs (given)"
    with pytest.raises(DataValidationError, match="one column per class"):
        label_issues(model, x, y, pred_probs=probs[:, :1])
    with pytest.raises(DataValidationError, match="sum to 1"):
        label_issues(model, x, y, pred_probs=probs * 2)


def test_nonlinear_model_falls_back_to_a_stated_proxy(adult):
    x, y = adult.X_train[:400], adult.y_train[:400]
    forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(x, y)
    res = label_issues(forest, x, y, random_state=0)
    assert res.params["method"] == "oof_loss"
    assert any("proxy" in n and "RandomForestClassifier" in n for n in res.notes)
    assert np.all(res.scores >= 0)


def test_pipeline_with_linear_last_step_gets_exact_scores(adult):
    x, y = adult.X_train[:400], adult.y_train[:400]
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x, y)
    for method in ("loo_loss", "self_influence"):
        res = label_issues(pipe, x, y, random_state=0, cv=3, method=method)
        assert res.params["method"] == method
        assert any("Pipeline" in n for n in res.notes)


def test_label_issues_bad_input(adult):
    x, y = adult.X_train[:200], adult.y_train[:200]
    model = LogisticRegression().fit(x, y)
    with pytest.raises(InvalidParameterError, match=r"'method'.*loo_loss"):
        label_issues(model, x, y, method="confident")
    with pytest.raises(InvalidParameterError, match="'cv'"):
        label_issues(model, x, y, cv=1)
    with pytest.raises(InvalidParameterError, match="'top_k'"):
        label_issues(model, x, y, top_k=0)
    with pytest.raises(InvalidParameterError, match="'torch_method'"):
        label_issues(model, x, y, torch_method="grad_cos")
    with pytest.raises(InvalidParameterError, match="torch_options only apply"):
        label_issues(model, x, y, torch_options={"proj_dim": 8})
    with pytest.raises(InvalidParameterError, match="extra_models averages"):
        label_issues(model, x, y, method="self_influence", extra_models=[_hgb()])
    with pytest.raises(InvalidParameterError, match="'extra_models'"):
        label_issues(model, x, y, extra_models=_hgb())
    with pytest.raises(InvalidParameterError, match="LinearRegression has no predict_proba"):
        label_issues(model, x, y, extra_models=[LinearRegression()])
    with pytest.raises(NotFittedError, match="not fitted"):
        label_issues(LogisticRegression(), x, y)
    with pytest.raises(InvalidParameterError, match="predict_proba"):
        label_issues(SVC().fit(x, y), x, y)
    with pytest.raises(InvalidParameterError, match="predict_proba"):
        label_issues(LinearRegression().fit(x, y), x, y)
    with pytest.raises(DataValidationError, match="rows"):
        label_issues(model, x, y[:150])
    with pytest.raises(DataValidationError, match="not fitted on"):
        label_issues(model, x, y + 3)
    few = y.copy()
    few[:] = 0
    few[:2] = 1
    with pytest.raises(DataValidationError, match="rarest class"):
        label_issues(LogisticRegression().fit(x, few), x, few)


def test_missing_cleanlab_names_the_extra(adult, monkeypatch):
    import sys

    x, y = adult.X_train[:100], adult.y_train[:100]
    monkeypatch.setitem(sys.modules, "cleanlab", None)
    monkeypatch.setitem(sys.modules, "cleanlab.filter", None)
    with pytest.raises(MissingDependencyError, match=r"scrutiny\[attribution\]"):
        label_issues(LogisticRegression().fit(x, y), x, y)


# ---------------------------------------------------------------------------
# PyTorch models: self-influence of an MLP on digits with flipped labels


requires_torch = pytest.mark.skipif(
    torch is None, reason="torch is not installed: pip install 'scrutiny[torch]'")


def _flip_digits(y, seed):
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(y), len(y) // 10, replace=False)
    noisy = y.copy()
    noisy[idx] = (noisy[idx] + rng.integers(1, 10, len(idx))) % 10  # another class
    truth = np.zeros(len(y), bool)
    truth[idx] = True
    return noisy, truth


@requires_torch
@pytest.mark.slow
def test_torch_self_influence_finds_flipped_digits():
    from ._digits import (
        EPOCHS,
        LR,
        as_module,
        digits_split,
        probabilities,
        train_batch,
    )

    x, y0, _, _ = digits_split()
    rows = []
    for seed in range(2):
        y, truth = _flip_digits(y0, seed)
        ens, ckpts = train_batch(x, y, np.ones((10, len(y)), bool), seed=7 + seed,
                                 checkpoint_every=EPOCHS // 5)
        models = [as_module(ens, b) for b in range(10)]
        folds = np.random.default_rng(seed).permutation(len(y)) % 5
        oof_models, _ = train_batch(x, y, np.stack([folds != f for f in range(5)]),
                                    seed=100 + seed)
        oof = probabilities(oof_models, x)[folds, np.arange(len(y))]
        print(f"seed {seed}:")
        res = label_issues(models[0], x, y, pred_probs=oof)
        assert res.method == "label_issues:self_influence"
        assert res.params["torch_method"] == "trak"
        assert res.params["pred_probs"] == "pred_probs (given)"
        trak1 = _report("trak, 1 model", res.scores[0], truth)
        cl = _report("cleanlab (out-of-fold)", 1 - res.extras["label_quality"], truth)
        trak10 = _report("trak, 10 models",
                         label_issues(models, x, y).scores[0], truth)
        ckpt = [as_module(c, 0).state_dict() for c in ckpts]
        tracin = label_issues(models[0], x, y, torch_method="tracin",
                              torch_options={"checkpoints": ckpt, "learning_rates": LR})
        assert tracin.params["torch_learning_rates"] == [LR] * 5
        tr = _report("tracin, 5 checkpoints", tracin.scores[0], truth)
        gd = label_issues(models[0], x, y, torch_method="grad_dot")
        assert any("in-sample probabilities" in n for n in gd.notes)
        g = _report("grad_dot", gd.scores[0], truth)
        rows.append((*trak1, trak10[0], tr[0], g[0], cl[0]))
    a = np.array(rows)
    # measured (seeds 0-1): trak 1 model 0.993-0.994, 10 models 0.993-0.996, tracin
    # 0.991-0.994, grad_dot 0.988-0.991, cleanlab out-of-fold 0.984-0.994; trak finds 86 %
    # of the flips in its top 10 % (as many rows as flips) and 100 % in its top 20 %
    assert a[:, 0].min() >= 0.97 and a[:, 3].min() >= 0.97
    assert a[:, 4].min() >= 0.96 and a[:, 5].min() >= 0.96
    assert a[:, 1].mean() >= 0.80 and a[:, 2].mean() >= 0.95


@requires_torch
def test_torch_label_issues_bad_input():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    x = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    y = np.arange(30) % 3
    with pytest.raises(InvalidParameterError, match="method='self_influence'"):
        label_issues(net, x, y, method="loo_loss")
    with pytest.raises(InvalidParameterError, match="extra_models applies"):
        label_issues(net, x, y, extra_models=[_hgb()])
    with pytest.raises(InvalidParameterError, match="cross_entropy"):
        label_issues(net, x, y, torch_options={"loss": "mse"})
    with pytest.raises(InvalidParameterError, match="concern queries"):
        label_issues(net, x, y, torch_options={"top_k": 5})
    with pytest.raises(InvalidParameterError, match=r"Unknown option.*proj_dimm"):
        label_issues(net, x, y, torch_options={"proj_dimm": 5})
    with pytest.raises(DataValidationError, match="class indices in"):
        label_issues(net, x, y + 3)
    with pytest.raises(DataValidationError, match="shape"):
        label_issues(net, x, y, pred_probs=np.full((30, 2), 0.5))
    res = label_issues(net, x, y, torch_method="grad_dot", top_k=4)
    assert res.scores.shape == (1, 30) and len(res.extras["side_by_side"]) == 4
    res.to_json()

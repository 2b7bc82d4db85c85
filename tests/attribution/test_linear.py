"""Exact attribution for convex scikit-learn models (``scrutiny.attribution._linear``).

Unit tests check every derivative against finite differences and every
objective against scikit-learn's own optimum; validity tests (``slow``) compare
``influence`` and ``newton`` with actual retraining on real data (German
credit, COMPAS, Adult).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.cluster import KMeans
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from scrutiny.attribution import applicable_methods, attribute
from scrutiny.attribution._linear import (
    linear_parts,
    per_example_loss,
    self_influence,
    unsupported_reason,
)
from scrutiny.exceptions import DataValidationError, InvalidParameterError, NotFittedError


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """These matrices are small: threads only add contention on a busy 2-core machine."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


# --------------------------------------------------------------------------- synthetic data

RNG = np.random.default_rng(0)
N, D = 120, 4
X = RNG.normal(size=(N, D))
_W = RNG.normal(size=D)
Y_BIN = (X @ _W + RNG.normal(size=N) > 0).astype(int)
Y_MULTI = np.array(["a", "b", "c"])[np.digitize(X @ _W + RNG.normal(size=N), [-0.8, 0.8])]
Y_REG = X @ _W + RNG.normal(size=N)
Y_REG2 = np.column_stack([Y_REG, X @ RNG.normal(size=D) + RNG.normal(size=N)])
SW = RNG.uniform(0.5, 2.0, size=N)

TIGHT = {"tol": 1e-12, "max_iter": 100_000}

#: (id, estimator factory, y, sample_weight, exact optimum expected)
CASES = [
    ("lr_binary", lambda: LogisticRegression(C=0.7, **TIGHT), Y_BIN, None, True),
    ("lr_multinomial", lambda: LogisticRegression(C=0.7, **TIGHT), Y_MULTI, None, True),
    ("lr_weighted", lambda: LogisticRegression(C=2.0, **TIGHT), Y_MULTI, SW, True),
    ("lr_balanced", lambda: LogisticRegression(class_weight="balanced", **TIGHT), Y_BIN, None,
     True),
    ("lr_liblinear", lambda: LogisticRegression(solver="liblinear", intercept_scaling=2.0,
                                                **TIGHT), Y_BIN, None, True),
    ("lr_no_intercept", lambda: LogisticRegression(fit_intercept=False, **TIGHT), Y_MULTI, None,
     True),
    ("ridge", lambda: Ridge(alpha=3.0), Y_REG, SW, True),
    ("ridge_2_targets", lambda: Ridge(alpha=np.array([1.0, 5.0])), Y_REG2, None, True),
    ("linear_regression", LinearRegression, Y_REG, None, True),
    ("sgd_log", lambda: SGDClassifier(loss="log_loss", alpha=0.01, random_state=0), Y_BIN, None,
     False),
    ("sgd_hinge_ovr", lambda: SGDClassifier(alpha=0.01, random_state=0), Y_MULTI, None, False),
    ("sgd_modified_huber", lambda: SGDClassifier(loss="modified_huber", random_state=0), Y_BIN,
     None, False),
    ("svc_squared_hinge", lambda: LinearSVC(C=0.5, tol=1e-12, max_iter=1_000_000), Y_BIN, None,
     True),
    ("svc_hinge", lambda: LinearSVC(C=0.5, loss="hinge", max_iter=100_000), Y_MULTI, None, False),
]
IDS = [c[0] for c in CASES]


@pytest.fixture(scope="module", params=CASES, ids=IDS)
def fitted(request):
    _, make, y, sw, exact = request.param
    model = make().fit(X, y, sample_weight=sw)
    return model, y, sw, exact


def _fd_grad(f, theta, eps=1e-6):
    cols = []
    for j in range(len(theta)):
        e = np.zeros_like(theta)
        e[j] = eps
        cols.append((f(theta + e) - f(theta - e)) / (2 * eps))
    return np.stack(cols, axis=-1)


# --------------------------------------------------------------------------- derivatives


def test_grads_match_finite_differences(fitted):
    model, y, sw, _ = fitted
    parts = linear_parts(model, X, y, sw)
    rows = slice(0, 9)
    analytic = parts.grads(X[rows], y[rows])
    numeric = _fd_grad(lambda th: parts.loss(X[rows], y[rows], th), parts.theta)
    assert analytic.shape == (9, parts.n_params)
    np.testing.assert_allclose(analytic, numeric, atol=1e-6)


def test_hessian_matches_jacobian_of_gradients(fitted):
    model, y, sw, _ = fitted
    parts = linear_parts(model, X, y, sw)
    hess = parts.hessian()
    numeric = _fd_grad(parts.objective_grad, parts.theta)
    np.testing.assert_allclose(hess, numeric, atol=1e-6 * np.abs(hess).max())
    np.testing.assert_allclose(hess, hess.T)


def test_objective_gradient_matches_finite_differences(fitted):
    model, y, sw, _ = fitted
    parts = linear_parts(model, X, y, sw)
    numeric = _fd_grad(lambda th: np.array(parts.objective(th)), parts.theta)
    np.testing.assert_allclose(parts.objective_grad(), numeric, atol=1e-5)


@pytest.mark.parametrize("case", [c for c in CASES if c[4]], ids=[c[0] for c in CASES if c[4]])
def test_objective_is_the_one_sklearn_minimises(case):
    # at scikit-learn's solution the gradient of our objective vanishes (SGD and the true
    # hinge are left out: stochastic / smoothed fits are not at the exact optimum by design)
    _, make, y, sw, _ = case
    model = make().fit(X, y, sample_weight=sw)
    parts = linear_parts(model, X, y, sw)
    assert parts.optimality_gap() < 1e-5


def test_decision_and_proba_match_the_model(fitted):
    model, *_ = fitted
    parts = linear_parts(model, X, fitted[1], fitted[2])
    expected = model.decision_function(X) if hasattr(model, "decision_function") else \
        model.predict(X)
    np.testing.assert_allclose(parts.decision(X), expected, atol=1e-12)
    if hasattr(model, "predict_proba") and getattr(model, "loss", "log_loss") == "log_loss":
        np.testing.assert_allclose(parts.predict_proba(X), model.predict_proba(X), atol=1e-10)


def test_train_grads_are_weighted_loss_grads():
    model = LogisticRegression(C=0.3, **TIGHT).fit(X, Y_BIN, sample_weight=SW)
    parts = linear_parts(model, X, Y_BIN, SW)
    np.testing.assert_allclose(parts.train_grads(), 0.3 * SW[:, None] * parts.grads(X, Y_BIN))
    # at the optimum: Σ_i t_i + penalty gradient = 0
    reg = np.r_[np.ones(D), 0.0]
    np.testing.assert_allclose(parts.train_grads().sum(0) + reg * parts.theta, 0, atol=1e-8)


def test_solve_inverts_the_hessian():
    model = LogisticRegression(C=1.0, **TIGHT).fit(X, Y_MULTI)
    parts = linear_parts(model, X, Y_MULTI)
    g = parts.grads(X[:5], Y_MULTI[:5]).T
    # the softmax intercept shift is a null direction: H·solve(v) = v on gradients
    np.testing.assert_allclose(parts.hessian() @ parts.solve(g), g, atol=1e-9)
    damped = linear_parts(model, X, Y_MULTI, damping=0.5)
    assert damped.damping == 0.5
    assert not np.allclose(damped.solve(g), parts.solve(g))


def test_per_example_loss_is_sklearn_log_loss():
    from sklearn.metrics import log_loss

    model = LogisticRegression().fit(X, Y_MULTI)
    loss = per_example_loss(model, X, Y_MULTI)
    assert loss.shape == (N,)
    assert loss.mean() == pytest.approx(log_loss(Y_MULTI, model.predict_proba(X)), rel=1e-10)


def test_grads_from_outputs_builds_custom_targets():
    model = LogisticRegression().fit(X, Y_BIN)
    parts = linear_parts(model, X, Y_BIN)
    p = model.predict_proba(X)[:, 1]
    # gradient of the mean predicted probability (a selection-rate-like target)
    g = parts.grads_from_outputs(X, p * (1 - p) / N).sum(0)
    numeric = _fd_grad(lambda th: np.array(parts.predict_proba(X, th)[:, 1].mean()), parts.theta)
    np.testing.assert_allclose(g, numeric, atol=1e-8)


# --------------------------------------------------------------------------- methods (small data)


def _loo_truth(model, y, idx, xq, yq):
    base = per_example_loss(model, xq, yq)
    out = []
    for i in idx:
        keep = np.ones(N, dtype=bool)
        keep[i] = False
        refit = LogisticRegression(C=model.C, **TIGHT).fit(X[keep], y[keep])
        out.append(per_example_loss(refit, xq, yq) - base)
    return np.array(out).T


def test_influence_matches_brute_force_leave_one_out():
    model = LogisticRegression(C=1.0, **TIGHT).fit(X, Y_BIN)
    res = attribute(model, X, Y_BIN, X[:2], Y_BIN[:2], method="influence")
    assert res.scores.shape == (2, N)
    idx = np.argsort(-np.abs(res.scores[0]))[:25]
    truth = _loo_truth(model, Y_BIN, idx, X[:2], Y_BIN[:2])
    assert spearmanr(res.scores[0, idx], truth[0]).statistic > 0.97
    # sign convention: removing an example that helped raises the loss
    assert np.mean(np.sign(res.scores[0, idx]) == np.sign(truth[0])) > 0.95


def test_newton_is_exact_for_ridge():
    model = Ridge(alpha=2.0).fit(X, Y_REG)
    new = attribute(model, X, Y_REG, X[:3], Y_REG[:3], method="newton")
    ret = attribute(model, X, Y_REG, X[:3], Y_REG[:3], method="retrain")
    np.testing.assert_allclose(new.scores, ret.scores, atol=1e-9)
    groups = [np.arange(10), np.arange(50, 70)]
    new_g = attribute(model, X, Y_REG, X[:3], Y_REG[:3], method="newton", groups=groups)
    ret_g = attribute(model, X, Y_REG, X[:3], Y_REG[:3], method="retrain", groups=groups)
    np.testing.assert_allclose(new_g.scores, ret_g.scores, atol=1e-9)


def test_newton_woodbury_matches_direct_steps():
    model = LogisticRegression(C=1.0, **TIGHT).fit(X, Y_MULTI, sample_weight=SW)
    parts = linear_parts(model, X, Y_MULTI, SW)
    idx = np.arange(0, N, 7)
    np.testing.assert_allclose(parts.newton_loo_steps(idx),
                               parts.newton_steps([np.array([i]) for i in idx]), atol=1e-10)


def test_retrain_newton_solver_matches_sklearn_refit():
    model = LogisticRegression(C=1.0, **TIGHT).fit(X, Y_MULTI)
    parts = linear_parts(model, X, Y_MULTI)
    keep = np.ones(N, dtype=bool)
    keep[[3, 17, 40]] = False
    ours = parts.retrain(mask=keep, solver="newton")
    theirs = parts.retrain(mask=keep)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-7)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-8)
    # weights=0 removes the rows
    w = np.where(keep, 1.0, 0.0)
    np.testing.assert_allclose(parts.retrain(weights=w).coef_, theirs.coef_, atol=1e-9)


def test_sgd_newton_retrain_respects_mean_loss_normalisation():
    model = SGDClassifier(loss="log_loss", alpha=0.05, random_state=0).fit(X, Y_BIN)
    parts = linear_parts(model, X, Y_BIN)
    exact = parts.newton_refit(parts.sample_weight, np.ones(N, dtype=bool))
    # a LogisticRegression with C = 1 / (n · alpha) has the same optimum
    lr = LogisticRegression(C=1.0 / (N * 0.05), **TIGHT).fit(X, Y_BIN)
    np.testing.assert_allclose(exact, np.r_[lr.coef_.ravel(), lr.intercept_], atol=1e-7)
    # and the predicted LOO shift includes the change of 1/n
    drop = np.ones(N, dtype=bool)
    drop[5] = False
    shift = parts.newton_refit(parts.sample_weight, drop) - exact
    lin = linear_parts(model, X, Y_BIN)
    lin.theta = exact  # evaluate derivatives at the exact optimum
    np.testing.assert_allclose(lin.solve(lin.train_grads(np.array([5])).T).ravel(), shift,
                               atol=0.05 * np.abs(shift).max())


def test_group_influence_is_the_sum_of_member_influences():
    model = LogisticRegression(**TIGHT).fit(X, Y_BIN)
    single = attribute(model, X, Y_BIN, X[:4], Y_BIN[:4], method="influence")
    groups = [np.arange(0, 10), np.arange(30, 33)]
    mask = np.zeros((2, N), dtype=bool)
    mask[0, :10] = True
    mask[1, 30:33] = True
    by_idx = attribute(model, X, Y_BIN, X[:4], Y_BIN[:4], method="influence", groups=groups)
    by_mask = attribute(model, X, Y_BIN, X[:4], Y_BIN[:4], method="influence", groups=mask)
    assert by_idx.scores.shape == (4, 2)
    np.testing.assert_allclose(by_idx.scores, by_mask.scores)
    np.testing.assert_allclose(by_idx.scores[:, 0], single.scores[:, :10].sum(1))
    assert by_idx.params["groups"] == 2


def test_top_k_in_chunks_equals_the_full_matrix():
    model = LogisticRegression(**TIGHT).fit(X, Y_MULTI)
    full = attribute(model, X, Y_MULTI, X[:9], Y_MULTI[:9], method="influence")
    top = attribute(model, X, Y_MULTI, X[:9], Y_MULTI[:9], method="influence", top_k=5,
                    chunk_size=2)
    assert top.scores is None
    assert top.top_indices.shape == (9, 5)
    for q in range(9):
        expected = set(np.argsort(-np.abs(full.scores[q]))[:5])
        assert set(top.top_indices[q]) == expected
        assert np.all(np.diff(top.top_scores[q]) <= 0)
        np.testing.assert_allclose(top.top_scores[q], full.scores[q, top.top_indices[q]])
    assert top.top(0, k=2) == [(int(i), float(s)) for i, s in
                               zip(top.top_indices[0], top.top_scores[0], strict=True)
                               if s > 0][:2]


def test_mean_loss_target_is_the_mean_of_query_rows():
    model = LogisticRegression(**TIGHT).fit(X, Y_BIN)
    rows = attribute(model, X, Y_BIN, X[:6], Y_BIN[:6], method="influence")
    mean = attribute(model, X, Y_BIN, X[:6], Y_BIN[:6], method="influence", target="mean_loss")
    assert mean.scores.shape == (1, N)
    np.testing.assert_allclose(mean.scores[0], rows.scores.mean(0))
    newton = attribute(model, X, Y_BIN, X[:6], Y_BIN[:6], method="newton", target="mean_loss",
                       groups=[np.arange(5)])
    assert newton.scores.shape == (1, 1)


def test_self_influence_is_the_diagonal_of_train_on_train_influence():
    model = LogisticRegression(**TIGHT).fit(X, Y_BIN)
    si = self_influence(model, X, Y_BIN)
    full = attribute(model, X, Y_BIN, X, Y_BIN, method="influence")
    np.testing.assert_allclose(si, np.diag(full.scores))
    assert np.all(si > 0)  # removing an example always raises its own loss


def test_retrain_subset_and_provenance():
    model = LogisticRegression(C=0.5, random_state=3, **TIGHT).fit(X, Y_BIN)
    res = attribute(model, X, Y_BIN, X[:2], Y_BIN[:2], method="retrain", subset=[4, 1, 4])
    assert res.scores.shape == (2, N)
    assert np.isfinite(res.scores[:, [1, 4]]).all()
    assert np.isnan(res.scores[:, 0]).all()
    assert res.extras["retrained"] == 2
    assert res.params["solver"] == "model"
    assert res.seed == 3
    assert res.seconds > 0
    assert any("newton-cholesky" in n for n in res.notes)
    assert res.top(0, k=1)[0][0] in (1, 4)


@pytest.mark.parametrize("method", ["influence", "newton", "retrain"])
def test_every_result_carries_provenance(method):
    model = LogisticRegression(C=0.5, **TIGHT).fit(X, Y_BIN)
    res = attribute(model, X, Y_BIN, X[:2], Y_BIN[:2], method=method)
    assert res.method == method
    assert res.params["C"] == 0.5
    assert res.params["damping"] == 0.0
    assert res.params["objective"].startswith("C·Σ")
    assert res.seconds > 0
    assert res.notes and res.notes[0].startswith("Objective (LogisticRegression)")
    assert "optimality_gap" in res.extras or method == "retrain"
    res.to_json()  # serialisable


def test_hinge_models_say_they_are_smoothed():
    model = LinearSVC(loss="hinge", max_iter=100_000).fit(X, Y_BIN)
    res = attribute(model, X, Y_BIN, X[:2], Y_BIN[:2], method="influence", smoothing=0.05)
    assert res.params["smoothing"] == 0.05
    assert any("softplus-smoothed hinge" in n for n in res.notes)


def test_singular_hessian_gets_auto_damping_with_a_note():
    onehot = np.eye(3)[RNG.integers(0, 3, size=N)]
    x = np.hstack([X, onehot])  # one-hot columns + intercept are collinear
    model = LinearRegression().fit(x, Y_REG)
    res = attribute(model, x, Y_REG, x[:2], Y_REG[:2], method="influence")
    assert res.params["damping_source"] == "auto"
    assert res.params["damping"] > 0
    assert any("singular" in n for n in res.notes)
    ret = attribute(model, x, Y_REG, x[:2], Y_REG[:2], method="retrain", subset=np.arange(20))
    assert spearmanr(res.scores[0, :20], ret.scores[0, :20]).statistic > 0.99


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_unconverged_model_gets_a_warning_note():
    model = LogisticRegression(max_iter=2, tol=1e-1).fit(X, Y_BIN)
    res = attribute(model, X, Y_BIN, X[:1], Y_BIN[:1], method="influence")
    assert any("not at the optimum" in n for n in res.notes)


def test_dataframe_inputs_are_accepted():
    pd = pytest.importorskip("pandas")
    model = LogisticRegression().fit(X, Y_BIN)
    frame = pd.DataFrame(X, columns=list("abcd"))
    res = attribute(model, frame, pd.Series(Y_BIN), frame.iloc[:2], Y_BIN[:2])
    assert res.method == "influence"  # "auto" picks influence for a convex model


# --------------------------------------------------------------------------- bad input


def test_unfitted_model_is_a_clear_error():
    with pytest.raises(NotFittedError, match="not fitted"):
        attribute(LogisticRegression(), X, Y_BIN, X[:2], Y_BIN[:2], method="influence")
    with pytest.raises(NotFittedError, match="not fitted"):
        linear_parts(Ridge(), X, Y_REG)


def test_mismatched_feature_counts_are_a_clear_error():
    model = LogisticRegression().fit(X, Y_BIN)
    with pytest.raises(DataValidationError, match="X_query has 3 features but X_train has 4"):
        attribute(model, X, Y_BIN, X[:2, :3], Y_BIN[:2], method="influence")
    with pytest.raises(DataValidationError, match="fitted on 4 features"):
        attribute(model, X[:, :3], Y_BIN, X[:2, :3], Y_BIN[:2], method="newton")
    with pytest.raises(DataValidationError, match="fitted on 4 features"):
        linear_parts(model, X[:, :3], Y_BIN)


def test_random_forest_asked_for_influence_names_methods_that_apply():
    rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y_BIN)
    usable = applicable_methods(rf)
    assert "influence" not in usable
    with pytest.raises(InvalidParameterError, match="RandomForestClassifier has no gradients") as e:
        attribute(rf, X, Y_BIN, X[:2], Y_BIN[:2], method="influence")
    for name in usable:
        assert repr(name) in str(e.value)
    with pytest.raises(InvalidParameterError, match="has no gradients"):
        linear_parts(rf, X, Y_BIN)


@pytest.mark.parametrize(
    ("model", "phrase"),
    [
        (LogisticRegression(l1_ratio=1.0, solver="liblinear"), "l1_ratio=0"),
        (LinearSVC(penalty="l1", dual=False), "penalty='l2'"),
        (SGDClassifier(loss="perceptron"), "no usable second derivative"),
        (make_pipeline(StandardScaler(), LogisticRegression()), "pipeline[-1]"),
        (Ridge(positive=True), "constrained"),
    ],
    ids=["lr_l1", "svc_l1", "perceptron", "pipeline", "positive"],
)
def test_unsupported_models_have_reasons(model, phrase):
    model.fit(X, Y_BIN if not isinstance(model, Ridge) else Y_REG)
    reason = unsupported_reason(model)
    assert reason is not None and phrase in reason
    assert "influence" not in applicable_methods(model)


def test_convex_models_list_the_three_methods():
    usable = applicable_methods(LogisticRegression())
    assert {"influence", "newton", "retrain"} <= set(usable)


def test_unknown_labels_and_options_are_clear_errors():
    model = LogisticRegression().fit(X, Y_MULTI)
    with pytest.raises(DataValidationError, match=r"label\(s\) \['z'\]"):
        attribute(model, X, Y_MULTI, X[:1], ["z"], method="influence")
    with pytest.raises(InvalidParameterError, match="Options it takes"):
        attribute(model, X, Y_MULTI, X[:1], Y_MULTI[:1], method="influence", dampening=1.0)
    with pytest.raises(InvalidParameterError, match="'target' parameter"):
        attribute(model, X, Y_MULTI, X[:1], Y_MULTI[:1], method="influence", target="margin")
    with pytest.raises(InvalidParameterError, match="'top_k' parameter"):
        attribute(model, X, Y_MULTI, X[:1], Y_MULTI[:1], method="influence", top_k=0)
    with pytest.raises(InvalidParameterError, match="'damping' parameter"):
        attribute(model, X, Y_MULTI, X[:1], Y_MULTI[:1], method="influence", damping=-1.0)
    with pytest.raises(DataValidationError, match=r"outside 0\.\.119"):
        attribute(model, X, Y_MULTI, X[:1], Y_MULTI[:1], method="newton", groups=[[0, 500]])
    with pytest.raises(DataValidationError, match="at least one"):
        attribute(model, X, Y_MULTI, X[:1], Y_MULTI[:1], method="newton", groups=[[]])
    with pytest.raises(InvalidParameterError, match="'solver' parameter"):
        attribute(model, X, Y_MULTI, X[:1], Y_MULTI[:1], method="retrain", solver="adam",
                  subset=[0])
    with pytest.raises(InvalidParameterError, match="not both"):
        attribute(model, X, Y_MULTI, X[:1], Y_MULTI[:1], method="retrain", subset=[0],
                  groups=[[1]])


def test_svm_has_no_probabilities():
    model = LinearSVC().fit(X, Y_BIN)
    with pytest.raises(InvalidParameterError, match="no probabilities"):
        linear_parts(model, X, Y_BIN).predict_proba(X)


# --------------------------------------------------------------------------- validity (real data)


def _fit_tight(split, **kw):
    return LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000, **kw).fit(split.X_train,
                                                                          split.y_train)


def _loo_spearman(split, queries):
    model = _fit_tight(split)
    out = []
    for q in queries:
        xq, yq = split.X_test[q:q + 1], split.y_test[q:q + 1]
        infl = attribute(model, split.X_train, split.y_train, xq, yq, method="influence")
        top = np.argsort(-np.abs(infl.scores[0]))[:100]
        actual = attribute(model, split.X_train, split.y_train, xq, yq, method="retrain",
                           subset=top)
        out.append(spearmanr(infl.scores[0, top], actual.scores[0, top]).statistic)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["german", "compas", "adult", "compas_multiclass"])
def test_influence_matches_leave_one_out_retraining(dataset, request, record_property):
    split = request.getfixturevalue(dataset)
    rhos = _loo_spearman(split, queries=[0, 1])
    record_property("loo_spearman", rhos)
    print(f"\n{dataset}: LOO Spearman over the top-100 examples = {np.round(rhos, 4).tolist()}")
    assert min(rhos) >= 0.95


def _removal_groups(split, min_frac=0.01, max_frac=0.10):
    """Demographic cells (pairs of sensitive columns) and k-means clusters of 1–10 % of rows."""
    n = len(split.X_train)
    groups = []
    cols = list(split.sensitive_train.columns)
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            for idx in split.sensitive_train.groupby([a, b]).indices.values():
                if min_frac * n <= len(idx) <= max_frac * n:
                    groups.append(np.sort(idx))
    labels = KMeans(20, n_init=3, random_state=0).fit_predict(split.X_train)
    for c in range(20):
        idx = np.flatnonzero(labels == c)
        if min_frac * n <= len(idx) <= max_frac * n:
            groups.append(idx)
    return groups


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["german", "compas", "adult"])
def test_group_removal_matches_retraining(dataset, request, record_property):
    split = request.getfixturevalue(dataset)
    model = _fit_tight(split)
    groups = _removal_groups(split)
    assert len(groups) >= 15
    report = {}
    for target, xq, yq in [("mean_loss", split.X_test, split.y_test),
                           ("loss", split.X_test[:3], split.y_test[:3])]:
        kw = {"groups": groups, "target": target}
        args = (model, split.X_train, split.y_train, xq, yq)
        infl = attribute(*args, method="influence", **kw).scores
        newton = attribute(*args, method="newton", **kw).scores
        actual = attribute(*args, method="retrain", **kw).scores
        for q in range(len(actual)):
            rho_i = spearmanr(infl[q], actual[q]).statistic
            rho_n = spearmanr(newton[q], actual[q]).statistic
            under = float(np.median(np.abs(infl[q]) / np.abs(newton[q])))
            report[f"{target}[{q}]"] = {
                "spearman_influence": round(rho_i, 4), "spearman_newton": round(rho_n, 4),
                "influence/actual": round(float(np.median(np.abs(infl[q] / actual[q]))), 3),
                "newton/actual": round(float(np.median(np.abs(newton[q] / actual[q]))), 3),
                "influence/newton": round(under, 3),
            }
            assert rho_i >= 0.8, (target, q, rho_i)
            assert rho_n >= 0.95, (target, q, rho_n)
            assert under < 1.0  # influence under-estimates group effects
    record_property("group_removal", report)
    print(f"\n{dataset}: {len(groups)} groups of 1-10 %")
    for key, row in report.items():
        print(f"  {key}: {row}")

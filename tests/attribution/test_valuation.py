"""KNN-Shapley against brute-force Shapley values; Data-OOB sanity on bagging ensembles."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import (
    BaggingClassifier,
    GradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from scrutiny.attribution import applicable_methods, attribute
from scrutiny.attribution._valuation import knn_shapley_values
from scrutiny.exceptions import DataValidationError, InvalidParameterError, ScrutinyError

from ._data import single_blas_thread  # noqa: F401 - autouse fixture


def _knn_utility(subset, dist, y_train, y_q, k):
    if not subset:
        return 0.0
    nearest = sorted(subset, key=lambda i: (dist[i], i))[:k]
    return sum(y_train[i] == y_q for i in nearest) / k


def _brute_force_shapley(dist, y_train, y_q, k):
    n = len(dist)
    phi = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            w = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for combo in itertools.combinations(others, size):
                s = list(combo)
                phi[i] += w * (_knn_utility([*s, i], dist, y_train, y_q, k)
                               - _knn_utility(s, dist, y_train, y_q, k))
    return phi


@pytest.mark.parametrize(("n", "k", "n_classes", "seed"),
                         [(6, 1, 2, 0), (7, 3, 2, 1), (8, 2, 3, 2), (8, 5, 2, 3), (5, 8, 2, 4)])
def test_knn_shapley_matches_brute_force_shapley(n, k, n_classes, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = rng.integers(0, n_classes, n)
    xq = rng.normal(size=(2, 3))
    yq = rng.integers(0, n_classes, 2)
    res = attribute(None, x, y, xq, yq, method="knn_shapley", n_neighbors=k, standardize=False)
    for q in range(2):
        dist = np.linalg.norm(x - xq[q], axis=1)
        expected = _brute_force_shapley(dist, y, yq[q], k)
        np.testing.assert_allclose(res.scores[q], expected, atol=1e-12)
        # efficiency: values sum to the utility of the whole training set
        assert res.scores[q].sum() == pytest.approx(
            _knn_utility(list(range(n)), dist, y, yq[q], k))


def test_knn_shapley_ties_are_broken_by_index():
    dist = np.array([[1.0, 1.0, 2.0, 2.0]])
    y = np.array([1, 0, 1, 0])
    got = knn_shapley_values(dist, y, np.array([1]), 1)[0]
    np.testing.assert_allclose(got, _brute_force_shapley(dist[0], y, 1, 1), atol=1e-12)


def test_knn_shapley_on_embeddings_and_top_k():
    x, y = make_classification(300, 6, random_state=0)
    emb = np.c_[x[:, :2] * 3, x[:, 2:]]
    full = attribute(None, x, y, x[:10], y[:10], method="knn_shapley",
                     embeddings=(emb, emb[:10]))
    assert full.params["space"] == "embeddings (given)"
    assert full.params["standardize"] is False
    by_fn = attribute(None, x, y, x[:10], y[:10], method="knn_shapley",
                      embeddings=lambda a: np.c_[a[:, :2] * 3, a[:, 2:]])
    np.testing.assert_allclose(full.scores, by_fn.scores)
    topped = attribute(None, x, y, x[:10], y[:10], method="knn_shapley",
                       embeddings=(emb, emb[:10]), top_k=5)
    assert topped.scores is None and topped.top_indices.shape == (10, 5)
    for q in range(10):
        assert set(topped.top_indices[q]) == set(np.argsort(-np.abs(full.scores[q]))[:5])
    # a point is its own nearest neighbour with the same label: nothing helps it more
    assert all(full.scores[q, q] == pytest.approx(full.scores[q].max()) for q in range(10))


def test_knn_shapley_finds_flipped_labels():
    x, y = make_classification(600, 8, class_sep=2.0, random_state=1, flip_y=0)
    rng = np.random.default_rng(0)
    flip = rng.choice(600, 60, replace=False)
    noisy = y.copy()
    noisy[flip] = 1 - noisy[flip]
    truth = np.zeros(600, bool)
    truth[flip] = True
    model = LogisticRegression().fit(x, noisy)
    res = attribute(model, x, noisy, x, noisy, method="knn_shapley", n_neighbors=10)
    assert roc_auc_score(truth, -res.scores.mean(axis=0)) > 0.9


def test_knn_shapley_uses_pipeline_encoding_for_raw_columns():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"colour": rng.choice(["red", "blue"], 80),
                          "size": rng.normal(size=80)})
    y = (frame["colour"] == "red").astype(int).to_numpy()
    pipe = make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression()).fit(
        frame[["colour"]], y)
    res = attribute(pipe, frame[["colour"]], y, frame[["colour"]][:3], y[:3],
                    method="knn_shapley", n_neighbors=3)
    assert "pipeline" in res.params["space"]
    assert res.scores.shape == (3, 80)


def test_knn_shapley_bad_input_is_explained():
    x, y = make_classification(50, 4, random_state=0)
    with pytest.raises(InvalidParameterError, match="n_neighbors"):
        attribute(None, x, y, x, y, method="knn_shapley", n_neighbors=0)
    with pytest.raises(InvalidParameterError, match="metric"):
        attribute(None, x, y, x, y, method="knn_shapley", metric="manhattan")
    with pytest.raises(InvalidParameterError, match="embeddings"):
        attribute(None, x, y, x, y, method="knn_shapley", embeddings="bert")
    with pytest.raises(DataValidationError, match="features"):
        attribute(None, x, y, x[:, :3], y, method="knn_shapley")
    with pytest.raises(DataValidationError, match="continuous"):
        attribute(None, x, x[:, 0], x, x[:, 0], method="knn_shapley")
    words = np.array([["a"], ["b"]] * 25)
    with pytest.raises(DataValidationError, match=r"non-numeric.*embeddings"):
        attribute(None, words, y, words, y, method="knn_shapley")
    nan = x.copy()
    nan[0, 0] = np.nan
    with pytest.raises(DataValidationError, match="NaN"):
        attribute(None, nan, y, x, y, method="knn_shapley")


def test_knn_shapley_metric_cosine_runs():
    x, y = make_classification(40, 4, random_state=0)
    res = attribute(None, x, y, x[:4], y[:4], method="knn_shapley", metric="cosine")
    assert np.isfinite(res.scores).all()


# --------------------------------------------------------------------------- Data-OOB


def _noisy(n=800, seed=0):
    x, y = make_classification(n, 10, random_state=seed, flip_y=0)
    rng = np.random.default_rng(seed)
    flip = rng.choice(n, n // 10, replace=False)
    noisy = y.copy()
    noisy[flip] = 1 - noisy[flip]
    truth = np.zeros(n, bool)
    truth[flip] = True
    return x, noisy, truth


@pytest.mark.parametrize("model", [
    RandomForestClassifier(n_estimators=60, min_samples_leaf=3, random_state=0),
    BaggingClassifier(LogisticRegression(), n_estimators=25, random_state=0),
    BaggingClassifier(n_estimators=40, bootstrap_features=True, max_features=0.6,
                      random_state=0),
], ids=["forest", "bagged-logistic", "bagged-trees-feature-subsets"])
def test_data_oob_ranks_flipped_labels_low(model):
    x, y, truth = _noisy()
    model.fit(x, y)
    res = attribute(model, x, y, x[:3], y[:3], method="data_oob")
    assert res.scores.shape == (1, len(y))
    values = res.extras["values"]
    assert np.nanmin(values) >= 0 and np.nanmax(values) <= 1
    np.testing.assert_allclose(res.scores[0], values - np.nanmean(values))
    # each member leaves ~1/e of the rows out of its bootstrap sample
    n_members = len(model.estimators_)
    assert res.extras["oob_counts"].mean() == pytest.approx(n_members * math.exp(-1), rel=0.15)
    assert roc_auc_score(truth, -res.scores[0]) > 0.9
    assert res.findings and res.findings[0]["kind"] == "label_issue"


def test_data_oob_matches_a_hand_computed_value():
    x, y, _ = _noisy(200, seed=3)
    model = BaggingClassifier(LogisticRegression(), n_estimators=15, random_state=0).fit(x, y)
    res = attribute(model, x, y, None, None, method="data_oob")
    i = 7
    hits = [m.predict(x[[i]])[0] == y[i] for m, s in
            zip(model.estimators_, model.estimators_samples_, strict=True) if i not in set(s)]
    assert res.extras["values"][i] == pytest.approx(np.mean(hits))


def test_data_oob_regression_and_pipeline():
    x, _ = make_classification(300, 5, random_state=0)
    target = x[:, 0] * 2 + 0.1
    reg = RandomForestRegressor(n_estimators=30, random_state=0).fit(x, target)
    res = attribute(reg, x, target, None, None, method="data_oob")
    assert res.params["task"] == "regression"
    assert np.nanmax(res.extras["values"]) <= 0
    pipe = make_pipeline(StandardScaler(), RandomForestClassifier(
        n_estimators=20, random_state=0)).fit(x, x[:, 1] > 0)
    res = attribute(pipe, x, x[:, 1] > 0, None, None, method="data_oob")
    assert res.scores.shape == (1, 300)


def test_data_oob_applies_only_to_bagging_with_bootstrap():
    x, y, _ = _noisy(200)
    no_boot = RandomForestClassifier(n_estimators=5, bootstrap=False).fit(x, y)
    with pytest.raises(InvalidParameterError, match=r"bootstrap=True.*Methods that apply"):
        attribute(no_boot, x, y, x, y, method="data_oob")
    gbm = GradientBoostingClassifier(n_estimators=5).fit(x, y)
    with pytest.raises(InvalidParameterError, match="bagging ensemble"):
        attribute(gbm, x, y, x, y, method="data_oob")
    assert "data_oob" in applicable_methods(RandomForestClassifier().fit(x, y))
    assert "data_oob" not in applicable_methods(gbm)
    assert "knn_shapley" in applicable_methods(gbm)


def test_data_oob_rejects_rows_that_are_not_the_training_rows():
    x, y, _ = _noisy(200)
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(x, y)
    with pytest.raises(DataValidationError, match="fitted on 200 rows"):
        attribute(model, x[:150], y[:150], None, None, method="data_oob")
    with pytest.raises(DataValidationError, match="labels the ensemble"):
        attribute(model, x, y + 5, None, None, method="data_oob")


def test_unknown_method_names_the_registered_ones():
    x, y, _ = _noisy(100)
    with pytest.raises(ScrutinyError, match="knn_shapley"):
        attribute(LogisticRegression().fit(x, y), x, y, x, y, method="knn-shapley")


def test_knn_shapley_leaves_torch_modules_to_the_torch_methods():
    torch = pytest.importorskip("torch")
    reason = applicable_methods(torch.nn.Linear(3, 2))
    assert "knn_shapley" not in reason
    x, y, _ = _noisy(40)
    with pytest.raises(InvalidParameterError, match="embed the data"):
        attribute(torch.nn.Linear(10, 2), x, y, x, y, method="knn_shapley")


def test_auto_picks_data_oob_for_a_forest():
    x, y, _ = _noisy(120)
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(x, y)
    assert attribute(forest, x, y, x[:2], y[:2]).method == "data_oob"

"""GroupThresholds: narrows its gap on held-out data, equals Fairlearn when randomized."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.svm import LinearSVC

from scrutiny.exceptions import InvalidParameterError, NotFittedError
from scrutiny.mitigation import GroupThresholds

from . import adult_splits, compas_splits, gap, single_blas_thread  # noqa: F401

CONSTRAINTS = ["equalized_odds", "equal_opportunity", "demographic_parity"]


def _data(name):
    d = compas_splits(0) if name == "compas" else adult_splits(0)
    return d, LogisticRegression(max_iter=2000).fit(d.X_train, d.y_train)


@pytest.mark.parametrize("deterministic", [True, False])
@pytest.mark.parametrize("constraint", CONSTRAINTS)
@pytest.mark.parametrize("name", ["compas", "adult"])
def test_group_thresholds_reduce_their_gap(name, constraint, deterministic):
    d, lr = _data(name)
    gt = GroupThresholds(estimator=lr, constraint=constraint, deterministic=deterministic,
                         random_state=0).fit(d.X_val, d.y_val, sensitive_features=d.s_val)
    pred = gt.predict(d.X_test, sensitive_features=d.s_test)
    before = gap(d.y_test, lr.predict(d.X_test), d.s_test, constraint)
    after = gap(d.y_test, pred, d.s_test, constraint)
    acc0, acc1 = np.mean(lr.predict(d.X_test) == d.y_test), np.mean(pred == d.y_test)
    print(f"{name} {constraint} deterministic={deterministic}: gap {before:.4f} -> {after:.4f},"
          f" accuracy {acc0:.4f} -> {acc1:.4f}")
    assert after < before


@pytest.mark.oracle
@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_group_thresholds_randomized_equals_fairlearn(constraint):
    from fairlearn.postprocessing import ThresholdOptimizer

    d, lr = _data("compas")
    names = {"equal_opportunity": "true_positive_rate_parity"}
    ours = GroupThresholds(estimator=lr, constraint=constraint, deterministic=False,
                           grid_size=1000, random_state=3)
    ours.fit(d.X_val, d.y_val, sensitive_features=d.s_val)
    theirs = ThresholdOptimizer(estimator=lr, constraints=names.get(constraint, constraint),
                                objective="accuracy_score", prefit=True,
                                predict_method="predict_proba")
    theirs.fit(d.X_val, d.y_val, sensitive_features=d.s_val)
    a = ours.predict(d.X_test, sensitive_features=d.s_test)
    b = theirs.predict(d.X_test, sensitive_features=d.s_test, random_state=3)
    np.testing.assert_array_equal(a, b)


def test_group_thresholds_deterministic_are_plain_thresholds():
    d, lr = _data("compas")
    gt = GroupThresholds(estimator=lr, constraint="equal_opportunity")
    gt.fit(d.X_val, d.y_val, sensitive_features=d.s_val)
    p = lr.predict_proba(d.X_test)[:, 1]
    th = np.array([gt.thresholds_[g] for g in d.s_test])
    np.testing.assert_array_equal(gt.predict(d.X_test, sensitive_features=d.s_test),
                                  (p >= th).astype(int))
    again = GroupThresholds(estimator=lr, constraint="equal_opportunity").fit(
        d.X_val, d.y_val, sensitive_features=d.s_val)
    assert again.thresholds_ == gt.thresholds_
    assert gt.fit_gap_ <= 0.05


def test_group_thresholds_prefit_false_fits_a_clone():
    d = compas_splits(0)
    est = LogisticRegression(max_iter=2000)
    gt = GroupThresholds(estimator=est, prefit=False, constraint="demographic_parity")
    gt.fit(d.X_train, d.y_train, sensitive_features=d.s_train)
    assert not hasattr(est, "coef_") and hasattr(gt.estimator_, "coef_")
    assert gt.score(d.X_test, d.y_test, sensitive_features=d.s_test) > 0.55


def test_group_thresholds_without_predict_proba_names_alternatives():
    d = compas_splits(0)
    svc = LinearSVC().fit(d.X_train, d.y_train)
    with pytest.raises(InvalidParameterError, match=r"predict_proba.*LinearSVC.*Reweighing"):
        GroupThresholds(estimator=svc).fit(d.X_val, d.y_val, sensitive_features=d.s_val)


def test_group_thresholds_reject_multiclass_and_regression():
    rng = np.random.default_rng(0)
    X, g = rng.normal(size=(90, 2)), np.repeat(["a", "b", "c"], 30)
    y3 = np.repeat([0, 1, 2], 30)
    lr = LogisticRegression().fit(X, y3)
    with pytest.raises(InvalidParameterError, match=r"binary classification.*multiclass"):
        GroupThresholds(estimator=lr).fit(X, y3, sensitive_features=g)
    reg = LinearRegression().fit(X, X[:, 0])
    with pytest.raises(InvalidParameterError, match=r"predict_proba.*LinearRegression"):
        GroupThresholds(estimator=reg).fit(X, X[:, 0], sensitive_features=g)
    with pytest.raises(InvalidParameterError, match="regression"):
        GroupThresholds(estimator=lr).fit(X, X[:, 0], sensitive_features=g)


def test_group_thresholds_bad_parameters_and_not_fitted():
    d, lr = _data("compas")
    with pytest.raises(InvalidParameterError, match=r"'constraint'.*'parity'"):
        GroupThresholds(estimator=lr, constraint="parity").fit(
            d.X_val, d.y_val, sensitive_features=d.s_val)
    with pytest.raises(InvalidParameterError, match="'tolerance'"):
        GroupThresholds(estimator=lr, tolerance=2).fit(
            d.X_val, d.y_val, sensitive_features=d.s_val)
    with pytest.raises(NotFittedError, match="call fit first"):
        GroupThresholds(estimator=lr).predict(d.X_test, sensitive_features=d.s_test)
    with pytest.raises(TypeError):
        GroupThresholds(lr)  # type: ignore[misc]
    assert set(clone(GroupThresholds(estimator=lr)).get_params()) >= {"estimator", "constraint"}

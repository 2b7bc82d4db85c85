"""ExponentiatedGradient / GridSearch: exactly Fairlearn's results, and they narrow the gap."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from scrutiny.exceptions import InvalidParameterError, MissingDependencyError, NotFittedError
from scrutiny.mitigation import ExponentiatedGradient, GridSearch

from . import adult_splits, compas_splits, gap, single_blas_thread  # noqa: F401

CONSTRAINTS = ["equalized_odds", "equal_opportunity", "demographic_parity"]
pytestmark = pytest.mark.filterwarnings("ignore::Warning:fairlearn.*")


def _lr():
    return LogisticRegression(max_iter=2000)


def _small_adult():
    d = adult_splits(1, (3000, 10, 2000))
    return d


@pytest.mark.oracle
@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_exponentiated_gradient_equals_fairlearn(constraint):
    from fairlearn import reductions as red

    moment = {"equalized_odds": red.EqualizedOdds, "equal_opportunity":
              red.TruePositiveRateParity, "demographic_parity": red.DemographicParity}[constraint]
    d = _small_adult()
    ours = ExponentiatedGradient(estimator=_lr(), constraints=constraint, random_state=7)
    ours.fit(d.X_train, d.y_train, sensitive_features=d.s_train)
    theirs = red.ExponentiatedGradient(_lr(), moment()).fit(
        d.X_train, d.y_train, sensitive_features=d.s_train)
    np.testing.assert_array_equal(ours.predict(d.X_test),
                                  theirs.predict(d.X_test, random_state=7))
    np.testing.assert_array_equal(ours.predict_proba(d.X_test), theirs._pmf_predict(d.X_test))


@pytest.mark.oracle
@pytest.mark.parametrize("constraint", ["equal_opportunity", "demographic_parity"])
def test_grid_search_equals_fairlearn(constraint):
    from fairlearn import reductions as red

    moment = {"equal_opportunity": red.TruePositiveRateParity,
              "demographic_parity": red.DemographicParity}[constraint]
    d = _small_adult()
    ours = GridSearch(estimator=_lr(), constraints=constraint, grid_size=15)
    ours.fit(d.X_train, d.y_train, sensitive_features=d.s_train)
    theirs = red.GridSearch(_lr(), moment(), grid_size=15).fit(
        d.X_train, d.y_train, sensitive_features=d.s_train)
    np.testing.assert_array_equal(ours.predict(d.X_test), theirs.predict(d.X_test))
    np.testing.assert_array_equal(ours.predict_proba(d.X_test), theirs.predict_proba(d.X_test))


def test_reductions_accept_a_moment_and_do_not_mutate_it():
    from fairlearn.reductions import DemographicParity

    d = _small_adult()
    moment = DemographicParity()
    eg = ExponentiatedGradient(estimator=_lr(), constraints=moment, random_state=0)
    eg.fit(d.X_train, d.y_train, sensitive_features=d.s_train)
    assert not hasattr(moment, "X")
    a = eg.predict(d.X_test)
    b = ExponentiatedGradient(estimator=_lr(), random_state=0).fit(
        d.X_train, d.y_train, sensitive_features=d.s_train).predict(d.X_test)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("constraint", CONSTRAINTS)
@pytest.mark.parametrize("name", ["compas", "adult"])
def test_reductions_reduce_their_gap(name, constraint):
    d = compas_splits(0) if name == "compas" else adult_splits(0)
    before = gap(d.y_test, _lr().fit(d.X_train, d.y_train).predict(d.X_test), d.s_test,
                 constraint)
    for mit in (ExponentiatedGradient(estimator=_lr(), constraints=constraint, random_state=0),
                GridSearch(estimator=_lr(), constraints=constraint, grid_size=100)):
        pred = mit.fit(d.X_train, d.y_train, sensitive_features=d.s_train).predict(d.X_test)
        after = gap(d.y_test, pred, d.s_test, constraint)
        print(f"{name} {constraint} {type(mit).__name__}: gap {before:.4f} -> {after:.4f}, "
              f"accuracy {np.mean(pred == d.y_test):.4f}")
        assert after < before


def test_reductions_reject_incompatible_models_and_tasks():
    rng = np.random.default_rng(0)
    X, g = rng.normal(size=(90, 2)), np.repeat(["a", "b", "c"], 30)
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(InvalidParameterError, match=r"sample_weight.*KNeighborsClassifier"):
        ExponentiatedGradient(estimator=KNeighborsClassifier()).fit(X, y, sensitive_features=g)
    with pytest.raises(InvalidParameterError, match=r"binary classification.*multiclass"):
        GridSearch(estimator=_lr()).fit(X, np.repeat([0, 1, 2], 30), sensitive_features=g)
    with pytest.raises(InvalidParameterError, match="regression"):
        GridSearch(estimator=_lr()).fit(X, X[:, 1], sensitive_features=g)
    with pytest.raises(InvalidParameterError, match=r"'constraints'.*'fair'"):
        GridSearch(estimator=_lr(), constraints="fair").fit(X, y, sensitive_features=g)
    with pytest.raises(NotFittedError, match="call fit first"):
        GridSearch(estimator=_lr()).predict(X)
    with pytest.raises(TypeError):
        GridSearch(_lr())  # type: ignore[misc]
    assert clone(ExponentiatedGradient(estimator=_lr(), eps=0.05)).get_params()["eps"] == 0.05


def test_reductions_name_the_install_when_fairlearn_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "fairlearn.reductions", None)
    X, y = np.zeros((4, 1)), np.array([0, 1, 0, 1])
    with pytest.raises(MissingDependencyError, match="pip install fairlearn"):
        ExponentiatedGradient(estimator=_lr()).fit(X, y, sensitive_features=list("aabb"))

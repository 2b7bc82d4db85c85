"""The estimator contract, checked over every public mitigator (a registry, sklearn style)."""

from __future__ import annotations

import inspect

import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

import scrutiny.mitigation
from scrutiny.mitigation import (
    ExponentiatedGradient,
    GridSearch,
    GroupThresholds,
    InfluenceRemoval,
    InfluenceReweighting,
    Reweighing,
)

from . import compas_splits, single_blas_thread  # noqa: F401

ESTIMATORS = {
    "Reweighing": lambda: Reweighing(),
    "GroupThresholds": lambda: GroupThresholds(estimator=LogisticRegression(), prefit=False),
    "ExponentiatedGradient": lambda: ExponentiatedGradient(estimator=LogisticRegression(),
                                                           random_state=0),
    "GridSearch": lambda: GridSearch(estimator=LogisticRegression(), grid_size=3),
    "InfluenceRemoval": lambda: InfluenceRemoval(top_k=5, random_state=0),
    "InfluenceReweighting": lambda: InfluenceReweighting(top_k=5, random_state=0),
}


def test_public_api_snapshot():
    comparison = ["MitigationComparison", "MitigationResult", "compare_mitigations",
                  "run_mitigation"]
    assert sorted(scrutiny.mitigation.__all__) == sorted([*ESTIMATORS, *comparison])


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimator_init_is_keyword_only_and_stores_args(name):
    est = ESTIMATORS[name]()
    params = inspect.signature(type(est).__init__).parameters
    assert all(p.kind is p.KEYWORD_ONLY for k, p in params.items() if k != "self")
    assert not [k for k in vars(est) if k.endswith("_")]
    assert set(vars(est)) == set(est.get_params(deep=False))
    assert clone(est).get_params(deep=False).keys() == est.get_params(deep=False).keys()


@pytest.mark.filterwarnings("ignore::Warning:fairlearn.*")
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimator_fit_returns_self_and_is_fitted(name):
    d = compas_splits(0)
    est = ESTIMATORS[name]()
    with pytest.raises(Exception, match="not fitted"):
        check_is_fitted(est)
    assert est.fit(d.X_train, d.y_train, sensitive_features=d.s_train) is est
    check_is_fitted(est)
    assert list(est.classes_) == [0, 1]

"""Influence-guided data fixes: better than random rows of the same size, with their cost."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from scrutiny.exceptions import DataValidationError, InvalidParameterError, NotFittedError
from scrutiny.mitigation import InfluenceRemoval, InfluenceReweighting, Reweighing

from . import adult_splits, compas_splits, gap, single_blas_thread  # noqa: F401

EO = "equal_opportunity"


def _lr():
    return LogisticRegression(max_iter=2000)


def _random_fix(d, n_rows, weight, seed):
    """Mean held-out gap and accuracy of 3 refits with ``n_rows`` random rows re-weighted."""
    rng = np.random.default_rng(seed)
    gaps, accs = [], []
    for _ in range(3):
        w = np.ones(len(d.y_train))
        w[rng.choice(len(w), size=n_rows, replace=False)] = weight
        keep = w > 0
        pred = _lr().fit(d.X_train[keep], d.y_train[keep], sample_weight=w[keep]).predict(
            d.X_test)
        gaps.append(gap(d.y_test, pred, d.s_test, EO))
        accs.append(np.mean(pred == d.y_test))
    return float(np.mean(gaps)), float(np.mean(accs))


@pytest.mark.parametrize(("cls", "weight"), [(InfluenceRemoval, 0.0),
                                             (InfluenceReweighting, 0.2)])
def test_influence_fix_beats_random_rows_on_adult(cls, weight):
    kw = {} if cls is InfluenceRemoval else {"weight": weight}
    improve, improve_random, cost, cost_rw = [], [], [], []
    for seed in range(3):
        d = adult_splits(seed)
        base = _lr().fit(d.X_train, d.y_train)
        pred0 = base.predict(d.X_test)
        g0, acc0 = gap(d.y_test, pred0, d.s_test, EO), np.mean(pred0 == d.y_test)
        fix = cls(top_k=100, **kw).fit(d.X_train, d.y_train, sensitive_features=d.s_train,
                                         X_val=d.X_val, y_val=d.y_val,
                                         sensitive_features_val=d.s_val)
        pred = fix.predict(d.X_test)
        g_rand, _ = _random_fix(d, len(fix.drivers_), weight, seed)
        w_rw = Reweighing().sample_weight(d.X_train, d.y_train, sensitive_features=d.s_train)
        pred_rw = _lr().fit(d.X_train, d.y_train, sample_weight=w_rw).predict(d.X_test)
        improve.append(g0 - gap(d.y_test, pred, d.s_test, EO))
        improve_random.append(g0 - g_rand)
        cost.append(acc0 - np.mean(pred == d.y_test))
        cost_rw.append(acc0 - np.mean(pred_rw == d.y_test))
        print(f"{cls.__name__} seed {seed}: EO gap {g0:.4f}; reduction: influence "
              f"{improve[-1]:+.4f}, random {improve_random[-1]:+.4f}, Reweighing "
              f"{g0 - gap(d.y_test, pred_rw, d.s_test, EO):+.4f}; accuracy cost "
              f"{cost[-1]:+.4f} (Reweighing {cost_rw[-1]:+.4f})")
    print(f"{cls.__name__}: mean EO-gap reduction {np.mean(improve):.4f} vs random "
          f"{np.mean(improve_random):.4f}; mean accuracy cost {np.mean(cost):+.4f} vs "
          f"Reweighing {np.mean(cost_rw):+.4f}")
    assert np.mean(improve) > np.mean(improve_random)


@pytest.mark.parametrize("name", ["compas", "adult"])
def test_influence_removal_reduces_equal_opportunity_gap(name):
    d = compas_splits(0) if name == "compas" else adult_splits(0)
    before = gap(d.y_test, _lr().fit(d.X_train, d.y_train).predict(d.X_test), d.s_test, EO)
    top_k = 50 if name == "compas" else 100
    fix = InfluenceRemoval(top_k=top_k).fit(
        d.X_train, d.y_train, sensitive_features=d.s_train, X_val=d.X_val, y_val=d.y_val,
        sensitive_features_val=d.s_val)
    after = gap(d.y_test, fix.predict(d.X_test), d.s_test, EO)
    print(f"{name} InfluenceRemoval(top_k={top_k}): EO gap {before:.4f} -> {after:.4f}")
    assert after < before


def test_influence_fix_internal_split_and_attributes():
    d = compas_splits(0)
    fix = InfluenceReweighting(top_k=30, weight=0.5, random_state=0).fit(
        d.X_train, d.y_train, sensitive_features=d.s_train)
    n_train = len(fix.train_indices_)
    assert n_train == pytest.approx(0.7 * len(d.y_train), abs=2)
    assert fix.scores_.shape == (n_train,)
    assert len(fix.drivers_) <= 30 and np.all(np.isin(fix.drivers_, fix.train_indices_))
    assert np.sort(fix.row_weights_)[: len(fix.drivers_)].tolist() == [0.5] * len(fix.drivers_)
    assert fix.predict_proba(d.X_test).shape == (len(d.y_test), 2)


def test_influence_fix_rejects_incompatible_models_and_inputs():
    d = compas_splits(0)
    with pytest.raises(InvalidParameterError, match=r"convex.*RandomForestClassifier.*Reweighing"):
        InfluenceRemoval(estimator=RandomForestClassifier()).fit(
            d.X_train, d.y_train, sensitive_features=d.s_train)
    y3 = np.arange(len(d.y_train)) % 3
    with pytest.raises(InvalidParameterError, match="binary classification"):
        InfluenceRemoval().fit(d.X_train, y3, sensitive_features=d.s_train)
    with pytest.raises(InvalidParameterError, match="'top_k'"):
        InfluenceRemoval(top_k=0).fit(d.X_train, d.y_train, sensitive_features=d.s_train)
    with pytest.raises(InvalidParameterError, match="'weight'"):
        InfluenceReweighting(weight=3).fit(d.X_train, d.y_train, sensitive_features=d.s_train)
    with pytest.raises(InvalidParameterError, match="X_val, y_val and sensitive_features_val"):
        InfluenceRemoval().fit(d.X_train, d.y_train, sensitive_features=d.s_train,
                               X_val=d.X_val)
    with pytest.raises(DataValidationError, match="top_k"):
        InfluenceRemoval(top_k=10**6).fit(d.X_train, d.y_train, sensitive_features=d.s_train)
    with pytest.raises(NotFittedError, match="call fit first"):
        InfluenceRemoval().predict(d.X_test)
    with pytest.raises(TypeError):
        InfluenceRemoval(_lr())  # type: ignore[misc]
    assert clone(InfluenceReweighting(weight=0.3)).get_params()["weight"] == 0.3

"""Reweighing: equal to AIF360's instance weights, and it narrows the selection-rate gap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from scrutiny.exceptions import DataValidationError, InvalidParameterError
from scrutiny.mitigation import Reweighing

from . import adult_splits, compas_splits, gap, single_blas_thread  # noqa: F401


def _aif360_weights(y: np.ndarray, s01: np.ndarray, w0: np.ndarray | None = None) -> np.ndarray:
    pytest.importorskip("aif360")
    from aif360.algorithms.preprocessing import Reweighing as AifReweighing
    from aif360.datasets import BinaryLabelDataset

    df = pd.DataFrame({"s": s01.astype(float), "y": y.astype(float)})
    ds = BinaryLabelDataset(df=df, label_names=["y"], protected_attribute_names=["s"],
                            favorable_label=1.0, unfavorable_label=0.0)
    if w0 is not None:
        ds.instance_weights = w0.astype(float)
    out = AifReweighing(unprivileged_groups=[{"s": 0.0}], privileged_groups=[{"s": 1.0}])
    return out.fit_transform(ds).instance_weights


CASES = {
    "compas_sex": lambda: (compas_splits(0).y_train, compas_splits(0).frame_train["sex"]),
    "compas_race": lambda: (compas_splits(0).y_train, compas_splits(0).frame_train["race"]),
    "adult_sex": lambda: (adult_splits(0).y_train, adult_splits(0).frame_train["sex"]),
}


@pytest.mark.oracle
@pytest.mark.parametrize("case", sorted(CASES))
def test_reweighing_equals_aif360(case):
    y, s = CASES[case]()
    s = np.asarray(s)
    s01 = (s == np.unique(s)[0]).astype(int)
    ours = Reweighing().sample_weight(np.zeros((len(y), 1)), y, sensitive_features=s)
    theirs = _aif360_weights(y, s01)
    diff = np.max(np.abs(ours - theirs))
    print(f"{case}: max |scrutiny - AIF360| = {diff:.3e}")
    assert diff <= 1e-12


@pytest.mark.oracle
def test_reweighing_equals_aif360_with_instance_weights():
    d = adult_splits(0)
    s = np.asarray(d.frame_train["sex"])
    w0 = np.random.default_rng(0).uniform(0.5, 2.0, len(s))
    ours = Reweighing().sample_weight(d.X_train, d.y_train, sensitive_features=s,
                                      sample_weight=w0)
    assert np.max(np.abs(ours - _aif360_weights(d.y_train, (s == "Male").astype(int), w0))) \
        <= 1e-12


def test_reweighing_makes_label_independent_of_group():
    d = compas_splits(0)
    w = Reweighing().fit(d.X_train, d.y_train, sensitive_features=d.s_train).weights_
    rates = [np.average(d.y_train[d.s_train == g], weights=w[d.s_train == g])
             for g in np.unique(d.s_train)]
    assert rates == pytest.approx([np.mean(d.y_train)] * len(rates), abs=1e-12)


@pytest.mark.parametrize("name", ["compas", "adult"])
def test_reweighing_reduces_demographic_parity_gap(name):
    d = compas_splits(0) if name == "compas" else adult_splits(0)
    base = LogisticRegression(max_iter=2000).fit(d.X_train, d.y_train)
    w = Reweighing().sample_weight(d.X_train, d.y_train, sensitive_features=d.s_train)
    fixed = LogisticRegression(max_iter=2000).fit(d.X_train, d.y_train, sample_weight=w)
    before = gap(d.y_test, base.predict(d.X_test), d.s_test, "demographic_parity")
    after = gap(d.y_test, fixed.predict(d.X_test), d.s_test, "demographic_parity")
    print(f"{name} demographic parity gap: {before:.4f} -> {after:.4f}")
    assert after < before


def test_reweighing_group_weights_and_params():
    rw = Reweighing(pos_label=1)
    assert clone(rw).get_params() == {"pos_label": 1}
    rw.fit([[0]] * 4, [1, 0, 1, 1], sensitive_features=list("aabb"))
    assert rw.group_weights_[("a", 1)] == pytest.approx(1.5)
    assert rw.group_weights_[("b", 1)] == pytest.approx(0.75)
    assert list(rw.classes_) == [0, 1]


def test_reweighing_init_is_keyword_only():
    with pytest.raises(TypeError):
        Reweighing(1)  # type: ignore[misc]


@pytest.mark.parametrize(("y", "word"), [([0, 1, 2, 1], "multiclass"),
                                          ([0.1, 0.5, 2.3, 1.7], "regression")])
def test_reweighing_rejects_non_binary_targets(y, word):
    with pytest.raises(InvalidParameterError, match=f"binary classification.*{word}"):
        Reweighing().fit([[0]] * 4, y, sensitive_features=list("aabb"))


def test_reweighing_rejects_bad_inputs():
    with pytest.raises(InvalidParameterError, match="sensitive_features"):
        Reweighing().fit([[0]] * 4, [0, 1, 0, 1], sensitive_features=None)
    with pytest.raises(DataValidationError, match="sample_weight"):
        Reweighing().fit([[0]] * 4, [0, 1, 0, 1], sensitive_features=list("aabb"),
                         sample_weight=[1, -1, 1, 1])
    with pytest.raises(InvalidParameterError, match="pos_label"):
        Reweighing(pos_label=5).fit([[0]] * 4, [0, 1, 0, 1], sensitive_features=list("aabb"))

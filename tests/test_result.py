"""The result object: group tables, disparities, exports, explanations, warnings."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from scrutiny.exceptions import (
    ContinuousInputWarning,
    EmptyIntersectionWarning,
    ScrutinyWarning,
    SmallGroupWarning,
    UndefinedMetricWarning,
)
from scrutiny.fairness import CRITERIA, assess

RNG = np.random.default_rng(7)
N = 3000
Y = RNG.integers(0, 2, N)
P = np.where(RNG.random(N) < 0.8, Y, 1 - Y)
A = RNG.choice(["a", "b", "c"], N)
B = RNG.choice(["x", "y"], N)


def quiet(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScrutinyWarning)
        return assess(**kw)


def test_groups_match_boolean_masks():
    r = quiet(y_true=Y, y_pred=P, sensitive_features={"A": A, "B": B}, ci=None)
    assert len(r.groups) == 6
    for g in r.groups:
        m = (g.features["A"] == A) & (g.features["B"] == B)
        assert g.count == m.sum()
        assert g.value("selection_rate") == pytest.approx(P[m].mean(), abs=1e-12)
        pos = m & (Y == 1)
        assert g.value("true_positive_rate") == pytest.approx(P[pos].mean(), abs=1e-12)
    # each feature alone is also reported
    assert [g.features for g in r.by_feature["A"]] == [{"A": "a"}, {"A": "b"}, {"A": "c"}]
    for g in r.by_feature["B"]:
        m = g.features["B"] == B
        assert g.value("accuracy") == pytest.approx((Y[m] == P[m]).mean(), abs=1e-12)


def test_disparities_and_criteria_from_group_values():
    r = quiet(y_true=Y, y_pred=P, sensitive_features={"A": A, "B": B}, random_state=0)
    sr = np.array([g.value("selection_rate") for g in r.groups])
    assert r.difference("selection_rate") == pytest.approx(sr.max() - sr.min())
    assert r.ratio("selection_rate") == pytest.approx(sr.min() / sr.max())
    overall = P.mean()
    assert r.difference("selection_rate", method="to_overall") == pytest.approx(
        np.abs(sr - overall).max())
    eo = r.criteria["equalized_odds"]
    assert eo["difference"] == pytest.approx(max(r.difference("true_positive_rate"),
                                                 r.difference("false_positive_rate")))
    assert set(r.criteria) == set(CRITERIA)
    lo, hi = r.disparities["selection_rate"].ci_difference
    assert 0 <= lo <= hi <= 1


def test_reference_group_differences():
    r = quiet(y_true=Y, y_pred=P, sensitive_features={"A": A}, reference="b", ci=None)
    d = r.to_dict()
    ref = next(g for g in d["groups"] if g["is_reference"])
    assert ref["features"] == {"A": "b"}
    for g in d["groups"]:
        diff = g["to_reference"]["selection_rate"]["difference"]
        assert diff == pytest.approx(g["metrics"]["selection_rate"]["value"]
                                     - ref["metrics"]["selection_rate"]["value"])


def test_to_dict_is_json_and_tidy_tables_agree():
    r = quiet(y_true=Y, y_pred=P, sensitive_features={"A": A, "B": B}, random_state=0)
    doc = json.loads(r.to_json())
    assert doc["schema_version"] == "1.0"
    assert len(doc["groups"]) == 6 and set(doc["by_feature"]) == {"A", "B"}
    assert doc["tests"]["correction"] == "holm"
    assert len([t for t in doc["tests"]["pairs"] if t["metric"] == "accuracy"]) == 15
    pdf = r.to_pandas()
    pl_df = r.to_polars()
    assert len(pdf) == len(pl_df) == (6 + 3 + 2) * len(r.metrics)
    row = pdf[(pdf.level == "intersection") & (pdf.A == "a") & (pdf.B == "x")
              & (pdf.metric == "accuracy")]
    assert row.value.item() == pytest.approx(r.groups[0].value("accuracy"))


def test_holm_adjusted_p_values_are_monotone_and_bounded():
    r = quiet(y_true=Y, y_pred=P, sensitive_features={"A": A, "B": B}, random_state=0)
    pairs = [t for t in r.to_dict()["tests"]["pairs"] if t["metric"] == "selection_rate"]
    p = np.array([t["p_value"] for t in pairs])
    adj = np.array([t["p_adjusted"] for t in pairs])
    assert np.all(adj >= p - 1e-15) and np.all(adj <= 1)
    order = np.argsort(p)
    assert np.all(np.diff(adj[order]) >= -1e-15)


def test_explain_uses_the_numbers():
    r = quiet(y_true=Y, y_pred=P, sensitive_features={"A": A}, random_state=0)
    text = r.explain("false_positive_rate")
    assert f"{r.difference('false_positive_rate'):.3g}" in text
    assert "misleads" in text and "assumes" in text
    assert "Equalized odds" in r.explain("equalized_odds")
    for word in (" fair.", " unfair", "is fair"):
        assert word not in text


def test_four_fifths_is_opt_in_and_a_flag():
    r = quiet(y_true=Y, y_pred=P, sensitive_features={"A": A}, ci=None)
    assert "policy" not in r.criteria["disparate_impact"]
    r = quiet(y_true=Y, y_pred=P, sensitive_features={"A": A}, ci=None, policy="four_fifths")
    pol = r.criteria["disparate_impact"]["policy"]
    assert pol["threshold"] == 0.8
    assert pol["below_threshold"] == (r.ratio("selection_rate") < 0.8)
    assert "not a finding" in pol["note"]


def test_small_group_and_empty_intersection_warnings():
    a = np.array(["p"] * 50 + ["q"] * 50 + ["r"] * 5)
    b = np.array(["u"] * 50 + ["v"] * 55)
    y = np.tile([0, 1], 53)[:105]
    with pytest.warns(SmallGroupWarning, match=r"fewer than 30 rows.*a=r, b=v \(5 rows\)"):
        r = assess(y, y, sensitive_features={"a": a, "b": b}, ci=None)
    codes = {w.code for w in r.warnings}
    assert {"small_group", "empty_intersection"} <= codes
    with pytest.warns(EmptyIntersectionWarning, match=r"3 of 6 combinations"):
        assess(y, y, sensitive_features={"a": a, "b": b}, ci=None)


def test_undefined_rate_is_null_and_warned():
    y = np.array([0, 0, 0, 1, 1, 0])
    p = np.array([0, 1, 0, 1, 0, 0])
    s = np.array(list("aaabbb"))
    with pytest.warns(UndefinedMetricWarning, match=r"true_positive_rate is undefined.*=a"):
        r = assess(y, p, sensitive_features=s, min_group_size=0, ci=None)
    assert r.to_dict()["groups"][0]["metrics"]["true_positive_rate"]["value"] is None


def test_continuous_predictions_become_regression_with_a_warning():
    yp = Y + RNG.normal(0, 0.3, N)
    with pytest.warns(ContinuousInputWarning):
        r = assess(Y.astype(float), yp, sensitive_features=A, random_state=0)
    assert r.task == "regression"
    for g in r.groups:
        m = g.features["sensitive_feature_0"] == A
        assert g.value("mae") == pytest.approx(np.abs(Y[m] - yp[m]).mean())
        lo, hi = g.ci("r2")
        assert lo < g.value("r2") < hi


def test_multiclass_one_vs_rest():
    y = RNG.integers(0, 3, N)
    p = np.where(RNG.random(N) < 0.7, y, RNG.integers(0, 3, N))
    r = quiet(y_true=y, y_pred=p, sensitive_features=A, ci=None)
    assert r.task == "multiclass"
    assert "true_positive_rate[2]" in r.metrics
    g = r.groups[0]
    m = A == "a"
    assert g.value("true_positive_rate[2]") == pytest.approx((p[m & (y == 2)] == 2).mean())
    assert g.value("accuracy") == pytest.approx((p[m] == y[m]).mean())


def test_weighted_values():
    w = RNG.random(N) * 3
    r = quiet(y_true=Y, y_pred=P, sensitive_features=A, sample_weight=w, ci=None)
    for g in r.groups:
        m = g.features["sensitive_feature_0"] == A
        assert g.value("selection_rate") == pytest.approx(np.average(P[m], weights=w[m]))


def test_seed_gives_same_intervals():
    a = quiet(y_true=Y, y_pred=P, sensitive_features=A, random_state=3, metrics=["f1"])
    b = quiet(y_true=Y, y_pred=P, sensitive_features=A, random_state=3, metrics=["f1"])
    assert a.groups[0].ci("f1") == b.groups[0].ci("f1")

"""Which training rows drive a group gap: gradient check, retraining check, slices, privacy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from scrutiny.attribution import (
    attribute,
    attribute_disparity,
    explain_query,
    undersampled_slices,
)
from scrutiny.attribution._disparity import _Gap
from scrutiny.attribution._linear import linear_parts
from scrutiny.exceptions import (
    ColumnNotFoundError,
    DataValidationError,
    InvalidParameterError,
    NotFittedError,
)

from ._data import adult_splits, single_blas_thread  # noqa: F401 - autouse fixture


def _fit(x, y):
    return LogisticRegression(C=1.0, max_iter=5000, tol=1e-10).fit(x, y)


@pytest.fixture(scope="module")
def small():
    d = adult_splits(11, n_train=800, n_eval=800, n_test=10)
    return d, _fit(d.X_train, d.y_train)


def _eo_gap(model, x, y, sex):
    """Thresholded equal-opportunity gap, Male minus Female (TPR difference)."""
    pred = model.predict(x)
    return pred[(sex == "Male") & (y == 1)].mean() - pred[(sex == "Female") & (y == 1)].mean()


@pytest.mark.parametrize("target", ["equal_opportunity", "demographic_parity", "group_loss"])
def test_gap_gradient_matches_finite_differences(small, target):
    d, model = small
    parts = linear_parts(model, d.X_train, d.y_train)
    gap = _Gap(parts, target, d.X_eval, d.y_eval, d.frame_eval["sex"].to_numpy(dtype=object),
               None, 10)
    grad = gap.gradient()
    rng = np.random.default_rng(0)
    for _ in range(3):
        u = rng.normal(size=parts.n_params)
        u /= np.linalg.norm(u)
        eps = 1e-5
        fd = (gap.value(parts.theta + eps * u) - gap.value(parts.theta - eps * u)) / (2 * eps)
        assert grad @ u == pytest.approx(fd, rel=1e-5, abs=1e-9)


def test_scores_follow_the_sign_convention_and_match_retraining(small):
    d, model = small
    res = attribute_disparity(model, d.X_train, d.y_train, d.X_eval, d.y_eval,
                              sensitive_features=d.frame_eval["sex"], top_k=15,
                              random_state=0, n_random=3)
    scores = res.scores[0]
    assert res.scores.shape == (1, 800)
    assert any("WIDEN" in n for n in res.notes)
    gap0 = res.extras["gap"]["smooth"]
    assert gap0 > 0 and res.extras["gap"]["high_group"] != res.extras["gap"]["low_group"]
    # drivers = most negative scores, and removing them narrows the gap after retraining
    drivers = [r["train_index"] for r in res.extras["drivers"]]
    assert drivers == [i for i, _ in res.top(0, 15, kind="harmful")]
    remove = res.extras["actions"]["remove"]
    assert remove["predicted_change"] < 0 and remove["actual_change"] < 0
    # Newton is closer to retraining than first order (first order under-estimates groups)
    assert abs(remove["newton_change"] - remove["actual_change"]) <= abs(
        remove["predicted_change"] - remove["actual_change"]) + 1e-4
    assert remove["actual_change"] < res.extras["random_baseline"]["mean_change"]
    # single-example check: the most positive score widens the gap when its example is removed
    parts = linear_parts(model, d.X_train, d.y_train)
    gap = _Gap(parts, "equal_opportunity", d.X_eval, d.y_eval,
               d.frame_eval["sex"].to_numpy(dtype=object), None, 10)
    base = gap.measure(parts.retrain())[0]
    for i in (int(np.argmax(scores)), int(np.argmin(scores))):
        mask = np.ones(800, bool)
        mask[i] = False
        actual = gap.measure(parts.retrain(mask=mask))[0] - base
        assert np.sign(actual) == np.sign(scores[i])
        assert actual == pytest.approx(scores[i], rel=0.3)
    for name in ("reweight", "relabel"):
        act = res.extras["actions"][name]
        assert np.sign(act["predicted_change"]) == np.sign(act["actual_change"])
    assert res.findings[0]["kind"] == "disparity_driver"
    res.to_json()


def test_group_attribution_over_clusters_and_slices(small):
    d, model = small
    res = attribute_disparity(model, d.X_train, d.y_train, d.X_eval, d.y_eval,
                              sensitive_features=d.frame_eval["sex"], verify=True, n_random=0,
                              n_clusters=4, random_state=0)
    rows = res.extras["group_attribution"]
    assert len(rows) == 4 and sum(r["size"] for r in rows) == 800
    assert all(r["description"] for r in rows)
    newton = np.array([r["newton_change"] for r in rows])
    actual = np.array([r["actual_change"] for r in rows])
    assert np.corrcoef(newton, actual)[0, 1] > 0.8
    slices = attribute_disparity(model, d.X_train, d.y_train, d.X_eval, d.y_eval,
                                 sensitive_features=d.frame_eval["sex"], verify=False,
                                 groups=d.frame_train["race"], n_random=0)
    names = {r["group"] for r in slices.extras["group_attribution"]}
    assert names == set(d.frame_train["race"])
    assert slices.extras["actions"]["remove"].get("actual_change") is None
    idx = attribute_disparity(model, d.X_train, d.y_train, d.X_eval, d.y_eval,
                              sensitive_features=d.frame_eval["sex"], verify=False,
                              groups=[np.arange(50), np.arange(100, 300)])
    assert [r["size"] for r in sorted(idx.extras["group_attribution"],
                                      key=lambda r: r["group"])] == [50, 200]


def test_group_loss_target_works_for_regression(small):
    d, _ = small
    target = d.X_train[:, 0] * 2 + np.random.default_rng(0).normal(size=800)
    ridge = Ridge(alpha=1.0).fit(d.X_train, target)
    res = attribute_disparity(ridge, d.X_train, target, d.X_eval, d.X_eval[:, 0] * 2,
                              sensitive_features=d.frame_eval["sex"], target="group_loss",
                              verify=True, n_random=2, n_clusters=3, random_state=0)
    assert res.method == "disparity:group_loss"
    assert res.extras["actions"]["remove"]["actual_change"] < 0
    assert "relabel" not in res.extras["actions"]
    with pytest.raises(InvalidParameterError, match=r"binary classifier.*group_loss"):
        attribute_disparity(ridge, d.X_train, target, d.X_eval, d.y_eval,
                            sensitive_features=d.frame_eval["sex"])


def test_pipeline_and_intersectional_groups(small):
    d, _ = small
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, tol=1e-10)).fit(
        d.X_train, d.y_train)
    res = attribute_disparity(pipe, d.X_train, d.y_train, d.X_eval, d.y_eval,
                              sensitive_features=d.frame_eval[["sex", "race"]],
                              target="demographic_parity", verify=False, min_group_size=20,
                              train_sensitive_features=d.frame_train[["sex", "race"]])
    assert "&" in res.extras["gap"]["high_group"]
    assert any("Pipeline" in n for n in res.notes)
    assert any(f["kind"] == "undersampled_slice" for f in res.findings)
    assert all("group" in r for r in res.extras["drivers"])


def test_attribute_disparity_bad_input(small):
    d, model = small
    sex = d.frame_eval["sex"]
    args = (model, d.X_train, d.y_train, d.X_eval, d.y_eval)
    with pytest.raises(InvalidParameterError, match=r"'target'.*equal_opportunity"):
        attribute_disparity(*args, sensitive_features=sex, target="equalized_odds")
    with pytest.raises(InvalidParameterError, match="'top_k'"):
        attribute_disparity(*args, sensitive_features=sex, top_k=0)
    with pytest.raises(InvalidParameterError, match="'reweight'"):
        attribute_disparity(*args, sensitive_features=sex, reweight=1.5)
    with pytest.raises(DataValidationError, match="sensitive_features has 10 rows"):
        attribute_disparity(*args, sensitive_features=sex[:10])
    with pytest.raises(DataValidationError, match="at least two groups"):
        attribute_disparity(*args, sensitive_features=np.full(800, "x"))
    with pytest.raises(InvalidParameterError, match="no column names"):
        attribute_disparity(*args, sensitive_features="sex")
    with pytest.raises(NotFittedError):
        attribute_disparity(LogisticRegression(), *args[1:], sensitive_features=sex)
    forest = RandomForestClassifier(n_estimators=5).fit(d.X_train, d.y_train)
    with pytest.raises(InvalidParameterError, match=r"convex.*Methods that apply.*knn_shapley"):
        attribute_disparity(forest, *args[1:], sensitive_features=sex)
    with pytest.raises(InvalidParameterError, match="pos_label"):
        attribute_disparity(*args, sensitive_features=sex, pos_label=">50K")
    frame = pd.DataFrame(d.X_eval)
    frame.columns = [str(c) for c in frame.columns]
    with pytest.raises(ColumnNotFoundError, match="'sexx'"):
        attribute_disparity(model, d.X_train, d.y_train, frame, d.y_eval,
                            sensitive_features=["sexx"])


@pytest.mark.slow
def test_removing_eo_drivers_shrinks_the_gap_more_than_random_removal():
    """Ten seeds: name k drivers on eval rows, retrain without them, measure on test rows."""
    k, n_random = 30, 5
    rows = []
    for seed in range(10):
        d = adult_splits(seed)
        sex_eval = d.frame_eval["sex"].to_numpy()
        sex_test = d.frame_test["sex"].to_numpy()
        model = _fit(d.X_train, d.y_train)
        res = attribute_disparity(model, d.X_train, d.y_train, d.X_eval, d.y_eval,
                                  sensitive_features=sex_eval, top_k=k, verify=True,
                                  n_random=2, groups=d.frame_train["sex"], random_state=seed)
        assert res.extras["gap"]["high_group"] == "Male"
        drivers = np.array([r["train_index"] for r in res.extras["drivers"]])
        assert len(drivers) == k
        base = _eo_gap(clone(model).fit(d.X_train, d.y_train), d.X_test, d.y_test, sex_test)
        keep = np.ones(len(d.y_train), bool)
        keep[drivers] = False
        after = _eo_gap(_fit(d.X_train[keep], d.y_train[keep]), d.X_test, d.y_test, sex_test)
        rng = np.random.default_rng(100 + seed)
        rand = []
        for _ in range(n_random):
            keep = np.ones(len(d.y_train), bool)
            keep[rng.choice(len(d.y_train), k, replace=False)] = False
            rand.append(_eo_gap(_fit(d.X_train[keep], d.y_train[keep]), d.X_test, d.y_test,
                                sex_test))
        remove = res.extras["actions"]["remove"]
        rows.append({
            "seed": seed, "gap_test": base,
            "driver_reduction": base - after, "random_reduction": base - float(np.mean(rand)),
            "driver_abs_reduction": abs(base) - abs(after),
            "random_abs_reduction": abs(base) - float(np.mean(np.abs(rand))),
            "eval_predicted": remove["newton_change"], "eval_actual": remove["actual_change"],
            "eval_random": res.extras["random_baseline"]["mean_change"],
        })
    table = pd.DataFrame(rows)
    diff = table["driver_reduction"] - table["random_reduction"]
    abs_diff = table["driver_abs_reduction"] - table["random_abs_reduction"]
    print("\n" + table.round(4).to_string(index=False))
    print(f"EO gap (thresholded TPR gap, test rows), removing k={k} of 3000 training rows:")
    print(f"  drivers shrink it by {table['driver_reduction'].mean():.3f} "
          f"(sd {table['driver_reduction'].std():.3f}); random rows by "
          f"{table['random_reduction'].mean():.3f} (sd {table['random_reduction'].std():.3f})")
    print(f"  paired difference {diff.mean():.3f} (sd {diff.std():.3f}), "
          f"Cohen's d_z = {diff.mean() / diff.std():.2f}")
    print(f"  |gap| reduction: drivers {table['driver_abs_reduction'].mean():.3f}, random "
          f"{table['random_abs_reduction'].mean():.3f}, paired d_z = "
          f"{abs_diff.mean() / abs_diff.std():.2f}")
    assert (diff > 0).all()
    assert diff.mean() / diff.std() > 1.0
    assert (abs_diff > 0).sum() >= 8 and abs_diff.mean() > 0
    # the eval-set predictions agree in sign with retraining
    assert (np.sign(table["eval_predicted"]) == np.sign(table["eval_actual"])).all()


# --------------------------------------------------------------------------- slices


def test_undersampled_slices_report():
    rng = np.random.default_rng(0)
    sex = rng.choice(["F", "M"], 1000, p=[0.1, 0.9])
    race = rng.choice(["a", "b"], 1000, p=[0.97, 0.03])
    y = rng.integers(0, 2, 1000)
    frame = pd.DataFrame({"sex": sex, "race": race})
    reference = pd.DataFrame({"sex": rng.choice(["F", "M"], 500),
                              "race": rng.choice(["a", "b"], 500, p=[0.9, 0.1])})
    rows = undersampled_slices(frame, ["sex", "race"], y=y, reference=reference)
    by = {r["slice"]: r for r in rows}
    assert sum(r["count"] for r in rows) == 1000
    small = by["sex=F & race=b"]
    assert small["undersampled"] and small["count"] < 30
    assert by["sex=F & race=a"]["ratio"] < 0.5  # 10 % of training vs ~45 % of reference
    assert not by["sex=M & race=a"]["undersampled"]
    plain = undersampled_slices(np.zeros((1000, 2)), sex, min_count=5)
    assert {r["slice"] for r in plain} == {"F", "M"}
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'sex'"):
        undersampled_slices(frame, "sx")
    with pytest.raises(DataValidationError, match="rows"):
        undersampled_slices(frame, sex[:10])
    with pytest.raises(InvalidParameterError, match="min_count"):
        undersampled_slices(frame, "sex", min_count=0)


# --------------------------------------------------------------------------- privacy


def test_explain_query_shows_only_shareable_columns(small):
    d, model = small
    res = attribute(model, d.X_train, d.y_train, d.X_eval[:3], d.y_eval[:3],
                    method="influence")
    frame = d.frame_train
    out = explain_query(res, frame, query=1, shareable=["age", "occupation"], k=4)
    assert out["shown_columns"] == ["age", "occupation"]
    assert len(out["cases"]) == 4
    for case in out["cases"]:
        assert set(case["values"]) == {"age", "occupation"}
        assert "train_index" not in case and "score" not in case
    assert out["cases"][0]["strength"] == 1.0
    top = res.top(1, 1)[0][0]
    assert out["cases"][0]["values"]["occupation"] == frame["occupation"][top]
    guarded = explain_query(res, frame, query=1, shareable=["age", "occupation", "education"],
                            k=4, min_group_size=10_000)
    assert all("withheld" in c and "values" not in c for c in guarded["cases"])
    knn = attribute(None, d.X_train, d.y_train, d.X_eval[:2], d.y_eval[:2],
                    method="knn_shapley")
    similar = explain_query(knn, frame, shareable=["sex"], k=2)
    assert similar["method"] == "knn_shapley"


def test_explain_query_requires_declared_shareable_columns(small):
    d, model = small
    res = attribute(model, d.X_train, d.y_train, d.X_eval[:2], d.y_eval[:2],
                    method="influence")
    for bad in (None, [], "age"):
        with pytest.raises(InvalidParameterError, match="shareable"):
            explain_query(res, d.frame_train, shareable=bad)
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'occupation'"):
        explain_query(res, d.frame_train, shareable=["ocupation"])
    with pytest.raises(DataValidationError, match="training order"):
        explain_query(res, d.frame_train.iloc[:10], shareable=["age"])
    with pytest.raises(InvalidParameterError, match="'query'"):
        explain_query(res, d.frame_train, query=5, shareable=["age"])
    with pytest.raises(InvalidParameterError, match="train_frame"):
        explain_query(res, d.X_train, shareable=["age"])

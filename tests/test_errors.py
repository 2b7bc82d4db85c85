"""Bad input at the library boundary: one exception family, messages that name the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scrutiny.exceptions import (
    ColumnNotFoundError,
    DataValidationError,
    InvalidParameterError,
    ScrutinyError,
    UnsupportedBackendError,
)
from scrutiny.fairness import assess

Y = np.array([0, 1, 1, 0, 1, 0, 1, 0])
P = np.array([0, 1, 0, 0, 1, 1, 1, 0])
S = np.array(list("aabbaabb"))


def test_mismatched_lengths_names_both_lengths():
    with pytest.raises(DataValidationError, match=r"y_true has 8, y_pred has 7"):
        assess(Y, P[:-1], sensitive_features=S)


def test_sensitive_length_mismatch():
    with pytest.raises(DataValidationError, match=r"has 7 rows but y_true/y_pred have 8"):
        assess(Y, P, sensitive_features=S[:-1])


def test_unknown_column_did_you_mean():
    df = pd.DataFrame({"label": Y, "pred": P, "race": S})
    with pytest.raises(ColumnNotFoundError, match=r"'rase'.*Did you mean 'race'") as info:
        assess("label", "pred", data=df, sensitive_features=["rase"])
    assert isinstance(info.value, KeyError)
    with pytest.raises(ColumnNotFoundError, match=r"'y_pred'.*Did you mean 'pred'"):
        assess("label", "preds", data=df, sensitive_features="race")


def test_non_binary_labels_for_binary_task():
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    with pytest.raises(DataValidationError, match=r"two classes.*3 distinct labels"):
        assess(y, y, sensitive_features=S, task="binary")


def test_score_metric_on_multiclass_is_refused():
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    with pytest.raises(InvalidParameterError, match="roc_auc"):
        assess(y, y, sensitive_features=S, metrics=["roc_auc"])


def test_nan_labels_are_an_error():
    y = Y.astype(float)
    y[3] = np.nan
    with pytest.raises(DataValidationError, match=r"y_true has 1 missing value.*row\(s\) \[3\]"):
        assess(y, P, sensitive_features=S)


def test_empty_data():
    with pytest.raises(DataValidationError, match="empty data"):
        assess(np.array([]), np.array([]), sensitive_features=np.array([]))


def test_single_group_is_an_error():
    with pytest.raises(DataValidationError, match=r"Only one group \(sensitive_feature_0=a\)"):
        assess(Y, P, sensitive_features=np.array(["a"] * 8))


def test_missing_sensitive_value_error_and_group():
    s = S.astype(object)
    s[2] = None
    with pytest.raises(DataValidationError, match=r"1 missing value.*missing='group'"):
        assess(Y, P, sensitive_features=s)
    with pytest.warns(UserWarning, match="missing sensitive value"):
        r = assess(Y, P, sensitive_features=s, missing="group", min_group_size=0, ci=None)
    assert [g.features["sensitive_feature_0"] for g in r.groups] == ["a", "b", "missing"]
    assert [g.count for g in r.groups] == [4, 3, 1]


def test_string_labels_need_pos_label():
    y = np.where(Y == 1, ">50K", "<=50K")
    p = np.where(P == 1, ">50K", "<=50K")
    with pytest.raises(InvalidParameterError, match=r"pos_label="):
        assess(y, p, sensitive_features=S)
    r = assess(y, p, sensitive_features=S, pos_label=">50K", ci=None, min_group_size=0)
    ref = assess(Y, P, sensitive_features=S, ci=None, min_group_size=0)
    assert r.groups[0].value("selection_rate") == ref.groups[0].value("selection_rate")


def test_continuous_pred_with_classification_metric():
    with pytest.raises(DataValidationError, match=r"continuous values.*y_score"):
        assess(Y, P * 0.7 + 0.1, sensitive_features=S, metrics=["selection_rate"])


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"ci": 1.5}, r"'ci' parameter of assess must be a confidence level"),
        ({"n_boot": -1}, r"'n_boot' parameter"),
        ({"missing": "drop"}, r"'missing' parameter of assess must be 'error' or 'group'"),
        ({"correction": "bonferroni"}, r"'correction' parameter"),
        ({"metrics": ["selction_rate"]}, r"Did you mean 'selection_rate'"),
        ({"task": "ranking"}, r"'task' parameter"),
        ({"policy": "80%"}, r"'policy' parameter"),
        ({"reference": "zzz"}, r"existing group.*Got 'zzz'.*\['a', 'b'\]"),
        ({"sample_weight": -np.ones(8)}, r"non-negative"),
    ],
)
def test_bad_parameters(kwargs, pattern):
    with pytest.raises(InvalidParameterError, match=pattern):
        assess(Y, P, sensitive_features=S, **kwargs)


def test_unsupported_object():
    with pytest.raises(UnsupportedBackendError, match="array-like"):
        assess(Y, object(), sensitive_features=S)
    with pytest.raises(UnsupportedBackendError, match="must be a dataframe"):
        assess("a", "b", data={"a": [1]}, sensitive_features="c")


def test_scalar_input():
    with pytest.raises(InvalidParameterError, match="scalar"):
        assess(1, P, sensitive_features=S)


def test_every_error_is_a_scrutiny_error():
    for exc in (ColumnNotFoundError, DataValidationError, InvalidParameterError,
                UnsupportedBackendError):
        assert issubclass(exc, ScrutinyError)


def test_result_accessors_validate():
    r = assess(Y, P, sensitive_features=S, ci=None, min_group_size=0)
    with pytest.raises(InvalidParameterError, match="'metric' parameter"):
        r.difference("roc_auc")
    with pytest.raises(InvalidParameterError, match="'method' parameter"):
        r.difference("selection_rate", method="max")
    with pytest.raises(InvalidParameterError, match="needs a reference group"):
        r.difference("selection_rate", method="to_reference")

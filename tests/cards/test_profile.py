"""Dataset profiling and the dataset card built from it."""

from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa
import pytest

from scrutiny.cards import dataset_card_from_data, profile_dataset, size_category
from scrutiny.datasets import adult_path, load_adult
from scrutiny.exceptions import ColumnNotFoundError, ConfigError, InvalidParameterError


@pytest.fixture
def table():
    return pa.table({
        "y": [1, 0, 1, 1, 0, 0, 1, None],
        "sex": ["F", "F", "M", "M", "M", "M", " ", "F"],
        "race": ["a", "b", "a", "b", "a", "a", "b", "a"],
        "x": [1.0, math.nan, 2.0, None, 3.0, 4.0, 5.0, 6.0],
    })


@pytest.mark.parametrize(("n", "bucket"), [
    (0, "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"), (48_842, "10K<n<100K"),
    (999_999, "100K<n<1M"), (10**6, "1M<n<10M"), (10**12, "n>1T")])
def test_size_category(n, bucket):
    assert size_category(n) == bucket


def test_size_category_rejects_bad_counts():
    with pytest.raises(InvalidParameterError):
        size_category(-1)
    with pytest.raises(InvalidParameterError):
        size_category(1.5)  # type: ignore[arg-type]


def test_profile_counts_groups_labels_and_missing(table):
    p = profile_dataset(table, label="y", sensitive_features="sex,race", min_group_size=3)
    assert (p.n_rows, p.n_columns) == (8, 4)
    missing = {c["name"]: c["missing"] for c in p.columns}
    assert missing == {"y": 1, "sex": 1, "race": 0, "x": 2}  # null, blank, NaN + null
    assert p.pos_label == 1
    assert p.label_counts == {0: 3, 1: 4, "(missing)": 1}
    sex = {g["group"]: g for g in p.groups["sex"]}
    assert sex["F"]["count"] == 3
    assert sex["F"]["label_counts"] == {0: 1, 1: 1, "(missing)": 1}
    assert sex["F"]["positive_rate"] == 0.5  # the missing label is left out
    assert sex["M"]["positive_rate"] == 0.5
    assert sex["(missing)"]["count"] == 1
    assert {tuple(g["group"].values()): g["count"] for g in p.intersection}[("M", "a")] == 3
    assert p.size_category == "n<1K"


def test_profile_oracle_against_pandas():
    df = load_adult()
    p = profile_dataset(adult_path(), label="income", sensitive_features=["sex", "race"])
    counts = df["race"].value_counts()
    rates = df.groupby("race")["income"].mean()
    for g in p.groups["race"]:
        assert g["count"] == counts[g["group"]]
        assert g["positive_rate"] == pytest.approx(rates[g["group"]])
    assert sum(g["count"] for g in p.intersection) == len(df)
    assert p.size_category == "10K<n<100K"


def test_profile_accepts_dataframes(table):
    df = table.to_pandas()
    assert profile_dataset(df, sensitive_features=["race"]).groups == profile_dataset(
        table, sensitive_features=["race"]).groups
    with pytest.raises(InvalidParameterError, match="data: cannot read a int"):
        profile_dataset(3)


def test_profile_errors(table):
    with pytest.raises(ColumnNotFoundError, match=r"'sx' \(given as 'sensitive_features'\)"
                       ".*Did you mean 'sex'"):
        profile_dataset(table, sensitive_features=["sx"])
    with pytest.raises(ColumnNotFoundError, match="given as 'label'"):
        profile_dataset(table, label="z")
    with pytest.raises(InvalidParameterError, match="pos_label: 7 is not a value"):
        profile_dataset(table, label="y", pos_label=7)
    with pytest.raises(InvalidParameterError, match="'min_group_size' parameter"):
        profile_dataset(table, min_group_size=0)


def test_multiclass_and_string_labels():
    t = pa.table({"y": ["no", "yes", "yes", "maybe"], "g": ["a", "a", "b", "b"]})
    p = profile_dataset(t, label="y", sensitive_features="g")
    assert p.pos_label is None and p.is_classification
    t2 = pa.table({"y": ["no", "yes", "yes"], "g": ["a", "a", "b"]})
    assert profile_dataset(t2, label="y", pos_label="no").pos_label == "no"
    assert profile_dataset(t2, label="y").pos_label == "yes"
    card = dataset_card_from_data(t, label="y", sensitive_features="g")
    assert "`y` values" in card.bias.description


def test_dataset_card_from_adult():
    card = dataset_card_from_data(adult_path(), label="income",
                                  sensitive_features=["sex", "race"],
                                  metadata={"license": "cc-by-4.0", "tags": ["inclusive"]})
    assert card.name == "adult"
    meta = card.metadata
    assert meta.size_categories == ["10K<n<100K"]
    assert meta.task_categories == ["tabular-classification"]
    assert meta.tags == ["inclusive", "tabular", "fairness"]
    assert "48,842 rows and 18 columns" in card.structure
    assert "| `workclass` | string |  | 2,799 (5.7%) | 8 |" in card.structure
    assert "| Female | 16,192 | 33% | 11% |" in card.bias.description
    assert "By sex: 30% (Male) against 11% (Female)" in card.bias.description
    assert "`sex`, `race`" in card.creation.personal_and_sensitive_information
    assert card.bias.recommendations


def test_small_groups_and_rail_dataset_licence(table):
    card = dataset_card_from_data(table, label="y", sensitive_features=["sex"], name="T",
                                  min_group_size=4, metadata={"license": "openrail"})
    assert "**Groups with fewer than 4 rows**" in card.bias.description
    assert "sex: F (3 rows)" in card.bias.description
    assert "This dataset is licensed under `openrail`" in card.uses.out_of_scope_use
    with pytest.raises(ConfigError, match="size_categories"):
        dataset_card_from_data(table, metadata={"size_categories": ["huge"]})


def test_dataset_card_without_label_or_features():
    card = dataset_card_from_data(pd.DataFrame({"a": [1, 2]}), name="A")
    assert card.bias.description is None
    assert card.metadata.task_categories is None
    assert "2 rows and 1 columns" in card.structure

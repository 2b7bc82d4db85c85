"""Real tabular data for the attribution tests: German credit, COMPAS and Adult subsets.

Each fixture returns a :class:`Split` of one-hot encoded categorical and
standardised numeric features (statistics from the training rows only), with
the sensitive columns kept aside for group-removal tests. German credit and
COMPAS are read from the shared data folder (``shared/data`` next to the
repository) and skipped when it is absent; Adult ships with scrutiny.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@dataclass(frozen=True)
class Split:
    """Features, labels and sensitive columns of a train/test split."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    sensitive_train: pd.DataFrame
    feature_names: list[str]


def _encode(
    frame: pd.DataFrame, numeric: list[str], categorical: list[str], train: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    num = frame[numeric].astype(float)
    mean, std = num[train].mean(), num[train].std().replace(0.0, 1.0)
    num = (num - mean) / std
    cat = pd.get_dummies(frame[categorical].astype(str), dtype=float)
    cat = cat.loc[:, cat[train].sum() > 0]
    out = pd.concat([num, cat], axis=1)
    return out.to_numpy(dtype=float), list(out.columns)


def _split(
    name: str, frame: pd.DataFrame, label: np.ndarray, numeric: list[str],
    categorical: list[str], sensitive: list[str], n_train: int, n_test: int, seed: int,
) -> Split:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))[: n_train + n_test]
    frame = frame.iloc[order].reset_index(drop=True)
    label = np.asarray(label)[order]
    train = np.zeros(len(frame), dtype=bool)
    train[:n_train] = True
    x, names = _encode(frame, numeric, categorical, train)
    return Split(
        name=name, X_train=x[train], y_train=label[train], X_test=x[~train],
        y_test=label[~train],
        sensitive_train=frame.loc[train, sensitive].reset_index(drop=True),
        feature_names=names,
    )


def _need(folder: str) -> Path:
    path = DATA / folder
    if not path.exists():
        pytest.skip(f"shared dataset folder {path} is not available")
    return path


def load_german() -> Split:
    """German credit: 800 train / 200 test rows, label credit_good."""
    from scrutiny.datasets import load_german_credit

    df = load_german_credit(_need("german_credit"))
    numeric = ["duration_months", "credit_amount", "installment_rate", "residence_since",
               "age", "existing_credits", "num_dependents"]
    categorical = ["checking_status", "credit_history", "purpose", "savings",
                   "employment_since", "other_debtors", "property", "other_installment_plans",
                   "housing", "job", "telephone", "foreign_worker", "sex"]
    df["age_group"] = np.where(df["age"] < 30, "<30", np.where(df["age"] < 45, "30-44", "45+"))
    return _split("german", df, df["credit_good"].to_numpy(), numeric, categorical,
                  ["sex", "age_group", "foreign_worker"], 800, 200, seed=0)


def _compas_frame() -> pd.DataFrame:
    from scrutiny.datasets import load_compas as read_compas

    df = read_compas(_need("compas"))
    # ProPublica's filter (6,172 rows)
    keep = (
        df["days_b_screening_arrest"].between(-30, 30)
        & (df["is_recid"] != -1)
        & (df["c_charge_degree"] != "O")
        & (df["score_text"] != "N/A")
    )
    return df.loc[keep].reset_index(drop=True)


_COMPAS_NUMERIC = ["age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count"]
_COMPAS_CATEGORICAL = ["c_charge_degree", "sex", "race", "age_cat"]


def load_compas() -> Split:
    """COMPAS (ProPublica filter): 1,500 train / 500 test rows, label two_year_recid."""
    df = _compas_frame()
    return _split("compas", df, df["two_year_recid"].to_numpy(), _COMPAS_NUMERIC,
                  _COMPAS_CATEGORICAL, ["race", "sex", "age_cat"], 1500, 500, seed=1)


def load_compas_multiclass() -> Split:
    """COMPAS with the 3-class ``score_text`` (Low / Medium / High) as label: 1,200 / 300."""
    df = _compas_frame()
    return _split("compas_score_text", df, df["score_text"].to_numpy(), _COMPAS_NUMERIC,
                  _COMPAS_CATEGORICAL, ["race", "sex", "age_cat"], 1200, 300, seed=2)


def load_adult() -> Split:
    """UCI Adult (bundled with scrutiny): 2,000 train / 500 test rows, label income."""
    from scrutiny.datasets import load_adult as read_adult

    df = read_adult(split="train")
    df["capital_gain"] = np.log1p(df["capital_gain"])
    df["capital_loss"] = np.log1p(df["capital_loss"])
    numeric = ["age", "education_num", "hours_per_week", "capital_gain", "capital_loss"]
    categorical = ["workclass", "marital_status", "occupation", "relationship", "race", "sex"]
    df["age_group"] = np.where(df["age"] < 35, "<35", np.where(df["age"] < 50, "35-49", "50+"))
    return _split("adult", df, df["income"].to_numpy(), numeric, categorical,
                  ["sex", "race", "age_group"], 2000, 500, seed=3)


@pytest.fixture(scope="session")
def german() -> Split:
    """German credit split (see :func:`load_german`)."""
    return load_german()


@pytest.fixture(scope="session")
def compas() -> Split:
    """COMPAS binary split (see :func:`load_compas`)."""
    return load_compas()


@pytest.fixture(scope="session")
def compas_multiclass() -> Split:
    """COMPAS 3-class split (see :func:`load_compas_multiclass`)."""
    return load_compas_multiclass()


@pytest.fixture(scope="session")
def adult() -> Split:
    """Adult split (see :func:`load_adult`)."""
    return load_adult()

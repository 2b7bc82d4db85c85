"""Tests of scrutiny.mitigation; shared data (COMPAS, ProPublica filter; Adult) and fixtures."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

COMPAS_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "compas"
ADULT_NUMERIC = ["age", "education_num", "hours_per_week", "capital_gain", "capital_loss"]
ADULT_CATEGORICAL = ["workclass", "marital_status", "occupation", "relationship", "race", "sex"]
COMPAS_NUMERIC = ["age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count"]
COMPAS_CATEGORICAL = ["c_charge_degree", "sex", "race"]


@dataclass(frozen=True)
class Splits:
    """Encoded train / validation / test rows with their groups (and raw frames)."""

    X_train: np.ndarray
    y_train: np.ndarray
    s_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    s_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    s_test: np.ndarray
    frame_train: pd.DataFrame


@functools.cache
def compas_frame() -> pd.DataFrame:
    """COMPAS with ProPublica's filter, African-American and Caucasian defendants."""
    from scrutiny.datasets import load_compas

    df = load_compas(COMPAS_PATH)
    df = df[(df["days_b_screening_arrest"] >= -30) & (df["days_b_screening_arrest"] <= 30)
            & (df["is_recid"] != -1) & (df["c_charge_degree"] != "O")
            & (df["score_text"] != "N/A")]
    df = df[df["race"].isin(["African-American", "Caucasian"])]
    return df.reset_index(drop=True)


@functools.cache
def adult_frame() -> pd.DataFrame:
    """Bundled Adult, log-scaled capital columns."""
    from scrutiny.datasets import load_adult

    df = load_adult(split="all")
    df["capital_gain"] = np.log1p(df["capital_gain"])
    df["capital_loss"] = np.log1p(df["capital_loss"])
    return df


def _encode(df: pd.DataFrame, numeric: list[str], categorical: list[str], label: str,
            sensitive: str, sizes: tuple[int, int, int], seed: int) -> Splits:
    rng = np.random.default_rng(seed)
    n_train, n_val, n_test = sizes
    order = rng.permutation(len(df))[: n_train + n_val + n_test]
    df = df.iloc[order].reset_index(drop=True)
    part = np.repeat([0, 1, 2], [n_train, n_val, len(df) - n_train - n_val])
    num = df[numeric].astype(float)
    mean, std = num[part == 0].mean(), num[part == 0].std().replace(0.0, 1.0)
    cat = pd.get_dummies(df[categorical].astype(str), dtype=float)
    enc = pd.concat([(num - mean) / std, cat], axis=1).to_numpy(dtype=float)
    y = df[label].to_numpy().astype(int)
    s = df[sensitive].astype(str).to_numpy()
    p = [part == j for j in range(3)]
    return Splits(enc[p[0]], y[p[0]], s[p[0]], enc[p[1]], y[p[1]], s[p[1]],
                  enc[p[2]], y[p[2]], s[p[2]], df[p[0]].reset_index(drop=True))


@functools.cache
def compas_splits(seed: int = 0) -> Splits:
    """About 50 / 20 / 30 % of the 5,278 filtered rows, sensitive feature ``race``."""
    df = compas_frame()
    n = len(df)
    return _encode(df, COMPAS_NUMERIC, COMPAS_CATEGORICAL, "two_year_recid", "race",
                   (n // 2, n // 5, n - n // 2 - n // 5), seed)


@functools.cache
def adult_splits(seed: int = 0, sizes: tuple[int, int, int] = (8000, 4000, 8000)) -> Splits:
    """Random Adult rows, sensitive feature ``sex``."""
    return _encode(adult_frame(), ADULT_NUMERIC, ADULT_CATEGORICAL, "income", "sex",
                   sizes, seed)


def gap(y_true, y_pred, groups, constraint: str) -> float:
    """Held-out disparity measured with scrutiny.fairness.assess (reference=None)."""
    import warnings

    from scrutiny.exceptions import ScrutinyWarning
    from scrutiny.fairness import assess

    metrics = {"demographic_parity": ["selection_rate"],
               "equal_opportunity": ["true_positive_rate"],
               "equalized_odds": ["true_positive_rate", "false_positive_rate"]}[constraint]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScrutinyWarning)
        r = assess(y_true, y_pred, sensitive_features=groups, metrics=metrics, ci=None,
                   reference=None)
    return max(r.difference(m) for m in metrics)


@pytest.fixture(autouse=True)
def single_blas_thread() -> Iterator[None]:
    """One BLAS thread: refits of small models are faster than with oversubscribed cores."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield

"""Adult splits with the sensitive columns of every split (for the disparity tests).

``tests/attribution/conftest.py`` keeps only the training rows' sensitive
columns; the disparity tests also need them on the held-out rows, so this
module builds its own splits from the Adult copy bundled with scrutiny (the
UCI original lives in ``shared/data/adult``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

NUMERIC = ["age", "education_num", "hours_per_week", "capital_gain", "capital_loss"]
CATEGORICAL = ["workclass", "marital_status", "occupation", "relationship", "race", "sex"]


@dataclass(frozen=True)
class AdultSplits:
    """Encoded features, labels and raw frames of train / eval / test rows."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_eval: np.ndarray
    y_eval: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    frame_train: pd.DataFrame
    frame_eval: pd.DataFrame
    frame_test: pd.DataFrame
    feature_names: list[str]


@functools.cache
def _adult_frame() -> pd.DataFrame:
    from scrutiny.datasets import load_adult

    df = load_adult(split="all")
    df["capital_gain"] = np.log1p(df["capital_gain"])
    df["capital_loss"] = np.log1p(df["capital_loss"])
    return df


def adult_frame() -> pd.DataFrame:
    """All Adult rows (train and test files), log-scaled capital columns."""
    return _adult_frame().copy()


def adult_splits(seed: int, n_train: int = 3000, n_eval: int = 3000,
                 n_test: int = 3000) -> AdultSplits:
    """Disjoint random train / eval / test rows; encoding fitted on the training rows."""
    df = adult_frame()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(df))[: n_train + n_eval + n_test]
    df = df.iloc[order].reset_index(drop=True)
    part = np.repeat([0, 1, 2], [n_train, n_eval, n_test])
    num = df[NUMERIC].astype(float)
    mean, std = num[part == 0].mean(), num[part == 0].std().replace(0.0, 1.0)
    cat = pd.get_dummies(df[CATEGORICAL].astype(str), dtype=float)
    cat = cat.loc[:, cat[part == 0].sum() > 0]
    enc = pd.concat([(num - mean) / std, cat], axis=1)
    x, y = enc.to_numpy(dtype=float), df["income"].to_numpy()
    frames = [df[part == j].reset_index(drop=True) for j in range(3)]
    return AdultSplits(
        x[part == 0], y[part == 0], x[part == 1], y[part == 1], x[part == 2], y[part == 2],
        *frames, list(enc.columns),
    )


@pytest.fixture(autouse=True)
def single_blas_thread() -> Iterator[None]:
    """One BLAS thread: on a shared 2-core runner, threaded BLAS on these small matrices
    oversubscribes the cores and makes each refit 20-40x slower."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield

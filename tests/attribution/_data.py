"""Adult splits with the sensitive columns of every split (for the disparity tests).

``tests/attribution/conftest.py`` keeps only the training rows' sensitive
columns; the disparity tests also need them on the held-out rows, so this
module builds its own splits from the Adult copy bundled with scrutiny (the
UCI original lives in ``shared/data/adult``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
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


_FRAME: pd.DataFrame | None = None


def adult_frame() -> pd.DataFrame:
    """All Adult rows (train and test files), log-scaled capital columns."""
    global _FRAME  # noqa: PLW0603 - module cache
    if _FRAME is None:
        from scrutiny.datasets import load_adult

        df = load_adult(split="all")
        df["capital_gain"] = np.log1p(df["capital_gain"])
        df["capital_loss"] = np.log1p(df["capital_loss"])
        _FRAME = df
    return _FRAME.copy()


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

"""Turning what the user passes into validated, encoded arrays.

Validation happens here, once, at the boundary; everything downstream trusts
its inputs. Two routes lead out:

* *eager*: NumPy arrays, lists, pandas / polars / pyarrow objects become NumPy
  arrays (one row per row);
* *lazy*: a lazy or distributed frame (polars LazyFrame, DuckDB, Dask, PySpark)
  is reduced inside its own engine by :mod:`scrutiny.fairness._lazy`, and what
  comes back is a small pre-aggregated table whose rows carry counts and
  weights. From then on both routes share the same code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scrutiny.exceptions import (
    ColumnNotFoundError,
    DataValidationError,
    InvalidParameterError,
    UnsupportedBackendError,
)

WHERE = "assess"
MISSING_LABEL = "missing"


@dataclass
class Features:
    """Encoded sensitive features: one int code array and one category list each."""

    names: list[str]
    codes: list[np.ndarray]
    categories: list[list[Any]]

    @property
    def n_levels(self) -> list[int]:
        """Number of categories per feature."""
        return [len(c) for c in self.categories]


@dataclass
class Prepared:
    """Validated inputs, one entry per row (or per pre-aggregated row)."""

    n_rows: int
    features: Features
    y_true: np.ndarray | None
    y_pred: np.ndarray | None
    y_score: np.ndarray | None
    #: per-row sum of weights (None: every row weighs 1)
    weight: np.ndarray | None = None
    #: per-row number of original rows (None: 1); set for pre-aggregated tables
    counts: np.ndarray | None = None
    #: per-row sum of squared weights (None: equal to ``weight`` or 1)
    weight_sq: np.ndarray | None = None
    #: per-row additive regression moments from a lazy engine (name -> array)
    moments: dict[str, np.ndarray] | None = None
    backend: str = "numpy"


# ---------------------------------------------------------------------------
# array conversion


def backend_name(obj: Any) -> str:
    """A short name for the library an object comes from."""
    mod = type(obj).__module__.split(".")[0]
    return {"pyspark": "pyspark", "duckdb": "duckdb", "dask": "dask", "dask_expr": "dask"}.get(
        mod, mod
    )


def to_numpy_1d(obj: Any, name: str) -> np.ndarray:
    """Convert a one-dimensional array-like to NumPy, keeping missing values visible."""
    mod = type(obj).__module__.split(".")[0]
    if isinstance(obj, np.ndarray):
        arr = obj
    elif mod == "pandas":
        arr = _pandas_series_to_numpy(obj, name)
    elif mod == "polars":
        if not hasattr(obj, "to_numpy") or type(obj).__name__ != "Series":
            raise _not_1d(name, obj)
        arr = obj.to_numpy()
    elif mod == "pyarrow":
        if type(obj).__name__ not in {"ChunkedArray", "Array"} and not type(
            obj
        ).__name__.endswith("Array"):
            raise _not_1d(name, obj)
        arr = obj.to_numpy(zero_copy_only=False)
    elif isinstance(obj, (str, bytes)) or np.isscalar(obj):
        msg = (
            f"The {name!r} parameter of {WHERE} must be array-like of shape (n_samples,). "
            f"Got the scalar {obj!r} instead. Pass one value per row, or pass `data=` "
            f"and give {name!r} as a column name."
        )
        raise InvalidParameterError(msg)
    elif isinstance(obj, (Sequence, range)) or hasattr(obj, "__array__"):
        arr = np.asarray(obj)
    else:
        msg = (
            f"The {name!r} parameter of {WHERE} must be array-like (NumPy, list, pandas, "
            f"polars or pyarrow). Got an object of type {type(obj).__name__!r} instead."
        )
        raise UnsupportedBackendError(msg)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        msg = (
            f"The {name!r} parameter of {WHERE} must be one-dimensional. Got an array of "
            f"shape {arr.shape} instead."
        )
        raise InvalidParameterError(msg)
    return arr


def _not_1d(name: str, obj: Any) -> InvalidParameterError:
    msg = (
        f"The {name!r} parameter of {WHERE} must be one-dimensional (a Series or array). "
        f"Got {type(obj).__name__!r} instead."
    )
    return InvalidParameterError(msg)


def _pandas_series_to_numpy(obj: Any, name: str) -> np.ndarray:
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        if obj.shape[1] != 1:
            raise _not_1d(name, obj)
        obj = obj.iloc[:, 0]
    if not isinstance(obj, (pd.Series, pd.Index, pd.Categorical)):
        arr = np.asarray(obj)
        return arr
    dtype = obj.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return np.asarray(obj.astype(object).where(obj.notna(), None))
    if pd.api.types.is_bool_dtype(dtype):
        if not obj.hasnans:
            return obj.to_numpy(dtype=bool)
        return obj.to_numpy(dtype=object, na_value=None)  # keep True/False, not 1.0/0.0
    if pd.api.types.is_numeric_dtype(dtype):
        if pd.api.types.is_extension_array_dtype(dtype):
            return obj.to_numpy(dtype=np.float64, na_value=np.nan)
        return obj.to_numpy()
    return obj.to_numpy(dtype=object, na_value=None)


def is_missing(arr: np.ndarray) -> np.ndarray:
    """Boolean mask of missing entries (NaN, None, pandas NA/NaT)."""
    if arr.dtype.kind in "fc":
        return np.isnan(arr)
    if arr.dtype.kind in "biu":
        return np.zeros(arr.shape, dtype=bool)
    if arr.dtype.kind in {"M", "m"}:
        return np.isnat(arr)
    import pandas as pd

    return np.asarray(pd.isna(arr))


# ---------------------------------------------------------------------------
# sensitive features


def factorize(arr: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (sorted categories) with ``-1`` for missing values.

    Integer and boolean arrays are encoded as ``value - min`` (no copy when the
    minimum is 0), so pre-encoded columns cost one min/max pass. Their
    categories span ``min..max``; callers drop values that never occur.
    """
    was_bool = arr.dtype.kind == "b"
    if arr.dtype.kind in "biu" and arr.size:
        if arr.dtype.kind == "b":
            arr = arr.view(np.int8)
        # one reduction: read as unsigned, a small maximum means 0 <= values <= maximum
        top = int(arr.view(arr.dtype.str.replace("i", "u")).max())
        if top < 1 << 16:
            lo, hi = 0, top
        else:
            lo, hi = int(arr.min()), int(arr.max())
        if hi - lo < 1 << 16:
            # every value in lo..hi becomes a category; values that never occur are
            # dropped later, from the first group count (no extra pass here)
            codes = arr if lo == 0 else arr.astype(np.int64) - lo
            cats = list(range(lo, hi + 1))
            if was_bool:
                cats = [bool(c) for c in cats]
            return codes, cats
    import pandas as pd

    codes, uniques = pd.factorize(arr, sort=True, use_na_sentinel=True)
    cats = [_py(u) for u in np.asarray(uniques, dtype=object)]
    if arr.dtype.kind == "f" and all(float(c).is_integer() for c in cats):
        cats = [int(c) for c in cats]  # integers that became floats because of missing values
    return codes.astype(np.int64), cats


def _py(v: Any) -> Any:
    """Plain Python scalar for JSON output."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def split_sensitive(
    sensitive_features: Any, n_rows: int | None
) -> list[tuple[str, np.ndarray]]:
    """Split the eager ``sensitive_features`` argument into named 1-D arrays."""
    sf = sensitive_features
    mod = type(sf).__module__.split(".")[0]
    cols: list[tuple[str, np.ndarray]] = []
    if isinstance(sf, Mapping):
        for k, v in sf.items():
            cols.append((str(k), to_numpy_1d(v, f"sensitive_features[{k!r}]")))
    elif mod in {"pandas", "polars", "pyarrow"} and type(sf).__name__ in {"DataFrame", "Table"}:
        import narwhals as nw

        frame = nw.from_native(sf, eager_only=True)
        for c in frame.columns:
            cols.append((str(c), to_numpy_1d(frame[c].to_native(), f"sensitive_features[{c!r}]")))
    elif isinstance(sf, np.ndarray) and sf.ndim == 2:
        for j in range(sf.shape[1]):
            cols.append((f"sensitive_feature_{j}", sf[:, j]))
    elif (
        isinstance(sf, list)
        and sf
        and all(not np.isscalar(x) and x is not None for x in sf)
        and not isinstance(sf[0], str)
    ):
        for j, col in enumerate(sf):
            name = getattr(col, "name", None) or f"sensitive_feature_{j}"
            cols.append((str(name), to_numpy_1d(col, f"sensitive_features[{j}]")))
    else:
        name = getattr(sf, "name", None)
        name = str(name) if isinstance(name, str) and name else "sensitive_feature_0"
        cols.append((name, to_numpy_1d(sf, "sensitive_features")))
    names = [c for c, _ in cols]
    if len(set(names)) != len(names):
        msg = (
            f"The 'sensitive_features' parameter of {WHERE} has duplicate column names "
            f"{names}. Give each sensitive feature a distinct name."
        )
        raise InvalidParameterError(msg)
    if n_rows is not None:
        for name, arr in cols:
            if len(arr) != n_rows:
                msg = (
                    f"Sensitive feature {name!r} has {len(arr)} rows but y_true/y_pred have "
                    f"{n_rows}. Pass one sensitive value per prediction (same rows, same order)."
                )
                raise DataValidationError(msg)
    return cols


def encode_features(
    cols: list[tuple[str, np.ndarray]],
    *,
    missing: str,
) -> tuple[Features, int]:
    """Encode sensitive feature columns; returns the features and the missing-row count."""
    names, codes, cats = [], [], []
    any_missing: np.ndarray | None = None
    for name, arr in cols:
        c, k = factorize(arr)
        miss = None if arr.dtype.kind in "biu" else c < 0
        n_miss = 0 if miss is None else int(miss.sum())
        if n_miss:
            if missing == "error":
                msg = (
                    f"Sensitive feature {name!r} has {n_miss} missing value(s) out of {len(c)} "
                    f"rows. Fill them, drop those rows, or pass missing='group' to report them "
                    f"as an explicit {MISSING_LABEL!r} group."
                )
                raise DataValidationError(msg)
            c = np.where(miss, len(k), c)
            k = [*k, MISSING_LABEL]
            any_missing = miss if any_missing is None else any_missing | miss
        names.append(name)
        codes.append(c)
        cats.append(k)
    n_missing_rows = 0 if any_missing is None else int(any_missing.sum())
    return Features(names, codes, cats), n_missing_rows


# ---------------------------------------------------------------------------
# columns from a frame


def check_columns(columns: Sequence[str], wanted: Mapping[str, str | None]) -> None:
    """Raise ColumnNotFoundError (with a hint) for a named column missing from the data."""
    cols = [str(c) for c in columns]
    for param, col in wanted.items():
        if col is not None and col not in cols:
            raise ColumnNotFoundError.from_missing(col, cols, parameter=param)


def as_column_list(sensitive_features: Any) -> list[str]:
    """Normalise the ``sensitive_features`` argument when it names columns."""
    if isinstance(sensitive_features, str):
        return [s for s in (p.strip() for p in sensitive_features.split(",")) if s]
    if isinstance(sensitive_features, Sequence) and all(
        isinstance(s, str) for s in sensitive_features
    ):
        return list(sensitive_features)
    msg = (
        f"With `data=` given, the 'sensitive_features' parameter of {WHERE} must name one or "
        f"more columns (a string or a list of strings). Got {type(sensitive_features).__name__!r} "
        "instead."
    )
    raise InvalidParameterError(msg)


def check_same_length(arrays: Mapping[str, np.ndarray | None]) -> int:
    """All given arrays have one length; return it."""
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if not lengths:
        msg = f"{WHERE} needs at least y_true and y_pred (or y_score). Got none of them."
        raise InvalidParameterError(msg)
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        msg = (
            f"Inputs of {WHERE} must have the same number of rows, but {desc}. "
            "Pass arrays that describe the same rows in the same order."
        )
        raise DataValidationError(msg)
    n = next(iter(lengths.values()))
    if n == 0:
        msg = f"{WHERE} got empty data (0 rows). Pass at least one row per group."
        raise DataValidationError(msg)
    return n

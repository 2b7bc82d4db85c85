"""Reading named columns from any dataframe through narwhals.

Eager frames (pandas, polars, pyarrow) hand their columns over as NumPy arrays.
Lazy and distributed frames (polars LazyFrame, DuckDB, Dask, PySpark) are
reduced inside their own engine: one small query validates what the eager
route validates row by row (empty data, missing labels, weights), then one
group-by returns a small table. For classification the group-by is over the
sensitive features and the label columns, and carries row counts and weight
sums; for regression it is over the sensitive features only, and carries
weighted moment sums. Only elementary aggregations run inside the group-by, so
every engine (Dask included) takes the same path. The groups come out sorted
(the reduced table is encoded like eager columns), so bootstrap replicates line
up with those of the eager route.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scrutiny.exceptions import DataValidationError, InvalidParameterError, UnsupportedBackendError
from scrutiny.fairness import _inputs as inp

_N = "__scrutiny_n"
_W = "__scrutiny_w"
_W2 = "__scrutiny_w2"
_MOMENT = "__scrutiny_m_"


def _from_native(data: Any) -> Any:
    import narwhals as nw

    try:
        return nw.from_native(data)
    except TypeError as exc:
        msg = (
            "The 'data' parameter of assess must be a dataframe: pandas, polars (eager or lazy), "
            f"pyarrow, DuckDB, Dask or PySpark. Got {type(data).__name__!r} instead."
        )
        raise UnsupportedBackendError(msg) from exc


def prepare_frame(
    data: Any,
    *,
    y_true: Any,
    y_pred: Any,
    y_score: Any,
    sample_weight: Any,
    sensitive_features: Any,
    missing: str,
    task: str,
) -> tuple[inp.Prepared, int]:
    """Validate column names, then read (eager) or reduce (lazy) the frame."""
    import narwhals as nw

    frame = _from_native(data)
    names = {"y_true": y_true, "y_pred": y_pred, "y_score": y_score, "sample_weight": sample_weight}
    for param, col in names.items():
        if col is not None and not isinstance(col, str):
            msg = (
                f"With `data=` given, the {param!r} parameter of assess must be a column name. "
                f"Got {type(col).__name__!r} instead. Pass either column names with data=, or "
                "arrays without it."
            )
            raise InvalidParameterError(msg)
    if sensitive_features is None:
        msg = "assess needs sensitive_features (the columns of the groups to compare). Got None."
        raise InvalidParameterError(msg)
    sens = inp.as_column_list(sensitive_features)
    if not sens:
        msg = "The 'sensitive_features' parameter of assess names no column. Name at least one."
        raise InvalidParameterError(msg)
    schema = frame.collect_schema()
    columns = list(schema.names())
    inp.check_columns(columns, names)
    for s in sens:
        inp.check_columns(columns, {"sensitive_features": s})
    if y_true is None:
        msg = "assess needs y_true (the column of observed outcomes). Got None."
        raise InvalidParameterError(msg)
    backend = inp.backend_name(data)
    if isinstance(frame, nw.DataFrame):
        arrays = {
            k: None if c is None else inp.to_numpy_1d(frame[c].to_native(), k)
            for k, c in names.items()
        }
        n = inp.check_same_length(arrays)
        cols = [(s, inp.to_numpy_1d(frame[s].to_native(), f"sensitive_features[{s!r}]"))
                for s in sens]
        features, n_missing = inp.encode_features(cols, missing=missing)
        weight = arrays["sample_weight"]
        if weight is not None:
            from scrutiny.fairness._assess import _check_weight

            weight = _check_weight(weight)
        return (
            inp.Prepared(n, features, arrays["y_true"], arrays["y_pred"], arrays["y_score"],
                         weight=weight, backend=backend),
            n_missing,
        )
    return _reduce_lazy(frame, names, sens, schema, missing=missing, task=task, backend=backend)


def _collect(lf: Any) -> Any:
    """Collect a narwhals LazyFrame to a pyarrow-backed eager frame (streaming for polars)."""
    native = lf.to_native()
    if type(native).__module__.startswith("polars"):
        return lf.collect(backend="pyarrow", engine="streaming")
    return lf.collect(backend="pyarrow")


def _scalars(frame: Any, exprs: dict[str, Any]) -> dict[str, Any]:
    """Evaluate whole-frame aggregations in one query; returns name -> Python value."""
    if not exprs:
        return {}
    row = _collect(frame.select(*(e.alias(k) for k, e in exprs.items()))).to_native().to_pylist()
    return row[0]


def _count(expr: Any) -> Any:
    import narwhals as nw

    return expr.cast(nw.Int64).sum()


def _bad_count(col: str, dtype: Any) -> Any:
    """Rows of a column that are null, or NaN / infinite for a float column."""
    import narwhals as nw

    bad = nw.col(col).is_null()
    if dtype.is_float():
        # one test per row: pandas-backed engines (Dask) see NaN as null as well
        bad = bad | ~nw.col(col).is_finite()
    return _count(bad)


def _reduce_lazy(
    frame: Any,
    names: dict[str, str | None],
    sens: list[str],
    schema: Any,
    *,
    missing: str,
    task: str,
    backend: str,
) -> tuple[inp.Prepared, int]:
    """Reduce a lazy frame inside its engine to one small per-group table.

    Only elementary aggregations (``len`` and column sums) run inside the
    group-by: every derived quantity (weights squared, regression moments) is
    computed first with ``with_columns``, so that engines which accept only
    simple aggregations (Dask) take the same path as the others.
    """
    import narwhals as nw

    y_true, y_pred, y_score, weight = (
        names["y_true"], names["y_pred"], names["y_score"], names["sample_weight"]
    )
    dtypes = dict(zip(schema.names(), schema.dtypes(), strict=True))
    if weight is not None and not dtypes[weight].is_numeric():
        msg = f"sample_weight must be numeric. Got values of type {dtypes[weight]} instead."
        raise InvalidParameterError(msg)
    # one query for everything that must be known before the group-by
    probe: dict[str, Any] = {"n_rows": nw.len()}
    float_labels = [
        c for c in dict.fromkeys((y_true, y_pred)) if c is not None and dtypes[c].is_float()
    ]
    if task == "auto":
        for i, c in enumerate(float_labels):
            # a float label column is continuous if any value is not a whole number
            probe[f"frac{i}"] = _count(nw.col(c) != nw.col(c).round(0))
    if weight is not None:
        probe["w_bad"] = _bad_count(weight, dtypes[weight]) + _count(nw.col(weight) < 0)
        probe["w_sum"] = nw.col(weight).cast(nw.Float64).sum()
    labels = {p: c for p, c in (("y_true", y_true), ("y_pred", y_pred), ("y_score", y_score))
              if c is not None}
    for param, col in labels.items():
        is_missing = nw.col(col).is_null()
        if dtypes[col].is_float():
            is_missing = is_missing | nw.col(col).is_nan()
        probe[f"miss_{param}"] = _count(is_missing)
    found = _scalars(frame, probe)
    if not found["n_rows"]:
        msg = "assess got empty data (0 rows). Pass at least one row per group."
        raise DataValidationError(msg)
    for param in labels:
        if found[f"miss_{param}"]:
            # the eager route's message, without row numbers (rows have no order here)
            msg = (
                f"{param} has {int(found[f'miss_{param}'])} missing value(s) (NaN or None). "
                f"assess cannot score rows without a {param.replace('y_', '')} value: drop or "
                "fill them first."
            )
            raise DataValidationError(msg)
    if weight is not None:
        if found["w_bad"]:
            msg = (
                f"sample_weight must hold finite non-negative numbers; {int(found['w_bad'])} "
                "value(s) are negative, missing, NaN or infinite. Fix or drop those rows."
            )
            raise InvalidParameterError(msg)
        if not (found["w_sum"] or 0) > 0:
            msg = "sample_weight sums to zero: at least one row must have a positive weight."
            raise InvalidParameterError(msg)
    continuous = {c: bool(found.get(f"frac{i}") or 0) for i, c in enumerate(float_labels)}
    regression = task == "regression" or (
        task == "auto" and y_pred is not None and any(continuous.values())
    )
    if regression and y_pred is not None:
        return _reduce_regression(
            frame, y_true, y_pred, weight, sens, dtypes, continuous,
            missing=missing, backend=backend,
        )
    keys = list(dict.fromkeys([*sens, *(c for c in (y_true, y_pred, y_score) if c is not None)]))
    aggs = [nw.len().alias(_N)]
    if weight is not None:
        w = nw.col(weight).cast(nw.Float64)
        frame = frame.with_columns(w.alias(_W), (w * w).alias(_W2))
        aggs += [nw.col(_W).sum().alias(_W), nw.col(_W2).sum().alias(_W2)]
    table = _collect(frame.group_by(*keys, drop_null_keys=False).agg(*aggs)).to_native()
    features, n_missing = _features_from(table, sens, missing)
    counts = _col(table, _N)
    wsum = _col(table, _W) if weight is not None else counts
    w2sum = _col(table, _W2) if weight is not None else counts
    yt = _labels_col(table, y_true)
    yp = None if y_pred is None else _labels_col(table, y_pred)
    prepared = inp.Prepared(
        len(table),
        features,
        yt,
        yp,
        None if y_score is None else _labels_col(table, y_score),
        weight=wsum,
        counts=counts,
        weight_sq=w2sum,
        backend=backend,
    )
    return prepared, n_missing


def _reduce_regression(
    frame: Any,
    y_true: str,
    y_pred: str,
    weight: str | None,
    sens: list[str],
    dtypes: dict[str, Any],
    continuous: dict[str, bool],
    *,
    missing: str,
    backend: str,
) -> tuple[inp.Prepared, int]:
    """Regression: weighted moment sums per group, computed inside the engine."""
    import narwhals as nw

    for col, param in ((y_true, "y_true"), (y_pred, "y_pred")):
        if not (dtypes[col].is_numeric() or dtypes[col] == nw.Boolean):
            msg = (
                f"Regression metrics need numeric {param}. Got values of type {dtypes[col]} "
                "instead; pass task='binary' or 'multiclass' for class labels."
            )
            raise DataValidationError(msg)
    yt = nw.col(y_true).cast(nw.Float64)
    yp = nw.col(y_pred).cast(nw.Float64)
    w = nw.col(weight).cast(nw.Float64) if weight is not None else None
    checks = {
        "a": _bad_count(y_true, dtypes[y_true]),
        "b": _bad_count(y_pred, dtypes[y_pred]),
        "ws": w.sum() if w is not None else nw.len().cast(nw.Float64),
        "wy": (yt * w).sum() if w is not None else yt.sum(),
    }
    found = _scalars(frame, checks)
    for key, param in (("a", "y_true"), ("b", "y_pred")):
        if found[key]:
            msg = (
                f"{param} has {int(found[key])} missing or non-finite value(s) (null, NaN or "
                f"infinite). assess cannot score rows without a {param.replace('y_', '')} "
                "value: drop or fill them first."
            )
            raise DataValidationError(msg)
    # centre y by its (weighted) mean, as the eager route does, for stable moments
    shift = float(found["wy"]) / float(found["ws"])
    y = yt - shift
    r = yt - yp
    exprs = {
        "y": y, "yy": y * y, "y3": y * y * y, "y4": y * y * y * y, "p": yp, "pp": yp * yp,
        "a": r.abs(), "r2": r * r, "r4": r * r * r * r, "r2y": r * r * y,
        "r2y2": r * r * y * y,
    }
    cols = {_MOMENT + k: (e * w if w is not None else e) for k, e in exprs.items()}
    if w is not None:
        cols[_W] = w
        cols[_W2] = w * w
    frame = frame.with_columns(*(e.alias(k) for k, e in cols.items()))
    aggs = [nw.len().alias(_N), *(nw.col(k).sum().alias(k) for k in cols)]
    table = _collect(frame.group_by(*sens, drop_null_keys=False).agg(*aggs)).to_native()
    features, n_missing = _features_from(table, sens, missing)
    counts = _col(table, _N)
    moments = {k: _col(table, _MOMENT + k) for k in exprs}
    moments.update(
        n=counts,
        w=_col(table, _W) if w is not None else counts,
        w2=_col(table, _W2) if w is not None else counts,
    )
    moments["_shift"] = shift  # type: ignore[assignment]
    n_rows = len(table)
    # Stand-in labels for the task decision downstream: a non-whole value where the
    # column holds continuous values, so that task="auto" resolves (and warns) as it
    # does for the same data read eagerly.
    dummy_t = np.full(n_rows, 0.5 if continuous.get(y_true) else 0.0)
    dummy_p = np.full(n_rows, 0.5 if continuous.get(y_pred) else 0.0)
    prepared = inp.Prepared(
        n_rows, features, dummy_t, dummy_p, None, moments=moments, backend=backend,
        counts=counts,
    )
    return prepared, n_missing


def _col(table: Any, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


def _labels_col(table: Any, name: str) -> np.ndarray:
    return inp.to_numpy_1d(table.column(name), name)


def _features_from(table: Any, sens: list[str], missing: str) -> tuple[inp.Features, int]:
    """Encode the sensitive columns of a reduced table; missing values count their rows."""
    cols = [(s, inp.to_numpy_1d(table.column(s), f"sensitive_features[{s!r}]")) for s in sens]
    counts = _col(table, _N)
    any_missing = np.zeros(len(counts), dtype=bool)
    for name, arr in cols:
        miss = inp.is_missing(arr)
        if not miss.any():
            continue
        rows = int(counts[miss].sum())
        if missing == "error":
            # the same message as the eager route, with counts of original rows
            msg = (
                f"Sensitive feature {name!r} has {rows} missing value(s) out of "
                f"{int(counts.sum())} rows. Fill them, drop those rows, or pass missing='group' "
                f"to report them as an explicit {inp.MISSING_LABEL!r} group."
            )
            raise DataValidationError(msg)
        any_missing |= miss
    features, _ = inp.encode_features(cols, missing=missing)
    return features, int(counts[any_missing].sum())

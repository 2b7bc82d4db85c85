"""Reading named columns from any dataframe through narwhals.

Eager frames (pandas, polars, pyarrow) hand their columns over as NumPy arrays.
Lazy and distributed frames (polars LazyFrame, DuckDB, Dask, PySpark) are
reduced inside their own engine: one group-by over the sensitive features and
the label columns, whose small result carries row counts and weight sums.
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
    import narwhals as nw

    y_true, y_pred, y_score, weight = (
        names["y_true"], names["y_pred"], names["y_score"], names["sample_weight"]
    )
    dtypes = dict(zip(schema.names(), schema.dtypes(), strict=True))
    numeric_w = weight is not None
    if numeric_w and not dtypes[weight].is_numeric():
        msg = f"sample_weight column {weight!r} must be numeric; its type is {dtypes[weight]}."
        raise InvalidParameterError(msg)
    regression = task == "regression"
    if task == "auto" and y_pred is not None and dtypes[y_pred].is_float():
        # a float prediction column: regression if any value is not a whole number
        probe = frame.select(
            (nw.col(y_pred) != nw.col(y_pred).round(0)).cast(nw.Int64).sum().alias("frac"),
        )
        frac = _collect(probe).to_native().column(0).to_pylist()[0] or 0
        regression = frac > 0
    w = nw.col(weight).cast(nw.Float64) if numeric_w else None
    if regression:
        if y_pred is None or y_score is not None:
            msg = "Regression on a lazy frame needs y_true and y_pred columns (and no y_score)."
            raise InvalidParameterError(msg)
        shift_q = frame.select(nw.col(y_true).cast(nw.Float64).mean().alias("m"))
        shift = float(_collect(shift_q).to_native().column(0).to_pylist()[0] or 0.0)
        yt = nw.col(y_true).cast(nw.Float64)
        yp = nw.col(y_pred).cast(nw.Float64)
        y = yt - shift
        r = yt - yp
        exprs = {
            "y": y, "yy": y * y, "y3": y * y * y, "y4": y * y * y * y, "p": yp, "pp": yp * yp,
            "a": r.abs(), "r2": r * r, "r4": r * r * r * r, "r2y": r * r * y,
            "r2y2": r * r * y * y,
        }
        aggs = [nw.len().alias(_N)]
        aggs.append((w if w is not None else nw.lit(1.0)).sum().alias(_W))
        aggs.append(((w * w) if w is not None else nw.lit(1.0)).sum().alias(_W2))
        for k, e in exprs.items():
            aggs.append(((e * w) if w is not None else e).sum().alias(_MOMENT + k))
        null_q = frame.select(
            nw.col(y_true).is_null().cast(nw.Int64).sum().alias("a"),
            nw.col(y_pred).is_null().cast(nw.Int64).sum().alias("b"),
        )
        nulls = _collect(null_q).to_native().to_pylist()[0]
        if nulls["a"] or nulls["b"]:
            which = "y_true" if nulls["a"] else "y_pred"
            msg = f"{which} has {nulls['a'] or nulls['b']} missing value(s); drop or fill them."
            raise DataValidationError(msg)
        table = _collect(frame.group_by(*sens, drop_null_keys=False).agg(*aggs)).to_native()
        features, n_missing = _features_from(table, sens, missing)
        moments = {k: _col(table, _MOMENT + k) for k in exprs}
        moments.update(n=_col(table, _N), w=_col(table, _W), w2=_col(table, _W2))
        moments["_shift"] = shift  # type: ignore[assignment]
        n_rows = len(table)
        yt_dummy = np.zeros(n_rows)
        prepared = inp.Prepared(
            n_rows, features, yt_dummy, yt_dummy, None, moments=moments, backend=backend,
            counts=moments["n"],
        )
        return prepared, n_missing
    keys = [*sens, *(c for c in (y_true, y_pred, y_score) if c is not None)]
    keys = list(dict.fromkeys(keys))
    aggs = [nw.len().alias(_N)]
    if w is not None:
        aggs += [w.sum().alias(_W), (w * w).sum().alias(_W2)]
    table = _collect(frame.group_by(*keys, drop_null_keys=False).agg(*aggs)).to_native()
    features, n_missing = _features_from(table, sens, missing)
    counts = _col(table, _N)
    prepared = inp.Prepared(
        len(table),
        features,
        _labels_col(table, y_true),
        None if y_pred is None else _labels_col(table, y_pred),
        None if y_score is None else _labels_col(table, y_score),
        weight=_col(table, _W) if w is not None else counts,
        counts=counts,
        weight_sq=_col(table, _W2) if w is not None else counts,
        backend=backend,
    )
    return prepared, n_missing


def _col(table: Any, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


def _labels_col(table: Any, name: str) -> np.ndarray:
    return inp.to_numpy_1d(table.column(name), name)


def _features_from(table: Any, sens: list[str], missing: str) -> tuple[inp.Features, int]:
    cols = [(s, inp.to_numpy_1d(table.column(s), f"sensitive_features[{s!r}]")) for s in sens]
    features, _ = inp.encode_features(cols, missing=missing)
    n_missing = 0
    if missing == "group":
        counts = _col(table, _N)
        for i, cats in enumerate(features.categories):
            if cats and cats[-1] == inp.MISSING_LABEL:
                n_missing += int(counts[features.codes[i] == len(cats) - 1].sum())
    return features, n_missing

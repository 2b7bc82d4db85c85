"""Profiling tabular data for a dataset card: sizes, groups, label balance, missing values.

Everything is computed with pyarrow and NumPy from the table itself; nothing
is guessed. The profile fills the card's "Dataset Structure" (columns, types,
missing values, size category), "Personal and Sensitive Information" (which
sensitive features are present) and "Bias, Risks, and Limitations" (group
counts, label balance per sensitive feature, small groups, intersections).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scrutiny.cards._licenses import out_of_scope_from_licenses
from scrutiny.cards._metadata import DatasetCardMetadata
from scrutiny.cards._schema import DatasetCard
from scrutiny.exceptions import ColumnNotFoundError, InvalidParameterError

__all__ = ["DatasetProfile", "dataset_card_from_data", "profile_dataset", "size_category"]

MISSING = "(missing)"
_SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
          (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"),
          (1_000_000_000, "100M<n<1B"), (10_000_000_000, "1B<n<10B"),
          (100_000_000_000, "10B<n<100B"), (1_000_000_000_000, "100B<n<1T"))
_MAX_CLASSES = 20


def size_category(n_rows: int) -> str:
    """The Hub's ``size_categories`` bucket for a number of rows.

    Parameters
    ----------
    n_rows : int
        The number of rows (examples).

    Returns
    -------
    str
        ``"n<1K"``, ``"1K<n<10K"``, ..., ``"100B<n<1T"`` or ``"n>1T"``.

    Raises
    ------
    InvalidParameterError
        ``n_rows`` is not a non-negative integer.

    Examples
    --------
    >>> from scrutiny.cards import size_category
    >>> size_category(48_842)
    '10K<n<100K'
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, int | np.integer) or n_rows < 0:
        raise InvalidParameterError.from_value(
            "n_rows", "size_category", "a non-negative integer", n_rows)
    for limit, label in _SIZES:
        if n_rows < limit:
            return label
    return "n>1T"


@dataclass
class DatasetProfile:
    """What :func:`profile_dataset` measured.

    Parameters
    ----------
    n_rows, n_columns : int
        The table's shape.
    columns : list of dict
        Per column: ``name``, ``type``, ``missing`` (nulls, NaN and empty
        strings) and ``distinct`` (distinct non-missing values).
    label : str or None
        The label column, if given.
    pos_label : object or None
        The positive class when the label is binary.
    label_counts : dict
        Rows per label value.
    groups : dict of str to list of dict
        Per sensitive feature: one row per group with ``group``, ``count``,
        ``share`` and, with a label, ``label_counts`` and ``positive_rate``.
    intersection : list of dict
        The same for every combination of sensitive features (empty with
        fewer than two features).
    min_group_size : int
        Groups below this size are flagged as small.
    """

    n_rows: int
    n_columns: int
    columns: list[dict[str, Any]]
    label: str | None = None
    pos_label: Any = None
    label_counts: dict[Any, int] = field(default_factory=dict)
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    intersection: list[dict[str, Any]] = field(default_factory=list)
    min_group_size: int = 30

    @property
    def size_category(self) -> str:
        """The Hub's size bucket for :attr:`n_rows`."""
        return size_category(self.n_rows)

    @property
    def is_classification(self) -> bool:
        """True when the label has few distinct values (at most 20)."""
        return self.label is not None and 0 < len(self.label_counts) <= _MAX_CLASSES

    def to_dict(self) -> dict[str, Any]:
        """The profile as plain data.

        Returns
        -------
        dict
            Every field, plus ``size_category``.
        """
        return {
            "n_rows": self.n_rows, "n_columns": self.n_columns, "columns": self.columns,
            "size_category": self.size_category, "label": self.label,
            "pos_label": self.pos_label, "label_counts": self.label_counts,
            "groups": self.groups, "intersection": self.intersection,
            "min_group_size": self.min_group_size,
        }


def _as_table(data: Any) -> Any:
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, str | os.PathLike):
        from scrutiny._utils.io import read_table

        return read_table(Path(data), option="data")
    try:
        import narwhals as nw

        return nw.from_native(data, eager_only=True).to_arrow()
    except TypeError:
        pass
    msg = (
        f"data: cannot read a {type(data).__name__}. Pass a CSV or Parquet path, a pyarrow "
        "Table, or a pandas or polars DataFrame."
    )
    raise InvalidParameterError(msg)


def _missing_mask(column: Any) -> Any:
    """Nulls, NaN and empty (or blank) strings, as a pyarrow boolean array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    mask = column.is_null()
    if pa.types.is_floating(column.type):
        mask = pc.or_(mask, pc.fill_null(pc.is_nan(column), False))
    elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        blank = pc.equal(pc.utf8_trim_whitespace(column), "")
        mask = pc.or_(mask, pc.fill_null(blank, False))
    return mask


def _column_facts(column: Any) -> tuple[int, int]:
    """The number of missing values and of distinct other values of a column."""
    import pyarrow.compute as pc

    mask = _missing_mask(column)
    missing = int(pc.sum(mask).as_py() or 0)
    try:
        present = pc.filter(column.combine_chunks() if hasattr(column, "combine_chunks")
                            else column, pc.invert(mask))
        distinct = int(pc.count_distinct(present).as_py())
    except Exception:  # nested types: count their Python representations
        values = [v for v, m in zip(column.to_pylist(), mask.to_pylist(), strict=True) if not m]
        distinct = len({repr(v) for v in values})
    return missing, distinct


def _values(column: Any) -> np.ndarray:
    """A column as an object array with missing values (null, NaN, blank) as None."""
    values = np.asarray(column.to_pylist(), dtype=object)
    values[np.asarray(_missing_mask(column).to_pylist(), dtype=bool)] = None
    return values


def _key(v: Any) -> Any:
    return MISSING if v is None else v


def _sort_key(v: Any) -> tuple[int, str]:
    return (1, "") if v == MISSING else (0, str(v))


def _pos_label(counts: Mapping[Any, int], pos_label: Any) -> Any:
    keys = [k for k in counts if k != MISSING]
    if pos_label is not None:
        for k in keys:
            if k == pos_label or str(k) == str(pos_label):
                return k
        msg = (
            f"pos_label: {pos_label!r} is not a value of the label column (values: "
            f"{sorted(map(str, keys))[:10]}). Pass one of them."
        )
        raise InvalidParameterError(msg)
    if len(keys) != 2:
        return None
    for candidate in (1, True, "1", "yes", "true"):
        for k in keys:
            if k == candidate and type(k) is type(candidate):
                return k
    return sorted(keys, key=str)[1]


def _group_rows(keys: list[Any], labels: np.ndarray | None, pos: Any, n: int) -> list[dict]:
    rows: dict[Any, dict[str, Any]] = {}
    if labels is None:
        for k, c in Counter(keys).items():
            rows[k] = {"count": c, "label_counts": {}}
    else:
        for (k, lab), c in Counter(zip(keys, map(_key, labels), strict=True)).items():
            row = rows.setdefault(k, {"count": 0, "label_counts": {}})
            row["count"] += c
            row["label_counts"][lab] = c

    def order(g: Any) -> Any:
        return tuple(map(_sort_key, g)) if isinstance(g, tuple) else _sort_key(g)

    out = []
    for k in sorted(rows, key=order):
        row = rows[k]
        item: dict[str, Any] = {"group": k, "count": row["count"],
                                "share": row["count"] / n if n else 0.0}
        if labels is not None:
            lc = dict(sorted(row["label_counts"].items(), key=lambda t: _sort_key(t[0])))
            item["label_counts"] = lc
            known = sum(v for lk, v in lc.items() if lk != MISSING)
            item["positive_rate"] = (lc.get(pos, 0) / known if known else None) \
                if pos is not None else None
        out.append(item)
    return out


def profile_dataset(
    data: Any,
    *,
    label: str | None = None,
    sensitive_features: Sequence[str] | str | None = None,
    pos_label: Any = None,
    min_group_size: int = 30,
) -> DatasetProfile:
    """Profile a table: columns, missing values, group counts and label balance per group.

    Parameters
    ----------
    data : str, path-like, pyarrow.Table or DataFrame
        A CSV or Parquet file, a pyarrow Table, or a pandas / polars DataFrame.
    label : str, default=None
        The label (target) column.
    sensitive_features : str or sequence of str, default=None
        The sensitive columns to count groups by (a comma-separated string is
        split).
    pos_label : object, default=None
        The positive class of a binary label; by default ``1`` / ``True`` when
        present, else the second value in sorted order.
    min_group_size : int, default=30
        Groups smaller than this are flagged as small.

    Returns
    -------
    DatasetProfile
        The measurements.

    Raises
    ------
    ColumnNotFoundError
        A named column is not in the data (the message suggests close names).
    InvalidParameterError
        The data cannot be read, or ``pos_label`` is not a label value.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from scrutiny.cards import profile_dataset
    >>> t = pa.table({"y": [0, 1, 1, 0], "sex": ["F", "M", "F", None]})
    >>> p = profile_dataset(t, label="y", sensitive_features="sex", min_group_size=2)
    >>> [(g["group"], g["count"], g["positive_rate"]) for g in p.groups["sex"]]
    [('F', 2, 0.5), ('M', 1, 1.0), ('(missing)', 1, 0.0)]
    """
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int) or (
            min_group_size < 1):
        raise InvalidParameterError.from_value(
            "min_group_size", "profile_dataset", "a positive integer", min_group_size)
    table = _as_table(data)
    names = list(table.column_names)
    if isinstance(sensitive_features, str):
        sensitive_features = [s.strip() for s in sensitive_features.split(",") if s.strip()]
    sens = list(sensitive_features or [])
    for i, col in enumerate([label, *sens] if label is not None else sens):
        if col not in names:
            where = "label" if (label is not None and i == 0) else "sensitive_features"
            raise ColumnNotFoundError.from_missing(col, names, parameter=where)
    n = table.num_rows
    columns = []
    for name in names:
        missing, distinct = _column_facts(table.column(name))
        columns.append({"name": name, "type": str(table.schema.field(name).type),
                        "missing": missing, "distinct": distinct})
    cache = {c: _values(table.column(c)) for c in dict.fromkeys(
        [*sens, *([label] if label is not None else [])])}
    labels = cache[label] if label is not None else None
    label_counts: dict[Any, int] = {}
    pos = None
    if labels is not None:
        for v in labels:
            k = _key(v)
            label_counts[k] = label_counts.get(k, 0) + 1
        label_counts = dict(sorted(label_counts.items(), key=lambda t: _sort_key(t[0])))
        if len([k for k in label_counts if k != MISSING]) <= _MAX_CLASSES:
            pos = _pos_label(label_counts, pos_label)
    groups = {}
    keyed = {col: [_key(v) for v in cache[col]] for col in sens}
    for col in sens:
        groups[col] = _group_rows(keyed[col], labels, pos, n)
    inter: list[dict[str, Any]] = []
    if len(sens) > 1:
        inter = _group_rows(list(zip(*keyed.values(), strict=True)), labels, pos, n)
        for row in inter:
            row["group"] = dict(zip(sens, row["group"], strict=True))
    return DatasetProfile(n_rows=n, n_columns=len(names), columns=columns, label=label,
                          pos_label=pos, label_counts=label_counts, groups=groups,
                          intersection=inter, min_group_size=min_group_size)


# ---------------------------------------------------------------------------
# the card


def _pct(x: float | None) -> str:
    if x is None:
        return "–"
    p = x * 100
    return f"{p:.1f}%" if p < 10 else f"{p:.0f}%"


def _esc(value: Any) -> str:
    return str(value).replace("|", "\\|")


def _structure(p: DatasetProfile, sens: list[str]) -> str:
    out = [f"{p.n_rows:,} rows and {p.n_columns} columns (size category `{p.size_category}`)."]
    rows = []
    for c in p.columns:
        role = ("label" if c["name"] == p.label else "sensitive feature"
                if c["name"] in sens else "")
        rows.append(f"| `{_esc(c['name'])}` | {c['type']} | {role} | {c['missing']:,} "
                    f"({_pct(c['missing'] / p.n_rows if p.n_rows else 0)}) | "
                    f"{c['distinct']:,} |")
    out.append("| Column | Type | Role | Missing | Distinct values |\n|---|---|---|---|---|\n"
               + "\n".join(rows))
    out.append("Missing counts include nulls, NaN and empty strings. Other codes for "
               "missing values (such as `?`) are counted as values.")
    if p.label is not None:
        shares = ", ".join(f"{_esc(k)}: {v:,} ({_pct(v / p.n_rows if p.n_rows else 0)})"
                           for k, v in list(p.label_counts.items())[:_MAX_CLASSES])
        out.append(f"Label `{p.label}`: {shares}.")
    return "\n\n".join(out)


def _group_table(p: DatasetProfile, title: str, rows: list[dict[str, Any]]) -> str:
    binary = p.pos_label is not None
    head = f"| {title} | Rows | Share |"
    rule = "|---|---|---|"
    if p.label is not None and binary:
        head += f" Share with `{p.label}` = {_esc(p.pos_label)} |"
        rule += "---|"
    elif p.label is not None and p.is_classification:
        head += f" `{p.label}` values |"
        rule += "---|"
    lines = [head, rule]
    for r in rows:
        g = r["group"]
        name = ", ".join(f"{k} = {v}" for k, v in g.items()) if isinstance(g, dict) else g
        small = " (small)" if r["count"] < p.min_group_size else ""
        line = f"| {_esc(name)}{small} | {r['count']:,} | {_pct(r['share'])} |"
        if p.label is not None and binary:
            line += f" {_pct(r.get('positive_rate'))} |"
        elif p.label is not None and p.is_classification:
            total = sum(r["label_counts"].values())
            line += " " + ", ".join(f"{_esc(k)}: {_pct(v / total)}" for k, v in
                                    r["label_counts"].items()) + " |"
        lines.append(line)
    return "\n".join(lines)


def _gaps(p: DatasetProfile) -> list[tuple[str, float, dict[str, Any], dict[str, Any]]]:
    out = []
    for col, rows in p.groups.items():
        rated = [r for r in rows if r.get("positive_rate") is not None and r["group"] != MISSING]
        if len(rated) >= 2:
            hi = max(rated, key=lambda r: r["positive_rate"])
            lo = min(rated, key=lambda r: r["positive_rate"])
            out.append((col, hi["positive_rate"] - lo["positive_rate"], hi, lo))
    return out


def _bias(p: DatasetProfile, sens: list[str]) -> tuple[str | None, str | None]:
    if not sens and p.label is None:
        return None, None
    out, recs = [], []
    for col, rows in p.groups.items():
        out.append(f"**Rows by {col}**" + (" and label balance" if p.label else "") + "\n\n"
                   + _group_table(p, col, rows))
    if p.intersection:
        out.append(f"**Rows by {' × '.join(sens)}** (intersection)\n\n"
                   + _group_table(p, " × ".join(sens), p.intersection))
    gaps = _gaps(p)
    if gaps and p.label is not None:
        items = [f"By {col}: {_pct(hi['positive_rate'])} ({_esc(hi['group'])}) against "
                 f"{_pct(lo['positive_rate'])} ({_esc(lo['group'])}), a gap of "
                 f"{abs(gap) * 100:.1f} percentage points." for col, gap, hi, lo in gaps]
        out.append(f"**Label balance**: the share of rows with `{p.label}` = "
                   f"{_esc(p.pos_label)} differs between groups.\n\n"
                   + "\n".join(f"- {i}" for i in items))
        recs.append(f"A model trained on `{p.label}` can learn these differences in base "
                    "rates. Check that the label is measured the same way in every group "
                    "before treating it as ground truth, and assess any model trained on this "
                    "data per group (`scrutiny audit`).")
    small = [(col, r) for col, rows in p.groups.items() for r in rows
             if r["count"] < p.min_group_size]
    small += [(" × ".join(sens), r) for r in p.intersection if r["count"] < p.min_group_size]
    if small:
        names = [f"{col}: " + (", ".join(f"{k} = {v}" for k, v in r["group"].items())
                               if isinstance(r["group"], dict) else str(r["group"]))
                 + f" ({r['count']} rows)" for col, r in small]
        out.append(f"**Groups with fewer than {p.min_group_size} rows**: estimates for them "
                   "are unstable.\n\n" + "\n".join(f"- {_esc(x)}" for x in names[:30])
                   + (f"\n- and {len(names) - 30} more" if len(names) > 30 else ""))
        recs.append("Report results for the small groups with their intervals, or collect "
                    "more data for them; do not drop them silently.")
    missing = [c for c in p.columns if c["missing"]]
    miss_sens = [c for c in missing if c["name"] in sens or c["name"] == p.label]
    if missing:
        out.append("**Missing values**: " + ", ".join(
            f"`{_esc(c['name'])}` {c['missing']:,} ({_pct(c['missing'] / p.n_rows)})"
            for c in missing) + ".")
        recs.append("Check whether values are missing more often for some groups; imputing "
                    "or dropping rows can shift group sizes and label balance.")
    if miss_sens:
        recs.append("Rows with a missing sensitive value or label are shown as "
                    f"`{MISSING}`; decide explicitly whether to keep them in assessments.")
    return "\n\n".join(out) or None, "\n".join(f"- {r}" for r in recs) or None


def dataset_card_from_data(
    data: Any,
    *,
    label: str | None = None,
    sensitive_features: Sequence[str] | str | None = None,
    name: str | None = None,
    metadata: DatasetCardMetadata | Mapping[str, Any] | None = None,
    pos_label: Any = None,
    min_group_size: int = 30,
) -> DatasetCard:
    """Build a dataset card from a profile of the data.

    Parameters
    ----------
    data : str, path-like, pyarrow.Table or DataFrame
        A CSV or Parquet file, a pyarrow Table, or a pandas / polars DataFrame.
    label : str, default=None
        The label column; its balance per sensitive group is reported.
    sensitive_features : str or sequence of str, default=None
        The sensitive columns (a comma-separated string is split).
    name : str, default=None
        The dataset's name; by default the file's name (or "Dataset").
    metadata : DatasetCardMetadata or dict, default=None
        Metadata to set (licence, tags...); it overrides what the profile
        suggests, and tags are merged.
    pos_label : object, default=None
        The positive class of a binary label (see :func:`profile_dataset`).
    min_group_size : int, default=30
        Groups smaller than this are flagged as small.

    Returns
    -------
    DatasetCard
        "Dataset Structure", "Personal and Sensitive Information" and "Bias,
        Risks, and Limitations" filled from the profile, with
        ``size_categories``, ``task_categories`` and ``tags`` in the metadata.

    Raises
    ------
    ColumnNotFoundError
        A named column is not in the data.
    ConfigError
        The metadata is invalid (the message names the field).
    InvalidParameterError
        The data cannot be read.

    Examples
    --------
    >>> from scrutiny.cards import dataset_card_from_data
    >>> from scrutiny.datasets import adult_path
    >>> card = dataset_card_from_data(adult_path(), label="income",
    ...                               sensitive_features=["sex", "race"], name="Adult")
    >>> card.metadata.size_categories
    ['10K<n<100K']
    """
    profile = profile_dataset(data, label=label, sensitive_features=sensitive_features,
                              pos_label=pos_label, min_group_size=min_group_size)
    sens = list(profile.groups)
    if name is None:
        name = Path(data).name.split(".")[0] if isinstance(data, str | os.PathLike) else "Dataset"
    if isinstance(metadata, DatasetCardMetadata):
        user = metadata
    elif metadata is None or isinstance(metadata, Mapping):
        user = DatasetCardMetadata.model_validate(dict(metadata or {}))
    else:
        raise InvalidParameterError.from_value(
            "metadata", "dataset_card_from_data", "a DatasetCardMetadata or a dict",
            type(metadata).__name__)
    base: dict[str, Any] = {"pretty_name": name, "size_categories": [profile.size_category],
                            "tags": ["tabular", "fairness"]}
    if label is not None:
        base["task_categories"] = ["tabular-classification" if profile.is_classification
                                   else "tabular-regression"]
    merged = dict(base)
    for key, value in user.model_dump(by_alias=True, exclude_none=True).items():
        merged[key] = [*(user.tags or []), *base["tags"]] if key == "tags" else value
    meta = DatasetCardMetadata.model_validate(merged)
    bias, recs = _bias(profile, sens)
    sensitive = None
    if sens:
        sensitive = (
            "The data contain these sensitive attributes: "
            + ", ".join(f"`{s}`" for s in sens)
            + ". Group counts and label balance for each are under Bias, Risks, and "
            "Limitations. Whether other columns hold personal data (names, identifiers, "
            "addresses), and how the data were anonymised, is not something a profile can "
            "tell: record it here."
        )
    restricted = None
    lic = meta.license if isinstance(meta.license, list) else [meta.license]
    for lid in (x for x in lic if x):
        lines = out_of_scope_from_licenses({}, own_license=lid, subject="this dataset",
                                           warn=False)
        if lines:
            restricted = "\n".join([*(restricted.split("\n") if restricted else []),
                                     *([""] if restricted else []), *lines])
    return DatasetCard(
        name=name,
        metadata=meta,
        summary=(f"{name}: {profile.n_rows:,} rows and {profile.n_columns} columns, profiled "
                 "by scrutiny for group sizes, label balance by sensitive feature and missing "
                 "values."),
        structure=_structure(profile, sens),
        uses={"out_of_scope_use": restricted},
        creation={"personal_and_sensitive_information": sensitive},
        bias={"description": bias, "recommendations": recs},
    )

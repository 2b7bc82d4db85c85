"""``assess``: the one entry point of the fairness engine."""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scrutiny.exceptions import (
    ContinuousInputWarning,
    DataValidationError,
    EmptyIntersectionWarning,
    InvalidParameterError,
    MissingSensitiveValueWarning,
    ScrutinyWarning,
    SmallGroupWarning,
    UndefinedMetricWarning,
)
from scrutiny.fairness import _inputs as inp
from scrutiny.fairness._compute import (
    MetricTable,
    bootstrap_confusion,
    confusion_table,
    regression_table,
    score_table,
    stack,
)
from scrutiny.fairness._disparity import LevelResult, build_level
from scrutiny.fairness._intervals import CORRECTIONS
from scrutiny.fairness._labels import Labels, resolve_labels
from scrutiny.fairness._metrics import (
    ALIASES,
    ALL_SPECS,
    BINARY_METRICS,
    DEFAULT_BINARY,
    DEFAULT_REGRESSION,
    DEFAULT_SCORE,
    MULTICLASS_OVR,
    REGRESSION_METRICS,
    SCORE_METRICS,
    split_class_metric,
)
from scrutiny.fairness._result import FairnessResult, WarningRecord
from scrutiny.fairness._stats import (
    ConfusionStats,
    Level,
    RegressionStats,
    ScoreStats,
    coarser_level,
    combine_codes,
    make_level,
    score_order,
)

WHERE = "assess"
#: largest dense table (combinations x confusion cells) counted in one bincount
DENSE_CELLS = 1 << 22
POLICIES = (None, "four_fifths")


def _canonical_metrics(metrics: Any) -> list[str] | None:
    if metrics is None:
        return None
    if isinstance(metrics, str):
        if metrics == "all":
            return ["all"]
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    if not isinstance(metrics, Sequence) or not all(isinstance(m, str) for m in metrics):
        raise InvalidParameterError.from_value(
            "metrics", WHERE, "a metric name or a list of metric names", metrics
        )
    out: list[str] = []
    for m in metrics:
        base, cls = split_class_metric(m)
        canon = ALIASES.get(base)
        if canon is None:
            close = difflib.get_close_matches(base, list(ALIASES), n=3, cutoff=0.6)
            hint = (
                "Did you mean " + " or ".join(repr(c) for c in close) + "?"
                if close
                else f"Known metrics: {sorted(ALL_SPECS)}."
            )
            raise InvalidParameterError.from_value("metrics", WHERE, "known metric names", m, hint)
        name = canon if cls is None else f"{canon}[{cls}]"
        if name not in out:
            out.append(name)
    if not out:
        raise InvalidParameterError.from_value("metrics", WHERE, "at least one metric", metrics)
    return out


def _wanted_kinds(metrics: list[str] | None) -> set[str]:
    if not metrics or metrics == ["all"]:
        return set()
    kinds = set()
    for m in metrics:
        base, _ = split_class_metric(m)
        if base == "count":
            continue
        kinds.add(ALL_SPECS[base].kind)
    return kinds


def _select_metrics(requested: list[str] | None, labels: Labels, has_score: bool) -> list[str]:
    task = labels.task
    has_pred = labels.y_pred is not None
    if task == "regression":
        pool = ["count", *REGRESSION_METRICS]
        default = list(DEFAULT_REGRESSION)
    elif task == "multiclass":
        ovr = [f"{m}[{c}]" for c in labels.classes for m in MULTICLASS_OVR]
        pool = ["count", "accuracy", *(f"{m}[{c}]" for c in labels.classes for m in BINARY_METRICS
                                        if BINARY_METRICS[m].is_rate)]
        default = ["count", "accuracy", *ovr]
    else:
        pool = ["count", *(BINARY_METRICS if has_pred else []),
                *(SCORE_METRICS if has_score else [])]
        default = ["count", *(DEFAULT_BINARY[1:] if has_pred else []),
                   *(DEFAULT_SCORE if has_score else [])]
    if requested is None:
        return default
    if requested == ["all"]:
        return pool
    out = []
    for m in requested:
        base, cls = split_class_metric(m)
        if task == "multiclass" and cls is None and base in BINARY_METRICS and base != "accuracy":
            out.extend(f"{base}[{c}]" for c in labels.classes)
            continue
        if m not in pool:
            kind = ALL_SPECS[base].kind
            why = {
                "score": "it needs y_score",
                "binary": "it needs y_pred class labels for a binary problem",
                "regression": "it needs a regression problem (numeric y_true and y_pred)",
            }.get(kind, "it does not apply")
            if task == "multiclass" and cls is not None:
                why = f"the classes are {labels.classes}"
            msg = (
                f"Metric {m!r} cannot be computed for this {task} problem: {why}. "
                f"Metrics available here: {sorted(set(pool))[:20]}."
            )
            raise InvalidParameterError(msg)
        out.append(m)
    if "count" not in out:
        out.insert(0, "count")
    return out


def _validate_options(
    ci: float | None, n_boot: int, min_group_size: int, missing: str, correction: str, policy: Any
) -> None:
    if ci is not None and not (isinstance(ci, float | int) and 0 < ci < 1):
        raise InvalidParameterError.from_value(
            "ci", WHERE, "a confidence level strictly between 0 and 1 (such as 0.95), or None", ci
        )
    if not isinstance(n_boot, int | np.integer) or isinstance(n_boot, bool) or n_boot < 0:
        raise InvalidParameterError.from_value("n_boot", WHERE, "a non-negative integer", n_boot)
    if not isinstance(min_group_size, int | np.integer) or min_group_size < 0:
        raise InvalidParameterError.from_value(
            "min_group_size", WHERE, "a non-negative integer", min_group_size
        )
    if missing not in ("error", "group"):
        raise InvalidParameterError.from_value("missing", WHERE, "'error' or 'group'", missing)
    if correction not in CORRECTIONS:
        raise InvalidParameterError.from_value(
            "correction", WHERE, f"one of {CORRECTIONS}", correction
        )
    if policy not in POLICIES:
        raise InvalidParameterError.from_value("policy", WHERE, f"one of {POLICIES}", policy)


def _prepare(
    y_true: Any,
    y_pred: Any,
    y_score: Any,
    sample_weight: Any,
    sensitive_features: Any,
    data: Any,
    missing: str,
    task: str,
) -> tuple[inp.Prepared, int]:
    if data is None:
        arrays = {
            "y_true": None if y_true is None else inp.to_numpy_1d(y_true, "y_true"),
            "y_pred": None if y_pred is None else inp.to_numpy_1d(y_pred, "y_pred"),
            "y_score": None if y_score is None else inp.to_numpy_1d(y_score, "y_score"),
            "sample_weight": None
            if sample_weight is None
            else inp.to_numpy_1d(sample_weight, "sample_weight"),
        }
        n = inp.check_same_length(arrays)
        if sensitive_features is None:
            msg = f"{WHERE} needs sensitive_features (the groups to compare). Got None."
            raise InvalidParameterError(msg)
        cols = inp.split_sensitive(sensitive_features, n)
        features, n_missing = inp.encode_features(cols, missing=missing)
        weight = arrays["sample_weight"]
        if weight is not None:
            weight = _check_weight(weight)
        prepared = inp.Prepared(
            n, features, arrays["y_true"], arrays["y_pred"], arrays["y_score"], weight=weight,
            backend=_backend_of(y_true if y_true is not None else y_pred),
        )
        return prepared, n_missing
    from scrutiny.fairness._frames import prepare_frame

    return prepare_frame(
        data,
        y_true=y_true,
        y_pred=y_pred,
        y_score=y_score,
        sample_weight=sample_weight,
        sensitive_features=sensitive_features,
        missing=missing,
        task=task,
    )


def _backend_of(obj: Any) -> str:
    return "numpy" if obj is None else inp.backend_name(obj)


def _check_weight(weight: np.ndarray) -> np.ndarray:
    if weight.dtype.kind not in "biuf":
        msg = f"sample_weight must be numeric. Got values of dtype {weight.dtype} instead."
        raise InvalidParameterError(msg)
    w = weight.astype(np.float64)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        msg = (
            f"sample_weight must hold finite non-negative numbers; {int(bad.sum())} value(s) are "
            f"negative, NaN or infinite (first at row {int(np.flatnonzero(bad)[0])}). "
            "Fix or drop those rows."
        )
        raise InvalidParameterError(msg)
    if w.sum() <= 0:
        msg = "sample_weight sums to zero: at least one row must have a positive weight."
        raise InvalidParameterError(msg)
    return w


@dataclass
class BaseStats:
    """Additive per-group statistics of one level (collapsible to coarser levels)."""

    confusion: ConfusionStats | None = None
    regression: RegressionStats | None = None
    #: bootstrap replicates of the confusion matrices, (B, G, K, K)
    boot: np.ndarray | None = None

    def group_count(self) -> np.ndarray | None:
        """Rows per group, when these statistics know it."""
        if self.confusion is not None:
            return self.confusion.group_count
        if self.regression is not None:
            return self.regression.group_count
        return None

    def select(self, groups: np.ndarray) -> BaseStats:
        """Keep only the given groups."""
        return BaseStats(
            None if self.confusion is None else self.confusion.select(groups),
            None if self.regression is None else self.regression.select(groups),
        )

    def collapse(self, level: Level) -> BaseStats:
        """The same statistics for a coarser level."""
        if level.mapping is None:
            return self
        g = level.n_groups
        boot = None
        if self.boot is not None:
            b, _, k, _ = self.boot.shape
            boot = np.zeros((b, g, k, k))
            np.add.at(boot, (slice(None), level.mapping), self.boot)
        return BaseStats(
            None if self.confusion is None else self.confusion.collapse(level.mapping, g),
            None if self.regression is None else self.regression.collapse(level.mapping, g),
            boot,
        )


def _base_stats(
    codes: np.ndarray, g: int, prep: inp.Prepared, labels: Labels, shift: float
) -> BaseStats:
    if labels.task == "regression":
        if prep.moments is not None:
            return BaseStats(regression=RegressionStats.from_sums(codes, g, prep.moments, shift))
        return BaseStats(
            regression=RegressionStats.compute(
                codes, g, labels.y_true, labels.y_pred, weight=prep.weight, shift=shift,
                counts=prep.counts, weight_sq=prep.weight_sq,
            )
        )
    if labels.y_pred is None:
        return BaseStats()
    return BaseStats(
        confusion=ConfusionStats.compute(
            codes, g, len(labels.classes), labels.y_true, labels.y_pred,
            weight=prep.weight, counts=prep.counts, weight_sq=prep.weight_sq,
        )
    )


def _table_for_level(
    level: Level,
    base: BaseStats,
    prep: inp.Prepared,
    labels: Labels,
    metrics: list[str],
    *,
    level_ci: float | None,
    n_boot: int,
    rng: np.random.Generator,
    order: np.ndarray | None,
) -> MetricTable:
    g = level.n_groups
    if base.regression is not None:
        return regression_table(base.regression, metrics, level=level_ci, n_boot=n_boot, rng=rng)
    tables: list[MetricTable] = []
    count: np.ndarray | None = None
    cell_names = [m for m in metrics if m == "count" or split_class_metric(m)[0] in BINARY_METRICS]
    score_names = [m for m in metrics if m in SCORE_METRICS]
    if base.confusion is not None:
        t, _ = confusion_table(
            base.confusion, cell_names, labels.classes, labels.task, level=level_ci,
            n_boot=n_boot, rng=rng, boot=base.boot,
        )
        tables.append(t)
        count = base.confusion.group_count
    if score_names:
        codes = level.row_codes()
        sstats = ScoreStats.compute(
            codes, g, labels.y_true, labels.y_score, weight=prep.weight,
            counts=prep.counts, weight_sq=prep.weight_sq, order=order,
        )
        if count is None:
            count = np.bincount(codes, weights=prep.counts, minlength=g).astype(float)
        names = score_names if base.confusion is not None else ["count", *score_names]
        tables.append(score_table(sstats, names, count, level=level_ci, n_boot=n_boot, rng=rng))
    return stack(tables, metrics)


def assess(
    y_true: Any = None,
    y_pred: Any = None,
    *,
    sensitive_features: Any,
    y_score: Any = None,
    sample_weight: Any = None,
    data: Any = None,
    metrics: str | Sequence[str] | None = None,
    task: str = "auto",
    pos_label: Any = None,
    reference: Any = None,
    ci: float | None = 0.95,
    n_boot: int = 1000,
    random_state: int | np.random.Generator | None = None,
    min_group_size: int = 30,
    missing: str = "error",
    correction: str = "holm",
    policy: str | None = None,
) -> FairnessResult:
    """Disaggregate model performance by group, with intervals, disparities and warnings.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or str
        Observed outcomes. A column name when ``data`` is given.
    y_pred : array-like of shape (n_samples,) or str, default=None
        Predicted labels (classification) or values (regression).
    sensitive_features : array-like, DataFrame, dict of arrays, str or list of str
        The groups to compare. Several columns give intersectional groups; each
        column alone is also reported. Column names when ``data`` is given.
    y_score : array-like of shape (n_samples,) or str, default=None
        Scores or probabilities of the positive class (binary problems), for
        ``roc_auc``, ``brier`` and ``ece``.
    sample_weight : array-like of shape (n_samples,) or str, default=None
        Non-negative row weights.
    data : DataFrame or lazy frame, default=None
        pandas, polars (eager or lazy), pyarrow, DuckDB, Dask or PySpark data
        holding the named columns. Lazy and distributed frames are reduced
        inside their own engine; only the per-group table comes back.
    metrics : str or list of str, default=None
        Metric names (Fairlearn's names and scikit-learn's ``*_score`` names
        are accepted), ``"all"``, or None for a sensible default per task.
    task : {"auto", "binary", "multiclass", "regression"}, default="auto"
        The prediction task; inferred from the labels when ``"auto"``.
    pos_label : scalar, default=None
        The positive (favourable-to-predict) label, needed when labels are not
        0/1 or booleans.
    reference : scalar, tuple or dict, default=None
        A reference group chosen by the team. Differences and ratios against it
        are then reported. There is no built-in privileged group.
    ci : float or None, default=0.95
        Confidence level of every interval; None skips intervals.
    n_boot : int, default=1000
        Bootstrap replicates (of per-group counts, so cheap at any data size).
    random_state : int, Generator or None, default=None
        Seed of the bootstrap.
    min_group_size : int, default=30
        Groups with fewer rows trigger a :class:`~scrutiny.exceptions.SmallGroupWarning`.
    missing : {"error", "group"}, default="error"
        What to do with missing sensitive values: raise, or report an explicit
        ``"missing"`` group.
    correction : {"holm", "fdr_bh", "none"}, default="holm"
        Multiple-comparison correction of the pairwise group tests.
    policy : {None, "four_fifths"}, default=None
        Opt-in policy check: with ``"four_fifths"`` the selection-rate ratio is
        compared with 0.8 and the comparison reported as a flag, not a verdict.

    Returns
    -------
    FairnessResult
        Per-group values with intervals, disparities, tests and warnings.

    Raises
    ------
    InvalidParameterError
        A parameter has an unusable value.
    DataValidationError
        The data cannot be scored as given (lengths differ, missing labels,
        non-binary labels for binary metrics, empty data...).
    ColumnNotFoundError
        A named column is not in ``data``.

    Examples
    --------
    >>> from scrutiny.fairness import assess
    >>> r = assess([1, 0, 1, 1, 0, 0], [1, 0, 0, 1, 1, 0],
    ...            sensitive_features=["a", "a", "a", "b", "b", "b"],
    ...            metrics=["selection_rate"], min_group_size=0, random_state=0)
    >>> [(g.features["sensitive_feature_0"], round(g.value("selection_rate"), 3))
    ...  for g in r.groups]
    [('a', 0.333), ('b', 0.667)]
    >>> round(r.difference("selection_rate"), 3)
    0.333
    """
    _validate_options(ci, n_boot, min_group_size, missing, correction, policy)
    requested = _canonical_metrics(metrics)
    rng = np.random.default_rng(random_state)
    prep, n_missing = _prepare(
        y_true, y_pred, y_score, sample_weight, sensitive_features, data, missing, task
    )
    labels = resolve_labels(
        prep.y_true, prep.y_pred, prep.y_score,
        task="regression" if prep.moments is not None else task, pos_label=pos_label,
        wants=_wanted_kinds(requested),
    )
    chosen = _select_metrics(requested, labels, labels.y_score is not None)
    records: list[WarningRecord] = []
    if prep.moments is not None and task == "auto" and _wanted_kinds(requested) != {"regression"}:
        records.append(WarningRecord(
            ContinuousInputWarning,
            "y_true or y_pred holds continuous values, so regression metrics were computed. If "
            "these are probabilities from a classifier, pass them as y_score and pass class "
            "labels as y_pred.",
        ))
    for cls, message in labels.warnings or []:
        records.append(WarningRecord(cls, message))
    if n_missing:
        records.append(
            WarningRecord(
                MissingSensitiveValueWarning,
                f"{n_missing} row(s) have a missing sensitive value; they are reported as the "
                f"group {inp.MISSING_LABEL!r}.",
            )
        )
    features = prep.features
    n_feat = len(features.names)
    shift = 0.0
    if labels.task == "regression":
        shift = prep.moments.get("_shift", 0.0) if prep.moments is not None else float(
            np.average(labels.y_true, weights=prep.weight)
        )
    everything = list(range(n_feat))
    combined, _, n_possible = combine_codes(features, everything)
    k2 = len(labels.classes) ** 2 if labels.task != "regression" else 16
    if (labels.y_pred is not None or labels.task == "regression") and (
        n_possible * k2 <= DENSE_CELLS
    ):
        # one bincount over every possible combination tells both the statistics
        # and which combinations occur
        dense = _base_stats(combined, n_possible, prep, labels, shift)
        present = dense.group_count() > 0  # type: ignore[operator]
        inter = make_level(features, everything, "intersection", combined=combined,
                           present=present)
        base = dense if present.all() else dense.select(np.flatnonzero(present))
    else:
        inter = make_level(features, everything, "intersection", combined=combined)
        base = _base_stats(inter.row_codes(), inter.n_groups, prep, labels, shift)
    levels = [inter]
    if n_feat > 1:
        levels += [coarser_level(inter, features, i, features.names[i]) for i in range(n_feat)]
    if inter.n_groups < 2:
        key = _fmt_key(inter.feature_names, inter.keys[0])
        msg = (
            f"Only one group ({key}) is present in sensitive_features "
            f"{features.names}, so nothing can be compared. Check that the right column was "
            "passed, or that filtering did not remove the other groups."
        )
        raise DataValidationError(msg)
    if ci is not None and n_boot > 0 and base.confusion is not None:
        # one stratified bootstrap of the finest groups; coarser levels sum its draws
        base.boot = bootstrap_confusion(base.confusion, n_boot, rng)
    order = score_order(labels.y_score) if "roc_auc" in chosen else None
    common = dict(level_ci=ci, n_boot=n_boot if ci is not None else 0, order=order)
    overall_level = coarser_level(inter, features, None, "overall")
    overall = _table_for_level(
        overall_level, base.collapse(overall_level), prep, labels, chosen, rng=rng, **common
    )
    results: dict[str, LevelResult] = {}
    for lvl in levels:
        table = _table_for_level(lvl, base.collapse(lvl), prep, labels, chosen, rng=rng, **common)
        results[lvl.name] = build_level(
            lvl, table, overall, reference=reference if lvl is inter or n_feat == 1 else
            _reference_for(reference, features.names, lvl), level_ci=ci,
            correction=correction, policy=policy, task=labels.task,
        )
    records += _warnings_for(levels, results, min_group_size)
    result = FairnessResult(
        task=labels.task,
        metrics=chosen,
        classes=labels.classes,
        pos_label=labels.pos_label,
        sensitive_features=list(features.names),
        levels=results,
        overall=overall,
        ci=ci,
        n_boot=n_boot if ci is not None else 0,
        correction=correction,
        policy=policy,
        warnings=records,
        n_rows=int(overall.count[0]),
        backend=prep.backend,
    )
    for rec in records:
        warnings.warn(rec.message, rec.category, stacklevel=2)
    return result


def _reference_for(reference: Any, names: list[str], lvl: Level) -> Any:
    """The part of a multi-feature reference that applies to a single-feature level."""
    if isinstance(reference, dict) and lvl.feature_names[0] in reference:
        return {lvl.feature_names[0]: reference[lvl.feature_names[0]]}
    return None


def _fmt_key(names: list[str], key: tuple[Any, ...]) -> str:
    return ", ".join(f"{n}={v}" for n, v in zip(names, key, strict=True))


def _warnings_for(
    levels: list[Level], results: dict[str, LevelResult], min_group_size: int
) -> list[WarningRecord]:
    out: list[WarningRecord] = []
    for lvl in levels:
        res = results[lvl.name]
        counts = res.table.count
        small = [i for i, c in enumerate(counts) if c < min_group_size]
        if small:
            shown = "; ".join(
                f"{_fmt_key(lvl.feature_names, lvl.keys[i])} ({int(counts[i])} rows)"
                for i in small[:8]
            )
            more = f" and {len(small) - 8} more" if len(small) > 8 else ""
            out.append(
                WarningRecord(
                    SmallGroupWarning,
                    f"{len(small)} group(s) at level {lvl.name!r} have fewer than "
                    f"{min_group_size} rows: {shown}{more}. Their numbers are unstable; read "
                    "their intervals, and consider merging groups or collecting more data.",
                )
            )
        if lvl.empty and len(lvl.feature_names) > 1:
            shown = "; ".join(_fmt_key(lvl.feature_names, k) for k in lvl.empty[:8])
            more = f" and {len(lvl.empty) - 8} more" if len(lvl.empty) > 8 else ""
            out.append(
                WarningRecord(
                    EmptyIntersectionWarning,
                    f"{len(lvl.empty)} of {lvl.n_possible} combinations of "
                    f"{', '.join(lvl.feature_names)} have no rows: {shown}{more}. They are left "
                    "out of the table; nothing can be said about them from this data.",
                )
            )
        table = res.table
        for i, name in enumerate(table.names):
            bad = [j for j in range(table.value.shape[1]) if not np.isfinite(table.value[i, j])]
            if bad and name != "count":
                shown = "; ".join(_fmt_key(lvl.feature_names, lvl.keys[j]) for j in bad[:5])
                more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
                out.append(
                    WarningRecord(
                        UndefinedMetricWarning,
                        f"{name} is undefined (0/0) at level {lvl.name!r} for {shown}{more}: the "
                        "group has no rows in the metric's denominator. It is reported as null "
                        "and left out of disparities.",
                    )
                )
    return out


__all__ = ["ScrutinyWarning", "assess"]

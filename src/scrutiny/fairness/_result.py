"""The result of :func:`scrutiny.fairness.assess`: tidy tables, JSON, explanations."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scrutiny.exceptions import InvalidParameterError, ScrutinyWarning
from scrutiny.fairness._compute import MetricTable
from scrutiny.fairness._disparity import CRITERIA, Disparity, LevelResult
from scrutiny.fairness._metrics import spec_for, split_class_metric

SCHEMA_VERSION = "1.0"
METHODS = ("between_groups", "to_overall", "to_reference")


@dataclass(frozen=True)
class WarningRecord:
    """A warning raised during assessment, kept with the result."""

    category: type[ScrutinyWarning]
    message: str

    @property
    def code(self) -> str:
        """Stable machine-readable code of the warning class."""
        return self.category.code

    def to_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class GroupRow:
    """One group: its feature values, row count and metric values with intervals."""

    features: dict[str, Any]
    count: int
    metrics: dict[str, tuple[float | None, tuple[float, float] | None]]

    def value(self, metric: str) -> float:
        """The metric's value (NaN when undefined)."""
        v = self.metrics[metric][0]
        return math.nan if v is None else v

    def ci(self, metric: str) -> tuple[float, float] | None:
        """The metric's confidence interval, if computed."""
        return self.metrics[metric][1]


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _pair(ci: Any) -> list[float] | None:
    if ci is None:
        return None
    lo, hi = _num(ci[0]), _num(ci[1])
    return None if lo is None or hi is None else [lo, hi]


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


class FairnessResult:
    """Per-group metrics with intervals, disparities, criteria, tests and warnings.

    Do not build it yourself: :func:`scrutiny.fairness.assess` returns one.

    Attributes
    ----------
    task : str
        ``"binary"``, ``"multiclass"`` or ``"regression"``.
    metrics : list of str
        The metric names, in order.
    sensitive_features : list of str
        The sensitive feature names; several give intersectional groups.
    groups : list of GroupRow
        One entry per non-empty intersectional group.
    by_feature : dict of str to list of GroupRow
        The groups of each sensitive feature alone (when there are several).
    overall : dict of str to tuple
        Each metric over all rows, with its interval.
    disparities : dict of str to Disparity
        Between-group disparities of each metric over the intersectional groups.
    criteria : dict of str to dict
        Named fairness criteria (binary problems).
    warnings : list of WarningRecord
        What to be careful about when reading the numbers.
    """

    def __init__(
        self,
        *,
        task: str,
        metrics: list[str],
        classes: list[Any],
        pos_label: Any,
        sensitive_features: list[str],
        levels: dict[str, LevelResult],
        overall: MetricTable,
        ci: float | None,
        n_boot: int,
        correction: str,
        policy: str | None,
        warnings: list[WarningRecord],
        n_rows: int,
        backend: str,
    ) -> None:
        self.task = task
        self.metrics = metrics
        self.classes = classes
        self.pos_label = pos_label
        self.sensitive_features = sensitive_features
        self.levels = levels
        self._overall = overall
        self.ci_level = ci
        self.n_boot = n_boot
        self.correction = correction
        self.policy = policy
        self.warnings = warnings
        self.n_rows = n_rows
        self.backend = backend

    # -- tables ---------------------------------------------------------------
    def _rows(self, level: str) -> list[GroupRow]:
        res = self.levels[level]
        t = res.table
        rows = []
        for j, key in enumerate(res.level.keys):
            feats = dict(zip(res.level.feature_names, (_py(k) for k in key), strict=True))
            metrics = {
                name: (
                    _num(t.value[i, j]),
                    None if name == "count" else _pair((t.low[i, j], t.high[i, j])),
                )
                for i, name in enumerate(t.names)
            }
            rows.append(GroupRow(feats, int(t.count[j]), metrics))
        return rows

    @property
    def groups(self) -> list[GroupRow]:
        """Intersectional groups (or the groups of the only sensitive feature)."""
        return self._rows("intersection")

    @property
    def by_feature(self) -> dict[str, list[GroupRow]]:
        """Groups of each sensitive feature on its own (only with several features)."""
        return {n: self._rows(n) for n in self.sensitive_features if n in self.levels}

    @property
    def overall(self) -> dict[str, tuple[float | None, tuple[float, float] | None]]:
        """Each metric computed over all rows."""
        t = self._overall
        return {
            n: (_num(t.value[i, 0]), None if n == "count" else _pair((t.low[i, 0], t.high[i, 0])))
            for i, n in enumerate(t.names)
        }

    @property
    def disparities(self) -> dict[str, Disparity]:
        """Disparities over the intersectional groups."""
        return self.levels["intersection"].disparities

    @property
    def criteria(self) -> dict[str, dict[str, Any]]:
        """Named criteria over the intersectional groups."""
        return self.levels["intersection"].criteria

    def _level_name(self, feature: str | None) -> str:
        if feature is None:
            return "intersection"
        if feature not in self.levels:
            raise InvalidParameterError.from_value(
                "feature", "FairnessResult", f"one of {self.sensitive_features}", feature,
                "With a single sensitive feature, leave feature=None.",
            )
        return feature

    def _check_metric(self, metric: str, where: str) -> None:
        if metric not in self.metrics or metric == "count":
            raise InvalidParameterError.from_value(
                "metric", where, f"one of {[m for m in self.metrics if m != 'count']}", metric
            )

    def difference(
        self, metric: str, *, method: str = "between_groups", feature: str | None = None
    ) -> float:
        """Difference of ``metric`` between groups, to the overall value, or to the reference.

        Parameters
        ----------
        metric : str
            A metric of this result.
        method : {"between_groups", "to_overall", "to_reference"}, default="between_groups"
            ``between_groups``: largest minus smallest group value; ``to_overall``:
            largest absolute gap to the overall value; ``to_reference``: largest
            absolute gap to the reference group.
        feature : str, default=None
            A single sensitive feature; None uses the intersectional groups.

        Returns
        -------
        float
            The difference (NaN when undefined).
        """
        return self._agg(metric, method, feature, "difference")

    def ratio(
        self, metric: str, *, method: str = "between_groups", feature: str | None = None
    ) -> float:
        """Ratio of ``metric`` between groups (smallest over largest), or to overall / reference.

        Parameters
        ----------
        metric : str
            A metric of this result.
        method : {"between_groups", "to_overall", "to_reference"}, default="between_groups"
            As in :meth:`difference`; ratios are at most 1.
        feature : str, default=None
            A single sensitive feature; None uses the intersectional groups.

        Returns
        -------
        float
            The ratio (NaN when undefined, e.g. for metrics that can be negative).
        """
        return self._agg(metric, method, feature, "ratio")

    def _agg(self, metric: str, method: str, feature: str | None, what: str) -> float:
        self._check_metric(metric, f"FairnessResult.{what}")
        if method not in METHODS:
            raise InvalidParameterError.from_value(
                "method", f"FairnessResult.{what}", f"one of {METHODS}", method
            )
        d = self.levels[self._level_name(feature)].disparities[metric]
        if method == "between_groups":
            val = d.difference if what == "difference" else d.ratio
        elif method == "to_overall":
            val = d.to_overall_difference if what == "difference" else d.to_overall_ratio
        else:
            if d.reference_difference is None:
                msg = (
                    f"method='to_reference' needs a reference group: pass reference= to assess "
                    f"(for example reference={self.groups[0].features})."
                )
                raise InvalidParameterError(msg)
            val = d.to_reference_difference if what == "difference" else d.to_reference_ratio
        return math.nan if val is None else float(val)

    # -- export ---------------------------------------------------------------
    def _group_dicts(self, level: str) -> list[dict[str, Any]]:
        res = self.levels[level]
        out = []
        for j, row in enumerate(self._rows(level)):
            entry: dict[str, Any] = {
                "features": row.features,
                "count": row.count,
                "metrics": {
                    n: {"value": v, "ci": ci} for n, (v, ci) in row.metrics.items() if n != "count"
                },
            }
            if res.reference_index is not None:
                entry["is_reference"] = j == res.reference_index
                entry["to_reference"] = {
                    n: {
                        "difference": _num(d.reference_difference[j]),
                        "ratio": _num(d.reference_ratio[j]),
                        "ci_difference": None
                        if d.reference_difference_ci is None
                        else _pair((d.reference_difference_ci[0][j],
                                    d.reference_difference_ci[1][j])),
                    }
                    for n, d in res.disparities.items()
                    if d.reference_difference is not None
                }
            out.append(entry)
        return out

    def _disparity_dicts(self, level: str) -> dict[str, Any]:
        out = {}
        for name, d in self.levels[level].disparities.items():
            entry: dict[str, Any] = {
                "difference": _num(d.difference),
                "ratio": _num(d.ratio),
                "ci_difference": _pair(d.ci_difference),
                "ci_ratio": _pair(d.ci_ratio),
                "max_group": None if d.max_group is None else [_py(k) for k in d.max_group],
                "min_group": None if d.min_group is None else [_py(k) for k in d.min_group],
                "to_overall": {
                    "difference": _num(d.to_overall_difference),
                    "ratio": _num(d.to_overall_ratio),
                    "ci_difference": _pair(d.ci_to_overall_difference),
                },
            }
            if d.reference_difference is not None:
                entry["to_reference"] = {
                    "difference": _num(d.to_reference_difference),
                    "ratio": _num(d.to_reference_ratio),
                    "ci_difference": _pair(d.ci_to_reference_difference),
                }
            out[name] = entry
        return out

    def _tests_dicts(self, level: str) -> list[dict[str, Any]]:
        res = self.levels[level]
        keys = res.level.keys
        out = []
        for t in res.tests:
            for k, (a, b) in enumerate(zip(t.group_a, t.group_b, strict=True)):
                out.append({
                    "metric": t.metric,
                    "group_a": [_py(x) for x in keys[a]],
                    "group_b": [_py(x) for x in keys[b]],
                    "difference": _num(t.difference[k]),
                    "z": _num(t.z[k]),
                    "p_value": _num(t.p_value[k]),
                    "p_adjusted": _num(t.p_adjusted[k]),
                })
        return out

    def to_dict(self, *, include_tests: bool = True) -> dict[str, Any]:
        """The result as plain JSON-ready Python objects (the CLI's JSON shape).

        Parameters
        ----------
        include_tests : bool, default=True
            Include the pairwise group tests (they grow with the square of the
            number of groups).

        Returns
        -------
        dict
            Keys ``schema_version``, ``task``, ``sensitive_features``, ``metrics``,
            ``groups``, ``disparities``, ``criteria``, ``overall``, ``by_feature``,
            ``tests`` and ``warnings``.
        """
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "task": self.task,
            "n_rows": self.n_rows,
            "sensitive_features": self.sensitive_features,
            "metrics": self.metrics,
            "classes": [_py(c) for c in self.classes],
            "pos_label": _py(self.pos_label),
            "ci_level": self.ci_level,
            "n_boot": self.n_boot,
            "groups": self._group_dicts("intersection"),
            "disparities": self._disparity_dicts("intersection"),
            "criteria": {
                k: {**v, "ci_difference": _pair(v.get("ci_difference")),
                    "ci_ratio": _pair(v.get("ci_ratio")),
                    "difference": _num(v["difference"]), "ratio": _num(v["ratio"])}
                for k, v in self.criteria.items()
            },
            "overall": {
                n: {"value": v, "ci": ci} for n, (v, ci) in self.overall.items() if n != "count"
            },
            "by_feature": {
                name: {
                    "groups": self._group_dicts(name),
                    "disparities": self._disparity_dicts(name),
                }
                for name in self.sensitive_features
                if name in self.levels
            },
            "warnings": [w.to_dict() for w in self.warnings],
        }
        if include_tests:
            out["tests"] = {
                "correction": self.correction,
                "pairs": self._tests_dicts("intersection"),
            }
        return out

    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        """Serialise :meth:`to_dict` to JSON; also write it to ``path`` when given.

        Parameters
        ----------
        path : str or Path, default=None
            Where to write the JSON.
        indent : int or None, default=2
            Indentation of the JSON text.

        Returns
        -------
        str
            The JSON text.
        """
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False, default=str)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def _tidy_records(self) -> list[dict[str, Any]]:
        recs = []
        for level, res in self.levels.items():
            t = res.table
            for j, key in enumerate(res.level.keys):
                feats = dict(zip(res.level.feature_names, (_py(k) for k in key), strict=True))
                for i, name in enumerate(t.names):
                    recs.append({
                        "level": level,
                        **{f: feats.get(f) for f in self.sensitive_features},
                        "metric": name,
                        "value": _num(t.value[i, j]),
                        "ci_low": None if name == "count" else _num(t.low[i, j]),
                        "ci_high": None if name == "count" else _num(t.high[i, j]),
                        "count": int(t.count[j]),
                    })
        return recs

    def to_pandas(self) -> Any:
        """Tidy per-group table: one row per (level, group, metric).

        Returns
        -------
        pandas.DataFrame
            Columns ``level``, one per sensitive feature, ``metric``, ``value``,
            ``ci_low``, ``ci_high`` and ``count``.
        """
        import pandas as pd

        return pd.DataFrame.from_records(self._tidy_records())

    def to_polars(self) -> Any:
        """The tidy table of :meth:`to_pandas` as a polars DataFrame.

        Returns
        -------
        polars.DataFrame
            Same columns as :meth:`to_pandas`.
        """
        from scrutiny._utils.deps import import_optional

        pl = import_optional("polars", purpose="FairnessResult.to_polars")
        recs = self._tidy_records()
        return pl.DataFrame(
            {k: [r[k] for r in recs] for k in recs[0]} if recs else {}, strict=False
        )

    # -- words ----------------------------------------------------------------
    def explain(self, metric: str) -> str:
        """Say in plain language what ``metric`` means here, what it assumes, when it misleads.

        Parameters
        ----------
        metric : str
            A metric of this result, or a named criterion such as ``"equalized_odds"``.

        Returns
        -------
        str
            A few sentences built from the definition and this result's numbers.
        """
        if metric in CRITERIA:
            return self._explain_criterion(metric)
        self._check_metric(metric, "FairnessResult.explain")
        _, cls = split_class_metric(metric)
        spec = spec_for(metric)
        what = spec.meaning + (f" (class {cls!r} against all others)" if cls else "")
        parts = [f"{spec.label[0].upper()}{spec.label[1:]}: {what}."]
        d = self.disparities.get(metric)
        level = self.levels["intersection"].level
        if d is not None and d.max_group is not None:
            hi = ", ".join(f"{n}={v}" for n, v in zip(level.feature_names, d.max_group,
                                                        strict=True))
            lo = ", ".join(f"{n}={v}" for n, v in zip(level.feature_names, d.min_group,
                                                        strict=True))
            rows = {tuple(r.features.values()): r for r in self.groups}
            vhi = rows[tuple(_py(k) for k in d.max_group)].value(metric)
            vlo = rows[tuple(_py(k) for k in d.min_group)].value(metric)
            sentence = (
                f"Here it ranges from {vlo:.3g} ({lo}) to {vhi:.3g} ({hi}) across "
                f"{len(self.groups)} groups, a difference of {d.difference:.3g}"
            )
            if d.ci_difference is not None and self.ci_level is not None:
                lo_ci, hi_ci = d.ci_difference
                sentence += (
                    f" ({round(self.ci_level * 100)}% interval {lo_ci:.3g} to {hi_ci:.3g})"
                )
            parts.append(sentence + ".")
            parts.append(
                "The difference between the largest and smallest group is never below zero and "
                "grows with the number of small groups, so compare it with its interval rather "
                "than with zero."
            )
        parts.append(f"It assumes {spec.assumes}.")
        parts.append(f"It misleads {spec.misleads}.")
        return " ".join(parts)

    def _explain_criterion(self, name: str) -> str:
        texts = {
            "demographic_parity": "Demographic parity asks that every group receives the "
            "positive decision at the same rate, whatever their true outcomes. It suits "
            "allocation decisions where the outcome label itself may be biased; it conflicts "
            "with equal error rates when base rates differ.",
            "equal_opportunity": "Equal opportunity asks that people whose true outcome is "
            "positive are recognised at the same rate in every group (equal true positive "
            "rates). It assumes the positive labels are trustworthy.",
            "equalized_odds": "Equalized odds asks for equal true positive and equal false "
            "positive rates across groups; its difference is the larger of the two gaps. It "
            "assumes trustworthy labels and generally conflicts with predictive parity when "
            "base rates differ.",
            "predictive_parity": "Predictive parity asks that a positive prediction is equally "
            "often right in every group (equal precision). It cannot hold together with "
            "equalized odds when base rates differ, except for a perfect model.",
            "error_rate_parity": "Error-rate parity asks that the share of wrong predictions is "
            "the same in every group; it ignores which kind of error is made.",
            "disparate_impact": "Disparate impact compares selection rates as a ratio (lowest "
            "over highest). The four-fifths rule of thumb is only a screening policy and is "
            "applied only when you opt in; neither value is a verdict.",
        }
        text = texts[name]
        c = self.criteria.get(name)
        if c is None:
            return text + " It was not computed here: its metrics were not requested."
        text += f" Here the difference is {c['difference']:.3g} and the ratio {c['ratio']:.3g}."
        return text

    def __repr__(self) -> str:
        return (
            f"FairnessResult(task={self.task!r}, n_rows={self.n_rows}, "
            f"sensitive_features={self.sensitive_features}, groups={len(self.groups)}, "
            f"metrics={self.metrics}, warnings={len(self.warnings)})"
        )

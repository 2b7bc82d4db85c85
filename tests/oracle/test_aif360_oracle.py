"""Oracle: scrutiny's per-group rates and reference-group disparities equal AIF360 0.6.1's.

AIF360's ``ClassificationMetric`` needs numeric protected attributes, so each
sensitive column is encoded as integer codes (sorted categories). For every
group of every level (each column alone and two-column intersections) a
``ClassificationMetric`` is built with that group as the *unprivileged* group
and the reference group as the *privileged* one, which gives both:

* the group's own rates (``privileged=False``), compared with ``GroupRow.value``;
* its disparities against the reference (``difference`` / ``ratio`` and the
  named ones: statistical parity difference, disparate impact, equal
  opportunity difference, average (abs) odds difference, equalized odds
  difference, error-rate difference and ratio...), compared with
  ``to_dict()["groups"][j]["to_reference"]`` of ``assess(..., reference=...)``.

AIF360 reports 0 (not undefined) for PPV, NPV, FDR, FOR and accuracy when
their denominator is empty; the oracle reads AIF360's own counts then and
expects scrutiny to report the value as undefined.
"""

from __future__ import annotations

import functools
import logging
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from .conftest import PAIRS, Comparer, case_params, key_of, load_case, run_assess

logging.getLogger().setLevel(logging.ERROR)  # aif360 logs optional-dependency notes on import
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    aif_datasets = pytest.importorskip("aif360.datasets")
    aif_metrics = pytest.importorskip("aif360.metrics")

pytestmark = pytest.mark.oracle

#: AIF360 ClassificationMetric method -> scrutiny metric (rates, and one weighted count)
RATES = {
    "true_positive_rate": "true_positive_rate",
    "false_positive_rate": "false_positive_rate",
    "true_negative_rate": "true_negative_rate",
    "false_negative_rate": "false_negative_rate",
    "positive_predictive_value": "precision",
    "negative_predictive_value": "negative_predictive_value",
    "false_discovery_rate": "false_discovery_rate",
    "false_omission_rate": "false_omission_rate",
    "selection_rate": "selection_rate",
    "base_rate": "base_rate",
    "accuracy": "accuracy",
    "error_rate": "error_rate",
    # weighted number predicted positive
    "num_pred_positives": "selection_count",
}

#: AIF360 reports 0 for these when the denominator is empty: which count it divides by
ZERO_WHEN_EMPTY = {
    "positive_predictive_value": "num_pred_positives",
    "false_discovery_rate": "num_pred_positives",
    "negative_predictive_value": "num_pred_negatives",
    "false_omission_rate": "num_pred_negatives",
}

SCRUTINY_METRICS = sorted(set(RATES.values()))


class AifProblem:
    """A binary problem as a pair of AIF360 BinaryLabelDatasets with encoded attributes."""

    def __init__(self, dataset: str, weighting: str, cols: tuple[str, ...]) -> None:
        case = load_case(dataset)
        self.case = case
        self.cols = cols
        self.codes: dict[str, dict[str, int]] = {}
        data = {}
        for c in cols:
            values = case.frame[c].to_numpy(dtype=object)
            cats = sorted(set(values))
            self.codes[c] = {v: i for i, v in enumerate(cats)}
            data[c] = np.array([self.codes[c][v] for v in values], dtype=np.float64)
        df = pd.DataFrame(data)
        df["label"] = case.y_true.astype(np.float64)
        w = case.weight(weighting)
        if w is not None:
            df["weight"] = np.asarray(w, dtype=np.float64)
        self.weighted = w is not None
        self.truth = aif_datasets.BinaryLabelDataset(
            df=df,
            label_names=["label"],
            protected_attribute_names=list(cols),
            instance_weights_name="weight" if w is not None else None,
            favorable_label=1.0,
            unfavorable_label=0.0,
        )
        self.pred = self.truth.copy(deepcopy=True)
        self.pred.labels = case.y_pred.astype(np.float64).reshape(-1, 1)

    def group(self, key: tuple[Any, ...], cols: tuple[str, ...]) -> dict[str, float]:
        """The AIF360 group condition of a scrutiny group key."""
        return {c: float(self.codes[c][k]) for c, k in zip(cols, key, strict=True)}

    def metric(self, unpriv: dict[str, float], priv: dict[str, float]) -> Any:
        """ClassificationMetric of one group (unprivileged) against the reference (privileged)."""
        return aif_metrics.ClassificationMetric(
            self.truth, self.pred, unprivileged_groups=[unpriv], privileged_groups=[priv]
        )

    def own(self, group: dict[str, float]) -> Any:
        """ClassificationMetric conditioned on one group alone (read with privileged=True)."""
        return aif_metrics.ClassificationMetric(
            self.truth, self.pred, unprivileged_groups=[], privileged_groups=[group]
        )


@functools.cache
def problem(dataset: str, weighting: str, cols: tuple[str, ...]) -> AifProblem:
    """Cached: the same encoded datasets serve every level of a feature set."""
    return AifProblem(dataset, weighting, cols)


def _rate(m: Any, name: str, privileged: bool | None) -> float:
    """An AIF360 rate, NaN where AIF360 reports 0 for an empty denominator."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = float(getattr(m, name)(privileged=privileged))
        if name in ZERO_WHEN_EMPTY and getattr(m, ZERO_WHEN_EMPTY[name])(privileged) == 0:
            return math.nan
    return value


def _aif(fn: Any) -> float:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(fn())


def _reference(case: Any, cols: tuple[str, ...]) -> Any:
    if len(cols) == 1:
        return case.reference[cols[0]]
    return {c: case.reference[c] for c in cols}


def _levels(d: dict[str, Any], cols: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any, Any]]:
    """(columns, to_dict groups, feature argument) of every level of a result's dict."""
    out = [(cols, d["groups"], None)]
    if len(cols) > 1:
        out += [((c,), d["by_feature"][c]["groups"], c) for c in cols]
    return out


@pytest.mark.parametrize(("dataset", "weighting", "cols"), case_params())
def test_classification_metric_by_group(
    dataset: str, weighting: str, cols: tuple[str, ...]
) -> None:
    """Every group's rates equal AIF360's, and the overall rates too."""
    prob = problem(dataset, weighting, cols)
    case = prob.case
    w = case.weight(weighting)
    result = run_assess(
        case.y_true,
        case.y_pred,
        sensitive_features=case.frame[list(cols)],
        sample_weight=w,
        metrics=["count", *SCRUTINY_METRICS],
    )
    cmp = Comparer("aif360")
    for lcols, rows, _ in [(cols, result.groups, None)] + (
        [((c,), result.by_feature[c], c) for c in cols] if len(cols) > 1 else []
    ):
        for row in rows:
            key = key_of(row, lcols)
            m = prob.own(prob.group(key, lcols))
            label = f"[{'x'.join(lcols)}] {key}"
            for aif_name, mine in RATES.items():
                cmp.check(row.value(mine), _rate(m, aif_name, True), f"{label} {aif_name}")
            if not prob.weighted:  # AIF360 counts weighted instances; scrutiny counts rows
                cmp.check(
                    row.count,
                    _aif(lambda m=m: m.num_instances(privileged=True)),
                    f"{label} num_instances",
                )
    # overall (privileged=None)
    m = prob.own(prob.group(key_of(result.groups[0], cols), cols))
    for aif_name, mine in RATES.items():
        cmp.check(result.overall[mine][0], _rate(m, aif_name, None), f"overall {aif_name}")
    cmp.finish(min_checks=30)


#: scrutiny metric -> AIF360 ClassificationMetric difference / ratio methods
NAMED_DIFF = {
    "selection_rate": "statistical_parity_difference",
    "true_positive_rate": "true_positive_rate_difference",
    "false_positive_rate": "false_positive_rate_difference",
    "false_negative_rate": "false_negative_rate_difference",
    "false_omission_rate": "false_omission_rate_difference",
    "false_discovery_rate": "false_discovery_rate_difference",
    "error_rate": "error_rate_difference",
}
NAMED_RATIO = {
    "selection_rate": "disparate_impact",
    "false_positive_rate": "false_positive_rate_ratio",
    "false_negative_rate": "false_negative_rate_ratio",
    "false_omission_rate": "false_omission_rate_ratio",
    "false_discovery_rate": "false_discovery_rate_ratio",
    "error_rate": "error_rate_ratio",
}


def _defined(x: float) -> bool:
    return x is not None and math.isfinite(x)


@pytest.mark.parametrize(("dataset", "weighting", "cols"), case_params())
def test_reference_disparities(dataset: str, weighting: str, cols: tuple[str, ...]) -> None:
    """to_reference differences and ratios equal AIF360's unprivileged-vs-privileged ones."""
    prob = problem(dataset, weighting, cols)
    case = prob.case
    w = case.weight(weighting)
    result = run_assess(
        case.y_true,
        case.y_pred,
        sensitive_features=case.frame[list(cols)],
        sample_weight=w,
        metrics=SCRUTINY_METRICS,
        reference=_reference(case, cols),
    )
    d = result.to_dict(include_tests=False)
    cmp = Comparer("aif360")
    for lcols, groups, feature in _levels(d, cols):
        ref_key = tuple(case.reference[c] for c in lcols)
        priv = prob.group(ref_key, lcols)
        flags = [g["is_reference"] for g in groups]
        cmp.check_true(
            flags.count(True) == 1 and key_of(groups[flags.index(True)], lcols) == ref_key,
            f"[{lcols}] reference group flagged: {flags}",
        )
        abs_diffs: dict[str, list[float]] = {m: [] for m in SCRUTINY_METRICS}
        ratios: dict[str, list[float]] = {m: [] for m in SCRUTINY_METRICS}
        own_ref = prob.own(priv)
        for g in groups:
            key = key_of(g, lcols)
            label = f"[{'x'.join(lcols)}] {key} vs {ref_key}"
            to_ref = g["to_reference"]
            if g["is_reference"]:
                # AIF360 needs disjoint groups: the reference against itself is 0 and 1
                for aif_name, mine in RATES.items():
                    v = _rate(own_ref, aif_name, True)
                    cmp.check(
                        to_ref[mine]["difference"],
                        0.0 if _defined(v) else math.nan,
                        f"{label} difference({aif_name}) of the reference itself",
                    )
                    cmp.check(
                        to_ref[mine]["ratio"],
                        1.0 if _defined(v) and v != 0 else math.nan,
                        f"{label} ratio({aif_name}) of the reference itself",
                    )
                continue
            m = prob.metric(prob.group(key, lcols), priv)
            values = {}
            for aif_name, mine in RATES.items():
                unp, pri = _rate(m, aif_name, False), _rate(m, aif_name, True)
                values[mine] = (unp, pri)
                diff = _aif(lambda m=m, n=aif_name: m.difference(getattr(m, n)))
                ratio = _aif(lambda m=m, n=aif_name: m.ratio(getattr(m, n)))
                if not (_defined(unp) and _defined(pri)):
                    diff = ratio = math.nan  # AIF360's 0-for-empty convention: undefined
                if pri == 0:
                    ratio = math.nan  # x / 0: undefined in scrutiny
                cmp.check(to_ref[mine]["difference"], diff, f"{label} difference({aif_name})")
                cmp.check(to_ref[mine]["ratio"], ratio, f"{label} ratio({aif_name})")
                if _defined(diff):
                    abs_diffs[mine].append(abs(diff))
                if _defined(ratio):
                    ratios[mine].append(ratio)
            # AIF360's named disparities
            for mine, fn in NAMED_DIFF.items():
                expected = _aif(getattr(m, fn))
                if not all(_defined(v) for v in values[mine]):
                    expected = math.nan
                cmp.check(to_ref[mine]["difference"], expected, f"{label} {fn}")
            for mine, fn in NAMED_RATIO.items():
                expected = _aif(getattr(m, fn))
                if not all(_defined(v) for v in values[mine]) or values[mine][1] == 0:
                    expected = math.nan
                cmp.check(to_ref[mine]["ratio"], expected, f"{label} {fn}")
            tpr_d = to_ref["true_positive_rate"]["difference"]
            fpr_d = to_ref["false_positive_rate"]["difference"]
            ppv_d = to_ref["precision"]["difference"]
            for_d = to_ref["false_omission_rate"]["difference"]
            odds_ok = all(
                _defined(v) for v in (*values["true_positive_rate"], *values["false_positive_rate"])
            )
            pv_ok = all(_defined(v) for v in (*values["precision"], *values["false_omission_rate"]))
            if odds_ok:
                cmp.check(
                    tpr_d,
                    _aif(m.equal_opportunity_difference),
                    f"{label} equal_opportunity_difference",
                )
                cmp.check(
                    0.5 * (fpr_d + tpr_d),
                    _aif(m.average_odds_difference),
                    f"{label} average_odds_difference",
                )
                cmp.check(
                    0.5 * (abs(fpr_d) + abs(tpr_d)),
                    _aif(m.average_abs_odds_difference),
                    f"{label} average_abs_odds_difference",
                )
                cmp.check(
                    max(abs(fpr_d), abs(tpr_d)),
                    _aif(m.equalized_odds_difference),
                    f"{label} equalized_odds_difference",
                )
            else:
                cmp.check_true(
                    tpr_d is None or fpr_d is None,
                    f"{label}: an odds component is undefined but scrutiny has both",
                )
            if pv_ok:
                cmp.check(
                    0.5 * (ppv_d + for_d),
                    _aif(m.average_predictive_value_difference),
                    f"{label} average_predictive_value_difference",
                )
        # the aggregate over groups: largest |difference| and smallest ratio to the reference
        for mine in SCRUTINY_METRICS:
            exp_d = max(abs_diffs[mine]) if abs_diffs[mine] else math.nan
            exp_r = min(ratios[mine]) if ratios[mine] else math.nan
            cmp.check(
                result.difference(mine, method="to_reference", feature=feature),
                exp_d,
                f"[{lcols}] difference({mine}, to_reference)",
            )
            cmp.check(
                result.ratio(mine, method="to_reference", feature=feature),
                exp_r,
                f"[{lcols}] ratio({mine}, to_reference)",
            )
    cmp.finish(min_checks=50)


@pytest.mark.parametrize(("dataset", "weighting", "cols"), case_params(PAIRS))
def test_reference_as_tuple_equals_dict(
    dataset: str, weighting: str, cols: tuple[str, ...]
) -> None:
    """An intersectional reference given as a tuple picks the same group as the dict form."""
    case = load_case(dataset)
    w = case.weight(weighting)
    common = dict(sample_weight=w, metrics=["selection_rate", "true_positive_rate"])
    a = run_assess(
        case.y_true,
        case.y_pred,
        sensitive_features=case.frame[list(cols)],
        reference=_reference(case, cols),
        **common,
    ).to_dict(include_tests=False)
    b = run_assess(
        case.y_true,
        case.y_pred,
        sensitive_features=case.frame[list(cols)],
        reference=tuple(case.reference[c] for c in cols),
        **common,
    ).to_dict(include_tests=False)
    assert [g["to_reference"] for g in a["groups"]] == [g["to_reference"] for g in b["groups"]]


def test_aif360_zero_convention_is_what_the_oracle_assumes() -> None:
    """AIF360 reports PPV = 0 when nothing is predicted positive; the oracle relies on it."""
    df = pd.DataFrame({"a": [0.0, 0.0, 1.0, 1.0], "label": [1.0, 0.0, 1.0, 0.0]})
    truth = aif_datasets.BinaryLabelDataset(
        df=df, label_names=["label"], protected_attribute_names=["a"]
    )
    pred = truth.copy(deepcopy=True)
    pred.labels = np.zeros((4, 1))
    m = aif_metrics.ClassificationMetric(
        truth, pred, unprivileged_groups=[{"a": 0.0}], privileged_groups=[{"a": 1.0}]
    )
    assert m.positive_predictive_value(privileged=False) == 0.0
    assert m.num_pred_positives(privileged=False) == 0.0

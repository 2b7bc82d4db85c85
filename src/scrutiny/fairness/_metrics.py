"""The metric registry: every per-group metric as a function of sufficient statistics.

One rule: **a per-group metric is a function of per-group sufficient statistics.**
For classification those statistics are the (weighted) confusion-matrix cells;
for regression, weighted sums of moments; for scores, the weighted score
distribution per class. Nothing here touches rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Task = Literal["binary", "multiclass", "regression"]
Kind = Literal["binary", "score", "regression", "multiclass"]

TP, FP, FN, TN = "tp", "fp", "fn", "tn"


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Divide, giving NaN (undefined) where the denominator is zero."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


@dataclass(frozen=True)
class Cells:
    """Confusion cells (weighted sums) with any leading shape."""

    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray

    def __getitem__(self, name: str) -> np.ndarray:
        return getattr(self, name)

    def total(self, names: tuple[str, ...]) -> np.ndarray:
        """Sum of the named cells."""
        out = np.zeros(np.shape(self.tp))
        for n in names:
            out = out + self[n]
        return out


@dataclass(frozen=True)
class MetricSpec:
    """How one metric is computed, bounded and explained."""

    name: str
    kind: Kind
    label: str
    meaning: str
    assumes: str
    misleads: str
    #: for rates: the cells in the numerator and denominator (Wilson intervals apply)
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()
    #: for non-rate confusion metrics: a function of the cells
    func: Callable[[Cells], np.ndarray] | None = None
    higher_is_better: bool | None = None
    bounds: tuple[float, float] | None = (0.0, 1.0)
    aliases: tuple[str, ...] = field(default=())

    @property
    def is_rate(self) -> bool:
        """True when the metric is a proportion of confusion cells."""
        return bool(self.numerator)

    def from_cells(self, cells: Cells) -> np.ndarray:
        """Compute the metric from confusion cells of any leading shape."""
        if self.is_rate:
            return _div(cells.total(self.numerator), cells.total(self.denominator))
        if self.func is None:  # pragma: no cover - registry invariant
            msg = f"metric {self.name} has no cell formula"
            raise TypeError(msg)
        return self.func(cells)


_ALL = (TP, FP, FN, TN)
_POS = (TP, FN)  # actual positives
_NEG = (FP, TN)  # actual negatives
_PPOS = (TP, FP)  # predicted positives
_PNEG = (FN, TN)  # predicted negatives


def _balanced_accuracy(c: Cells) -> np.ndarray:
    return (_div(c.tp, c.tp + c.fn) + _div(c.tn, c.tn + c.fp)) / 2.0


def _f1(c: Cells) -> np.ndarray:
    return _div(2.0 * c.tp, 2.0 * c.tp + c.fp + c.fn)


BINARY_METRICS: dict[str, MetricSpec] = {
    m.name: m
    for m in [
        MetricSpec(
            "selection_rate", "binary", "selection rate",
            "the share of people who receive the positive decision",
            "that the positive prediction means the same thing for every group",
            "when groups differ in how often the outcome truly occurs: equal selection rates can "
            "then only be reached by making more errors for some group",
            numerator=_PPOS, denominator=_ALL, aliases=("positive_rate",),
        ),
        MetricSpec(
            "base_rate", "binary", "base rate",
            "the share of people whose true outcome is positive",
            "that the recorded outcome is accurate for every group",
            "when the recorded label is itself biased (for example arrests standing in for crime)",
            numerator=_POS, denominator=_ALL, aliases=("prevalence",),
        ),
        MetricSpec(
            "true_positive_rate", "binary", "true positive rate",
            "among people whose true outcome is positive, the share the model also marks positive",
            "trustworthy positive labels in every group",
            "in groups with few positives, where one person moves the rate a lot",
            numerator=(TP,), denominator=_POS, higher_is_better=True,
            aliases=("recall", "recall_score", "sensitivity", "tpr"),
        ),
        MetricSpec(
            "false_positive_rate", "binary", "false positive rate",
            "among people whose true outcome is negative, the share wrongly marked positive",
            "trustworthy negative labels in every group",
            "in groups with few negatives, and when negatives are under-recorded",
            numerator=(FP,), denominator=_NEG, higher_is_better=False, aliases=("fpr",),
        ),
        MetricSpec(
            "true_negative_rate", "binary", "true negative rate",
            "among people whose true outcome is negative, the share correctly marked negative",
            "trustworthy negative labels in every group",
            "in groups with few negatives",
            numerator=(TN,), denominator=_NEG, higher_is_better=True,
            aliases=("specificity", "tnr"),
        ),
        MetricSpec(
            "false_negative_rate", "binary", "false negative rate",
            "among people whose true outcome is positive, the share the model misses",
            "trustworthy positive labels in every group",
            "in groups with few positives",
            numerator=(FN,), denominator=_POS, higher_is_better=False, aliases=("fnr", "miss_rate"),
        ),
        MetricSpec(
            "precision", "binary", "precision",
            "among people marked positive, the share whose true outcome is positive",
            "that the label means the same in every group",
            "when groups have different base rates: precision then differs even for a perfect "
            "score, and cannot be equal together with equal error rates",
            numerator=(TP,), denominator=_PPOS, higher_is_better=True,
            aliases=("precision_score", "positive_predictive_value", "ppv"),
        ),
        MetricSpec(
            "negative_predictive_value", "binary", "negative predictive value",
            "among people marked negative, the share whose true outcome is negative",
            "that the label means the same in every group",
            "when groups have different base rates",
            numerator=(TN,), denominator=_PNEG, higher_is_better=True, aliases=("npv",),
        ),
        MetricSpec(
            "false_discovery_rate", "binary", "false discovery rate",
            "among people marked positive, the share whose true outcome is negative",
            "that the label means the same in every group",
            "when groups have different base rates",
            numerator=(FP,), denominator=_PPOS, higher_is_better=False, aliases=("fdr",),
        ),
        MetricSpec(
            "false_omission_rate", "binary", "false omission rate",
            "among people marked negative, the share whose true outcome is positive",
            "that the label means the same in every group",
            "when groups have different base rates",
            numerator=(FN,), denominator=_PNEG, higher_is_better=False, aliases=("for",),
        ),
        MetricSpec(
            "accuracy", "binary", "accuracy",
            "the share of people for whom the prediction is correct",
            "that both kinds of error cost the same",
            "when one outcome is rare: a model that always predicts the common outcome scores high",
            numerator=(TP, TN), denominator=_ALL, higher_is_better=True,
            aliases=("accuracy_score",),
        ),
        MetricSpec(
            "error_rate", "binary", "error rate",
            "the share of people for whom the prediction is wrong",
            "that both kinds of error cost the same",
            "when the two kinds of error harm people differently: look at the false positive and "
            "false negative rates separately",
            numerator=(FP, FN), denominator=_ALL, higher_is_better=False,
        ),
        MetricSpec(
            "false_positives_per_person", "binary", "false positives per person",
            "the share of everyone in the group who is wrongly marked positive (false positives "
            "divided by group size)",
            "that the harm of a false positive falls on the whole group",
            "when groups differ in base rate: a group with fewer true negatives has fewer "
            "chances to be wrongly flagged",
            numerator=(FP,), denominator=_ALL, higher_is_better=False,
            aliases=("fp_gs", "fp_per_group_size"),
        ),
        MetricSpec(
            "false_negatives_per_person", "binary", "false negatives per person",
            "the share of everyone in the group who is wrongly marked negative (false negatives "
            "divided by group size)",
            "that the harm of a missed positive falls on the whole group",
            "when groups differ in base rate",
            numerator=(FN,), denominator=_ALL, higher_is_better=False,
            aliases=("fn_gs", "fn_per_group_size"),
        ),
        MetricSpec(
            "selection_count", "binary", "number selected",
            "how many people in the group receive the positive decision (weighted)",
            "that equal numbers per group is the goal, whatever the group sizes",
            "when group sizes differ a lot: equal counts then mean very different rates",
            func=lambda c: c.tp + c.fp, bounds=(0.0, np.inf), aliases=("predicted_positives",),
        ),
        MetricSpec(
            "balanced_accuracy", "binary", "balanced accuracy",
            "the average of the true positive and true negative rates",
            "that both classes matter equally",
            "when one class is tiny within a group: its rate is then very uncertain",
            func=_balanced_accuracy, higher_is_better=True, aliases=("balanced_accuracy_score",),
        ),
        MetricSpec(
            "f1", "binary", "F1 score",
            "the harmonic mean of precision and true positive rate",
            "that true negatives do not matter",
            "when base rates differ between groups, since it ignores true negatives",
            func=_f1, higher_is_better=True, aliases=("f1_score",),
        ),
    ]
}

COUNT = MetricSpec(
    "count", "binary", "number of rows",
    "how many rows (people) fall in the group, before any weighting",
    "nothing",
    "never, but small counts make every other number in the row uncertain",
    func=None, bounds=None,
)

SCORE_METRICS: dict[str, MetricSpec] = {
    m.name: m
    for m in [
        MetricSpec(
            "roc_auc", "score", "ROC AUC",
            "the chance that a randomly chosen positive person scores higher than a randomly "
            "chosen negative person of the same group",
            "that scores are compared only within the group",
            "because it ignores the decision threshold and calibration: two groups can have the "
            "same AUC and very different error rates at the threshold actually used",
            higher_is_better=True, aliases=("roc_auc_score", "auc"),
        ),
        MetricSpec(
            "brier", "score", "Brier score",
            "the mean squared difference between the predicted probability and the outcome",
            "that scores are probabilities",
            "when base rates differ: it mixes calibration and discrimination",
            higher_is_better=False, aliases=("brier_score_loss", "brier_score"),
        ),
        MetricSpec(
            "ece", "score", "expected calibration error",
            "how far predicted probabilities are from observed outcome rates, averaged over "
            "10 equal-width score bins",
            "that scores are probabilities and bins are well populated",
            "in small groups, where empty or thin bins make it noisy and biased upwards",
            higher_is_better=False, aliases=("expected_calibration_error",),
        ),
    ]
}

REGRESSION_METRICS: dict[str, MetricSpec] = {
    m.name: m
    for m in [
        MetricSpec(
            "mean_prediction", "regression", "mean prediction",
            "the average predicted value in the group",
            "that predictions are on the same scale for everyone",
            "when groups truly differ in the outcome: compare with the mean outcome",
            bounds=None,
        ),
        MetricSpec(
            "mae", "regression", "mean absolute error",
            "the average size of the prediction error",
            "that errors in either direction cost the same",
            "when the outcome's scale differs between groups",
            higher_is_better=False, bounds=(0.0, np.inf), aliases=("mean_absolute_error",),
        ),
        MetricSpec(
            "mse", "regression", "mean squared error",
            "the average squared prediction error",
            "that large errors matter much more than small ones",
            "with outliers, which dominate it",
            higher_is_better=False, bounds=(0.0, np.inf), aliases=("mean_squared_error",),
        ),
        MetricSpec(
            "rmse", "regression", "root mean squared error",
            "the typical size of the prediction error, in the outcome's unit",
            "that large errors matter more than small ones",
            "with outliers, which dominate it",
            higher_is_better=False, bounds=(0.0, np.inf), aliases=("root_mean_squared_error",),
        ),
        MetricSpec(
            "r2", "regression", "R²",
            "the share of the outcome's variation within the group that the model explains",
            "that the outcome varies within the group",
            "when a group's outcomes barely vary: R² then collapses even for small errors",
            higher_is_better=True, bounds=(-np.inf, 1.0), aliases=("r2_score",),
        ),
    ]
}

#: one-vs-rest rates reported per class for multiclass problems
MULTICLASS_OVR = (
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "precision",
)

DEFAULT_BINARY = (
    "count",
    "selection_rate",
    "base_rate",
    "accuracy",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "precision",
    "error_rate",
)
DEFAULT_SCORE = ("roc_auc", "brier", "ece")
DEFAULT_REGRESSION = ("count", "mean_prediction", "mae", "mse", "rmse", "r2")

ALL_SPECS: dict[str, MetricSpec] = {
    "count": COUNT,
    **BINARY_METRICS,
    **SCORE_METRICS,
    **REGRESSION_METRICS,
}

ALIASES: dict[str, str] = {
    alias: spec.name for spec in ALL_SPECS.values() for alias in (spec.name, *spec.aliases)
}

#: metrics whose value is a proportion of confusion cells (exact count bootstrap, Wilson)
RATE_METRICS = frozenset(n for n, s in BINARY_METRICS.items() if s.is_rate)


def split_class_metric(name: str) -> tuple[str, str | None]:
    """Split ``"true_positive_rate[cat]"`` into ``("true_positive_rate", "cat")``."""
    if name.endswith("]") and "[" in name:
        base, _, cls = name[:-1].partition("[")
        return base, cls
    return name, None


def spec_for(name: str) -> MetricSpec:
    """The spec of a canonical metric name (class suffix allowed)."""
    base, _ = split_class_metric(name)
    return ALL_SPECS[base]

"""Shared data and comparison helpers of the oracle suite.

The oracle suite proves that scrutiny's numbers equal those of the reference
tools (Fairlearn, AIF360, scikit-learn) to within ``TOL`` on real data:
ProPublica's COMPAS file and UCI's German credit file (read from the shared
data folder next to the repository) and the bundled UCI Adult file.

Every comparison goes through :class:`Comparer`, which collects all mismatches
of a test (so a failure lists every differing number, not only the first) and
records the largest absolute difference seen per tool; the maxima are printed
in pytest's terminal summary.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from scrutiny.datasets import load_adult, load_compas, load_german_credit
from scrutiny.exceptions import ScrutinyWarning
from scrutiny.fairness import assess

#: tests/oracle -> tests -> repository root -> its parent, which holds shared/data
DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"

#: absolute tolerance of every comparison (never loosen it to make a test pass)
TOL = 1e-9

#: fixed seed of the random positive sample weights
WEIGHT_SEED = 20240601

# --------------------------------------------------------------------------- bookkeeping

#: largest absolute difference observed per tool, and the number of numbers compared
MAX_DIFF: dict[str, float] = {}
MAX_WHERE: dict[str, str] = {}
N_COMPARED: dict[str, int] = {}


def _as_float(x: Any) -> float:
    if x is None:
        return math.nan
    return float(x)


class Comparer:
    """Compare scrutiny's numbers with a reference tool's, collecting every mismatch.

    ``check`` treats NaN, None and infinities as *undefined*: two undefined
    values agree; a defined value never agrees with an undefined one.
    """

    def __init__(self, tool: str) -> None:
        self.tool = tool
        self.mismatches: list[str] = []
        self.n = 0
        self.max_diff = 0.0
        self.max_where = ""

    def check(self, actual: Any, expected: Any, what: str) -> None:
        """Record one comparison of scrutiny's ``actual`` with the tool's ``expected``."""
        a, e = _as_float(actual), _as_float(expected)
        self.n += 1
        a_def, e_def = math.isfinite(a), math.isfinite(e)
        if a_def != e_def:
            self.mismatches.append(
                f"{what}: scrutiny={a!r} vs {self.tool}={e!r} (undefined-ness differs)"
            )
            return
        if not a_def:
            return
        d = abs(a - e)
        if d > self.max_diff:
            self.max_diff, self.max_where = d, f"{what} (value {e!r})"
        if not d <= TOL:
            self.mismatches.append(f"{what}: scrutiny={a!r} vs {self.tool}={e!r} (|diff|={d:.3g})")

    def check_true(self, ok: bool, what: str) -> None:
        """Record a structural expectation (same groups, same reference, ...)."""
        self.n += 1
        if not ok:
            self.mismatches.append(what)

    def finish(self, min_checks: int = 1) -> None:
        """Fail with every mismatch; also guard against a vacuous test."""
        if self.max_diff >= MAX_DIFF.get(self.tool, 0.0):
            MAX_DIFF[self.tool] = self.max_diff
            MAX_WHERE[self.tool] = self.max_where
        N_COMPARED[self.tool] = N_COMPARED.get(self.tool, 0) + self.n
        shown = "\n  ".join(self.mismatches[:60])
        more = f"\n  ... and {len(self.mismatches) - 60} more" if len(self.mismatches) > 60 else ""
        assert not self.mismatches, (
            f"{len(self.mismatches)} of {self.n} comparisons with {self.tool} differ "
            f"(tolerance {TOL}):\n  {shown}{more}"
        )
        assert self.n >= min_checks, (
            f"only {self.n} comparisons were made (expected >= {min_checks})"
        )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the largest absolute difference observed per reference tool."""
    if not MAX_DIFF:
        return
    terminalreporter.section("oracle: largest |scrutiny - reference| per tool")
    for tool in sorted(MAX_DIFF):
        terminalreporter.write_line(
            f"{tool:>14}: max |diff| = {MAX_DIFF[tool]:.3e} over {N_COMPARED[tool]} numbers "
            f"(tolerance {TOL:g}); at {MAX_WHERE.get(tool, '-')}"
        )


# --------------------------------------------------------------------------- data


@dataclass
class BinaryCase:
    """A binary classification problem on real data, with its sensitive columns."""

    name: str
    frame: pd.DataFrame  # the sensitive columns (strings), one row per person
    y_true: np.ndarray  # 0/1 ints
    y_pred: np.ndarray  # 0/1 ints
    y_score: np.ndarray  # probabilities in [0, 1]
    sensitive: tuple[str, ...]
    #: the reference ("privileged") value of each sensitive column, for AIF360
    reference: dict[str, str]
    #: extra named weightings (beside "none" and "random")
    extra_weights: dict[str, np.ndarray] = field(default_factory=dict)
    #: the raw data frame, for regression and multiclass targets
    raw: pd.DataFrame | None = None

    def weight(self, weighting: str) -> np.ndarray | None:
        """The sample weights of a named weighting (None for ``"none"``)."""
        if weighting == "none":
            return None
        if weighting == "random":
            return random_weights(len(self.y_true))
        return self.extra_weights[weighting]

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.y_true)

    def subset(self, mask: np.ndarray, name: str) -> BinaryCase:
        """The same problem on the rows of ``mask`` (weights and raw data sliced too)."""
        return BinaryCase(
            name,
            self.frame.loc[mask].reset_index(drop=True),
            self.y_true[mask],
            self.y_pred[mask],
            self.y_score[mask],
            self.sensitive,
            dict(self.reference),
            {k: v[mask] for k, v in self.extra_weights.items()},
            None if self.raw is None else self.raw.loc[mask].reset_index(drop=True),
        )


def random_weights(n: int, seed: int = WEIGHT_SEED) -> np.ndarray:
    """Positive random weights with a fixed seed (spread over a factor of 16)."""
    return np.random.default_rng(seed).uniform(0.25, 4.0, n)


def _need(path: Path, what: str) -> None:
    if not path.exists():
        pytest.skip(
            f"{what} is absent: expected it at {path} (the shared benchmark data folder is not "
            "part of the repository; put the public file there to run this oracle test)"
        )


@functools.cache
def _compas() -> BinaryCase:
    df = load_compas(DATA_DIR / "compas")
    y_pred = (df["decile_score"].to_numpy() >= 5).astype(np.int64)
    # decile >= 5 is exactly score_text in {Medium, High} in the published file
    assert np.array_equal(y_pred, (df["score_text"] != "Low").to_numpy().astype(np.int64))
    frame = pd.DataFrame({"race": df["race"].astype(str), "sex": df["sex"].astype(str)})
    return BinaryCase(
        "compas",
        frame,
        df["two_year_recid"].to_numpy().astype(np.int64),
        y_pred,
        df["decile_score"].to_numpy() / 10.0,
        ("race", "sex"),
        {"race": "Caucasian", "sex": "Female"},
        raw=df,
    )


@functools.cache
def _adult() -> BinaryCase:
    df = load_adult()
    frame = pd.DataFrame({"sex": df["sex"].astype(str), "race": df["race"].astype(str)})
    return BinaryCase(
        "adult",
        frame,
        df["income"].to_numpy().astype(np.int64),
        df["prediction"].to_numpy().astype(np.int64),
        df["score"].to_numpy().astype(np.float64),
        ("sex", "race"),
        {"sex": "Male", "race": "White"},
        extra_weights={"fnlwgt": df["fnlwgt"].to_numpy()},
        raw=df,
    )


@functools.cache
def _adult_test() -> BinaryCase:
    full = _adult()
    return full.subset(full.raw["split"].to_numpy() == "test", "adult_test")


GERMAN_NUMERIC = (
    "duration_months",
    "credit_amount",
    "installment_rate",
    "residence_since",
    "age",
    "existing_credits",
    "num_dependents",
)


@functools.cache
def _german() -> BinaryCase:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    df = load_german_credit(DATA_DIR / "german_credit")
    x = df[list(GERMAN_NUMERIC)].to_numpy(dtype=np.float64)
    y = df["credit_good"].to_numpy().astype(np.int64)
    model = make_pipeline(StandardScaler(), LogisticRegression(random_state=0, max_iter=1000))
    model.fit(x, y)
    frame = pd.DataFrame(
        {
            "sex": df["sex"].astype(str),
            "age_group": np.where(df["age"].to_numpy() > 25, "over_25", "25_or_younger"),
            "foreign_worker": df["foreign_worker"].astype(str),
        }
    )
    return BinaryCase(
        "german",
        frame,
        y,
        model.predict(x).astype(np.int64),
        model.predict_proba(x)[:, 1],
        ("sex", "age_group", "foreign_worker"),
        {"sex": "Male", "age_group": "over_25", "foreign_worker": "no"},
        raw=df,
    )


_LOADERS: dict[str, tuple[Callable[[], BinaryCase], Path | None, str]] = {
    "compas": (_compas, DATA_DIR / "compas" / "compas-scores-two-years.csv", "COMPAS"),
    "adult": (_adult, None, "Adult"),
    "adult_test": (_adult_test, None, "Adult"),
    "german": (_german, DATA_DIR / "german_credit" / "german.data", "German credit"),
}


def load_case(name: str) -> BinaryCase:
    """Load a dataset case, skipping (with the reason) when its file is absent."""
    loader, path, what = _LOADERS[name]
    if path is not None:
        _need(path, f"The {what} file")
    return loader()


def make_cases(adult: str = "adult") -> list[tuple[str, str]]:
    """(dataset, weighting) pairs a binary oracle runs on.

    ``adult`` names the Adult variant: all 48,842 rows, or ``"adult_test"`` (the
    16,281 test rows) where the reference tool is slow per row (Fairlearn's
    MetricFrame re-stacks every column element by element for every metric).
    """
    return [
        ("compas", "none"),
        ("compas", "random"),
        (adult, "none"),
        (adult, "random"),
        (adult, "fnlwgt"),
        ("german", "none"),
        ("german", "random"),
    ]


#: (dataset, weighting) pairs every binary oracle runs on (all Adult rows)
CASES: list[tuple[str, str]] = make_cases()

#: sensitive column sets per dataset: every column alone and the two-column intersections
FEATURE_SETS: dict[str, list[tuple[str, ...]]] = {
    "compas": [("race",), ("sex",), ("race", "sex")],
    "adult": [("sex",), ("race",), ("sex", "race")],
    "adult_test": [("sex",), ("race",), ("sex", "race")],
    "german": [
        ("sex",),
        ("age_group",),
        ("foreign_worker",),
        ("sex", "age_group"),
        ("sex", "foreign_worker"),
        ("age_group", "foreign_worker"),
    ],
}

#: the two-column sets only (their single columns are checked through ``by_feature``)
PAIRS: dict[str, list[tuple[str, ...]]] = {
    k: [c for c in v if len(c) == 2] for k, v in FEATURE_SETS.items()
}


def case_params(
    sets: dict[str, list[tuple[str, ...]]] = FEATURE_SETS,
    cases: list[tuple[str, str]] | None = None,
) -> list[Any]:
    """pytest params ``(dataset, weighting, columns)`` with readable ids."""
    out = []
    for ds, wt in CASES if cases is None else cases:
        for cols in sets[ds]:
            out.append(pytest.param(ds, wt, cols, id=f"{ds}-{wt}-{'x'.join(cols)}"))
    return out


# --------------------------------------------------------------------------- scrutiny


def run_assess(*args: Any, **kwargs: Any) -> Any:
    """``assess`` with scrutiny's own warnings silenced (small groups are expected here)."""
    kwargs.setdefault("ci", None)
    kwargs.setdefault("min_group_size", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScrutinyWarning)
        return assess(*args, **kwargs)


def levels_of(result: Any, cols: Sequence[str]) -> list[tuple[tuple[str, ...], list[Any], Any]]:
    """``(columns, group rows, feature argument)`` of every level of a result.

    The intersection level (``feature=None``) and, with several columns, each
    column alone (``feature=<column>``).
    """
    cols = tuple(cols)
    out: list[tuple[tuple[str, ...], list[Any], Any]] = [(cols, result.groups, None)]
    if len(cols) > 1:
        by_feature = result.by_feature
        out += [((c,), by_feature[c], c) for c in cols]
    return out


def key_of(row: Any, cols: Sequence[str]) -> tuple[Any, ...]:
    """The group key of a scrutiny GroupRow (or to_dict group entry), in column order."""
    feats = row.features if hasattr(row, "features") else row["features"]
    return tuple(feats[c] for c in cols)


def group_masks(frame: pd.DataFrame, cols: Sequence[str]) -> dict[tuple[Any, ...], np.ndarray]:
    """Boolean row mask of every non-empty group of ``cols`` (computed with pandas)."""
    out = {}
    for raw_key, idx in frame.groupby(list(cols), sort=True).indices.items():
        key = raw_key if isinstance(raw_key, tuple) else (raw_key,)
        mask = np.zeros(len(frame), dtype=bool)
        mask[idx] = True
        out[tuple(str(k) for k in key)] = mask
    return out


# --------------------------------------------------------------------------- binary oracles
# One reference implementation (Fairlearn or scikit-learn) per scrutiny binary metric,
# with the signature (y_true, y_pred, sample_weight=None). Fairlearn's error-rate functions
# return 0 for an empty denominator (scikit-learn's confusion_matrix normalisation); they
# are wrapped to return NaN then, so undefined-ness can be compared.


def _nan_without(true_class: int | None, func: Callable[..., float]) -> Callable[..., float]:
    """NaN when y_true has no row of ``true_class`` (None: when it lacks either class)."""

    def f(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        yt = np.asarray(y_true)
        present = {0: bool((yt == 0).any()), 1: bool((yt == 1).any())}
        if (true_class is None and not all(present.values())) or (
            true_class is not None and not present[true_class]
        ):
            return math.nan
        return float(func(y_true, y_pred, sample_weight=sample_weight))

    return f


def binary_oracles() -> dict[str, Callable[..., float]]:
    """Scrutiny metric name -> reference function (y_true, y_pred, sample_weight=None)."""
    import fairlearn.metrics as flm
    import sklearn.metrics as skm

    def sk(func: Callable[..., float], flip: bool = False, **kw: Any) -> Callable[..., float]:
        def f(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
            yt = np.asarray(y_true)
            if flip:
                yt = 1 - yt
            return float(func(yt, np.asarray(y_pred), sample_weight=sample_weight, **kw))

        return f

    def fl(func: Callable[..., float]) -> Callable[..., float]:
        def f(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
            return float(func(y_true, y_pred, sample_weight=sample_weight, pos_label=1))

        return f

    def base_rate(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        return float(flm.selection_rate(y_true, y_true, pos_label=1, sample_weight=sample_weight))

    def selection_count(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        cm = skm.confusion_matrix(y_true, y_pred, labels=[0, 1], sample_weight=sample_weight)
        return float(cm[:, 1].sum())

    def per_person(cell: tuple[int, int]) -> Callable[..., float]:
        """A (weighted) confusion-matrix cell over the group's total weight."""

        def f(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
            cm = skm.confusion_matrix(y_true, y_pred, labels=[0, 1], sample_weight=sample_weight)
            return float(cm[cell] / cm.sum())

        return f

    return {
        "selection_rate": fl(flm.selection_rate),
        "base_rate": base_rate,
        "true_positive_rate": _nan_without(1, fl(flm.true_positive_rate)),
        "false_positive_rate": _nan_without(0, fl(flm.false_positive_rate)),
        "true_negative_rate": _nan_without(0, fl(flm.true_negative_rate)),
        "false_negative_rate": _nan_without(1, fl(flm.false_negative_rate)),
        "precision": sk(skm.precision_score, zero_division=np.nan),
        # NPV = precision of the negative class
        "negative_predictive_value": sk(skm.precision_score, pos_label=0, zero_division=np.nan),
        # FDR = FP / (TP + FP): precision of "predicted positive" against the flipped truth
        "false_discovery_rate": sk(skm.precision_score, flip=True, zero_division=np.nan),
        # FOR = FN / (FN + TN): NPV against the flipped truth
        "false_omission_rate": sk(
            skm.precision_score, flip=True, pos_label=0, zero_division=np.nan
        ),
        "accuracy": sk(skm.accuracy_score),
        # scikit-learn averages the recalls of the classes present; scrutiny's balanced
        # accuracy is undefined unless both classes are present, so compare only then
        "balanced_accuracy": _nan_without(None, sk(skm.balanced_accuracy_score)),
        "error_rate": sk(skm.zero_one_loss),
        "f1": sk(skm.f1_score, zero_division=np.nan),
        # the (weighted) number of people predicted positive: a confusion-matrix column sum
        "selection_count": selection_count,
        # false positives (true 0, predicted 1) and false negatives per person in the group
        "false_positives_per_person": per_person((0, 1)),
        "false_negatives_per_person": per_person((1, 0)),
    }

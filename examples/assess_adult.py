"""Assess a logistic regression on the bundled UCI Adult data, by sex and race.

Run: python examples/assess_adult.py
"""

from __future__ import annotations

import warnings

from scrutiny.datasets import load_adult
from scrutiny.exceptions import ScrutinyWarning
from scrutiny.fairness import assess

df = load_adult(split="test")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ScrutinyWarning)  # they are kept in result.warnings
    result = assess(
        "income",
        "prediction",
        y_score="score",
        data=df,
        sensitive_features=["sex", "race"],
        reference={"sex": "Male", "race": "White"},  # a choice the team makes, not a default
        random_state=0,
    )

print(result)
print()
for g in result.groups:
    lo, hi = g.ci("true_positive_rate")
    print(
        f"{g.features['sex']:<7}{g.features['race']:<20}{g.count:>6} rows  "
        f"TPR {g.value('true_positive_rate'):.3f} [{lo:.3f}, {hi:.3f}]"
    )
print()
print(result.explain("true_positive_rate"))
print()
eo = result.criteria["equalized_odds"]
print(f"Equalized odds difference: {eo['difference']:.3f}, 95% interval {eo['ci_difference']}")
print(f"Selection-rate ratio, sex alone: {result.ratio('selection_rate', feature='sex'):.3f}")
for w in result.warnings:
    print(f"[{w.code}] {w.message}")

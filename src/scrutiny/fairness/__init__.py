"""Disaggregated fairness assessment: per-group metrics, disparities, intervals, warnings.

Start with :func:`assess`; it returns a :class:`FairnessResult`.
"""

from __future__ import annotations

from scrutiny.fairness._assess import assess
from scrutiny.fairness._disparity import CRITERIA, Disparity
from scrutiny.fairness._metrics import ALL_SPECS as METRICS
from scrutiny.fairness._named import (
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    equalized_odds_ratio,
)
from scrutiny.fairness._result import FairnessResult, GroupRow, WarningRecord

__all__ = [
    "CRITERIA",
    "METRICS",
    "Disparity",
    "FairnessResult",
    "GroupRow",
    "WarningRecord",
    "assess",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equal_opportunity_difference",
    "equalized_odds_difference",
    "equalized_odds_ratio",
]

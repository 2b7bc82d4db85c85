"""Mitigation with honest trade-offs: pre-, in- and post-processing, and data fixes.

* :class:`Reweighing` — Kamiran & Calders weights (pre-processing);
* :class:`GroupThresholds` — group-specific thresholds (post-processing);
* :class:`ExponentiatedGradient`, :class:`GridSearch` — Fairlearn's reductions;
* :class:`InfluenceReweighting`, :class:`InfluenceRemoval` — act on the training
  rows that :func:`scrutiny.attribution.attribute_disparity` finds drive a gap;
* :func:`compare_mitigations` — train several of them and compare them all on
  held-out rows, with intervals and the accuracy-versus-gap frontier
  (:class:`MitigationComparison`); :func:`run_mitigation` does the same from an
  audit config and writes ``mitigation.html`` (``scrutiny mitigate``).

All are scikit-learn compatible, for binary classification, and take
``sensitive_features`` keyword-only.
"""

from __future__ import annotations

from scrutiny.mitigation._compare import MitigationComparison, compare_mitigations
from scrutiny.mitigation._influence import InfluenceRemoval, InfluenceReweighting
from scrutiny.mitigation._reductions import ExponentiatedGradient, GridSearch
from scrutiny.mitigation._reweighing import Reweighing
from scrutiny.mitigation._run import MitigationResult, run_mitigation
from scrutiny.mitigation._thresholds import GroupThresholds

__all__ = [
    "ExponentiatedGradient",
    "GridSearch",
    "GroupThresholds",
    "InfluenceRemoval",
    "InfluenceReweighting",
    "MitigationComparison",
    "MitigationResult",
    "Reweighing",
    "compare_mitigations",
    "run_mitigation",
]

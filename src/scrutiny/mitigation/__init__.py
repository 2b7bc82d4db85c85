"""Mitigation with honest trade-offs: pre-, in- and post-processing, and data fixes.

* :class:`Reweighing` — Kamiran & Calders weights (pre-processing);
* :class:`GroupThresholds` — group-specific thresholds (post-processing);
* :class:`ExponentiatedGradient`, :class:`GridSearch` — Fairlearn's reductions;
* :class:`InfluenceReweighting`, :class:`InfluenceRemoval` — act on the training
  rows that :func:`scrutiny.attribution.attribute_disparity` finds drive a gap.

All are scikit-learn compatible, for binary classification, and take
``sensitive_features`` keyword-only.
"""

from __future__ import annotations

from scrutiny.mitigation._influence import InfluenceRemoval, InfluenceReweighting
from scrutiny.mitigation._reductions import ExponentiatedGradient, GridSearch
from scrutiny.mitigation._reweighing import Reweighing
from scrutiny.mitigation._thresholds import GroupThresholds

__all__ = [
    "ExponentiatedGradient",
    "GridSearch",
    "GroupThresholds",
    "InfluenceRemoval",
    "InfluenceReweighting",
    "Reweighing",
]

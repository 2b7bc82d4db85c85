"""Training-data attribution: which training examples drive a prediction, a mislabel, a gap.

One sign convention everywhere: ``scores[q, i]`` estimates how much query
``q``'s loss would rise if training example ``i`` were removed, so a positive
score means example ``i`` helped ``q``.
"""

from __future__ import annotations

from scrutiny.attribution._api import applicable_methods, attribute
from scrutiny.attribution._disparity import (
    attribute_disparity,
    explain_query,
    undersampled_slices,
)
from scrutiny.attribution._labels import label_issues
from scrutiny.attribution._result import AttributionResult

__all__ = [
    "AttributionResult",
    "applicable_methods",
    "attribute",
    "attribute_disparity",
    "explain_query",
    "label_issues",
    "undersampled_slices",
]

"""Demo and benchmark datasets for trying scrutiny out.

:func:`load_adult` reads a copy of UCI Adult that ships with scrutiny, with the
scores and predictions of a simple model already added, so every example runs
offline. :func:`load_compas`, :func:`load_german_credit` and
:func:`load_diabetes` read public benchmark files that you have downloaded
yourself. See ``docs/datasets.md`` and ``data/ATTRIBUTION.md``.
"""

from __future__ import annotations

from scrutiny.datasets._loaders import (
    ADULT_SENSITIVE,
    adult_path,
    load_adult,
    load_compas,
    load_diabetes,
    load_german_credit,
)

__all__ = [
    "ADULT_SENSITIVE",
    "adult_path",
    "load_adult",
    "load_compas",
    "load_diabetes",
    "load_german_credit",
]

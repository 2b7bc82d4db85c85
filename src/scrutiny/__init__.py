"""scrutiny: responsible AI in practice.

Importing ``scrutiny`` is cheap: subpackages (``scrutiny.fairness``,
``scrutiny.datasets``, ...) are loaded on first access, and heavy libraries
(pandas, polars, scikit-learn, torch, ...) only when a function needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from scrutiny.exceptions import ScrutinyError, ScrutinyWarning

__version__ = "0.1.0.dev0"

_SUBMODULES = frozenset(
    {"attribution", "audit", "cards", "datasets", "exceptions", "fairness", "mitigation", "report"}
)

__all__ = [
    "ScrutinyError",
    "ScrutinyWarning",
    "__version__",
    "attribution",
    "audit",
    "cards",
    "datasets",
    "fairness",
    "mitigation",
    "report",
]

if TYPE_CHECKING:
    from scrutiny import attribution, audit, cards, datasets, fairness, mitigation, report


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"scrutiny.{name}")
    msg = f"module 'scrutiny' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)

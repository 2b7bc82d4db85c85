"""Lazy access to optional dependencies.

Nothing here imports a heavy library at module import time; each helper imports
on call and turns an ``ImportError`` into a :class:`MissingDependencyError` that
names the extra to install.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from scrutiny.exceptions import MissingDependencyError

#: module name -> pip requirement that provides it
_EXTRAS = {
    "polars": "polars",
    "duckdb": "duckdb",
    "dask": "dask[dataframe]",
    "pyspark": "pyspark",
    "scipy": "scipy",
    "sklearn": "scikit-learn",
    "fairlearn": "fairlearn",
    "torch": "torch",
}


def import_optional(name: str, *, purpose: str) -> ModuleType:
    """Import ``name`` or raise :class:`MissingDependencyError` naming how to get it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        top = name.split(".", maxsplit=1)[0]
        req = _EXTRAS.get(top, top)
        msg = (
            f"{purpose} needs the optional dependency {top!r}, which is not installed. "
            f"Install it with: pip install '{req}'"
        )
        raise MissingDependencyError(msg) from exc


def loaded(name: str) -> ModuleType | None:
    """Return the module if it is already imported, else ``None`` (never imports)."""
    return sys.modules.get(name)

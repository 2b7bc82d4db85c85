"""The method registry: each attribution method says which models it applies to.

A method registers a function and an ``applies`` predicate. ``attribute``
checks the predicate first, so asking for a method that does not fit the model
is an error naming the methods that do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scrutiny.attribution._result import AttributionResult


@dataclass(frozen=True)
class Method:
    """One attribution method."""

    name: str
    run: Callable[..., AttributionResult]
    #: returns None when the model fits, else the reason it does not
    applies: Callable[[Any], str | None]
    summary: str
    needs: str = ""  # an optional extra, e.g. "torch"


METHODS: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add a method to the registry (name must be new)."""
    if method.name in METHODS:
        msg = f"attribution method {method.name!r} is already registered"
        raise ValueError(msg)
    METHODS[method.name] = method
    return method


def load_builtin() -> None:
    """Import the modules that register the built-in methods (lazy: no torch here)."""
    import importlib

    for mod in ("_linear", "_valuation", "_torch_methods"):
        try:
            importlib.import_module(f"scrutiny.attribution.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"scrutiny.attribution.{mod}":
                raise

"""The exceptions and warnings raised by scrutiny.

Every error scrutiny raises derives from :class:`ScrutinyError`, so one
``except ScrutinyError`` catches them all; each also derives from the built-in
exception a Python user would expect (``ValueError``, ``KeyError``, ...), so
existing handlers keep working. Every warning derives from
:class:`ScrutinyWarning`.

Messages follow one pattern: what was received, what was expected, and how to
fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ColumnNotFoundError",
    "ConfigError",
    "ContinuousInputWarning",
    "DataValidationError",
    "EmptyIntersectionWarning",
    "InvalidParameterError",
    "MissingDependencyError",
    "MissingSensitiveValueWarning",
    "NotFittedError",
    "ScrutinyDeprecationWarning",
    "ScrutinyError",
    "ScrutinyWarning",
    "SmallGroupWarning",
    "UndefinedMetricWarning",
    "UnsupportedBackendError",
]


class ScrutinyError(Exception):
    """Base class of every error raised by scrutiny."""


class InvalidParameterError(ScrutinyError, ValueError, TypeError):
    """A parameter has a value or type that scrutiny cannot use."""

    @classmethod
    def from_value(
        cls, name: str, where: str, expected: str, got: object, hint: str | None = None
    ) -> InvalidParameterError:
        """Build the standard message: parameter, expectation, received value, fix."""
        msg = f"The {name!r} parameter of {where} must be {expected}. Got {got!r} instead."
        if hint:
            msg += f" {hint}"
        return cls(msg)


class DataValidationError(ScrutinyError, ValueError):
    """The data passed in cannot be used as given (lengths, labels, missing values...)."""


class ConfigError(ScrutinyError, ValueError):
    """A configuration file or value is invalid; the message names the field path."""


class ColumnNotFoundError(ScrutinyError, KeyError):
    """A named column is not in the data."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message

    @classmethod
    def from_missing(
        cls, missing: str, available: Iterable[str], *, parameter: str | None = None
    ) -> ColumnNotFoundError:
        """Build a message naming the missing column and the closest available ones."""
        available = [str(a) for a in available]
        where = f" (given as {parameter!r})" if parameter else ""
        msg = f"Column {missing!r}{where} is not in the data."
        close = difflib.get_close_matches(str(missing), available, n=3, cutoff=0.6)
        if close:
            msg += " Did you mean " + " or ".join(repr(c) for c in close) + "?"
        else:
            shown = ", ".join(repr(a) for a in available[:12])
            more = f" and {len(available) - 12} more" if len(available) > 12 else ""
            msg += f" Available columns: {shown}{more}."
        return cls(msg)


class NotFittedError(ScrutinyError, AttributeError):
    """An estimator was used before ``fit`` was called."""


class UnsupportedBackendError(ScrutinyError, TypeError):
    """The object passed is not a data container scrutiny can read."""


class MissingDependencyError(ScrutinyError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""


class ScrutinyWarning(UserWarning):
    """Base class of every warning emitted by scrutiny."""

    code = "warning"


class SmallGroupWarning(ScrutinyWarning):
    """A group has fewer rows than the minimum size: its numbers are unstable."""

    code = "small_group"


class EmptyIntersectionWarning(ScrutinyWarning):
    """A combination of sensitive feature values has no rows at all."""

    code = "empty_intersection"


class UndefinedMetricWarning(ScrutinyWarning):
    """A metric is undefined for a group (for example a rate with a zero denominator)."""

    code = "undefined_metric"


class ContinuousInputWarning(ScrutinyWarning):
    """Continuous values were given where class labels were expected (or the reverse)."""

    code = "continuous_input"


class MissingSensitiveValueWarning(ScrutinyWarning):
    """Rows with a missing sensitive value were put in an explicit ``missing`` group."""

    code = "missing_sensitive_value"


class ScrutinyDeprecationWarning(ScrutinyWarning, DeprecationWarning):
    """A scrutiny feature is deprecated; the message names the release that removes it."""

    code = "deprecated"

"""The base of the card models: one ConfigError that names every invalid field.

Pydantic reports errors with a location (``("model-index", 0, "results", ...)``);
:func:`format_validation_error` turns them into one message, a line per field
path (``model-index[0].results[0].metrics[0].value: is required but missing``).
The models raise :class:`~scrutiny.exceptions.ConfigError` instead of
pydantic's ValidationError, so ``except ScrutinyError`` catches them.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from scrutiny.cards._licenses import LICENSES, unknown_license_message
from scrutiny.cards._sections import PLACEHOLDER
from scrutiny.exceptions import ConfigError

#: Version of scrutiny's card models (not of the Hub's specification).
CARD_SCHEMA_VERSION = "1.0"

__all__ = ["CARD_SCHEMA_VERSION", "PLACEHOLDER"]


def _loc_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and (
            "[" in part or part in _TYPE_TAGS or part in _MODEL_NAMES
            or part.startswith(("function-", "lax-or-strict", "json-or-python"))
        ):
            continue  # pydantic's name for a union member, not a field
        else:
            out += f".{part}" if out else str(part)
    return out


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "none", "dict", "list"})
_MODEL_NAMES: set[str] = set()


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _error_lines(exc: ValidationError) -> list[str]:
    """One line per field path: the path, what was wrong, how to fix it."""
    lines: dict[str, str] = {}
    for err in exc.errors():
        path = _loc_path(tuple(err.get("loc", ())))
        if path in lines:  # a union reports each member; the first says enough
            continue
        kind = err.get("type", "")
        msg = str(err.get("msg", ""))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if kind == "missing":
            text = "is required but missing; add it"
        elif kind == "extra_forbidden":
            text = "is not a field here; remove it or check its spelling"
        elif kind == "value_error":
            text = msg
        else:
            text = f"{msg[:1].lower()}{msg[1:]}; got {_short(err.get('input'))}"
        lines[path] = (f"{path}: {text}" if path else text).rstrip(".")
    return list(lines.values())


def validation_problems(cls: type[BaseModel], data: Any) -> list[str]:
    """Every problem of ``data`` for model ``cls``, one ``path: message`` line each."""
    token = _DEPTH.set(_DEPTH.get() + 1)  # let the ValidationError through
    try:
        cls.model_validate(data)
    except ValidationError as exc:
        return _error_lines(exc)
    finally:
        _DEPTH.reset(token)
    return []


def format_validation_error(exc: ValidationError, what: str) -> str:
    """One message for a pydantic error, naming every field that is wrong."""
    return f"Invalid {what}: " + "; ".join(_error_lines(exc)) + "."


_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("scrutiny_card_depth", default=0)


@contextlib.contextmanager
def _boundary(what: str) -> Iterator[None]:
    """Turn a pydantic error into one ConfigError, at the outermost model only.

    Models with their own ``__init__`` are validated by calling it, nested ones
    included; inner calls let the ValidationError through so that pydantic
    reports the full path of the field.
    """
    token = _DEPTH.set(_DEPTH.get() + 1)
    try:
        yield
    except ValidationError as exc:
        if _DEPTH.get() > 1:
            raise
        raise ConfigError(format_validation_error(exc, what)) from None
    finally:
        _DEPTH.reset(token)


class _Model(BaseModel):
    """Base of the card models: pydantic errors become one ConfigError naming the fields."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _MODEL_NAMES.add(cls.__name__)

    def __init__(self, **data: Any) -> None:
        with _boundary(type(self).__name__):
            super().__init__(**data)

    def __setattr__(self, name: str, value: Any) -> None:
        with _boundary(type(self).__name__):
            super().__setattr__(name, value)

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Validate ``obj``; errors raise :class:`~scrutiny.exceptions.ConfigError`."""
        with _boundary(cls.__name__):
            return super().model_validate(obj, *args, **kwargs)


# ---------------------------------------------------------------------------
# shared value checks


def _str_list(value: Any, *, allow_str: bool = True) -> Any:
    """Accept one string or a list of strings; return a list (or None)."""
    if value is None:
        return None
    if isinstance(value, str) and allow_str:
        return [value]
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            if not isinstance(v, str) or not v.strip():
                msg = f"item {i} must be a non-empty string, got {_short(v)}"
                raise ValueError(msg)
        return list(value)
    msg = f"must be a string or a list of strings, got {_short(value)}"
    raise ValueError(msg)


def _clean_text(value: Any) -> str | None:
    """Section text: newlines normalised, outer blank space removed, placeholder → None."""
    if value is None:
        return None
    if not isinstance(value, str):
        msg = f"must be Markdown text (a string), got {_short(value)}"
        raise ValueError(msg)
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip("\n").strip()
    if not text or text == PLACEHOLDER:
        return None
    return text


def _clean_line(value: Any) -> str | None:
    """A one-line value (a bullet such as "Developed by"): whitespace collapsed."""
    if value is None:
        return None
    if not isinstance(value, str):
        msg = f"must be text (a string), got {_short(value)}"
        raise ValueError(msg)
    text = " ".join(value.split())
    if not text or text == PLACEHOLDER:
        return None
    return text


def _check_license(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        msg = f"must be a licence id (a string), got {_short(value)}"
        raise ValueError(msg)
    if value not in LICENSES:
        raise ValueError(unknown_license_message(value))
    return value

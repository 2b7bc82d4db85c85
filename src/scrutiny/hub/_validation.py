"""Input rules shared by forms and the JSON API: names, safe text, pydantic error messages."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError

from scrutiny.hub._errors import ValidationFailedError

NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
REPO_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,94}[a-z0-9])?$")
NAME_PATTERN = NAME_RE.pattern
REPO_PATTERN = REPO_RE.pattern
#: The repository-name rule as one JSON Schema pattern (no ``..`` anywhere).
REPO_SCHEMA_PATTERN = r"^(?!.*\.\.)[a-z0-9](?:[a-z0-9._-]{0,94}[a-z0-9])?$"
#: Organisation names that would clash with the hub's own pages.
RESERVED = frozenset({"new", "api", "static", "settings", "account", "search", "admin",
                      "signin", "signup", "signout", "orgs", "repos", "users", "openapi.json"})
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


def _safe_text(value: str) -> str:
    if "\x00" in value:
        msg = "must not contain NUL characters (\\x00)"
        raise ValueError(msg)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        msg = "must be valid Unicode text (it holds a lone surrogate)"
        raise ValueError(msg) from None
    return value


#: A string without NUL characters or lone surrogates (neither can be stored everywhere).
SafeText = Annotated[str, AfterValidator(_safe_text)]


def text(max_length: int, *, min_length: int = 0) -> Any:
    """A :data:`SafeText` type with length bounds."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length),
                     AfterValidator(_safe_text)]


def check_text(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    """Validate one form value as text; raise :class:`ValidationFailedError` naming ``field``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        msg = f"{field}: expected text, got a {type(value).__name__} (a file?)."
        raise ValidationFailedError(msg, field=field)
    try:
        _safe_text(value)
    except ValueError as exc:
        msg = f"{field}: {exc}."
        raise ValidationFailedError(msg, field=field) from None
    value = value.strip()
    if required and not value:
        msg = f"{field}: required; fill it in."
        raise ValidationFailedError(msg, field=field)
    if len(value) > max_length:
        msg = f"{field}: {len(value)} characters; at most {max_length} are accepted."
        raise ValidationFailedError(msg, field=field)
    return value


def check_name(value: Any, field: str, *, repo: bool = False) -> str:
    """Validate a user, organisation (``repo=False``) or repository name."""
    raw = check_text(value, field, max_length=200, required=True)
    rx, limit = (REPO_RE, 96) if repo else (NAME_RE, 40)
    if not rx.match(raw):
        allowed = "lowercase letters, digits, '-', '_' and '.'" if repo else (
            "lowercase letters, digits and '-'")
        msg = (f"{field}: {raw[:60]!r} is not a valid name. Use 1 to {limit} {allowed}, "
               "starting and ending with a letter or digit"
               + (" (e.g. 'credit-model')." if repo else " (e.g. 'fair-lending')."))
        if raw.lower() != raw and rx.match(raw.lower()):
            msg += f" Did you mean {raw.lower()!r}?"
        raise ValidationFailedError(msg, field=field)
    if repo and ".." in raw:
        msg = f"{field}: '..' is not allowed in a name."
        raise ValidationFailedError(msg, field=field)
    if not repo and raw in RESERVED:
        msg = f"{field}: {raw!r} is reserved by the hub; choose another name."
        raise ValidationFailedError(msg, field=field)
    return raw


def loc_path(loc: tuple[Any, ...], prefix: str = "") -> str:
    """A pydantic error location as ``a.b[0].c``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith("function-") or part in ("body",):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def from_validation_error(exc: ValidationError, prefix: str = "",
                          rule_field: str | None = None) -> ValidationFailedError:
    """One :class:`ValidationFailedError` naming every problem and the first field.

    ``rule_field`` names the field that a rule across fields (a model validator)
    is reported against.
    """
    parts, first = [], None
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not str(p).startswith("function-"))
        if not loc and rule_field:
            path = loc_path((rule_field,), prefix)
            first = first or path
            parts.append(f"{path}: {err['msg'].removeprefix('Value error, ')}")
            continue
        path = loc_path(loc, prefix)
        first = first or path
        kind = err["type"]
        if kind == "missing":
            parts.append(f"{path}: required but missing")
        elif kind == "extra_forbidden":
            parts.append(f"{path}: unknown field; remove it or check its spelling")
        else:
            got = err.get("input")
            shown = type(got).__name__ if isinstance(got, dict | list) else repr(got)[:80]
            parts.append(f"{path}: {err['msg'].removeprefix('Value error, ')} (got {shown})")
    return ValidationFailedError("; ".join(parts) + ".", field=first)

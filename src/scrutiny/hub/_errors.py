"""The hub's errors: one class per HTTP status, all in the :class:`ScrutinyError` family.

Every error the hub answers with, HTML page or JSON, carries the same
envelope::

    {"ok": false, "error": {"code": "not_found", "message": "...", "field": null}}

The message says what was received, what was expected and how to fix it; the
field names the offending input (a form field, a JSON key path, a query
parameter or a file name) when there is one.
"""

from __future__ import annotations

from typing import Any, ClassVar

from scrutiny.exceptions import ScrutinyError


class HubError(ScrutinyError):
    """Base class of the hub's errors; ``status`` and ``code`` map it to an HTTP answer.

    Parameters
    ----------
    message : str
        What was received, what was expected, and how to fix it.
    field : str, default=None
        The input at fault (form field, JSON path, query parameter, file name).
    """

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def envelope(self) -> dict[str, Any]:
        """The error envelope answered for this error."""
        return error_envelope(self.code, self.message, self.field)


class BadRequestError(HubError, ValueError):
    """400: the request cannot be used as sent (a malformed file name, a bad upload...)."""


class AuthenticationError(HubError):
    """401: sign-in or a valid API token is needed."""

    status = 401
    code = "unauthorized"


class PermissionDeniedError(HubError):
    """403: signed in, but the role (or the token's scope) does not allow the action."""

    status = 403
    code = "forbidden"


class NotFoundError(HubError, LookupError):
    """404: no such thing, or nothing the viewer may see (private content is never revealed)."""

    status = 404
    code = "not_found"


class ConflictError(HubError):
    """409: the request clashes with the current state (a name already taken...)."""

    status = 409
    code = "conflict"


class PayloadTooLargeError(HubError):
    """413: an upload or a request body is larger than the hub accepts."""

    status = 413
    code = "payload_too_large"


class ValidationFailedError(HubError, ValueError):
    """422: well-formed, but a value breaks a rule (a name pattern, a required field...)."""

    status = 422
    code = "invalid"


class HubConnectionError(HubError, ConnectionError):
    """The hub could not be reached (raised by the client side, ``scrutiny push``)."""

    status = 503
    code = "unavailable"


def error_envelope(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The one error envelope: ``{"ok": false, "error": {"code", "message", "field"}}``."""
    return {"ok": False, "error": {"code": code, "message": message, "field": field}}


STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
}

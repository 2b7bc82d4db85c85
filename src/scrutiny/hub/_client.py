"""The client side of ``scrutiny push``: collect an audit folder's files and send them.

Only httpx is needed here (no FastAPI, no database). Errors are answered by
the hub in its error envelope and re-raised as the matching
:class:`~scrutiny.hub._errors.HubError`, with a hint on what to do.
"""

from __future__ import annotations

import contextlib
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrutiny.exceptions import ConfigError, MissingDependencyError
from scrutiny.hub._errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    HubConnectionError,
    HubError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ValidationFailedError,
)
from scrutiny.hub._validation import NAME_RE, REPO_RE

#: Files of an audit folder that a push sends, besides attribution results (``*.json``).
PUSHED = ("README.md", "audit.json", "report.html", "audit.md", "audit.yaml")
_BY_STATUS: dict[int, type[HubError]] = {
    400: BadRequestError, 401: AuthenticationError, 403: PermissionDeniedError,
    404: NotFoundError, 409: ConflictError, 413: PayloadTooLargeError,
    422: ValidationFailedError,
}
_HINTS = {
    401: "Check the token: create one with write scope at {hub}/account and pass --token or "
         "set SCRUTINY_TOKEN.",
    403: "Your role in the organisation does not allow this; ask one of its owners.",
    404: "Check --repo: the organisation must exist on the hub (create it at {hub}/orgs/new), "
         "and you must be a member to push to a private repository.",
}


@dataclass
class PushPlan:
    """What a push will send, and what it leaves out."""

    files: list[Path]
    skipped: list[str] = field(default_factory=list)


def plan_push(directory: str | Path) -> PushPlan:
    """The files of ``directory`` that a push sends.

    They are the card, the audit record and report, the audit's Markdown and
    config, and JSON attribution results.

    Raises
    ------
    ConfigError
        The folder does not exist or holds none of those files.
    """
    root = Path(directory)
    if not root.is_dir():
        msg = (f"DIR: {str(root)!r} is not a folder. Push the folder written by "
               "`scrutiny audit CONFIG --out DIR` or `scrutiny demo --out DIR`.")
        raise ConfigError(msg)
    files, skipped = [], []
    for path in sorted(root.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.name in PUSHED or path.suffix == ".json":
            files.append(path)
        else:
            skipped.append(path.name)
    if not files:
        msg = (f"DIR: {str(root)!r} holds none of {', '.join(PUSHED)} or *.json attribution "
               "results. Run `scrutiny audit CONFIG --out DIR` first.")
        raise ConfigError(msg)
    return PushPlan(files, skipped)


def split_repo(repo: str) -> tuple[str, str]:
    """``ORG/NAME`` into its parts; :class:`ConfigError` naming ``--repo`` when malformed."""
    org, _, name = (repo or "").strip().partition("/")
    if not NAME_RE.match(org) or not REPO_RE.match(name):
        msg = (f"--repo: expected ORG/NAME in lowercase (e.g. 'acme/credit-model'); got "
               f"{repo!r}.")
        raise ConfigError(msg)
    return org, name


def _insecure(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme != "http":
        return False
    host = parts.hostname or ""
    if host == "localhost":
        return False
    with contextlib.suppress(ValueError):
        return not ipaddress.ip_address(host).is_loopback
    return True


def push(directory: str | Path, repo: str, *, hub: str, token: str | None,
         kind: str = "model", message: str = "", public: bool = False,
         timeout: float = 300.0) -> tuple[dict[str, Any], PushPlan, list[str]]:
    """Send an audit folder to a hub (what ``scrutiny push`` does).

    Returns
    -------
    tuple
        The hub's answer (``PushResult`` data), the plan that was sent, and warnings.

    Raises
    ------
    ConfigError
        The folder, ``--repo`` or the token is unusable.
    HubConnectionError
        The hub cannot be reached.
    HubError
        The hub refused the push (401 bad token, 403 role, 404 organisation, 413 size...).
    """
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx is in the hub extra
        msg = "scrutiny push needs httpx: pip install 'scrutiny[hub]'."
        raise MissingDependencyError(msg) from None
    org, name = split_repo(repo)
    plan = plan_push(directory)
    if not token:
        msg = (f"--token: no API token. Create one with write scope at {hub.rstrip('/')}/account "
               "and pass --token or set SCRUTINY_TOKEN.")
        raise ConfigError(msg)
    warnings = []
    if _insecure(hub):
        warnings.append(f"{hub} is plain HTTP on a non-local address: the token travels "
                        "unencrypted. Use https:// for a shared hub.")
    base = hub.rstrip("/")
    with contextlib.ExitStack() as stack:
        files = [("files", (p.name, stack.enter_context(p.open("rb")))) for p in plan.files]
        try:
            response = httpx.post(
                f"{base}/api/repos/{org}/{name}/push", files=files,
                data={"message": message, "kind": kind, "private": str(not public).lower()},
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=timeout,
            )
        except httpx.HTTPError as exc:
            msg = (f"--hub: cannot reach the hub at {base} ({type(exc).__name__}: {exc}). Is "
                   "`scrutiny serve` running there? Check the address.")
            raise HubConnectionError(msg) from None
    return _answer(response, base), plan, warnings


def _answer(response: Any, base: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success and isinstance(body, dict) and body.get("ok") is True:
        return body["data"]
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        msg = (f"--hub: {base} answered HTTP {response.status_code} without the hub's JSON "
               "envelope. Is it a scrutiny hub?")
        raise HubConnectionError(msg)
    status = response.status_code
    hint = _HINTS.get(status, "").format(hub=base)
    msg = f"The hub refused the push (HTTP {status}): {error.get('message')}"
    if hint:
        msg += f" {hint}"
    raise _BY_STATUS.get(status, HubError)(msg, field=error.get("field"))

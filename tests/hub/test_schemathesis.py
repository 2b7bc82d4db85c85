"""Property-based tests of the JSON API from its own OpenAPI document (schemathesis).

schemathesis reads the served ``/openapi.json`` through the ASGI app and
generates requests for every operation, valid and invalid. Each operation
runs on a fresh :func:`~tests.hub.conftest.world`, and each generated case is
sent three times:

* anonymously (public reads answer; every write answers 401, 403 or 422),
* with an owner's write token and the generated path parameters,
* with an owner's write token on the world's real organisation and public
  repository (``acme/open``), so that the handlers run past their 404s.

Whatever the input, the hub never answers a server error, and the status
codes, content types and bodies are the documented ones.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.hub.conftest import fast_settings  # noqa: E402

from scrutiny.hub import create_app  # noqa: E402

#: Examples per operation (each sent three times; the whole run stays near a minute).
#: Set SCRUTINY_SCHEMATHESIS_EXAMPLES for a longer hunt.
MAX_EXAMPLES = int(os.environ.get("SCRUTINY_SCHEMATHESIS_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
#: Path parameters that name the world's real things.
REAL = {"org": "acme", "name": "open", "username": "member-user", "fname": "README.md"}

# The schema is loaded from an app of its own at import (schemathesis parametrises
# tests at collection); each test points that app at the test's fresh hub.
_SHELL_DIR = Path(tempfile.mkdtemp(prefix="scrutiny-schemathesis-"))
APP = create_app(fast_settings(_SHELL_DIR))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _shell_dir() -> Iterator[None]:
    yield
    APP.state.hub.engine.dispose()
    shutil.rmtree(_SHELL_DIR, ignore_errors=True)


@pytest.fixture
def owner_auth(app: Any, world: Any) -> Iterator[dict[str, str]]:
    """The schema's app on this test's world; an owner's write-token header."""
    shell = APP.state.hub
    APP.state.hub = app.state.hub
    yield {"Authorization": f"Bearer {world.hub.token(world.users['owner'], 'write')}"}
    APP.state.hub = shell


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_never_answers_a_server_error(case: Any, owner_auth: dict[str, str]) -> None:
    case.call_and_validate(checks=CHECKS)
    case.call_and_validate(headers=owner_auth, checks=CHECKS)
    if case.path_parameters:
        case.path_parameters = {k: REAL.get(k, v) for k, v in case.path_parameters.items()}
        case.call_and_validate(headers=owner_auth, checks=CHECKS)

"""The hub's routes, one module per area; every page has a JSON twin under ``/api/``."""

from __future__ import annotations

from fastapi.routing import APIRoute

from scrutiny.hub.routes import (
    accounts,
    audits,
    deliberation,
    discussions,
    files,
    gating,
    moderation,
    orgs,
    repos,
    search,
    tokens,
)

#: Routers in registration order (fixed paths before parametrised ones).
ROUTERS = [search.router, accounts.router, tokens.router, orgs.router, repos.router, files.router,
           audits.router, deliberation.router, gating.router, discussions.router,
           moderation.router]



def api_routes() -> list[APIRoute]:
    """Every route of the hub (pages, JSON twins, write endpoints), in registration order."""
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


__all__ = ["ROUTERS", "api_routes"]

"""API tokens: created and revoked in the browser (never with a token), shown once.

A token is 256 random bits with the prefix ``scr_``; the database keeps its
SHA-256 and its first characters (to recognise it in the list). ``read``
tokens may only read; ``write`` tokens act with their owner's roles.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import delete, func, select

from scrutiny.hub._context import CtxDep
from scrutiny.hub._db import ApiToken, utcnow
from scrutiny.hub._errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)
from scrutiny.hub._security import TOKEN_PREFIX, new_token, sha256
from scrutiny.hub._validation import check_text
from scrutiny.hub.routes.accounts import account_data

router = APIRouter()
MAX_TOKENS = 50


def _session_only(ctx: CtxDep) -> None:
    ctx.require_user()
    if ctx.actor.via != "session":
        msg = "API tokens are managed in the browser (/account), not with an API token."
        raise PermissionDeniedError(msg, field="Authorization")


@router.post("/account/tokens", include_in_schema=False)
def create_token(ctx: CtxDep) -> Response:
    """Create an API token; its secret is shown once."""
    _session_only(ctx)
    name = check_text(ctx.field("name"), "name", max_length=100, required=True)
    scope = ctx.field("scope")
    if scope not in ("read", "write"):
        msg = f"scope: expected 'read' or 'write', got {str(scope)[:20]!r}."
        raise ValidationFailedError(msg, field="scope")
    count = ctx.db.scalar(select(func.count()).select_from(ApiToken)
                          .where(ApiToken.user_id == ctx.user.id)) or 0
    if count >= MAX_TOKENS:
        msg = f"name: you have {MAX_TOKENS} tokens; revoke some first."
        raise ConflictError(msg, field="name")
    secret = new_token(TOKEN_PREFIX)
    ctx.db.add(ApiToken(user_id=ctx.user.id, name=name, token_hash=sha256(secret),
                        prefix=secret[:10], scope=scope, created_at=utcnow()))
    ctx.db.commit()
    return ctx.render("account.html", account_data(ctx, new=secret), status=201,
                      title="Your account", page_path="/account")


@router.post("/account/tokens/{token_id}/revoke", include_in_schema=False)
def revoke_token(token_id: int, ctx: CtxDep) -> Response:
    """Revoke one of your API tokens."""
    _session_only(ctx)
    done = ctx.db.execute(delete(ApiToken).where(ApiToken.id == token_id,
                                                 ApiToken.user_id == ctx.user.id)
                          ) if 0 < token_id < 2**31 else None
    if done is None or not done.rowcount:  # type: ignore[attr-defined]
        msg = f"You have no token with id {token_id}."
        raise NotFoundError(msg, field="token_id")
    ctx.db.commit()
    return ctx.redirect("/account")

"""The home page, search with filters (over visible repositories only), and a health check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import exists, func, or_, select

from scrutiny import __version__
from scrutiny.hub._context import ERROR_RESPONSES, CtxDep, page
from scrutiny.hub._db import Membership, Organisation, Repository, RepoTag
from scrutiny.hub._migrate import current_revision
from scrutiny.hub._permissions import visible_repos
from scrutiny.hub._present import org_ref, repo_summary
from scrutiny.hub._schemas import Health, HomeData, Ok, SearchData, SearchQuery
from scrutiny.hub._validation import SafeText

router = APIRouter()
PER_PAGE = 20
Filter = Annotated[SafeText | None, Query(max_length=100)]


@page(router, "/", template="home.html", model=HomeData, name="home", tags=["pages"],
      title=lambda d: "Home")
def home(ctx: CtxDep) -> HomeData:
    """Recently updated repositories you may see, and your organisations."""
    repos = ctx.db.scalars(select(Repository).where(visible_repos(ctx.actor))
                           .order_by(Repository.updated_at.desc(), Repository.id.desc())
                           .limit(20)).all()
    mine = []
    if ctx.user is not None:
        mine = [org_ref(o) for o in ctx.db.scalars(
            select(Organisation).join(Membership).where(Membership.user_id == ctx.user.id)
            .order_by(Organisation.name)).all()]
    return HomeData(repos=[repo_summary(r) for r in repos], my_orgs=mine,
                    signup_allowed=ctx.hub.settings.allow_signup)


def _facet(ctx: CtxDep, column: Any, where: Any) -> dict[str, int]:
    rows = ctx.db.execute(select(column, func.count()).where(where, column.is_not(None))
                          .group_by(column).order_by(func.count().desc()).limit(30)).all()
    return {str(k): int(n) for k, n in rows}


@page(router, "/search", template="search.html", model=SearchData, name="search",
      tags=["pages"], title=lambda d: f"Search: {d.query.q}" if d.query.q else "Search")
def search(
    ctx: CtxDep,
    q: Annotated[SafeText, Query(max_length=200)] = "",
    kind: Filter = None,
    license: Filter = None,
    tag: Filter = None,
    task: Filter = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> SearchData:
    """Repositories you may see, by text (name, organisation, title) and filters."""
    visible = visible_repos(ctx.actor)
    where = [visible]
    text = q.strip()
    if text:
        needle = text.lower()
        where.append(or_(
            func.lower(Repository.name).contains(needle, autoescape=True),
            func.lower(Organisation.name).contains(needle, autoescape=True),
            func.lower(func.coalesce(Repository.title, "")).contains(needle, autoescape=True),
        ))
    if kind:
        where.append(Repository.kind == kind)
    if license:
        where.append(Repository.license == license)
    if task:
        where.append(Repository.task == task)
    if tag:
        where.append(exists().where(RepoTag.repo_id == Repository.id,
                                    RepoTag.tag == tag.strip().lower()))
    base = select(Repository).join(Organisation, Repository.org_id == Organisation.id)
    total = ctx.db.scalar(select(func.count()).select_from(
        base.where(*where).subquery())) or 0
    rows = ctx.db.scalars(base.where(*where).order_by(Repository.updated_at.desc(),
                                                      Repository.id.desc())
                          .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    facets = {
        "kind": _facet(ctx, Repository.kind, visible),
        "license": _facet(ctx, Repository.license, visible),
        "task": _facet(ctx, Repository.task, visible),
        "tag": dict(ctx.db.execute(
            select(RepoTag.tag, func.count()).join(Repository, RepoTag.repo_id == Repository.id)
            .where(visible).group_by(RepoTag.tag).order_by(func.count().desc()).limit(30)
        ).all()),
    }
    return SearchData(query=SearchQuery(q=text, kind=kind, license=license, tag=tag, task=task,
                                        page=page),
                      total=total, results=[repo_summary(r) for r in rows], facets=facets)


@router.get("/api/health", response_model=Ok[Health], responses=ERROR_RESPONSES,
            tags=["pages"], summary="The hub is up; its schema revision")
def health(ctx: CtxDep) -> dict[str, Any]:
    """Liveness and the database schema revision."""
    return {"ok": True, "data": Health(schema_revision=current_revision(ctx.hub.engine) or "",
                                       version=__version__)}

"""Audits and attribution results attached to a repository, and the sandboxed report view."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from scrutiny.hub._app import REPORT_CSP
from scrutiny.hub._content import get_repo
from scrutiny.hub._context import Ctx, CtxDep, page
from scrutiny.hub._db import Attribution, Audit, Repository
from scrutiny.hub._errors import NotFoundError
from scrutiny.hub._present import audit_summary, repo_summary, repo_url
from scrutiny.hub._schemas import (
    AttributionOut,
    AttributionsData,
    AuditData,
    AuditDetail,
    AuditsData,
)

router = APIRouter()


def _dicts(value: Any, limit: int = 50) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)][:limit] if isinstance(value, list) else []


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def detail(record: dict[str, Any]) -> AuditDetail:
    """What the audit found, read defensively from its record."""
    n_rows = _get(record, "data", "n_rows")
    delib = record.get("deliberation")
    return AuditDetail(
        context=record["context"] if isinstance(record.get("context"), dict) else {},
        n_rows=n_rows if isinstance(n_rows, int) else None,
        sensitive_features=[f["column"] for f in _dicts(record.get("sensitive_features"))
                            if isinstance(f.get("column"), str)],
        primary=[str(i.get("label")) for i in _dicts(_get(record, "recommendation",
                                                            "recommended"))
                 if i.get("role") == "primary"],
        ranking=_dicts(record.get("ranking"), 10),
        gates=_dicts(record.get("gates")),
        guardrails=_dicts(record.get("guardrails")),
        deliberation_counts={k: len(v) for k, v in delib.items() if isinstance(v, list)}
        if isinstance(delib, dict) else {},
    )


def _audit(ctx: Ctx, repo: Repository, number: int) -> Audit:
    audit = ctx.db.scalar(select(Audit).where(Audit.repo_id == repo.id, Audit.number == number)
                          ) if 0 < number < 2**31 else None
    if audit is None:
        msg = f"{repo.full_name} has no audit #{number}. The audits page lists them."
        raise NotFoundError(msg, field="number")
    return audit


@page(router, "/repos/{org}/{name}/audits", template="audits.html", model=AuditsData,
      name="audits", tags=["audits"], title=lambda d: f"Audits of {d.repo.full_name}")
def audits_page(org: str, name: str, ctx: CtxDep) -> AuditsData:
    """The audits attached to a repository, newest first."""
    repo = get_repo(ctx, org, name, "repo.read_gated")
    rows = ctx.db.scalars(select(Audit).where(Audit.repo_id == repo.id)
                          .order_by(Audit.number.desc()).limit(500)).all()
    return AuditsData(repo=repo_summary(repo), audits=[audit_summary(repo, a) for a in rows])


@page(router, "/repos/{org}/{name}/audits/{number}", template="audit.html", model=AuditData,
      name="audit", tags=["audits"], title=lambda d: d.audit.title)
def audit_page(org: str, name: str, number: int, ctx: CtxDep) -> AuditData:
    """One audit: context, primary criteria, largest gaps, gates and guardrails."""
    repo = get_repo(ctx, org, name, "repo.read_gated")
    audit = _audit(ctx, repo, number)
    return AuditData(
        repo=repo_summary(repo), audit=audit_summary(repo, audit), detail=detail(audit.record),
        report_url=f"{repo_url(repo)}/audits/{audit.number}/report"
        if audit.report_sha256 else None, record=audit.record)


@router.get("/repos/{org}/{name}/audits/{number}/report", include_in_schema=False,
            name="report")
def report(org: str, name: str, number: int, ctx: CtxDep) -> Response:
    """The audit's report.html, shown under a sandboxing Content-Security-Policy."""
    repo = get_repo(ctx, org, name, "repo.read_gated")
    audit = _audit(ctx, repo, number)
    if audit.report_sha256 is None:
        msg = f"Audit #{number} was pushed without report.html."
        raise NotFoundError(msg, field="report")
    return HTMLResponse(ctx.hub.blobs.read(audit.report_sha256),
                        headers={"Content-Security-Policy": REPORT_CSP,
                                 "X-Content-Type-Options": "nosniff"})


def _attribution(a: Attribution) -> AttributionOut:
    result = a.result if isinstance(a.result, dict) else {}
    top = _dicts(result.get("drivers"), 10)
    if not top:
        first = _dicts(result.get("queries"), 1)
        if first:
            top = [{"kind": kind, **row} for kind in ("helpful", "harmful")
                   for row in _dicts(first[0].get(kind), 5)]
    notes = result.get("notes")
    return AttributionOut(
        id=a.id, name=a.name, method=a.method, audit=None, revision=a.revision_number,
        findings=_dicts(result.get("findings")),
        notes=[str(n) for n in notes][:20] if isinstance(notes, list) else [], top=top,
        created_at=a.created_at)


@page(router, "/repos/{org}/{name}/attributions", template="attributions.html",
      model=AttributionsData, name="attributions", tags=["audits"],
      title=lambda d: f"Attribution results of {d.repo.full_name}")
def attributions_page(org: str, name: str, ctx: CtxDep) -> AttributionsData:
    """Training-data attribution results: which training rows drive predictions or gaps."""
    repo = get_repo(ctx, org, name, "repo.read_gated")
    rows = ctx.db.execute(select(Attribution, Audit.number)
                          .outerjoin(Audit, Attribution.audit_id == Audit.id)
                          .where(Attribution.repo_id == repo.id)
                          .order_by(Attribution.id.desc()).limit(200)).all()
    results = []
    for a, audit_number in rows:
        out = _attribution(a)
        out.audit = audit_number
        results.append(out)
    return AttributionsData(repo=repo_summary(repo), results=results)

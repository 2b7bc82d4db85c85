"""Files: the file list, uploads from the browser, ``scrutiny push``, downloads, deletion.

Downloads are always ``Content-Disposition: attachment`` with ``nosniff``;
HTML, SVG, XML and scripts are sent as ``application/octet-stream`` so a
browser never renders an uploaded file on the hub's origin.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select

from scrutiny.hub._content import (
    UNSAFE_TYPES,
    commit,
    commit_revision,
    create_repo,
    file_entry,
    get_org,
    get_repo,
    ingest,
    latest_revision,
    revision_at,
)
from scrutiny.hub._context import ERROR_RESPONSES, Ctx, CtxDep, json_route, page, q
from scrutiny.hub._db import Organisation, Repository
from scrutiny.hub._errors import BadRequestError, NotFoundError, ValidationFailedError
from scrutiny.hub._permissions import _not_found_repo, allowed_actions, require, role_in
from scrutiny.hub._present import files_out, repo_summary, repo_url
from scrutiny.hub._schemas import Deleted, FileData, FilesData, Ok, PushResult
from scrutiny.hub._storage import clean_filename
from scrutiny.hub._validation import REPO_RE, check_name, check_text

router = APIRouter()
Rev = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
MAX_FILES = 50


def _store(ctx: Ctx, uploads: list[Any]) -> dict[str, dict[str, Any]]:
    """Check names, store blobs (size-limited) and return manifest entries by name."""
    if not uploads:
        raise BadRequestError("files: no file was sent. Attach at least one file.",
                              field="files")
    if len(uploads) > MAX_FILES:
        msg = f"files: {len(uploads)} files in one request; at most {MAX_FILES} are accepted."
        raise BadRequestError(msg, field="files")
    stored: dict[str, dict[str, Any]] = {}
    limit = ctx.hub.settings.max_upload_bytes
    for i, upload in enumerate(uploads):
        if not hasattr(upload, "read") or not hasattr(upload, "filename"):
            msg = f"files[{i}]: expected a file, got text."
            raise BadRequestError(msg, field="files")
        name = clean_filename(upload.filename, field=f"files[{i}]")
        if name in stored:
            msg = f"files[{i}]: {name!r} is sent twice; send each file once."
            raise BadRequestError(msg, field=f"files[{i}]")
        sha, size = ctx.hub.blobs.put_stream(upload.file, limit=limit, name=name)
        stored[name] = file_entry(ctx, name, sha, size)
    return stored


def _result(ctx: Ctx, repo: Repository, created: bool, stored: dict[str, dict[str, Any]],
            message: str) -> PushResult:
    rev, audit, attributions, imported, card_changed, notes = ingest(
        ctx, repo, stored, message=message)
    commit(ctx)
    return PushResult(
        repo=repo_summary(repo), created=created, revision=rev.number, files=sorted(stored),
        audit=audit.number if audit else None, attributions=[a.id for a in attributions],
        imported=imported, card_updated=card_changed, notes=notes, url=repo_url(repo))


@page(router, "/repos/{org}/{name}/files", template="files.html", model=FilesData,
      name="files", tags=["files"], title=lambda d: f"Files of {d.repo.full_name}")
def files_page(org: str, name: str, ctx: CtxDep, rev: Rev = None) -> FilesData:
    """The files of the newest revision (or of ``?rev=N``)."""
    repo = get_repo(ctx, org, name, "repo.read_gated")
    revision = revision_at(ctx, repo, rev) if rev is not None else latest_revision(ctx, repo)
    return FilesData(repo=repo_summary(repo), revision=revision.number if revision else None,
                     files=files_out(repo, revision, pinned=rev is not None),
                     max_upload_bytes=ctx.hub.settings.max_upload_bytes,
                     allowed=allowed_actions(ctx.actor, repo))


@router.post("/repos/{org}/{name}/files", include_in_schema=False)
def upload_form(org: str, name: str, ctx: CtxDep) -> Response:
    """Upload files from the browser (one revision; audit.json and README.md are read)."""
    repo = get_repo(ctx, org, name, "repo.write")
    uploads = [f for f in (ctx.form.getlist("files") if ctx.form else [])
               if not (isinstance(f, str) or getattr(f, "filename", "x") == "")]
    message = check_text(ctx.field("message"), "message", max_length=500)
    _result(ctx, repo, False, _store(ctx, uploads), message)
    return ctx.redirect(f"{repo_url(repo)}/files")


@json_route(router, "/api/repos/{org}/{name}/files", method="POST", model=PushResult,
            name="api.upload", status_code=201, tags=["files"])
def upload(org: str, name: str, files: Annotated[list[UploadFile], File(min_length=1)],
           ctx: CtxDep,
           message: Annotated[str, Form(max_length=500)] = "") -> PushResult:
    """Upload files to an existing repository (one new revision)."""
    repo = get_repo(ctx, org, name, "repo.write")
    text = check_text(message, "message", max_length=500)
    return _result(ctx, repo, False, _store(ctx, list(files)), text)


@json_route(router, "/api/repos/{org}/{name}/push", method="POST", model=PushResult,
            name="api.push", status_code=201, tags=["files"])
def push(
    org: str, name: str, files: Annotated[list[UploadFile], File(min_length=1)], ctx: CtxDep,
    message: Annotated[str, Form(max_length=500)] = "",
    kind: Annotated[Literal["model", "dataset"], Form()] = "model",
    private: Annotated[Literal["true", "false"], Form()] = "true",
) -> PushResult:
    """Push an audit folder (what ``scrutiny push`` calls).

    Creates the repository if needed and adds the files as one revision;
    ``audit.json`` is attached (its deliberation record becomes editable rows),
    with the report, the card and attribution results.
    """
    text = check_text(message, "message", max_length=500)
    ctx.require_user()
    o: Organisation = get_org(ctx, org)
    exists = REPO_RE.match(name) and ctx.db.scalar(
        select(Repository.id).where(Repository.org_id == o.id, Repository.name == name))
    created = False
    if exists:
        repo = get_repo(ctx, org, name, "repo.write")
    else:
        if role_in(ctx.actor, o.id) is None and not ctx.actor.is_moderator:
            # a non-member must not learn whether a private repository of that name exists
            raise NotFoundError(_not_found_repo(o.name, name[:100]), field="repo")
        require(ctx.actor, "repo.create", o)
        repo = create_repo(ctx, o, check_name(name, "repo", repo=True), kind=kind,
                           private=private == "true")
        created = True
    return _result(ctx, repo, created, _store(ctx, list(files)), text)


def _file(ctx: Ctx, repo: Repository, fname: str, rev: int | None) -> tuple[Any, dict[str, Any]]:
    revision = revision_at(ctx, repo, rev)
    meta = revision.files.get(fname)
    if meta is None:
        msg = (f"{repo.full_name} has no file {fname[:100]!r} at revision {revision.number}. "
               "The files page lists them.")
        raise NotFoundError(msg, field="file")
    return revision, meta


@router.get("/repos/{org}/{name}/files/{fname}", include_in_schema=False, name="download")
def download(org: str, name: str, fname: str, ctx: CtxDep, rev: Rev = None) -> Response:
    """Download a file (always as an attachment, never rendered)."""
    repo = get_repo(ctx, org, name, "repo.read_gated")
    _, meta = _file(ctx, repo, fname, rev)
    ctype = str(meta.get("content_type") or "application/octet-stream")
    if ctype.split(";", maxsplit=1)[0].strip().lower() in UNSAFE_TYPES:
        ctype = "application/octet-stream"
    ascii_name = fname.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    headers = {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(fname, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Length": str(meta.get("size", "")),
    }
    return StreamingResponse(ctx.hub.blobs.iter(meta["sha256"]), media_type=ctype,
                             headers=headers)


@router.get("/api/repos/{org}/{name}/files/{fname}", response_model=Ok[FileData],
            responses=ERROR_RESPONSES, tags=["files"], name="api.file",
            summary="A file's metadata (download it from the page URL)")
def file_meta(org: str, name: str, fname: str, ctx: CtxDep, rev: Rev = None
              ) -> dict[str, Any]:
    """A file's metadata; the bytes are at the same path without ``/api``."""
    repo = get_repo(ctx, org, name, "repo.read_gated")
    revision, _ = _file(ctx, repo, fname, rev)
    out = next(f for f in files_out(repo, revision, pinned=rev is not None) if f.name == fname)
    return {"ok": True, "data": FileData(repo=repo_summary(repo), revision=revision.number,
                                         file=out)}


def _remove(ctx: Ctx, repo: Repository, fname: str) -> None:
    latest = latest_revision(ctx, repo)
    if latest is None or fname not in latest.files:
        msg = f"{repo.full_name} has no file {fname[:100]!r}."
        raise NotFoundError(msg, field="file")
    if fname == "README.md":
        msg = "file: README.md is the card; edit it instead of deleting it."
        raise ValidationFailedError(msg, field="file")
    rev = commit_revision(ctx, repo, message=f"Delete {fname}", removed=(fname,))
    ctx.log("file.delete", f"Deleted {fname} (revision {rev.number})", repo=repo,
            subject=f"revision:{rev.number}")
    commit(ctx)


@router.post("/repos/{org}/{name}/files/{fname}/delete", include_in_schema=False)
def delete_form(org: str, name: str, fname: str, ctx: CtxDep) -> Response:
    """Delete a file from the newest revision (history keeps it)."""
    repo = get_repo(ctx, org, name, "repo.write")
    _remove(ctx, repo, fname)
    return ctx.redirect(f"/repos/{q(org)}/{q(name)}/files")


@json_route(router, "/api/repos/{org}/{name}/files/{fname}", method="DELETE", model=Deleted,
            name="api.file_delete", tags=["files"])
def delete_file(org: str, name: str, fname: str, ctx: CtxDep) -> Deleted:
    """Delete a file from the newest revision (history keeps it)."""
    repo = get_repo(ctx, org, name, "repo.write")
    _remove(ctx, repo, fname)
    return Deleted(deleted=fname)

"""Lookups and changes of repository content: revisions, cards, files, pushes, audits.

Every change to a repository's content goes through :func:`commit_revision`
(one new revision per push or edit) and writes activity-log lines.
"""

from __future__ import annotations

import json
import mimetypes
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from scrutiny.exceptions import ScrutinyError
from scrutiny.hub._context import Ctx
from scrutiny.hub._db import (
    Attribution,
    Audit,
    DeliberationItem,
    Organisation,
    Repository,
    RepoTag,
    Revision,
    utcnow,
)
from scrutiny.hub._deliberation import KINDS, validate
from scrutiny.hub._errors import ConflictError, NotFoundError, ValidationFailedError
from scrutiny.hub._markdown import card_fields
from scrutiny.hub._permissions import _not_found_repo, require
from scrutiny.hub._validation import NAME_RE, REPO_RE

CARD_FILE = "README.md"
AUDIT_FILE = "audit.json"
REPORT_FILE = "report.html"
#: Served as downloads of this type whatever their name says (never rendered by the browser).
UNSAFE_TYPES = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml",
                "application/xml", "text/javascript", "application/javascript")


# ---------------------------------------------------------------------------
# lookups


def get_org(ctx: Ctx, name: str) -> Organisation:
    """An organisation by name (organisations are public; 404 when unknown)."""
    org = None
    if isinstance(name, str) and NAME_RE.match(name):
        org = ctx.db.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        msg = f"No organisation {name[:60]!r}. Check the name; /orgs lists them all."
        raise NotFoundError(msg, field="org")
    return org


def get_repo(ctx: Ctx, org: str, name: str, action: str = "repo.read") -> Repository:
    """A repository the actor may read, checked for ``action`` (404 when invisible)."""
    repo = None
    if NAME_RE.match(org) and REPO_RE.match(name):
        repo = ctx.db.scalar(select(Repository).join(Organisation).where(
            Organisation.name == org, Repository.name == name))
    if repo is None:
        raise NotFoundError(_not_found_repo(org[:60], name[:100]), field="repo")
    require(ctx.actor, "repo.read", repo)
    from scrutiny.hub._gating import check_interstitial

    check_interstitial(ctx, repo)  # not-for-all-audiences: the warning comes before content
    if action != "repo.read":
        require(ctx.actor, action, repo)
    return repo


def latest_revision(ctx: Ctx, repo: Repository) -> Revision | None:
    """The newest revision (None before the first)."""
    return ctx.db.scalar(select(Revision).where(Revision.repo_id == repo.id)
                         .order_by(Revision.number.desc()).limit(1))


def revision_at(ctx: Ctx, repo: Repository, number: int | None) -> Revision:
    """Revision ``number`` (the newest for None); 404 when it does not exist."""
    rev = latest_revision(ctx, repo) if number is None else ctx.db.scalar(
        select(Revision).where(Revision.repo_id == repo.id, Revision.number == number))
    if rev is None:
        msg = (f"{repo.full_name} has no revision {number}. The history page lists them."
               if number is not None else f"{repo.full_name} has no revision yet.")
        raise NotFoundError(msg, field="rev")
    return rev


def commit(ctx: Ctx) -> None:
    """Commit the request's changes; a concurrent clash becomes 409."""
    try:
        ctx.db.commit()
    except IntegrityError:
        ctx.db.rollback()
        msg = ("Another change landed at the same moment (or the name is taken). Reload and "
               "try again.")
        raise ConflictError(msg) from None


# ---------------------------------------------------------------------------
# revisions and cards


def apply_card(ctx: Ctx, repo: Repository, card: str) -> None:
    """Copy the card's title, licence, task and tags onto the repository (for search)."""
    repo.title, repo.license, repo.task, tags = card_fields(card)
    wanted = set(tags)
    for row in list(repo.tags):
        if row.tag not in wanted:
            repo.tags.remove(row)
    have = {row.tag for row in repo.tags}
    for tag in sorted(wanted - have):
        repo.tags.append(RepoTag(tag=tag))


def commit_revision(ctx: Ctx, repo: Repository, *, message: str, card: str | None = None,
                    added: dict[str, dict[str, Any]] | None = None,
                    removed: tuple[str, ...] = ()) -> Revision:
    """Add a revision: the previous one's card and files, changed as asked."""
    latest = latest_revision(ctx, repo)
    files = dict(latest.files) if latest else {}
    for name in removed:
        files.pop(name, None)
    files.update(added or {})
    text = card if card is not None else (latest.card if latest else "")
    rev = Revision(repo_id=repo.id, number=(latest.number if latest else 0) + 1,
                   message=message[:500], card=text, files=files,
                   author_id=ctx.user.id if ctx.user else None, created_at=utcnow())
    ctx.db.add(rev)
    if latest is None or text != latest.card:
        apply_card(ctx, repo, text)
    repo.updated_at = utcnow()
    return rev


def create_repo(ctx: Ctx, org: Organisation, name: str, *, kind: str, private: bool,
                card: str = "") -> Repository:
    """Create a repository and its first revision (the caller checked permissions)."""
    if ctx.db.scalar(select(Repository.id).where(Repository.org_id == org.id,
                                                 Repository.name == name)) is not None:
        msg = f"name: {org.name}/{name} already exists. Choose another name."
        raise ConflictError(msg, field="name")
    repo = Repository(org_id=org.id, name=name, kind=kind, private=private,
                      created_at=utcnow(), updated_at=utcnow())
    repo.org = org
    ctx.db.add(repo)
    ctx.db.flush()
    commit_revision(ctx, repo, message="Create repository", card=card)
    ctx.log("repo.create", f"Created {kind} repository {org.name}/{name} "
            f"({'private' if private else 'public'})", repo=repo)
    return repo


# ---------------------------------------------------------------------------
# files


def referenced_blobs(db: Any) -> set[str]:
    """Every blob hash a revision's files or an audit's report refers to."""
    refs: set[str] = set()
    for files in db.scalars(select(Revision.files)):
        refs.update(str(meta.get("sha256")) for meta in (files or {}).values()
                    if isinstance(meta, dict) and meta.get("sha256"))
    refs.update(db.scalars(select(Audit.report_sha256).where(Audit.report_sha256.is_not(None))))
    return refs


def file_entry(ctx: Ctx, name: str, sha: str, size: int) -> dict[str, Any]:
    """A manifest entry for a stored blob."""
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return {"sha256": sha, "size": size, "content_type": ctype,
            "uploaded_by": ctx.user.username if ctx.user else None,
            "uploaded_at": utcnow().isoformat()}


def _reject_constant(name: str) -> Any:
    msg = f"{name} is not allowed in JSON"
    raise ValueError(msg)


def scan_text(value: Any, path: str) -> None:
    """Reject NUL characters and lone surrogates anywhere in parsed JSON."""
    stack = [(value, path)]
    while stack:
        v, p = stack.pop()
        if isinstance(v, str):
            if "\x00" in v or any("\ud800" <= c <= "\udfff" for c in v):
                msg = f"{p}: text with NUL characters or lone surrogates cannot be stored."
                raise ValidationFailedError(msg, field=p)
        elif isinstance(v, dict):
            stack.extend((x, f"{p}.{k}") for k, x in v.items())
            stack.extend((k, f"{p} (key)") for k in v)
        elif isinstance(v, list):
            stack.extend((x, f"{p}[{i}]") for i, x in enumerate(v))


def load_json(data: bytes, name: str) -> Any:
    """Parse an uploaded JSON file; 422 naming the file when it is not valid JSON."""
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        msg = f"{name}: not UTF-8 text (byte {exc.start}). Save the file as UTF-8."
        raise ValidationFailedError(msg, field=name) from None
    except json.JSONDecodeError as exc:
        msg = f"{name}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
        raise ValidationFailedError(msg, field=name) from None
    except (ValueError, RecursionError) as exc:
        msg = f"{name}: cannot be read as JSON ({exc})."
        raise ValidationFailedError(msg, field=name) from None
    scan_text(value, name)
    return value


def decode_card(data: bytes, name: str = CARD_FILE) -> str:
    """A card's text from bytes: UTF-8 without NUL characters."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{name}: not UTF-8 text (byte {exc.start}). Save the card as UTF-8."
        raise ValidationFailedError(msg, field=name) from None
    if "\x00" in text:
        msg = f"{name}: NUL characters are not allowed."
        raise ValidationFailedError(msg, field=name)
    return text.removeprefix("\ufeff")


def _audit_record(data: bytes) -> dict[str, Any]:
    record = load_json(data, AUDIT_FILE)
    if not isinstance(record, dict) or not isinstance(record.get("title"), str) or not (
            record["title"].strip()) or not isinstance(record.get("schema_version"), str):
        msg = (f"{AUDIT_FILE}: not a scrutiny audit record (expected an object with "
               "'schema_version' and 'title'). Push the folder written by `scrutiny audit` "
               "or `scrutiny demo`.")
        raise ValidationFailedError(msg, field=AUDIT_FILE)
    delib = record.get("deliberation", {})
    if not isinstance(delib, dict):
        msg = f"{AUDIT_FILE}#deliberation: expected an object of lists."
        raise ValidationFailedError(msg, field=f"{AUDIT_FILE}#deliberation")
    return record


def _is_attribution(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("method"), str) and (
        isinstance(value.get("findings"), list) or isinstance(value.get("queries"), list))


def _generated_card(record: dict[str, Any], repo: Repository, notes: list[str]) -> str | None:
    from scrutiny.cards import model_card_from_audit

    try:
        return model_card_from_audit(record, model_id=repo.name).to_markdown()
    except (ScrutinyError, KeyError, TypeError, ValueError, AttributeError) as exc:
        notes.append(f"No card was generated from {AUDIT_FILE} ({exc}); push a README.md.")
        return None


def ingest(ctx: Ctx, repo: Repository, stored: dict[str, dict[str, Any]], *, message: str
           ) -> tuple[Revision, Audit | None, list[Attribution], dict[str, int], bool, list[str]]:
    """Add pushed or uploaded files as one revision; read the card, audit and attribution.

    ``stored`` maps cleaned names to manifest entries of blobs already written.

    Returns
    -------
    tuple
        The revision, the audit (if ``audit.json`` came), the attribution rows, the
        number of deliberation rows imported per kind, whether the card changed, notes.
    """
    blobs = ctx.hub.blobs
    notes: list[str] = []
    card = decode_card(blobs.read(stored[CARD_FILE]["sha256"])) if CARD_FILE in stored else None
    record = _audit_record(blobs.read(stored[AUDIT_FILE]["sha256"])) if (
        AUDIT_FILE in stored) else None
    results: dict[str, dict[str, Any]] = {}
    for name, entry in stored.items():
        if name.endswith(".json") and name != AUDIT_FILE:
            value = load_json(blobs.read(entry["sha256"]), name)
            if _is_attribution(value):
                results[name] = value
    latest = latest_revision(ctx, repo)
    if card is None and record is not None and repo.kind == "model" and not (
            latest and latest.card.strip()):
        card = _generated_card(record, repo, notes)
        if card is not None:
            notes.append(f"The card was generated from {AUDIT_FILE}; edit it on the hub.")
    default = "Push " + ", ".join(sorted(stored))
    rev = commit_revision(ctx, repo, message=message or default[:500], card=card,
                          added=stored)
    card_changed = card is not None and (latest is None or card != latest.card)
    audit = None
    imported: dict[str, int] = {}
    attributions: list[Attribution] = []
    if record is not None:
        number = (ctx.db.scalar(select(func.max(Audit.number)).where(Audit.repo_id == repo.id))
                  or 0) + 1
        audit = Audit(repo_id=repo.id, number=number, revision_number=rev.number,
                      title=record["title"].strip()[:300],
                      generated_at=_short(record.get("generated_at")),
                      scrutiny_version=_short(record.get("scrutiny_version")), record=record,
                      report_sha256=stored.get(REPORT_FILE, {}).get("sha256"),
                      uploaded_by=ctx.user.id if ctx.user else None, created_at=utcnow())
        ctx.db.add(audit)
        ctx.db.flush()
        imported = import_deliberation(ctx, repo, audit, record)
        training = record.get("training_attribution")
        if _is_attribution(training) or (isinstance(training, dict)
                                         and isinstance(training.get("method"), str)):
            attributions.append(Attribution(
                repo_id=repo.id, audit_id=audit.id, revision_number=rev.number,
                name=f"{AUDIT_FILE} (audit #{number}, training attribution)",
                method=str(training["method"])[:200], result=training, created_at=utcnow()))
    elif REPORT_FILE in stored:
        notes.append(f"{REPORT_FILE} came without {AUDIT_FILE}: kept as a file only.")
    for name, value in sorted(results.items()):
        attributions.append(Attribution(
            repo_id=repo.id, audit_id=audit.id if audit else None, revision_number=rev.number,
            name=name, method=str(value["method"])[:200], result=value, created_at=utcnow()))
    ctx.db.add_all(attributions)
    ctx.log("push", f"Revision {rev.number}: added {', '.join(sorted(stored))}"[:500],
            repo=repo, subject=f"revision:{rev.number}")
    if audit is not None:
        ctx.log("audit.add", f"Attached audit #{audit.number}: {audit.title}", repo=repo,
                subject=f"audit:{audit.number}")
    for key, n in imported.items():
        if n:
            ctx.log("deliberation.import", f"Imported {n} row(s) into the "
                    f"{KINDS[key].title.lower()} from audit #{audit.number if audit else '?'}",
                    repo=repo, subject=key)
    if attributions:
        ctx.log("attribution.add", f"Attached {len(attributions)} attribution result(s)",
                repo=repo)
    return rev, audit, attributions, imported, card_changed, notes


def _short(value: Any) -> str | None:
    return value[:40] if isinstance(value, str) else None


def import_deliberation(ctx: Ctx, repo: Repository, audit: Audit, record: dict[str, Any]
                        ) -> dict[str, int]:
    """Copy the audit's deliberation record into editable rows (skipping exact duplicates)."""
    delib = record.get("deliberation") or {}
    existing = {
        (kind, json.dumps(data, sort_keys=True))
        for kind, data in ctx.db.execute(select(DeliberationItem.kind, DeliberationItem.data)
                                         .where(DeliberationItem.repo_id == repo.id)).all()
    }
    counts: dict[str, int] = {}
    for kind in KINDS.values():
        rows = delib.get(kind.record_key) or []
        where = f"{AUDIT_FILE}#deliberation.{kind.record_key}"
        if not isinstance(rows, list):
            msg = f"{where}: expected a list."
            raise ValidationFailedError(msg, field=where)
        counts[kind.key] = 0
        for i, raw in enumerate(rows):
            if not isinstance(raw, dict):
                msg = f"{where}[{i}]: expected an object."
                raise ValidationFailedError(msg, field=f"{where}[{i}]")
            data = validate(kind, raw, prefix=f"{where}[{i}]")
            key = (kind.key, json.dumps(data, sort_keys=True))
            if key in existing:
                continue
            existing.add(key)
            now = utcnow()
            ctx.db.add(DeliberationItem(
                repo_id=repo.id, kind=kind.key, data=data, audit_id=audit.id,
                created_by=ctx.user.id if ctx.user else None, created_at=now,
                updated_by=ctx.user.id if ctx.user else None, updated_at=now))
            counts[kind.key] += 1
    return counts

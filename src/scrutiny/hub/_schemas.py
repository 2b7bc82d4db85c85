"""Pydantic models of the hub's JSON: the two envelopes, request bodies and page data.

Every page's data model is what its JSON twin answers inside
``{"ok": true, "data": ...}`` and what its HTML template renders. Request
bodies forbid unknown keys and reject text that cannot be stored (NUL
characters, lone surrogates).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from scrutiny.hub._validation import NAME_PATTERN, REPO_SCHEMA_PATTERN, RESERVED, text

#: JSON Schema of names (enforced by ``check_name``, whose messages say how to fix them).
_ORG_NAME = Field(json_schema_extra={"pattern": NAME_PATTERN, "not": {"enum": sorted(RESERVED)}})
_REPO_NAME = Field(json_schema_extra={"pattern": REPO_SCHEMA_PATTERN})

T = TypeVar("T")
Kind = Literal["model", "dataset"]
Role = Literal["owner", "maintainer", "reviewer", "member", "viewer"]
Scope = Literal["read", "write"]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------------------
# envelopes


class Ok(_Out, Generic[T]):
    """The success envelope."""

    ok: Literal[True] = True
    data: T


class ErrorBody(_Out):
    """What went wrong: a stable code, a message naming the field, and the field."""

    code: str
    message: str
    field: str | None = None


class ErrorEnvelope(_Out):
    """The error envelope, answered with every 4xx/5xx status."""

    ok: Literal[False] = False
    error: ErrorBody


# ---------------------------------------------------------------------------
# request bodies


class OrgCreate(_In):
    """A new organisation; its creator becomes its owner."""

    name: Annotated[text(40, min_length=1), _ORG_NAME]
    display_name: text(100) | None = None
    description: text(2000) = ""


class MemberSet(_In):
    """A member's role in an organisation."""

    role: Role


class RepoCreate(_In):
    """A new repository in an organisation."""

    org: Annotated[text(40, min_length=1), _ORG_NAME]
    name: Annotated[text(96, min_length=1), _REPO_NAME]
    kind: Kind = "model"
    private: bool = True
    card: text(1_000_000) = ""


class RepoUpdate(_In):
    """Repository settings an owner may change."""

    private: bool


class CardUpdate(_In):
    """A new version of the card (``README.md``); it makes a new revision."""

    card: text(1_000_000)
    message: text(500) = ""


class SignOffCreate(_In):
    """A sign-off: the signer's named role and statement (name and date are recorded)."""

    role: text(100, min_length=1)
    statement: text(2000) | None = None


# ---------------------------------------------------------------------------
# building blocks of page data


class UserRef(_Out):
    """A user as shown next to their work."""

    username: str
    display_name: str


class Me(UserRef):
    """The signed-in user."""

    is_moderator: bool


class OrgRef(_Out):
    """An organisation."""

    name: str
    display_name: str
    description: str = ""


class RepoSummary(_Out):
    """A repository in lists and headers."""

    full_name: str
    org: str
    name: str
    kind: Kind
    private: bool
    title: str | None
    license: str | None
    task: str | None
    tags: list[str]
    updated_at: dt.datetime
    url: str
    moderation: Literal["normal", "reduced", "disabled"] = "normal"
    gated: Literal["automatic", "manual"] | None = None


class MemberOut(_Out):
    """A member and their role."""

    user: UserRef
    role: Role
    since: dt.datetime


class TokenOut(_Out):
    """An API token (its secret is shown once, at creation)."""

    id: int
    name: str
    prefix: str
    scope: Scope
    created_at: dt.datetime
    last_used_at: dt.datetime | None


class FileOut(_Out):
    """A file of a revision."""

    name: str
    size: int
    sha256: str
    content_type: str
    url: str
    uploaded_by: str | None = None


class RevisionSummary(_Out):
    """A revision in the history."""

    number: int
    message: str
    author: UserRef | None
    created_at: dt.datetime
    n_files: int


class CardOut(_Out):
    """The card: raw text, metadata, sanitised HTML and the offline check."""

    text: str
    metadata: dict[str, Any]
    html: str
    title: str | None
    problems: list[str]
    completeness: float | None
    issues: list[str]


class AuditSummary(_Out):
    """An audit in lists."""

    number: int
    title: str
    generated_at: str | None
    scrutiny_version: str | None
    revision: int
    uploaded_by: UserRef | None
    created_at: dt.datetime
    has_report: bool
    gates: dict[str, int]
    url: str


class ActivityOut(_Out):
    """One line of the activity log."""

    action: str
    summary: str
    subject: str | None
    user: UserRef | None
    repo: str | None
    created_at: dt.datetime


class ItemOut(_Out):
    """A row of the deliberation record."""

    id: int
    kind: str
    data: dict[str, Any]
    audit: int | None
    created_by: UserRef | None
    created_at: dt.datetime
    updated_by: UserRef | None
    updated_at: dt.datetime
    url: str


# ---------------------------------------------------------------------------
# page data


class HomeData(_Out):
    """The home page: recently updated repositories the viewer may see."""

    repos: list[RepoSummary]
    my_orgs: list[OrgRef]
    signup_allowed: bool


class FormData(_Out):
    """A form page: where it posts and which fields it takes."""

    action: str
    fields: list[str]
    user: Me | None = None
    choices: dict[str, list[str]] = Field(default_factory=dict)


class AccountData(_Out):
    """The signed-in user's account: organisations, roles and API tokens."""

    user: Me
    memberships: list[MemberOrg]
    tokens: list[TokenOut]
    new_token: str | None = None


class MemberOrg(_Out):
    """An organisation the user belongs to, with their role."""

    org: OrgRef
    role: Role


class UserData(_Out):
    """A user's profile: their responsible-AI work on repositories the viewer may see."""

    user: UserRef
    orgs: list[OrgRef]
    contributions: dict[str, int]
    activity: list[ActivityOut]


class OrgListData(_Out):
    """All organisations."""

    orgs: list[OrgRef]


class OrgData(_Out):
    """An organisation, its visible repositories, and its members for those who may see them."""

    org: OrgRef
    repos: list[RepoSummary]
    role: Role | None
    allowed: list[str]
    members: list[MemberOut] | None


class MembersData(_Out):
    """The members of an organisation."""

    org: OrgRef
    members: list[MemberOut]
    allowed: list[str]
    roles: list[str]


class RepoData(_Out):
    """A repository's main page: its card, files, newest audit and what the viewer may do."""

    repo: RepoSummary
    card: CardOut
    revision: RevisionSummary | None
    files: list[FileOut]
    latest_audit: AuditSummary | None
    counts: dict[str, int]
    allowed: list[str]


class RepoFormData(_Out):
    """The card editor or the settings page of a repository."""

    repo: RepoSummary
    card: str
    allowed: list[str]


class RevisionsData(_Out):
    """The history of a repository."""

    repo: RepoSummary
    revisions: list[RevisionSummary]


class RevisionData(_Out):
    """One revision: its card and its files."""

    repo: RepoSummary
    revision: RevisionSummary
    card: CardOut
    files: list[FileOut]


class FileChange(_Out):
    """How a file changed between two revisions (with a diff when both are text)."""

    name: str
    change: Literal["added", "removed", "changed", "unchanged"]
    diff: list[str] | None = None


class DiffData(_Out):
    """The differences between two revisions."""

    repo: RepoSummary
    base: int
    head: int
    card_diff: list[str]
    files: list[FileChange]


class FilesData(_Out):
    """The files of a repository's newest revision (or of ``?rev=N``)."""

    repo: RepoSummary
    revision: int | None
    files: list[FileOut]
    max_upload_bytes: int
    allowed: list[str]


class FileData(_Out):
    """One file's metadata."""

    repo: RepoSummary
    revision: int
    file: FileOut


class AuditsData(_Out):
    """The audits attached to a repository."""

    repo: RepoSummary
    audits: list[AuditSummary]


class AuditDetail(_Out):
    """What an audit found, read from its ``audit.json``."""

    context: dict[str, Any]
    n_rows: int | None
    sensitive_features: list[str]
    primary: list[str]
    ranking: list[dict[str, Any]]
    gates: list[dict[str, Any]]
    guardrails: list[dict[str, Any]]
    deliberation_counts: dict[str, int]


class AuditData(_Out):
    """One audit: summary, details, and the full record."""

    repo: RepoSummary
    audit: AuditSummary
    detail: AuditDetail
    report_url: str | None
    record: dict[str, Any]


class AttributionOut(_Out):
    """Attribution results: a pushed results file or an audit's training attribution."""

    id: int
    name: str
    method: str
    audit: int | None
    revision: int
    findings: list[dict[str, Any]]
    notes: list[str]
    top: list[dict[str, Any]]
    created_at: dt.datetime


class AttributionsData(_Out):
    """The attribution results of a repository."""

    repo: RepoSummary
    results: list[AttributionOut]


class SectionOut(_Out):
    """A section of the deliberation record."""

    kind: str
    segment: str
    title: str
    description: str
    action: str
    role_needed: str
    can_edit: bool
    fields: list[dict[str, Any]]
    items: list[ItemOut]


class DeliberationData(_Out):
    """A repository's deliberation record, section by section."""

    repo: RepoSummary
    sections: list[SectionOut]
    allowed: list[str]


class ItemData(_Out):
    """One row of the deliberation record and its history."""

    repo: RepoSummary
    item: ItemOut
    section: SectionOut
    history: list[ActivityOut]
    can_edit: bool
    can_delete: bool


class Contributor(_Out):
    """Who did responsible-AI work on a repository, and how much of each kind."""

    user: UserRef | None
    counts: dict[str, int]
    total: int


class ActivityData(_Out):
    """The activity log of a repository and its contributors."""

    repo: RepoSummary
    contributors: list[Contributor]
    entries: list[ActivityOut]


class SearchQuery(_Out):
    """The search as understood."""

    q: str
    kind: str | None
    license: str | None
    tag: str | None
    task: str | None
    page: int


class SearchData(_Out):
    """Search results over the repositories the viewer may see, and facet counts."""

    query: SearchQuery
    total: int
    results: list[RepoSummary]
    facets: dict[str, dict[str, int]]


class PushResult(_Out):
    """What a push (or a web upload) changed."""

    repo: RepoSummary
    created: bool
    revision: int
    files: list[str]
    audit: int | None
    attributions: list[int]
    imported: dict[str, int]
    card_updated: bool
    notes: list[str]
    url: str


class TokenCreated(_Out):
    """A new API token: the secret is in this answer only."""

    token: str
    info: TokenOut


class Deleted(_Out):
    """Confirmation of a deletion."""

    deleted: str


class Health(_Out):
    """The hub is up; its schema revision."""

    status: Literal["ok"] = "ok"
    schema_revision: str
    version: str


AccountData.model_rebuild()

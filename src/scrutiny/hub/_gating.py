"""Not-for-all-audiences interstitials, content preferences, and gated access.

Two levers of control over how a repository is shared, as on the Hugging
Face Hub:

* **Not for all audiences.** A repository whose card tags it
  ``not-for-all-audiences`` (any spelling :func:`scrutiny.cards.normalize_tags`
  knows, ``not_for_all_audiences`` included) answers every GET of its pages
  and JSON twins with an interstitial until the visitor acknowledges it: a
  CSRF-protected form (remembered for the session, in a signed cookie) or
  ``?acknowledge=not-for-all-audiences`` for API clients. Signed-in users may
  turn the warning off in their content preferences; anonymous visitors always
  see it.
* **Gated access.** An owner switches gating on (``automatic`` or ``manual``
  approval); the request form comes from the card's ``extra_gated_*``
  metadata. Until a request is accepted, files, audits, reports, attribution
  results, the deliberation record and the history stay hidden everywhere;
  the card and the repository's name stay visible. Members of the owning
  organisation and site moderators are never gated. The decision itself is
  ``can(actor, "repo.read_gated", repo)`` in :mod:`scrutiny.hub._permissions`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, StrictBool, field_validator
from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from scrutiny.hub._db import Base, Repository, User, utcnow
from scrutiny.hub._schemas import Me, RepoSummary, UserRef, _In, _Out
from scrutiny.hub._validation import text

if TYPE_CHECKING:
    from scrutiny.hub._context import Ctx

#: Approval modes of a gated repository.
MODES = ("automatic", "manual")
#: States of an access request.
STATES = ("pending", "accepted", "rejected")
#: The query parameter value with which an API client acknowledges the interstitial.
ACKNOWLEDGE = "not-for-all-audiences"
ACK_COOKIE = "scrutiny_nfaa"
MAX_ACKS = 30
MAX_REASON = 200
MAX_ANSWER = 1000
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TRUE_WORDS = frozenset({"on", "true", "yes", "1"})


# ---------------------------------------------------------------------------
# tables


class ContentPreference(Base):
    """A user's content preferences (one row per user that changed them)."""

    __tablename__ = "content_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    show_nfaa: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RepoGate(Base):
    """A gated repository's approval mode (no row: the repository is not gated)."""

    __tablename__ = "repo_gates"

    repo_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(10))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AccessRequest(Base):
    """A user's request for access to a gated repository, and its decision."""

    __tablename__ = "access_requests"
    __table_args__ = (UniqueConstraint("repo_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    status: Mapped[str] = mapped_column(String(10))
    answers: Mapped[dict[str, Any]]
    reason: Mapped[str | None] = mapped_column(String(MAX_REASON))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    decider: Mapped[User | None] = relationship(foreign_keys=[decided_by], lazy="joined")


# ISO 3166-1 alpha-2 codes and English names (from the tz database's iso3166.tab).
_COUNTRIES = (
    'AD=Andorra|AE=United Arab Emirates|AF=Afghanistan|AG=Antigua & Barbuda|AI=Anguilla|'
    'AL=Albania|AM=Armenia|AO=Angola|AQ=Antarctica|AR=Argentina|AS=Samoa (American)|'
    'AT=Austria|AU=Australia|AW=Aruba|AX=Åland Islands|AZ=Azerbaijan|'
    'BA=Bosnia & Herzegovina|BB=Barbados|BD=Bangladesh|BE=Belgium|BF=Burkina Faso|'
    'BG=Bulgaria|BH=Bahrain|BI=Burundi|BJ=Benin|BL=St Barthelemy|BM=Bermuda|BN=Brunei|'
    'BO=Bolivia|BQ=Caribbean NL|BR=Brazil|BS=Bahamas|BT=Bhutan|BV=Bouvet Island|'
    'BW=Botswana|BY=Belarus|BZ=Belize|CA=Canada|CC=Cocos (Keeling) Islands|'
    'CD=Congo (Dem. Rep.)|CF=Central African Rep.|CG=Congo (Rep.)|CH=Switzerland|'
    "CI=Côte d'Ivoire|CK=Cook Islands|CL=Chile|CM=Cameroon|CN=China|CO=Colombia|"
    'CR=Costa Rica|CU=Cuba|CV=Cape Verde|CW=Curaçao|CX=Christmas Island|CY=Cyprus|'
    'CZ=Czech Republic|DE=Germany|DJ=Djibouti|DK=Denmark|DM=Dominica|'
    'DO=Dominican Republic|DZ=Algeria|EC=Ecuador|EE=Estonia|EG=Egypt|EH=Western Sahara|'
    'ER=Eritrea|ES=Spain|ET=Ethiopia|FI=Finland|FJ=Fiji|FK=Falkland Islands|'
    'FM=Micronesia|FO=Faroe Islands|FR=France|GA=Gabon|GB=Britain (UK)|GD=Grenada|'
    'GE=Georgia|GF=French Guiana|GG=Guernsey|GH=Ghana|GI=Gibraltar|GL=Greenland|'
    'GM=Gambia|GN=Guinea|GP=Guadeloupe|GQ=Equatorial Guinea|GR=Greece|'
    'GS=South Georgia & the South Sandwich Islands|GT=Guatemala|GU=Guam|GW=Guinea-Bissau|'
    'GY=Guyana|HK=Hong Kong|HM=Heard Island & McDonald Islands|HN=Honduras|HR=Croatia|'
    'HT=Haiti|HU=Hungary|ID=Indonesia|IE=Ireland|IL=Israel|IM=Isle of Man|IN=India|'
    'IO=British Indian Ocean Territory|IQ=Iraq|IR=Iran|IS=Iceland|IT=Italy|JE=Jersey|'
    'JM=Jamaica|JO=Jordan|JP=Japan|KE=Kenya|KG=Kyrgyzstan|KH=Cambodia|KI=Kiribati|'
    'KM=Comoros|KN=St Kitts & Nevis|KP=Korea (North)|KR=Korea (South)|KW=Kuwait|'
    'KY=Cayman Islands|KZ=Kazakhstan|LA=Laos|LB=Lebanon|LC=St Lucia|LI=Liechtenstein|'
    'LK=Sri Lanka|LR=Liberia|LS=Lesotho|LT=Lithuania|LU=Luxembourg|LV=Latvia|LY=Libya|'
    'MA=Morocco|MC=Monaco|MD=Moldova|ME=Montenegro|MF=St Martin (French)|MG=Madagascar|'
    'MH=Marshall Islands|MK=North Macedonia|ML=Mali|MM=Myanmar (Burma)|MN=Mongolia|'
    'MO=Macau|MP=Northern Mariana Islands|MQ=Martinique|MR=Mauritania|MS=Montserrat|'
    'MT=Malta|MU=Mauritius|MV=Maldives|MW=Malawi|MX=Mexico|MY=Malaysia|MZ=Mozambique|'
    'NA=Namibia|NC=New Caledonia|NE=Niger|NF=Norfolk Island|NG=Nigeria|NI=Nicaragua|'
    'NL=Netherlands|NO=Norway|NP=Nepal|NR=Nauru|NU=Niue|NZ=New Zealand|OM=Oman|PA=Panama|'
    'PE=Peru|PF=French Polynesia|PG=Papua New Guinea|PH=Philippines|PK=Pakistan|'
    'PL=Poland|PM=St Pierre & Miquelon|PN=Pitcairn|PR=Puerto Rico|PS=Palestine|'
    'PT=Portugal|PW=Palau|PY=Paraguay|QA=Qatar|RE=Réunion|RO=Romania|RS=Serbia|RU=Russia|'
    'RW=Rwanda|SA=Saudi Arabia|SB=Solomon Islands|SC=Seychelles|SD=Sudan|SE=Sweden|'
    'SG=Singapore|SH=St Helena|SI=Slovenia|SJ=Svalbard & Jan Mayen|SK=Slovakia|'
    'SL=Sierra Leone|SM=San Marino|SN=Senegal|SO=Somalia|SR=Suriname|SS=South Sudan|'
    'ST=Sao Tome & Principe|SV=El Salvador|SX=St Maarten (Dutch)|SY=Syria|'
    'SZ=Eswatini (Swaziland)|TC=Turks & Caicos Is|TD=Chad|TF=French S. Terr.|TG=Togo|'
    'TH=Thailand|TJ=Tajikistan|TK=Tokelau|TL=East Timor|TM=Turkmenistan|TN=Tunisia|'
    'TO=Tonga|TR=Turkey|TT=Trinidad & Tobago|TV=Tuvalu|TW=Taiwan|TZ=Tanzania|UA=Ukraine|'
    'UG=Uganda|UM=US minor outlying islands|US=United States|UY=Uruguay|UZ=Uzbekistan|'
    'VA=Vatican City|VC=St Vincent|VE=Venezuela|VG=Virgin Islands (UK)|'
    'VI=Virgin Islands (US)|VN=Vietnam|VU=Vanuatu|WF=Wallis & Futuna|WS=Samoa (western)|'
    'YE=Yemen|YT=Mayotte|ZA=South Africa|ZM=Zambia|ZW=Zimbabwe'
)

COUNTRIES: dict[str, str] = dict(
    pair.split("=", 1) for pair in "".join(_COUNTRIES).split("|"))


# The repository's gate, loaded with it (None: not gated).
Repository.gate = relationship(  # type: ignore[attr-defined]
    RepoGate, uselist=False, lazy="joined", viewonly=True)


def gate_mode(repo: Repository) -> str | None:
    """``automatic`` or ``manual`` for a gated repository, None otherwise."""
    row = getattr(repo, "gate", None)
    return row.mode if row is not None else None


# ---------------------------------------------------------------------------
# request bodies and page data


def _storable(value: str) -> bool:
    return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)


class AccessRequestIn(_In):
    """A request for access: the answers to the gating form, keyed by the fields' labels.

    Checked here rather than by key and value types, so that no error message
    ever echoes a label that cannot be stored (NUL characters, lone surrogates).
    """

    answers: dict[str, Any] = Field(default_factory=dict, json_schema_extra={
        "maxProperties": 50, "additionalProperties": {
            "anyOf": [{"type": "boolean"}, {"type": "string", "maxLength": MAX_ANSWER}]}})

    @field_validator("answers")
    @classmethod
    def _answers(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > 50:
            msg = f"at most 50 answers are accepted, got {len(value)}"
            raise ValueError(msg)
        for i, (label, answer) in enumerate(value.items()):
            if not label.strip() or len(label) > 200 or not _storable(label):
                msg = (f"label number {i + 1} is empty, longer than 200 characters or holds "
                       "characters that cannot be stored; use the labels the access page lists")
                raise ValueError(msg)
            if isinstance(answer, bool):
                continue
            if not isinstance(answer, str) or len(answer) > MAX_ANSWER or not _storable(answer):
                msg = (f"the answer to {label[:60]!r} must be true, false or text of at most "
                       f"{MAX_ANSWER} storable characters")
                raise ValueError(msg)
        return value


class AccessDecision(_In):
    """An owner's or maintainer's decision on an access request."""

    status: Literal["accepted", "rejected", "pending"]
    reason: text(MAX_REASON) | None = None


class GatingUpdate(_In):
    """Switch gating off, or on with automatic or manual approval."""

    mode: Literal["off", "automatic", "manual"]


class PreferencesUpdate(_In):
    """A user's content preferences."""

    show_nfaa_without_warning: StrictBool


class OptionOut(_Out):
    """A choice of a select field."""

    label: str
    value: str


class GateFieldOut(_Out):
    """A field of the access request form (from ``extra_gated_fields``)."""

    name: str
    label: str
    type: Literal["text", "checkbox", "date_picker", "country", "select"]
    options: list[OptionOut]


class GateFormOut(_Out):
    """The access request form, read from the card's ``extra_gated_*`` metadata."""

    heading: str
    prompt: str | None
    description: str | None
    button: str
    fields: list[GateFieldOut]
    error: str | None = None


class AccessRequestOut(_Out):
    """An access request and its decision."""

    user: UserRef
    status: Literal["pending", "accepted", "rejected"]
    answers: dict[str, Any]
    reason: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: UserRef | None


class AccessData(_Out):
    """A gated repository's access page: the form, and where the viewer stands."""

    repo: RepoSummary
    mode: Literal["automatic", "manual"] | None
    access: Literal["open", "member", "none", "pending", "accepted", "rejected"]
    request: AccessRequestOut | None
    can_request: bool
    form: GateFormOut | None
    countries: dict[str, str]
    allowed: list[str]


class AccessRequestsData(_Out):
    """The access requests of a gated repository (owners and maintainers)."""

    repo: RepoSummary
    mode: Literal["automatic", "manual"] | None
    counts: dict[str, int]
    requests: list[AccessRequestOut]
    allowed: list[str]


class GatingData(_Out):
    """A repository's gating settings (owners)."""

    repo: RepoSummary
    mode: Literal["automatic", "manual"] | None
    modes: list[str]
    form: GateFormOut
    allowed: list[str]


class PreferencesData(_Out):
    """The signed-in user's content preferences."""

    user: Me
    show_nfaa_without_warning: bool


class InterstitialOut(_Out):
    """The warning shown before a not-for-all-audiences repository's content."""

    kind: Literal["not-for-all-audiences"] = "not-for-all-audiences"
    repo: str
    url: str
    message: str
    acknowledge_form: str
    acknowledge_param: str
    next: str
    preferences: str | None


class InterstitialData(_Out):
    """What a not-for-all-audiences repository answers until the interstitial is acknowledged."""

    interstitial: InterstitialOut


# ---------------------------------------------------------------------------
# not for all audiences


def is_nfaa(repo: Repository) -> bool:
    """Whether the repository's card tags it not-for-all-audiences (any spelling)."""
    from scrutiny.cards import NFAA_TAG, normalize_tags

    return any(row.tag and normalize_tags([row.tag]) == [NFAA_TAG] for row in repo.tags)


def shows_nfaa(db: Session, user: User | None) -> bool:
    """Whether ``user`` chose to see not-for-all-audiences content without the warning."""
    if user is None:
        return False
    return bool(db.scalar(select(ContentPreference.show_nfaa)
                          .where(ContentPreference.user_id == user.id)))


def _ack_mac(secret: str, binding: str, repo_id: int) -> str:
    msg = f"nfaa:{binding}:{repo_id}".encode()
    return hmac.new(secret.encode("utf-8"), msg, hashlib.sha256).hexdigest()[:24]


def acknowledged(ctx: Ctx, repo: Repository) -> bool:
    """Whether this browser session acknowledged the repository's interstitial."""
    binding = ctx.actor.csrf_binding
    raw = ctx.request.cookies.get(ACK_COOKIE, "") if ctx.request is not None else ""
    if not binding or not raw:
        return False
    want = _ack_mac(ctx.hub.settings.secret_key, binding, repo.id)
    return any(hmac.compare_digest(part, f"{repo.id}.{want}") for part in raw.split(",")[:64])


def ack_cookie(ctx: Ctx, repo: Repository) -> str:
    """The acknowledgement cookie's new value: this repository added, the oldest dropped."""
    binding = ctx.actor.csrf_binding
    raw = ctx.request.cookies.get(ACK_COOKIE, "")
    keep = [p for p in raw.split(",")[:64] if p and not p.startswith(f"{repo.id}.")]
    keep.append(f"{repo.id}.{_ack_mac(ctx.hub.settings.secret_key, binding, repo.id)}")
    return ",".join(keep[-MAX_ACKS:])


class Interstitial(Exception):
    """Raised to answer with the interstitial instead of the repository's content."""

    def __init__(self, response: Any) -> None:
        super().__init__("not-for-all-audiences interstitial")
        self.response = response


def local_path(value: object, default: str) -> str:
    """A same-site path to go back to (no open redirect)."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and (
            "\\" not in value) and len(value) < 1000 and "\x00" not in value:
        return value
    return default


def check_interstitial(ctx: Ctx, repo: Repository) -> None:
    """Answer with the interstitial (raise :class:`Interstitial`) unless the viewer may pass.

    Only reads (GET, HEAD) are stopped; the viewer passes with the content
    preference, a session acknowledgement, or ``?acknowledge=not-for-all-audiences``.
    """
    request = ctx.request
    if request is None or request.method not in ("GET", "HEAD") or not is_nfaa(repo):
        return
    if request.query_params.get("acknowledge") == ACKNOWLEDGE:
        return
    if shows_nfaa(ctx.db, ctx.user) or acknowledged(ctx, repo):
        return
    from scrutiny.hub._app import wants_json
    from scrutiny.hub._present import repo_url

    url = repo_url(repo)
    path = request.url.path
    page_path = path.removeprefix("/api") if path.startswith("/api/") else path
    nxt = page_path + (f"?{request.url.query}" if request.url.query else "")
    data = InterstitialOut(
        repo=repo.full_name, url=url,
        message=(f"{repo.full_name} is tagged not-for-all-audiences: it may hold content "
                 "that is not suitable for everyone. Acknowledge the warning to see it."),
        acknowledge_form=f"{url}/acknowledge", acknowledge_param=f"acknowledge={ACKNOWLEDGE}",
        next=local_path(nxt, url),
        preferences="/account/preferences" if ctx.user is not None else None)
    if wants_json(request):
        from fastapi.responses import JSONResponse

        body = {"ok": True, "data": InterstitialData(interstitial=data).model_dump(mode="json")}
        raise Interstitial(JSONResponse(body))
    raise Interstitial(ctx.render("interstitial.html", data, title="Content warning",
                                  page_path=page_path))


async def _interstitial(request: Any, exc: Exception) -> Any:
    assert isinstance(exc, Interstitial)
    return exc.response


def install(app: Any) -> None:
    """Register the interstitial's exception handler on the app."""
    app.add_exception_handler(Interstitial, _interstitial)


# ---------------------------------------------------------------------------
# gated access


def gate_states(db: Session, user_id: int) -> dict[int, str]:
    """The state of each of the user's access requests, by repository id."""
    rows = db.execute(select(AccessRequest.repo_id, AccessRequest.status)
                      .where(AccessRequest.user_id == user_id)).all()
    return {repo_id: status for repo_id, status in rows}


@dataclass
class GateField:
    """A field of the access request form."""

    name: str
    label: str
    type: str
    options: list[tuple[str, str]]

    def out(self) -> GateFieldOut:
        """As page data."""
        return GateFieldOut(name=self.name, label=self.label, type=self.type,  # type: ignore[arg-type]
                            options=[OptionOut(label=lab, value=v) for lab, v in self.options])


@dataclass
class GateForm:
    """The access request form of a repository, read from its card."""

    heading: str
    prompt: str | None
    description: str | None
    button: str
    fields: list[GateField]
    error: str | None = None

    def out(self) -> GateFormOut:
        """As page data."""
        return GateFormOut(heading=self.heading, prompt=self.prompt,
                           description=self.description, button=self.button,
                           fields=[f.out() for f in self.fields], error=self.error)


def parse_gate_form(meta: dict[str, Any], repo_name: str = "") -> GateForm:
    """The access request form from card metadata; ``error`` names the field at fault.

    Uses the card checker's rules for ``extra_gated_fields``: each label maps
    to ``text``, ``checkbox``, ``date_picker`` or ``country``, or to
    ``{type: select, options: [...]}``.
    """
    from scrutiny.cards._metadata import GatedField, _check_gated_fields

    form = GateForm(heading=f"You need to agree to share your contact information to access "
                    f"{repo_name or 'this repository'}", prompt=None, description=None,
                    button="Agree and send the request", fields=[])
    for key, attr in (("extra_gated_heading", "heading"), ("extra_gated_prompt", "prompt"),
                      ("extra_gated_description", "description"),
                      ("extra_gated_button_content", "button")):
        value = meta.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            form.error = (f"{key}: expected non-empty text, got {str(value)[:60]!r}. Fix the "
                          "card's metadata.")
            return form
        setattr(form, attr, value.strip()[:2000])
    try:
        specs = _check_gated_fields(meta.get("extra_gated_fields")) or {}
    except ValueError as exc:
        form.error = (f"extra_gated_fields: {exc}. Fix the card's metadata (types: text, "
                      "checkbox, date_picker, country, select with options).")
        return form
    for i, (label, spec) in enumerate(specs.items()):
        if isinstance(spec, GatedField):
            options = [(o, o) if isinstance(o, str) else (o.label, o.value)
                       for o in spec.options or []]
            form.fields.append(GateField(f"field-{i}", label.strip(), spec.type, options))
        else:
            form.fields.append(GateField(f"field-{i}", label.strip(), str(spec), []))
    if len(form.fields) > 50:
        form.error = "extra_gated_fields: more than 50 fields; keep the form short."
    return form


def validate_answers(form: GateForm, answers: dict[str, Any]) -> dict[str, Any]:
    """Check answers (keyed by label) against the form; raise naming the field at fault.

    Returns
    -------
    dict
        The cleaned answers: text stripped, checkboxes ``True``, dates ISO,
        countries as ISO 3166 alpha-2 codes, selects as the option's value.
    """
    from scrutiny.hub._errors import ValidationFailedError

    labels = {f.label for f in form.fields}
    unknown = sorted(set(answers) - labels)
    if unknown:
        asked = ", ".join(repr(x) for x in sorted(labels)) or "no fields"
        msg = (f"answers.{unknown[0][:60]}: not a field of this form (it asks for {asked}). "
               "Send the labels exactly as the access page lists them.")
        raise ValidationFailedError(msg, field=f"answers.{unknown[0][:60]}")
    out: dict[str, Any] = {}
    for f in form.fields:
        where = f"answers.{f.label}"
        value = answers.get(f.label)
        if isinstance(value, str):
            value = value.strip()
        got = f"got {str(value)[:60]!r}" if value not in (None, "") else "got nothing"

        def fail(rule: str, where: str = where, got: str = got) -> None:
            msg = f"{where}: {rule}; {got}."
            raise ValidationFailedError(msg, field=where)

        if f.type == "checkbox":
            if value is True or (isinstance(value, str) and value.lower() in TRUE_WORDS):
                out[f.label] = True
                continue
            fail("tick this box to agree (required)")
        if value is None or value == "" or isinstance(value, bool):
            fail("required; fill it in" if f.type != "select" else
                 "required; choose one of " + ", ".join(repr(v) for _, v in f.options))
        assert isinstance(value, str)
        if f.type == "text":
            if len(value) > MAX_ANSWER:
                fail(f"at most {MAX_ANSWER} characters", got=f"got {len(value)}")
            out[f.label] = value
        elif f.type == "date_picker":
            try:
                day = dt.date.fromisoformat(value) if DATE_RE.match(value) else None
            except ValueError:
                day = None
            if day is None:
                fail("expected a date written YYYY-MM-DD, such as 2026-01-31")
            out[f.label] = value
        elif f.type == "country":
            code = value.upper()
            if code not in COUNTRIES:
                by_name = {n.lower(): c for c, n in COUNTRIES.items()}
                code = by_name.get(value.lower(), "")
            if not code:
                fail("expected an ISO 3166 country code such as 'FR' or 'BR' (or the "
                     "country's English name)")
            out[f.label] = code
        else:  # select
            values = [v for _, v in f.options]
            if value not in values:
                fail("choose one of " + ", ".join(repr(v) for v in values))
            out[f.label] = value
    return out

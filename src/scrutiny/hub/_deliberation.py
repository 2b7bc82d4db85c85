"""The deliberation record on the web: its five kinds of rows and who may edit each.

Rows are validated with the same pydantic models as the audit config
(:class:`~scrutiny.audit.Value`, :class:`~scrutiny.audit.Conflict`,
:class:`~scrutiny.audit.Evidence`, :class:`~scrutiny.audit.ChecklistItem`,
:class:`~scrutiny.audit.SignOff`), so a record edited on the hub can be written
back into an audit config unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from scrutiny.audit._config import ChecklistItem, Conflict, Evidence, SignOff, Value
from scrutiny.hub._errors import ValidationFailedError
from scrutiny.hub._validation import _safe_text, from_validation_error

MAX_TEXT = 5000
MAX_LIST = 50
#: JSON Schema of "holds something besides whitespace" (what ``str.strip`` leaves non-empty).
FILLED = {"type": "string", "pattern": (
    "[^\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000]")}


def _date_text(value: Any) -> Any:
    if isinstance(value, str | dt.date) and not isinstance(value, dt.datetime):
        return value
    msg = "expected a date as text, YYYY-MM-DD"
    raise ValueError(msg)


#: A date given as ``YYYY-MM-DD`` text in JSON (numbers are not read as timestamps).
IsoDate = Annotated[dt.date, BeforeValidator(_date_text)]


# The JSON bodies of the API: the audit models, with their cross-field rules written into
# the JSON Schema (so clients and fuzzers know them) and dates only as text.


class ValueBody(Value):
    """A row of the values register (:class:`~scrutiny.audit.Value`)."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["metric"], "properties": {"metric": FILLED}},
        {"required": ["qualitative_check"], "properties": {"qualitative_check": FILLED}},
    ]})


class ConflictBody(Conflict):
    """A value conflict (:class:`~scrutiny.audit.Conflict`)."""

    model_config = ConfigDict(json_schema_extra={
        "if": {"required": ["decision"], "properties": {"decision": FILLED}},
        "then": {"required": ["rationale", "decided_by"],
                 "properties": {"rationale": FILLED, "decided_by": FILLED}},
    })
    decided_on: IsoDate | None = None


class EvidenceBody(Evidence):
    """Qualitative evidence (:class:`~scrutiny.audit.Evidence`)."""

    collected_on: IsoDate | None = None


class ChecklistBody(ChecklistItem):
    """A checklist answer (:class:`~scrutiny.audit.ChecklistItem`)."""

    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"status": {"const": "na"}}},
        "then": {"required": ["note"], "properties": {"note": FILLED}},
    })


@dataclass(frozen=True)
class FormField:
    """A field of a row's form: name, label, widget and choices."""

    name: str
    label: str
    widget: str = "text"  # text | textarea | lines | date | select
    choices: tuple[str, ...] = ()
    required: bool = False
    help: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON form (listed in the page data so clients can build the same form)."""
        return {"name": self.name, "label": self.label, "widget": self.widget,
                "choices": list(self.choices), "required": self.required, "help": self.help}


@dataclass(frozen=True)
class ItemKind:
    """A kind of deliberation row."""

    key: str
    segment: str
    record_key: str
    title: str
    description: str
    model: type[BaseModel]
    action: str
    fields: tuple[FormField, ...]
    noun: str = ""
    editable: bool = True
    body: type[BaseModel] | None = None
    rule_field: str | None = None


KINDS: dict[str, ItemKind] = {k.key: k for k in (
    ItemKind(
        "value", "values", "values", "Values register",
        "The values the team holds, who owns each, and how it is checked.",
        Value, "deliberation.manage",
        (FormField("name", "Value", required=True),
         FormField("description", "What it means here", "textarea"),
         FormField("owner", "Owner", required=True),
         FormField("metric", "Metric"),
         FormField("qualitative_check", "Qualitative check", "textarea",
                   help="Give a metric or a qualitative check (or both).")),
        "a value", body=ValueBody, rule_field="metric"),
    ItemKind(
        "conflict", "conflicts", "conflicts", "Value conflicts and decisions",
        "Values in tension, the options considered, what was decided, why and by whom.",
        Conflict, "deliberation.manage",
        (FormField("values", "Values in tension", "lines", required=True,
                   help="One value per line, at least two."),
         FormField("description", "The tension", "textarea", required=True),
         FormField("options", "Options considered", "lines", help="One option per line."),
         FormField("decision", "Decision", "textarea"),
         FormField("rationale", "Rationale", "textarea",
                   help="A decision needs a rationale and who decided."),
         FormField("decided_by", "Decided by"),
         FormField("decided_on", "Decided on", "date")),
        "a value conflict", body=ConflictBody, rule_field="rationale"),
    ItemKind(
        "evidence", "evidence", "evidence", "Qualitative evidence",
        "Interviews, red-team findings and stakeholder feedback, on an equal footing with "
        "the numbers.",
        Evidence, "deliberation.evidence",
        (FormField("kind", "Kind", "select", ("interview", "red_team", "stakeholder_feedback",
                                              "user_study", "other"), required=True),
         FormField("summary", "Summary", "textarea", required=True),
         FormField("source", "Source"),
         FormField("collected_on", "Collected on", "date")),
        "evidence", body=EvidenceBody),
    ItemKind(
        "checklist", "checklist", "checklist", "Checklist",
        "Every item answered in words; N/A needs a reason.",
        ChecklistItem, "deliberation.review",
        (FormField("item", "Item", required=True),
         FormField("status", "Status", "select", ("open", "done", "na"), required=True),
         FormField("note", "Note", "textarea", help="Required when the status is 'na'.")),
        "a checklist item", body=ChecklistBody, rule_field="note"),
    ItemKind(
        "signoff", "signoffs", "signoffs", "Sign-offs",
        "Named people, in named roles, signing the audit off. The hub records who signed "
        "and when; a sign-off cannot be edited, only withdrawn.",
        SignOff, "deliberation.signoff",
        (FormField("role", "Your role in this sign-off", required=True,
                   help="e.g. legal reviewer, product owner, affected-community liaison"),
         FormField("statement", "Statement", "textarea")),
        "a sign-off", editable=False),
)}
BY_SEGMENT = {k.segment: k for k in KINDS.values()}


def check_clean(value: Any, path: str) -> None:
    """Reject text that cannot be stored, over-long strings and lists, anywhere in ``value``."""
    if isinstance(value, str):
        try:
            _safe_text(value)
        except ValueError as exc:
            msg = f"{path}: {exc}."
            raise ValidationFailedError(msg, field=path) from None
        if len(value) > MAX_TEXT:
            msg = f"{path}: {len(value)} characters; at most {MAX_TEXT} are accepted."
            raise ValidationFailedError(msg, field=path)
    elif isinstance(value, list):
        if len(value) > MAX_LIST:
            msg = f"{path}: {len(value)} entries; at most {MAX_LIST} are accepted."
            raise ValidationFailedError(msg, field=path)
        for i, v in enumerate(value):
            check_clean(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            check_clean(v, f"{path}.{k}" if path else str(k))


def validate(kind: ItemKind, raw: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Validate a row with its audit model; the stored JSON form.

    Raises
    ------
    ValidationFailedError
        The row breaks a rule; the message names the field.
    """
    check_clean(raw, prefix)
    try:
        model = kind.model.model_validate(raw)
    except ValidationError as exc:
        raise from_validation_error(exc, prefix, kind.rule_field) from None
    return model.model_dump(mode="json")


def from_form(kind: ItemKind, form: Any) -> dict[str, Any]:
    """A row's fields from a submitted form (lines split, empty fields left out)."""
    raw: dict[str, Any] = {}
    for f in kind.fields:
        value = form.get(f.name) if form is not None else None
        if not isinstance(value, str):
            continue
        if f.widget == "lines":
            lines = [line.strip() for line in value.splitlines() if line.strip()]
            if lines:
                raw[f.name] = lines
        elif value.strip():
            raw[f.name] = value.strip()
    return raw


def signoff_data(role: str, statement: str | None, name: str) -> dict[str, Any]:
    """A sign-off's stored fields: the signer's name and today's date are the hub's."""
    raw = {"role": role, "name": name, "signed_on": dt.date.today().isoformat()}
    if statement:
        raw["statement"] = statement
    return validate(KINDS["signoff"], raw)


def summarise(kind: ItemKind, data: dict[str, Any]) -> str:
    """A one-line description of a row for the activity log."""
    head = {
        "value": data.get("name"), "conflict": " vs ".join(data.get("values") or []),
        "evidence": data.get("summary"), "checklist": data.get("item"),
        "signoff": f"{data.get('name')} as {data.get('role')}",
    }.get(kind.key)
    text = str(head or "")
    return text if len(text) <= 120 else text[:117] + "..."

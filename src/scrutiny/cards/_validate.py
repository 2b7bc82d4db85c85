"""``validate_card``: check a card offline against the Hub's specification and templates.

Errors are what the Hub would reject or what breaks readers (invalid YAML, an
unknown licence id, a malformed ``model-index``, a required eval field
missing). Warnings are what a reviewer should look at (no licence, no
``library_name``, a RAIL licence without its restrictions in "Out-of-Scope
Use", an unknown task id). Sections that still hold the templates'
placeholder text are counted, and the share of required sections filled in is
the card's completeness score.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrutiny.cards._base import validation_problems
from scrutiny.cards._licenses import LICENSES
from scrutiny.cards._metadata import DatasetCardMetadata, ModelCardMetadata
from scrutiny.cards._schema import DatasetCard, ModelCard
from scrutiny.cards._sections import (
    REGISTRY,
    TITLE_PREFIX,
    is_placeholder,
    split_body,
    strip_comments,
)
from scrutiny.cards._tags import NFAA_TAG, normalize_tags
from scrutiny.exceptions import ConfigError, InvalidParameterError

__all__ = ["CardIssue", "CardReport", "SectionStatus", "validate_card"]

#: Hub task ids accepted as ``pipeline_tag`` and ``task_categories`` without a warning.
TASK_IDS = frozenset({
    "text-classification", "token-classification", "table-question-answering",
    "question-answering", "zero-shot-classification", "translation", "summarization",
    "feature-extraction", "text-generation", "text2text-generation", "fill-mask",
    "sentence-similarity", "text-to-speech", "text-to-audio", "automatic-speech-recognition",
    "audio-to-audio", "audio-classification", "audio-text-to-text", "voice-activity-detection",
    "depth-estimation", "image-classification", "object-detection", "image-segmentation",
    "text-to-image", "image-to-text", "image-to-image", "image-to-video",
    "unconditional-image-generation", "video-classification", "reinforcement-learning",
    "robotics", "tabular-classification", "tabular-regression", "tabular-to-text",
    "table-to-text", "multiple-choice", "text-ranking", "text-retrieval",
    "time-series-forecasting", "text-to-video", "image-text-to-text",
    "visual-question-answering", "document-question-answering",
    "zero-shot-image-classification", "graph-ml", "mask-generation",
    "zero-shot-object-detection", "text-to-3d", "image-to-3d", "image-feature-extraction",
    "video-text-to-text", "keypoint-detection", "visual-document-retrieval", "any-to-any",
    "video-to-video", "other",
})
#: Keys the Hub reads that scrutiny's metadata models do not model field by field.
OTHER_HUB_KEYS = frozenset({
    "widget", "inference", "model_name", "model_creator", "model_type", "quantized_by",
    "prompt_template", "extra_gated_eu_disallowed", "co2_eq_emissions", "arxiv",
    "train-eval-index", "viewer", "duplicated_from", "config_names",
})
_SPECIAL_LANGUAGES = frozenset({"multilingual", "code", "und", "other"})
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_DATASET_KEYS = frozenset({"pretty_name", "size_categories", "task_categories", "task_ids",
                           "annotations_creators", "language_creators", "multilinguality",
                           "source_datasets", "configs", "dataset_info", "paperswithcode_id"})


@dataclass(frozen=True)
class CardIssue:
    """One problem found in a card.

    Parameters
    ----------
    severity : {"error", "warning"}
        Errors make ``scrutiny card validate`` exit with status 1.
    field : str
        Where: a metadata path such as ``model-index[0].results[0].metrics[0].value``,
        or a section title.
    message : str
        What is wrong and how to fix it.
    """

    severity: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


@dataclass(frozen=True)
class SectionStatus:
    """Whether one section of the template is present and filled in.

    Parameters
    ----------
    key : str
        The section's field on :class:`ModelCard` / :class:`DatasetCard`,
        such as ``uses.out_of_scope_use``.
    title : str
        The heading.
    optional : bool
        Marked ``[optional]`` in the Hub's template; not counted in the score.
    present : bool
        The heading is in the card.
    placeholder : bool
        The section is missing or holds only placeholder text, comments and
        empty facts.
    """

    key: str
    title: str
    optional: bool
    present: bool
    placeholder: bool


@dataclass
class CardReport:
    """What :func:`validate_card` found.

    Parameters
    ----------
    kind : {"model", "dataset"}
        The kind of card checked.
    issues : list of CardIssue
        Errors and warnings, errors first.
    sections : list of SectionStatus
        One entry per section of the template that holds content.
    """

    kind: str
    issues: list[CardIssue] = field(default_factory=list)
    sections: list[SectionStatus] = field(default_factory=list)

    @property
    def errors(self) -> list[CardIssue]:
        """The issues with severity ``error``."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[CardIssue]:
        """The issues with severity ``warning``."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings and placeholders allowed)."""
        return not self.errors

    @property
    def required_sections(self) -> list[SectionStatus]:
        """The sections counted in the completeness score (not ``[optional]``)."""
        return [s for s in self.sections if not s.optional]

    @property
    def placeholders(self) -> list[str]:
        """Titles of the required sections still holding placeholder text."""
        return [s.title for s in self.required_sections if s.placeholder]

    @property
    def completeness(self) -> float:
        """The share of required sections filled in, from 0 to 1."""
        required = self.required_sections
        if not required:
            return 1.0
        return sum(not s.placeholder for s in required) / len(required)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (for JSON output).

        Returns
        -------
        dict
            ``kind``, ``ok``, ``completeness``, ``errors``, ``warnings``,
            ``placeholders`` and ``sections``.
        """
        return {
            "kind": self.kind,
            "ok": self.ok,
            "completeness": round(self.completeness, 4),
            "errors": [{"field": i.field, "message": i.message} for i in self.errors],
            "warnings": [{"field": i.field, "message": i.message} for i in self.warnings],
            "placeholders": self.placeholders,
            "sections": [s.__dict__ for s in self.sections],
        }

    def format(self) -> str:
        """The report as text for a terminal.

        Returns
        -------
        str
            Errors, warnings, the completeness score and the sections still to
            fill in.
        """
        lines = []
        if self.errors:
            lines.append(f"Errors ({len(self.errors)}):")
            lines += [f"  - {i}" for i in self.errors]
        if self.warnings:
            lines.append(f"Warnings ({len(self.warnings)}):")
            lines += [f"  - {i}" for i in self.warnings]
        required = self.required_sections
        filled = sum(not s.placeholder for s in required)
        lines.append(
            f"Completeness: {self.completeness:.0%} ({filled} of {len(required)} required "
            "sections filled in)"
        )
        if self.placeholders:
            lines.append("Still to fill in: " + ", ".join(self.placeholders))
        lines.append("Metadata: " + ("valid" if self.ok else "INVALID"))
        return "\n".join(lines)


def _guess_kind(meta: dict[str, Any], body: str) -> str:
    for line in body.split("\n"):
        if line.startswith("# "):
            title = line[2:].strip().lower()
            if title.startswith(TITLE_PREFIX["dataset"].lower()):
                return "dataset"
            if title.startswith(TITLE_PREFIX["model"].lower()):
                return "model"
            break
    return "dataset" if _DATASET_KEYS & set(meta) else "model"


def _split(problem: str) -> tuple[str, str]:
    if ": " in problem:
        path, message = problem.split(": ", 1)
        if " " not in path:
            return path, message
    return "", problem


def _check_metadata(kind: str, meta: dict[str, Any], issues: list[CardIssue]) -> None:
    cls = ModelCardMetadata if kind == "model" else DatasetCardMetadata
    for problem in validation_problems(cls, meta):
        issues.append(CardIssue("error", *_split(problem)))

    def warn(where: str, message: str) -> None:
        issues.append(CardIssue("warning", where, message))

    known = {f.alias or name for name, f in cls.model_fields.items()} | set(cls.model_fields)
    for key in meta:
        if key not in known and key not in OTHER_HUB_KEYS:
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            warn(key, f"is not a metadata key of the Hub's {kind} card specification.{hint}")
    lic = meta.get("license")
    ids = lic if isinstance(lic, list) else [lic] if lic is not None else []
    if not ids:
        warn("license", "no licence is given: nobody can tell what is allowed. Add a Hub "
             "licence id (see scrutiny.cards.LICENSES), or 'unknown'.")
    if "other" in ids and not meta.get("license_link"):
        warn("license_link", "license is 'other' but no license_link points to its text; "
             "add a URL or LICENSE (a file in the repository).")
    if "other" not in ids and (meta.get("license_name") or meta.get("license_link")):
        warn("license_name", "license_name and license_link are read only when license is "
             "'other'; remove them or set license: other.")
    name = meta.get("license_name")
    if isinstance(name, str) and not _SLUG.match(name):
        warn("license_name", f"{name!r} should be a short id (lowercase letters, digits, "
             "'-', '.', '_'), such as 'my-licence-1.0'.")
    langs = meta.get("language")
    for i, code in enumerate([langs] if isinstance(langs, str) else langs or []):
        if isinstance(code, str) and not (_LANGUAGE.match(code) or code in _SPECIAL_LANGUAGES):
            warn(f"language[{i}]", f"{code!r} is not an ISO 639-1, 639-2 or 639-3 code "
                 "(two or three lowercase letters) nor 'multilingual' or 'code'.")
    tags = meta.get("tags")
    if isinstance(tags, list | str):
        raw = [tags] if isinstance(tags, str) else tags
        for i, tag in enumerate(raw):
            if isinstance(tag, str) and tag.strip() and tag != NFAA_TAG and normalize_tags(
                    [tag]) == [NFAA_TAG]:
                warn(f"tags[{i}]", f"{tag!r} is written {NFAA_TAG!r} by the Hub; scrutiny "
                     "normalises it when it writes the card.")
    if kind == "model":
        if not meta.get("library_name"):
            warn("library_name", "no library_name: the Hub no longer infers it for new "
                 "repositories. Add the library that loads the model (such as 'sklearn').")
        tag = meta.get("pipeline_tag")
        if isinstance(tag, str) and tag not in TASK_IDS:
            warn("pipeline_tag", f"{tag!r} is not a Hub task id; filters and widgets will "
                 "ignore it.")
        if meta.get("base_model_relation") == "merge" and isinstance(meta.get("base_model"),
                                                                     str):
            warn("base_model", "a merge usually lists several base models; give them as a "
                 "list.")
        index = meta.get("model-index")
        if isinstance(index, list):
            if len(index) > 1:
                warn("model-index", f"has {len(index)} entries; the Hub and huggingface_hub "
                     "read one model name, so keep one entry with all the results.")
            seen: dict[tuple[Any, ...], str] = {}
            for i, entry in enumerate(index):
                results = entry.get("results") if isinstance(entry, dict) else None
                for j, res in enumerate(results if isinstance(results, list) else []):
                    if not isinstance(res, dict):
                        continue
                    where = f"model-index[{i}].results[{j}]"
                    ds = res.get("dataset") if isinstance(res.get("dataset"), dict) else {}
                    task = res.get("task") if isinstance(res.get("task"), dict) else {}
                    dtype = ds.get("type")
                    if isinstance(dtype, str) and " " in dtype:
                        warn(f"{where}.dataset.type",
                             f"{dtype!r} should be a Hub dataset id (no spaces).")
                    key = (task.get("type"), dtype, ds.get("config"), ds.get("split"),
                           ds.get("revision"))
                    if key in seen:
                        warn(where, f"has the same task, dataset, config, split and revision "
                             f"as {seen[key]}; huggingface_hub merges such results when it "
                             "rewrites the card. Put their metrics in one result.")
                    seen.setdefault(key, where)
    else:
        if not meta.get("size_categories"):
            warn("size_categories", "no size category; add one such as '10K<n<100K'.")
        cats = meta.get("task_categories")
        for i, cat in enumerate([cats] if isinstance(cats, str) else cats or []):
            if isinstance(cat, str) and cat not in TASK_IDS:
                warn(f"task_categories[{i}]", f"{cat!r} is not a Hub task id.")


def validate_card(
    card: str | os.PathLike[str] | ModelCard | DatasetCard,
    *,
    kind: str | None = None,
) -> CardReport:
    """Check a card offline: metadata against the Hub's spec, sections for placeholders.

    Parameters
    ----------
    card : str, path-like, ModelCard or DatasetCard
        The card's text (the content of ``README.md``), a path to it, or a
        card object.
    kind : {"model", "dataset"}, default=None
        The kind of card; guessed from the title ("Model Card for ...") or
        the metadata keys when None.

    Returns
    -------
    CardReport
        The errors (invalid YAML, unknown licence id, malformed
        ``model-index``, missing required eval fields...), the warnings, and
        the status of each section, from which the completeness score is
        computed.

    Raises
    ------
    InvalidParameterError
        ``kind`` is not ``"model"`` or ``"dataset"``, or the path cannot be read.

    See Also
    --------
    ModelCard.validate_card : the same check on a card object.

    Examples
    --------
    >>> from scrutiny.cards import ModelCard, validate_card
    >>> report = validate_card(ModelCard(model_id="m", metadata={"license": "mit"}).to_markdown())
    >>> report.ok, report.completeness
    (True, 0.0)
    """
    if isinstance(card, ModelCard | DatasetCard):
        kind = kind or card.kind
        text = card.to_markdown()
    elif isinstance(card, os.PathLike):
        try:
            text = Path(card).read_text(encoding="utf-8")
        except OSError as exc:
            msg = f"card: {os.fspath(card)!r} cannot be read ({exc.strerror or exc})."
            raise InvalidParameterError(msg) from None
    elif isinstance(card, str):
        text = card
    else:
        raise InvalidParameterError.from_value(
            "card", "validate_card", "the card's text, a path, or a ModelCard / DatasetCard",
            type(card).__name__)
    if kind is not None and kind not in REGISTRY:
        raise InvalidParameterError.from_value(
            "kind", "validate_card", "'model', 'dataset' or None", kind)
    from scrutiny.cards._render import FRONT_MATTER, split_front_matter

    issues: list[CardIssue] = []
    try:
        meta, body = split_front_matter(text)
    except ConfigError as exc:
        meta, body = {}, text
        m = FRONT_MATTER.search(text)
        if m:
            body = text[m.end():]
        issues.append(CardIssue("error", *_split(str(exc))))
    else:
        if not FRONT_MATTER.search(text):
            issues.append(CardIssue("warning", "metadata", "the card has no YAML metadata "
                                    "block between --- lines at the top; the Hub shows a "
                                    "warning and cannot filter or gate the repository."))
    kind = kind or _guess_kind(meta, body)
    if meta or FRONT_MATTER.search(text):
        _check_metadata(kind, meta, issues)
    title, _, chunks = split_body(body, kind)
    if title is None:
        issues.append(CardIssue("warning", "title", f"no level-1 title such as "
                                f"'# {TITLE_PREFIX[kind]}NAME'."))
    sections = []
    for spec in REGISTRY[kind]:
        if not spec.holds_content:
            continue
        present = spec in chunks
        placeholder = not present or is_placeholder(spec, chunks[spec])
        sections.append(SectionStatus(spec.key, spec.title, spec.optional, present,
                                      placeholder))
        if not present and not spec.optional:
            issues.append(CardIssue("warning", spec.title, "this section of the Hub's "
                                    "template is missing; add its heading and fill it in."))
    _check_rail(meta, chunks, kind, issues)
    issues.sort(key=lambda i: i.severity != "error")
    return CardReport(kind, issues, sections)


def _check_rail(meta: dict[str, Any], chunks: dict[Any, str], kind: str,
                issues: list[CardIssue]) -> None:
    lic = meta.get("license")
    ids = lic if isinstance(lic, list) else [lic]
    rail = [LICENSES[i] for i in ids if isinstance(i, str) and i in LICENSES
            and LICENSES[i].is_rail]
    if not rail:
        return
    out_of_scope = next((strip_comments(text) for spec, text in chunks.items()
                         if spec.title == "Out-of-Scope Use"), "")
    for lic in rail:
        if lic.id not in out_of_scope and "restriction" not in out_of_scope.lower():
            issues.append(CardIssue(
                "warning", "Out-of-Scope Use",
                f"the {kind} is licensed under {lic.id}, a RAIL licence whose use restrictions "
                "bind every user and derivative; list them under Out-of-Scope Use "
                "(scrutiny.cards.get_license(...).use_restrictions has them)."))

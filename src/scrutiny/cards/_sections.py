"""The section layout of the Hub's model and dataset card templates.

One registry per card kind drives rendering, parsing and validation, so the
three always agree: each entry is a heading (level and title), the object that
holds its text (a path of attribute names on the card), the attribute with
its free text, and one-line "bullet" facts (``- **Developed by:** ...``).
Headings without a text attribute or bullets only group their subsections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: A bullet whose value comes from the card's metadata, not from a section field.
META = "@meta"


@dataclass(frozen=True)
class SectionSpec:
    """One heading of a card template."""

    level: int
    title: str
    owner: tuple[str, ...] = ()
    text: str | None = None
    bullets: tuple[tuple[str, str], ...] = ()
    optional: bool = False

    @property
    def holds_content(self) -> bool:
        """Whether the section has its own text or facts (not only subsections)."""
        return self.text is not None or any(attr != META for attr, _ in self.bullets)

    @property
    def key(self) -> str:
        """A stable id such as ``uses.out_of_scope_use`` (or the title for groups)."""
        if self.text is not None:
            return ".".join((*self.owner, self.text))
        if self.bullets:
            return ".".join((*self.owner, self.bullets[0][0]))
        return self.title


S = SectionSpec

MODEL_SECTIONS: tuple[SectionSpec, ...] = (
    S(2, "Model Details"),
    S(3, "Model Description", ("details",), "description", (
        ("developed_by", "Developed by"), ("funded_by", "Funded by"),
        ("shared_by", "Shared by"), ("model_type", "Model type"),
        (META + ":language", "Language(s)"), (META + ":license", "License"),
        ("finetuned_from", "Finetuned from model"))),
    S(3, "Model Sources", ("details",), None, (
        ("repository", "Repository"), ("paper", "Paper"), ("demo", "Demo")), optional=True),
    S(2, "Uses"),
    S(3, "Direct Use", ("uses",), "direct_use"),
    S(3, "Downstream Use", ("uses",), "downstream_use", optional=True),
    S(3, "Out-of-Scope Use", ("uses",), "out_of_scope_use"),
    S(2, "Bias, Risks, and Limitations", ("bias",), "description"),
    S(3, "Recommendations", ("bias",), "recommendations"),
    S(2, "How to Get Started with the Model", (), "how_to_get_started"),
    S(2, "Training Details"),
    S(3, "Training Data", ("training",), "data"),
    S(3, "Training Procedure", ("training",), "procedure", optional=True),
    S(4, "Preprocessing", ("training",), "preprocessing", optional=True),
    S(4, "Training Hyperparameters", ("training",), "hyperparameters"),
    S(4, "Speeds, Sizes, Times", ("training",), "speeds_sizes_times", optional=True),
    S(2, "Evaluation"),
    S(3, "Testing Data, Factors & Metrics"),
    S(4, "Testing Data", ("evaluation",), "testing_data"),
    S(4, "Factors", ("evaluation",), "factors"),
    S(4, "Metrics", ("evaluation",), "metrics"),
    S(3, "Results", ("evaluation",), "results"),
    S(4, "Summary", ("evaluation",), "summary"),
    S(2, "Model Examination", (), "model_examination", optional=True),
    S(2, "Environmental Impact", ("environmental_impact",), "notes", (
        ("hardware_type", "Hardware Type"), ("hours_used", "Hours used"),
        ("cloud_provider", "Cloud Provider"), ("compute_region", "Compute Region"),
        ("carbon_emitted", "Carbon Emitted"))),
    S(2, "Technical Specifications", optional=True),
    S(3, "Model Architecture and Objective", ("technical_specifications",), "architecture",
      optional=True),
    S(3, "Compute Infrastructure", ("technical_specifications",), "compute_infrastructure",
      optional=True),
    S(4, "Hardware", ("technical_specifications",), "hardware", optional=True),
    S(4, "Software", ("technical_specifications",), "software", optional=True),
    S(2, "Citation", (), "citation", optional=True),
    S(2, "Glossary", (), "glossary", optional=True),
    S(2, "More Information", (), "more_information", optional=True),
    S(2, "Model Card Authors", (), "card_authors", optional=True),
    S(2, "Model Card Contact", (), "contact"),
)

DATASET_SECTIONS: tuple[SectionSpec, ...] = (
    S(2, "Dataset Details"),
    S(3, "Dataset Description", ("details",), "description", (
        ("curated_by", "Curated by"), ("funded_by", "Funded by"), ("shared_by", "Shared by"),
        (META + ":language", "Language(s)"), (META + ":license", "License"))),
    S(3, "Dataset Sources", ("details",), None, (
        ("repository", "Repository"), ("paper", "Paper"), ("demo", "Demo")), optional=True),
    S(2, "Uses"),
    S(3, "Direct Use", ("uses",), "direct_use"),
    S(3, "Out-of-Scope Use", ("uses",), "out_of_scope_use"),
    S(2, "Dataset Structure", (), "structure"),
    S(2, "Dataset Creation"),
    S(3, "Curation Rationale", ("creation",), "curation_rationale"),
    S(3, "Source Data"),
    S(4, "Data Collection and Processing", ("creation",), "collection_and_processing"),
    S(4, "Who are the source data producers?", ("creation",), "source_data_producers"),
    S(3, "Annotations", optional=True),
    S(4, "Annotation process", ("creation",), "annotation_process", optional=True),
    S(4, "Who are the annotators?", ("creation",), "annotators", optional=True),
    S(4, "Personal and Sensitive Information", ("creation",),
      "personal_and_sensitive_information"),
    S(2, "Bias, Risks, and Limitations", ("bias",), "description"),
    S(3, "Recommendations", ("bias",), "recommendations"),
    S(2, "Citation", (), "citation", optional=True),
    S(2, "Glossary", (), "glossary", optional=True),
    S(2, "More Information", (), "more_information", optional=True),
    S(2, "Dataset Card Authors", (), "card_authors", optional=True),
    S(2, "Dataset Card Contact", (), "contact"),
)

REGISTRY = {"model": MODEL_SECTIONS, "dataset": DATASET_SECTIONS}
TITLE_PREFIX = {"model": "Model Card for ", "dataset": "Dataset Card for "}

PLACEHOLDER = "[More Information Needed]"
# CommonMark: an optional closing run of '#' must follow a space ("C#" keeps its '#')
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_COMMENT = re.compile(r"<!--[\s\S]*?-->")
_BULLET = re.compile(r"^[-*][ \t]+\*\*(.+?):?\*\*:?[ \t]*(.*)$")


def norm_title(title: str) -> str:
    """A heading's title for matching: no ``[optional]``, no case, single spaces."""
    title = re.sub(r"\[optional\]|\(NLP\)", "", title, flags=re.IGNORECASE)
    return " ".join(title.replace("’", "'").split()).lower().rstrip(":")


def heading(line: str) -> tuple[int, str] | None:
    """The level and title of a Markdown ATX heading line, or None."""
    m = _HEADING.match(line)
    return (len(m.group(1)), m.group(2)) if m else None


def split_body(body: str, kind: str) -> tuple[str | None, str, dict[SectionSpec, str]]:
    """Split a card's Markdown into its title, the text under it and each known section.

    Only headings of the template (title and level) start a section; any
    other heading, and headings inside code fences, stay in the text of the
    section above. Text under a heading with no content of its own is dropped.
    """
    specs = {(s.level, norm_title(s.title)): s for s in REGISTRY[kind]}
    title: str | None = None
    summary: list[str] = []
    current: SectionSpec | None = None
    chunks: dict[SectionSpec, list[str]] = {}
    in_fence = False
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        h = None if in_fence else heading(line)
        if h is not None and h[0] == 1 and title is None and current is None:
            title = h[1].strip()
            continue
        if h is not None and (h[0], norm_title(h[1])) in specs:
            current = specs[(h[0], norm_title(h[1]))]
            chunks.setdefault(current, [])
            continue
        if current is None:
            summary.append(line)
        else:
            chunks[current].append(line)
    return title, "\n".join(summary), {s: "\n".join(lines) for s, lines in chunks.items()}


def strip_comments(text: str) -> str:
    """Remove HTML comments (the template's guidance) from Markdown."""
    return _COMMENT.sub("", text)


def split_bullets(spec: SectionSpec, text: str) -> tuple[str, dict[str, str | None]]:
    """Separate a section's known one-line facts from its free text."""
    labels = {norm_title(label): attr for attr, label in spec.bullets}
    facts: dict[str, str | None] = {}
    rest: list[str] = []
    for line in text.split("\n"):
        m = _BULLET.match(line.strip()) if spec.bullets else None
        if m and norm_title(m.group(1)) in labels:
            value = m.group(2).strip()
            facts[labels[norm_title(m.group(1))]] = None if value in ("", PLACEHOLDER) else value
        else:
            rest.append(line)
    return "\n".join(rest), facts


# Sentences the Hub's templates write by default: they do not fill a section.
_BOILERPLATE = (
    "Users (both direct and downstream) should be made aware of the risks, biases and "
    "limitations of the model. More information needed for further recommendations.",
    "Users should be made aware of the risks, biases and limitations of the dataset. More "
    "information needed for further recommendations.",
    "Use the code below to get started with the model.",
    "Carbon emissions can be estimated using the [Machine Learning Impact calculator]"
    "(https://mlco2.github.io/impact#compute) presented in [Lacoste et al. (2019)]"
    "(https://arxiv.org/abs/1910.09700).",
)
_LABEL_LINE = re.compile(r"^\*\*[^*]+\*\*:?$")


def is_placeholder(spec: SectionSpec, text: str) -> bool:
    """Whether a section holds nothing but comments, placeholders and empty facts."""
    rest, facts = split_bullets(spec, strip_comments(text))
    filled = [v for attr, v in facts.items() if v is not None and not attr.startswith(META)]
    for sentence in _BOILERPLATE:
        rest = rest.replace(sentence, "")
    lines = []
    for line in rest.split("\n"):
        m = _BULLET.match(line.strip())
        if m and m.group(2).strip() in ("", PLACEHOLDER):
            continue  # a fact of the template left empty, such as "Training regime"
        lines.append(line.replace(PLACEHOLDER, "").strip())
    remaining = [ln for ln in lines if ln and not _LABEL_LINE.match(ln)]
    return not filled and not remaining

"""Pydantic models of Hugging Face Hub model and dataset cards.

A card is a ``README.md``: YAML metadata between ``---`` lines (see
:mod:`scrutiny.cards._metadata`), then Markdown sections. The section models
follow the Hub's card templates, one text field per section. Text that is
None is rendered as ``[More Information Needed]``, which ``scrutiny card
validate`` counts as a section still to fill.

Invalid values raise :class:`~scrutiny.exceptions.ConfigError` with the path
of the field, what was received and how to fix it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, ValidationInfo, field_validator

from scrutiny.cards._base import _clean_line, _clean_text, _Model, _short
from scrutiny.cards._metadata import DatasetCardMetadata, ModelCardMetadata

if TYPE_CHECKING:
    from scrutiny.cards._validate import CardReport

__all__ = [
    "BiasRisksLimitations",
    "DatasetCard",
    "DatasetCreation",
    "DatasetDetails",
    "DatasetUses",
    "EnvironmentalImpact",
    "Evaluation",
    "ModelCard",
    "ModelDetails",
    "ModelUses",
    "TechnicalSpecifications",
    "TrainingDetails",
]


class _Section(_Model):
    """Section texts: Markdown, stripped; None (or the placeholder) means not filled in."""

    _LINES: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _clean(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name in cls._LINES:
            return _clean_line(value)
        return _clean_text(value)


class ModelDetails(_Section):
    """The "Model Details" section.

    Attributes
    ----------
    description : str, default=None
        What the model is and does ("Model Description").
    developed_by, funded_by, shared_by, model_type, finetuned_from : str, default=None
        One-line facts listed under the description.
    repository, paper, demo : str, default=None
        Links listed under "Model Sources".

    Notes
    -----
    The language and licence lines of the description are written from the
    card's metadata.
    """

    _LINES: ClassVar[frozenset[str]] = frozenset({
        "developed_by", "funded_by", "shared_by", "model_type", "finetuned_from",
        "repository", "paper", "demo"})

    description: str | None = None
    developed_by: str | None = None
    funded_by: str | None = None
    shared_by: str | None = None
    model_type: str | None = None
    finetuned_from: str | None = None
    repository: str | None = None
    paper: str | None = None
    demo: str | None = None


class ModelUses(_Section):
    """The "Uses" section of a model card.

    Attributes
    ----------
    direct_use : str, default=None
        Use without fine-tuning or plugging into a larger system.
    downstream_use : str, default=None
        Use when fine-tuned or part of a larger system.
    out_of_scope_use : str, default=None
        Misuse, malicious use and uses the model will not work well for
        (including the restrictions of RAIL licences upstream).
    """

    direct_use: str | None = None
    downstream_use: str | None = None
    out_of_scope_use: str | None = None


class BiasRisksLimitations(_Section):
    """The "Bias, Risks, and Limitations" section and its "Recommendations".

    Attributes
    ----------
    description : str, default=None
        Known technical and sociotechnical limitations.
    recommendations : str, default=None
        What users should do about them.
    """

    description: str | None = None
    recommendations: str | None = None


class TrainingDetails(_Section):
    """The "Training Details" section.

    Attributes
    ----------
    data : str, default=None
        "Training Data": what the model learned from, with data-quality findings.
    procedure : str, default=None
        "Training Procedure".
    preprocessing : str, default=None
        "Preprocessing".
    hyperparameters : str, default=None
        "Training Hyperparameters" (the training regime).
    speeds_sizes_times : str, default=None
        "Speeds, Sizes, Times".
    """

    data: str | None = None
    procedure: str | None = None
    preprocessing: str | None = None
    hyperparameters: str | None = None
    speeds_sizes_times: str | None = None


class Evaluation(_Section):
    """The "Evaluation" section.

    Attributes
    ----------
    testing_data : str, default=None
        What the model was evaluated on.
    factors : str, default=None
        The axes the evaluation is disaggregated by (sensitive features and
        their groups).
    metrics : str, default=None
        Which metrics, and why.
    results : str, default=None
        The results, per group.
    summary : str, default=None
        The results in a few sentences.
    """

    testing_data: str | None = None
    factors: str | None = None
    metrics: str | None = None
    results: str | None = None
    summary: str | None = None


class EnvironmentalImpact(_Section):
    """The "Environmental Impact" section.

    Attributes
    ----------
    notes : str, default=None
        Free text (for example how the numbers were estimated).
    hardware_type, hours_used, cloud_provider, compute_region, carbon_emitted : str, default=None
        One-line facts.
    """

    _LINES: ClassVar[frozenset[str]] = frozenset({
        "hardware_type", "hours_used", "cloud_provider", "compute_region", "carbon_emitted"})

    notes: str | None = None
    hardware_type: str | None = None
    hours_used: str | None = None
    cloud_provider: str | None = None
    compute_region: str | None = None
    carbon_emitted: str | None = None


class TechnicalSpecifications(_Section):
    """The "Technical Specifications" section.

    Attributes
    ----------
    architecture : str, default=None
        "Model Architecture and Objective".
    compute_infrastructure : str, default=None
        "Compute Infrastructure".
    hardware : str, default=None
        "Hardware".
    software : str, default=None
        "Software".
    """

    architecture: str | None = None
    compute_infrastructure: str | None = None
    hardware: str | None = None
    software: str | None = None


class DatasetDetails(_Section):
    """The "Dataset Details" section.

    Attributes
    ----------
    description : str, default=None
        What the data is ("Dataset Description").
    curated_by, funded_by, shared_by : str, default=None
        One-line facts listed under the description.
    repository, paper, demo : str, default=None
        Links listed under "Dataset Sources".
    """

    _LINES: ClassVar[frozenset[str]] = frozenset({
        "curated_by", "funded_by", "shared_by", "repository", "paper", "demo"})

    description: str | None = None
    curated_by: str | None = None
    funded_by: str | None = None
    shared_by: str | None = None
    repository: str | None = None
    paper: str | None = None
    demo: str | None = None


class DatasetUses(_Section):
    """The "Uses" section of a dataset card.

    Attributes
    ----------
    direct_use : str, default=None
        What the data suits.
    out_of_scope_use : str, default=None
        Misuse, malicious use and uses the data will not work well for.
    """

    direct_use: str | None = None
    out_of_scope_use: str | None = None


class DatasetCreation(_Section):
    """The "Dataset Creation" section.

    Attributes
    ----------
    curation_rationale : str, default=None
        Why the data was put together.
    collection_and_processing : str, default=None
        "Data Collection and Processing".
    source_data_producers : str, default=None
        "Who are the source data producers?", with their demographics where known.
    annotation_process : str, default=None
        How labels were produced.
    annotators : str, default=None
        "Who are the annotators?".
    personal_and_sensitive_information : str, default=None
        Sensitive attributes and personal data in the data, and any anonymisation.
    """

    curation_rationale: str | None = None
    collection_and_processing: str | None = None
    source_data_producers: str | None = None
    annotation_process: str | None = None
    annotators: str | None = None
    personal_and_sensitive_information: str | None = None


def _title_line(value: Any, what: str) -> Any:
    if not isinstance(value, str) or not " ".join(value.split()):
        msg = f"must be a non-empty one-line {what}, got {_short(value)}"
        raise ValueError(msg)
    return " ".join(value.split())


class _Card(_Model):
    """Methods shared by model and dataset cards."""

    kind: ClassVar[str] = ""

    def to_markdown(self) -> str:
        """The card as a Hub ``README.md``: YAML metadata, then the Markdown sections.

        Returns
        -------
        str
            The file's text.
        """
        from scrutiny.cards._render import render_markdown

        return render_markdown(self)

    def to_html(self) -> str:
        """The card as one self-contained HTML page (inline CSS, no script, no fetch).

        Returns
        -------
        str
            The page, with the metadata, licence notes, sections and the
            completeness score.
        """
        from scrutiny.cards._render import render_html

        return render_html(self)

    def validate_card(self) -> CardReport:
        """Check the card as ``scrutiny card validate`` would (metadata, placeholders).

        Returns
        -------
        CardReport
            Errors, warnings and the completeness score.
        """
        from scrutiny.cards._validate import validate_card

        return validate_card(self.to_markdown(), kind=self.kind)

    def save(self, path: str | Path) -> Path:
        """Write the card: ``.html`` files get the HTML view, anything else the Markdown.

        Parameters
        ----------
        path : str or Path
            Where to write, such as ``README.md`` or ``card.html``.

        Returns
        -------
        Path
            The path written.
        """
        p = Path(path)
        text = self.to_html() if p.suffix.lower() in (".html", ".htm") else self.to_markdown()
        if p.parent and not p.parent.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        return p


class ModelCard(_Card):
    """A model card: the Hub's metadata plus the sections of its model card template.

    Build one by hand, from an audit with :func:`model_card_from_audit`, or
    from an existing ``README.md`` with :meth:`from_markdown`.

    Attributes
    ----------
    model_id : str
        The model's name, used in the title "Model Card for ...".
    metadata : ModelCardMetadata or dict, default=ModelCardMetadata()
        The YAML metadata.
    summary : str, default=None
        A short summary under the title.
    details : ModelDetails, default=ModelDetails()
    uses : ModelUses, default=ModelUses()
    bias : BiasRisksLimitations, default=BiasRisksLimitations()
    how_to_get_started : str, default=None
    training : TrainingDetails, default=TrainingDetails()
    evaluation : Evaluation, default=Evaluation()
    model_examination : str, default=None
    environmental_impact : EnvironmentalImpact, default=EnvironmentalImpact()
    technical_specifications : TechnicalSpecifications, default=TechnicalSpecifications()
    citation, glossary, more_information, card_authors, contact : str, default=None
        The closing sections.

    Examples
    --------
    >>> from scrutiny.cards import ModelCard
    >>> card = ModelCard(model_id="income-lr", metadata={"license": "mit"})
    >>> card.to_markdown().splitlines()[:3]
    ['---', 'license: mit', '---']
    >>> ModelCard.from_markdown(card.to_markdown()) == card
    True
    """

    kind: ClassVar[str] = "model"

    model_id: str
    metadata: ModelCardMetadata = Field(default_factory=ModelCardMetadata)
    summary: str | None = None
    details: ModelDetails = Field(default_factory=ModelDetails)
    uses: ModelUses = Field(default_factory=ModelUses)
    bias: BiasRisksLimitations = Field(default_factory=BiasRisksLimitations)
    how_to_get_started: str | None = None
    training: TrainingDetails = Field(default_factory=TrainingDetails)
    evaluation: Evaluation = Field(default_factory=Evaluation)
    model_examination: str | None = None
    environmental_impact: EnvironmentalImpact = Field(default_factory=EnvironmentalImpact)
    technical_specifications: TechnicalSpecifications = Field(
        default_factory=TechnicalSpecifications)
    citation: str | None = None
    glossary: str | None = None
    more_information: str | None = None
    card_authors: str | None = None
    contact: str | None = None

    @field_validator("model_id", mode="before")
    @classmethod
    def _title(cls, value: Any) -> Any:
        return _title_line(value, "model name")

    @field_validator(
        "summary", "how_to_get_started", "model_examination", "citation", "glossary",
        "more_information", "card_authors", "contact", mode="before",
    )
    @classmethod
    def _texts(cls, value: Any) -> Any:
        return _clean_text(value)

    @classmethod
    def from_markdown(cls, text: str) -> ModelCard:
        """Parse a model card ``README.md`` written by scrutiny or from the Hub's template.

        Parameters
        ----------
        text : str
            The file's text.

        Returns
        -------
        ModelCard
            Sections are matched by their headings; text under headings that
            are not part of the template is kept with the section above it.

        Raises
        ------
        ConfigError
            The metadata is invalid (the message names the field).
        """
        from scrutiny.cards._render import parse_card

        return parse_card(text, kind="model")  # type: ignore[return-value]


class DatasetCard(_Card):
    """A dataset card: the Hub's metadata plus the sections of its dataset card template.

    Build one by hand, from data with :func:`dataset_card_from_data`, or from
    an existing ``README.md`` with :meth:`from_markdown`.

    Attributes
    ----------
    name : str
        The dataset's name, used in the title "Dataset Card for ...".
    metadata : DatasetCardMetadata or dict, default=DatasetCardMetadata()
        The YAML metadata.
    summary : str, default=None
        A short summary under the title.
    details : DatasetDetails, default=DatasetDetails()
    uses : DatasetUses, default=DatasetUses()
    structure : str, default=None
        "Dataset Structure": fields, sizes, splits.
    creation : DatasetCreation, default=DatasetCreation()
    bias : BiasRisksLimitations, default=BiasRisksLimitations()
    citation, glossary, more_information, card_authors, contact : str, default=None
        The closing sections.

    Examples
    --------
    >>> from scrutiny.cards import DatasetCard
    >>> card = DatasetCard(name="Adult", metadata={"license": "cc-by-4.0"})
    >>> DatasetCard.from_markdown(card.to_markdown()) == card
    True
    """

    kind: ClassVar[str] = "dataset"

    name: str
    metadata: DatasetCardMetadata = Field(default_factory=DatasetCardMetadata)
    summary: str | None = None
    details: DatasetDetails = Field(default_factory=DatasetDetails)
    uses: DatasetUses = Field(default_factory=DatasetUses)
    structure: str | None = None
    creation: DatasetCreation = Field(default_factory=DatasetCreation)
    bias: BiasRisksLimitations = Field(default_factory=BiasRisksLimitations)
    citation: str | None = None
    glossary: str | None = None
    more_information: str | None = None
    card_authors: str | None = None
    contact: str | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _title(cls, value: Any) -> Any:
        return _title_line(value, "dataset name")

    @field_validator(
        "summary", "structure", "citation", "glossary", "more_information", "card_authors",
        "contact", mode="before",
    )
    @classmethod
    def _texts(cls, value: Any) -> Any:
        return _clean_text(value)

    @classmethod
    def from_markdown(cls, text: str) -> DatasetCard:
        """Parse a dataset card ``README.md`` written by scrutiny or from the Hub's template.

        Parameters
        ----------
        text : str
            The file's text.

        Returns
        -------
        DatasetCard
            Sections are matched by their headings.

        Raises
        ------
        ConfigError
            The metadata is invalid (the message names the field).
        """
        from scrutiny.cards._render import parse_card

        return parse_card(text, kind="dataset")  # type: ignore[return-value]


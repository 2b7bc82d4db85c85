"""Pydantic models of the Hub's card metadata: licence, tags, gating, ``model-index``.

The field names are the ones the Hub writes (``model-index``, ``verifyToken``);
the checks follow the Hub's model and dataset card specifications.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from scrutiny.cards._base import _check_license, _error_lines, _Model, _short, _str_list
from scrutiny.cards._tags import normalize_tags

__all__ = [
    "CO2Emissions",
    "DatasetCardMetadata",
    "EvalDataset",
    "EvalMetric",
    "EvalSource",
    "EvalTask",
    "GatedField",
    "ModelCardMetadata",
    "ModelIndexEntry",
    "ModelIndexResult",
    "SelectOption",
]

GATED_FIELD_TYPES = ("text", "checkbox", "date_picker", "country", "select")
BASE_MODEL_RELATIONS = ("adapter", "merge", "quantized", "finetune")
SIZE_CATEGORIES = ("n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M",
                   "100M<n<1B", "1B<n<10B", "10B<n<100B", "100B<n<1T", "n>1T", "other")
ANNOTATIONS_CREATORS = ("found", "crowdsourced", "expert-generated", "machine-generated",
                        "no-annotation", "other")
LANGUAGE_CREATORS = ("found", "crowdsourced", "expert-generated", "machine-generated", "other")
MULTILINGUALITY = ("monolingual", "multilingual", "translation", "other")
_SizeCategory = Literal[SIZE_CATEGORIES]  # type: ignore[valid-type]
_AnnotationsCreator = Literal[ANNOTATIONS_CREATORS]  # type: ignore[valid-type]
_LanguageCreator = Literal[LANGUAGE_CREATORS]  # type: ignore[valid-type]
_Multilinguality = Literal[MULTILINGUALITY]  # type: ignore[valid-type]


class SelectOption(_Model):
    """One option of a ``select`` gating field with a label distinct from its value.

    Attributes
    ----------
    label : str
        What the user sees.
    value : str
        What is recorded.
    """

    label: StrictStr
    value: StrictStr


class GatedField(_Model):
    """A gating form field written as an object (``{type: select, options: [...]}``).

    The Hub also accepts the short form ``Company: text``; in
    :attr:`ModelCardMetadata.extra_gated_fields` a field's value is either that
    type name or a ``GatedField``.

    Attributes
    ----------
    type : {"text", "checkbox", "date_picker", "country", "select"}
        The kind of input shown to people who request access.
    options : list of str or SelectOption, default=None
        The choices of a ``select`` field (required for ``select``, not
        allowed otherwise).
    """

    type: Literal["text", "checkbox", "date_picker", "country", "select"]
    options: list[StrictStr | SelectOption] | None = None

    @model_validator(mode="after")
    def _options_match_type(self) -> GatedField:
        if self.type == "select" and not self.options:
            msg = "a select field needs a non-empty 'options' list"
            raise ValueError(msg)
        if self.type != "select" and self.options is not None:
            msg = f"only select fields take 'options'; this field has type {self.type!r}"
            raise ValueError(msg)
        return self


class CO2Emissions(_Model):
    """The ``co2_eq_emissions`` metadata: the carbon emitted to train the model.

    Attributes
    ----------
    emissions : float
        Grams of CO2 equivalent.
    source : str, default=None
        How the number was obtained (a tool or a paper).
    training_type : {"pre-training", "fine-tuning"}, default=None
        Which training the number covers.
    geographical_location : str, default=None
        Where the compute ran.
    hardware_used : str, default=None
        The hardware, such as ``"8 A100 GPUs"``.
    """

    emissions: StrictFloat | StrictInt
    source: StrictStr | None = None
    training_type: Literal["pre-training", "fine-tuning"] | None = None
    geographical_location: StrictStr | None = None
    hardware_used: StrictStr | None = None


def _check_metric_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None or not isinstance(value, int | float | str):
        msg = f"must be a number or a string such as '20.0 ± 1.2', got {_short(value)}"
        raise ValueError(msg)
    if isinstance(value, float) and not math.isfinite(value):
        msg = f"must be a finite number, got {value!r}; leave the metric out instead"
        raise ValueError(msg)
    return value


class EvalMetric(_Model):
    """One metric of a ``model-index`` result.

    Attributes
    ----------
    type : str
        The metric id, such as ``"accuracy"`` or ``"false_positive_rate"``.
        Required.
    value : float, int or str
        The value. Required.
    name : str, default=None
        A readable name, such as ``"False positive rate, race = Other"``.
    config : str, default=None
        The metric's configuration name.
    args : dict, default=None
        Arguments of the metric (scrutiny records the group, its size and the
        confidence interval here).
    verified : bool, default=None
        Set by the Hub's evaluation service only.
    verify_token : str, default=None
        Written ``verifyToken``; set by the Hub's evaluation service only.
    """

    type: StrictStr
    value: StrictInt | StrictFloat | StrictStr
    name: StrictStr | None = None
    config: StrictStr | None = None
    args: dict[str, Any] | None = None
    verified: bool | None = None
    verify_token: StrictStr | None = Field(default=None, alias="verifyToken")

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, value: Any) -> Any:
        return _check_metric_value(value)


class EvalTask(_Model):
    """The task of a ``model-index`` result.

    Attributes
    ----------
    type : str
        The Hub task id, such as ``"tabular-classification"``. Required.
    name : str, default=None
        A readable name.
    """

    type: StrictStr
    name: StrictStr | None = None


class EvalDataset(_Model):
    """The dataset of a ``model-index`` result.

    Attributes
    ----------
    type : str
        The dataset's Hub id. Required.
    name : str
        A readable name. Required.
    config : str, default=None
        The dataset configuration.
    split : str, default=None
        The split evaluated on, such as ``"test"``.
    revision : str, default=None
        The dataset revision (a commit), to pin exactly what was evaluated.
    args : dict, default=None
        Arguments used to load the dataset.
    """

    type: StrictStr
    name: StrictStr
    config: StrictStr | None = None
    split: StrictStr | None = None
    revision: StrictStr | None = None
    args: dict[str, Any] | None = None


class EvalSource(_Model):
    """Where a ``model-index`` result comes from.

    Attributes
    ----------
    url : str
        The source's address. Required.
    name : str, default=None
        A readable name.
    """

    url: StrictStr
    name: StrictStr | None = None


class ModelIndexResult(_Model):
    """One result of a ``model-index`` entry: a task, a dataset and its metrics.

    Attributes
    ----------
    task : EvalTask
        Required.
    dataset : EvalDataset
        Required.
    metrics : list of EvalMetric
        At least one. Required.
    source : EvalSource, default=None
        Where the numbers come from.
    """

    task: EvalTask
    dataset: EvalDataset
    metrics: list[EvalMetric] = Field(min_length=1)
    source: EvalSource | None = None


class ModelIndexEntry(_Model):
    """One entry of ``model-index``: the model's name and its evaluation results.

    Attributes
    ----------
    name : str
        The model's name. Required.
    results : list of ModelIndexResult
        At least one. Required.

    Examples
    --------
    >>> from scrutiny.cards import ModelIndexEntry
    >>> entry = ModelIndexEntry(name="m", results=[{
    ...     "task": {"type": "tabular-classification"},
    ...     "dataset": {"type": "adult", "name": "Adult"},
    ...     "metrics": [{"type": "accuracy", "value": 0.85}]}])
    >>> entry.flatten()[0]["metric_value"]
    0.85
    """

    name: StrictStr
    results: list[ModelIndexResult] = Field(min_length=1)

    def flatten(self) -> list[dict[str, Any]]:
        """The results as flat rows, with ``huggingface_hub.EvalResult``'s field names.

        Returns
        -------
        list of dict
            One row per metric, with the keys ``task_type``, ``dataset_type``,
            ``dataset_name``, ``metric_type`` and ``metric_value`` and those of
            the optional fields that are set.
        """
        rows = []
        for r in self.results:
            for m in r.metrics:
                row = {
                    "task_type": r.task.type, "dataset_type": r.dataset.type,
                    "dataset_name": r.dataset.name, "metric_type": m.type,
                    "metric_value": m.value, "task_name": r.task.name,
                    "dataset_config": r.dataset.config, "dataset_split": r.dataset.split,
                    "dataset_revision": r.dataset.revision, "dataset_args": r.dataset.args,
                    "metric_name": m.name, "metric_config": m.config, "metric_args": m.args,
                    "verified": m.verified, "verify_token": m.verify_token,
                    "source_name": r.source.name if r.source else None,
                    "source_url": r.source.url if r.source else None,
                }
                rows.append({k: v for k, v in row.items() if v is not None})
        return rows


def _check_gated_fields(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        msg = (
            "must map each field's label to its type (text, checkbox, date_picker, country) "
            f"or to an object such as {{type: select, options: [...]}}, got {_short(value)}"
        )
        raise ValueError(msg)
    out: dict[str, Any] = {}
    for label, spec in value.items():
        if not isinstance(label, str) or not label.strip():
            msg = f"field labels must be non-empty strings, got {_short(label)}"
            raise ValueError(msg)
        if isinstance(spec, str):
            if spec == "select":
                msg = f"field {label!r}: a select field needs options; write it as an object"
                raise ValueError(msg)
            if spec not in GATED_FIELD_TYPES:
                msg = (
                    f"field {label!r}: {spec!r} is not a field type; use one of "
                    f"{', '.join(GATED_FIELD_TYPES)}"
                )
                raise ValueError(msg)
            out[label] = spec
        elif isinstance(spec, GatedField):
            out[label] = spec
        elif isinstance(spec, Mapping):
            try:
                out[label] = GatedField.model_validate(dict(spec))
            except ValidationError as exc:
                msg = f"field {label!r}: " + "; ".join(_error_lines(exc))
                raise ValueError(msg) from None
        else:
            msg = f"field {label!r}: expected a type name or an object, got {_short(spec)}"
            raise ValueError(msg)
    return out


class _Metadata(_Model):
    """Fields shared by model and dataset card metadata (licence, tags, gating)."""

    # Unknown keys are kept (the Hub stores any extra metadata) and reported by validation.
    model_config = ConfigDict(extra="allow", populate_by_name=True, validate_assignment=True)

    extra_gated_prompt: StrictStr | None = None
    extra_gated_heading: StrictStr | None = None
    extra_gated_description: StrictStr | None = None
    extra_gated_button_content: StrictStr | None = None
    extra_gated_fields: dict[str, Any] | None = None

    @field_validator("extra_gated_fields", mode="before")
    @classmethod
    def _gated(cls, value: Any) -> Any:
        return _check_gated_fields(value)

    @field_validator("tags", mode="before", check_fields=False)
    @classmethod
    def _tags(cls, value: Any) -> Any:
        return None if value is None else normalize_tags(_str_list(value))

    @field_validator("language", mode="before", check_fields=False)
    @classmethod
    def _language(cls, value: Any) -> Any:
        return _str_list(value)

    @model_validator(mode="after")
    def _license_other(self) -> _Metadata:
        lic = getattr(self, "license", None)
        ids = lic if isinstance(lic, list) else [lic]
        if "other" in ids and not getattr(self, "license_name", None):
            msg = (
                "license_name: required when license is 'other'. Give the licence a short id "
                "(such as 'my-licence-1.0') and set license_link to its text (a URL or "
                "LICENSE in the repository)"
            )
            raise ValueError(msg)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The metadata as the Hub writes it: set fields only, ``model-index`` by its alias.

        Returns
        -------
        dict
            Ready to be dumped as the card's YAML block.
        """
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_yaml(self) -> str:
        """The metadata as YAML (without the ``---`` lines).

        Returns
        -------
        str
            The YAML block, keys in the specification's order, extra keys last.
        """
        from scrutiny.cards._render import dump_yaml

        return dump_yaml(self.to_dict())


class ModelCardMetadata(_Metadata):
    """The YAML metadata of a model card, as the Hugging Face Hub specifies it.

    Unknown keys are kept (and reported by :func:`validate_card`); known keys
    are checked. ``tags`` are normalised with :func:`normalize_tags`.

    Attributes
    ----------
    language : str or list of str, default=None
        ISO 639-1, 639-2 or 639-3 codes (or ``multilingual``, ``code``).
    license : str, default=None
        A Hub licence id (see :data:`LICENSES`); ``other`` needs
        ``license_name`` and ``license_link``.
    license_name : str, default=None
        A short id of a licence the Hub does not list.
    license_link : str, default=None
        The licence text: a URL, or ``LICENSE`` / ``LICENSE.md`` in the repository.
    library_name : str, default=None
        The library that loads the model (``sklearn``, ``transformers``...).
    pipeline_tag : str, default=None
        The task id, such as ``tabular-classification``.
    tags : list of str, default=None
        Free tags; the ethics categories and ``not-for-all-audiences`` included.
    base_model : str or list of str, default=None
        The Hub id(s) of the model(s) this one derives from.
    base_model_relation : {"adapter", "merge", "quantized", "finetune"}, default=None
        How it derives from them (the Hub infers it when absent).
    new_version : str, default=None
        The Hub id of a newer version of this model.
    datasets : str or list of str, default=None
        Hub ids of the training datasets.
    metrics : list of str, default=None
        Ids of the metrics reported.
    thumbnail : str, default=None
        An image URL for social previews.
    co2_eq_emissions : float or CO2Emissions, default=None
        The training emissions in grams of CO2 equivalent, or their details.
    extra_gated_prompt, extra_gated_heading : str, default=None
        Texts of the access-request form of a gated repository.
    extra_gated_description, extra_gated_button_content : str, default=None
        More texts of that form.
    extra_gated_fields : dict, default=None
        The form's extra fields: label → type name or :class:`GatedField`.
    model_index : list of ModelIndexEntry, default=None
        Written ``model-index``: the evaluation results.

    Examples
    --------
    >>> from scrutiny.cards import ModelCardMetadata
    >>> meta = ModelCardMetadata(license="mit", tags=["not-for-all-audience"])
    >>> meta.to_dict()
    {'license': 'mit', 'tags': ['not-for-all-audiences']}
    """

    language: list[str] | None = None
    license: str | None = None
    license_name: StrictStr | None = None
    license_link: StrictStr | None = None
    library_name: StrictStr | None = None
    pipeline_tag: StrictStr | None = None
    tags: list[str] | None = None
    base_model: StrictStr | list[StrictStr] | None = None
    base_model_relation: Literal["adapter", "merge", "quantized", "finetune"] | None = None
    new_version: StrictStr | None = None
    datasets: list[str] | None = None
    metrics: list[str] | None = None
    thumbnail: StrictStr | None = None
    co2_eq_emissions: CO2Emissions | StrictFloat | StrictInt | None = None
    extra_gated_prompt: StrictStr | None = None
    extra_gated_heading: StrictStr | None = None
    extra_gated_description: StrictStr | None = None
    extra_gated_button_content: StrictStr | None = None
    extra_gated_fields: dict[str, Any] | None = None
    model_index: list[ModelIndexEntry] | None = Field(default=None, alias="model-index",
                                                      min_length=1)

    @field_validator("license", mode="before")
    @classmethod
    def _license(cls, value: Any) -> Any:
        return _check_license(value)

    @field_validator("datasets", "metrics", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _str_list(value)

    @field_validator("base_model", mode="before")
    @classmethod
    def _base_model(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return _str_list(value)
        return value

    @field_validator("co2_eq_emissions", mode="before")
    @classmethod
    def _co2(cls, value: Any) -> Any:
        if isinstance(value, bool) or not (
            value is None or isinstance(value, int | float | Mapping | CO2Emissions)
        ):
            msg = (
                "must be the grams of CO2 equivalent (a number) or an object with "
                f"'emissions' and optional details, got {_short(value)}"
            )
            raise ValueError(msg)
        if isinstance(value, Mapping):
            return CO2Emissions.model_validate(dict(value))
        return value

    @model_validator(mode="after")
    def _relation_needs_base(self) -> ModelCardMetadata:
        if self.base_model_relation and not self.base_model:
            msg = (
                f"base_model_relation: {self.base_model_relation!r} needs base_model, the Hub "
                "id of the model this one derives from; set it or remove the relation"
            )
            raise ValueError(msg)
        return self

    def eval_results(self) -> list[dict[str, Any]]:
        """The ``model-index`` results as flat rows (see :meth:`ModelIndexEntry.flatten`).

        Returns
        -------
        list of dict
            One row per metric of every entry; empty without ``model-index``.
        """
        return [row for e in self.model_index or [] for row in e.flatten()]


class DatasetCardMetadata(_Metadata):
    """The YAML metadata of a dataset card, as the Hugging Face Hub specifies it.

    Attributes
    ----------
    pretty_name : str, default=None
        A readable name.
    language : str or list of str, default=None
        Language codes of the data (tabular data often has none).
    language_details : str, default=None
        BCP-47 details.
    license : str or list of str, default=None
        Hub licence id(s) (see :data:`LICENSES`).
    license_name, license_link : str, default=None
        For ``license: other``, as for model cards.
    license_details : str, default=None
        Legacy free-text licence details.
    tags : list of str, default=None
        Free tags; modality tags such as ``tabular``, the ethics categories,
        ``not-for-all-audiences``.
    annotations_creators : list of str, default=None
        From ``found``, ``crowdsourced``, ``expert-generated``,
        ``machine-generated``, ``no-annotation``, ``other``.
    language_creators : list of str, default=None
        From ``found``, ``crowdsourced``, ``expert-generated``,
        ``machine-generated``, ``other``.
    multilinguality : list of str, default=None
        From ``monolingual``, ``multilingual``, ``translation``, ``other``.
    size_categories : list of str, default=None
        The Hub's size bucket, such as ``10K<n<100K`` (see :func:`size_category`).
    source_datasets : list of str, default=None
        ``original``, ``extended`` or ``extended|<dataset id>``.
    task_categories, task_ids : list of str, default=None
        Task ids the data supports.
    paperswithcode_id : str, default=None
        The dataset's Papers with Code id.
    configs : list of dict, default=None
        Configurations (``config_name``, ``data_files``...).
    dataset_info : dict or list of dict, default=None
        Features, splits and sizes.
    extra_gated_prompt, extra_gated_heading : str, default=None
        Texts of the access-request form of a gated dataset.
    extra_gated_description, extra_gated_button_content : str, default=None
        More texts of that form.
    extra_gated_fields : dict, default=None
        The form's extra fields.

    Examples
    --------
    >>> from scrutiny.cards import DatasetCardMetadata
    >>> DatasetCardMetadata(license="cc-by-4.0", size_categories="10K<n<100K").to_dict()
    {'license': 'cc-by-4.0', 'size_categories': ['10K<n<100K']}
    """

    pretty_name: StrictStr | None = None
    language: list[str] | None = None
    language_details: StrictStr | None = None
    license: str | list[str] | None = None
    license_name: StrictStr | None = None
    license_link: StrictStr | None = None
    license_details: StrictStr | None = None
    tags: list[str] | None = None
    annotations_creators: list[_AnnotationsCreator] | None = None
    language_creators: list[_LanguageCreator] | None = None
    multilinguality: list[_Multilinguality] | None = None
    size_categories: list[_SizeCategory] | None = None
    source_datasets: list[str] | None = None
    task_categories: list[str] | None = None
    task_ids: list[str] | None = None
    paperswithcode_id: StrictStr | None = None
    configs: list[dict[str, Any]] | None = None
    dataset_info: dict[str, Any] | list[dict[str, Any]] | None = None
    extra_gated_prompt: StrictStr | None = None
    extra_gated_heading: StrictStr | None = None
    extra_gated_description: StrictStr | None = None
    extra_gated_button_content: StrictStr | None = None
    extra_gated_fields: dict[str, Any] | None = None

    @field_validator("license", mode="before")
    @classmethod
    def _license(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            for i, v in enumerate(value):
                try:
                    _check_license(v)
                except ValueError as exc:
                    msg = f"item {i}: {exc}"
                    raise ValueError(msg) from None
            return list(value)
        return _check_license(value)

    @field_validator(
        "annotations_creators", "language_creators", "multilinguality", "size_categories",
        "source_datasets", "task_categories", "task_ids", mode="before",
    )
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _str_list(value)

"""Pydantic models of Hugging Face Hub model and dataset cards.

A card is a ``README.md``: YAML metadata between ``---`` lines, then Markdown
sections. The metadata models follow the Hub's card specification (field names
as the Hub writes them, ``model-index`` included); the section models follow
the Hub's card templates, one text field per section. Text that is None is
rendered as ``[More Information Needed]``, which ``scrutiny card validate``
counts as a section still to fill.

Invalid values raise :class:`~scrutiny.exceptions.ConfigError` with the path
of the field (``model-index[0].results[0].metrics[0].value``), what was
received and how to fix it.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from scrutiny.cards._licenses import LICENSES, unknown_license_message
from scrutiny.cards._tags import normalize_tags
from scrutiny.exceptions import ConfigError

if TYPE_CHECKING:
    from scrutiny.cards._validate import CardReport

__all__ = [
    "CARD_SCHEMA_VERSION",
    "PLACEHOLDER",
    "BiasRisksLimitations",
    "CO2Emissions",
    "DatasetCard",
    "DatasetCardMetadata",
    "DatasetCreation",
    "DatasetDetails",
    "DatasetUses",
    "EnvironmentalImpact",
    "EvalDataset",
    "EvalMetric",
    "EvalSource",
    "EvalTask",
    "Evaluation",
    "GatedField",
    "ModelCard",
    "ModelCardMetadata",
    "ModelDetails",
    "ModelIndexEntry",
    "ModelIndexResult",
    "ModelUses",
    "SelectOption",
    "TechnicalSpecifications",
    "TrainingDetails",
]

#: Version of scrutiny's card models (not of the Hub's specification).
CARD_SCHEMA_VERSION = "1.0"
#: The text the Hub's templates put in a section nobody has filled in.
PLACEHOLDER = "[More Information Needed]"

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


# ---------------------------------------------------------------------------
# errors


def _loc_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and (
            "[" in part or part in _TYPE_TAGS or part in _MODEL_NAMES
            or part.startswith(("function-", "lax-or-strict", "json-or-python"))
        ):
            continue  # pydantic's name for a union member, not a field
        else:
            out += f".{part}" if out else str(part)
    return out


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "none", "dict", "list"})
_MODEL_NAMES: set[str] = set()


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _error_lines(exc: ValidationError) -> list[str]:
    """One line per field path: the path, what was wrong, how to fix it."""
    lines: dict[str, str] = {}
    for err in exc.errors():
        path = _loc_path(tuple(err.get("loc", ())))
        if path in lines:  # a union reports each member; the first says enough
            continue
        kind = err.get("type", "")
        msg = str(err.get("msg", ""))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if kind == "missing":
            text = "is required but missing; add it"
        elif kind == "extra_forbidden":
            text = "is not a field here; remove it or check its spelling"
        elif kind == "value_error":
            text = msg
        else:
            text = f"{msg[:1].lower()}{msg[1:]}; got {_short(err.get('input'))}"
        lines[path] = (f"{path}: {text}" if path else text).rstrip(".")
    return list(lines.values())


def validation_problems(cls: type[BaseModel], data: Any) -> list[str]:
    """Every problem of ``data`` for model ``cls``, one ``path: message`` line each."""
    token = _DEPTH.set(_DEPTH.get() + 1)  # let the ValidationError through
    try:
        cls.model_validate(data)
    except ValidationError as exc:
        return _error_lines(exc)
    finally:
        _DEPTH.reset(token)
    return []


def format_validation_error(exc: ValidationError, what: str) -> str:
    """One message for a pydantic error, naming every field that is wrong."""
    return f"Invalid {what}: " + "; ".join(_error_lines(exc)) + "."


_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("scrutiny_card_depth", default=0)


@contextlib.contextmanager
def _boundary(what: str) -> Iterator[None]:
    """Turn a pydantic error into one ConfigError, at the outermost model only.

    Models with their own ``__init__`` are validated by calling it, nested ones
    included; inner calls let the ValidationError through so that pydantic
    reports the full path of the field.
    """
    token = _DEPTH.set(_DEPTH.get() + 1)
    try:
        yield
    except ValidationError as exc:
        if _DEPTH.get() > 1:
            raise
        raise ConfigError(format_validation_error(exc, what)) from None
    finally:
        _DEPTH.reset(token)


class _Model(BaseModel):
    """Base of the card models: pydantic errors become one ConfigError naming the fields."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _MODEL_NAMES.add(cls.__name__)

    def __init__(self, **data: Any) -> None:
        with _boundary(type(self).__name__):
            super().__init__(**data)

    def __setattr__(self, name: str, value: Any) -> None:
        with _boundary(type(self).__name__):
            super().__setattr__(name, value)

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Validate ``obj``; errors raise :class:`~scrutiny.exceptions.ConfigError`."""
        with _boundary(cls.__name__):
            return super().model_validate(obj, *args, **kwargs)


# ---------------------------------------------------------------------------
# shared value checks


def _str_list(value: Any, *, allow_str: bool = True) -> Any:
    """Accept one string or a list of strings; return a list (or None)."""
    if value is None:
        return None
    if isinstance(value, str) and allow_str:
        return [value]
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            if not isinstance(v, str) or not v.strip():
                msg = f"item {i} must be a non-empty string, got {_short(v)}"
                raise ValueError(msg)
        return list(value)
    msg = f"must be a string or a list of strings, got {_short(value)}"
    raise ValueError(msg)


def _clean_text(value: Any) -> str | None:
    """Section text: newlines normalised, outer blank space removed, placeholder → None."""
    if value is None:
        return None
    if not isinstance(value, str):
        msg = f"must be Markdown text (a string), got {_short(value)}"
        raise ValueError(msg)
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip("\n").strip()
    if not text or text == PLACEHOLDER:
        return None
    return text


def _clean_line(value: Any) -> str | None:
    """A one-line value (a bullet such as "Developed by"): whitespace collapsed."""
    if value is None:
        return None
    if not isinstance(value, str):
        msg = f"must be text (a string), got {_short(value)}"
        raise ValueError(msg)
    text = " ".join(value.split())
    if not text or text == PLACEHOLDER:
        return None
    return text


def _check_license(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        msg = f"must be a licence id (a string), got {_short(value)}"
        raise ValueError(msg)
    if value not in LICENSES:
        raise ValueError(unknown_license_message(value))
    return value


# ---------------------------------------------------------------------------
# metadata pieces


class SelectOption(_Model):
    """One option of a ``select`` gating field with a label distinct from its value.

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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


# ---------------------------------------------------------------------------
# sections


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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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

    Parameters
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


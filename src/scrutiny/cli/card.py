"""``scrutiny card``: write and check Hugging Face Hub model and dataset cards."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from scrutiny.exceptions import InvalidParameterError, ScrutinyWarning


def _metadata_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by ``card model`` and ``card dataset``."""
    options = [
        click.option("--license", "license_id", metavar="ID",
                     help="Hub licence id such as apache-2.0, mit or bigscience-openrail-m; "
                     "'other' needs --license-name and --license-link as well."),
        click.option("--license-name", metavar="ID", help="Short id of a licence the Hub "
                     "does not list (with --license other)."),
        click.option("--license-link", metavar="URL", help="Where that licence's text is (a "
                     "URL, or LICENSE in the repository)."),
        click.option("--language", multiple=True, metavar="CODE",
                     help="ISO 639 language code (repeatable)."),
        click.option("--tag", "tags", multiple=True, metavar="TAG",
                     help="Tag to add (repeatable), such as an ethics category or "
                     "not-for-all-audiences."),
        click.option("--html", "html_out", type=click.Path(dir_okay=False), default=None,
                     help="Also write the self-contained HTML view to this file."),
        click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
                     help="Where to write the card (README.md)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _common_metadata(license_id: str | None, license_name: str | None,
                     license_link: str | None, language: Sequence[str],
                     tags: Sequence[str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"license": license_id, "license_name": license_name,
                            "license_link": license_link,
                            "language": list(language) or None, "tags": list(tags) or None}
    return {k: v for k, v in meta.items() if v is not None}


def _write(card: Any, out: str, html_out: str | None) -> None:
    from scrutiny.cards import validate_card

    path = card.save(out)
    report = validate_card(card)
    written = [str(path)]
    if html_out:
        written.append(str(card.save(html_out)))
    click.echo(f"Wrote {' and '.join(written)} ({card.kind} card, completeness "
               f"{report.completeness:.0%}; {len(report.placeholders)} required section(s) "
               "still to fill in).", err=True)
    for issue in report.warnings:
        click.echo(f"  warning: {issue}", err=True)


def _run_with_warnings(build: Callable[[], Any]) -> Any:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScrutinyWarning)
        card = build()
    for w in caught:
        if issubclass(w.category, ScrutinyWarning):
            click.echo(f"Warning: {w.message}", err=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return card


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    out = {}
    for v in values:
        artefact, sep, license_id = v.rpartition("=")
        if not sep or not artefact.strip() or not license_id.strip():
            msg = (
                f"{option}: expected HUB_ID=LICENCE_ID, such as "
                f"'bigscience/bloom=bigscience-bloom-rail-1.0'. Got {v!r}."
            )
            raise InvalidParameterError(msg)
        out[artefact.strip()] = license_id.strip()
    return out


@click.group("card")
def card_group() -> None:
    """Write and check Hugging Face Hub model and dataset cards (README.md).

    Usage: scrutiny card model --from-audit DIR --out README.md  |
    scrutiny card dataset --data FILE --out README.md  |  scrutiny card validate README.md
    """


@card_group.command("model")
@click.option("--from-audit", "audit", required=True, type=click.Path(exists=True),
              help="Audit output folder (or its audit.json), from `scrutiny audit`.")
@click.option("--from-attribution", "attribution", type=click.Path(dir_okay=False),
              default=None, help="Attribution results JSON, as written by `scrutiny attribute`; "
              "its findings go under data quality.")
@click.option("--model-id", default=None, help="The model's name (default: from the audit "
              "title).")
@click.option("--library-name", default=None, help="Library that loads the model (sklearn, "
              "transformers...).")
@click.option("--pipeline-tag", default=None, help="Hub task id (default: "
              "tabular-classification or tabular-regression).")
@click.option("--base-model", "base_models", multiple=True, metavar="ID",
              help="Hub id of a model this one derives from (repeatable).")
@click.option("--base-model-relation", default=None,
              type=click.Choice(["adapter", "merge", "quantized", "finetune"]),
              help="How it derives from the base model(s).")
@click.option("--dataset", "datasets", multiple=True, metavar="ID",
              help="Hub id of a training dataset (repeatable).")
@click.option("--upstream-license", "upstream", multiple=True, metavar="ID=LICENCE",
              help="Licence of a base model or dataset (repeatable); RAIL licences add their "
              "use restrictions to Out-of-Scope Use.")
@click.option("--eval-dataset-id", default=None, help="Hub id of the evaluation data for "
              "model-index (default: from --dataset or the audit's data source).")
@click.option("--eval-dataset-name", default=None, help="Readable name of the evaluation data.")
@click.option("--split", default=None, help="The split evaluated, pinned in model-index.")
@click.option("--revision", default=None, help="The dataset revision evaluated, pinned in "
              "model-index.")
@_metadata_options
def model_command(audit: str, attribution: str | None, model_id: str | None,
                  library_name: str | None, pipeline_tag: str | None,
                  base_models: tuple[str, ...], base_model_relation: str | None,
                  datasets: tuple[str, ...], upstream: tuple[str, ...],
                  eval_dataset_id: str | None, eval_dataset_name: str | None,
                  split: str | None, revision: str | None, license_id: str | None,
                  license_name: str | None, license_link: str | None,
                  language: tuple[str, ...], tags: tuple[str, ...], html_out: str | None,
                  out: str) -> None:
    """Write a model card filled in from an audit (and attribution findings)."""
    from scrutiny.cards import model_card_from_audit

    meta = _common_metadata(license_id, license_name, license_link, language, tags)
    extra = {"library_name": library_name, "pipeline_tag": pipeline_tag,
             "base_model": (list(base_models) if len(base_models) > 1 else base_models[0])
             if base_models else None,
             "base_model_relation": base_model_relation, "datasets": list(datasets) or None}
    meta.update({k: v for k, v in extra.items() if v is not None})
    upstream_licenses = _pairs(upstream, "--upstream-license")
    card = _run_with_warnings(lambda: model_card_from_audit(
        audit, model_id=model_id, attribution=attribution, metadata=meta,
        upstream_licenses=upstream_licenses, dataset_id=eval_dataset_id,
        dataset_name=eval_dataset_name, dataset_split=split, dataset_revision=revision))
    _write(card, out, html_out)


@card_group.command("dataset")
@click.option("--data", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The data: a CSV or Parquet file.")
@click.option("--label", default=None, help="The label column (its balance per group is "
              "reported).")
@click.option("--sensitive", multiple=True, metavar="COL[,COL]",
              help="Sensitive column(s), comma-separated or repeated.")
@click.option("--name", default=None, help="The dataset's name (default: the file name).")
@click.option("--pos-label", default=None, help="Positive class of a binary label "
              "(default: 1 / True, else the second value).")
@click.option("--min-group-size", default=30, show_default=True, type=click.IntRange(min=1),
              help="Groups smaller than this are flagged as small.")
@_metadata_options
def dataset_command(data: str, label: str | None, sensitive: tuple[str, ...],
                    name: str | None, pos_label: str | None, min_group_size: int,
                    license_id: str | None, license_name: str | None,
                    license_link: str | None, language: tuple[str, ...],
                    tags: tuple[str, ...], html_out: str | None, out: str) -> None:
    """Write a dataset card from a profile of the data (groups, label balance, missing)."""
    from scrutiny.cards import dataset_card_from_data

    cols = [c.strip() for s in sensitive for c in s.split(",") if c.strip()]
    meta = _common_metadata(license_id, license_name, license_link, language, tags)
    card = _run_with_warnings(lambda: dataset_card_from_data(
        data, label=label, sensitive_features=cols, name=name, metadata=meta,
        pos_label=pos_label, min_group_size=min_group_size))
    _write(card, out, html_out)


@card_group.command("validate")
@click.argument("readme", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", type=click.Choice(["model", "dataset"]), default=None,
              help="The kind of card (default: guessed from its title and metadata).")
@click.option("--min-completeness", type=click.FloatRange(0, 1), default=None,
              help="Also exit 1 when fewer than this share of required sections are filled "
              "in (0 to 1).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def validate_command(readme: str, kind: str | None, min_completeness: float | None,
                     as_json: bool) -> None:
    """Check README (a card) offline; exit 1 on metadata errors.

    Checks the metadata against the Hub's specification (licence ids,
    model-index, gating fields...) and reports the sections still holding
    placeholder text as a completeness score.
    """
    from scrutiny.cards import validate_card

    report = validate_card(Path(readme), kind=kind)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(f"{readme}: {report.kind} card")
        click.echo(report.format())
    too_low = min_completeness is not None and report.completeness < min_completeness
    if too_low and not as_json:
        click.echo(f"Completeness {report.completeness:.0%} is below the required "
                   f"{min_completeness:.0%}.")
    if not report.ok or too_low:
        raise SystemExit(1)

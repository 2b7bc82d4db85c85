"""``scrutiny attribute``: which training rows drive predictions, label issues or a group gap.

Three modes, one output format (:meth:`AttributionResult.to_json`):

* default — ``attribute(model, train, query, method=...)``;
* ``--label-issues`` — a self-influence ranking beside confident learning;
* ``--sensitive COL`` — which training rows drive a group gap measured on the
  ``--query`` rows (held-out data), with simulated actions and retraining.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from scrutiny.exceptions import ColumnNotFoundError, InvalidParameterError

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
TARGETS = ("equal_opportunity", "demographic_parity", "group_loss")


def load_model(path: str | Path, *, trust: bool) -> Any:
    """Load a skops file (or a pickle, only with ``trust``), with one-line errors."""
    from scrutiny._utils.models import load_model as _load

    fmt = "pickle" if Path(path).suffix.lower() in PICKLE_SUFFIXES else "skops"
    return _load(path, fmt=fmt, trust=trust, where="--model")


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _frame(path: str, option: str) -> Any:
    from scrutiny._utils.io import read_table

    return read_table(path, option=option).to_pandas()


def _need(frame: Any, cols: list[str], option: str, file_option: str) -> None:
    for c in cols:
        if c not in frame.columns:
            err = ColumnNotFoundError.from_missing(c, [str(x) for x in frame.columns])
            msg = f"{option}: {err.message} (in the {file_option} file)"
            raise ColumnNotFoundError(msg)


def _features(model: Any, given: str | None, label: str) -> list[str]:
    features = _split(given) or [str(c) for c in getattr(model, "feature_names_in_", [])]
    if not features:
        msg = (
            "--features: the model does not record its input columns (no feature_names_in_); "
            "list them, e.g. --features age,hours_per_week."
        )
        raise InvalidParameterError(msg)
    if label in features:
        msg = f"--features: the label column {label!r} cannot also be a feature."
        raise InvalidParameterError(msg)
    return features


@click.command("attribute")
@click.option("--model", "model_path", required=True, type=str,
              help="Fitted model: a skops file (.skops), or a pickle with --trust.")
@click.option("--train", "train_path", required=True, type=str,
              help="CSV or Parquet file of the training rows the model was fitted on.")
@click.option("--query", "query_path", type=str,
              help="CSV or Parquet file of the rows to explain (held-out rows with --sensitive).")
@click.option("--label", required=True, help="Column holding the label, in both files.")
@click.option("--features",
              help="Comma-separated feature columns. Default: the model's feature_names_in_.")
@click.option("--method", default="auto", show_default=True,
              help="Attribution method: auto, influence, newton, retrain, knn_shapley, data_oob...")
@click.option("--top-k", type=int, default=10, show_default=True,
              help="Training rows kept per query in the output.")
@click.option("--label-issues", is_flag=True,
              help="Rank training rows by how likely their label is wrong (self-influence "
              "beside confident learning).")
@click.option("--sensitive",
              help="Comma-separated sensitive column(s): attribute a group gap measured on "
              "the --query rows.")
@click.option("--target", type=click.Choice(TARGETS), default="equal_opportunity",
              show_default=True, help="The group gap attributed with --sensitive.")
@click.option("--no-verify", is_flag=True,
              help="With --sensitive: skip checking the predictions by real retraining.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--trust", is_flag=True, help="Load pickles or skops types you have reviewed.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True),
              help="Write the result JSON here (default: print it).")
def attribute_command(
    model_path: str, train_path: str, query_path: str | None, label: str,
    features: str | None, method: str, top_k: int, label_issues: bool, sensitive: str | None,
    target: str, no_verify: bool, seed: int, trust: bool, out_path: str | None,
) -> None:
    """Attribute predictions, label issues or a group gap to training rows.

    Scores follow one convention: a positive score means removing the training
    row would raise the query's loss (or, with --sensitive, widen the gap).
    """
    if top_k < 1:
        raise InvalidParameterError.from_value("--top-k", "scrutiny attribute",
                                               "an integer >= 1", top_k)
    if label_issues and sensitive:
        msg = "--label-issues and --sensitive are separate modes; pass one of them."
        raise InvalidParameterError(msg)
    if not label_issues and not query_path:
        what = "the held-out rows the gap is measured on" if sensitive else "the rows to explain"
        msg = f"--query is required ({what}); only --label-issues works without it."
        raise InvalidParameterError(msg)
    model = load_model(model_path, trust=trust)
    cols = _features(model, features, label)
    train = _frame(train_path, "--train")
    _need(train, [*cols, label], "--features/--label", "--train")
    x_train, y_train = train[cols], train[label].to_numpy()

    if label_issues:
        from scrutiny.attribution import label_issues as run_label_issues

        result = run_label_issues(model, x_train, y_train, random_state=seed, top_k=top_k)
    else:
        query = _frame(str(query_path), "--query")
        _need(query, [*cols, label], "--features/--label", "--query")
        x_query, y_query = query[cols], query[label].to_numpy()
        if sensitive:
            from scrutiny.attribution import attribute_disparity

            sens = _split(sensitive)
            _need(query, sens, "--sensitive", "--query")
            query_sens = query[sens] if len(sens) > 1 else query[sens[0]]
            train_sens = None
            if all(s in train.columns for s in sens):
                train_sens = train[sens] if len(sens) > 1 else train[sens[0]]
            result = attribute_disparity(
                model, x_train, y_train, x_query, y_query,
                sensitive_features=query_sens, train_sensitive_features=train_sens,
                target=target, top_k=top_k, verify=not no_verify, random_state=seed,
            )
        else:
            from scrutiny.attribution import attribute

            result = attribute(model, x_train, y_train, x_query, y_query, method=method)
    text = result.to_json(out_path, top_k=top_k)
    if out_path is None:
        click.echo(text)
        return
    click.echo(f"{result.method}: wrote {out_path} ({result.seconds:.2f} s)")
    for f in result.findings:
        click.echo(f"  [{f['kind']}] {f['message']}")

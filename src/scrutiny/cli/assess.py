"""``scrutiny assess``: per-group metrics of a CSV or Parquet file on the terminal and as JSON."""

from __future__ import annotations

import math
import warnings
from typing import Any

import click

from scrutiny._utils.io import read_table
from scrutiny.exceptions import InvalidParameterError, ScrutinyWarning

DEMO = {
    "y_true": "income",
    "y_pred": "prediction",
    "y_score": "score",
    "sensitive": "sex,race",
}


def _parse_reference(value: str | None, sensitive: list[str]) -> Any:
    if value is None:
        return None
    if "=" in value:
        out = {}
        for part in value.split(","):
            name, sep, val = part.partition("=")
            if not sep or not name.strip():
                msg = (
                    f"--reference: could not read {part!r}. Use VALUE for one sensitive "
                    "feature, or COLUMN=VALUE[,COLUMN=VALUE] for several."
                )
                raise InvalidParameterError(msg)
            if name.strip() not in sensitive:
                msg = (
                    f"--reference: {name.strip()!r} is not one of the sensitive columns "
                    f"{sensitive}."
                )
                raise InvalidParameterError(msg)
            out[name.strip()] = val.strip()
        return out
    if len(sensitive) > 1:
        msg = (
            f"--reference: with several sensitive columns ({', '.join(sensitive)}) say which "
            f"one the value belongs to, for example --reference {sensitive[0]}={value}."
        )
        raise InvalidParameterError(msg)
    return value


def _fmt(v: float | None, ci: tuple[float, float] | None = None, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    s = f"{v:.{digits}f}"
    if ci is not None:
        s += f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"
    return s


HEADLINE = 4


def render(result: Any, console: Any, *, wide: bool = False) -> None:
    """Print the groups, the disparities and the warnings as rich tables."""
    from rich.table import Table

    metrics = [m for m in result.metrics if m != "count"]
    shown = metrics if wide else metrics[:HEADLINE]
    t = Table(title=f"Metrics by group ({result.n_rows} rows)", title_justify="left")
    for f in result.sensitive_features:
        t.add_column(f, style="bold", overflow="fold")
    t.add_column("rows", justify="right")
    for m in shown:
        t.add_column(m.replace("_", " "), justify="right", overflow="fold")
    for g in result.groups:
        cells = [str(g.features[f]) for f in result.sensitive_features]
        cells.append(str(g.count))
        cells += [_fmt(g.value(m), g.ci(m) if wide else None) for m in shown]
        t.add_row(*cells)
    console.print(t)
    if len(shown) < len(metrics):
        console.print(
            f"[dim]{len(metrics) - len(shown)} more metric(s) and every interval: --wide, or "
            "--json FILE.[/]"
        )
    level = f"{round(result.ci_level * 100)}% interval" if result.ci_level else "no intervals"
    d = Table(
        title=f"Gaps between groups: difference = largest - smallest, ratio = smallest / "
        f"largest ({level} in brackets)",
        title_justify="left",
    )
    for col in ("metric", "difference", "ratio", "highest group", "lowest group"):
        d.add_column(col, justify="right" if col in ("difference", "ratio") else "left")
    for name, dis in result.disparities.items():
        d.add_row(
            name.replace("_", " "),
            _fmt(dis.difference, dis.ci_difference),
            _fmt(dis.ratio, dis.ci_ratio),
            ", ".join(str(k) for k in dis.max_group) if dis.max_group else "—",
            ", ".join(str(k) for k in dis.min_group) if dis.min_group else "—",
        )
    console.print(d)
    if result.warnings:
        console.print("[bold yellow]Read with care:[/]")
        for w in result.warnings:
            console.print(f"  • [yellow]{w.code}[/]: {w.message}")
    console.print(
        "[dim]These numbers describe this data and this model. A small difference is not proof "
        "of fairness and a large one is not by itself proof of harm: read the intervals and "
        "the context.[/]"
    )


@click.command("assess")
@click.option("--data", "data_path", type=str, help="CSV or Parquet file with one row per person.")
@click.option("--demo", is_flag=True, help="Use the bundled UCI Adult demo data and predictions.")
@click.option("--y-true", help="Column of observed outcomes.")
@click.option("--y-pred", help="Column of predicted labels (or values, for regression).")
@click.option("--y-score", help="Column of scores or probabilities (binary problems).")
@click.option("--sample-weight", help="Column of non-negative row weights.")
@click.option("--sensitive",
              help="Sensitive column(s), comma-separated; several give intersections.")
@click.option("--metrics", help="Comma-separated metric names, or 'all'. Default: per task.")
@click.option("--task", type=click.Choice(["auto", "binary", "multiclass", "regression"]),
              default="auto", show_default=True, help="Prediction task.")
@click.option("--pos-label", help="The positive label, when labels are not 0/1.")
@click.option("--reference", help="Reference group: VALUE, or COLUMN=VALUE[,COLUMN=VALUE].")
@click.option("--ci", type=float, default=0.95, show_default=True,
              help="Confidence level of intervals (0 disables them).")
@click.option("--n-boot", type=int, default=1000, show_default=True,
              help="Bootstrap replicates.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--min-group-size", type=int, default=30, show_default=True,
              help="Warn about groups with fewer rows.")
@click.option("--missing", type=click.Choice(["error", "group"]), default="error",
              show_default=True, help="Missing sensitive values: fail, or report a group.")
@click.option("--policy", type=click.Choice(["four_fifths"]), default=None,
              help="Opt-in policy check (a flag, not a verdict).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, writable=True),
              help="Write the full result as JSON to this file ('-' for standard output).")
@click.option("--wide", is_flag=True, help="Show every metric and interval in the group table.")
@click.option("--quiet", is_flag=True, help="Do not print tables.")
def assess_command(
    data_path: str | None, demo: bool, y_true: str | None, y_pred: str | None,
    y_score: str | None, sample_weight: str | None, sensitive: str | None, metrics: str | None,
    task: str, pos_label: str | None, reference: str | None, ci: float, n_boot: int, seed: int,
    min_group_size: int, missing: str, policy: str | None, json_out: str | None, wide: bool,
    quiet: bool,
) -> None:
    """Disaggregate a model's performance by group, with intervals and disparities.

    Example: scrutiny assess --data preds.csv --y-true label --y-pred pred --sensitive sex,race
    """
    from rich.console import Console

    from scrutiny.fairness import assess

    if demo:
        if data_path:
            msg = "--demo and --data are exclusive: the demo uses the bundled Adult data."
            raise InvalidParameterError(msg)
        from scrutiny.datasets import load_adult

        table = load_adult(split="test", backend="pyarrow")
        y_true = y_true or DEMO["y_true"]
        y_pred = y_pred or DEMO["y_pred"]
        y_score = y_score or DEMO["y_score"]
        sensitive = sensitive or DEMO["sensitive"]
    else:
        for flag, value in (("--data", data_path), ("--y-true", y_true),
                            ("--sensitive", sensitive)):
            if not value:
                msg = f"{flag} is required (or use --demo to try the bundled data)."
                raise InvalidParameterError(msg)
        if not y_pred and not y_score:
            msg = "Pass --y-pred (predicted labels or values) and/or --y-score (scores)."
            raise InvalidParameterError(msg)
        table = read_table(data_path)  # type: ignore[arg-type]
    sens = [s.strip() for s in (sensitive or "").split(",") if s.strip()]
    if not sens:
        msg = "--sensitive names no column. Give one or more, separated by commas."
        raise InvalidParameterError(msg)
    if not 0 <= ci < 1:
        msg = f"--ci must be between 0 and 1 (0 disables intervals). Got {ci}."
        raise InvalidParameterError(msg)
    pos: Any = pos_label
    if pos_label is not None and pos_label.lstrip("-").isdigit():
        pos = int(pos_label)
    console = Console(stderr=json_out == "-")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScrutinyWarning)
        result = assess(
            y_true, y_pred, y_score=y_score, sample_weight=sample_weight,
            sensitive_features=sens, data=table, metrics=metrics, task=task, pos_label=pos,
            reference=_parse_reference(reference, sens), ci=ci or None, n_boot=n_boot,
            random_state=seed, min_group_size=min_group_size, missing=missing, policy=policy,
        )
    if not quiet:
        render(result, console, wide=wide)
    if json_out == "-":
        click.echo(result.to_json())
    elif json_out:
        result.to_json(json_out)
        if not quiet:
            console.print(f"Wrote {json_out}")

"""``scrutiny init``: scope the use context and write an audit config (YAML).

The questions live in :mod:`scrutiny.audit._init`; this module only reads
answers from a file and flags, asks the rest in the terminal, shows the
recommendation and writes the file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from scrutiny.exceptions import ConfigError, InvalidParameterError

#: click parameter name -> config key answered by that flag
SCALAR_FLAGS: dict[str, str] = {
    "title": "title",
    "decision": "context.decision",
    "affected": "context.affected",
    "framing": "context.framing",
    "fairness_goal": "context.fairness_goal",
    "representation": "context.representation",
    "intervention": "context.intervention",
    "intervention_reach": "context.intervention_reach",
    "concern": "context.concern",
    "costlier_error": "context.costlier_error",
    "costlier_error_for": "context.costlier_error_for",
    "labels_trusted": "context.labels_trusted",
    "base_rates_trusted": "context.base_rates_trusted",
    "data_path": "data.path",
    "sql": "data.sql",
    "y_true": "data.y_true",
    "y_pred": "data.y_pred",
    "y_score": "data.y_score",
    "sample_weight": "data.sample_weight",
    "pos_label": "data.pos_label",
}


def load_answers(path: str) -> dict[str, Any]:
    """Read an answers file (YAML or JSON: JSON is YAML) with the config's keys."""
    import yaml

    p = Path(path)
    if not p.is_file():
        msg = f"--answers: the file {path!r} does not exist."
        raise ConfigError(msg)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        msg = f"--answers: {path!r} is not valid YAML or JSON{where}: " \
              f"{getattr(exc, 'problem', exc)}."
        raise ConfigError(msg) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        msg = (
            f"--answers: {path!r} must hold a mapping with the config's keys (title, context, "
            f"sensitive_features, stakeholders, data). Got {type(raw).__name__}."
        )
        raise ConfigError(msg)
    return raw


def _pairs(values: tuple[str, ...], flag: str, what: str,
           *, optional: bool = False) -> list[tuple[str, str]]:
    """Split NAME=VALUE flags; with ``optional``, a bare NAME leaves VALUE to ask or report."""
    out = []
    for v in values:
        name, sep, rest = v.partition("=")
        if (not sep and not optional) or not name.strip():
            msg = f"{flag}: could not read {v!r}. Use {what}."
            raise InvalidParameterError(msg)
        out.append((name.strip(), rest.strip()))
    return out


def apply_flags(answers: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Flags override the answers file, key by key."""
    from scrutiny.audit._init import parse_scalar, set_answer

    for name, key in SCALAR_FLAGS.items():
        value = params.get(name)
        if value is None:
            continue
        if name == "pos_label":
            value = parse_scalar(value)
        set_answer(answers, key, value)
    if params.get("demo"):
        set_answer(answers, "data.demo", "adult")
    if params.get("legal_constraint"):
        set_answer(answers, "context.legal_constraints", list(params["legal_constraint"]))

    features = answers.get("sensitive_features")
    if params.get("sensitive") or params.get("reference"):
        if features is None:
            features = answers["sensitive_features"] = []
        if not isinstance(features, list):
            msg = "sensitive_features: must be a list of {column, justification} items."
            raise ConfigError(msg)
    for col, why in _pairs(params.get("sensitive") or (), "--sensitive",
                           "COLUMN=JUSTIFICATION, e.g. sex='protected characteristic'",
                           optional=True):
        item = next((f for f in features if isinstance(f, dict) and f.get("column") == col),
                    None)
        if item is None:
            features.append({"column": col, "justification": why or None})
        elif why:
            item["justification"] = why
    for col, value in _pairs(params.get("reference") or (), "--reference", "COLUMN=VALUE"):
        from scrutiny.audit._init import parse_scalar

        item = next((f for f in features if isinstance(f, dict) and f.get("column") == col),
                    None)
        if item is None:
            cols = [f.get("column") for f in features if isinstance(f, dict)]
            msg = (
                f"--reference: {col!r} is not a sensitive feature (have {cols}). Add it with "
                f"--sensitive {col}=JUSTIFICATION."
            )
            raise InvalidParameterError(msg)
        item["reference"] = parse_scalar(value)
    stakeholders = _pairs(params.get("stakeholder") or (), "--stakeholder",
                          "NAME=ROLE, e.g. 'Credit team=decision owner'", optional=True)
    if stakeholders:
        have = answers.get("stakeholders")
        have = have if isinstance(have, list) else []
        have += [{"name": n, "role": r or None} for n, r in stakeholders]
        answers["stakeholders"] = have
    return answers


def _rich_prompt(console: Any) -> Any:
    from rich.markup import escape
    from rich.prompt import Prompt

    def prompt(question: Any, default: Any) -> str:
        console.print()
        console.print(f"[bold]{escape(question.prompt)}[/]  [dim]({escape(question.key)})[/]")
        if question.help:
            console.print(f"[dim]{escape(question.help)}[/]")
        shown: Any = ...
        if question.kind == "choice":
            for n, choice in enumerate(question.choices, 1):
                console.print(f"  [cyan]{n}[/]. [bold]{choice.value}[/]: {escape(choice.label)}")
        if question.kind == "bool":
            console.print("  [dim]yes or no[/]")
            if default is not None:
                shown = "yes" if default else "no"
        elif default is not None:
            shown = str(default)
        return Prompt.ask("[cyan]>[/]", console=console, default=shown, show_default=True)

    return prompt


def render_recommendation(rec: Any, console: Any) -> None:
    """The recommendation on the terminal: criteria, rationale, what was left out and why."""
    from rich.markup import escape

    console.print()
    console.rule("[bold]Recommended fairness criteria[/]")
    console.print("[dim]A starting point from your answers: the team decides.[/]")
    for item in rec.recommended:
        role = "[bold green]primary[/]" if item.role == "primary" else "[green]supporting[/]"
        console.print(f"  [bold]{escape(item.label)}[/] ({role}) [dim]metrics: "
                      f"{escape(', '.join(item.metrics))}[/]")
        console.print(f"    {escape(item.rationale)}")
    console.print()
    console.print("[bold]Not recommended, and why[/]")
    for item in rec.not_recommended:
        console.print(f"  [dim]-[/] {escape(item.label)}: [dim]{escape(item.rationale)}[/]")
    if rec.caveats:
        console.print()
        console.print("[bold yellow]Read with care[/]")
        for c in rec.caveats:
            console.print(f"  [yellow]![/] {escape(c)}")
    console.print()


def _justification_notes(config: Any, say: Any) -> None:
    for i, f in enumerate(config.sensitive_features):
        if len(f.justification) < 15:
            say(f"Note: sensitive_features[{i}].justification ({f.justification!r}) is short. "
                "Say why this feature matters here; the audit flags placeholder reasons.")


@click.command("init")
@click.option("--answers", "answers_file", type=str,
              help="YAML or JSON file of answers, with the config's keys (title, context, "
              "sensitive_features, stakeholders, data).")
@click.option("--out", default="audit.yaml", show_default=True,
              help="Where to write the audit config.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--interactive/--no-input", default=None,
              help="Ask the missing questions even without a terminal / never ask (missing "
              "required answers are then an error). Default: ask when standard input is a "
              "terminal.")
@click.option("--quiet", is_flag=True, help="Do not print the recommendation.")
@click.option("--title", help="A short title for the audit.")
@click.option("--decision", help="The decision the model informs.")
@click.option("--affected", help="Who the decision affects.")
@click.option("--framing", metavar="allocation|quality_of_service|both",
              help="The harm at stake.")
@click.option("--fairness-goal", metavar="representation|errors|unsure",
              help="Alike in who is selected, or in who the model gets wrong.")
@click.option("--representation", metavar="equal_numbers|proportional",
              help="For a representation goal.")
@click.option("--intervention", metavar="punitive|assistive",
              help="What follows a positive prediction.")
@click.option("--intervention-reach", metavar="small_fraction|most_in_need",
              help="For assistive interventions: how many of those in need it can reach.")
@click.option("--concern",
              metavar="everyone|intervened|not_in_need|not_intervened|in_need",
              help="Among whom equal errors matter most.")
@click.option("--costlier-error", metavar="false_positive|false_negative|equal|unsure",
              help="Which mistake costs more.")
@click.option("--costlier-error-for", help="Who bears the costlier mistake.")
@click.option("--labels-trusted/--labels-untrusted", default=None,
              help="Whether the recorded outcomes can be trusted for every group.")
@click.option("--base-rates-trusted/--base-rates-untrusted", default=None,
              help="Whether the groups' observed base rates reflect reality.")
@click.option("--legal-constraint", multiple=True, help="A legal or policy constraint "
              "(repeatable).")
@click.option("--sensitive", multiple=True, metavar="COLUMN=JUSTIFICATION",
              help="A sensitive feature and why it is examined (repeatable).")
@click.option("--reference", multiple=True, metavar="COLUMN=VALUE",
              help="A reference group the team chose for a sensitive feature (repeatable).")
@click.option("--stakeholder", multiple=True, metavar="NAME=ROLE",
              help="A stakeholder and their role in the audit (repeatable).")
@click.option("--data", "data_path", help="CSV or Parquet file of predictions.")
@click.option("--sql", help="A DuckDB SQL query that returns the rows.")
@click.option("--demo", is_flag=True, help="Use the bundled UCI Adult demo data.")
@click.option("--y-true", help="Column of observed outcomes.")
@click.option("--y-pred", help="Column of predicted labels.")
@click.option("--y-score", help="Column of scores or probabilities.")
@click.option("--sample-weight", help="Column of row weights.")
@click.option("--pos-label", help="The positive label, when labels are not 0/1.")
def init_command(answers_file: str | None, out: str, force: bool, interactive: bool | None,
                 quiet: bool, **params: Any) -> None:
    """Scope an audit and write its config (YAML).

    Answer questions about the use context (in the terminal, from --answers or
    flags), see the recommended fairness criteria with their rationale, and
    write the audit config.

    Example: scrutiny init --answers answers.yaml --no-input --out audit.yaml
    """
    from rich.console import Console
    from rich.markup import escape

    from scrutiny.audit._init import (
        check_given,
        config_from_answers,
        interview,
        missing_answers,
        render_yaml,
        require_complete,
    )
    from scrutiny.audit._recommend import recommend

    target = Path(out)
    if target.is_dir():
        msg = f"--out: {out!r} is a folder. Give the path of the YAML file to write."
        raise InvalidParameterError(msg)
    if target.exists() and not force:
        msg = (
            f"--out: {out!r} already exists. Pass --force to overwrite it, or choose another "
            "path."
        )
        raise InvalidParameterError(msg)

    answers = load_answers(answers_file) if answers_file else {}
    answers = apply_flags(answers, params)
    if interactive is None:
        interactive = sys.stdin is not None and sys.stdin.isatty()
    console = Console(highlight=False)

    def say(text: str) -> None:
        console.print(escape(text), style="yellow")

    if interactive:
        check_given(answers, source="given before the questions")
        console.print("[bold]Scoping the audit.[/] Answer in plain words; press Enter to keep "
                      "the value in brackets. Choices take their name or number.")
        try:
            config, rec = interview(
                _rich_prompt(console), answers, say=say,
                show=(lambda r: None) if quiet else (lambda r: render_recommendation(r, console)),
            )
        except (EOFError, KeyboardInterrupt):
            msg = "Input ended before every question was answered; nothing was written."
            raise ConfigError(msg) from None
    else:
        try:
            config = config_from_answers(answers)
        except ConfigError as exc:
            # name the missing answers with their flags, and every other problem too
            if missing_answers(answers):
                try:
                    require_complete(answers)
                except ConfigError as missing:
                    msg = f"{missing} {exc}"
                    raise ConfigError(msg) from None
            raise
        require_complete(answers)
        rec = recommend(config.context)
        if not quiet:
            render_recommendation(rec, console)
    _justification_notes(config, say)

    if interactive:
        from rich.prompt import Confirm

        try:
            ok = Confirm.ask(f"Write {escape(out)}?", console=console, default=True)
        except (EOFError, KeyboardInterrupt):
            ok = False
        if not ok:
            console.print("Nothing written.")
            raise click.exceptions.Exit(1)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_yaml(config, rec), encoding="utf-8")
    console.print(f"Wrote {escape(out)}. Review it with the stakeholders; the recommendation "
                  "is recomputed from its context on every audit run.")

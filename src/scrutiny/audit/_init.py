"""The scoping questionnaire behind ``scrutiny init``, independent of any terminal.

:data:`QUESTIONS` lists every question in the order it is asked: the config key
it answers (``context.intervention``, ``sensitive_features[].justification``),
the prompt in plain language, a help text, its kind and choices, and when it
is relevant (``intervention_reach`` only for assistive interventions,
``representation`` only when the goal is representation...).

Answers are a nested mapping with the config's own keys (``title``,
``context``, ``sensitive_features``, ``stakeholders``, ``data``...), whether
they come from an answers file, command-line flags or :func:`ask`, which puts
the questions through a prompt callable (the CLI passes a rich prompt, tests a
scripted one). :func:`config_from_answers` validates them as an
:class:`~scrutiny.audit.AuditConfig`; every error names the field path.
"""

from __future__ import annotations

import copy
import datetime as dt
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from scrutiny.audit._config import AuditConfig, dump_config, parse_config
from scrutiny.audit._recommend import Recommendation, recommend
from scrutiny.exceptions import ConfigError

__all__ = [
    "QUESTIONS",
    "AnswerError",
    "Choice",
    "Question",
    "ask",
    "build_config",
    "check_given",
    "config_from_answers",
    "format_recommendation",
    "get_answer",
    "interview",
    "missing_answers",
    "render_yaml",
    "require_complete",
    "set_answer",
]

Kind = Literal["text", "choice", "bool", "list", "scalar"]
Answers = dict[str, Any]
Condition = Callable[[Mapping[str, Any]], bool]
#: ``prompt(question, default) -> raw answer`` (a string; blank or None keeps the default)
Prompt = Callable[["Question", Any], Any]
#: shows a message (a note, or why an answer was not accepted)
Say = Callable[[str], None]

#: the columns of the bundled Adult demo data
DEMO_COLUMNS = {"data.y_true": "income", "data.y_pred": "prediction", "data.y_score": "score"}
#: groups of repeated questions and the fewest items each needs
GROUPS = {"sensitive_features": 1, "stakeholders": 0}
MAX_ATTEMPTS = 5
_TRUE = frozenset({"y", "yes", "true", "t", "1", "on"})
_FALSE = frozenset({"n", "no", "false", "f", "0", "off"})


class AnswerError(ValueError):
    """An answer that cannot be used for its question; the message says what would be."""


# ---------------------------------------------------------------------------
# paths into the nested answers


def _split(key: str) -> list[str | int]:
    parts: list[str | int] = []
    for chunk in key.split("."):
        name, _, rest = chunk.partition("[")
        if name:
            parts.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            parts.append(int(index))
            rest = rest.removeprefix("[")
    return parts


def get_answer(answers: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """The answer at a key path (``context.framing``, ``sensitive_features[0].column``)."""
    node: Any = answers
    for part in _split(key):
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return default
            node = node[part]
        else:
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
    return default if node is None else node


def set_answer(answers: Answers, key: str, value: Any) -> None:
    """Set the answer at a key path, creating the mappings and list items on the way."""
    parts = _split(key)
    node: Any = answers
    for part, nxt in zip(parts, [*parts[1:], None], strict=True):
        if nxt is None:
            node[part] = value
            return
        empty: Any = [] if isinstance(nxt, int) else {}
        if isinstance(part, int):
            while len(node) <= part:
                node.append({})
            if node[part] is None:
                node[part] = empty
        elif not isinstance(node.get(part), dict | list):
            node[part] = empty
        node = node[part]


# ---------------------------------------------------------------------------
# questions


@dataclass(frozen=True)
class Choice:
    """One answer to a multiple-choice question: the value stored and its plain meaning."""

    value: str
    label: str


@dataclass(frozen=True)
class Question:
    """One scoping question.

    Attributes
    ----------
    key : str
        Where the answer goes in the config: ``context.intervention``; ``[]`` marks a
        repeated group (``sensitive_features[].column``).
    prompt : str
        The question in plain language; in a group it may name the item's earlier
        answers (``{column}``).
    help : str
        What the question means and why it matters.
    kind : {"text", "choice", "bool", "list", "scalar"}
        How a typed answer is read: free text, one of ``choices`` (by value or
        number), yes/no, several items separated by ``;``, or a value that may be a
        number.
    choices : tuple of Choice
        The allowed answers of a ``choice`` question.
    required : bool or callable
        Whether an answer is needed (a callable decides from the answers so far).
    default : object or callable
        The answer used when none is given (a callable decides from the answers).
    when : callable or None
        Whether the question is relevant given the answers so far; None: always.
    flag : str or None
        The ``scrutiny init`` flag that answers it.
    """

    key: str
    prompt: str
    help: str = ""
    kind: Kind = "text"
    choices: tuple[Choice, ...] = ()
    required: bool | Condition = False
    default: Any = None
    when: Condition | None = None
    flag: str | None = None
    label: str | None = field(default=None, compare=False)

    def relevant(self, answers: Mapping[str, Any]) -> bool:
        """Whether the question applies, given the answers so far."""
        return self.when is None or bool(self.when(answers))

    def is_required(self, answers: Mapping[str, Any]) -> bool:
        """Whether the question needs an answer, given the answers so far."""
        req = self.required
        return bool(req(answers)) if callable(req) else bool(req)

    def default_for(self, answers: Mapping[str, Any]) -> Any:
        """The default answer, given the answers so far."""
        return self.default(answers) if callable(self.default) else self.default

    @property
    def name(self) -> str:
        """The field path shown in messages."""
        return self.label or self.key

    def parse(self, raw: Any) -> Any:
        """Read one answer; blank gives None. Raises :class:`AnswerError` with the fix."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if self.kind == "bool":
            return parse_bool(raw, self.name)
        if self.kind == "choice":
            return self._parse_choice(raw)
        if self.kind == "list":
            items = raw if isinstance(raw, list | tuple) else str(raw).split(";")
            out = [str(i).strip() for i in items if str(i).strip()]
            return out or None
        if self.kind == "scalar":
            return parse_scalar(raw)
        return str(raw).strip()

    def _parse_choice(self, raw: Any) -> str:
        values = [c.value for c in self.choices]
        text = normalize_choice(raw)
        if text.isdigit() and 1 <= int(text) <= len(values):
            return values[int(text) - 1]
        if text in values:
            return text
        starts = [v for v in values if v.startswith(text)]
        if len(starts) == 1:
            return starts[0]
        msg = (
            f"{self.name}: {raw!r} is not one of {', '.join(values)} "
            f"(type the value or its number, 1 to {len(values)})."
        )
        raise AnswerError(msg)


def normalize_choice(raw: Any) -> str:
    """``"Quality of service"`` and ``"quality-of-service"`` both read ``quality_of_service``."""
    return "_".join(str(raw).strip().lower().replace("-", " ").split())


def parse_bool(raw: Any, name: str) -> bool:
    """Read yes/no, true/false, y/n, 1/0."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    msg = f"{name}: answer yes or no (got {raw!r})."
    raise AnswerError(msg)


def parse_scalar(raw: Any) -> Any:
    """A typed value: integers and decimals become numbers, anything else stays text."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _goal(a: Mapping[str, Any]) -> Any:
    return get_answer(a, "context.fairness_goal")


def _errors_branch(a: Mapping[str, Any]) -> bool:
    return _goal(a) != "representation"


def _no_source(a: Mapping[str, Any]) -> bool:
    return not any(get_answer(a, f"data.{k}") for k in ("path", "sql", "demo"))


def _demo_default(key: str) -> Condition:
    return lambda a: DEMO_COLUMNS[key] if get_answer(a, "data.demo") else None


QUESTIONS: tuple[Question, ...] = (
    Question(
        "title", "A short title for this audit.",
        "Shown at the top of the config and the report, e.g. 'Loan approval model, 2025 "
        "review'.",
        required=True, flag="--title",
    ),
    Question(
        "context.decision", "What decision does the model inform?",
        "One sentence in everyday words, e.g. 'which loan applications are approved' or "
        "'which patients are offered a care programme'.",
        required=True, flag="--decision",
    ),
    Question(
        "context.affected", "Who is affected by that decision?",
        "The people the decision is about, and anyone else it touches, e.g. 'applicants and "
        "their households'.",
        required=True, flag="--affected",
    ),
    Question(
        "context.framing", "What kind of harm is at stake?",
        "Allocation harms withhold a resource or impose an intervention; quality-of-service "
        "harms happen when the model simply works worse for some people.",
        kind="choice", required=True, flag="--framing",
        choices=(
            Choice("allocation", "Allocation: the model hands out or withholds something "
                   "(a loan, a place, an investigation)"),
            Choice("quality_of_service", "Quality of service: the model works better for some "
                   "people than for others (e.g. speech recognition)"),
            Choice("both", "Both"),
        ),
    ),
    Question(
        "context.intervention", "When the model flags someone, is what follows punitive or "
        "assistive?",
        "This decides which mistake the fairness tree looks at: wrongly flagging people "
        "(punitive) or wrongly missing them (assistive).",
        kind="choice", required=True, flag="--intervention",
        choices=(
            Choice("punitive", "Punitive: it can hurt them (detention, an investigation, a "
                   "refusal)"),
            Choice("assistive", "Assistive: it helps them (benefits, outreach, extra "
                   "support)"),
        ),
    ),
    Question(
        "context.fairness_goal", "Should groups be alike in who is selected, or in who the "
        "model gets wrong?",
        "Representation compares who is selected; errors compares mistakes. If the team has "
        "not decided, the recommendation follows the errors branch and says so.",
        kind="choice", default="unsure", flag="--fairness-goal",
        choices=(
            Choice("representation", "Representation: who is selected, per group"),
            Choice("errors", "Errors: who the model gets wrong, and how"),
            Choice("unsure", "Not decided yet"),
        ),
    ),
    Question(
        "context.representation", "Should each group be selected in equal numbers, or in "
        "proportion to its size?",
        "Equal numbers suits a fixed quota per group; proportional suits selection that "
        "mirrors the population.",
        kind="choice", required=True, flag="--representation",
        when=lambda a: _goal(a) == "representation",
        choices=(
            Choice("equal_numbers", "The same number of people from each group"),
            Choice("proportional", "Each group in proportion to its size"),
        ),
    ),
    Question(
        "context.intervention_reach", "Can the help reach most of the people who need it, or "
        "only a small fraction?",
        "When help is scarce, what matters most is that people in need are found at similar "
        "rates in every group.",
        kind="choice", flag="--intervention-reach",
        when=lambda a: _errors_branch(a)
        and get_answer(a, "context.intervention") == "assistive",
        choices=(
            Choice("small_fraction", "Only a small fraction of those who need it"),
            Choice("most_in_need", "Most of those who need it"),
        ),
    ),
    Question(
        "context.concern", "Among whom does it matter most that mistakes are spread equally?",
        "The people wrongly punished can be counted among everyone, among those flagged, or "
        "among those who did not warrant it.",
        kind="choice", flag="--concern",
        when=lambda a: _errors_branch(a)
        and get_answer(a, "context.intervention") == "punitive",
        choices=(
            Choice("everyone", "Everyone in a group, whatever their actual outcome"),
            Choice("intervened", "The people who are flagged and intervened on"),
            Choice("not_in_need", "The people for whom the intervention is not warranted"),
        ),
    ),
    Question(
        "context.concern", "Among whom does it matter most that mistakes are spread equally?",
        "The people wrongly left without help can be counted among everyone, among those "
        "not helped, or among those who need help.",
        kind="choice", flag="--concern",
        when=lambda a: _errors_branch(a)
        and get_answer(a, "context.intervention") == "assistive"
        and get_answer(a, "context.intervention_reach") != "small_fraction",
        choices=(
            Choice("everyone", "Everyone in a group, whatever their actual need"),
            Choice("not_intervened", "The people who do not receive help"),
            Choice("in_need", "The people who actually need help"),
        ),
    ),
    Question(
        "context.costlier_error", "Which mistake costs more?",
        "A false positive flags someone who should not be flagged; a false negative misses "
        "someone who should be. Decide it with the people affected if you can.",
        kind="choice", default="unsure", flag="--costlier-error",
        choices=(
            Choice("false_positive", "Flagging someone who should not be (false positive)"),
            Choice("false_negative", "Missing someone who should be flagged (false negative)"),
            Choice("equal", "Both cost about the same"),
            Choice("unsure", "Not decided yet"),
        ),
    ),
    Question(
        "context.costlier_error_for", "Who bears that costlier mistake?",
        "In your own words, e.g. 'applicants wrongly refused credit'. Blank to skip.",
        flag="--costlier-error-for",
        when=lambda a: get_answer(a, "context.costlier_error") in ("false_positive",
                                                                   "false_negative"),
    ),
    Question(
        "context.labels_trusted", "Do the recorded outcomes measure the real outcome equally "
        "well for every group?",
        "Answer no if, say, the label 'reoffended' really records 're-arrested' and some "
        "groups are policed more. Error-based metrics inherit any bias in the labels.",
        kind="bool", required=True, flag="--labels-trusted or --labels-untrusted",
    ),
    Question(
        "context.base_rates_trusted", "Do the groups' observed base rates reflect reality?",
        "Answer no if unequal testing, reporting or policing shapes how often the outcome is "
        "recorded in each group.",
        kind="bool", default=True, flag="--base-rates-trusted or --base-rates-untrusted",
    ),
    Question(
        "context.legal_constraints", "Any legal or policy constraints on this model?",
        "E.g. 'sex may not be a model input'. Separate several with ';'. Blank for none.",
        kind="list", flag="--legal-constraint",
    ),
    Question(
        "sensitive_features[].column", "Which column holds a sensitive feature to compare "
        "groups by?",
        "One column per answer (sex, age_band, ...). Blank when you have listed them all.",
        required=True, flag="--sensitive COLUMN=JUSTIFICATION",
    ),
    Question(
        "sensitive_features[].justification", "Why examine {column}?",
        "A legal protection, a known harm, a stakeholder's request... This reason is kept "
        "in the audit record.",
        required=True, flag="--sensitive {column}=JUSTIFICATION",
    ),
    Question(
        "sensitive_features[].reference", "A reference group for {column}, only if the team "
        "chose one.",
        "Gaps are then measured against this group. Blank for none: gaps compare the best "
        "and worst groups, and no group is assumed to be the norm.",
        kind="scalar", flag="--reference {column}=VALUE",
    ),
    Question(
        "stakeholders[].name", "Who has a stake in this model? A person or group.",
        "Decision owners, affected people or their representatives, legal, domain experts. "
        "Blank when you have listed them all.",
        flag="--stakeholder NAME=ROLE",
    ),
    Question(
        "stakeholders[].role", "What is {name}'s role in this audit?",
        "E.g. 'decision owner', 'reviewer', 'affected community representative'.",
        required=True, flag="--stakeholder {name}=ROLE",
    ),
    Question(
        "stakeholders[].interest", "What does {name} care about here? (optional)",
        "Their stake in the outcome, in a few words. Blank to skip.",
    ),
    Question(
        "data.path", "Where are the rows (one per person, with outcomes and predictions)?",
        "The path of a CSV or Parquet file, relative to the config. Type 'demo' to use the "
        "bundled UCI Adult data.",
        required=True, flag="--data, --sql or --demo", when=_no_source,
    ),
    Question(
        "data.y_true", "Which column holds the observed outcomes?",
        "The recorded truth the predictions are compared with.",
        required=True, default=_demo_default("data.y_true"), flag="--y-true",
    ),
    Question(
        "data.y_pred", "Which column holds the predicted labels?",
        "The model's decisions. Blank if you only have scores.",
        default=_demo_default("data.y_pred"), flag="--y-pred",
        when=lambda a: not get_answer(a, "data.model"),
    ),
    Question(
        "data.y_score", "Which column holds the scores or probabilities?",
        "Needed for calibration and ranking metrics. Blank if there are none.",
        default=_demo_default("data.y_score"), flag="--y-pred or --y-score",
        label="data.y_pred or data.y_score",
        when=lambda a: not get_answer(a, "data.model"),
        required=lambda a: not get_answer(a, "data.y_pred"),
    ),
)


def _group_of(key: str) -> str | None:
    return key.split("[]", 1)[0] if "[]" in key else None


def _steps() -> list[Question | tuple[str, list[Question]]]:
    """The questions in order, with each repeated group gathered into one step."""
    steps: list[Question | tuple[str, list[Question]]] = []
    for q in QUESTIONS:
        group = _group_of(q.key)
        if group is None:
            steps.append(q)
        elif steps and isinstance(steps[-1], tuple) and steps[-1][0] == group:
            steps[-1][1].append(q)
        else:
            steps.append((group, [q]))
    return steps


def _item_question(q: Question, group: str, index: int, item: Mapping[str, Any]) -> Question:
    """A group question made concrete for one item: indexed key, its answers in the prompt."""
    fields = {k: v for k, v in item.items() if v is not None}
    field_name = q.key.split("].", 1)[1]

    def fill(text: str | None) -> str | None:
        if text is None:
            return None
        try:
            return text.format(**fields)
        except (KeyError, IndexError, ValueError):
            return text

    return replace(
        q, key=f"{group}[{index}].{field_name}", prompt=fill(q.prompt) or q.prompt,
        flag=fill(q.flag),
    )


# ---------------------------------------------------------------------------
# asking


def _silent(_: str) -> None:
    return None


def _ask_one(q: Question, answers: Answers, prompt: Prompt, say: Say) -> Any:
    """Ask until the answer is usable; None when the question was left blank and is optional."""
    default = q.default_for(answers)
    problem = ""
    for _ in range(MAX_ATTEMPTS):
        raw = prompt(q, default)
        try:
            value = q.parse(raw)
        except AnswerError as exc:
            problem = str(exc)
            say(problem)
            continue
        if value is None:
            value = default
        if value is None and q.is_required(answers):
            problem = f"{q.name}: an answer is required."
            say(problem)
            continue
        return value
    msg = f"No usable answer for {q.name} after {MAX_ATTEMPTS} tries. Last problem: {problem}"
    raise ConfigError(msg)


def _store(q: Question, answers: Answers, value: Any) -> None:
    if q.key == "data.path" and isinstance(value, str) and value.lower() == "demo":
        set_answer(answers, "data.demo", "adult")
    else:
        set_answer(answers, q.key, value)


def _ask_group(group: str, qs: list[Question], answers: Answers, prompt: Prompt,
               say: Say) -> None:
    items = answers.get(group)
    if items:
        # answers were given (file or flags): only fill the gaps in them
        if not isinstance(items, list):
            return  # left for validation, which names the path
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            for q in qs:
                concrete = _item_question(q, group, i, item)
                if get_answer(answers, concrete.key) is None and concrete.is_required(answers):
                    _store(concrete, answers, _ask_one(concrete, answers, prompt, say))
        return
    answers[group] = []
    first, rest = qs[0], qs[1:]
    index = 0
    while True:
        concrete = _item_question(first, group, index, {})
        needed = index < GROUPS.get(group, 0)
        value = _ask_one(replace(concrete, required=needed), answers, prompt, say)
        if value is None:
            break
        answers[group].append({})
        set_answer(answers, concrete.key, value)
        for q in rest:
            item_q = _item_question(q, group, index, answers[group][index])
            value = _ask_one(item_q, answers, prompt, say)
            if value is not None:
                set_answer(answers, item_q.key, value)
        index += 1
    if not answers[group]:
        del answers[group]


def ask(prompt: Prompt, answers: Mapping[str, Any] | None = None, *,
        say: Say = _silent) -> Answers:
    """Ask every relevant question not answered yet, through ``prompt``.

    Parameters
    ----------
    prompt : callable
        ``prompt(question, default)`` returns the raw answer (a string; blank or None
        keeps the default). A choice may be typed as its value, its number or an
        unambiguous start of its value.
    answers : mapping, optional
        Answers already given (answers file, flags); those questions are skipped.
    say : callable, optional
        Shows a message, for instance why an answer was not accepted.

    Returns
    -------
    dict
        The answers, nested like the config.

    Raises
    ------
    ConfigError
        A question got no usable answer after several tries.
    """
    out: Answers = copy.deepcopy(dict(answers or {}))
    for step in _steps():
        if isinstance(step, tuple):
            _ask_group(step[0], step[1], out, prompt, say)
            continue
        q = step
        if not q.relevant(out) or get_answer(out, q.key) is not None:
            continue
        value = _ask_one(q, out, prompt, say)
        if value is not None:
            _store(q, out, value)
    return out


# ---------------------------------------------------------------------------
# from answers to a config


def missing_answers(answers: Mapping[str, Any]) -> list[str]:
    """The required answers still missing, each as ``field.path (how to give it)``."""
    out: list[str] = []
    for step in _steps():
        if isinstance(step, tuple):
            group, qs = step
            items = answers.get(group)
            if not items:
                if GROUPS.get(group, 0):
                    out.append(f"{group} (at least one: {qs[0].flag})")
                continue
            if not isinstance(items, list):
                continue  # validation names the path
            for i, item in enumerate(items):
                if not isinstance(item, Mapping):
                    continue
                for q in qs:
                    concrete = _item_question(q, group, i, item)
                    if concrete.is_required(answers) and get_answer(answers, concrete.key) is None:
                        out.append(f"{concrete.key} ({concrete.flag})" if concrete.flag
                                   else concrete.key)
            continue
        q = step
        if q.relevant(answers) and q.is_required(answers) and get_answer(answers, q.key) is None \
                and q.default_for(answers) is None:
            out.append(f"{q.name} ({q.flag})" if q.flag else q.name)
    return out


def require_complete(answers: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` naming every required answer that is missing."""
    missing = missing_answers(answers)
    if missing:
        msg = (
            "Missing required answers: " + "; ".join(missing) + ". Give them as flags or in "
            "an --answers file, or run `scrutiny init` in a terminal to be asked."
        )
        raise ConfigError(msg)


def _clean(value: Any) -> Any:
    """Drop blank answers (None, empty text) so the config's defaults apply."""
    if isinstance(value, Mapping):
        out = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str):
        return value.strip() or None
    return value


def build_config(answers: Mapping[str, Any]) -> dict[str, Any]:
    """An :class:`~scrutiny.audit.AuditConfig`-compatible mapping from the answers.

    Blank answers are dropped (the config's defaults apply); choices are read
    loosely (``Quality of service`` → ``quality_of_service``); yes/no text
    becomes booleans; relevant defaults are filled in (the demo data's
    columns); ``legal_constraints`` given as ``a; b`` becomes a list. Every
    other key passes through unchanged, so an answers file may carry any
    config section and unknown keys are reported by validation.
    """
    out = _clean(copy.deepcopy(dict(answers)))
    seen: set[str] = set()
    for q in QUESTIONS:
        if "[]" in q.key or q.key in seen:
            continue
        seen.add(q.key)
        value = get_answer(out, q.key)
        if value is None:
            default = q.default_for(out)
            if default is not None and q.relevant(out) and q.key.startswith("data."):
                set_answer(out, q.key, default)
            continue
        if q.kind == "choice" and isinstance(value, str):
            set_answer(out, q.key, normalize_choice(value))
        elif q.kind == "bool" and isinstance(value, str):
            try:
                set_answer(out, q.key, parse_bool(value, q.key))
            except AnswerError as exc:
                msg = f"Invalid answer: {exc}"
                raise ConfigError(msg) from None
        elif q.kind == "list" and isinstance(value, str):
            set_answer(out, q.key, q.parse(value) or [])
    return out


def check_given(answers: Mapping[str, Any], *, source: str = "in the answers") -> None:
    """Report problems in the answers given so far, before any question is asked.

    Missing answers are left for the questions; anything else (an unknown key,
    a wrong type, a value outside the choices) raises :class:`ConfigError`
    naming the field path, so nobody answers twenty questions to learn that
    the answers file had a typo.
    """
    from pydantic import ValidationError

    from scrutiny.audit._config import _path

    try:
        AuditConfig.model_validate(build_config(answers))
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            if err["type"] in ("missing", "value_error"):
                continue  # to be asked (value errors need complete sections)
            path = _path(tuple(p for p in err["loc"] if not str(p).startswith("function-")))
            if err["type"] == "extra_forbidden":
                lines.append(f"{path}: unknown key. Remove it or check its spelling.")
            else:
                got = err.get("input")
                shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
                lines.append(f"{path}: {err['msg']} (got {shown}).")
        if lines:
            msg = f"Invalid answers {source}: " + " ".join(lines)
            raise ConfigError(msg) from None


def config_from_answers(answers: Mapping[str, Any]) -> AuditConfig:
    """Validate the answers as an :class:`~scrutiny.audit.AuditConfig`.

    Raises
    ------
    ConfigError
        Naming the field path of every problem.
    """
    return parse_config(build_config(answers), source="from the answers")


# ---------------------------------------------------------------------------
# showing the recommendation and writing the config


def _wrap(text: str, indent: str, width: int = 96) -> list[str]:
    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent)


def format_recommendation(rec: Recommendation, *, width: int = 96) -> str:
    """The recommendation as plain text: criteria with rationale, what was left out and why."""
    lines = ["Recommended criteria (a starting point: the team decides):"]
    for item in rec.recommended:
        lines.append(f"  * {item.label} [{item.role}]: {', '.join(item.metrics)}")
        lines += _wrap(item.rationale, "      ", width)
    lines.append("Not recommended, and why:")
    for item in rec.not_recommended:
        lines += _wrap(f"{item.label}: {item.rationale}", "  - ", width)[:1]
        lines += _wrap(f"{item.label}: {item.rationale}", "    ", width)[1:]
    if rec.caveats:
        lines.append("Read with care:")
        for c in rec.caveats:
            wrapped = _wrap(c, "    ", width)
            lines += ["  ! " + wrapped[0].lstrip(), *wrapped[1:]]
    return "\n".join(lines)


def render_yaml(config: AuditConfig, rec: Recommendation | None = None, *,
                today: dt.date | None = None) -> str:
    """The config as YAML, after a comment header with the recommendation it leads to."""
    from scrutiny import __version__

    rec = rec if rec is not None else recommend(config.context)
    day = (today or dt.date.today()).isoformat()
    head = [
        f"Audit config: {config.title}",
        f"Written by `scrutiny init` (scrutiny {__version__}) on {day}.",
        "Review it with the stakeholders and edit it freely: every run validates it, and "
        "each error names the field path. Reference groups are set only where the team "
        "chose one.",
        "",
        "The context below leads to this recommendation (recomputed from `context` on every "
        "run and stored, with its rationale, in the audit record):",
    ]
    lines = [f"# {line}" if line else "#" for text in head
             for line in (textwrap.wrap(text, 96) or [""])]
    lines += [f"# {line}" if line.strip() else "#"
              for line in format_recommendation(rec, width=94).splitlines()]
    return "\n".join(lines) + "\n\n" + dump_config(config)


def interview(prompt: Prompt, answers: Mapping[str, Any] | None = None, *,
              say: Say = _silent,
              show: Callable[[Recommendation], None] | None = None,
              ) -> tuple[AuditConfig, Recommendation]:
    """Ask the questions, validate the config, and show the recommendation.

    Returns
    -------
    (AuditConfig, Recommendation)
        The validated config and the recommendation shown, to write once confirmed.
    """
    config = config_from_answers(ask(prompt, answers, say=say))
    rec = recommend(config.context)
    if show is not None:
        show(rec)
    else:
        say(format_recommendation(rec))
    return config, rec

"""``scrutiny init`` and the questionnaire behind it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from scrutiny.audit import AuditConfig, load_config, recommend
from scrutiny.audit._init import (
    QUESTIONS,
    ask,
    build_config,
    config_from_answers,
    format_recommendation,
    get_answer,
    interview,
    missing_answers,
    render_yaml,
    set_answer,
)
from scrutiny.cli import main
from scrutiny.exceptions import ConfigError

FLAGS = [
    "--title", "Benefit fraud triage",
    "--decision", "Which claims are sent for a fraud investigation",
    "--affected", "Benefit claimants",
    "--framing", "allocation",
    "--intervention", "punitive",
    "--fairness-goal", "errors",
    "--concern", "intervened",
    "--costlier-error", "false-positive",
    "--labels-trusted",
    "--sensitive", "nationality=Protected characteristic; past complaints",
    "--sensitive", "age_band=Requested by the claimants' advisory panel",
    "--reference", "age_band=30-44",
    "--stakeholder", "Fraud unit=decision owner",
    "--legal-constraint", "Nationality may not be a model input.",
    "--data", "claims.csv", "--y-true", "fraud", "--y-pred", "flagged",
]

ANSWERS = {
    "title": "Care programme invitations",
    "context": {
        "decision": "Who is invited to a care-management programme",
        "affected": "Patients of the health system",
        "framing": "both",
        "fairness_goal": "errors",
        "intervention": "assistive",
        "intervention_reach": "small_fraction",
        "costlier_error": "false_negative",
        "costlier_error_for": "patients who need care and are not invited",
        "labels_trusted": False,
        "legal_constraints": ["Race may not be a model input."],
    },
    "sensitive_features": [
        {"column": "race", "justification": "Known harm: cost-based labels under-refer "
         "Black patients."},
    ],
    "stakeholders": [{"name": "Clinical lead", "role": "decision owner"}],
    "data": {"path": "patients.parquet", "y_true": "needs_care", "y_score": "risk"},
}


@pytest.fixture
def runner():
    return CliRunner()


def _init(runner, tmp_path, *args, input=None):
    out = tmp_path / "audit.yaml"
    res = runner.invoke(main, ["init", "--out", str(out), *args], input=input)
    return res, out


def _one_line_error(res):
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    return lines[0]


# ---------------------------------------------------------------------------
# non-interactive


def test_flags_with_no_input(runner, tmp_path):
    res, out = _init(runner, tmp_path, *FLAGS, "--no-input")
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert text.startswith("# Audit config: Benefit fraud triage\n")
    assert "# Written by `scrutiny init`" in text
    cfg = load_config(out)
    assert cfg.context.costlier_error == "false_positive"  # read loosely from the flag
    assert cfg.sensitive_features[1].reference == "30-44"
    assert cfg.sensitive_features[0].reference is None
    assert cfg.stakeholders[0].role == "decision owner"
    assert cfg.context.legal_constraints == ["Nationality may not be a model input."]
    assert recommend(cfg.context).criteria[0] == "fdr_parity"
    # the recommendation is shown before writing, and kept in the header
    assert "False discovery rate parity" in res.stdout
    assert "Not recommended, and why" in res.stdout
    assert "#   * False discovery rate parity [primary]" in text
    assert res.stdout.index("Not recommended") < res.stdout.index("Wrote")


def test_answers_file_yaml(runner, tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(ANSWERS, sort_keys=False))
    res, out = _init(runner, tmp_path, "--answers", str(answers), "--no-input")
    assert res.exit_code == 0, res.output
    cfg = load_config(out)
    assert cfg.title == ANSWERS["title"]
    assert cfg.data.y_score == "risk" and cfg.data.y_pred is None
    rec = recommend(cfg.context)
    assert rec.criteria[0] == "recall_parity"
    assert {"accuracy_parity", "fnr_parity", "demographic_parity"} <= set(rec.criteria)


def test_answers_file_json_and_flags_override(runner, tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(ANSWERS))
    res, out = _init(runner, tmp_path, "--answers", str(answers), "--no-input",
                     "--intervention-reach", "most_in_need", "--concern", "not_intervened",
                     "--labels-trusted", "--title", "Overridden")
    assert res.exit_code == 0, res.output
    cfg = load_config(out)
    assert cfg.title == "Overridden"
    assert cfg.context.labels_trusted is True
    assert recommend(cfg.context).criteria[0] == "for_parity"


@pytest.mark.parametrize(
    ("extra", "primary"),
    [
        (["--fairness-goal", "representation", "--representation", "equal_numbers"],
         "equal_selection_parity"),
        (["--fairness-goal", "representation", "--representation", "proportional"],
         "demographic_parity"),
        (["--concern", "everyone"], "fp_gs_parity"),
        (["--concern", "not_in_need"], "fpr_parity"),
        (["--intervention", "assistive", "--intervention-reach", "small_fraction"],
         "recall_parity"),
        (["--intervention", "assistive", "--intervention-reach", "most_in_need",
          "--concern", "everyone"], "fn_gs_parity"),
        (["--intervention", "assistive", "--concern", "in_need"], "fnr_parity"),
        (["--fairness-goal", "unsure", "--framing", "quality_of_service"], "accuracy_parity"),
    ],
)
def test_written_config_gives_the_expected_primary(runner, tmp_path, extra, primary):
    res, out = _init(runner, tmp_path, *FLAGS, "--no-input", "--quiet", *extra)
    assert res.exit_code == 0, res.output
    assert recommend(load_config(out).context).criteria[0] == primary


def test_missing_answer_with_no_input(runner, tmp_path):
    flags = [f for f in FLAGS if f != "--labels-trusted"]
    res, out = _init(runner, tmp_path, *flags, "--no-input")
    line = _one_line_error(res)
    assert "context.labels_trusted" in line
    assert "--labels-trusted or --labels-untrusted" in line
    assert "context.decision" not in line
    assert not out.exists()


def test_everything_missing_names_every_field(runner, tmp_path):
    res, _ = _init(runner, tmp_path, "--no-input")
    line = _one_line_error(res)
    for path in ("title", "context.decision", "context.affected", "context.framing",
                 "context.intervention", "context.labels_trusted", "sensitive_features",
                 "data.path", "data.y_true", "data.y_pred or data.y_score"):
        assert path in line, path


def test_without_a_terminal_nothing_is_asked(runner, tmp_path):
    # CliRunner's standard input is not a terminal: missing answers are an error, not prompts
    res, _ = _init(runner, tmp_path, "--title", "x", input="ignored\n")
    line = _one_line_error(res)
    assert "context.decision" in line


def test_sensitive_without_justification(runner, tmp_path):
    flags = [*FLAGS, "--sensitive", "disability"]
    res, _ = _init(runner, tmp_path, *flags, "--no-input")
    line = _one_line_error(res)
    assert "sensitive_features[2].justification" in line
    assert "--sensitive disability=JUSTIFICATION" in line


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--framing", "alloc"], "context.framing"),
        (["--reference", "sex=F"], "--reference: 'sex' is not a sensitive feature"),
        (["--stakeholder", "=owner"], "--stakeholder"),
        (["--sql", "select 1"], "data: exactly one of path, sql or demo"),
        (["--demo"], "data: exactly one of path, sql or demo"),
    ],
)
def test_bad_flags_exit_2_with_one_line(runner, tmp_path, extra, fragment):
    res, out = _init(runner, tmp_path, *FLAGS, "--no-input", *extra)
    assert fragment in _one_line_error(res)
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("title: [unclosed\n", "is not valid YAML or JSON at line 2"),
        ("- a list\n", "must hold a mapping"),
        ("titel: typo\n", "titel: unknown key"),
        ("titel: typo\n", "context.labels_trusted (--labels-trusted or --labels-untrusted)"),
        ("context:\n  labels_trusted: perhaps\n", "context.labels_trusted"),
    ],
)
def test_bad_answers_file(runner, tmp_path, content, fragment):
    answers = tmp_path / "answers.yaml"
    answers.write_text(content)
    args = ["--answers", str(answers), "--no-input"]
    if content.startswith(("titel", "context")):
        args += [a for a in FLAGS if a != "--labels-trusted"]
    res, _ = _init(runner, tmp_path, *args)
    assert fragment in _one_line_error(res)


def test_missing_answers_file(runner, tmp_path):
    res, _ = _init(runner, tmp_path, "--answers", str(tmp_path / "nope.yaml"))
    assert "does not exist" in _one_line_error(res)


def test_refuses_to_overwrite(runner, tmp_path):
    out = tmp_path / "audit.yaml"
    out.write_text("keep me\n")
    res, _ = _init(runner, tmp_path, *FLAGS, "--no-input")
    line = _one_line_error(res)
    assert "already exists" in line and "--force" in line
    assert out.read_text() == "keep me\n"
    res, _ = _init(runner, tmp_path, *FLAGS, "--no-input", "--force", "--quiet")
    assert res.exit_code == 0, res.output
    assert load_config(out).title == "Benefit fraud triage"


def test_out_is_a_folder(runner, tmp_path):
    res = runner.invoke(main, ["init", "--out", str(tmp_path), *FLAGS, "--no-input"])
    assert "is a folder" in _one_line_error(res)


def test_out_in_a_new_folder(runner, tmp_path):
    out = tmp_path / "audits" / "fraud.yaml"
    res = runner.invoke(main, ["init", "--out", str(out), *FLAGS, "--no-input", "--quiet"])
    assert res.exit_code == 0, res.output
    assert load_config(out).title == "Benefit fraud triage"


# ---------------------------------------------------------------------------
# interactive

# one line per question, in order (blank keeps the default)
INTERACTIVE = "\n".join([
    "Loan approvals",                    # title
    "Which loan applications are approved",  # decision
    "Applicants and their households",   # affected
    "1",                                 # framing: allocation (by number)
    "assistive",                         # intervention
    "errors",                            # fairness goal
    "most",                              # reach: most_in_need (by unambiguous start)
    "maybe",                             # concern: not accepted, asked again
    "in_need",                           # concern
    "false negative",                    # costlier error
    "applicants wrongly refused",        # who bears it
    "perhaps",                           # labels trusted: not yes/no, asked again
    "no",                                # labels trusted
    "",                                  # base rates trusted: keep yes
    "No sex as input; Consumer credit law",  # legal constraints
    "sex",                               # sensitive feature
    "Protected characteristic; known gaps in approvals",  # justification
    "",                                  # reference: none
    "",                                  # no more sensitive features
    "Credit team",                       # stakeholder
    "decision owner",                    # role
    "",                                  # interest: skip
    "",                                  # no more stakeholders
    "demo",                              # data
    "",                                  # y_true: income
    "",                                  # y_pred: prediction
    "",                                  # y_score: score
    "y",                                 # write?
]) + "\n"


def test_interactive(runner, tmp_path):
    res, out = _init(runner, tmp_path, "--interactive", input=INTERACTIVE)
    assert res.exit_code == 0, res.output
    assert "is not one of everyone, not_intervened, in_need" in res.output
    assert "answer yes or no" in res.output
    assert "Recommended fairness criteria" in res.output
    assert res.output.index("Not recommended") < res.output.index("Write ")
    cfg = load_config(out)
    c = cfg.context
    assert (c.framing, c.intervention, c.intervention_reach, c.concern) == (
        "allocation", "assistive", "most_in_need", "in_need")
    assert c.costlier_error == "false_negative" and c.labels_trusted is False
    assert c.base_rates_trusted is True
    assert c.legal_constraints == ["No sex as input", "Consumer credit law"]
    assert cfg.sensitive_features[0].reference is None
    assert cfg.stakeholders[0].name == "Credit team"
    assert cfg.data.demo == "adult" and cfg.data.y_true == "income"
    assert cfg.data.y_score == "score"
    assert recommend(c).criteria[0] == "fnr_parity"


def test_interactive_asks_only_what_is_missing(runner, tmp_path):
    flags = [f for f in FLAGS if f not in ("--labels-trusted",)]
    # labels trusted: no; base rates: keep; y_score (optional): none; write: yes
    res, out = _init(runner, tmp_path, *flags, "--interactive", input="no\n\n\ny\n")
    assert res.exit_code == 0, res.output
    assert "(context.labels_trusted)" in res.output
    assert "(context.decision)" not in res.output
    assert load_config(out).context.labels_trusted is False


def test_interactive_reports_a_bad_answers_file_before_asking(runner, tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("title: x\ncontext:\n  framing: alloc\n  decison: y\n")
    res, out = _init(runner, tmp_path, "--answers", str(answers), "--interactive",
                     input="whatever\n" * 40)
    line = _one_line_error(res)
    assert "context.framing" in line and "context.decison: unknown key" in line
    assert "(context.decision)" not in res.stdout  # nothing was asked
    assert not out.exists()


def test_interactive_declined_writes_nothing(runner, tmp_path):
    res, out = _init(runner, tmp_path, *FLAGS, "--interactive", input="\nn\n")
    assert res.exit_code == 1, res.output
    assert "Nothing written" in res.output
    assert not out.exists()


def test_interactive_input_ends_early(runner, tmp_path):
    res, out = _init(runner, tmp_path, "--interactive", input="A title\n")
    assert "Input ended" in _one_line_error(res)
    assert not out.exists()


def test_interactive_gives_up_after_repeated_bad_answers(runner, tmp_path):
    flags = [f for f in FLAGS if f not in ("--labels-trusted",)]
    res, _ = _init(runner, tmp_path, *flags, "--interactive", input="x\n" * 6)
    line = _one_line_error(res)
    assert "context.labels_trusted" in line


# ---------------------------------------------------------------------------
# the questionnaire without click


def scripted(replies, asked=None):
    """A prompt that answers by key path; unknown keys are left blank."""
    def prompt(question, default):
        if asked is not None:
            asked.append(question.key)
        return replies.get(question.key, "")
    return prompt


BASE_REPLIES = {
    "title": "t", "context.decision": "d", "context.affected": "a",
    "context.framing": "allocation", "context.labels_trusted": "yes",
    "sensitive_features[0].column": "sex",
    "sensitive_features[0].justification": "a protected characteristic",
    "data.path": "p.csv", "data.y_true": "y", "data.y_pred": "yhat",
}


@pytest.mark.parametrize(
    ("replies", "asked", "not_asked"),
    [
        ({"context.intervention": "punitive"}, ["context.concern"],
         ["context.intervention_reach", "context.representation"]),
        ({"context.intervention": "assistive"},
         ["context.intervention_reach", "context.concern"], ["context.representation"]),
        ({"context.intervention": "assistive", "context.intervention_reach": "small_fraction"},
         ["context.intervention_reach"], ["context.concern"]),
        ({"context.intervention": "assistive", "context.fairness_goal": "representation",
          "context.representation": "proportional"},
         ["context.representation"], ["context.intervention_reach", "context.concern"]),
        ({"context.intervention": "punitive", "context.costlier_error": "false_positive"},
         ["context.costlier_error_for"], []),
        ({"context.intervention": "punitive", "context.costlier_error": "equal"},
         [], ["context.costlier_error_for"]),
        ({"context.intervention": "punitive", "data.path": "demo"},
         ["data.y_true"], ["data.sql"]),
    ],
)
def test_questions_follow_the_answers(replies, asked, not_asked):
    seen = []
    answers = ask(scripted({**BASE_REPLIES, **replies}, seen))
    for key in asked:
        assert key in seen, (key, seen)
    for key in not_asked:
        assert key not in seen, (key, seen)
    config_from_answers(answers)


def test_concern_choices_depend_on_the_intervention():
    shown = {}

    def prompt(question, default):
        if question.key == "context.concern":
            shown[get_answer(answers_so_far, "context.intervention")] = [
                c.value for c in question.choices]
        return {**BASE_REPLIES, "context.intervention": intervention}.get(question.key, "")

    for intervention in ("punitive", "assistive"):
        answers_so_far = {"context": {"intervention": intervention}}
        ask(prompt, answers_so_far)
    assert shown == {
        "punitive": ["everyone", "intervened", "not_in_need"],
        "assistive": ["everyone", "not_intervened", "in_need"],
    }


def test_demo_fills_the_demo_columns():
    answers = ask(scripted({**BASE_REPLIES, "context.intervention": "2", "data.path": "DEMO",
                            "data.y_true": "", "data.y_pred": ""}))
    cfg = config_from_answers(answers)
    assert cfg.data.demo == "adult" and cfg.data.path is None
    assert (cfg.data.y_true, cfg.data.y_pred, cfg.data.y_score) == ("income", "prediction",
                                                                     "score")
    assert cfg.context.intervention == "assistive"


def test_interview_shows_the_recommendation_before_returning():
    said = []
    cfg, rec = interview(scripted({**BASE_REPLIES, "context.intervention": "punitive",
                                   "context.concern": "3"}), say=said.append)
    assert isinstance(cfg, AuditConfig)
    assert rec.criteria[0] == "fpr_parity"
    assert said and "False positive rate parity [primary]" in said[-1]
    assert "Not recommended, and why" in said[-1]


def test_every_question_answers_a_config_field():
    for q in QUESTIONS:
        assert q.prompt.strip() and q.help.strip(), q.key
        parts = q.key.replace("[]", "").split(".")
        model = AuditConfig
        for part in parts:
            assert part in model.model_fields, q.key
            ann = model.model_fields[part].annotation
            inner = getattr(ann, "__args__", (ann,))
            model = next((t for t in inner if hasattr(t, "model_fields")), None)
            if model is None:
                break
        if q.kind == "choice":
            assert q.choices, q.key


def test_missing_answers_and_build_config():
    assert "context.decision (--decision)" in missing_answers({})
    answers = {}
    set_answer(answers, "sensitive_features[0].column", "sex")
    set_answer(answers, "context.framing", "Quality of Service")
    set_answer(answers, "context.labels_trusted", "No")
    set_answer(answers, "context.legal_constraints", "a; b")
    set_answer(answers, "context.decision", "  ")
    built = build_config(answers)
    assert built["context"] == {"framing": "quality_of_service", "labels_trusted": False,
                                "legal_constraints": ["a", "b"]}
    assert "sensitive_features[0].justification (--sensitive sex=JUSTIFICATION)" in (
        missing_answers(answers))
    with pytest.raises(ConfigError, match=r"context\.decision: required but missing"):
        config_from_answers(answers)


def test_render_yaml_header_is_all_comments_and_loads(tmp_path):
    answers = ask(scripted({**BASE_REPLIES, "context.intervention": "punitive"}))
    cfg = config_from_answers(answers)
    rec = recommend(cfg.context)
    text = render_yaml(cfg, rec)
    header = text.split("\n\n", 1)[0]
    assert all(line.startswith("#") for line in header.splitlines())
    assert format_recommendation(rec).splitlines()[0] in header
    p = tmp_path / "a.yaml"
    p.write_text(text)
    assert load_config(p) == cfg


# ---------------------------------------------------------------------------
# the scoping guide

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "scoping.md"


def test_every_init_flag_is_documented(runner):
    help_text = runner.invoke(main, ["init", "--help"]).output
    flags = {w.strip(",") for w in help_text.split() if w.startswith("--") and len(w) > 3}
    flags -= {"--help"}
    doc = GUIDE.read_text()
    missing = sorted(f for f in flags if f not in doc)
    assert not missing, f"flags not in docs/guide/scoping.md: {missing}"


def test_guide_example_answers_file_works(runner, tmp_path):
    doc = GUIDE.read_text()
    block = doc.split("## Example answers file", 1)[1].split("```yaml\n", 1)[1].split("```")[0]
    answers = tmp_path / "answers.yaml"
    answers.write_text(block)
    res, out = _init(runner, tmp_path, "--answers", str(answers), "--no-input", "--quiet")
    assert res.exit_code == 0, res.output
    rec = recommend(load_config(out).context)
    assert rec.criteria[:2] == ["fpr_parity", "demographic_parity"]
    assert "`fpr_parity`" in doc.split("## Example answers file", 1)[1]


def test_guide_question_table_lists_every_question():
    doc = GUIDE.read_text()
    for q in QUESTIONS:
        key = q.key if "[]" not in q.key or q.key.endswith(("column", "justification",
                                                            "reference", "name")) else None
        if key:
            assert f"`{key}`" in doc, key

"""``scrutiny demo``: the whole audit on the bundled Adult data, with a model trained on the fly.

The context is an illustration, stated in the config the demo writes: a
model that predicts whether income exceeds 50K is used to pre-select people
for a financial-advice programme (an assistive, scarce intervention).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from scrutiny.audit._config import AuditConfig, parse_config

MODEL_FILE = "model.skops"
NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CATEGORICAL = ["workclass", "education", "marital_status", "occupation", "relationship",
               "native_country"]

DEMO_CONFIG: dict[str, Any] = {
    "title": "Demo: income model used to pre-select people for a financial-advice programme",
    "context": {
        "decision": "Who is invited to a free financial-advice programme with few places "
        "(illustrative: the Adult data has no such programme).",
        "affected": "Adults in the 1994 US census extract (UCI Adult)",
        "framing": "allocation",
        "fairness_goal": "errors",
        "intervention": "assistive",
        "intervention_reach": "small_fraction",
        "costlier_error": "false_negative",
        "costlier_error_for": "people who would benefit but are not invited",
        "labels_trusted": True,
        "base_rates_trusted": False,
        "legal_constraints": ["Sex and race may not be used as model inputs."],
    },
    "sensitive_features": [
        {"column": "sex", "justification": "Protected characteristic; income gaps by sex are "
         "well documented in this data."},
        {"column": "race", "justification": "Protected characteristic; small groups need "
         "their own look rather than being averaged away."},
    ],
    "stakeholders": [
        {"name": "Demo data scientist", "role": "model developer"},
        {"name": "Demo programme lead", "role": "decision owner"},
    ],
    "data": {"demo": "adult", "y_true": "income", "model": {"path": "", "format": "skops"}},
    "assessment": {"seed": 0},
    "gates": [
        {"metric": "equal_opportunity", "max_difference": 0.1, "severity": "warn",
         "rationale": "Illustrative threshold agreed in the demo."},
    ],
    "values": [
        {"name": "Equal access to help", "owner": "Demo programme lead",
         "metric": "true_positive_rate",
         "description": "People who would benefit are found at similar rates in every group."},
        {"name": "Privacy", "owner": "Demo data scientist",
         "qualitative_check": "Sensitive features are used only for the audit, not as inputs."},
    ],
    "conflicts": [
        {"values": ["Equal access to help", "Privacy"],
         "description": "Measuring gaps needs sex and race, which the programme does not "
         "otherwise collect.",
         "options": ["Collect them for audit only, with consent", "Do not audit by group"],
         "decision": "Collect them for audit only, with consent.",
         "rationale": "Without them nobody can see who is missed.",
         "decided_by": "Demo programme lead", "decided_on": "2026-11-24"},
    ],
    "evidence": [
        {"kind": "stakeholder_feedback", "summary": "Illustrative: community advisers said "
         "women in part-time work are often missed by such programmes."},
    ],
    "training": {"demo": "adult", "top_k": 30,
                 "shareable": ["age", "education", "occupation", "hours_per_week", "income"]},
    "checklist": [
        {"item": "Affected people consulted", "status": "open",
         "note": "Demo: to be done before any real use."},
        {"item": "Model inputs exclude sensitive features", "status": "done"},
    ],
}


def train_demo_model(model_path: Path) -> None:
    """Fit a logistic regression on the Adult train split and save it with skops."""
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from scrutiny.datasets import load_adult

    train = load_adult(split="train")
    x = train[NUMERIC + CATEGORICAL]
    cat = make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                        OneHotEncoder(handle_unknown="ignore"))
    pre = ColumnTransformer([("num", StandardScaler(), NUMERIC), ("cat", cat, CATEGORICAL)])
    model = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=1000))])
    model.fit(x, train["income"])
    sio.dump(model, model_path)


def demo_config(model_path: Path) -> AuditConfig:
    """The demo's audit config, pointing at a trained model file."""
    raw = {**DEMO_CONFIG, "data": {**DEMO_CONFIG["data"],
                                   "model": {"path": str(model_path), "format": "skops"}}}
    return parse_config(raw, source="(demo)")


def run_demo(out_dir: str | Path, *, progress: bool = False) -> Any:
    """Train the demo model, run the audit and write the report into ``out_dir``.

    The model is saved beside the report (``model.skops``) and the written
    ``audit.yaml`` points at it, so ``scrutiny audit DIR/audit.yaml`` re-runs the audit.
    """
    from scrutiny.audit._run import AuditResult, _progress, build_record, write_outputs

    out = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="scrutiny-demo-") as tmp:
        model_path = Path(tmp) / MODEL_FILE
        train_demo_model(model_path)
        with _progress(progress) as bar:
            record = build_record(demo_config(model_path), progress=bar)
        files = write_outputs(record, demo_config(Path(MODEL_FILE)), out,
                              extra_files={MODEL_FILE: model_path})
    return AuditResult(record, out, files)

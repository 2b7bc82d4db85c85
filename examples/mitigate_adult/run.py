"""Audit an Adult model, compare mitigations: python examples/mitigate_adult/run.py --out DIR.

Writes the audit (report.html, audit.json, ...) into DIR and the mitigation comparison
(mitigation.html, mitigation.json) into DIR/mitigation, with the audit as its prior assessment.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from scrutiny.audit import load_config, run_audit
from scrutiny.datasets import load_adult
from scrutiny.mitigation import run_mitigation

HERE = Path(__file__).resolve().parent
NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CATEGORICAL = ["workclass", "marital_status", "occupation", "relationship"]

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--out", default=str(HERE / "_out"))
parser.add_argument("--n-train", type=int, default=10000, help="training rows used")
args = parser.parse_args()

train = load_adult(split="train").sample(args.n_train, random_state=0)
test = load_adult(split="test")
cat = make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                    OneHotEncoder(handle_unknown="ignore"))
model = Pipeline([
    ("pre", ColumnTransformer([("num", StandardScaler(), NUMERIC), ("cat", cat, CATEGORICAL)])),
    ("clf", LogisticRegression(max_iter=2000)),
]).fit(train[NUMERIC + CATEGORICAL], train["income"])

work = HERE / "_work"
work.mkdir(exist_ok=True)
sio.dump(model, work / "model.skops")
train.to_parquet(work / "train.parquet", index=False)
test.to_parquet(work / "test.parquet", index=False)

out = Path(args.out)
run_audit(HERE / "audit.yaml", out)  # assess first: the comparison names this record

config = load_config(HERE / "audit.yaml")
prior = str(out.resolve() / "audit.json")
mitigate = config.mitigate.model_copy(update={"prior_assessment": prior})
result = run_mitigation(config.model_copy(update={"mitigate": mitigate}), out / "mitigation",
                        base_dir=HERE)
target = result.record["target"]["name"]
for c in result.record["candidates"]:
    effect = (c.get("effect") or {}).get("gaps", {}).get(target, {})
    change = ""
    if effect.get("change") is not None:
        lo, hi = effect["ci"]
        change = f"change {effect['change']:+.3f} (95% {lo:+.3f} to {hi:+.3f})"
    print(f"{c['label']:38s} accuracy {c['accuracy']['value']:.3f}  gap "
          f"{c['gaps'][target]['value']:.3f}  {change}")
print("pareto front:", result.record["pareto_front"])
print("report:", out / "mitigation" / "mitigation.html")

"""Train a credit model and audit it: python examples/german_credit_audit/run.py --out DIR."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from scrutiny.audit import run_audit
from scrutiny.datasets import load_german_credit

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data" / "german_credit"
SENSITIVE = ["sex", "age", "personal_status_sex", "foreign_worker"]

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--out", default=str(HERE / "_out"))
parser.add_argument("--data", default=str(DATA), help="folder holding german.data")
args = parser.parse_args()

df = load_german_credit(args.data)
df["age_group"] = np.where(df["age"] <= 25, "25 or younger", "26 or older")
features = [c for c in df.columns if c not in [*SENSITIVE, "credit_good", "age_group"]]
numeric = [c for c in features if df[c].dtype.kind in "if"]
categorical = [c for c in features if c not in numeric]
train, test = train_test_split(df, test_size=0.3, random_state=0, stratify=df["credit_good"])
model = Pipeline([
    ("pre", ColumnTransformer([
        ("num", StandardScaler(), numeric),
        ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
    ])),
    ("clf", LogisticRegression(max_iter=2000)),
]).fit(train[features], train["credit_good"])

work = HERE / "_work"
work.mkdir(exist_ok=True)
sio.dump(model, work / "model.skops")
test.to_parquet(work / "test.parquet", index=False)

result = run_audit(HERE / "audit.yaml", args.out)
for row in result.record["ranking"][:5]:
    print(row["metric"], row["features"], round(row["difference"], 3), row["ci_difference"])
print("report:", Path(args.out) / "report.html")

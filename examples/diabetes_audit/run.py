"""Train a readmission model and audit it: python examples/diabetes_audit/run.py --out DIR."""

from __future__ import annotations

import argparse
from pathlib import Path

import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from scrutiny.audit import run_audit
from scrutiny.datasets import load_diabetes

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data" / "diabetes_130us"
NUMERIC = ["time_in_hospital", "num_lab_procedures", "num_procedures", "num_medications",
           "number_outpatient", "number_emergency", "number_inpatient", "number_diagnoses"]
CATEGORICAL = ["age", "admission_type_id", "discharge_disposition_id", "admission_source_id",
               "A1Cresult", "insulin", "change", "diabetesMed"]

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--out", default=str(HERE / "_out"))
parser.add_argument("--data", default=str(DATA), help="folder holding diabetic_data.csv")
args = parser.parse_args()

df = load_diabetes(args.data)
df = df.sort_values("encounter_id").drop_duplicates("patient_nbr")
df = df[df["gender"] != "Unknown/Invalid"]
for c in CATEGORICAL:
    df[c] = df[c].astype("string")
train, test = train_test_split(df, test_size=0.3, random_state=0,
                               stratify=df["readmitted_lt30"])
cat = make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                    OneHotEncoder(handle_unknown="ignore"))
model = Pipeline([
    ("pre", ColumnTransformer([("num", StandardScaler(), NUMERIC), ("cat", cat, CATEGORICAL)])),
    ("clf", LogisticRegression(max_iter=2000)),
]).fit(train[NUMERIC + CATEGORICAL], train["readmitted_lt30"])

work = HERE / "_work"
work.mkdir(exist_ok=True)
sio.dump(model, work / "model.skops")
test[[*NUMERIC, *CATEGORICAL, "race", "gender", "readmitted_lt30"]].to_parquet(
    work / "test.parquet", index=False)

result = run_audit(HERE / "audit.yaml", args.out)
for row in result.record["ranking"][:5]:
    print(row["metric"], row["features"], round(row["difference"], 3), row["ci_difference"])
print("report:", Path(args.out) / "report.html")

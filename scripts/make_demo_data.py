"""Build the bundled demo file ``src/scrutiny/datasets/data/adult.csv.gz``.

Reads the UCI Adult originals (``adult.data`` and ``adult.test``), cleans them,
adds the scores and predictions of a simple scikit-learn model and writes one
gzip-compressed CSV. The output is byte-for-byte reproducible: same inputs,
same library versions -> same file (the gzip header carries no timestamp and no
file name).

Usage (from the repository root)::

    python scripts/make_demo_data.py
    python scripts/make_demo_data.py --source /path/to/adult --output out.csv.gz

Needs pandas, numpy and scikit-learn (``pip install scrutiny[test]``).

The model
---------
A ``LogisticRegression`` (``random_state=0``, default L2 penalty, ``C=1``)
after one-hot encoding of the categorical columns (missing values get their own
``"missing"`` category) and standardisation of the numeric ones. It is fitted
on the ``train`` split only and scores every row. ``sex`` and ``race`` are
**not** model inputs (other columns, such as ``relationship`` or
``marital_status``, still carry information about them: the demo is meant to
show that dropping a sensitive column does not make a model fair).
``fnlwgt`` is not an input either: it is the census sampling weight of the
row, not a property of the person.

``score`` is the predicted probability of ``income == 1`` rounded to 6
decimals and ``prediction`` is ``score >= 0.5`` computed on the rounded score,
so the two columns agree exactly in the file.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from scrutiny.audit._demo import CATEGORICAL as DEMO_CATEGORICAL
from scrutiny.audit._demo import NUMERIC as DEMO_NUMERIC
from scrutiny.datasets._loaders import _ADULT_COLUMNS

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "adult"
DEFAULT_OUTPUT = REPO / "src" / "scrutiny" / "datasets" / "data" / "adult.csv.gz"

# one definition of the bundled file's columns and of the demo model's inputs
_DERIVED = ("split", "score", "prediction")
OUTPUT_COLUMNS = list(_ADULT_COLUMNS)
RAW_COLUMNS = [c for c in OUTPUT_COLUMNS if c not in _DERIVED]
INT_COLUMNS = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss",
               "hours_per_week"]
STR_COLUMNS = [c for c in RAW_COLUMNS if c not in [*INT_COLUMNS, "income"]]
SENSITIVE = ["sex", "race"]
NUMERIC_FEATURES = list(DEMO_NUMERIC)
CATEGORICAL_FEATURES = list(DEMO_CATEGORICAL)

EXPECTED_ROWS = {"train": 32561, "test": 16281}
LABELS = {"<=50K": 0, ">50K": 1}


def read_split(path: Path, split: str) -> pd.DataFrame:
    """Read one UCI file (``adult.data`` or ``adult.test``) into a clean frame."""
    frame = pd.read_csv(
        path,
        header=None,
        names=RAW_COLUMNS,
        sep=",",
        skipinitialspace=True,  # the separator is ", "
        skiprows=1 if split == "test" else 0,  # adult.test starts with "|1x3 Cross validator"
        na_values=["?"],
        keep_default_na=False,  # only "?" means missing
        skip_blank_lines=True,  # both files end with an empty line
        dtype={c: "int64" for c in INT_COLUMNS} | {c: object for c in [*STR_COLUMNS, "income"]},
    )
    if len(frame) != EXPECTED_ROWS[split]:
        msg = f"{path} gave {len(frame)} rows, expected {EXPECTED_ROWS[split]}."
        raise SystemExit(msg)
    labels = frame["income"].str.rstrip(".")  # adult.test writes "<=50K." and ">50K."
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        msg = f"{path}: unexpected income labels {unknown}."
        raise SystemExit(msg)
    frame["income"] = labels.map(LABELS).astype("int64")
    frame["split"] = split
    return frame


def _as_object(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast to object dtype so that SimpleImputer accepts pandas string columns."""
    return frame.astype(object)


def build_model() -> Pipeline:
    """Build the scoring pipeline: one-hot categoricals + standardised numerics -> logistic."""
    categorical = Pipeline(
        [
            ("to_object", FunctionTransformer(_as_object, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    preprocess = ColumnTransformer(
        [
            ("categorical", categorical, CATEGORICAL_FEATURES),
            ("numeric", StandardScaler(), NUMERIC_FEATURES),
        ]
    )
    return Pipeline(
        [
            ("preprocess", preprocess),
            ("model", LogisticRegression(max_iter=2000, random_state=0)),
        ]
    )


def build_frame(source: Path) -> pd.DataFrame:
    """Read both splits, fit the model on train, score all rows."""
    train = read_split(source / "adult.data", "train")
    test = read_split(source / "adult.test", "test")
    frame = pd.concat([train, test], ignore_index=True)

    features = [*CATEGORICAL_FEATURES, *NUMERIC_FEATURES]
    assert not set(features) & set(SENSITIVE)
    model = build_model()
    model.fit(train[features], train["income"])
    proba = model.predict_proba(frame[features])[:, list(model.classes_).index(1)]
    frame["score"] = np.round(proba, 6)
    frame["prediction"] = (frame["score"] >= 0.5).astype("int64")
    return frame[OUTPUT_COLUMNS]


def write_gzip_csv(frame: pd.DataFrame, output: Path) -> bytes:
    """Write ``frame`` as a deterministic gzip CSV (mtime 0, no file name) and return the bytes."""
    text = frame.to_csv(index=False, lineterminator="\n", na_rep="")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    data = buffer.getvalue()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    return data


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", type=Path, default=DEFAULT_SOURCE, help="folder with adult.data and adult.test"
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="the .csv.gz file to write"
    )
    args = parser.parse_args(argv)

    frame = build_frame(args.source)
    data = write_gzip_csv(frame, args.output)

    for split in ("train", "test"):
        part = frame[frame["split"] == split]
        accuracy = float((part["prediction"] == part["income"]).mean())
        print(
            f"{split}: {len(part)} rows, {int(part['income'].sum())} positives, "
            f"{int(part['prediction'].sum())} predicted positive, accuracy {accuracy:.4f}"
        )
    print(f"wrote {args.output} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})")


if __name__ == "__main__":
    main()

"""Tests for scrutiny.datasets: the bundled Adult file and the benchmark loaders."""

from __future__ import annotations

import gzip
import hashlib
import runpy
import sys
from pathlib import Path

import pytest

from scrutiny.datasets import (
    ADULT_SENSITIVE,
    adult_path,
    load_adult,
    load_compas,
    load_diabetes,
    load_german_credit,
)
from scrutiny.exceptions import (
    DataValidationError,
    InvalidParameterError,
    MissingDependencyError,
    ScrutinyError,
)

pd = pytest.importorskip("pandas")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"shared benchmark data folder {SHARED_DATA} is absent (not part of the repository)",
)

BACKENDS = ["pandas", "polars", "pyarrow"]
ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
    "split",
    "score",
    "prediction",
]
ROWS = {"all": 48842, "train": 32561, "test": 16281}


def to_pandas(table):
    """Convert any supported backend's table to pandas for uniform assertions."""
    if isinstance(table, pd.DataFrame):
        return table
    return table.to_pandas()


@pytest.fixture(scope="module")
def adult():
    return load_adult()


# --------------------------------------------------------------------------- bundled file


def test_adult_path_is_a_small_gzip_file():
    path = adult_path()
    assert isinstance(path, Path)
    assert path.name == "adult.csv.gz"
    assert path.is_file()
    data = path.read_bytes()
    assert data[:2] == b"\x1f\x8b"  # gzip magic
    assert data[4:8] == b"\x00\x00\x00\x00"  # mtime 0: reproducible bytes
    assert len(data) < 1_500_000
    header = gzip.decompress(data).split(b"\n", 1)[0].decode()
    assert header.split(",") == ADULT_COLUMNS


def test_adult_sensitive_constant():
    assert ADULT_SENSITIVE == ("sex", "race")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("split", ["all", "train", "test"])
def test_load_adult_rows_and_columns_every_backend(backend, split):
    if backend != "pandas":
        pytest.importorskip(backend)
    table = load_adult(split=split, backend=backend)
    module = pytest.importorskip(backend)
    expected_type = {"pandas": "DataFrame", "polars": "DataFrame", "pyarrow": "Table"}[backend]
    assert isinstance(table, getattr(module, expected_type))
    frame = to_pandas(table)
    assert len(frame) == ROWS[split]
    assert list(frame.columns) == ADULT_COLUMNS
    if split != "all":
        assert set(frame["split"]) == {split}


@pytest.mark.parametrize("backend", BACKENDS)
def test_load_adult_backends_agree(adult, backend):
    if backend != "pandas":
        pytest.importorskip(backend)
    frame = to_pandas(load_adult(backend=backend))
    for column in ("income", "prediction", "age", "fnlwgt"):
        assert frame[column].astype("int64").tolist() == adult[column].tolist()
    assert frame["score"].astype("float64").tolist() == adult["score"].tolist()
    for column in ("sex", "race", "workclass", "native_country"):
        assert frame[column].isna().sum() == adult[column].isna().sum()
        assert frame[column].dropna().astype(str).tolist() == adult[column].dropna().tolist()


def test_polars_and_pyarrow_types():
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    schema = load_adult(backend="polars").schema
    assert schema["income"] == pl.Int64
    assert schema["score"] == pl.Float64
    assert schema["workclass"] == pl.String
    table = load_adult(backend="pyarrow")
    assert table.schema.field("income").type == pa.int64()
    assert table.schema.field("score").type == pa.float64()
    assert pa.types.is_string(table.schema.field("sex").type)
    assert table["workclass"].null_count == 2799  # 1836 train + 963 test "?" values


def test_adult_split_sizes_and_labels(adult):
    assert adult["split"].value_counts().to_dict() == {"train": 32561, "test": 16281}
    assert set(adult["income"].unique()) == {0, 1}
    positives = adult.groupby("split")["income"].sum().to_dict()
    assert positives == {"train": 7841, "test": 3846}


def test_adult_sensitive_counts_match_readme():
    train = load_adult(split="train")
    assert train["sex"].value_counts().to_dict() == {"Male": 21790, "Female": 10771}
    assert train["race"].value_counts().to_dict() == {
        "White": 27816,
        "Black": 3124,
        "Asian-Pac-Islander": 1039,
        "Amer-Indian-Eskimo": 311,
        "Other": 271,
    }


def test_adult_missing_values_are_null_not_question_marks(adult):
    for column in ("workclass", "occupation", "native_country"):
        assert not (adult[column] == "?").any()
        assert not (adult[column] == "").any()
    missing = adult[["workclass", "occupation", "native_country"]].isna().any(axis=1)
    assert missing.groupby(adult["split"]).sum().to_dict() == {"train": 2399, "test": 1221}
    # Strings stay strings: no category/object surprises in the value types.
    assert all(isinstance(v, str) for v in adult["education"].head(100))
    assert adult["age"].dtype == "int64"


def test_adult_prediction_equals_thresholded_score(adult):
    assert adult["score"].between(0.0, 1.0).all()
    assert ((adult["score"] >= 0.5).astype("int64") == adult["prediction"]).all()
    assert set(adult["prediction"].unique()) == {0, 1}
    assert (adult["score"].round(6) == adult["score"]).all()


def test_adult_model_is_informative(adult):
    # A sanity bound, not a benchmark: the demo model should beat the base rate clearly.
    test = adult[adult["split"] == "test"]
    accuracy = (test["prediction"] == test["income"]).mean()
    base_rate = 1 - test["income"].mean()
    assert accuracy > base_rate + 0.05
    assert (
        test.loc[test["income"] == 1, "score"].mean()
        > test.loc[test["income"] == 0, "score"].mean()
    )


def test_adult_file_matches_the_source_files(adult):
    """The bundled rows are the UCI rows in order (checked on a few columns)."""
    source = SHARED_DATA / "adult"
    if not source.is_dir():
        pytest.skip(f"shared data folder {source} is absent")
    first = (source / "adult.data").read_text().splitlines()[0].split(", ")
    row = adult.iloc[0]
    assert [str(row["age"]), row["workclass"], str(row["fnlwgt"])] == first[:3]
    lines = (source / "adult.test").read_text().splitlines()
    last = [line for line in lines if line][-1].split(", ")
    row = adult.iloc[-1]
    assert [str(row["age"]), row["sex"], str(row["income"])] == [
        last[0],
        last[9],
        "1" if last[14] == ">50K." else "0",
    ]


# --------------------------------------------------------------------------- load_adult errors


@pytest.mark.parametrize("split", ["validation", "TRAIN", "", None, 1])
def test_load_adult_bad_split(split):
    with pytest.raises(InvalidParameterError, match="'split'") as info:
        load_adult(split=split)
    message = str(info.value)
    assert "load_adult" in message
    assert repr(split) in message
    assert "'train'" in message  # says what would work
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ScrutinyError)


def test_load_adult_bad_split_case_hint():
    with pytest.raises(InvalidParameterError, match="Did you mean 'train'"):
        load_adult(split="Train")


@pytest.mark.parametrize("backend", ["dask", "Pandas", "numpy", None])
def test_load_adult_bad_backend(backend):
    with pytest.raises(InvalidParameterError, match="'backend'") as info:
        load_adult(backend=backend)
    assert repr(backend) in str(info.value)
    assert "'polars'" in str(info.value)


def test_load_adult_is_keyword_only():
    with pytest.raises(TypeError):
        load_adult("train")  # type: ignore[misc]


def test_missing_backend_library_raises_missing_dependency(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "polars", None)  # makes `import polars` fail
    with pytest.raises(MissingDependencyError, match="pip install polars") as info:
        load_adult(backend="polars")
    assert isinstance(info.value, ImportError)
    german = tmp_path / "german.data"
    german.write_text(
        "A11 6 A34 A43 1169 A65 A75 4 A93 A101 4 A121 67 A143 A152 2 A173 1 A192 A201 1\n"
    )
    assert len(load_german_credit(german)) == 1  # pandas still works
    with pytest.raises(MissingDependencyError, match="pip install polars"):
        load_german_credit(german, backend="polars")


# --------------------------------------------------------------------------- other loaders


@needs_shared
@pytest.mark.parametrize("backend", BACKENDS)
def test_load_compas(backend):
    if backend != "pandas":
        pytest.importorskip(backend)
    frame = to_pandas(load_compas(SHARED_DATA / "compas", backend=backend))
    assert frame.shape == (7214, 51)  # 53 columns minus the two identical duplicates
    assert list(frame.columns).count("decile_score") == 1
    assert "decile_score.1" not in frame.columns
    assert "priors_count.1" not in frame.columns
    assert frame["two_year_recid"].value_counts().to_dict() == {0: 3963, 1: 3251}
    assert frame["sex"].value_counts().to_dict() == {"Male": 5819, "Female": 1395}
    assert frame["race"].value_counts().to_dict() == {
        "African-American": 3696,
        "Caucasian": 2454,
        "Hispanic": 637,
        "Other": 377,
        "Asian": 32,
        "Native American": 18,
    }


@needs_shared
def test_load_compas_accepts_file_path_and_str():
    file = SHARED_DATA / "compas" / "compas-scores-two-years.csv"
    by_file = load_compas(str(file))
    by_folder = load_compas(SHARED_DATA / "compas")
    assert by_file.equals(by_folder)
    # ProPublica's standard filter gives 6172 rows.
    kept = by_file[
        by_file["days_b_screening_arrest"].between(-30, 30)
        & (by_file["is_recid"] != -1)
        & (by_file["c_charge_degree"] != "O")
        & (by_file["score_text"] != "N/A")
    ]
    assert len(kept) == 6172


@needs_shared
@pytest.mark.parametrize("backend", BACKENDS)
def test_load_german_credit(backend):
    if backend != "pandas":
        pytest.importorskip(backend)
    frame = to_pandas(load_german_credit(SHARED_DATA / "german_credit", backend=backend))
    assert frame.shape == (1000, 22)
    assert "class" not in frame.columns
    assert frame["credit_good"].value_counts().to_dict() == {1: 700, 0: 300}
    assert frame["sex"].value_counts().to_dict() == {"Male": 690, "Female": 310}
    assert (frame.loc[frame["sex"] == "Female", "personal_status_sex"] == "A92").all()
    assert frame["foreign_worker"].value_counts().to_dict() == {"yes": 963, "no": 37}
    assert int((frame["age"] > 25).sum()) == 810
    assert frame["age"].dtype == "int64"
    first = frame.iloc[0]
    # First record of german.data: A11 6 A34 A43 1169 ... A93 ... 67 ... A201 1
    assert first["checking_status"] == "A11"
    assert first["duration_months"] == 6
    assert first["credit_amount"] == 1169
    assert first["age"] == 67
    assert first["sex"] == "Male"
    assert first["credit_good"] == 1


@needs_shared
@pytest.mark.parametrize("backend", BACKENDS)
def test_load_diabetes(backend):
    if backend != "pandas":
        pytest.importorskip(backend)
    frame = to_pandas(load_diabetes(SHARED_DATA / "diabetes_130us", backend=backend))
    assert frame.shape == (101766, 51)
    assert frame["readmitted_lt30"].value_counts().to_dict() == {0: 90409, 1: 11357}
    assert (frame["readmitted_lt30"] == (frame["readmitted"] == "<30")).all()
    assert int(frame["race"].isna().sum()) == 2273
    assert not (frame["race"] == "?").any()
    # "None" is a real category (test not taken), not a missing value.
    assert int((frame["max_glu_serum"] == "None").sum()) == 96420
    assert frame["gender"].value_counts().to_dict() == {
        "Female": 54708,
        "Male": 47055,
        "Unknown/Invalid": 3,
    }
    assert frame["diag_1"].dropna().map(type).eq(str).all()


@needs_shared
def test_load_diabetes_file_path():
    frame = load_diabetes(SHARED_DATA / "diabetes_130us" / "diabetic_data.csv")
    assert len(frame) == 101766


# --------------------------------------------------------------------------- loader errors

LOADERS = [
    (load_compas, "compas-scores-two-years.csv"),
    (load_german_credit, "german.data"),
    (load_diabetes, "diabetic_data.csv"),
]


@pytest.mark.parametrize(("loader", "filename"), LOADERS)
def test_loader_missing_path(loader, filename, tmp_path):
    missing = tmp_path / "nowhere" / filename
    with pytest.raises(InvalidParameterError, match="'path'") as info:
        loader(missing)
    message = str(info.value)
    assert str(missing) in message
    assert filename in message
    assert loader.__name__ in message


@pytest.mark.parametrize(("loader", "filename"), LOADERS)
def test_loader_folder_without_file(loader, filename, tmp_path):
    with pytest.raises(InvalidParameterError, match="'path'") as info:
        loader(tmp_path)
    assert filename in str(info.value)


@pytest.mark.parametrize(("loader", "filename"), LOADERS)
def test_loader_path_wrong_type(loader, filename):
    with pytest.raises(InvalidParameterError, match="'path'"):
        loader(42)


@pytest.mark.parametrize(("loader", "filename"), LOADERS)
def test_loader_bad_backend(loader, filename, tmp_path):
    with pytest.raises(InvalidParameterError, match="'backend'") as info:
        loader(tmp_path / filename, backend="spark")
    assert "'spark'" in str(info.value)


def test_german_credit_wrong_file_is_data_error(tmp_path):
    bad = tmp_path / "german.data"
    bad.write_text("1 2 3\n4 5 6\n")
    with pytest.raises(DataValidationError, match="21"):
        load_german_credit(bad)


def test_diabetes_wrong_file_is_data_error(tmp_path):
    bad = tmp_path / "diabetic_data.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(DataValidationError, match="readmitted"):
        load_diabetes(bad)


def test_bundled_file_is_reproducible_by_script(tmp_path):
    """Rebuilding with scripts/make_demo_data.py gives the same bytes."""
    pytest.importorskip("sklearn")
    source = SHARED_DATA / "adult"
    script = Path(__file__).resolve().parents[1] / "scripts" / "make_demo_data.py"
    if not source.is_dir() or not script.is_file():
        pytest.skip(f"needs {source} and {script}")
    module = runpy.run_path(str(script))
    output = tmp_path / "adult.csv.gz"
    module["main"](["--source", str(source), "--output", str(output)])
    rebuilt = output.read_bytes()
    bundled = adult_path().read_bytes()
    if rebuilt != bundled:
        # Different library versions may round a handful of scores differently;
        # everything but the model columns must still match exactly.
        old = pd.read_csv(adult_path(), keep_default_na=False, na_values=[""])
        new = pd.read_csv(output, keep_default_na=False, na_values=[""])
        data_columns = ADULT_COLUMNS[:-2]
        pd.testing.assert_frame_equal(old[data_columns], new[data_columns])
        assert (old["score"] - new["score"]).abs().max() < 1e-4
    else:
        assert hashlib.sha256(rebuilt).hexdigest() == hashlib.sha256(bundled).hexdigest()

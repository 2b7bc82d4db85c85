"""Loaders for the bundled demo data and for common fairness benchmark files.

Nothing here touches the network. :func:`load_adult` reads the file shipped
inside the package; :func:`load_compas`, :func:`load_german_credit` and
:func:`load_diabetes` read a copy of the public file that the user already
has. pandas, polars and pyarrow are imported only when a function needs them.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
from importlib import resources
from pathlib import Path
from typing import Any

from scrutiny.exceptions import DataValidationError, InvalidParameterError, MissingDependencyError

__all__ = [
    "ADULT_SENSITIVE",
    "adult_path",
    "load_adult",
    "load_compas",
    "load_diabetes",
    "load_german_credit",
]

#: The sensitive columns of the bundled Adult data, in the order used by the docs.
ADULT_SENSITIVE: tuple[str, ...] = ("sex", "race")

_BACKENDS = ("pandas", "polars", "pyarrow")
_SPLITS = ("all", "train", "test")

_ADULT_FILE = "adult.csv.gz"
_ADULT_INT_COLUMNS = (
    "age",
    "fnlwgt",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "income",
    "prediction",
)
_ADULT_FLOAT_COLUMNS = ("score",)
_ADULT_STR_COLUMNS = (
    "workclass",
    "education",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native_country",
    "split",
)
_ADULT_COLUMNS = (
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
)

_COMPAS_FILE = "compas-scores-two-years.csv"
_GERMAN_FILE = "german.data"
_DIABETES_FILE = "diabetic_data.csv"

#: Readable names of the 20 attributes and the class of UCI ``german.data``, in file order.
_GERMAN_COLUMNS = (
    "checking_status",
    "duration_months",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "employment_since",
    "installment_rate",
    "personal_status_sex",
    "other_debtors",
    "residence_since",
    "property",
    "age",
    "other_installment_plans",
    "housing",
    "existing_credits",
    "job",
    "num_dependents",
    "telephone",
    "foreign_worker",
    "class",
)
#: Attribute 9 ("personal status and sex") code -> sex.
_GERMAN_SEX = {"A91": "Male", "A92": "Female", "A93": "Male", "A94": "Male", "A95": "Female"}
#: Attribute 20 ("foreign worker") code -> readable value.
_GERMAN_FOREIGN = {"A201": "yes", "A202": "no"}

_resource_files = contextlib.ExitStack()
atexit.register(_resource_files.close)


# --------------------------------------------------------------------------- helpers


def _check_choice(value: object, name: str, where: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        expected = "one of " + ", ".join(repr(c) for c in choices)
        hint = None
        if isinstance(value, str) and value.strip().lower() in choices:
            hint = f"Did you mean {value.strip().lower()!r}? Values are lower case."
        elif not isinstance(value, str):
            hint = f"Pass a string such as {name}={choices[0]!r}."
        raise InvalidParameterError.from_value(name, where, expected, value, hint)
    return value


def _import_backend(backend: str, where: str) -> Any:
    """Import the library behind ``backend`` or raise MissingDependencyError."""
    try:
        return importlib.import_module(backend)
    except ImportError as exc:
        extra = {"polars": " (or `pip install scrutiny[polars]`)"}.get(backend, "")
        msg = (
            f"{where} with backend={backend!r} needs {backend}, which is not installed. "
            f"Install it with `pip install {backend}`{extra}, or pick another backend "
            f"among {', '.join(repr(b) for b in _BACKENDS)}."
        )
        raise MissingDependencyError(msg) from exc


def _import_pandas(where: str) -> Any:
    try:
        import pandas as pd
    except ImportError as exc:
        msg = (
            f"{where} reads files with pandas, which is not installed. "
            "Install it with `pip install pandas`."
        )
        raise MissingDependencyError(msg) from exc
    return pd


def _to_backend(frame: Any, backend: str, where: str) -> Any:
    """Convert a pandas DataFrame to the requested backend."""
    if backend == "pandas":
        return frame
    if backend == "polars":
        pl = _import_backend("polars", where)
        _import_backend("pyarrow", where)  # polars converts from pandas through Arrow
        return pl.from_pandas(frame)
    pa = _import_backend("pyarrow", where)
    return pa.Table.from_pandas(frame, preserve_index=False)


def _resolve_file(path: object, *, where: str, filename: str, what: str) -> Path:
    """Accept a file or a folder holding ``filename``; return the file's path."""
    if not isinstance(path, str | os.PathLike):
        name = "path"
        raise InvalidParameterError.from_value(
            name,
            where,
            f"a str or os.PathLike pointing to {filename!r} (or to the folder that holds it)",
            path,
            f"Download the {what} file and pass its location, e.g. path='data/{filename}'.",
        )
    resolved = Path(path).expanduser()
    if resolved.is_dir():
        candidate = resolved / filename
        if not candidate.is_file():
            msg = (
                f"The 'path' parameter of {where} points to the folder {str(resolved)!r}, "
                f"which has no {filename!r}. Pass the {what} file itself or the folder that "
                f"holds {filename!r}."
            )
            raise InvalidParameterError(msg)
        return candidate
    if not resolved.is_file():
        msg = (
            f"The 'path' parameter of {where} must point to an existing file {filename!r} "
            f"(or the folder that holds it). Got {str(path)!r}, which does not exist. "
            f"Check the path; scrutiny does not download the {what} data."
        )
        raise InvalidParameterError(msg)
    return resolved


def _require_columns(columns: Any, expected: tuple[str, ...], file: Path, where: str) -> None:
    missing = [c for c in expected if c not in set(columns)]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:8])
        msg = (
            f"{where} read {str(file)!r} but it lacks the column(s) {shown}. "
            "Is it the right file? Pass the unmodified public file."
        )
        raise DataValidationError(msg)


# --------------------------------------------------------------------------- adult


def adult_path() -> Path:
    """Return the path of the bundled Adult file.

    Returns
    -------
    pathlib.Path
        The location of ``adult.csv.gz`` inside the installed package (a gzip
        CSV with a header row; see :func:`load_adult` for its columns).

    Raises
    ------
    DataValidationError
        If the file is missing from the installation.

    Examples
    --------
    >>> from scrutiny.datasets import adult_path
    >>> adult_path().name
    'adult.csv.gz'
    """
    resource = resources.files("scrutiny.datasets").joinpath("data", _ADULT_FILE)
    if isinstance(resource, Path):
        path = resource
    else:  # e.g. a zipped install: extract once, removed at interpreter exit
        path = _resource_files.enter_context(resources.as_file(resource))
    if not path.is_file():
        msg = (
            f"The bundled data file {_ADULT_FILE!r} is missing from the scrutiny installation "
            f"(looked at {str(path)!r}). Reinstall scrutiny, or rebuild it from a source checkout "
            "with `python scripts/make_demo_data.py`."
        )
        raise DataValidationError(msg)
    return path


def load_adult(*, split: str = "all", backend: str = "pandas") -> Any:
    """Load the bundled UCI Adult data with a demo model's scores.

    The file ships with scrutiny: no network access is needed. It holds the
    48,842 rows of UCI Adult (32,561 ``train`` rows from ``adult.data`` and
    16,281 ``test`` rows from ``adult.test``) plus the output of a logistic
    regression fitted on the train split without ``sex`` and ``race`` as
    inputs (see ``scripts/make_demo_data.py`` and ``ATTRIBUTION.md``).

    Parameters
    ----------
    split : {"all", "train", "test"}, default "all"
        Which rows to return. ``"all"`` keeps both splits; the ``split``
        column tells them apart.
    backend : {"pandas", "polars", "pyarrow"}, default "pandas"
        The type of the returned table: ``pandas.DataFrame``,
        ``polars.DataFrame`` or ``pyarrow.Table``.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame or pyarrow.Table
        Columns: ``age``, ``workclass``, ``fnlwgt``, ``education``,
        ``education_num``, ``marital_status``, ``occupation``,
        ``relationship``, ``race``, ``sex``, ``capital_gain``,
        ``capital_loss``, ``hours_per_week``, ``native_country`` (as in UCI,
        strings stay strings, missing values ``?`` are null), ``income``
        (int, 1 means ``>50K``), ``split`` (``"train"`` or ``"test"``),
        ``score`` (float, the model's probability of ``income == 1``) and
        ``prediction`` (int, ``score >= 0.5``). Rows keep the file order.

    Raises
    ------
    InvalidParameterError
        If ``split`` or ``backend`` is not one of the values above.
    MissingDependencyError
        If the library behind ``backend`` is not installed.

    See Also
    --------
    adult_path : Where the bundled file lives.
    ADULT_SENSITIVE : The sensitive columns, ``("sex", "race")``.

    Notes
    -----
    UCI Adult, Kohavi & Becker (1996), doi:10.24432/C5XW20, licensed CC BY 4.0.
    The census data are from 1994 and the labels reflect that time: use it
    to demonstrate methods, not to draw conclusions about people today.

    Examples
    --------
    >>> from scrutiny.datasets import load_adult
    >>> df = load_adult(split="test")
    >>> df.shape
    (16281, 18)
    >>> int(df["income"].sum())
    3846
    """
    where = "load_adult()"
    split = _check_choice(split, "split", where, _SPLITS)
    backend = _check_choice(backend, "backend", where, _BACKENDS)
    path = adult_path()

    if backend == "pandas":
        pd = _import_backend("pandas", where)
        frame = pd.read_csv(
            path,
            compression="gzip",
            dtype={c: "int64" for c in _ADULT_INT_COLUMNS}
            | {c: "float64" for c in _ADULT_FLOAT_COLUMNS},
            keep_default_na=False,
            na_values=[""],
        )
        _require_columns(frame.columns, _ADULT_COLUMNS, path, where)
        if split != "all":
            frame = frame.loc[frame["split"] == split].reset_index(drop=True)
        return frame

    if backend == "polars":
        pl = _import_backend("polars", where)
        types = (
            {c: pl.Int64 for c in _ADULT_INT_COLUMNS}
            | {c: pl.Float64 for c in _ADULT_FLOAT_COLUMNS}
            | {c: pl.String for c in _ADULT_STR_COLUMNS}
        )
        frame = pl.read_csv(path.read_bytes(), schema_overrides=types, null_values=[""])
        _require_columns(frame.columns, _ADULT_COLUMNS, path, where)
        if split != "all":
            frame = frame.filter(pl.col("split") == split)
        return frame

    pa = _import_backend("pyarrow", where)
    from pyarrow import compute as pc
    from pyarrow import csv as pa_csv

    types = (
        {c: pa.int64() for c in _ADULT_INT_COLUMNS}
        | {c: pa.float64() for c in _ADULT_FLOAT_COLUMNS}
        | {c: pa.string() for c in _ADULT_STR_COLUMNS}
    )
    table = pa_csv.read_csv(
        path,
        convert_options=pa_csv.ConvertOptions(
            column_types=types, null_values=[""], strings_can_be_null=True
        ),
    )
    _require_columns(table.column_names, _ADULT_COLUMNS, path, where)
    if split != "all":
        table = table.filter(pc.equal(table["split"], split))
    return table


# --------------------------------------------------------------------------- other datasets


def load_compas(path: str | os.PathLike[str], *, backend: str = "pandas") -> Any:
    """Read ProPublica's COMPAS two-year recidivism file.

    scrutiny does not ship this file (its rows describe real defendants and
    the source repository has no licence): get ``compas-scores-two-years.csv``
    from ProPublica's ``compas-analysis`` repository and pass its location.

    Parameters
    ----------
    path : str or os.PathLike
        The file ``compas-scores-two-years.csv`` or the folder that holds it.
    backend : {"pandas", "polars", "pyarrow"}, default "pandas"
        The type of the returned table.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame or pyarrow.Table
        The 7,214 rows and the file's columns. The header repeats
        ``decile_score`` and ``priors_count``; the repeated columns are
        identical to the first ones in the published file and are dropped,
        leaving 51 columns. (If a file has differing copies they are kept as
        ``decile_score.1`` / ``priors_count.1``.) Empty fields are null; dates
        stay strings. Label: ``two_year_recid``; sensitive columns: ``race``,
        ``sex``, ``age`` / ``age_cat``.

    Raises
    ------
    InvalidParameterError
        If ``path`` does not exist or ``backend`` is not supported.
    DataValidationError
        If the file lacks the expected columns.
    MissingDependencyError
        If the library behind ``backend`` is not installed.

    Notes
    -----
    Angwin, Larson, Mattu & Kirchner (2016), "Machine Bias", ProPublica.
    No filtering is applied; ProPublica's analysis keeps the 6,172 rows with
    ``days_b_screening_arrest`` in [-30, 30], ``is_recid != -1``,
    ``c_charge_degree != "O"`` and ``score_text != "N/A"``.

    Examples
    --------
    >>> from scrutiny.datasets import load_compas
    >>> df = load_compas("data/compas")  # doctest: +SKIP
    >>> df["two_year_recid"].mean()  # doctest: +SKIP
    0.4506...
    """
    where = "load_compas()"
    backend = _check_choice(backend, "backend", where, _BACKENDS)
    file = _resolve_file(path, where=where, filename=_COMPAS_FILE, what="COMPAS")
    pd = _import_pandas(where)
    frame = pd.read_csv(file, keep_default_na=False, na_values=[""], low_memory=False)
    _require_columns(
        frame.columns, ("id", "race", "sex", "age", "decile_score", "two_year_recid"), file, where
    )
    for name in ("decile_score", "priors_count"):
        copy = f"{name}.1"
        if name in frame.columns and copy in frame.columns and frame[name].equals(frame[copy]):
            frame = frame.drop(columns=copy)
    return _to_backend(frame, backend, where)


def load_german_credit(path: str | os.PathLike[str], *, backend: str = "pandas") -> Any:
    """Read UCI's Statlog German Credit file (``german.data``).

    Parameters
    ----------
    path : str or os.PathLike
        The file ``german.data`` (space-separated, no header, coded
        categories) or the folder that holds it.
    backend : {"pandas", "polars", "pyarrow"}, default "pandas"
        The type of the returned table.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame or pyarrow.Table
        1,000 rows. The 20 attributes get readable names, in file order:
        ``checking_status``, ``duration_months``, ``credit_history``,
        ``purpose``, ``credit_amount``, ``savings``, ``employment_since``,
        ``installment_rate``, ``personal_status_sex``, ``other_debtors``,
        ``residence_since``, ``property``, ``age``,
        ``other_installment_plans``, ``housing``, ``existing_credits``,
        ``job``, ``num_dependents``, ``telephone``, ``foreign_worker``.
        Categorical attributes keep UCI's codes (``"A11"``, ...), except
        ``foreign_worker``, decoded to ``"yes"`` (A201) / ``"no"`` (A202).
        Added columns: ``sex`` (``"Female"`` for A92/A95, ``"Male"`` for
        A91/A93/A94, from ``personal_status_sex``) and the label
        ``credit_good`` (1 = good credit, class 1; 0 = bad, class 2), which
        replaces ``class``.

    Raises
    ------
    InvalidParameterError
        If ``path`` does not exist or ``backend`` is not supported.
    DataValidationError
        If the file does not have 21 columns or holds unknown codes.
    MissingDependencyError
        If the library behind ``backend`` is not installed.

    Notes
    -----
    Hofmann, H. (1994). Statlog (German Credit Data), UCI ML Repository,
    doi:10.24432/C5NC77, CC BY 4.0. UCI gives a cost matrix: predicting
    "good" for a bad customer costs 5, the reverse costs 1. Attribute 9 mixes
    sex with marital status, so ``sex`` is derived, not reported directly.

    Examples
    --------
    >>> from scrutiny.datasets import load_german_credit
    >>> df = load_german_credit("data/german_credit")  # doctest: +SKIP
    >>> df["sex"].value_counts()  # doctest: +SKIP
    Male      690
    Female    310
    """
    where = "load_german_credit()"
    backend = _check_choice(backend, "backend", where, _BACKENDS)
    file = _resolve_file(path, where=where, filename=_GERMAN_FILE, what="German credit")
    pd = _import_pandas(where)
    try:
        frame = pd.read_csv(file, sep=r"\s+", header=None, dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        msg = f"{where} could not parse {str(file)!r} as UCI german.data: {exc}"
        raise DataValidationError(msg) from exc
    if frame.shape[1] != len(_GERMAN_COLUMNS):
        msg = (
            f"{where} expected {len(_GERMAN_COLUMNS)} space-separated columns in {str(file)!r} "
            f"(20 attributes + class), got {frame.shape[1]}. Pass UCI's german.data, "
            "not german.data-numeric."
        )
        raise DataValidationError(msg)
    frame.columns = list(_GERMAN_COLUMNS)
    numeric = [
        "duration_months",
        "credit_amount",
        "installment_rate",
        "residence_since",
        "age",
        "existing_credits",
        "num_dependents",
        "class",
    ]
    try:
        frame[numeric] = frame[numeric].astype("int64")
    except ValueError as exc:
        msg = f"{where}: non-integer values in the numeric attributes of {str(file)!r}: {exc}"
        raise DataValidationError(msg) from exc

    def _decode(column: str, mapping: dict[str, Any]) -> Any:
        unknown = sorted(set(frame[column]) - set(mapping))
        if unknown:
            msg = (
                f"{where}: column {column!r} of {str(file)!r} holds unknown code(s) {unknown}; "
                f"expected {sorted(mapping)}."
            )
            raise DataValidationError(msg)
        return frame[column].map(mapping)

    frame["foreign_worker"] = _decode("foreign_worker", _GERMAN_FOREIGN).astype(frame["job"].dtype)
    frame["sex"] = _decode("personal_status_sex", _GERMAN_SEX).astype(frame["job"].dtype)
    frame["credit_good"] = _decode("class", {1: 1, 2: 0}).astype("int64")
    frame = frame.drop(columns="class")
    return _to_backend(frame, backend, where)


def load_diabetes(path: str | os.PathLike[str], *, backend: str = "pandas") -> Any:
    """Read the Diabetes 130-US hospitals file (``diabetic_data.csv``).

    Parameters
    ----------
    path : str or os.PathLike
        The file ``diabetic_data.csv`` (from UCI's ``dataset_diabetes.zip``)
        or the folder that holds it.
    backend : {"pandas", "polars", "pyarrow"}, default "pandas"
        The type of the returned table.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame or pyarrow.Table
        The 101,766 rows and 50 columns of the file, plus the label
        ``readmitted_lt30`` (int, 1 when ``readmitted == "<30"``). ``?`` is
        read as null; every other value is kept as written, including the
        ``"None"`` category of ``max_glu_serum`` / ``A1Cresult`` (test not
        taken) and the ``"Unknown/Invalid"`` gender. ``diag_1`` to ``diag_3``
        are strings (ICD-9 codes such as ``"250.83"`` or ``"V57"``).
        Sensitive columns: ``race``, ``gender``, ``age`` (10-year bins).

    Raises
    ------
    InvalidParameterError
        If ``path`` does not exist or ``backend`` is not supported.
    DataValidationError
        If the file lacks the expected columns or ``readmitted`` values.
    MissingDependencyError
        If the library behind ``backend`` is not installed.

    Notes
    -----
    Strack et al. (2014), BioMed Research International, doi:10.1155/2014/781670;
    UCI ML Repository, CC BY 4.0. Patients can appear several times
    (``patient_nbr``): split by patient, not by row, to avoid leakage.

    Examples
    --------
    >>> from scrutiny.datasets import load_diabetes
    >>> df = load_diabetes("data/diabetes_130us")  # doctest: +SKIP
    >>> int(df["readmitted_lt30"].sum())  # doctest: +SKIP
    11357
    """
    where = "load_diabetes()"
    backend = _check_choice(backend, "backend", where, _BACKENDS)
    file = _resolve_file(path, where=where, filename=_DIABETES_FILE, what="Diabetes 130-US")
    pd = _import_pandas(where)
    frame = pd.read_csv(
        file,
        keep_default_na=False,  # "None" is a category here, not a missing value
        na_values=["?"],
        dtype={"diag_1": str, "diag_2": str, "diag_3": str},
        low_memory=False,
    )
    _require_columns(
        frame.columns, ("encounter_id", "race", "gender", "age", "readmitted"), file, where
    )
    unknown = sorted(set(frame["readmitted"].dropna()) - {"NO", ">30", "<30"})
    if unknown or frame["readmitted"].isna().any():
        msg = (
            f"{where}: column 'readmitted' of {str(file)!r} must hold only 'NO', '>30' and '<30'; "
            f"found {unknown or 'missing values'}."
        )
        raise DataValidationError(msg)
    frame["readmitted_lt30"] = (frame["readmitted"] == "<30").astype("int64")
    return _to_backend(frame, backend, where)

"""Reading tabular files (CSV, Parquet) into pyarrow Tables, with errors that say what to do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrutiny.exceptions import InvalidParameterError


def read_table(path: str | Path, *, option: str = "--data") -> Any:
    """Read a CSV or Parquet file into a pyarrow Table; ``option`` names the input in errors."""
    p = Path(path)
    if not p.exists():
        msg = f"{option}: the file {path!r} does not exist. Pass the path of a CSV or Parquet file."
        raise InvalidParameterError(msg)
    if p.is_dir():
        msg = f"{option}: {path!r} is a folder. Pass the path of a CSV or Parquet file."
        raise InvalidParameterError(msg)
    suffixes = [s.lower() for s in p.suffixes]
    if ".parquet" in suffixes or ".pq" in suffixes:
        import pyarrow.parquet as pq

        try:
            return pq.read_table(p)
        except Exception as exc:
            msg = f"{option}: {path!r} could not be read as Parquet ({exc})."
            raise InvalidParameterError(msg) from exc
    if ".csv" in suffixes or ".tsv" in suffixes or ".txt" in suffixes:
        import pyarrow.csv as pacsv

        delimiter = "\t" if ".tsv" in suffixes else ","
        try:
            return pacsv.read_csv(p, parse_options=pacsv.ParseOptions(delimiter=delimiter))
        except Exception as exc:
            msg = f"{option}: {path!r} could not be read as CSV ({_short(exc)})."
            raise InvalidParameterError(msg) from exc
    msg = (
        f"{option}: cannot tell the format of {path!r} from its name. Use a file ending in .csv, "
        ".csv.gz, .tsv or .parquet."
    )
    raise InvalidParameterError(msg)


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]



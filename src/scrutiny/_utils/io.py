"""Reading tabular files (CSV, Parquet) into pyarrow Tables, with errors that say what to do."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Mapping
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




def write_folder_atomically(out_dir: str | Path, texts: Mapping[str, str],
                            copies: Mapping[str, Path] | None = None) -> Path:
    """Write a results folder so that readers see the old one or the new one, never a mix.

    The files are written into a temporary sibling folder, which then replaces
    ``out_dir``; a failure at any point leaves the previous ``out_dir`` untouched
    and removes the temporary folder.

    Parameters
    ----------
    out_dir : str or Path
        The folder to create or replace.
    texts : mapping of str to str
        File names inside the folder and their UTF-8 text.
    copies : mapping of str to Path, optional
        File names inside the folder and existing files copied there.

    Returns
    -------
    Path
        ``out_dir``.
    """
    out_dir = Path(out_dir)
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; results are ordinary folders
    try:
        for name, src in (copies or {}).items():
            shutil.copyfile(src, tmp / name)
        for name, text in texts.items():
            (tmp / name).write_text(text, encoding="utf-8")
        old = None
        if out_dir.exists():
            old = parent / f".{out_dir.name}.old-{dt.datetime.now().timestamp():.0f}"
            out_dir.rename(old)
        tmp.rename(out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir

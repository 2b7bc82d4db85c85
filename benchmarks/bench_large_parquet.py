"""Benchmark 3: 100M rows from a Parquet file, reduced inside DuckDB and polars.

A Parquet file (default 100M rows: two int8 sensitive columns with 3 x 4
categories, bool ``y_true`` / ``y_pred``) is written in chunks with pyarrow;
the exact per-group confusion counts are accumulated while writing. Each
implementation then runs in its own fresh subprocess, whose peak resident set
is reported (``ru_maxrss`` of that child through ``/usr/bin/time -f %M``, and
the child's own ``VmHWM``; see ``common.run_child``):

* ``scrutiny-duckdb``: ``assess("y_true", "y_pred", sensitive_features=["s0",
  "s1"], data=duckdb.read_parquet(path), metrics=[...])``;
* ``scrutiny-polars``: the same with ``data=pl.scan_parquet(path)`` (scrutiny
  collects the group-by with the streaming engine);
* ``duckdb-raw`` / ``polars-raw``: the bare engine group-by (count per
  sensitive x label cell) that scrutiny issues, as a floor;
* ``imports``: a child that only imports scrutiny, duckdb, polars and pyarrow
  (the interpreter's baseline RSS).

Every implementation's per-group values are asserted equal (1e-9) to the
counts accumulated at generation. Target: peak RSS < 4 GB (4e9 bytes) for
scrutiny on both engines. The file is deleted at the end unless ``--keep``
(an existing file with a matching ``.json`` side file is reused).

Run: ``python benchmarks/bench_large_parquet.py`` (``--quick``: 2M rows;
``--rows N`` for another size).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    METRICS,
    col_names,
    compare,
    confusion_cells,
    fmt_bytes,
    fmt_time,
    footer,
    header,
    make_data,
    parse_sizes,
    print_table,
    run_child,
    scrutiny_table,
    table_from_cells,
    verdict,
    vm_hwm,
)

ENGINES = ["imports", "scrutiny-duckdb", "scrutiny-polars", "duckdb-raw", "polars-raw"]
LIMIT = 4e9


def generate(path: Path, rows: int, sizes: list[int], chunk: int, seed: int) -> np.ndarray:
    """Write the Parquet file chunk by chunk; return the exact (G, 2, 2) counts."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = col_names(sizes)
    schema = pa.schema([*(pa.field(n, pa.int8()) for n in names),
                        pa.field("y_true", pa.bool_()), pa.field("y_pred", pa.bool_())])
    cells = np.zeros((int(np.prod(sizes)), 2, 2), dtype=np.int64)
    tmp = path.with_suffix(".partial")
    with pq.ParquetWriter(tmp, schema, compression="snappy") as writer:
        done, i = 0, 0
        while done < rows:
            n = min(chunk, rows - done)
            d = make_data(n, sizes, seed, chunk=i + 1)
            cells += confusion_cells(d, sizes)
            table = pa.table(
                [*(pa.array(d[c]) for c in names), pa.array(d["y_true"].view(bool)),
                 pa.array(d["y_pred"].view(bool))], schema=schema)
            writer.write_table(table, row_group_size=1 << 20)
            done += n
            i += 1
    tmp.replace(path)
    return cells


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def child(engine: str, path: str, sizes: list[int], repeat: int, ci: float | None) -> None:
    """Run one implementation (in a fresh process); print a JSON line."""
    import warnings

    warnings.simplefilter("ignore")
    names = col_names(sizes)
    t0 = time.perf_counter()
    import duckdb
    import polars as pl
    import pyarrow  # noqa: F401

    from scrutiny.fairness import assess

    t_import = time.perf_counter() - t0
    times: list[float] = []
    values: dict[tuple, dict[str, float]] | None = None
    for _ in range(repeat if engine != "imports" else 0):
        t0 = time.perf_counter()
        if engine == "scrutiny-duckdb":
            res = assess("y_true", "y_pred", sensitive_features=names,
                         data=duckdb.read_parquet(path), metrics=METRICS, ci=ci,
                         random_state=0)
        elif engine == "scrutiny-polars":
            res = assess("y_true", "y_pred", sensitive_features=names,
                         data=pl.scan_parquet(path), metrics=METRICS, ci=ci, random_state=0)
        elif engine == "duckdb-raw":
            cols = ", ".join([*names, "y_true", "y_pred"])
            res = duckdb.sql(f"SELECT {cols}, count(*) AS n FROM read_parquet('{path}') "
                             "GROUP BY ALL").fetchall()
        elif engine == "polars-raw":
            res = (pl.scan_parquet(path).group_by([*names, "y_true", "y_pred"])
                   .agg(pl.len().alias("n")).collect(engine="streaming").rows())
        else:
            msg = f"unknown engine {engine!r}"
            raise SystemExit(msg)
        times.append(time.perf_counter() - t0)
        if engine.startswith("scrutiny"):
            values = scrutiny_table(res, names)
        else:
            cells = np.zeros((int(np.prod(sizes)), 2, 2), dtype=np.int64)
            for *keys, yt, yp, n in res:
                g = int(np.ravel_multi_index(tuple(int(k) for k in keys), sizes))
                cells[g, int(yt), int(yp)] += n
            values = table_from_cells(cells, sizes)
    out = {
        "engine": engine,
        "import_s": t_import,
        "times": times,
        "vm_hwm": vm_hwm(),
        "values": None if values is None
        else {",".join(map(str, k)): v for k, v in values.items()},
    }
    print(json.dumps(out))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000_000)
    p.add_argument("--groups", default="3x4", help="categories per sensitive column (3x4)")
    p.add_argument("--chunk", type=int, default=5_000_000, help="rows generated per chunk")
    p.add_argument("--path", default=None,
                   help="Parquet file (default: <tmpdir>/scrutiny_bench_<rows>.parquet)")
    p.add_argument("--keep", action="store_true", help="keep the Parquet file afterwards")
    p.add_argument("--engines", nargs="+", default=ENGINES, choices=ENGINES)
    p.add_argument("--repeat", type=int, default=3, help="timed runs inside each child")
    p.add_argument("--ci", default="0.95", help="ci of assess: a level or 'none'")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="2M rows")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    sizes = parse_sizes(args.groups)
    ci = None if args.ci.lower() == "none" else float(args.ci)
    if args.child:
        child(args.child, args.path, sizes, args.repeat, ci)
        return
    if args.quick:
        args.rows, args.chunk = 2_000_000, 500_000
    path = Path(args.path or Path(tempfile.gettempdir()) / f"scrutiny_bench_{args.rows}.parquet")
    header("Benchmark 3: Parquet through DuckDB and polars streaming", args,
           ("duckdb", "polars", "pyarrow", "narwhals"))

    meta = {"rows": args.rows, "sizes": sizes, "seed": args.seed, "version": 1}
    generated = False
    cells = None
    if path.exists() and sidecar(path).exists():
        saved = json.loads(sidecar(path).read_text())
        if {k: saved.get(k) for k in meta} == meta:
            cells = np.asarray(saved["cells"], dtype=np.int64)
            print(f"reusing {path}")
    if cells is None:
        t0 = time.perf_counter()
        cells = generate(path, args.rows, sizes, args.chunk, args.seed)
        sidecar(path).write_text(json.dumps({**meta, "cells": cells.tolist()}))
        generated = True
        print(f"generated {path} in {fmt_time(time.perf_counter() - t0)}")
    print(f"file: {path} ({fmt_bytes(path.stat().st_size)}), {args.rows:,} rows, "
          f"{int((cells.sum(axis=(1, 2)) > 0).sum())} groups")
    expected = table_from_cells(cells, sizes)

    rows: list[list[str]] = []
    rss: dict[str, int] = {}
    failed = []
    how = "-"
    try:
        for engine in args.engines:
            cmd = [sys.executable, os.path.abspath(__file__), "--child", engine, "--path",
                   str(path), "--groups", args.groups, "--repeat", str(args.repeat),
                   "--ci", args.ci]
            run = run_child(cmd)
            if run.returncode != 0:
                print(f"{engine} FAILED (exit {run.returncode}):\n{run.stderr[-3000:]}")
                failed.append(engine)
                rows.append([engine, "FAILED", "-", "-", fmt_bytes(run.maxrss), "-", "-"])
                continue
            res: dict[str, Any] = run.json()
            rss[engine] = max(run.maxrss, res["vm_hwm"] or 0)
            how = run.how
            if res["values"] is not None:
                got = {tuple(int(x) for x in k.split(",")): v for k, v in res["values"].items()}
                compare(got, expected, f"{engine} vs generated counts")
            t = res["times"]
            rows.append([
                engine,
                fmt_time(min(t)) if t else "-",
                fmt_time(t[0]) if t else "-",
                fmt_time(res["import_s"]),
                fmt_bytes(run.maxrss),
                fmt_bytes(res["vm_hwm"]),
                "-" if engine == "imports" else f"{args.rows / min(t) / 1e6:,.0f} M rows/s",
            ])
    finally:
        if generated and not args.keep:
            path.unlink(missing_ok=True)
            sidecar(path).unlink(missing_ok=True)
            print(f"deleted {path}")
    print_table(["implementation", "best time", "first run", "imports", "peak RSS",
                 "VmHWM (child)", "throughput"], rows,
                f"{args.rows:,} rows from Parquet, best of {args.repeat} runs per child")
    print(f"peak RSS: {how}; VmHWM: the child's own /proc/self/status high-water mark")
    print("values of every group equal to the generated counts (1e-9) for: "
          + ", ".join(e for e in args.engines if e in rss and e != "imports"))
    targets = []
    for engine in ("scrutiny-duckdb", "scrutiny-polars"):
        if engine in args.engines:
            ok = engine in rss and rss[engine] < LIMIT
            targets.append([f"{engine}: completes with peak RSS < 4 GB",
                            fmt_bytes(rss.get(engine)), verdict(ok)])
    if targets:
        print_table(["target", "peak RSS", "verdict"], targets, "target")
    footer()
    if failed:
        raise SystemExit(f"failed: {failed}")


if __name__ == "__main__":
    main()

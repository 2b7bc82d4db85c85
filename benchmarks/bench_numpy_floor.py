"""Benchmark 4: scrutiny against a bare NumPy bincount pass (the floor).

Same pre-encoded arrays for both (default int8: two sensitive code columns
with 3 x 4 categories, 0/1 ``y_true`` / ``y_pred``), at 1M and 10M rows:

* bare: combine the codes and the labels into one index
  ``((s0 * 4 + s1) * 2 + y_true) * 2 + y_pred`` (built in ``np.intp``), one
  ``np.bincount`` with ``minlength`` giving the 4 confusion cells of every
  group, then the seven metrics from those cells. The target is judged
  against this plain version;
* bare, small index: the same with the index built in the smallest integer
  type that holds it (int16 here), a tighter floor, reported for information;
* scrutiny: ``assess(y_true, y_pred, sensitive_features={"s0": s0, "s1": s1},
  ci=None, metrics=[...])``.

Values are asserted equal within 1e-9. Target: scrutiny within 3x of bare.
``--profile`` prints a cProfile of scrutiny at the largest size (hot spots).

Run: ``python benchmarks/bench_numpy_floor.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import warnings
from typing import Any

import numpy as np
from common import (
    METRICS,
    best_of,
    col_names,
    compare,
    fmt_bytes,
    fmt_ratio,
    fmt_time,
    footer,
    header,
    make_data,
    metrics_from_cells,
    parse_sizes,
    print_table,
    scrutiny_table,
    table_from_cells,
    traced_peak,
    verdict,
)


def bare(
    data: dict[str, np.ndarray], sizes: list[int], dtype: Any = np.intp
) -> tuple[np.ndarray, dict]:
    """One combined index, one bincount: the (G, 2, 2) cells and the metrics.

    ``dtype`` is the integer type the index is built in (``np.intp``: the
    plain version; a small type such as int16 makes the arithmetic passes
    cheaper, NumPy's bincount converting to intp internally).
    """
    names = col_names(sizes)
    idx = data[names[0]].astype(dtype)
    for name, k in zip(names[1:], sizes[1:], strict=True):
        idx *= k
        idx += data[name]
    idx *= 2
    idx += data["y_true"]
    idx *= 2
    idx += data["y_pred"]
    g = int(np.prod(sizes))
    cells = np.bincount(idx, minlength=g * 4).reshape(g, 2, 2)
    return cells, metrics_from_cells(cells)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    p.add_argument("--groups", default="3x4", help="categories per sensitive column (3x4)")
    p.add_argument("--dtype", default="int8", choices=["int8", "int32", "int64", "bool"],
                   help="dtype of the pre-encoded columns (bool: labels only, codes int8)")
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    p.add_argument("--profile", action="store_true", help="cProfile scrutiny at the largest size")
    p.add_argument("--quick", action="store_true", help="100k and 1M rows")
    args = p.parse_args()
    if args.quick:
        args.rows, args.repeat = [100_000, 1_000_000], 5
    sizes = parse_sizes(args.groups)
    names = col_names(sizes)
    header("Benchmark 4: scrutiny vs a bare NumPy bincount pass", args)
    warnings.simplefilter("ignore")

    from scrutiny.fairness import assess

    rows, targets = [], []
    data: dict[str, Any] = {}
    for n in args.rows:
        data = make_data(n, sizes, args.seed)
        if args.dtype == "bool":
            data["y_true"] = data["y_true"].view(bool)
            data["y_pred"] = data["y_pred"].view(bool)
        elif args.dtype != "int8":
            data = {k: v.astype(args.dtype) for k, v in data.items()}
        sf = {nm: data[nm] for nm in names}

        def scr(data: dict[str, Any] = data, sf: dict[str, Any] = sf) -> Any:
            return assess(data["y_true"], data["y_pred"], sensitive_features=sf,
                          metrics=METRICS, ci=None)

        small = np.int16 if np.prod(sizes) * 4 < 1 << 15 else np.int32
        tb = best_of(lambda data=data: bare(data, sizes), args.repeat, warmup=1)
        t16 = best_of(lambda data=data, small=small: bare(data, sizes, small), args.repeat,
                      warmup=1)
        if not np.array_equal(t16.result[0], tb.result[0]):
            raise AssertionError("small-index bare pass disagrees")
        ts = best_of(scr, args.repeat, warmup=1)
        expected = table_from_cells(tb.result[0], sizes)
        compare(scrutiny_table(ts.result, names), expected, f"scrutiny vs bare at {n:,}")
        mb = ms = None
        if not args.no_memory:
            mb = traced_peak(lambda data=data: bare(data, sizes))
            ms = traced_peak(scr)
        ratio = ts.best / tb.best
        rows.append([f"{n:,}", fmt_time(tb.best), fmt_time(t16.best), fmt_time(ts.best),
                     fmt_ratio(ratio), fmt_ratio(ts.best / t16.best), fmt_bytes(mb),
                     fmt_bytes(ms)])
        targets.append([f"{n:,} rows: scrutiny within 3x of bare bincount", f"{ratio:.1f}x",
                        verdict(ratio <= 3)])
    print_table(["rows", "bare (intp index)", "bare (small index)", "scrutiny ci=None",
                 "scrutiny / bare", "scrutiny / bare small", "peak traced (bare)",
                 "peak traced (scrutiny)"], rows,
                f"{len(table_from_cells(bare(data, sizes)[0], sizes))} groups, {args.dtype} "
                "columns, values equal within 1e-9")
    print_table(["target", "ratio", "verdict"], targets, "targets")
    footer()

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        sf = {nm: data[nm] for nm in names}
        for _ in range(3):
            assess(data["y_true"], data["y_pred"], sensitive_features=sf, metrics=METRICS,
                   ci=None)
        prof.disable()
        for key in ("tottime", "cumulative"):
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(25)
            print(f"\n### cProfile of 3 scrutiny calls at {args.rows[-1]:,} rows, by {key}\n")
            print(buf.getvalue())


if __name__ == "__main__":
    main()

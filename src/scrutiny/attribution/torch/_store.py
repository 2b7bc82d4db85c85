"""Where features live: in memory, or on disk as ``.npy`` memmaps with a metadata JSON.

Layout of a :class:`MemmapStore` (one folder per run):

.. code-block:: text

    store_dir/
      meta.json              # what the features are: method, data and model digests,
                             # projector, chunking; a different run refuses to reuse it
      progress.log           # one finished step per line (append-only)
      member_000/train_features.npy   (n_train, proj_dim) float32
      member_000/train_out_to_loss.npy (n_train,) float32
      member_000/xtx_inv.npy           (proj_dim, proj_dim) float64   (TRAK)
      queries_<digest>/member_000/features.npy ...

Every chunk is written, flushed, and only then logged as done; on restart the
logged chunks are skipped, so an interrupted run resumes and ends with the
same numbers as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from scrutiny.exceptions import InvalidParameterError

FORMAT_VERSION = 1


@runtime_checkable
class Store(Protocol):
    """Persistent (or not) arrays plus a record of finished steps."""

    def prepare(self, meta: dict[str, Any]) -> None:
        """Bind the store to a run; refuse features of a different run."""
        ...

    def array(self, key: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        """The array ``key``: reopened when it exists, else created (zeros)."""
        ...

    def is_done(self, step: str) -> bool:
        """Whether ``step`` finished in this or an earlier run."""
        ...

    def mark_done(self, step: str) -> None:
        """Record ``step`` as finished (after its arrays are written)."""
        ...

    def flush(self) -> None:
        """Write pending array data."""
        ...


class MemoryStore:
    """Arrays in RAM; nothing survives the process (the default without ``store_dir``)."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        self._done: set[str] = set()
        self.meta: dict[str, Any] = {}

    def prepare(self, meta: dict[str, Any]) -> None:
        """Remember ``meta``."""
        self.meta = dict(meta)

    def array(self, key: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        """A zero-filled array, or the one created earlier under ``key``."""
        arr = self._arrays.get(key)
        if arr is None or arr.shape != tuple(shape):
            arr = np.zeros(shape, dtype=dtype)
            self._arrays[key] = arr
        return arr

    def is_done(self, step: str) -> bool:
        """Whether ``step`` was marked done."""
        return step in self._done

    def mark_done(self, step: str) -> None:
        """Mark ``step`` done."""
        self._done.add(step)

    def flush(self) -> None:
        """Nothing to write."""


class MemmapStore:
    """Features as ``.npy`` memory maps in a folder, with a metadata JSON; resumable.

    Parameters
    ----------
    root : str or path
        The folder (created if missing). Reusing it for a run with different
        data, models, projection or chunking raises
        :class:`~scrutiny.exceptions.InvalidParameterError`; use a fresh folder.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._arrays: dict[str, np.memmap] = {}
        self._done: set[str] | None = None

    @property
    def _log(self) -> Path:
        return self.root / "progress.log"

    def prepare(self, meta: dict[str, Any]) -> None:
        """Write ``meta.json``, or check that the existing one describes the same run."""
        self.root.mkdir(parents=True, exist_ok=True)
        meta = {"format_version": FORMAT_VERSION, **meta}
        path = self.root / "meta.json"
        wanted = json.loads(json.dumps(meta))
        if path.exists():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                old = None
            if old is not None and old != wanted:
                diff = sorted(k for k in set(old) | set(wanted) if old.get(k) != wanted.get(k))
                msg = (
                    f"store_dir {str(self.root)!r} holds features of a different run "
                    f"(differs in: {', '.join(diff)}). Pass a new store_dir, or delete this "
                    "folder to recompute."
                )
                raise InvalidParameterError(msg)
            if old is not None:
                return
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(wanted, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if any(p in ("", ".", "..") for p in parts):
            msg = f"bad store key {key!r}"
            raise ValueError(msg)
        return self.root.joinpath(*parts).with_suffix(".npy")

    def array(self, key: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        """Reopen ``key`` read-write if it exists with this shape and dtype, else create it."""
        if key in self._arrays:
            return self._arrays[key]
        path = self._path(key)
        shape = tuple(int(s) for s in shape)
        arr: np.memmap | None = None
        if path.exists():
            try:
                arr = np.lib.format.open_memmap(path, mode="r+")
            except (ValueError, OSError):
                arr = None
            if arr is not None and (arr.shape != shape or arr.dtype != np.dtype(dtype)):
                del arr
                arr = None
        if arr is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            arr = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
        self._arrays[key] = arr
        return arr

    def _load_done(self) -> set[str]:
        if self._done is None:
            self._done = set()
            if self._log.exists():
                text = self._log.read_text(encoding="utf-8")
                # a line cut short by a crash has no trailing newline: ignore it
                complete = text if text.endswith("\n") else text.rsplit("\n", 1)[0]
                self._done = {ln for ln in complete.splitlines() if ln}
        return self._done

    def is_done(self, step: str) -> bool:
        """Whether ``step`` is logged as finished."""
        return step in self._load_done()

    def mark_done(self, step: str) -> None:
        """Flush the arrays, then append ``step`` to ``progress.log``."""
        self.flush()
        done = self._load_done()
        if step in done:
            return
        with self._log.open("a", encoding="utf-8") as fh:
            fh.write(step + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        done.add(step)

    def flush(self) -> None:
        """Write every open memmap to disk."""
        for arr in self._arrays.values():
            arr.flush()

    def steps_done(self) -> list[str]:
        """The finished steps, sorted (for inspection and tests)."""
        return sorted(self._load_done())


def check_store(store: Any, where: str = "attribute") -> Store:
    """``store_dir`` (path or Store) -> a Store; None -> a MemoryStore."""
    if store is None:
        return MemoryStore()
    if isinstance(store, str | os.PathLike):
        return MemmapStore(store)
    if isinstance(store, Store):
        return store
    raise InvalidParameterError.from_value(
        "store_dir", where, "a folder path, a Store or None", store
    )

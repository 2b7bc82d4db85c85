"""The result of an attribution: scores (or top-k), with provenance and reliability notes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scrutiny.exceptions import InvalidParameterError

SCHEMA_VERSION = "1.0"
FINDING_KINDS = ("label_issue", "disparity_driver", "undersampled_slice", "other")


@dataclass
class AttributionResult:
    """Training-data attribution scores and how they were obtained.

    Sign convention, everywhere: ``scores[q, i]`` estimates how much query
    ``q``'s loss would **rise** if training example ``i`` were removed. Positive
    means example ``i`` helped ``q``; negative means it hurt.

    Attributes
    ----------
    method : str
        The attribution method.
    scores : ndarray of shape (n_query, n_train) or None
        Full scores, when materialised.
    top_indices, top_scores : ndarray of shape (n_query, k) or None
        The ``k`` largest-magnitude scores per query (streaming methods), sorted
        by decreasing score.
    params : dict
        Hyper-parameters actually used (damping, regularisation, projection...).
    seed : int or None
        Random seed, when the method is random.
    seconds : float
        Wall-clock compute time.
    notes : list of str
        Reliability notes: what the numbers assume and when they mislead.
    findings : list of dict
        Plain-language findings (``kind``, ``message``, ``count``) for reports and cards.
    """

    method: str
    scores: np.ndarray | None = None
    top_indices: np.ndarray | None = None
    top_scores: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def n_query(self) -> int:
        """Number of queries."""
        if self.scores is not None:
            return int(self.scores.shape[0])
        return 0 if self.top_indices is None else int(self.top_indices.shape[0])

    def top(self, query: int = 0, k: int = 10, *, kind: str = "helpful") -> list[tuple[int, float]]:
        """The ``k`` most helpful (largest positive) or harmful (most negative) examples.

        Parameters
        ----------
        query : int, default=0
            Row of the query.
        k : int, default=10
            How many examples.
        kind : {"helpful", "harmful"}, default="helpful"
            Which end of the ranking.

        Returns
        -------
        list of (int, float)
            Training-example indices with their scores.
        """
        if kind not in ("helpful", "harmful"):
            raise InvalidParameterError.from_value(
                "kind", "AttributionResult.top", "'helpful' or 'harmful'", kind
            )
        if not 0 <= query < self.n_query:
            raise InvalidParameterError.from_value(
                "query", "AttributionResult.top", f"a row between 0 and {self.n_query - 1}", query
            )
        if self.scores is not None:
            row = self.scores[query]
            # partial retrains leave NaN elsewhere; helpful means > 0, harmful < 0
            known = np.flatnonzero(np.isfinite(row) & ((row > 0) if kind == "helpful" else
                                                       (row < 0)))
            vals = row[known]
            order = known[np.argsort(-vals if kind == "helpful" else vals, kind="stable")[:k]]
            return [(int(i), float(row[i])) for i in order]
        if self.top_indices is None or self.top_scores is None:
            msg = "this result holds neither full scores nor top-k scores"
            raise InvalidParameterError(msg)
        idx, val = self.top_indices[query], self.top_scores[query]
        keep = val > 0 if kind == "helpful" else val < 0
        pairs = list(zip(idx[keep].tolist(), val[keep].tolist(), strict=True))
        pairs.sort(key=lambda p: -p[1] if kind == "helpful" else p[1])
        return [(int(i), float(v)) for i, v in pairs[:k]]

    def to_dict(self, *, top_k: int = 10) -> dict[str, Any]:
        """JSON form: provenance, notes, findings and the top examples of every query."""
        queries = []
        for q in range(self.n_query):
            queries.append({
                "query": q,
                "helpful": [{"train_index": i, "score": s} for i, s in self.top(q, top_k)],
                "harmful": [{"train_index": i, "score": s}
                            for i, s in self.top(q, top_k, kind="harmful")],
            })
        return {
            "schema_version": SCHEMA_VERSION,
            "method": self.method,
            "sign_convention": "score > 0: removing the training example would raise the "
            "query's loss (the example helped)",
            "params": _jsonable(self.params),
            "seed": self.seed,
            "seconds": self.seconds,
            "notes": list(self.notes),
            "findings": [_jsonable(f) for f in self.findings],
            "queries": queries,
            "extras": _jsonable(self.extras),
        }

    def to_json(self, path: str | Path | None = None, *, top_k: int = 10) -> str:
        """Serialise :meth:`to_dict`; also write it to ``path`` when given."""
        text = json.dumps(self.to_dict(top_k=top_k), indent=2, allow_nan=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj

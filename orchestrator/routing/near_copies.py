"""Near-copy memory: route a query that nearly repeats a fitted one by that query's records.

Where a test query is a near-copy of a calibration query (cosine at least `threshold` between
their embeddings), the calibration query's own per-model scores say more than its cluster's
means, if outcomes repeat with the query. The memory keeps every fitted query's unit
embedding and records, grouped by its nearest cluster of the first clustering (bag 0); a
query is compared with the fitted queries of its own nearest bag-0 cluster only (an
inverted-file search, so `route()` stays within microseconds), and when the most similar one
reaches the threshold its records, normalised across models like a cluster's
(`α·p̃ + (1−α)·(1−q̃)`), are blended into the cluster scores with `weight`. A model without a
record there keeps its cluster score."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from orchestrator.errors import InputError

FloatMatrix = npt.NDArray[np.float64]
Float32Matrix = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class NearCopies:
    """Fitted queries' unit embeddings (n, dim), their scores and costs (n, m; NaN: no
    record), sorted by their bag-0 cluster, and `offsets` (k0 + 1,): cluster c's rows are
    `offsets[c]:offsets[c + 1]`, c numbered among bag 0's clusters."""

    vectors: Float32Matrix
    scores: FloatMatrix
    costs: FloatMatrix
    offsets: IntArray

    def check(self, dim: int, n_models: int, clusters: int) -> None:
        n = len(self.vectors)
        if self.vectors.shape != (n, dim) or not np.isfinite(self.vectors).all():
            raise InputError(f"near-copy vectors have shape {self.vectors.shape}, dim {dim}")
        for name in ("scores", "costs"):
            if getattr(self, name).shape != (n, n_models):
                shape = getattr(self, name).shape
                raise InputError(f"near-copy {name} have shape {shape}, expected {(n, n_models)}")
        steps = np.diff(self.offsets)
        if self.offsets.shape != (clusters + 1,) or self.offsets[0] != 0 or (steps < 0).any():
            raise InputError("near-copy offsets must rise from 0, one step per bag-0 cluster")
        if self.offsets[-1] != n:
            raise InputError(f"near-copy offsets end at {self.offsets[-1]}, not at {n} rows")

    @classmethod
    def build(
        cls, x: Float32Matrix, scores: FloatMatrix, costs: FloatMatrix, labels: IntArray, k0: int
    ) -> NearCopies:
        """From unit rows `x`, their records and each row's bag-0 cluster (0 … k0 − 1)."""
        order = np.argsort(labels, kind="stable")
        offsets = np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=k0))])
        return cls(
            np.ascontiguousarray(x[order], dtype=np.float32),
            np.asarray(scores[order], dtype=np.float64),
            np.asarray(costs[order], dtype=np.float64),
            offsets.astype(np.int64),
        )

    def reindexed(self, old: list[str], models: list[str], fresh: list[str]) -> NearCopies:
        """The memory for the columns `models`: an old model's records kept unless `fresh`
        replaces its column (then, like a new model's, none: its cluster score decides)."""
        n = len(self.vectors)
        scores, costs = np.full((n, len(models)), np.nan), np.full((n, len(models)), np.nan)
        for j, model in enumerate(models):
            if model in old and model not in fresh:
                scores[:, j] = self.scores[:, old.index(model)]
                costs[:, j] = self.costs[:, old.index(model)]
        return NearCopies(self.vectors, scores, costs, self.offsets)

    def nearest(self, unit: Float32Matrix, cluster: IntArray) -> tuple[IntArray, FloatMatrix]:
        """For unit query rows and each one's bag-0 cluster: the most similar fitted row in
        that cluster (−1 where it has none) and the cosine (−inf there)."""
        rows = np.full(len(unit), -1, dtype=np.int64)
        sims = np.full(len(unit), -np.inf)
        for c in np.unique(cluster):
            queries = np.flatnonzero(cluster == c)
            start, stop = int(self.offsets[c]), int(self.offsets[c + 1])
            if stop == start:
                continue
            cos = unit[queries] @ self.vectors[start:stop].T
            best = cos.argmax(axis=1)
            rows[queries] = start + best
            sims[queries] = cos[np.arange(len(queries)), best]
        return rows, sims

    @cached_property
    def _normalised(self) -> tuple[FloatMatrix, FloatMatrix]:
        """Per fitted query, p̃ (NaN: no record) and thrift 1 − q̃ (0 where no cost is known)."""
        return _minmax(self.scores), np.nan_to_num(1.0 - _minmax(self.costs), nan=0.0)

    def votes(self, rows: IntArray, alpha: float) -> FloatMatrix:
        """(len(rows), m) the rows' records normalised across models as a cluster's are,
        `α·p̃ + (1−α)·(1 − q̃)`, NaN where a model has no record."""
        perf, thrift = self._normalised
        return alpha * perf[rows] + (1.0 - alpha) * thrift[rows]

    @cached_property
    def _bounds(self) -> list[int]:
        return [int(o) for o in self.offsets]

    def blend_one(
        self, unit: Float32Matrix, cluster: int, scores: FloatMatrix, *knobs: float
    ) -> FloatMatrix:
        """`blend` for one query (`route()`): `unit` (dim,), `scores` (m,); `knobs` are
        alpha, threshold and weight."""
        alpha, threshold, weight = knobs
        start, stop = self._bounds[cluster], self._bounds[cluster + 1]
        if stop == start:
            return scores
        cos = self.vectors[start:stop] @ unit
        best = int(cos.argmax())
        if cos[best] < threshold:
            return scores
        perf, thrift = self._normalised
        votes = alpha * perf[start + best] + (1.0 - alpha) * thrift[start + best]
        return np.where(np.isnan(votes), scores, (1.0 - weight) * scores + weight * votes)

    def blend(
        self,
        unit: Float32Matrix,
        cluster: IntArray,
        scores: FloatMatrix,
        alpha: float,
        threshold: float,
        weight: float,
    ) -> FloatMatrix:
        """`scores` (n, m) with the near-copies' votes blended in where one reaches the
        threshold."""
        rows, sims = self.nearest(unit, cluster)
        hit = np.flatnonzero(sims >= threshold)
        if len(hit) == 0:
            return scores
        out = np.array(scores, dtype=np.float64)
        votes = self.votes(rows[hit], alpha)
        mixed = (1.0 - weight) * out[hit] + weight * votes
        out[hit] = np.where(np.isnan(votes), out[hit], mixed)
        return out


def _minmax(values: FloatMatrix) -> FloatMatrix:
    """Each row scaled to [0, 1] over its known values (NaN stays NaN; 0 where all equal)."""
    with np.errstate(invalid="ignore"):
        known = ~np.isnan(values)
        low = np.where(known, values, np.inf).min(axis=1, keepdims=True)
        high = np.where(known, values, -np.inf).max(axis=1, keepdims=True)
        span = high - low
        scaled = (values - low) / np.where(span > 0, span, 1.0)
    return np.where(span > 0, scaled, np.where(known, 0.0, np.nan))

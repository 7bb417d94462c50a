"""Routers: pick the model for one embedded sub-query.

`ClusterRouter` is the Avengers-Pro rule: k-means on L2-normalised query
embeddings; per cluster j and model i the mean score p[j,i] and mean cost q[j,i]; min-max
normalisation within the cluster; `x = α·p̃ + (1−α)·(1−q̃)`; a query is scored by its top-p
nearest centroids (cosine) weighted by `softmax(−β·distance)` and goes to the argmax model.
`scale="table"`, the default for a new fit, normalises over the whole table (`scoring_tables`).
Variants from the reference code: cost divided by the cluster max (`cost_norm="max"`),
reciprocal-rank votes across clusters (`vote="rank"`), and a minimum-accuracy filter.
Bagging (`bags=B`) fits B clusterings with consecutive seeds and averages their votes: each
bag scores the query by its own top-p clusters, which evens out where one k-means run
happens to draw a cluster boundary. `frontier=True` routes only among the models on some
dataset's cost-accuracy frontier (`frontier.py`); the others are `excluded`.
The knobs, their recommended defaults and the paper's preset: `cluster_config.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from orchestrator.errors import InputError
from orchestrator.protocols import RouteDecision, Vector
from orchestrator.routing.cluster_config import ClusterConfig
from orchestrator.routing.cluster_tables import (
    ClusterTables,
    FloatMatrix,
    IntArray,
    bag_groups,
    bagged_clusters,
    choose_k,
    cluster_stats,
    dataset_weights,
    merge_columns,
    nearest_clusters,
    scoring_tables,
)
from orchestrator.routing.fit_inputs import dataset_names, fit_inputs
from orchestrator.routing.frontier import frontier_models
from orchestrator.routing.near_copies import NearCopies

# How many α tables a router keeps; a sweep uses 11, a server usually one.
_ALPHA_CACHE = 64


class FixedRouter:
    """Always the configured default model; used when no fitted router is configured."""

    def __init__(self, model: str, embedder_name: str = "any") -> None:
        self.models = [model]
        self.embedder_name = embedder_name
        self._decision = RouteDecision(model=model, scores={model: 1.0})

    def route(self, vector: Vector, alpha: float = 1.0) -> RouteDecision:
        return self._decision

    def best_model(self) -> str:
        return self.models[0]


@dataclass
class ClusterRouter:
    """A fitted embedding-cluster router. α is chosen per call; one router serves a sweep.
    `excluded` models keep their tables but are never picked."""

    embedder_name: str
    models: list[str]
    config: ClusterConfig
    tables: ClusterTables
    meta: dict[str, Any] = field(default_factory=dict)
    excluded: tuple[str, ...] = ()
    memory: NearCopies | None = None
    _by_alpha: dict[float, FloatMatrix] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.config.k is None:
            raise InputError("a fitted router's config needs k, the clusters it fitted")
        self.tables.check(len(self.models))
        if (found := self.tables.n_bags) != self.config.bags:
            raise InputError(f"the tables hold {found} clusterings, the config {self.config.bags}")
        self._centroids = np.ascontiguousarray(self.tables.centroids, dtype=np.float32)
        self._routable = np.array([m not in self.excluded for m in self.models])
        if unknown := sorted(set(self.excluded) - set(self.models)):
            raise InputError(f"excluded models {unknown} are not among the models {self.models}")
        if not self._routable.any():
            raise InputError("every model is excluded: a router needs one to route to")
        self._perf, self._thrift, eligible = scoring_tables(
            self.tables, self.config.cost_norm, self.config.min_accuracy, self.config.scale
        )
        eligible &= self._routable
        self._eligible = eligible | (self._routable & ~eligible.any(axis=1, keepdims=True))
        groups = bag_groups(self.tables.bags)
        self._top_p = min(self.config.top_p, *(len(g) for g in groups))
        # (bags, widest bag) cluster ids, padded with k: a column whose similarity is -inf
        self._groups = np.full((len(groups), max(len(g) for g in groups)), self.k)
        for b, ids in enumerate(groups):
            self._groups[b, : len(ids)] = ids
        self._bag_rows = np.arange(len(groups))[:, np.newaxis]
        self._bag0 = groups[0]
        if (self.config.near_copy is None) != (self.memory is None):
            raise InputError("a near_copy threshold and a near-copy memory go together")
        if self.memory is not None:
            self.memory.check(self.dim, len(self.models), len(self._bag0))

    @property
    def k(self) -> int:
        """Clusters over all bags."""
        return int(self._centroids.shape[0])

    def shape_text(self) -> str:
        """`60 clusters`, or `5 bags of 60 clusters`."""
        bags, per_bag = self.config.bags, self.config.k
        return f"{per_bag} clusters" if bags == 1 else f"{bags} bags of {per_bag} clusters"

    @property
    def dim(self) -> int:
        return int(self._centroids.shape[1])

    def best_model(self) -> str:
        """The routable model with the highest accuracy over the fitted queries, every
        dataset weighing the same (read from the first clustering's tables)."""
        first = self.tables.bags == 0
        scores = self.tables.scores[first]
        per_cluster = (self.tables.sizes * self.tables.weights)[first, np.newaxis]
        weight = np.where(np.isnan(scores), 0.0, per_cluster)
        accuracy = np.nansum(scores * weight, axis=0) / np.maximum(weight.sum(axis=0), 1e-12)
        accuracy[~self._routable] = -np.inf
        return self.models[int(np.argmax(accuracy))]

    @classmethod
    def fit(
        cls,
        embeddings: Any,
        scores: Any,
        costs: Any | None,
        models: list[str],
        *,
        embedder_name: str,
        config: ClusterConfig | None = None,
        datasets: Sequence[str] | None = None,
        frontier: bool = False,
        meta: dict[str, Any] | None = None,
        **knobs: Any,
    ) -> ClusterRouter:
        """Fit on (n, dim) embeddings and (n, m) scores/costs; NaN marks a missing record.
        The rule is `config` (default `ClusterConfig()`, the recommended one; or e.g.
        `ClusterConfig.preset("paper")`) with `knobs` (`k=30`, `bags=1`, …) set over it.
        `datasets` names each row's dataset (all one dataset when not given): per-dataset
        clustering runs k-means within each. With `frontier`, models on no dataset's
        cost-accuracy frontier are excluded (`frontier.py`)."""
        x, s, c = fit_inputs(embeddings, scores, costs, models)
        groups = dataset_names(datasets, len(x))
        config = replace(config or ClusterConfig(), **knobs)
        per_dataset = config.clustering == "per-dataset"
        k = choose_k(len(x), config.k)
        centroids, bags, labels = bagged_clusters(
            x, groups, k, config.seed, config.bags, per_dataset, config.cluster_size
        )
        tables = cluster_stats(centroids, bags, labels, s, c, dataset_weights(groups))
        config = replace(config, k=int(np.bincount(bags).max()))
        keep = frontier_models(s, c, groups) if frontier else np.ones(len(models), dtype=bool)
        excluded = tuple(m for m, kept in zip(models, keep, strict=True) if not kept)
        memory = None
        if config.near_copy is not None:
            unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
            memory = NearCopies.build(unit, s, c, labels[0], int((bags == 0).sum()))
        meta = dict(meta or {})
        return cls(embedder_name, list(models), config, tables, meta, excluded, memory)

    def update(
        self, embeddings: Any, scores: Any, costs: Any | None, models: list[str]
    ) -> ClusterRouter:
        """A router whose tables add (or replace) `models`' columns, computed from their
        outcomes on queries assigned to the existing centroids; no re-clustering. The models
        given are routable; the frontier is judged again only by a new fit."""
        x, s, c = fit_inputs(embeddings, scores, costs, models)
        self._check_dim(x.shape[1])
        bags = self.tables.bags
        labels = nearest_clusters(self._centroids, bags, x)
        fresh = cluster_stats(self._centroids, bags, labels, s, c, np.ones(len(x)))
        merged_models, tables = merge_columns(self.tables, self.models, fresh, list(models))
        excluded = tuple(m for m in self.excluded if m not in models)
        memory = self.memory and self.memory.reindexed(self.models, merged_models, list(models))
        return ClusterRouter(
            self.embedder_name, merged_models, self.config, tables, self.meta, excluded, memory
        )

    def _check_dim(self, dim: int) -> None:
        if dim != self.dim:
            raise InputError(
                f"vector dimension {dim} does not match the router's {self.dim} "
                f"(fitted with embedder {self.embedder_name!r})"
            )

    def table(self, alpha: float) -> FloatMatrix:
        """Per-cluster model scores at α: (k, m), the values the clusters vote with."""
        cached = self._by_alpha.get(alpha)
        if cached is not None:
            return cached
        if not 0.0 <= alpha <= 1.0:
            raise InputError(f"alpha must lie in [0, 1], got {alpha}")
        x = alpha * self._perf + (1.0 - alpha) * self._thrift
        x = np.where(self._eligible, x, 0.0)
        if self.config.vote == "rank":
            ranks = np.argsort(np.argsort(-x, axis=1, kind="stable"), axis=1, kind="stable")
            x = np.asarray(1.0 / (ranks + 1.0), dtype=np.float64)
        x = np.where(self._routable, x, -1.0)  # below any vote a routable model can get
        if len(self._by_alpha) >= _ALPHA_CACHE:
            self._by_alpha.clear()
        self._by_alpha[alpha] = x
        return x

    def _nearest(self, sims: npt.NDArray[np.floating[Any]]) -> tuple[IntArray, FloatMatrix]:
        """For (n, k) cosine similarities: each row's top-p clusters in every bag, nearest
        first, and their weights, softmax(−β·(1 − cos)) within a bag divided by the number
        of bags; both (n, bags · top_p)."""
        n, (bags, width), p = len(sims), self._groups.shape, self._top_p
        if bags * width == self.k:  # bags of equal size, stored in order: no padding
            grid = sims.reshape(n * bags, width)
        else:
            padded = np.hstack([sims, np.full((n, 1), -np.inf, sims.dtype)])
            grid = padded[:, self._groups].reshape(n * bags, width)
        rows = self._bag_rows if n == 1 else np.arange(n * bags)[:, np.newaxis]
        if n > 1 and p < width:  # over many rows a partial sort first pays off
            local = np.argpartition(-grid, p - 1, axis=1)[:, :p]
            local = local[rows, np.argsort(-grid[rows, local], axis=1)]
        else:
            local = np.argsort(-grid, axis=1)[:, :p]
        near = grid[rows, local].astype(np.float64)
        weights = np.exp(self.config.beta * (near - near[:, :1]))
        weights /= weights.sum(axis=1, keepdims=True) * bags
        ids = self._groups[rows % bags, local]
        return ids.reshape(n, bags * p), weights.reshape(n, bags * p)

    def _recall(
        self, unit: npt.NDArray[np.float32], sims: Any, scores: Any, alpha: float
    ) -> FloatMatrix:
        """`scores` with the near-copy memory's votes blended in (unchanged without one)."""
        table: FloatMatrix = np.asarray(scores, dtype=np.float64)
        if self.memory is None or self.config.near_copy is None:
            return table
        cluster = sims[:, self._bag0].argmax(axis=1)
        knobs = (alpha, self.config.near_copy, self.config.near_copy_weight)
        blended = self.memory.blend(unit, cluster, table, *knobs)
        return table if blended is table else np.where(self._routable, blended, -np.inf)

    def route(self, vector: Vector, alpha: float = 1.0) -> RouteDecision:
        """The model for one embedded query, with its nearest clusters, weights and scores."""
        v = np.asarray(vector, dtype=np.float32).reshape(-1)
        self._check_dim(v.shape[0])
        norm = max(float(np.sqrt(v @ v)), 1e-12)
        sims = ((self._centroids @ v) / norm)[np.newaxis, :]
        top, weights = self._nearest(sims)
        scores = weights[0] @ self.table(alpha)[top[0]]
        if self.memory is not None and self.config.near_copy is not None:
            cluster = int(sims[0, self._bag0].argmax())
            knobs = (alpha, self.config.near_copy, self.config.near_copy_weight)
            recalled = self.memory.blend_one(v / norm, cluster, scores, *knobs)
            scores = np.where(self._routable, recalled, -np.inf)
        return RouteDecision(
            model=self.models[int(scores.argmax())],
            clusters=top[0].tolist(),
            weights=weights[0].tolist(),
            scores={
                m: score
                for m, score, ok in zip(self.models, scores.tolist(), self._routable, strict=True)
                if ok
            },
        )

    def route_batch(self, matrix: Any, alpha: float = 1.0, chunk: int = 8192) -> IntArray:
        """Model indices (into `models`) for each row of an (n, dim) matrix of embeddings."""
        x = np.asarray(matrix, dtype=np.float32)
        if x.ndim != 2:
            raise InputError(f"route_batch needs an (n, dim) matrix, got shape {x.shape}")
        self._check_dim(x.shape[1])
        table = self.table(alpha)
        out = np.empty(len(x), dtype=np.int64)
        for start in range(0, len(x), chunk):
            rows = x[start : start + chunk]
            norms = np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
            unit, sims = rows / norms, (rows @ self._centroids.T) / norms
            top, weights = self._nearest(sims)
            scores = self._recall(unit, sims, np.einsum("np,npm->nm", weights, table[top]), alpha)
            out[start : start + len(rows)] = scores.argmax(axis=1)
        return out

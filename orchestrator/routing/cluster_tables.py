"""Per-cluster tables of the embedding-cluster router: clustering, per-cluster means over the
records that exist, and the normalised tables the routing rule scores with."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from orchestrator.errors import InputError

FloatMatrix = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Float32Matrix = npt.NDArray[np.float32]

# Ties break toward the cheaper model at α=1 and the more accurate one at α=0.
TIE_BREAK = 1e-6


@dataclass(frozen=True)
class ClusterTables:
    """What a fitted router knows: unit centroids (k, dim); per cluster and model the mean
    score and mean cost (NaN where the model has no record there) and the record count; the
    number of calibration queries in each cluster; which clustering (bag) each cluster
    belongs to, numbered from 0 (every query is in one cluster of each bag); and each
    cluster's weight, the mean over its queries of N / (D·n_d) for a query of a dataset with
    n_d of the N queries in D datasets (1 where there is one dataset): what a correct answer
    there is worth when every dataset counts equally."""

    centroids: Float32Matrix
    scores: FloatMatrix
    costs: FloatMatrix
    counts: IntArray
    sizes: IntArray
    bags: IntArray
    weights: FloatMatrix

    def check(self, n_models: int) -> None:
        k = self.centroids.shape[0]
        expected = (k, n_models)
        for name in ("scores", "costs", "counts"):
            if getattr(self, name).shape != expected:
                shape = getattr(self, name).shape
                raise InputError(f"cluster {name} table has shape {shape}, expected {expected}")
        if self.centroids.ndim != 2 or k == 0 or self.sizes.shape != (k,):
            shapes = f"{self.centroids.shape} and {self.sizes.shape}"
            raise InputError(f"centroids and sizes have mismatched shapes {shapes}")
        if self.bags.shape != (k,) or set(self.bags.tolist()) != set(range(self.n_bags)):
            raise InputError("cluster bags must number every cluster's clustering from 0 up")
        if self.weights.shape != (k,) or not (self.weights > 0).all():
            raise InputError("cluster weights must be one positive number per cluster")

    @property
    def n_bags(self) -> int:
        return int(self.bags.max()) + 1 if len(self.bags) else 0


def _unit_rows(matrix: npt.NDArray[np.floating]) -> Float32Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.asarray(matrix / np.maximum(norms, 1e-12), dtype=np.float32)


def choose_k(n: int, k: int | None, min_cluster_size: int = 30) -> int:
    """`k` clusters, or by default 60, fewer when there are under ~30 queries per cluster."""
    if k is None:
        return max(1, min(60, n // min_cluster_size))
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    return min(k, n)


def kmeans_clusters(x: Float32Matrix, k: int, seed: int) -> tuple[Float32Matrix, IntArray]:
    """Seeded k-means on L2-normalised rows; empty clusters are dropped. Returns unit
    centroids and each row's cluster."""
    from sklearn.cluster import KMeans

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate points: fewer distinct clusters than k
        fitted = KMeans(n_clusters=k, random_state=seed, n_init=1).fit(_unit_rows(x))
    labels = np.asarray(fitted.labels_, dtype=np.int64)
    used = np.unique(labels)
    remap = np.full(k, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return _unit_rows(fitted.cluster_centers_[used]), remap[labels]


def stratified_clusters(
    x: Float32Matrix, groups: list[str], k: int, seed: int, cluster_size: int | None = None
) -> tuple[Float32Matrix, IntArray]:
    """k-means within each group (dataset), so that no cluster mixes groups: the k clusters
    shared out in proportion to group size, or with `cluster_size` one cluster per that many
    of the group's rows (at least one per group either way)."""
    names, codes = np.unique(np.asarray(groups, dtype=object), return_inverse=True)
    codes = np.asarray(codes, dtype=np.int64).reshape(-1)
    centroids: list[Float32Matrix] = []
    labels = np.zeros(len(x), dtype=np.int64)
    for g in range(len(names)):
        rows = np.flatnonzero(codes == g)
        share = len(rows) // cluster_size if cluster_size else round(k * len(rows) / len(x))
        k_g = max(1, min(share, len(rows)))
        found, local = kmeans_clusters(x[rows], k_g, seed)
        labels[rows] = local + sum(len(c) for c in centroids)
        centroids.append(found)
    return np.vstack(centroids), labels


def bagged_clusters(
    x: Float32Matrix,
    groups: list[str],
    k: int,
    seed: int,
    bags: int,
    per_dataset: bool,
    cluster_size: int | None = None,
) -> tuple[Float32Matrix, IntArray, IntArray]:
    """`bags` clusterings, with seeds `seed`, `seed + 1`, …, each by k-means over all rows or
    within each group (`stratified_clusters`). Returns the centroids of all bags stacked,
    each centroid's bag, and (bags, n) each row's cluster in each bag, numbered over all."""
    found = [
        stratified_clusters(x, groups, k, seed + b, cluster_size)
        if per_dataset
        else kmeans_clusters(x, k, seed + b)
        for b in range(bags)
    ]
    sizes = [len(centroids) for centroids, _ in found]
    offsets = np.cumsum([0, *sizes[:-1]])
    labels = [bag_labels + offset for (_, bag_labels), offset in zip(found, offsets, strict=True)]
    bag_of = np.repeat(np.arange(bags, dtype=np.int64), sizes)
    return np.vstack([centroids for centroids, _ in found]), bag_of, np.vstack(labels)


def nearest_clusters(centroids: Float32Matrix, bags: IntArray, x: Float32Matrix) -> IntArray:
    """(bags, n): each row's nearest centroid by cosine within each bag."""
    sims = _unit_rows(x) @ centroids.T
    labels = [ids[sims[:, ids].argmax(axis=1)] for ids in bag_groups(bags)]
    return np.asarray(labels, dtype=np.int64).reshape(len(labels), len(x))


def bag_groups(bags: IntArray) -> list[IntArray]:
    """The cluster ids of each bag."""
    return [np.flatnonzero(bags == b) for b in range(int(bags.max()) + 1)]


def group_means(onehot: FloatMatrix, values: FloatMatrix) -> tuple[FloatMatrix, FloatMatrix]:
    """(groups, m) mean of each column over the records that exist (NaN: none) in each group
    of rows (`onehot` is (groups, n)), and how many records each mean is over."""
    known = ~np.isnan(values)
    counts = onehot @ known
    sums = onehot @ np.where(known, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means, counts


def dataset_weights(groups: list[str]) -> FloatMatrix:
    """Per query N / (D·n_d): weights under which each of the D datasets counts equally."""
    _, codes, sizes = np.unique(
        np.asarray(groups, dtype=object), return_inverse=True, return_counts=True
    )
    return np.asarray(len(groups) / (len(sizes) * sizes[codes.reshape(-1)]), dtype=np.float64)


def cluster_stats(
    centroids: Float32Matrix,
    bags: IntArray,
    labels: IntArray,
    scores: FloatMatrix,
    costs: FloatMatrix,
    query_weights: FloatMatrix,
) -> ClusterTables:
    """Mean score and cost per cluster and model, over the records that exist, and the mean
    query weight per cluster. `labels` is (bags, n): each query's cluster in every bag."""
    k = len(centroids)
    onehot = np.zeros((k, labels.shape[-1]))
    for row in np.atleast_2d(labels):
        onehot[row, np.arange(len(row))] = 1.0
    mean_scores, counts = group_means(onehot, scores)
    mean_costs, _ = group_means(onehot, costs)
    sizes = onehot.sum(axis=1).astype(np.int64)
    weights = np.where(sizes > 0, onehot @ query_weights / np.maximum(sizes, 1), 1.0)
    return ClusterTables(
        centroids, mean_scores, mean_costs, counts.astype(np.int64), sizes, bags, weights
    )


def merge_columns(
    old: ClusterTables, old_models: list[str], fresh: ClusterTables, fresh_models: list[str]
) -> tuple[list[str], ClusterTables]:
    """`old` with `fresh`'s model columns added, or replacing columns of the same model."""
    models = list(old_models) + [m for m in fresh_models if m not in old_models]
    pad = len(models) - len(old_models)
    k = len(old.centroids)
    scores = np.hstack([old.scores, np.full((k, pad), np.nan)])
    costs = np.hstack([old.costs, np.full((k, pad), np.nan)])
    counts = np.hstack([old.counts, np.zeros((k, pad), dtype=np.int64)])
    for src, model in enumerate(fresh_models):
        dst = models.index(model)
        scores[:, dst] = fresh.scores[:, src]
        costs[:, dst] = fresh.costs[:, src]
        counts[:, dst] = fresh.counts[:, src]
    return models, ClusterTables(
        old.centroids, scores, costs, counts, old.sizes, old.bags, old.weights
    )


def _impute(values: FloatMatrix, weights: FloatMatrix) -> FloatMatrix:
    """Fill a model's missing cluster means with its mean over all its records (0 if none)."""
    known = ~np.isnan(values)
    filled = np.where(known, values, 0.0)
    w = np.where(known, np.maximum(weights, 1.0), 0.0)
    overall = (filled * w).sum(axis=0) / np.maximum(w.sum(axis=0), 1.0)
    return np.where(known, values, overall[np.newaxis, :])


def _minmax(values: FloatMatrix) -> FloatMatrix:
    low = values.min(axis=1, keepdims=True)
    span = values.max(axis=1, keepdims=True) - low
    return np.where(span > 0, (values - low) / np.where(span > 0, span, 1.0), 0.0)


def _by_max(values: FloatMatrix) -> FloatMatrix:
    peak = values.max(axis=1, keepdims=True)
    return np.where(peak > 0, values / np.where(peak > 0, peak, 1.0), 0.0)


def _per_bag(
    normalise: Callable[[FloatMatrix], FloatMatrix], values: FloatMatrix, bags: IntArray
) -> FloatMatrix:
    """`normalise` applied to each bag's clusters as one row: over a clustering's whole table."""
    out = np.empty_like(values)
    for ids in bag_groups(bags):
        out[ids] = normalise(values[ids].reshape(1, -1)).reshape(len(ids), -1)
    return out


def scoring_tables(
    tables: ClusterTables, cost_norm: str, min_accuracy: float, scale: str
) -> tuple[FloatMatrix, FloatMatrix, npt.NDArray[np.bool_]]:
    """(p̃, 1 − q̃, eligible): normalised accuracy and thrift per cluster, each with a tiny
    tie-break toward the other, and which models pass the minimum-accuracy filter.
    `scale="cluster"` normalises within each cluster (the paper). `"table"` normalises over
    each clustering's whole table, so that accuracy and cost gaps keep their size from
    cluster to cluster, and divides thrift by the cluster's weight, so that a dataset's
    accuracy counts as much as any other's however many queries it has."""
    p = _impute(tables.scores, tables.counts.astype(np.float64))
    q = _impute(tables.costs, tables.counts.astype(np.float64))
    cost_scale = _by_max if cost_norm == "max" else _minmax
    if scale == "cluster":
        p_norm, thrift = _minmax(p), 1.0 - cost_scale(q)
    else:
        p_norm = _per_bag(_minmax, p, tables.bags)
        thrift = (1.0 - _per_bag(cost_scale, q, tables.bags)) / tables.weights[:, np.newaxis]
    eligible = p >= min_accuracy
    eligible |= ~eligible.any(axis=1, keepdims=True)
    return p_norm + TIE_BREAK * thrift, thrift + TIE_BREAK * p_norm, eligible

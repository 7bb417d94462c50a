"""How a routing table is split into the part a router is fitted on and the part it is scored
on. A held-out part drawn the way a table's published test split is drawn predicts what users
see; a random fifth of the file can flatter.

- `official`: each table's own rule. LLMRouter's test split holds a fixed number of queries
  from each dataset (50), so its four small datasets (150-200 rows) weigh as much as its large
  ones; the other tables have no published rule we can mirror, so they keep every dataset's
  share of the file (a stratified fifth of each dataset).
- `random`: a seeded 80/20 permutation of the whole file (the earlier protocol).
- `leave-dataset-out` and `near-duplicates` are grouped cross-validation: every query is
  routed by a router fitted without its dataset, or without any query of its near-duplicate
  group (cosine ≥ 0.95 between embeddings), and the out-of-fold choices are scored together.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Split = tuple[np.ndarray, np.ndarray]
PER_DATASET = {"llmrouter_14task_9models": 50}
HELD_FRACTION = 0.2
DUPLICATE_COSINE = 0.95
PROTOCOLS = ("official", "random")
DESCRIPTIONS = {
    "official": "drawn as each table's test split is (llmrouter: 50 queries a dataset, each "
    "dataset weighing the same; the others: a fifth of each dataset)",
    "random": "a random fifth of each table",
}
CV_PROTOCOLS = ("leave-dataset-out", "near-duplicates")


def random_splits(n: int, seeds: int) -> list[Split]:
    """Seeded 80/20 (train, held-out) index pairs over the whole file."""
    out = []
    for seed in range(seeds):
        order = np.random.default_rng(seed).permutation(n)
        cut = round((1 - HELD_FRACTION) * n)
        out.append((np.sort(order[:cut]), np.sort(order[cut:])))
    return out


def _held_count(table: str, size: int) -> int:
    """How many of a dataset's `size` queries the official protocol holds out: a fixed count
    (capped at a third, so the smallest datasets keep two thirds to fit on), else a fifth."""
    fixed = PER_DATASET.get(table)
    return min(fixed, size // 3) if fixed else round(HELD_FRACTION * size)


def official_splits(table: str, datasets: Sequence[str], seeds: int) -> list[Split]:
    """Per seed, the held-out part drawn dataset by dataset as `table`'s test split is."""
    names = np.asarray(datasets, dtype=object)
    out = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        held = []
        for name in sorted(set(datasets)):
            rows = np.flatnonzero(names == name)
            held.append(rng.permutation(rows)[: _held_count(table, len(rows))])
        test = np.sort(np.concatenate(held))
        out.append((np.setdiff1d(np.arange(len(names)), test), test))
    return out


def splits(protocol: str, table: str, datasets: Sequence[str], seeds: int) -> list[Split]:
    if protocol == "official":
        return official_splits(table, datasets, seeds)
    return random_splits(len(datasets), seeds)


def dataset_folds(datasets: Sequence[str]) -> list[np.ndarray]:
    """One fold per dataset: its rows."""
    names = np.asarray(datasets, dtype=object)
    return [np.flatnonzero(names == name) for name in sorted(set(datasets))]


def duplicate_groups(vectors: np.ndarray, cosine: float = DUPLICATE_COSINE) -> np.ndarray:
    """A group id per row: rows joined, transitively, when their cosine reaches `cosine`."""
    x = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    parent = np.arange(len(x))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return int(i)

    for start in range(0, len(x), 2048):
        close = np.argwhere(x[start : start + 2048] @ x.T >= cosine)
        for i, j in close:
            a, b = root(start + int(i)), root(int(j))
            if a != b:
                parent[max(a, b)] = min(a, b)
    return np.array([root(i) for i in range(len(x))])


def group_folds(groups: np.ndarray, folds: int = 5, seed: int = 0) -> list[np.ndarray]:
    """`folds` folds of whole groups, groups assigned in a seeded order."""
    order = np.random.default_rng(seed).permutation(np.unique(groups))
    fold_of = {g: i % folds for i, g in enumerate(order)}
    labels = np.array([fold_of[g] for g in groups])
    return [np.flatnonzero(labels == f) for f in range(folds)]

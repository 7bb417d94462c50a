"""Fitting the capability router's two numbers on its labelled queries, out of fold (each
query scored by tables built without it):

- `shift`, added to a cold capability's description score: a share of the labelled
  capabilities is made cold on purpose (their queries dropped from the tables), and the shift
  maximising the mean of the cold ones' and the others' top-1 accuracy is kept;
- the abstention models (confidence.py), one for decisions within a request's candidates and
  one over the whole registry, each on its own queries' out-of-fold decisions at that shift:
  a query labelled `relevant: []` is right only when the router abstains (no such query among
  a kind's: that kind never abstains)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from orchestrator.capabilities import confidence
from orchestrator.capabilities.confidence import Confidence
from orchestrator.capabilities.index import Ints, Matrix
from orchestrator.capabilities.scoring import Tables, combine, parts

SHIFTS = np.round(np.arange(-0.1, 0.601, 0.02), 3)
SHIFTED = ("blend", "hybrid", "centroid")  # the methods that shift cold capabilities


@dataclass(frozen=True)
class Labelled:
    """Labelled queries as the calibration sees them: vectors, texts, the capability indices
    each is labelled with (empty: none fits) and its pool (None: every capability)."""

    vectors: Matrix
    texts: list[str]
    owners: list[Ints]
    pools: list[Ints | None]


@dataclass(frozen=True)
class Calibration:
    shift: float
    confidence: dict[str, Confidence]
    queries: int


BuildTables = Callable[[Sequence[int], set[int]], Tables]  # (train queries, caps made cold)
Featurize = Callable[[Matrix, int, float], np.ndarray]  # (query, top capability, its score)


def _grid(
    tables: Tables, data: Labelled, fold: Ints, method: str, options: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each shift in SHIFTS and each query of the fold: top-1 right, top score, top
    capability (-1: nothing offered)."""
    right = np.zeros((SHIFTS.size, fold.size), dtype=bool)
    top = np.zeros((SHIFTS.size, fold.size), dtype=np.float32)
    chosen = np.full((SHIFTS.size, fold.size), -1, dtype=np.int64)
    groups: dict[tuple[int, ...] | None, list[int]] = {}
    for j, q in enumerate(fold):
        pool = data.pools[q]
        groups.setdefault(None if pool is None else tuple(pool.tolist()), []).append(j)
    for key, members in groups.items():
        caps = np.arange(tables.n_caps) if key is None else np.asarray(key, dtype=np.int64)
        qs = fold[members]
        if not caps.size:  # nothing offered: the router abstains
            top[:, members] = -1.0
            continue
        texts = [data.texts[q] for q in qs]
        p = parts(tables, data.vectors[qs], caps, options, texts)
        for s, shift in enumerate(SHIFTS if method in SHIFTED else [0.0]):
            scores = combine(method, p, float(shift), options)
            best = scores.argmax(axis=1)
            rows = slice(None) if method not in SHIFTED else s  # unshifted: every row alike
            top[rows, members] = scores[np.arange(len(qs)), best]
            chosen[rows, members] = caps[best]
            right[rows, members] = [
                caps[b] in data.owners[q] for b, q in zip(best, qs, strict=True)
            ]
    return right, top, chosen


def _shift_index(right: np.ndarray, cold: np.ndarray, warm: np.ndarray, method: str) -> int:
    zero = int(np.argmin(np.abs(SHIFTS)))
    if method not in SHIFTED or not cold.any() or not warm.any():
        return zero
    balanced = right[:, cold].mean(axis=1) + right[:, warm].mean(axis=1)
    return int(np.argmax(balanced))


def calibrate(
    data: Labelled,
    build: BuildTables,
    n_warm: Sequence[int],
    method: str,
    options: dict[str, Any],
    featurize: Featurize,
) -> Calibration:
    """Out-of-fold shift and abstention models (see the module's docstring)."""
    n = len(data.owners)
    if n < 4:
        return Calibration(0.0, {}, 0)
    rng = np.random.default_rng(int(options.get("seed", 0)))
    sample = rng.permutation(n)[: int(options.get("calibration_queries", 4000))]
    warm_caps = np.asarray(sorted(set(n_warm)), dtype=np.int64)
    cold_count = round(float(options.get("cold_share", 0.2)) * warm_caps.size)
    cold = {int(c) for c in rng.choice(warm_caps, size=cold_count, replace=False)}
    right = np.zeros((SHIFTS.size, sample.size), dtype=bool)
    top = np.zeros((SHIFTS.size, sample.size), dtype=np.float32)
    chosen = np.zeros((SHIFTS.size, sample.size), dtype=np.int64)
    folds = np.array_split(np.arange(sample.size), int(options.get("folds", 4)))
    for positions in folds:
        held = set(sample[positions].tolist())
        tables = build([q for q in range(n) if q not in held], cold)
        right[:, positions], top[:, positions], chosen[:, positions] = _grid(
            tables, data, sample[positions], method, options
        )
    empty = np.array([data.owners[q].size == 0 for q in sample])
    is_cold = np.array([bool(cold & set(data.owners[q].tolist())) for q in sample])
    s = _shift_index(right, is_cold, ~is_cold & ~empty, method)
    models = _abstention(data, sample, (right[s], top[s], chosen[s]), empty, featurize)
    return Calibration(float(SHIFTS[s]), models, int(sample.size))


def _abstention(
    data: Labelled,
    sample: Ints,
    decided: tuple[np.ndarray, np.ndarray, np.ndarray],
    empty: np.ndarray,
    featurize: Featurize,
) -> dict[str, Confidence]:
    """One abstention model per kind of decision (`pool`, `open`) with queries to fit on."""
    right, top, chosen = decided
    offered = chosen >= 0  # nothing offered: always abstains, nothing to learn
    x = np.zeros((sample.size, len(confidence.FEATURES)))
    for j in np.flatnonzero(offered):
        x[j] = featurize(data.vectors[sample[j]], int(chosen[j]), float(top[j]))
    kind = np.array(["open" if data.pools[q] is None else "pool" for q in sample])
    models: dict[str, Confidence] = {}
    for name in ("pool", "open"):
        keep = offered & (kind == name)
        model = confidence.fit(x[keep], right[keep], empty[keep]) if keep.sum() >= 4 else None
        if model is not None:
            models[name] = model
    return models

"""Fitting the capability router's two numbers on its labelled queries, out of fold (each
query scored by tables built without it):

- `shift`, added to a cold capability's description score: a share of the labelled
  capabilities is made cold on purpose (their queries dropped from the tables), and the shift
  maximising the mean of the cold ones' and the others' top-1 accuracy is kept;
- `threshold` on the top score: the one maximising right-or-rightly-abstained, where a query
  labelled `relevant: []` is right only when the router abstains (none such: never abstain)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from orchestrator.capabilities.index import Ints, Matrix
from orchestrator.capabilities.scoring import Tables, combine, parts

SHIFTS = np.round(np.arange(-0.1, 0.401, 0.02), 3)
NEVER = float("-inf")
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
    threshold: float
    queries: int


BuildTables = Callable[[Sequence[int], set[int]], Tables]  # (train queries, caps made cold)


def _grid(
    tables: Tables, data: Labelled, fold: Ints, method: str, options: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """For each shift in SHIFTS and each query of the fold: top-1 right, and top score."""
    right = np.zeros((SHIFTS.size, fold.size), dtype=bool)
    top = np.zeros((SHIFTS.size, fold.size), dtype=np.float32)
    groups: dict[tuple[int, ...] | None, list[int]] = {}
    for j, q in enumerate(fold):
        pool = data.pools[q]
        groups.setdefault(None if pool is None else tuple(pool.tolist()), []).append(j)
    for key, members in groups.items():
        caps = np.arange(tables.n_caps) if key is None else np.asarray(key, dtype=np.int64)
        qs = fold[members]
        if not caps.size:  # nothing offered: the router abstains
            top[:, members] = NEVER
            continue
        texts = [data.texts[q] for q in qs]
        p = parts(tables, data.vectors[qs], caps, options, texts)
        for s, shift in enumerate(SHIFTS if method in SHIFTED else [0.0]):
            scores = combine(method, p, float(shift), options)
            best = scores.argmax(axis=1)
            rows = slice(None) if method not in SHIFTED else s  # unshifted: every row alike
            top[rows, members] = scores[np.arange(len(qs)), best]
            right[rows, members] = [
                caps[b] in data.owners[q] for b, q in zip(best, qs, strict=True)
            ]
    return right, top


def _shift_index(right: np.ndarray, cold: np.ndarray, warm: np.ndarray, method: str) -> int:
    zero = int(np.argmin(np.abs(SHIFTS)))
    if method not in SHIFTED or not cold.any() or not warm.any():
        return zero
    balanced = right[:, cold].mean(axis=1) + right[:, warm].mean(axis=1)
    return int(np.argmax(balanced))


def fit_threshold(top: np.ndarray, right: np.ndarray, empty: np.ndarray) -> float:
    """The top-score threshold maximising right-or-rightly-abstained (abstain below it)."""
    if not empty.any():
        return NEVER
    order = np.argsort(top, kind="stable")
    t, r, e = top[order], right[order] & ~empty[order], empty[order]
    # abstaining on the first i queries: empties among them right, right answers after them
    gain = np.concatenate([[0], np.cumsum(e)]) + np.concatenate([np.cumsum(r[::-1])[::-1], [0]])
    i = int(np.argmax(gain))
    if i == 0:
        return NEVER
    return float(t[i - 1] if i == t.size else (t[i - 1] + t[i]) / 2) + (1e-6 if i == t.size else 0)


def calibrate(
    data: Labelled,
    build: BuildTables,
    n_warm: Sequence[int],
    method: str,
    options: dict[str, Any],
) -> Calibration:
    """Out-of-fold shift and threshold (see the module's docstring)."""
    n = len(data.owners)
    if n < 4:
        return Calibration(0.0, NEVER, 0)
    rng = np.random.default_rng(int(options.get("seed", 0)))
    sample = rng.permutation(n)[: int(options.get("calibration_queries", 4000))]
    warm_caps = np.asarray(sorted(set(n_warm)), dtype=np.int64)
    cold_count = round(float(options.get("cold_share", 0.2)) * warm_caps.size)
    cold = {int(c) for c in rng.choice(warm_caps, size=cold_count, replace=False)}
    right = np.zeros((SHIFTS.size, sample.size), dtype=bool)
    top = np.zeros((SHIFTS.size, sample.size), dtype=np.float32)
    folds = np.array_split(np.arange(sample.size), int(options.get("folds", 4)))
    for positions in folds:
        held = set(sample[positions].tolist())
        tables = build([q for q in range(n) if q not in held], cold)
        right[:, positions], top[:, positions] = _grid(
            tables, data, sample[positions], method, options
        )
    empty = np.array([data.owners[q].size == 0 for q in sample])
    is_cold = np.array([bool(cold & set(data.owners[q].tolist())) for q in sample])
    s = _shift_index(right, is_cold, ~is_cold & ~empty, method)
    return Calibration(float(SHIFTS[s]), fit_threshold(top[s], right[s], empty), int(sample.size))

"""Checked inputs of a router fit or update: finite embeddings, score and cost matrices of the
right shape, distinct models each with some record, one dataset name per query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from orchestrator.errors import InputError
from orchestrator.routing.cluster_tables import FloatMatrix


def _as_matrix(values: Any, shape: tuple[int, int], what: str) -> FloatMatrix:
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.shape != shape:
        raise InputError(f"{what} has shape {matrix.shape}, expected {shape}")
    return matrix


def fit_inputs(
    embeddings: Any, scores: Any, costs: Any | None, models: list[str]
) -> tuple[npt.NDArray[np.float32], FloatMatrix, FloatMatrix]:
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] == 0 or not np.isfinite(x).all():
        raise InputError(f"embeddings must be a finite (n, dim) matrix, got shape {x.shape}")
    if len(set(models)) != len(models) or not models:
        raise InputError(f"models must be distinct and non-empty, got {models}")
    shape = (x.shape[0], len(models))
    s = _as_matrix(scores, shape, "scores")
    c = np.full(shape, np.nan) if costs is None else _as_matrix(costs, shape, "costs")
    scored = np.asarray((~np.isnan(s)).any(axis=0), dtype=bool)
    missing = [m for i, m in enumerate(models) if not scored[i]]
    if missing:
        raise InputError(f"no scored record for model(s) {missing}; drop them or add outcomes")
    return x, s, c


def dataset_names(datasets: Sequence[str] | None, n: int) -> list[str]:
    groups = [""] * n if datasets is None else list(datasets)
    if len(groups) != n:
        raise InputError(
            f"datasets need one dataset name per query: {len(groups)} names, {n} queries"
        )
    return groups

"""Which models a router may pick with `--frontier`: those on some dataset's cost-accuracy
frontier.

A model that, on every dataset, is beaten on accuracy by a model no dearer, or falls below
the line between two others (a mix of them buys more accuracy for the same cost), is picked
by the cluster rule only where a cluster's few queries happen to favour it, or where it has a
real niche that its dataset's mean hides; excluding it removes both (bench/frontier.py). The
frontier is RouterBench's non-decreasing convex hull of (mean cost, mean accuracy), taken per
dataset of the calibration data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from orchestrator.routing.cluster_tables import group_means

BoolArray = npt.NDArray[np.bool_]


def upper_hull(cost: npt.NDArray[np.float64], accuracy: npt.NDArray[np.float64]) -> list[int]:
    """Indices of the points on the upper-left convex hull, cheapest first, each more accurate
    than the last; a point below the chord of its neighbours is left out, one on it is kept,
    and of equal points only the first is listed."""
    hull: list[int] = []
    for i in np.lexsort((-accuracy, cost)).tolist():
        if hull and accuracy[i] <= accuracy[hull[-1]]:
            continue
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            rise_ab, rise_ai = accuracy[b] - accuracy[a], accuracy[i] - accuracy[a]
            if rise_ab * (cost[i] - cost[a]) >= rise_ai * (cost[b] - cost[a]):
                break
            hull.pop()
        hull.append(i)
    return hull


def frontier_models(
    scores: npt.ArrayLike, costs: npt.ArrayLike, groups: Sequence[str]
) -> BoolArray:
    """(m,) whether each model is on the frontier of at least one group (dataset) of the
    (n, m) scores and costs (NaN: no record). Models that tie a frontier model on both are
    kept with it. Every model is kept when the table has no positive cost, and so is a model
    whose cost is never known: nothing to judge it by."""
    s = np.asarray(scores, dtype=np.float64)
    c = np.asarray(costs, dtype=np.float64)
    if not (np.nan_to_num(c) > 0).any():
        return np.ones(s.shape[1], dtype=bool)
    keep = np.asarray(np.isnan(c).all(axis=0), dtype=bool)
    _, codes = np.unique(np.asarray(groups, dtype=object), return_inverse=True)
    onehot = np.eye(codes.max() + 1)[codes.reshape(-1)].T
    for accuracy, cost in zip(group_means(onehot, s)[0], group_means(onehot, c)[0], strict=True):
        known = np.flatnonzero(~np.isnan(accuracy) & ~np.isnan(cost))
        hull = known[upper_hull(cost[known], accuracy[known])]
        corners = {(cost[j], accuracy[j]) for j in hull}
        keep[[j for j in known if (cost[j], accuracy[j]) in corners]] = True
    return keep

"""Router evaluation: per-model accuracy and cost, the best single model, the oracle, the α
sweep, its Pareto front and AIQ (the area under its cost-accuracy hull).

Accuracy is the macro average over the datasets in the evaluated table (micro is reported
too); a query whose chosen model has no record is left out of the averages rather than
counted as wrong. Cost is total USD over the evaluated queries (unknown costs count 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from orchestrator.errors import InputError
from orchestrator.routing.labelled import LabelledTable

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
# Steps of 0.01, then up to DEFAULT_REFINE bisections where the routing changes most: even
# steps leave most points where nothing changes (on routerbench α in [0, 0.65] all cost under
# 7% of GPT-4) and few where a cost target is met.
DEFAULT_ALPHAS = tuple(round(i / 100, 10) for i in range(101))
DEFAULT_REFINE = 300
_FINEST = 1e-4


class BatchRouter(Protocol):
    models: list[str]

    def route_batch(self, matrix: Any, alpha: float = 1.0, chunk: int = 8192) -> IntArray: ...


@dataclass(frozen=True)
class SweepPoint:
    alpha: float
    accuracy: float
    accuracy_micro: float
    cost: float
    model_share: dict[str, float]


@dataclass(frozen=True)
class RouterReport:
    n: int
    datasets: dict[str, int]
    models: dict[str, dict[str, float | None]]
    best_single: dict[str, Any]
    oracle: dict[str, float]
    sweep: list[SweepPoint]
    pareto: list[dict[str, float]]
    aiq: float
    cost_estimated: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Scorer:
    """Macro/micro accuracy and cost of per-query choices on one table."""

    def __init__(self, table: LabelledTable) -> None:
        self.table = table
        names, codes = np.unique(np.asarray(table.datasets, dtype=object), return_inverse=True)
        self.dataset_names = [str(n) for n in names]
        self.codes = np.asarray(codes, dtype=np.int64).reshape(-1)
        self.rows = np.arange(len(table))

    def accuracy(self, values: FloatArray) -> tuple[float, float]:
        """(macro over datasets, micro) of per-query scores; NaN entries are left out."""
        known = ~np.isnan(values)
        if not known.any():
            return float("nan"), float("nan")
        k = len(self.dataset_names)
        sums = np.bincount(self.codes[known], weights=values[known], minlength=k)
        counts = np.bincount(self.codes[known], minlength=k)
        per_dataset = sums[counts > 0] / counts[counts > 0]
        return float(per_dataset.mean()), float(values[known].mean())

    def choose(self, choice: IntArray) -> tuple[float, float, float]:
        """(macro accuracy, micro accuracy, total cost) of routing query i to model choice[i]."""
        picked = self.table.scores[self.rows, choice]
        macro, micro = self.accuracy(picked)
        return macro, micro, float(np.nansum(self.table.costs[self.rows, choice]))

    def single(self, column: int) -> dict[str, float | None]:
        macro, _ = self.accuracy(self.table.scores[:, column])
        cost = float(np.nansum(self.table.costs[:, column]))
        return {"accuracy": None if np.isnan(macro) else macro, "cost": cost}

    def oracle_choice(self) -> IntArray:
        """Per query, the cheapest model among those with the top score."""
        scores = np.nan_to_num(self.table.scores, nan=-1.0)
        top = scores >= scores.max(axis=1, keepdims=True)
        costs = np.where(top, np.nan_to_num(self.table.costs, nan=0.0), np.inf)
        return np.asarray(costs.argmin(axis=1), dtype=np.int64)


def best_single(models: dict[str, dict[str, float | None]]) -> dict[str, Any]:
    """The most accurate single model; ties go to the cheaper one."""
    scored = [(m, v) for m, v in models.items() if v["accuracy"] is not None]
    model, stats = max(scored, key=lambda mv: (mv[1]["accuracy"], -(mv[1]["cost"] or 0.0)))
    return {"model": model, **stats}


def pareto_front(points: Sequence[SweepPoint]) -> list[dict[str, float]]:
    """The non-dominated (cost, accuracy) points, cheapest first."""
    front: list[dict[str, float]] = []
    for p in sorted(points, key=lambda p: (p.cost, -p.accuracy)):
        if not front or p.accuracy > front[-1]["accuracy"]:
            front.append({"alpha": p.alpha, "accuracy": p.accuracy, "cost": p.cost})
    return front


def _upper_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    hull: list[tuple[float, float]] = []
    for x, y in points:
        while len(hull) >= 2:
            (x0, y0), (x1, y1) = hull[-2], hull[-1]
            if (x1 - x0) * (y - y0) - (y1 - y0) * (x - x0) < 0:
                break
            hull.pop()
        hull.append((x, y))
    return hull


def rising_hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The non-decreasing upper convex hull of (cost, accuracy) points, NaN accuracies
    dropped, ending at the highest cost: what random mixes of the points can reach."""
    best: dict[float, float] = {}
    for cost, accuracy in points:
        if not np.isnan(accuracy):
            best[cost] = max(accuracy, best.get(cost, -np.inf))
    if not best:
        return []
    hull = _upper_hull(sorted(best.items()))
    peak = max(range(len(hull)), key=lambda i: (hull[i][1], -i))
    rising, high = hull[: peak + 1], max(best)
    return rising if rising[-1][0] == high else [*rising, (high, rising[-1][1])]


def aiq(points: Sequence[tuple[float, float]]) -> float:
    """RouterBench's AIQ: area under the non-decreasing convex hull of (cost, accuracy),
    divided by the cost range; the best accuracy when all points cost the same."""
    hull = rising_hull(points)
    if not hull:
        return float("nan")
    low, high = hull[0][0], hull[-1][0]
    if high - low <= 0:
        return float(hull[0][1])
    area = sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in pairwise(hull))
    return float(area / (high - low))


def mix_accuracy(points: Sequence[tuple[float, float]], cost: float) -> float:
    """Accuracy of the best random mix of (cost, accuracy) points that costs at most `cost`
    (the cheapest point's when none is that cheap): what a router has to beat there."""
    hull = rising_hull(points)
    if not hull:
        return float("nan")
    return float(np.interp(cost, [c for c, _ in hull], [a for _, a in hull]))


def sweep(
    router: BatchRouter,
    embeddings: Any,
    scorer: Scorer,
    alphas: Sequence[float],
    refine: int = 0,
) -> list[SweepPoint]:
    """Route every query at each α and score the choices; then, for up to `refine` more α,
    halve the steps whose cost or accuracy jumps most (as a share of its range), down to
    steps of 1e-4. Sorted by α."""
    points = sorted(_points(router, embeddings, scorer, alphas), key=lambda p: p.alpha)
    while refine > 0:
        middles = _widest_jumps(points)[:refine]
        if not middles:
            break
        points = sorted(
            points + _points(router, embeddings, scorer, middles), key=lambda p: p.alpha
        )
        refine -= len(middles)
    return points


def _points(
    router: BatchRouter, embeddings: Any, scorer: Scorer, alphas: Sequence[float]
) -> list[SweepPoint]:
    points = []
    for alpha in alphas:
        choice = router.route_batch(embeddings, alpha)
        macro, micro, cost = scorer.choose(choice)
        counts = np.bincount(choice, minlength=len(router.models)) / max(len(choice), 1)
        share = {m: float(s) for m, s in zip(router.models, counts, strict=True)}
        points.append(SweepPoint(float(alpha), macro, micro, cost, share))
    return points


def _widest_jumps(points: Sequence[SweepPoint]) -> list[float]:
    """Midpoints of the steps between neighbouring α that change cost or accuracy, the
    largest change (each axis as a share of its range) first."""
    alphas = np.array([p.alpha for p in points])
    jumps = np.maximum(_steps([p.cost for p in points]), _steps([p.accuracy for p in points]))
    wanted = np.flatnonzero((jumps > 0) & (np.diff(alphas) > _FINEST))
    order = wanted[np.argsort(-jumps[wanted], kind="stable")]
    return [round(float(alphas[i] + alphas[i + 1]) / 2, 10) for i in order]


def _steps(values: list[float]) -> FloatArray:
    """|change| between neighbours as a share of the values' range; NaN changes count 0."""
    v = np.asarray(values, dtype=np.float64)
    span = float(np.nanmax(v) - np.nanmin(v)) if not np.isnan(v).all() else 0.0
    return np.nan_to_num(np.abs(np.diff(v))) / (span if span > 0 else 1.0)


def evaluate(
    router: BatchRouter,
    embeddings: Any,
    table: LabelledTable,
    alphas: Sequence[float] | None = None,
) -> RouterReport:
    """The full report for one router on one table (embeddings row-aligned with the table):
    swept at exactly `alphas`, or by default at DEFAULT_ALPHAS refined by `sweep`."""
    if len(table) == 0 or len(embeddings) != len(table):
        raise InputError(f"{len(embeddings)} embeddings for {len(table)} labelled queries")
    unknown = [m for m in router.models if m not in table.models]
    if unknown:
        raise InputError(f"the data has no records for routed model(s) {unknown}")
    aligned = table.with_models(router.models)
    scorer = Scorer(aligned)
    models = {m: scorer.single(i) for i, m in enumerate(router.models)}
    macro, _, cost = scorer.choose(scorer.oracle_choice())
    if alphas is None:
        points = sweep(router, embeddings, scorer, DEFAULT_ALPHAS, DEFAULT_REFINE)
    else:
        points = sweep(router, embeddings, scorer, alphas)
    return RouterReport(
        n=len(table),
        datasets=dict(zip(scorer.dataset_names, np.bincount(scorer.codes).tolist(), strict=True)),
        models=models,
        best_single=best_single(models),
        oracle={"accuracy": macro, "cost": cost},
        sweep=points,
        pareto=pareto_front(points),
        aiq=aiq([(p.cost, p.accuracy) for p in points]),
        cost_estimated=table.cost_estimated,
    )


def cheapest_matching(points: Sequence[SweepPoint], accuracy: float) -> SweepPoint | None:
    """The cheapest sweep point whose accuracy reaches `accuracy`, if any."""
    matching = [p for p in points if p.accuracy >= accuracy - 1e-12]
    return min(matching, key=lambda p: (p.cost, -p.accuracy)) if matching else None


def format_report(report: RouterReport) -> str:
    """The report as a plain-text table for a terminal: the sweep's Pareto front."""
    unit = "USD (estimated)" if report.cost_estimated else "USD"
    best = report.best_single
    lines = [
        f"{report.n} queries, {len(report.datasets)} datasets; accuracy is macro over datasets",
        f"best single  {best['model']}: accuracy {best['accuracy']:.4f}, cost {best['cost']:.4f}",
        f"oracle       accuracy {report.oracle['accuracy']:.4f}, cost {report.oracle['cost']:.4f}",
        f"AIQ          {report.aiq:.4f}",
        "",
        f"Pareto front of the {len(report.sweep)} α swept (--json lists them all)",
        f"{'alpha':>7}  {'accuracy':>8}  {'micro':>8}  {'cost ' + unit:>16}  top model (share)",
    ]
    front = {p["alpha"] for p in report.pareto}
    for p in report.sweep:
        if p.alpha in front:
            top = max(p.model_share, key=lambda m: p.model_share[m])
            lines.append(
                f"{p.alpha:>7.5g}  {p.accuracy:>8.4f}  {p.accuracy_micro:>8.4f}  "
                f"{p.cost:>16.4f}  {top} ({p.model_share[top]:.0%})"
            )
    return "\n".join(lines)

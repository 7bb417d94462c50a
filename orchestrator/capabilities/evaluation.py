"""Scoring a capability router on labelled queries, per dataset and overall.

For each query the router is asked for its top max(5, |relevant|) (within the query's own
`candidates` when `within_candidates`), and timed. Ids are compared without their version.

- top-1: on queries with a relevant capability, the share whose first-ranked id is relevant
  (the ranking alone, abstention aside);
- recall@5: on those queries, the mean share of the relevant ids in the top 5;
- multi: on queries with two or more relevant ids, the share with all of them in the top
  |relevant|;
- abstention: on queries with `relevant: []`, the share where the router abstains;
- false abstention: on queries with a relevant capability, the share where it abstains;
- overall: right or rightly abstained, on all queries (with relevant ids: not abstaining and
  top-1 relevant; with `relevant: []`: abstaining);
- latency: each `route` call's wall time, median and 95th percentile in µs."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from orchestrator.capabilities.decision import CapabilityDecision, LabelledQuery
from orchestrator.capabilities.labelled import bare_id

ALL = "all"
RECALL_K = 5


class RoutesCapabilities(Protocol):
    """What `evaluate` needs of a router: `CapabilityRouter.route`."""

    def route(
        self,
        vector: Any,
        text: str,
        *,
        top_k: int = 5,
        candidates: Sequence[str] | None = None,
    ) -> CapabilityDecision: ...


@dataclass(frozen=True)
class Outcome:
    """One query's result: what the metrics are computed from."""

    dataset: str
    n_relevant: int
    top1: bool
    recall: float
    all_in_top: bool
    abstain: bool
    latency_us: float

    @property
    def right(self) -> bool:
        return (not self.abstain and self.top1) if self.n_relevant else self.abstain


@dataclass(frozen=True)
class DatasetScore:
    """The metrics over one dataset (or `all`); a metric is None where no query counts."""

    dataset: str
    n: int
    n_relevant: int
    top1: float | None
    recall_at_5: float | None
    n_multi: int
    multi: float | None
    n_none: int
    abstention: float | None
    false_abstention: float | None
    overall: float
    latency_median_us: float
    latency_p95_us: float


@dataclass(frozen=True)
class CapabilityReport:
    """Per-dataset rows, then the row over all queries (`dataset == "all"`)."""

    rows: list[DatasetScore]
    within_candidates: bool
    meta: dict[str, Any]

    @property
    def overall(self) -> DatasetScore:
        return self.rows[-1]

    def to_json(self) -> dict[str, Any]:
        return {
            "within_candidates": self.within_candidates,
            **self.meta,
            "datasets": [asdict(row) for row in self.rows[:-1]],
            "overall": asdict(self.overall),
        }


def _outcome(
    router: RoutesCapabilities, vector: Any, query: LabelledQuery, within: bool
) -> Outcome:
    relevant = {bare_id(r) for r in query.relevant}
    candidates = list(query.candidates) if within and query.candidates is not None else None
    top_k = max(RECALL_K, len(relevant))
    start = time.perf_counter_ns()
    decision = router.route(vector, query.query, top_k=top_k, candidates=candidates)
    latency_us = (time.perf_counter_ns() - start) / 1000.0
    ranked = [bare_id(r.id) for r in decision.ranked]
    return Outcome(
        dataset=query.dataset,
        n_relevant=len(relevant),
        top1=bool(ranked) and ranked[0] in relevant,
        recall=len(relevant & set(ranked[:RECALL_K])) / len(relevant) if relevant else 0.0,
        all_in_top=bool(relevant) and relevant <= set(ranked[: len(relevant)]),
        abstain=decision.abstain,
        latency_us=latency_us,
    )


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _score(dataset: str, outcomes: Sequence[Outcome]) -> DatasetScore:
    positive = [o for o in outcomes if o.n_relevant]
    multi = [o for o in outcomes if o.n_relevant >= 2]
    none = [o for o in outcomes if not o.n_relevant]
    latency = np.array([o.latency_us for o in outcomes])
    return DatasetScore(
        dataset=dataset,
        n=len(outcomes),
        n_relevant=len(positive),
        top1=_mean([float(o.top1) for o in positive]),
        recall_at_5=_mean([o.recall for o in positive]),
        n_multi=len(multi),
        multi=_mean([float(o.all_in_top) for o in multi]),
        n_none=len(none),
        abstention=_mean([float(o.abstain) for o in none]),
        false_abstention=_mean([float(o.abstain) for o in positive]),
        overall=float(np.mean([o.right for o in outcomes])),
        latency_median_us=float(np.median(latency)),
        latency_p95_us=float(np.percentile(latency, 95)),
    )


def evaluate(
    router: RoutesCapabilities,
    vectors: Any,
    queries: Sequence[LabelledQuery],
    *,
    within_candidates: bool,
    meta: dict[str, Any] | None = None,
) -> CapabilityReport:
    """Route each query (its embedding in `vectors`, same order) and score the decisions."""
    if len(vectors) != len(queries):
        raise ValueError(f"{len(vectors)} vectors for {len(queries)} queries")
    if not queries:
        raise ValueError("no queries to evaluate")
    outcomes = [
        _outcome(router, vector, query, within_candidates)
        for vector, query in zip(vectors, queries, strict=True)
    ]
    datasets = sorted({o.dataset for o in outcomes})
    rows = [_score(d, [o for o in outcomes if o.dataset == d]) for d in datasets]
    rows.append(_score(ALL, outcomes))
    return CapabilityReport(rows, within_candidates, dict(meta or {}))


def _cell(value: float | None, count: int | None = None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if count is None else f"{value:.3f} ({count})"


COLUMNS = (
    "dataset",
    "n",
    "top-1",
    "recall@5",
    "multi (n)",
    "abstain (n)",
    "false abstain",
    "overall",
    "median µs",
    "p95 µs",
)


def _cells(row: DatasetScore) -> list[str]:
    return [
        f"**{row.dataset}**" if row.dataset == ALL else row.dataset,
        str(row.n),
        _cell(row.top1),
        _cell(row.recall_at_5),
        _cell(row.multi, row.n_multi),
        _cell(row.abstention, row.n_none),
        _cell(row.false_abstention),
        f"{row.overall:.3f}",
        f"{row.latency_median_us:.0f}",
        f"{row.latency_p95_us:.0f}",
    ]


def format_report(report: CapabilityReport) -> str:
    """The report as a Markdown table (readable as plain text), with a line saying how."""
    pool = "each query's own candidates" if report.within_candidates else "the whole pool"
    said = ", ".join(f"{k} {v}" for k, v in report.meta.items())
    lines = [
        f"{report.overall.n} queries routed within {pool}" + (f"; {said}" if said else ""),
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in report.rows]
    lines += [
        "",
        "overall: right (top-1 relevant, not abstaining) or rightly abstained (`relevant: []`)",
    ]
    return "\n".join(lines)

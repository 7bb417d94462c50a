"""The graph's state: plain JSON-shaped records, so checkpoints are portable. Keys written
by parallel branches have reducers; the fan-in sorts and never trusts arrival order."""

from __future__ import annotations

import operator
from typing import Annotated, Any, NotRequired, TypedDict

from orchestrator.graph.planning import SubQuery


class CallRecord(TypedDict):
    """One model call (planning, sampling or synthesis) as it was metered."""

    stage: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float
    status: str
    error: str | None


class CapabilityRoute(TypedDict):
    """The capability router's say on one sub-query: the capability it goes to (None: a
    model answers it), the score, whether the router abstained, the planner's mark, the
    capabilities the policy refused (id → why), and the reason in one line."""

    capability: str | None
    score: float | None
    abstained: bool
    hint: str | None
    denied: dict[str, str]
    reason: str


class RouteRecord(TypedDict):
    subquery_id: str
    model: str
    ranked: list[str]
    clusters: list[int]
    weights: list[float]
    capability: NotRequired[CapabilityRoute]


class ToolRecord(CallRecord):
    """One sub-query's tool step (stage `tool`, `model` the capability id): the arguments
    it was called with, its output, and `status` ok, error (`error_kind` says which),
    pending (waiting for a person's yes) or refused (a person said no)."""

    subquery_id: str
    capability: str
    arguments: dict[str, Any] | None
    output: str
    error_kind: str | None


class SampleRecord(CallRecord):
    subquery_id: str
    sample_idx: int
    seed: int
    text: str
    answer: str
    fallback_from: str | None


class StepRecord(TypedDict):
    subquery_id: str
    answer: str
    selected: int | None
    votes: dict[str, int]
    status: str


class EvidenceRecord(TypedDict):
    """What one sub-query was asked: its text with earlier answers filled in, and which of the
    question's paragraphs (0-based, in document order) reached its prompt."""

    subquery_id: str
    question: str
    paragraphs: list[int]


class SampleTask(TypedDict):
    """The payload of one `Send`: everything a sampling branch needs."""

    subquery: SubQuery
    route: RouteRecord
    sample_idx: int
    seed: int
    facts: str
    context: str


def merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    return {**left, **right}


class GraphState(TypedDict):
    question: str
    width: NotRequired[int]
    seed: NotRequired[int]
    context: NotRequired[str]
    depth: NotRequired[int]
    budget_tokens: NotRequired[int | None]
    shape: NotRequired[dict[str, int]]
    plan: NotRequired[list[SubQuery]]
    routes: NotRequired[dict[str, RouteRecord]]
    evidence: Annotated[dict[str, EvidenceRecord], merge]
    samples: Annotated[list[SampleRecord], operator.add]
    steps: Annotated[dict[str, StepRecord], merge]
    calls: Annotated[list[CallRecord], operator.add]
    tools: Annotated[dict[str, ToolRecord], merge]
    answer: NotRequired[str]
    synthesis: NotRequired[str]
    support: NotRequired[dict[str, str]]
    status: NotRequired[str]
    error: NotRequired[str | None]

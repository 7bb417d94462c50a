"""The typed result of one question, shared by the Python API, the CLI's --json and the server."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from orchestrator.secrets import redact


class PlanItem(BaseModel):
    id: str
    question: str
    depends_on: list[str]
    capability: str | None = None  # the planner's mark: a capability it was offered


class ToolStep(BaseModel):
    """A sub-query's tool step: status ok, error (`error_kind` says which), pending or
    refused; `routed` is why the capability router sent the sub-query there."""

    capability: str
    arguments: dict[str, Any] | None
    output: str
    status: str
    cost_usd: float
    latency_s: float
    error: str | None = None
    error_kind: str | None = None


class SampleResult(BaseModel):
    answer: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float
    sample_idx: int
    seed: int
    model: str
    status: str
    error: str | None = None
    fallback_from: str | None = None


class StepResult(BaseModel):
    subquery_id: str
    question: str
    model: str
    cluster: int | None
    samples: list[SampleResult]
    selected: int | None
    answer: str
    votes: dict[str, int]
    asked: str | None = None  # the question as sampled, earlier answers filled in
    paragraphs: list[int] | None = None  # which context paragraphs (0-based) it was given
    support: str | None = None  # the sentence of those paragraphs that supports the answer
    capability: dict[str, Any] | None = None  # the capability router's decision and why
    tool: ToolStep | None = None  # the tool step, when it went to a capability


class UsageTotals(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    llm_calls: int = 0


class Answer(BaseModel):
    """What `ask` returns; `to_json()` is exactly the CLI's `--json` object."""

    answer: str
    status: str
    plan: list[PlanItem]
    steps: list[StepResult]
    usage: UsageTotals
    latency_s: float
    error: str | None = None
    run_id: str | None = None
    synthesis: str | None = None  # the synthesizer's whole reply; `answer` is its short answer
    pending: dict[str, Any] | None = None  # status `interrupted`: the call awaiting approval

    def to_json(self) -> dict[str, Any]:
        paused = set() if self.pending else {"pending"}  # shown only while a run waits
        out = self.model_dump(exclude={"error", "run_id", *paused})
        for item in out["plan"]:  # a plan without tools reads as it always did
            if item["capability"] is None:
                del item["capability"]
        return out


def _steps(state: dict[str, Any]) -> list[StepResult]:
    steps, routes = state.get("steps", {}), state.get("routes", {})
    evidence, support = state.get("evidence") or {}, state.get("support") or {}
    tools = state.get("tools") or {}
    out = []
    for sq in state.get("plan", []):
        route, step = routes.get(sq["id"], {}), steps.get(sq["id"], {})
        asked = evidence.get(sq["id"], {})
        samples = sorted(
            (s for s in state.get("samples", []) if s["subquery_id"] == sq["id"]),
            key=lambda s: s["sample_idx"],
        )
        clusters = route.get("clusters") or [None]
        out.append(
            StepResult(
                subquery_id=sq["id"],
                question=sq["question"],
                model=route.get("model", ""),
                cluster=clusters[0],
                samples=[SampleResult(**s) for s in samples],
                selected=step.get("selected"),
                answer=step.get("answer", ""),
                votes=step.get("votes", {}),
                asked=asked.get("question"),
                paragraphs=asked.get("paragraphs"),
                support=support.get(sq["id"]),
                capability=route.get("capability"),
                tool=ToolStep(**tools[sq["id"]]) if sq["id"] in tools else None,
            )
        )
    return out


def answer_from_state(state: dict[str, Any], latency_s: float, run_id: str | None) -> Answer:
    tools = list((state.get("tools") or {}).values())  # their cost_usd counts, not as calls
    calls = [*state.get("calls", []), *state.get("samples", [])]
    usage = UsageTotals(
        prompt_tokens=sum(c["prompt_tokens"] for c in calls),
        completion_tokens=sum(c["completion_tokens"] for c in calls),
        cost_usd=sum(c["cost_usd"] for c in [*calls, *tools]),
        llm_calls=sum(1 for c in calls if c["status"] not in ("budget_exhausted",)),
    )
    return Answer(
        answer=state.get("answer", ""),
        status=state.get("status", "error"),
        plan=[PlanItem(**sq) for sq in state.get("plan", [])],
        steps=_steps(state),
        usage=usage,
        latency_s=round(latency_s, 4),
        error=state.get("error"),
        run_id=run_id,
        synthesis=redact(state["synthesis"]) if state.get("synthesis") else None,
        pending=state.get("pending"),
    )

"""Every node the graphs are wired from, in one place, so a graph of your own gets what the
built-in ones get: the token-budget shape (`allocate`), a shape that survives a resume
(`schedule`), the judge's calls in the trace (`aggregate`), per-branch error records.

plan → route → allocate → gather → sample ×N | deepen | long_chain → aggregate → gather → … →
synthesize; the single graph starts at `direct`, skips `gather` and ends at `conclude`; a plan
that failed on a provider error or the budget ends at `finish`."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

from langgraph.runtime import Runtime
from langgraph.types import Send

from orchestrator.errors import BudgetExhausted, ConfigError, PlanningError, ProviderError
from orchestrator.graph.acting import act, approve, capability_route, offered_block, tool_block
from orchestrator.graph.context import RunContext, call_record
from orchestrator.graph.depth import deepen, long_chain
from orchestrator.graph.evidence import paragraphs_of, top_paragraphs
from orchestrator.graph.planning import (
    SubQuery,
    known_facts,
    parse_plan,
    ready_subqueries,
    resolve,
    search_text,
    step_of,
    whole,
)
from orchestrator.graph.sampling import sample, sample_seed
from orchestrator.graph.shape import SPLITS, Shape, divide
from orchestrator.graph.state import (
    EvidenceRecord,
    GraphState,
    RouteRecord,
    SampleTask,
    StepRecord,
)
from orchestrator.graph.synthesis import conclude, synthesize
from orchestrator.prompts import render

__all__ = [
    "act",
    "after_plan",
    "aggregate",
    "allocate",
    "allocator",
    "approve",
    "conclude",
    "deepen",
    "direct",
    "finish",
    "gather",
    "long_chain",
    "plan",
    "route",
    "sample",
    "schedule",
    "synthesize",
]

PLAN_ECHO_CHARS = 4000  # how much of an unusable plan the re-ask shows the planner


class AllocateNode(Protocol):
    def __call__(
        self, state: GraphState, *, runtime: Runtime[RunContext]
    ) -> Awaitable[dict[str, Any]]: ...


async def plan(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Decompose the question, or decide it needs no decomposition; one re-ask on an unusable
    reply, then the question is answered as one sub-query, the trace and status saying so.
    With `max_subqueries = 1` there is nothing to decompose: the question is the sub-query
    (clipping a longer plan to its first step would answer the wrong question)."""
    ctx, question = runtime.context, state["question"]
    if ctx.config.graph.max_subqueries == 1:
        runtime.stream_writer({"event": "plan", "plan": whole(question), "attempt": 0})
        return {"plan": whole(question)}
    model = ctx.planner_model
    offers, offered = offered_block(ctx.toolbox, question)
    limit = ctx.config.graph.max_subqueries
    messages = render("plan", question=question, max_subqueries=limit, capabilities=offers)
    calls, error = [], ""
    for attempt in range(2):
        try:
            completion = await ctx.call(
                model, messages, max_tokens=ctx.config.graph.plan_max_tokens, json_mode=True
            )
        except (ProviderError, BudgetExhausted) as exc:
            status = "budget_exhausted" if isinstance(exc, BudgetExhausted) else "error"
            calls.append(call_record("plan", model, None, str(exc), status))
            return {"calls": calls, "status": status, "error": f"planning failed: {exc}"}
        calls.append(call_record("plan", model, completion))
        try:
            subqueries = parse_plan(completion.text, limit, question, offered)
        except PlanningError as exc:
            error = str(exc)
            retry = render("plan_retry", error=error)
            echo = completion.text[:PLAN_ECHO_CHARS]  # a junk reply is not paid for twice
            messages = [*messages, {"role": "assistant", "content": echo}, *retry]
            continue
        runtime.stream_writer({"event": "plan", "plan": subqueries, "attempt": attempt + 1})
        return {"plan": subqueries, "calls": calls}
    note = f"planning failed twice ({error}): the question was answered as one sub-query"
    runtime.stream_writer({"event": "plan", "plan": whole(question), "attempt": 2, "note": note})
    return {"plan": whole(question), "calls": calls, "status": "partial", "error": note}


def after_plan(state: GraphState) -> str:
    return "route" if state.get("plan") else "finish"


async def route(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Embed every sub-query in one batch and ask the router for each; with a toolbox, also
    ask it whether the sub-query goes to a capability (the model then reasons over its
    result) and why."""
    ctx = runtime.context
    plan_ = state["plan"]
    vectors = ctx.embedder.embed([sq["question"] for sq in plan_])
    routes: dict[str, RouteRecord] = {}
    for sq, vector in zip(plan_, vectors, strict=True):
        decision = ctx.router.route(vector, ctx.alpha)
        ranked = [m for m in decision.ranked_models() if m in ctx.models] or [
            ctx.config.default_model
        ]
        if decision.model in ctx.models:
            ranked = [decision.model, *[m for m in ranked if m != decision.model]]
        routes[sq["id"]] = {
            "subquery_id": sq["id"],
            "model": ranked[0],
            "ranked": ranked,
            "clusters": decision.clusters,
            "weights": decision.weights,
        }
        if (choice := capability_route(ctx.toolbox, sq)) is not None:
            routes[sq["id"]]["capability"] = choice
        runtime.stream_writer({"event": "route", **routes[sq["id"]]})
    return {"routes": routes}


async def gather(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Before each wave, what its sub-queries are asked: the text with earlier answers filled
    in, and the few paragraphs of the question's context most relevant to that text (every
    paragraph for a plan of one step, which is the question itself)."""
    ctx = runtime.context
    plan_, steps = state["plan"], state.get("steps", {})
    known = state.get("evidence") or {}
    ready = [sq for sq in ready_subqueries(plan_, set(steps)) if sq["id"] not in known]
    if not ready:
        return {}
    # `merge` hands candidate lists on, not answers: those reach a later hop as facts only
    filled = ctx.aggregator.name != "merge"
    answers = {i: s["answer"] for i, s in steps.items() if filled and s["status"] != "error"}
    questions = [resolve(sq, plan_, answers) for sq in ready]
    k = ctx.config.graph.evidence_paragraphs if len(plan_) > 1 else 0
    searched = [search_text(sq, q, answers) for sq, q in zip(ready, questions, strict=True)]
    chosen = top_paragraphs(ctx.embedder, searched, paragraphs_of(state.get("context", "")), k)
    evidence: dict[str, EvidenceRecord] = {}
    for sq, text, picked in zip(ready, questions, chosen, strict=True):
        evidence[sq["id"]] = {"subquery_id": sq["id"], "question": text, "paragraphs": picked}
        runtime.stream_writer({"event": "evidence", **evidence[sq["id"]]})
    return {"evidence": evidence}


def _asked(sq: SubQuery, state: GraphState) -> tuple[SubQuery, str]:
    """The sub-query as `gather` prepared it, and its context (as planned, and the whole
    context, in a graph without `gather`)."""
    context = state.get("context", "")
    record = (state.get("evidence") or {}).get(sq["id"])
    if record is None:
        return sq, context
    paragraphs = paragraphs_of(context)
    chosen = "\n\n".join(paragraphs[i] for i in record["paragraphs"] if i < len(paragraphs))
    return {**sq, "question": record["question"]}, chosen


def _fixed(split: str, ctx: RunContext) -> Shape:
    if split == "width":
        return Shape(ctx.width, 0)
    if split == "depth":
        return Shape(1, ctx.depth)
    return Shape(ctx.width, ctx.depth)


def allocator(split: str, *, planned: bool = True) -> AllocateNode:
    """The node that fixes the run's shape once the plan is known. Without a budget the
    shape is the requested width (`width`), depth with one trajectory (`depth`), or both."""
    if split not in SPLITS:
        raise ConfigError(f"unknown budget split {split!r}; known: {', '.join(SPLITS)}")

    async def allocate(state: GraphState, *, runtime: Runtime[RunContext]) -> dict[str, Any]:
        ctx = runtime.context
        shape = _fixed(split, ctx)
        if ctx.budget_tokens is not None:
            graph = ctx.config.graph
            overhead = ctx.budget.completion_tokens  # planning, already spent
            synthesized = planned and len(state["plan"]) > 1  # one step is its own answer
            if synthesized or ctx.aggregator.name == "merge":
                overhead += graph.synth_max_tokens
            if ctx.aggregator.name == "judge":
                overhead += len(state["plan"]) * graph.judge_max_tokens
            shape = divide(
                ctx.budget_tokens,
                subqueries=len(state["plan"]),
                call_tokens=graph.sample_max_tokens,
                overhead=overhead,
                split=split,
            )
        event = {"event": "shape", **shape.to_dict(), "budget_tokens": ctx.budget_tokens}
        runtime.stream_writer(event)
        return {"shape": shape.to_dict()}

    return allocate


allocate = allocator("width")


def schedule(state: GraphState, runtime: Runtime[RunContext]) -> Any:
    """Fan out the sub-queries whose dependencies are answered, width samples each, under the
    run's shape as `allocate` fixed it in the state (so a resumed run keeps its shape)."""
    ctx = runtime.context
    shape = state.get("shape")
    if shape:
        ctx.width, ctx.depth = shape["width"], shape["depth"]
    plan_, steps = state["plan"], state.get("steps", {})
    ready = ready_subqueries(plan_, set(steps))
    if not ready:
        return "synthesize"
    index = {sq["id"]: i for i, sq in enumerate(plan_)}
    answers = {i: s["answer"] for i, s in steps.items()}
    tools = state.get("tools") or {}
    tasks = []
    for sq in ready:
        asked, context = _asked(sq, state)
        facts = step_of(state["question"], plan_) + tool_block(tools.get(sq["id"]))
        facts += known_facts(sq, plan_, answers)
        route_ = state["routes"][sq["id"]]
        for k in range(ctx.width):
            seed = sample_seed(ctx.seed, index[sq["id"]], k)
            task = SampleTask(
                subquery=asked, route=route_, sample_idx=k, seed=seed, facts=facts, context=context
            )
            tasks.append(Send("sample", task))
    return tasks


async def aggregate(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Fan-in: vote within each newly finished sub-query, samples sorted by sample_idx; the
    calls the aggregator made (a judge's) join the trace."""
    ctx = runtime.context
    done = set(state.get("steps", {}))
    fresh = sorted(
        (s for s in state["samples"] if s["subquery_id"] not in done),
        key=lambda s: (s["subquery_id"], s["sample_idx"]),
    )
    steps: dict[str, StepRecord] = {}
    for sq in state["plan"]:
        group = [s for s in fresh if s["subquery_id"] == sq["id"]]
        if not group:
            continue
        usable = [s["answer"] if s["status"] == "ok" else "" for s in group]
        selection = await ctx.aggregator.aggregate(sq["question"], usable)
        status = "ok" if all(s["status"] == "ok" for s in group) else "partial"
        if selection.index is None:
            status = "error"
        steps[sq["id"]] = {
            "subquery_id": sq["id"],
            "answer": selection.answer,
            "selected": selection.index,
            "votes": selection.votes,
            "status": status,
        }
        runtime.stream_writer({"event": "vote", **steps[sq["id"]]})
    side = list(ctx.side_calls)
    ctx.side_calls.clear()
    return {"steps": steps, "calls": side} if side else {"steps": steps}


def direct(state: GraphState) -> dict[str, Any]:
    """The single graph's plan: the question itself, undivided."""
    return {"plan": whole(state["question"])}


async def finish(state: GraphState) -> dict[str, Any]:
    return {"status": state.get("status", "error"), "answer": state.get("answer", "")}

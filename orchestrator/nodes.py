"""The graph's nodes: plan, route, sample, aggregate, synthesize. Each model-calling node is
async, catches its own failures and returns typed records, so one failure never takes the
other branches down."""

from __future__ import annotations

import hashlib
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send

from orchestrator.aggregation import extract_answer, has_answer_line
from orchestrator.context import RunContext, call_record, token_sink
from orchestrator.errors import BudgetExhausted, PlanningError, ProviderError
from orchestrator.planning import SubQuery, parse_plan, ready_subqueries
from orchestrator.prompts import context_block, render
from orchestrator.seams import Message
from orchestrator.state import (
    CallRecord,
    GraphState,
    RouteRecord,
    SampleRecord,
    SampleTask,
    StepRecord,
)

PLAN_ECHO_CHARS = 4000  # how much of an unusable plan the re-ask shows the planner
FALLBACK_KINDS = {"server", "rate_limit", "timeout", "connection", "malformed", "not_found"}


async def plan(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Decompose the question; one re-ask on an unusable reply, then a planning error.
    With `max_subqueries = 1` there is nothing to decompose: the question is the sub-query
    (clipping a longer plan to its first step would answer the wrong question)."""
    ctx = runtime.context
    if ctx.config.graph.max_subqueries == 1:
        whole: list[SubQuery] = [{"id": "q1", "question": state["question"], "depends_on": []}]
        runtime.stream_writer({"event": "plan", "plan": whole, "attempt": 0})
        return {"plan": whole}
    model = ctx.config.planner_model
    messages = render(
        "plan", question=state["question"], max_subqueries=ctx.config.graph.max_subqueries
    )
    calls = []
    error = ""
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
            subqueries = parse_plan(completion.text, ctx.config.graph.max_subqueries)
        except PlanningError as exc:
            error = str(exc)
            retry = render("plan_retry", error=error)
            echo = completion.text[:PLAN_ECHO_CHARS]  # a junk reply is not paid for twice
            messages = [*messages, {"role": "assistant", "content": echo}, *retry]
            continue
        runtime.stream_writer({"event": "plan", "plan": subqueries, "attempt": attempt + 1})
        return {"plan": subqueries, "calls": calls}
    return {"calls": calls, "status": "error", "error": f"planning failed twice: {error}"}


def after_plan(state: GraphState) -> str:
    return "route" if state.get("plan") else "finish"


async def route(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Embed every sub-query in one batch and ask the router for each."""
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
        runtime.stream_writer({"event": "route", **routes[sq["id"]]})
    return {"routes": routes}


def _facts(sq: SubQuery, steps: dict[str, StepRecord], plan_: list[SubQuery]) -> str:
    if not sq["depends_on"]:
        return ""
    questions = {s["id"]: s["question"] for s in plan_}
    lines = [f"- {d} ({questions[d]}): {steps[d]['answer'] or 'unknown'}" for d in sq["depends_on"]]
    return "Facts found in earlier steps:\n" + "\n".join(lines) + "\n\n"


def sample_seed(base: int, subquery_index: int, sample_idx: int) -> int:
    """Distinct, reproducible seeds: no two samples of a run share one."""
    return base * 1_000_003 + subquery_index * 1_009 + sample_idx


def schedule(state: GraphState, runtime: Runtime[RunContext]) -> Any:
    """Fan out the sub-queries whose dependencies are answered, width samples each."""
    ctx = runtime.context
    plan_, steps = state["plan"], state.get("steps", {})
    ready = ready_subqueries(plan_, set(steps))
    if not ready:
        return "synthesize"
    index = {sq["id"]: i for i, sq in enumerate(plan_)}
    context = state.get("context", "")
    return [
        Send(
            "sample",
            SampleTask(
                subquery=sq,
                route=state["routes"][sq["id"]],
                sample_idx=k,
                seed=sample_seed(ctx.seed, index[sq["id"]], k),
                facts=_facts(sq, steps, plan_),
                context=context,
            ),
        )
        for sq in ready
        for k in range(ctx.width)
    ]


async def sample(task: SampleTask, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """One trajectory; on a provider failure after retries, one fallback to the next-best model."""
    ctx = runtime.context
    sq, ranked = task["subquery"], task["route"]["ranked"]
    context = context_block(task["context"])
    messages = render("sample", question=sq["question"], facts=task["facts"], context=context)
    record = await _sample_once(ctx, task, ranked[0], messages)
    failed = record["status"] in ("error", "timeout")
    if failed and len(ranked) > 1 and _fallback_worthy(record["error"]):
        record = {**await _sample_once(ctx, task, ranked[1], messages), "fallback_from": ranked[0]}
    runtime.stream_writer({"event": "sample", **record})
    return {"samples": [record]}


def _fallback_worthy(error: str | None) -> bool:
    return any(f": {kind}:" in (error or "") for kind in FALLBACK_KINDS)


async def _sample_once(
    ctx: RunContext, task: SampleTask, model: str, messages: list[Any]
) -> SampleRecord:
    try:
        completion = await ctx.call(
            model,
            messages,
            max_tokens=ctx.config.graph.sample_max_tokens,
            temperature=ctx.temperature,
            seed=task["seed"],
        )
    except BudgetExhausted as exc:
        return _sample_record(
            task, call_record("sample", model, None, str(exc), "budget_exhausted")
        )
    except Exception as exc:  # a branch never takes the others down
        timeout = isinstance(exc, ProviderError) and exc.kind == "timeout"
        record = call_record(
            "sample", model, None, str(exc) or repr(exc), "timeout" if timeout else None
        )
        return _sample_record(task, record)
    status = "length" if completion.finish_reason == "length" else "ok"
    answer = extract_answer(completion.text) if status == "ok" else ""
    call = call_record("sample", model, completion, status=status)
    return _sample_record(task, call, completion.text, answer)


def _sample_record(
    task: SampleTask, call: CallRecord, text: str = "", answer: str = ""
) -> SampleRecord:
    return SampleRecord(
        **call,
        subquery_id=task["subquery"]["id"],
        sample_idx=task["sample_idx"],
        seed=task["seed"],
        text=text,
        answer=answer,
        fallback_from=None,
    )


async def aggregate(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Fan-in: vote within each newly finished sub-query, samples sorted by sample_idx."""
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
    return {"steps": steps}


def fence_text(text: str) -> str:
    """Branch output made safe to place inside the data fence: no delimiter-like runs survive."""
    return text.replace("<<<", "‹‹‹").replace(">>>", "›››")


def fence_tag(label: str, fenced: str) -> str:
    """The tag of the fence around `fenced` (already passed through `fence_text`): a hash of
    that very text, so whoever wrote it cannot have known the tag, and a run's prompts, hence
    its answers, are reproducible from its seed (a random tag changed them from run to run)."""
    return f"{label}-{hashlib.sha256(fenced.encode()).hexdigest()[:16]}"


async def synthesize(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Assemble the final answer from the fenced sub-answers."""
    ctx = runtime.context
    steps = state.get("steps", {})
    if not any(s["status"] != "error" for s in steps.values()):
        status = "budget_exhausted" if _status(state) == "budget_exhausted" else "error"
        return {"status": status, "answer": "", "error": "every sub-query failed"}
    # Without a synthesis (it failed, or forgot its `Answer:` line, as small models do) the
    # answer is the last sub-query's, which the plan makes the one that answers the question.
    last = steps[state["plan"][-1]["id"]]["answer"]
    model = ctx.config.synthesizer_model
    on_text = token_sink(runtime.stream_writer, "synthesize") if ctx.stream_tokens else None
    try:
        completion = await ctx.call(
            model,
            _synthesis_prompt(state),
            max_tokens=ctx.config.graph.synth_max_tokens,
            on_text=on_text,
        )
    except (ProviderError, BudgetExhausted) as exc:
        kind = "budget_exhausted" if isinstance(exc, BudgetExhausted) else "error"
        return {
            "calls": [call_record("synthesize", model, None, str(exc), kind)],
            "answer": last,
            "error": f"synthesis failed: {exc}",
            "status": "partial" if kind == "error" else kind,
        }
    answer = extract_answer(completion.text) if has_answer_line(completion.text) else last
    runtime.stream_writer({"event": "answer", "answer": answer})
    return {
        "calls": [call_record("synthesize", model, completion)],
        "answer": answer,
        "status": _status(state),
        "synthesis": completion.text,
    }


def _synthesis_prompt(state: GraphState) -> list[Message]:
    steps = state.get("steps", {})
    lines = [
        f"{sq['id']}. {sq['question']} -> {steps[sq['id']]['answer'] or 'unknown'}"
        for sq in state["plan"]
    ]
    subanswers = fence_text("\n".join(lines))
    return render("synthesize", question=state["question"], fence=fence_tag("DATA", subanswers),
                  subanswers=subanswers)  # fmt: skip


def _status(state: GraphState) -> str:
    samples = state.get("samples", [])
    if any(s["status"] == "budget_exhausted" for s in samples):
        return "budget_exhausted"
    if any(s["status"] != "ok" for s in samples):
        return "partial"
    return "ok"


async def finish(state: GraphState) -> dict[str, Any]:
    return {"status": state.get("status", "error"), "answer": state.get("answer", "")}

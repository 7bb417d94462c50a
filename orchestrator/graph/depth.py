"""Depth: each sub-query's trajectory is deepened by critique and revision.

The deep graph keeps the wide graph's plan, routing and synthesis. A trajectory is a draft
(the wide graph's sample, fallback included) followed by D rounds of critique → revise on
the draft's model, so depth means the same on every model. The long-chain variant spends
the same number of calls' tokens on one longer reasoning call instead."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from orchestrator.errors import BudgetExhausted
from orchestrator.graph.context import RunContext, call_record
from orchestrator.graph.fencing import fence_tag, fence_text
from orchestrator.graph.sampling import sample, sample_record
from orchestrator.graph.shape import trajectory_calls
from orchestrator.graph.state import CallRecord, SampleRecord, SampleTask
from orchestrator.prompts import context_block, render
from orchestrator.protocols import Completion, Message

ROUND_SEED_STRIDE = 1 << 20


class RoundCall(CallRecord):
    """A trajectory's call that is not its final answer: the draft, a critique, or a
    revision that a later round replaced."""

    subquery_id: str
    sample_idx: int
    round: int


def round_seed(seed: int, step: int) -> int:
    """The seed of a trajectory's `step`-th call after the draft; distinct per call."""
    return seed + step * ROUND_SEED_STRIDE


def _prompt_values(task: SampleTask) -> dict[str, str]:
    return {
        "facts": task["facts"],
        "context": context_block(task["context"]),
        "question": task["subquery"]["question"],
    }


def _round_call(record: CallRecord, stage: str, task: SampleTask, round_: int) -> RoundCall:
    return RoundCall(
        stage=stage,
        model=record["model"],
        prompt_tokens=record["prompt_tokens"],
        completion_tokens=record["completion_tokens"],
        cost_usd=record["cost_usd"],
        latency_s=record["latency_s"],
        status=record["status"],
        error=record["error"],
        subquery_id=task["subquery"]["id"],
        sample_idx=task["sample_idx"],
        round=round_,
    )


async def _call(
    ctx: RunContext, stage: str, model: str, messages: list[Message], seed: int, max_tokens: int
) -> tuple[Completion | None, CallRecord]:
    """One metered trajectory call; failures come back as a record, never raised."""
    try:
        completion = await ctx.call(
            model, messages, max_tokens=max_tokens, temperature=ctx.temperature, seed=seed
        )
    except Exception as exc:  # a branch never takes the others down
        status = "budget_exhausted" if isinstance(exc, BudgetExhausted) else "error"
        return None, call_record(stage, model, None, str(exc) or repr(exc), status)
    status = "length" if completion.finish_reason == "length" else "ok"
    return completion, call_record(stage, model, completion, status=status)


async def _round(
    ctx: RunContext, task: SampleTask, current: SampleRecord, round_: int
) -> tuple[SampleRecord | None, list[RoundCall]]:
    """Critique the current answer, then revise it; None when the revision is unusable."""
    model, values = current["model"], _prompt_values(task)
    draft = fence_text(current["text"])
    fence, tokens = fence_tag("DRAFT", draft), ctx.config.graph.sample_max_tokens
    asked = render("critique", **values, fence=fence, draft=draft)
    seed = round_seed(task["seed"], 2 * round_ - 1)
    critique, record = await _call(ctx, "critique", model, asked, seed, tokens)
    spent = [_round_call(record, "critique", task, round_)]
    if critique is None or record["status"] != "ok":
        return None, spent
    asked = render("revise", **values, fence=fence, draft=draft, critique=fence_text(critique.text))
    seed = round_seed(task["seed"], 2 * round_)
    revision, record = await _call(ctx, "revise", model, asked, seed, tokens)
    text = revision.text if revision else ""
    revised = sample_record(task, record, text, current["fallback_from"])
    if revised["status"] != "ok" or not revised["answer"]:
        return None, [*spent, _round_call(record, "revise", task, round_)]
    return revised, spent


async def deepen(task: SampleTask, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """One trajectory: a draft, then `depth` critique → revise rounds. A draft cut off at
    max_tokens is revised like any other (finishing it is what revision is for); a round that
    fails (an error, the budget, a cut-off revision) ends the trajectory with the last good
    answer."""
    ctx = runtime.context
    best: SampleRecord = (await sample(task, runtime))["samples"][0]
    calls: list[RoundCall] = []
    for round_ in range(1, ctx.depth + 1):
        if best["status"] not in ("ok", "length") or not best["text"]:
            break
        revised, spent = await _round(ctx, task, best, round_)
        if revised is None:
            calls += spent
            break
        calls += [_round_call(best, "draft" if round_ == 1 else "revise", task, round_ - 1), *spent]
        best = revised
        runtime.stream_writer({"event": "revise", "round": round_, **best})
    return {"samples": [best], "calls": calls}


async def long_chain(task: SampleTask, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """One trajectory as a single long reasoning call: max_tokens of 1 + 2·depth calls."""
    ctx = runtime.context
    model = task["route"]["model"]
    max_tokens = ctx.config.graph.sample_max_tokens * trajectory_calls(ctx.depth)
    messages = render("chain", **_prompt_values(task))
    completion, record = await _call(ctx, "sample", model, messages, task["seed"], max_tokens)
    chained = sample_record(task, record, completion.text if completion else "")
    runtime.stream_writer({"event": "sample", **chained})
    return {"samples": [chained]}

"""The sample node: one trajectory of one sub-query on its routed model, with one fallback to
the next-best model on a provider failure. Width is many of these, fanned out by `schedule`."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from orchestrator.errors import BudgetExhausted, ProviderError
from orchestrator.graph.aggregation import extract_answer
from orchestrator.graph.context import RunContext, call_record
from orchestrator.graph.state import CallRecord, SampleRecord, SampleTask
from orchestrator.prompts import context_block, render

FALLBACK_KINDS = {"server", "rate_limit", "timeout", "connection", "malformed", "not_found"}


def sample_seed(base: int, subquery_index: int, sample_idx: int) -> int:
    """Distinct, reproducible seeds: no two samples of a run share one."""
    return base * 1_000_003 + subquery_index * 1_009 + sample_idx


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
        return sample_record(task, call_record("sample", model, None, str(exc), "budget_exhausted"))
    except Exception as exc:  # a branch never takes the others down
        timeout = isinstance(exc, ProviderError) and exc.kind == "timeout"
        record = call_record(
            "sample", model, None, str(exc) or repr(exc), "timeout" if timeout else None
        )
        return sample_record(task, record)
    status = "length" if completion.finish_reason == "length" else "ok"
    call = call_record("sample", model, completion, status=status)
    return sample_record(task, call, completion.text)


def sample_record(
    task: SampleTask, call: CallRecord, text: str = "", fallback: str | None = None
) -> SampleRecord:
    """The record of one trajectory's answering call; its answer is read from a complete text."""
    return SampleRecord(
        **call,
        subquery_id=task["subquery"]["id"],
        sample_idx=task["sample_idx"],
        seed=task["seed"],
        text=text,
        answer=extract_answer(text) if call["status"] == "ok" else "",
        fallback_from=fallback,
    )

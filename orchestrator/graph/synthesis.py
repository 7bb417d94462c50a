"""The last node of a graph: `synthesize` assembles the final answer from the fenced
sub-answers; `conclude` is the single graph's, the aggregated sample answer itself."""

from __future__ import annotations

from collections import Counter
from typing import Any

from langgraph.runtime import Runtime

from orchestrator.errors import BudgetExhausted, ProviderError
from orchestrator.graph.aggregation import extract_answer, has_answer_line
from orchestrator.graph.context import RunContext, call_record, token_sink
from orchestrator.graph.fencing import fence_tag, fence_text
from orchestrator.graph.state import GraphState, SampleRecord
from orchestrator.prompts import render
from orchestrator.protocols import Message


async def synthesize(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Assemble the final answer from the fenced sub-answers."""
    ctx = runtime.context
    steps = state.get("steps", {})
    if not any(s["status"] != "error" for s in steps.values()):
        status = "budget_exhausted" if _run_status(state) == "budget_exhausted" else "error"
        error = failure("every sub-query failed", state.get("samples", []))
        return {"status": status, "answer": "", "error": error}
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
        "status": _run_status(state),
        "synthesis": completion.text,
    }


def _synthesis_prompt(state: GraphState) -> list[Message]:
    steps = state.get("steps", {})
    lines = [
        f"{sq['id']}. {sq['question']} -> {steps[sq['id']]['answer'] or 'unknown'}"
        for sq in state["plan"]
    ]
    subanswers = fence_text("\n".join(lines))
    return render(
        "synthesize",
        question=state["question"],
        fence=fence_tag("DATA", subanswers),
        subanswers=subanswers,
    )


def failure(headline: str, samples: list[SampleRecord]) -> str:
    """`headline` and why: the commonest error of the failed samples (which names the model,
    the kind of failure and what to check), with how many said it when they differ."""
    errors = Counter(s["error"] for s in samples if s["status"] != "ok" and s["error"])
    if not errors:
        return headline
    error, count = errors.most_common(1)[0]
    total = errors.total()
    said = f" ({count} of {total} failed calls)" if count < total else ""
    return f"{headline}{said}: {error}"


def _run_status(state: GraphState) -> str:
    samples = state.get("samples", [])
    if any(s["status"] == "budget_exhausted" for s in samples):
        return "budget_exhausted"
    if any(s["status"] != "ok" for s in samples):
        return "partial"
    return "ok"


def _samples_status(samples: list[SampleRecord]) -> str:
    if any(s["status"] == "budget_exhausted" for s in samples):
        return "budget_exhausted"
    return "ok" if all(s["status"] == "ok" for s in samples) else "partial"


async def conclude(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """The single graph's answer: the aggregated sample answer; with `merge`, a synthesis
    that sees every candidate."""
    if runtime.context.aggregator.name == "merge":
        return await synthesize(state, runtime)
    status = _samples_status(state.get("samples", []))
    step = state.get("steps", {}).get("q1")
    if step is None or step["status"] == "error":
        failed = "budget_exhausted" if status == "budget_exhausted" else "error"
        error = failure("every sample failed", state.get("samples", []))
        return {"answer": "", "status": failed, "error": error}
    runtime.stream_writer({"event": "answer", "answer": step["answer"]})
    return {"answer": step["answer"], "status": status}

"""The last node of a graph: `synthesize` assembles the final answer from the fenced
sub-answers, each with the sentence of its evidence that supports it; `conclude` is the single
graph's (and a one-step plan's): the aggregated sample answer itself, with no further call."""

from __future__ import annotations

from collections import Counter
from typing import Any

from langgraph.runtime import Runtime

from orchestrator.errors import BudgetExhausted, ProviderError
from orchestrator.graph.acting import tool_line
from orchestrator.graph.aggregation import extract_answer, has_answer_line, short_form
from orchestrator.graph.context import RunContext, call_record, token_sink
from orchestrator.graph.evidence import paragraphs_of, supporting_sentence
from orchestrator.graph.fencing import fence_tag, fence_text
from orchestrator.graph.state import GraphState, SampleRecord
from orchestrator.prompts import render
from orchestrator.protocols import Message


async def synthesize(state: GraphState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Assemble the final answer from the fenced sub-answers; a plan of one step (a question
    that needed no decomposition) is answered by its step, with no synthesis call."""
    ctx = runtime.context
    if len(state["plan"]) == 1 and ctx.aggregator.name != "merge":
        return await conclude(state, runtime)
    steps = state.get("steps", {})
    if not any(s["status"] != "error" for s in steps.values()):
        status = "budget_exhausted" if _run_status(state) == "budget_exhausted" else "error"
        error = failure("every sub-query failed", state.get("samples", []))
        return {"status": status, "answer": "", "error": error}
    last = steps[state["plan"][-1]["id"]]["answer"]  # the answer if the synthesis fails
    model = ctx.synthesizer_model
    on_text = token_sink(runtime.stream_writer, "synthesize") if ctx.stream_tokens else None
    support = _support(state, ctx)
    try:
        completion = await ctx.call(
            model,
            _synthesis_prompt(state, support),
            max_tokens=ctx.config.graph.synth_max_tokens,
            on_text=on_text,
        )
    except (ProviderError, BudgetExhausted) as exc:
        kind = "budget_exhausted" if isinstance(exc, BudgetExhausted) else "error"
        return {
            "calls": [call_record("synthesize", model, None, str(exc), kind)],
            "support": support,
            "answer": last,
            "error": f"synthesis failed: {exc}",
            "status": "partial" if kind == "error" else kind,
        }
    answer = _final(completion.text, state)
    runtime.stream_writer({"event": "answer", "answer": answer})
    return {
        "calls": [call_record("synthesize", model, completion)],
        "answer": answer,
        "status": _run_status(state),
        "synthesis": completion.text,
        "support": support,
    }


def _final(text: str, state: GraphState) -> str:
    """The synthesis's short answer; without an answer line, the last sub-query's answer
    (which the plan makes the one that answers the question)."""
    steps = state.get("steps", {})
    found = [steps[sq["id"]]["answer"] for sq in state["plan"]]
    if not has_answer_line(text):
        return found[-1]
    return short_form(extract_answer(text), found, state["question"])


def _support(state: GraphState, ctx: RunContext) -> dict[str, str]:
    """Per answered sub-query, the sentence of the paragraphs it was given that supports its
    answer (none closed-book)."""
    paragraphs = paragraphs_of(state.get("context", ""))
    if not paragraphs:
        return {}
    out: dict[str, str] = {}
    steps = state.get("steps", {})
    for sid, record in (state.get("evidence") or {}).items():
        answer = steps[sid]["answer"] if sid in steps else ""
        given = [paragraphs[i] for i in record["paragraphs"] if i < len(paragraphs)]
        sentence = supporting_sentence(ctx.embedder, record["question"], answer, given)
        if sentence:
            out[sid] = sentence
    return out


def _synthesis_prompt(state: GraphState, support: dict[str, str]) -> list[Message]:
    steps, asked = state.get("steps", {}), state.get("evidence") or {}
    tools = state.get("tools") or {}
    lines = []
    for sq in state["plan"]:
        question = asked[sq["id"]]["question"] if sq["id"] in asked else sq["question"]
        lines.append(f"{sq['id']}. {question} -> {steps[sq['id']]['answer'] or 'unknown'}")
        if sq["id"] in support:
            lines.append(f"   (supported by: {support[sq['id']]})")
        if line := tool_line(tools.get(sq["id"])):
            lines.append(line)
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
    if status == "ok" and state.get("status") == "partial":  # e.g. a plan that fell back
        status = "partial"
    step = state.get("steps", {}).get(state["plan"][0]["id"])
    if step is None or step["status"] == "error":
        failed = "budget_exhausted" if status == "budget_exhausted" else "error"
        error = failure("every sample failed", state.get("samples", []))
        return {"answer": "", "status": failed, "error": error}
    answer = short_form(step["answer"], question=state["question"])
    runtime.stream_writer({"event": "answer", "answer": answer})
    return {"answer": answer, "status": status}

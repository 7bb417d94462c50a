"""A policy's final answer as the JSON a request's `response_format` asks for: once the run
has answered, the synthesizer model is asked for that answer as JSON following the schema
(with the response format passed on, so models that support it are constrained), the reply
is validated with `jsonschema`, re-asked once with the error, and refused with a 502 if it
still does not follow the schema. Its calls count in the run's usage and cost."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from orchestrator.capabilities.arguments import check_arguments
from orchestrator.graph.budget import Budget
from orchestrator.graph.context import synthesizer_of
from orchestrator.prompts import render
from orchestrator.protocols import Completion
from orchestrator.serve.requests import ApiError, ChatRequest
from orchestrator.serve.runs import Outcome, Service, cost_headers

ANY_OBJECT: dict[str, Any] = {"type": "object"}


def requested_schema(request: ChatRequest) -> dict[str, Any]:
    fmt = request.response_format
    if fmt is not None and fmt.json_schema is not None and fmt.type == "json_schema":
        return fmt.json_schema.schema_
    return ANY_OBJECT


async def structured_outcome(
    service: Service, request: ChatRequest, question: str, outcome: Outcome
) -> Outcome:
    """`outcome` with its text replaced by the answer as JSON valid under the schema."""
    schema, cfg = requested_schema(request), service.config
    model_id = synthesizer_of(cfg, service.router, cfg.router.alpha, service.models)
    messages = render(
        "structured_answer",
        schema=json.dumps(schema, ensure_ascii=False),
        question=question,
        findings=_findings(outcome) or "(none)",
        answer=outcome.text,
    )
    max_tokens = request.token_cap or max(cfg.graph.synth_max_tokens, 512)
    calls: list[Completion] = []
    error = ""
    for _attempt in range(2):
        Budget(cfg.budget).reserve(cfg.model(model_id), messages, max_tokens)
        completion = await service.models[model_id].complete(
            messages, temperature=0.0, max_tokens=max_tokens, **request.tool_fields()
        )
        calls.append(completion)
        value, error = check_arguments(schema, _unfenced(completion.text), root="the answer")
        if value is not None:
            return _costed(outcome, calls, json.dumps(value, ensure_ascii=False))
        messages = [*messages, {"role": "assistant", "content": completion.text}]
        messages += render("structured_answer_retry", error=error)
    spent = _costed(outcome, calls, outcome.text)
    raise ApiError(
        502,
        f"the answer does not follow the requested JSON schema after one re-ask: {error}",
        "server_error",
        "response_format",
        "invalid_structured_output",
        headers=cost_headers(spent),
    )


def _findings(outcome: Outcome) -> str:
    steps = outcome.extension.get("steps") or []
    return "\n".join(f"- {s.get('question', '')} → {s.get('answer', '')}" for s in steps)


def _unfenced(text: str) -> str:
    text = text.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[-1].rsplit("```", 1)[0]
    return text.strip()


def _costed(outcome: Outcome, calls: list[Completion], text: str) -> Outcome:
    prompt = sum(c.usage.prompt_tokens for c in calls)
    completion = sum(c.usage.completion_tokens for c in calls)
    cost = sum(c.cost_usd for c in calls)
    usage = dict(outcome.extension.get("usage") or {})
    usage["cost_usd"] = usage.get("cost_usd", 0.0) + cost
    usage["llm_calls"] = usage.get("llm_calls", 0) + len(calls)
    usage["prompt_tokens"] = usage.get("prompt_tokens", 0) + prompt
    usage["completion_tokens"] = usage.get("completion_tokens", 0) + completion
    structured = {"model": calls[0].model if calls else None, "calls": len(calls)}
    extension = {**outcome.extension, "usage": usage, "structured": structured}
    return replace(
        outcome,
        text=text,
        prompt_tokens=outcome.prompt_tokens + prompt,
        completion_tokens=outcome.completion_tokens + completion,
        cost_usd=outcome.cost_usd + cost,
        extension=extension,
    )

"""A pass-through request: one call through the LLM boundary to a pool model, with what the
client sent (a tool-calling conversation, `tools`, `tool_choice`, `response_format`)
forwarded as it is, and the model's tool calls returned."""

from __future__ import annotations

import time

from orchestrator.api import EventHandler
from orchestrator.graph.budget import Budget
from orchestrator.graph.context import token_sink
from orchestrator.protocols import Completion, Message
from orchestrator.serve.requests import ChatRequest, Policy
from orchestrator.serve.runs import Outcome, Service


async def run_passthrough(
    service: Service,
    policy: Policy,
    request: ChatRequest,
    run_id: str,
    on_event: EventHandler | None = None,
) -> Outcome:
    """One call to a pool model, metered by the config's budget; streamed as `token` events
    when `on_event` is given."""
    model_id = str(policy.model)
    cfg = service.config
    messages: list[Message] = [m.wire() for m in request.messages]
    max_tokens = request.token_cap or cfg.graph.synth_max_tokens
    Budget(cfg.budget).reserve(cfg.model(model_id), messages, max_tokens)
    started = time.perf_counter()
    completion = await service.models[model_id].complete(
        messages,
        temperature=cfg.graph.temperature if request.temperature is None else request.temperature,
        max_tokens=max_tokens,
        seed=request.seed,
        on_text=None if on_event is None else token_sink(on_event, "passthrough"),
        **request.tool_fields(),
    )
    return outcome_from_completion(completion, policy, run_id, time.perf_counter() - started)


def outcome_from_completion(
    completion: Completion, policy: Policy, run_id: str, latency_s: float
) -> Outcome:
    usage = completion.usage
    extension = {
        "policy": "passthrough",
        "run_id": run_id,
        "status": "ok",
        "error": None,
        "models": [completion.model],
        "latency_s": round(latency_s, 4),
        "usage": {"cost_usd": completion.cost_usd, "llm_calls": 1},
    }
    return Outcome(
        text=completion.text,
        model=completion.model,
        status="ok",
        finish_reason=completion.finish_reason,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=completion.cost_usd,
        run_id=run_id,
        extension=extension,
        tool_calls=completion.tool_calls,
    )

"""What crosses the wire at the LLM boundary, without importing litellm: the OpenAI fields a
request carries besides its messages, and the typed `Completion` read back from a response
object (read by attribute, so any OpenAI-shaped response will do)."""

from __future__ import annotations

from typing import Any

from orchestrator.config import ModelConfig
from orchestrator.protocols import Completion, ToolCall, ToolChoice, ToolSpec, Usage


def tool_fields(
    json_mode: bool,
    tools: list[ToolSpec] | None,
    tool_choice: ToolChoice | None,
    response_format: dict[str, Any] | None,
) -> dict[str, Any]:
    """The request's `tools`, `tool_choice` and `response_format` (`json_mode` asks for a JSON
    object unless a `response_format` is given)."""
    fields: dict[str, Any] = {}
    if response_format is not None:
        fields["response_format"] = response_format
    elif json_mode:
        fields["response_format"] = {"type": "json_object"}
    if tools:
        fields["tools"] = tools
        if tool_choice is not None:
            fields["tool_choice"] = tool_choice
    return fields


def read_tool_calls(message: Any) -> tuple[ToolCall, ...]:
    """The tool calls of a response message (objects or dicts), in order."""
    calls = []
    for n, raw in enumerate(_get(message, "tool_calls") or []):
        function = _get(raw, "function")
        name = _get(function, "name")
        if not name:
            continue
        arguments = _get(function, "arguments")
        call_id = _get(raw, "id") or f"call_{n}"
        calls.append(ToolCall(str(call_id), str(name), str(arguments or "{}")))
    return tuple(calls)


def read_completion(response: Any, spec: ModelConfig, latency_s: float) -> Completion | None:
    """The Completion of a chat response, costed from `spec`; None when it has no choice, or
    neither content nor a tool call."""
    choices = getattr(response, "choices", None) or []
    if not choices:
        return None
    message = choices[0].message
    text = getattr(message, "content", None)
    calls = read_tool_calls(message)
    if text is None and not calls:
        return None
    usage = getattr(response, "usage", None)
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion = int(getattr(usage, "completion_tokens", 0) or 0)
    finish = str(choices[0].finish_reason or ("tool_calls" if calls else "stop"))
    return Completion(
        text=str(text or ""),
        model=spec.id,
        usage=Usage(prompt, completion),
        cost_usd=spec.cost(prompt, completion),
        latency_s=latency_s,
        finish_reason=finish,
        tool_calls=calls,
    )


def _get(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value.get(key)
    return getattr(value, key, None)

"""A tool step's arguments: the routed model fills them by tool calling from the capability's
JSON schema (`parameters`, BFCL's dialect normalised), they are validated with `jsonschema`,
and invalid ones are re-asked once with the validation error before the step fails."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from orchestrator.capabilities.loaders import normalise_schema
from orchestrator.capabilities.tool_result import ToolError
from orchestrator.capability import Capability
from orchestrator.errors import ProviderError
from orchestrator.prompts import render
from orchestrator.protocols import ChatModel, Completion, Message, ToolSpec

EMPTY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True)
class Filled:
    """The valid arguments, or the error that stopped them; and the model calls it took."""

    arguments: dict[str, Any] | None
    error: ToolError | None
    completions: tuple[Completion, ...]


def function_name(capability: Capability) -> str:
    """The capability's id as an OpenAI function name (letters, digits, `_`, `-`; ≤64)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", capability.id)[:64]


def schema_of(capability: Capability) -> dict[str, Any]:
    """The arguments' JSON schema (an empty object schema when the capability has none)."""
    schema = normalise_schema(capability.parameters) if capability.parameters else None
    return schema if isinstance(schema, dict) else dict(EMPTY_OBJECT)


def tool_spec(capability: Capability) -> ToolSpec:
    """The capability as an OpenAI tool."""
    function = {
        "name": function_name(capability),
        "description": capability.description,
        "parameters": schema_of(capability),
    }
    return {"type": "function", "function": function}


def check_arguments(
    schema: dict[str, Any], text: str, root: str = "arguments"
) -> tuple[dict[str, Any] | None, str]:
    """(the arguments, "") when `text` is a JSON object valid under `schema`, else (None,
    what is wrong, in one line: the failing field's path, or `root` for the whole)."""
    from jsonschema import Draft202012Validator, SchemaError, validators

    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at character {exc.pos})"
    if not isinstance(value, dict):
        return None, f"expected a JSON object, got {type(value).__name__}"
    try:
        validator_class = validators.validator_for(schema, default=Draft202012Validator)
        validator_class.check_schema(schema)
    except SchemaError as exc:
        return None, f"the tool's schema is not valid JSON schema: {exc.message}"
    errors = sorted(validator_class(schema).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        where = ".".join(str(p) for p in errors[0].absolute_path) or root
        return None, f"{where}: {errors[0].message}"
    return value, ""


async def fill_arguments(
    model: ChatModel,
    capability: Capability,
    request: str,
    *,
    facts: str = "",
    max_tokens: int = 256,
    temperature: float = 0.0,
) -> Filled:
    """Ask `model` to call the capability for `request` (the tool forced by `tool_choice`),
    validate the call's arguments, re-ask once with the error, then give up with an
    `invalid_arguments` error. A failing model call is a `provider` error."""
    spec, name = tool_spec(capability), function_name(capability)
    facts_block = f"{facts.strip()}\n\nRequest: " if facts else ""
    messages = render("tool_arguments", tool=name, facts=facts_block, request=request)
    completions: list[Completion] = []
    error = ""
    for _attempt in range(2):
        try:
            completion = await model.complete(
                messages,
                temperature=temperature,
                max_tokens=max_tokens,
                tools=[spec],
                tool_choice={"type": "function", "function": {"name": name}},
            )
        except ProviderError as exc:
            return Filled(None, ToolError("provider", str(exc)), tuple(completions))
        completions.append(completion)
        text = _arguments_text(completion, name)
        if text is None:
            text, error = completion.text, f"no call of {name} (a reply in text)"
        else:
            arguments, error = check_arguments(spec["function"]["parameters"], text)
            if arguments is not None:
                return Filled(arguments, None, tuple(completions))
        messages = [*messages, *_reask(name, text, error)]
    message = f"{name}: invalid arguments after one re-ask: {error}"
    return Filled(None, ToolError("invalid_arguments", message), tuple(completions))


def _arguments_text(completion: Completion, name: str) -> str | None:
    """The arguments the model gave: its call of `name` (else its first call), else its
    text when that is a JSON object (a model that wrote the arguments as text); None when
    it gave neither."""
    calls = sorted(completion.tool_calls, key=lambda c: c.name != name)
    if calls:
        return calls[0].arguments
    text = completion.text.strip().removeprefix("```json").strip("`").strip()
    return text if text.startswith("{") else None


def _reask(name: str, text: str, error: str) -> list[Message]:
    """What the model said, as plain text (every provider takes it), and the error."""
    said: Message = {"role": "assistant", "content": f"{name}({text})"}
    return [said, *render("tool_arguments_retry", tool=name, error=error)]

"""What the server accepts: the chat request schema, the limits it enforces, the policy a
`model` string names, and the OpenAI-style error every refusal is reported as."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, ValidationError

POLICY_PREFIX = "orchestrator/"


@dataclass(frozen=True)
class ServerLimits:
    """Caps on one request; a violation is an HTTP 400 (413 for the body size). A server has
    no person to ask about a capability that requires approval: its calls are refused (the
    sub-query answered without it, the trace saying so) unless `approve_tools`."""

    max_body_bytes: int = 1_048_576
    max_messages: int = 64
    max_width: int = 16
    max_depth: int = 8
    max_tokens: int = 4096
    max_budget_tokens: int = 100_000
    approve_tools: bool = False


@dataclass
class ApiError(Exception):
    """A refusal, sent as `{"error": {"message", "type", "param", "code"}}`."""

    status: int
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class TextPart(_Open):
    type: Literal["text"]
    text: str


class ChatMessage(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""

    def wire(self) -> dict[str, Any]:
        """The message as a model is sent it: role, text, and a tool-calling conversation's
        `tool_calls`, `tool_call_id` and `name` where present."""
        extra = self.model_extra or {}
        kept = {k: extra[k] for k in ("tool_calls", "tool_call_id", "name") if extra.get(k)}
        return {"role": self.role, "content": self.text, **kept}


class StreamOptions(_Open):
    include_usage: bool = False


class FunctionDef(_Open):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None


class ToolDef(_Open):
    type: Literal["function"]
    function: FunctionDef


class NamedFunction(_Open):
    name: str


class NamedToolChoice(_Open):
    type: Literal["function"]
    function: NamedFunction


class JsonSchemaFormat(_Open):
    name: str = Field(min_length=1)
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    strict: bool | None = None


class ResponseFormat(_Open):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class ChatRequest(_Open):
    """The fields of an OpenAI chat request the server uses. `tools`, `tool_choice` and
    `response_format` are honoured or refused (see `app._starter`); other fields
    (`user`, `metadata`, …) are ignored."""

    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    seed: int | None = None
    n: int | None = Field(default=None, ge=1, le=1)
    tools: list[ToolDef] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    response_format: ResponseFormat | None = None

    @property
    def wants_tools(self) -> bool:
        """Tools were sent and may be called (not `tool_choice: "none"`)."""
        return bool(self.tools) and self.tool_choice != "none"

    @property
    def wants_json(self) -> bool:
        fmt = self.response_format
        return fmt is not None and fmt.type != "text"

    def tool_fields(self) -> dict[str, Any]:
        """`tools`, `tool_choice` and `response_format` as sent (only those given)."""
        return self.model_dump(
            include={"tools", "tool_choice", "response_format"},
            exclude_none=True,
            by_alias=True,
        )

    @property
    def token_cap(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


def parse_request(data: Any, limits: ServerLimits) -> ChatRequest:
    """Validate a decoded JSON body against the schema and the limits."""
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object", code="invalid_body")
    messages = data.get("messages")
    if isinstance(messages, list) and len(messages) > limits.max_messages:
        raise ApiError(
            400,
            f"{len(messages)} messages; the limit is {limits.max_messages}",
            param="messages",
            code="too_many_messages",
        )
    try:
        request = ChatRequest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or None
        raise ApiError(400, f"{where}: {err['msg']}", param=where, code="invalid_value") from None
    _check_tools(request, data)
    cap = request.token_cap
    if cap is not None and cap > limits.max_tokens:
        raise ApiError(
            400,
            f"max_tokens={cap} is over the limit of {limits.max_tokens}",
            param="max_tokens",
            code="max_tokens_too_large",
        )
    return request


def _check_tools(request: ChatRequest, data: dict[str, Any]) -> None:
    """Refuse what would otherwise be ignored: legacy `functions`, a tool choice naming no
    given tool, a `json_schema` response format without its schema."""
    for legacy in ("functions", "function_call"):
        if data.get(legacy) is not None:
            raise ApiError(
                400, f"{legacy} is not supported: send tools", param=legacy, code="invalid_value"
            )
    choice = request.tool_choice
    if choice is not None and choice != "none" and not request.tools:
        raise ApiError(400, "tool_choice without tools", param="tool_choice", code="invalid_value")
    names = [t.function.name for t in request.tools or []]
    if isinstance(choice, NamedToolChoice) and choice.function.name not in names:
        message = f"tool_choice names {choice.function.name!r}, which is not among the tools"
        raise ApiError(400, message, param="tool_choice", code="invalid_value")
    fmt = request.response_format
    if (
        fmt is not None
        and fmt.type == "json_schema"
        and (not fmt.json_schema or not fmt.json_schema.schema_)
    ):
        raise ApiError(
            400,
            "response_format json_schema needs json_schema.schema",
            param="response_format",
            code="invalid_value",
        )


def split_messages(messages: list[ChatMessage]) -> tuple[str, str]:
    """(question, context): the last user message, and every other message as `role: text`."""
    last = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    if last is None:
        raise ApiError(
            400,
            "no user message: the last user message is the question",
            param="messages",
            code="no_user_message",
        )
    context = [f"{m.role}: {m.text}" for i, m in enumerate(messages) if i != last and m.text]
    return messages[last].text, "\n".join(context)


@dataclass(frozen=True)
class Policy:
    """What a request's `model` names: a graph with optional knobs, or a pool model."""

    name: str
    graph: str | None = None
    model: str | None = None
    width: int | None = None
    depth: int | None = None
    alpha: float | None = None
    budget_tokens: int | None = None


# name -> (type, low, limit attribute or fixed high)
_KNOBS: dict[str, tuple[type, float, str | float]] = {
    "alpha": (float, 0.0, 1.0),
    "width": (int, 1, "max_width"),
    "depth": (int, 0, "max_depth"),
    "budget_tokens": (int, 1, "max_budget_tokens"),
}


def _knob(name: str, values: list[str], limits: ServerLimits) -> int | float:
    kind, low, high_spec = _KNOBS[name]
    high = getattr(limits, high_spec) if isinstance(high_spec, str) else high_spec
    try:
        value: int | float = kind(values[-1])
    except ValueError:
        raise ApiError(
            400,
            f"{name}={values[-1]!r} is not a {kind.__name__}",
            param="model",
            code="invalid_policy",
        ) from None
    if len(values) != 1 or not low <= value <= high:
        raise ApiError(
            400,
            f"{name} must be one value between {low:g} and {high:g}",
            param="model",
            code="invalid_policy",
        )
    return value


def resolve_policy(model: str, graphs: list[str], pool: list[str], limits: ServerLimits) -> Policy:
    """`orchestrator/<graph>[?alpha=&width=&depth=&budget_tokens=]`, or a pool model id."""
    if model in pool:
        return Policy(name=model, model=model)
    path, _, query = model.partition("?")
    graph = path.removeprefix(POLICY_PREFIX)
    if not path.startswith(POLICY_PREFIX) or graph not in graphs:
        known = [POLICY_PREFIX + g for g in graphs] + pool
        raise ApiError(
            404,
            f"the model {model!r} does not exist; known: {', '.join(known)}",
            param="model",
            code="model_not_found",
        )
    params = parse_qs(query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(params) - set(_KNOBS))
    if unknown:
        raise ApiError(
            400,
            f"unknown policy parameter {unknown[0]!r}; known: {', '.join(_KNOBS)}",
            param="model",
            code="invalid_policy",
        )
    knobs: dict[str, Any] = {k: _knob(k, v, limits) for k, v in params.items()}
    return Policy(name=model, graph=graph, **knobs)

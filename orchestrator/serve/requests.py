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
    """Caps on one request; a violation is an HTTP 400 (413 for the body size)."""

    max_body_bytes: int = 1_048_576
    max_messages: int = 64
    max_width: int = 16
    max_depth: int = 8
    max_tokens: int = 4096
    max_budget_tokens: int = 100_000


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


class StreamOptions(_Open):
    include_usage: bool = False


class ChatRequest(_Open):
    """The fields of an OpenAI chat request the server uses; other fields are ignored."""

    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    seed: int | None = None
    n: int | None = Field(default=None, ge=1, le=1)

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
    cap = request.token_cap
    if cap is not None and cap > limits.max_tokens:
        raise ApiError(
            400,
            f"max_tokens={cap} is over the limit of {limits.max_tokens}",
            param="max_tokens",
            code="max_tokens_too_large",
        )
    return request


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

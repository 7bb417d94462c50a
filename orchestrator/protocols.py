"""The project's seams: small Protocols and the typed values that cross them.

Nothing past the LLM boundary sees a provider response object; it sees a `Completion`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Message = dict[str, Any]
"""A chat message: `role` and `content` (text), and on a tool-calling conversation an
assistant's `tool_calls` (OpenAI's form; its `content` may then be None) or a tool reply's
`tool_call_id`."""
ToolSpec = dict[str, Any]
"""An OpenAI tool: `{"type": "function", "function": {"name", "description", "parameters"}}`."""
ToolChoice = str | dict[str, Any]
"""`"auto"`, `"none"`, `"required"`, or `{"type": "function", "function": {"name": ...}}`."""
Vector = npt.NDArray[np.float32]
TextSink = Callable[[str], None]
"""Receives a reply's text as it is generated, piece by piece (the pieces concatenate to it)."""


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class ToolCall:
    """A tool call a model returned: the function's name and its arguments as JSON text
    (as the model wrote them, not yet parsed or validated)."""

    id: str
    name: str
    arguments: str

    def to_openai(self) -> dict[str, Any]:
        """The call in OpenAI's wire form (an assistant message's `tool_calls` item)."""
        function = {"name": self.name, "arguments": self.arguments}
        return {"id": self.id, "type": "function", "function": function}


@dataclass(frozen=True)
class Completion:
    """One model call's result, with cost computed from our own price table. A reply that
    calls tools has them in `tool_calls` (its text is often empty)."""

    text: str
    model: str
    usage: Usage
    cost_usd: float
    latency_s: float
    finish_reason: str = "stop"
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class EngineReply:
    """What an in-process engine (local llama.cpp, scripted fake) returns for one chat call."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"
    tool_calls: tuple[ToolCall, ...] = ()


class EngineFailure(Exception):
    """Raised by an in-process engine to fail a call as a provider would. `kind` is one of
    rate_limit, timeout, server, connection, auth, bad_request, not_found, context_window."""

    def __init__(self, kind: str, message: str = "engine failure") -> None:
        super().__init__(message)
        self.kind = kind


@runtime_checkable
class ChatModel(Protocol):
    """An async chat model behind the LLM boundary. With `on_text` the reply is streamed:
    its text goes to `on_text` as it is generated, and the Completion is the whole of it.
    `tools`, `tool_choice` and `response_format` are OpenAI's fields, passed to the model
    (`response_format` wins over `json_mode`)."""

    id: str

    async def complete(
        self,
        messages: list[Message],
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_mode: bool = False,
        on_text: TextSink | None = None,
        tools: list[ToolSpec] | None = None,
        tool_choice: ToolChoice | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> Completion: ...


class Engine(Protocol):
    """An in-process chat engine served to litellm as a custom provider (`<provider>/<name>`).
    With `on_text` it streams (`on_text` may be called from a worker thread). An engine that
    cannot honour `tools` or `response_format` raises `EngineFailure("bad_request", ...)`."""

    async def generate(
        self,
        name: str,
        messages: list[Message],
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None,
        json_mode: bool,
        on_text: TextSink | None = None,
        tools: list[ToolSpec] | None = None,
        tool_choice: ToolChoice | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> EngineReply: ...


class Embedder(Protocol):
    """Texts to an L2-normalised float32 matrix of shape (len(texts), dim)."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True)
class RouteDecision:
    """Which model a query goes to, and why: nearest clusters, their weights, per-model scores."""

    model: str
    clusters: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)

    def ranked_models(self) -> list[str]:
        """Models best-first by score; the chosen model first when scores are absent."""
        if not self.scores:
            return [self.model]
        return sorted(self.scores, key=lambda m: (-self.scores[m], m != self.model))


class Router(Protocol):
    """Picks a model for one embedded query. α trades accuracy (1) against cost (0)."""

    embedder_name: str
    models: list[str]

    def route(self, vector: Vector, alpha: float = 1.0) -> RouteDecision: ...


@runtime_checkable
class KnowsBestModel(Protocol):
    """A router that knows which of its models is the most accurate over all its queries."""

    def best_model(self) -> str: ...


@dataclass(frozen=True)
class Selection:
    """An aggregator's choice: the selected sample (None when none was usable) and the tally."""

    index: int | None
    answer: str
    votes: dict[str, int] = field(default_factory=dict)


class Aggregator(Protocol):
    """Chooses one answer among a sub-query's sample answers (ordered by sample_idx)."""

    name: str

    async def aggregate(self, question: str, answers: list[str]) -> Selection: ...

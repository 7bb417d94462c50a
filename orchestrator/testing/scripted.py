"""A scripted chat engine: the offline fake behind `scripted/<name>` model ids.

It is a real implementation of the Engine seam, served to litellm as a custom provider, so
tests exercise the same LLM boundary as production. It records every call it receives.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orchestrator.protocols import (
    EngineFailure,
    EngineReply,
    Message,
    TextSink,
    ToolCall,
    ToolChoice,
    ToolSpec,
)


@dataclass(frozen=True)
class ScriptedCall:
    """One request as it crossed the boundary."""

    model: str
    messages: list[Message]
    temperature: float
    max_tokens: int
    seed: int | None
    json_mode: bool
    tools: list[ToolSpec] | None = None
    tool_choice: ToolChoice | None = None
    response_format: dict[str, Any] | None = None

    @property
    def system(self) -> str:
        return next((str(m["content"]) for m in self.messages if m["role"] == "system"), "")

    @property
    def prompt(self) -> str:
        return str(self.messages[-1]["content"])

    @property
    def tool_names(self) -> list[str]:
        """The names of the functions offered in `tools`."""
        return [t["function"]["name"] for t in self.tools or []]


class ScriptedFailure(EngineFailure):
    """Raised by a responder to make the call fail as a provider would (see `EngineFailure`)."""

    def __init__(self, kind: str, message: str = "scripted failure") -> None:
        super().__init__(kind, message)


Responder = Callable[[ScriptedCall], "str | EngineReply | ToolCall"]


def tool_reply(name: str, arguments: object, call_id: str = "call_1") -> ToolCall:
    """A tool call for a responder to return: `arguments` is sent as JSON text unless it
    already is a string (so malformed arguments can be scripted too)."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ToolCall(call_id, name, text)


def word_pieces(text: str) -> list[str]:
    """The text cut before each word; the pieces concatenate back to it exactly."""
    return [p for p in re.split(r"(?<=\s)(?=\S)", text) if p]


def count_tokens(text: str) -> int:
    """The scripted engine's tokenizer: whitespace-separated words."""
    return len(text.split())


class ScriptedEngine:
    """Answers each call with `responder(call)`; optional fixed latency per call, and per
    piece of a streamed reply."""

    def __init__(
        self, responder: Responder, delay_s: float = 0.0, piece_delay_s: float = 0.0
    ) -> None:
        self.responder = responder
        self.delay_s = delay_s
        self.piece_delay_s = piece_delay_s
        self.calls: list[ScriptedCall] = []

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
    ) -> EngineReply:
        """The responder's reply; streamed word by word to `on_text` when given. A `ToolCall`
        from the responder is the reply's one tool call."""
        call = ScriptedCall(
            name,
            messages,
            temperature,
            max_tokens,
            seed,
            json_mode,
            tools,
            tool_choice,
            response_format,
        )
        self.calls.append(call)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        reply = self._reply(call)
        if on_text is not None:
            for piece in word_pieces(reply.text):
                on_text(piece)
                await asyncio.sleep(self.piece_delay_s)  # each piece in a step of its own
        return reply

    def _reply(self, call: ScriptedCall) -> EngineReply:
        reply = self.responder(call)
        if isinstance(reply, EngineReply):
            return reply
        prompt_tokens = sum(count_tokens(str(m["content"])) for m in call.messages)
        if isinstance(reply, ToolCall):
            tokens = count_tokens(reply.arguments)
            return EngineReply("", prompt_tokens, tokens, "tool_calls", (reply,))
        words = reply.split(" ")
        finish = "length" if count_tokens(reply) > call.max_tokens else "stop"
        text = " ".join(words[: call.max_tokens]) if finish == "length" else reply
        return EngineReply(text, prompt_tokens, min(count_tokens(reply), call.max_tokens), finish)

    def calls_to(self, model: str) -> list[ScriptedCall]:
        return [c for c in self.calls if c.model == model]

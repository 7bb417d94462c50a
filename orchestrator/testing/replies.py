"""What the fake OpenAI server answers and records: scripted `Reply`s, the `Request`s it saw,
and their OpenAI wire bodies (a chat completion, SSE stream frames)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.protocols import ToolCall


@dataclass(frozen=True)
class Reply:
    """One scripted behaviour. Build it with the class methods."""

    status: int = 200
    text: str = "Answer: ok"
    finish_reason: str = "stop"
    prompt_tokens: int = 10
    completion_tokens: int = 5
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: str | None = None  # sent verbatim instead of a completion (malformed bodies)
    empty_choices: bool = False
    truncate_stream_after: int | None = None  # SSE: drop the connection after n chunks
    tool_calls: tuple[ToolCall, ...] = ()  # the reply calls these tools

    @classmethod
    def tool_call(cls, name: str, arguments: object, call_id: str = "call_1") -> Reply:
        """A reply that calls one tool (`arguments` sent as JSON unless already text)."""
        text = arguments if isinstance(arguments, str) else json.dumps(arguments)
        return cls(text="", finish_reason="tool_calls", tool_calls=(ToolCall(call_id, name, text),))

    @classmethod
    def ok(cls, text: str = "Answer: ok", **kw: Any) -> Reply:
        return cls(text=text, **kw)

    @classmethod
    def error(
        cls,
        status: int,
        message: str = "scripted error",
        *,
        retry_after: float | None = None,
        delay_s: float = 0.0,
    ) -> Reply:
        body = {"error": {"message": message, "type": error_type(status), "code": status}}
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return cls(status=status, raw_body=json.dumps(body), headers=headers, delay_s=delay_s)

    @classmethod
    def malformed(cls, body: str = '{"id": "chatcmpl-x", "choices": [') -> Reply:
        return cls(raw_body=body)

    @classmethod
    def no_choices(cls) -> Reply:
        return cls(empty_choices=True)

    @classmethod
    def length(cls, text: str = "Answer: cut off mid", **kw: Any) -> Reply:
        return cls(text=text, finish_reason="length", **kw)

    @classmethod
    def hang(cls, seconds: float = 60.0) -> Reply:
        return cls(delay_s=seconds)

    @classmethod
    def truncated_stream(cls, text: str = "Answer: never finished", after: int = 2) -> Reply:
        return cls(text=text, truncate_stream_after=after)


def error_type(status: int) -> str:
    return {
        400: "invalid_request_error",
        401: "authentication_error",
        404: "not_found_error",
        429: "rate_limit_error",
    }.get(status, "server_error")


@dataclass(frozen=True)
class Request:
    """One request as it reached the server."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    received_at: float  # time.monotonic()

    @property
    def model(self) -> str:
        return str((self.body or {}).get("model", ""))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))

    @property
    def system(self) -> str:
        return next((str(m["content"]) for m in self.messages if m["role"] == "system"), "")

    @property
    def prompt(self) -> str:
        return str(self.messages[-1]["content"]) if self.messages else ""

    def get(self, key: str) -> Any:
        """A field of the JSON body (seed, temperature, max_tokens, stream, ...)."""
        return (self.body or {}).get(key)


Responder = Callable[[Request], "Reply | None"]


def completion(request: Request, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.tool_calls:
        message["content"] = reply.text or None
        message["tool_calls"] = [call.to_openai() for call in reply.tool_calls]
    choices = (
        []
        if reply.empty_choices
        else [{"index": 0, "finish_reason": reply.finish_reason, "message": message}]
    )
    usage = {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": choices,
        "usage": usage,
    }


def stream_events(request: Request, reply: Reply) -> list[str]:
    """SSE frames: one chunk per word, then the finish reason with usage, then [DONE]."""
    base = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.model,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return f"data: {json.dumps({**base, 'choices': [choice], **extra})}\n\n"

    words = reply.text.split(" ")
    frames = [chunk({"role": "assistant", "content": ""})]
    if reply.text or not reply.tool_calls:
        frames += [chunk({"content": w if i == 0 else " " + w}) for i, w in enumerate(words)]
    for n, call in enumerate(reply.tool_calls):  # name first, then the arguments in two parts
        half = len(call.arguments) // 2
        start = {"index": n, "id": call.id, "type": "function"}
        frames.append(
            chunk({"tool_calls": [{**start, "function": {"name": call.name, "arguments": ""}}]})
        )
        for part in (call.arguments[:half], call.arguments[half:]):
            frames.append(chunk({"tool_calls": [{"index": n, "function": {"arguments": part}}]}))
    frames.append(chunk({}, reply.finish_reason, usage=completion(request, reply)["usage"]))
    return [*frames, "data: [DONE]\n\n"]

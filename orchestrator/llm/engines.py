"""In-process engines (local llama.cpp models, the scripted fake) served to litellm as custom
providers: the half that needs no litellm. The registry of engines by provider, one
generation from litellm's optional params, and streamed text handed from the engine's
thread to the event loop as litellm stream chunks. The boundary's `CustomLLM` handler
calls these and turns an `EngineFailure` into litellm's exception of that kind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from orchestrator.protocols import Engine, EngineReply, Message, TextSink

ENGINES: dict[str, Engine] = {}


async def generate(
    provider: str, model: str, messages: list[Any], kw: dict[str, Any], on_text: TextSink | None
) -> EngineReply:
    """One generation by the engine registered for `provider`, with litellm's request `kw`."""
    params = kw.get("optional_params") or {}
    response_format = params.get("response_format")
    return await ENGINES[provider].generate(
        model,
        [engine_message(m) for m in messages],
        temperature=float(params.get("temperature", 0.0)),
        max_tokens=int(params.get("max_tokens", 256)),
        seed=params.get("seed"),
        json_mode=(response_format or {}).get("type") in ("json_object", "json_schema"),
        on_text=on_text,
        tools=params.get("tools") or None,
        tool_choice=params.get("tool_choice"),
        response_format=response_format,
    )


def engine_message(message: Any) -> Message:
    """A plain copy of a chat message: role and text content (never None), and the tool
    calls or tool call id of a tool-calling conversation."""
    out: Message = {"role": message["role"], "content": str(message.get("content") or "")}
    for key in ("tool_calls", "tool_call_id", "name"):
        if message.get(key):
            out[key] = message[key]
    return out


async def stream_chunks(
    produce: Callable[[TextSink], Awaitable[EngineReply]],
) -> AsyncIterator[dict[str, Any]]:
    """`produce(on_text)`'s text as litellm stream chunks, as it is generated, then the
    finish reason and usage."""
    loop = asyncio.get_running_loop()
    pieces: asyncio.Queue[str | None] = asyncio.Queue()

    def pass_on(text: str) -> None:  # engines may call it from a worker thread
        loop.call_soon_threadsafe(pieces.put_nowait, text)

    task = asyncio.ensure_future(produce(pass_on))
    task.add_done_callback(lambda _: loop.call_soon_threadsafe(pieces.put_nowait, None))
    try:
        while (piece := await pieces.get()) is not None:
            yield _chunk(piece)
        reply = await task
    finally:
        task.cancel()
    for n, call in enumerate(reply.tool_calls):  # the calls, whole, once the text is done
        yield _chunk("", tool_use={**call.to_openai(), "index": n})
    usage = {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }
    yield _chunk("", reply.finish_reason, usage)


def _chunk(
    text: str,
    finish: str = "",
    usage: dict[str, int] | None = None,
    tool_use: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One litellm GenericStreamingChunk."""
    return {
        "text": text,
        "is_finished": bool(finish),
        "finish_reason": finish,
        "usage": usage,
        "index": 0,
        "tool_use": tool_use,
    }

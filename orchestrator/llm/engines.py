"""In-process engines (local llama.cpp models, the scripted fake) served to litellm as custom
providers: the half that needs no litellm. The registry of engines by provider, one
generation from litellm's optional params, and streamed text handed from the engine's
thread to the event loop as litellm stream chunks. The boundary's `CustomLLM` handler
calls these and turns an `EngineFailure` into litellm's exception of that kind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from orchestrator.protocols import Engine, EngineReply, TextSink

ENGINES: dict[str, Engine] = {}


async def generate(
    provider: str, model: str, messages: list[Any], kw: dict[str, Any], on_text: TextSink | None
) -> EngineReply:
    """One generation by the engine registered for `provider`, with litellm's request `kw`."""
    params = kw.get("optional_params") or {}
    return await ENGINES[provider].generate(
        model,
        [{"role": m["role"], "content": str(m["content"])} for m in messages],
        temperature=float(params.get("temperature", 0.0)),
        max_tokens=int(params.get("max_tokens", 256)),
        seed=params.get("seed"),
        json_mode=bool(params.get("response_format")),
        on_text=on_text,
    )


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
    usage = {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }
    yield _chunk("", reply.finish_reason, usage)


def _chunk(text: str, finish: str = "", usage: dict[str, int] | None = None) -> dict[str, Any]:
    """One litellm GenericStreamingChunk."""
    return {
        "text": text,
        "is_finished": bool(finish),
        "finish_reason": finish,
        "usage": usage,
        "index": 0,
        "tool_use": None,
    }

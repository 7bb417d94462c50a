"""Response bodies: the `chat.completion` object, and the Server-Sent Events of a streamed
run (progress as SSE comments, the answer as content chunks, usage, then `[DONE]`)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from orchestrator.api import EventHandler
from orchestrator.server_runs import Outcome, describe_error

RunStarter = Callable[[EventHandler], Awaitable[Outcome]]
_END = object()


def completion_body(outcome: Outcome, created: int) -> dict[str, Any]:
    """The non-streaming response, with the trace in the `orchestrator` extension field."""
    choice = {"index": 0, "finish_reason": outcome.finish_reason,
              "message": {"role": "assistant", "content": outcome.text}}  # fmt: skip
    return {
        "id": f"chatcmpl-{outcome.run_id}", "object": "chat.completion", "created": created,
        "model": outcome.model, "choices": [choice], "usage": outcome.usage,
        "orchestrator": outcome.extension,
    }  # fmt: skip


def text_pieces(text: str) -> list[str]:
    """The answer cut at word starts; the pieces concatenate back to the text exactly."""
    return [p for p in re.split(r"(?<=\s)(?=\S)", text) if p]


def _data(payload: dict[str, Any] | str) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n"


def progress_comment(event: dict[str, Any]) -> str:
    """One progress event as an SSE comment line (`: {...}`); clients that do not look for
    progress ignore comments, as the SSE format requires."""
    return f": {json.dumps(event, default=str)}\n\n"


def answer_frames(outcome: Outcome, created: int, include_usage: bool) -> list[str]:
    """Role chunk, content chunks, the finish chunk (with the trace), usage, [DONE]."""
    base = {"id": f"chatcmpl-{outcome.run_id}", "object": "chat.completion.chunk",
            "created": created, "model": outcome.model}  # fmt: skip

    def chunk(delta: dict[str, str], finish: str | None = None, **extra: Any) -> str:
        return _data({**base, "choices": [{"index": 0, "delta": delta,
                                           "finish_reason": finish}], **extra})  # fmt: skip

    frames = [chunk({"role": "assistant", "content": ""})]
    frames += [chunk({"content": piece}) for piece in text_pieces(outcome.text)]
    frames.append(chunk({}, outcome.finish_reason, orchestrator=outcome.extension))
    if include_usage:
        frames.append(_data({**base, "choices": [], "usage": outcome.usage}))
    return [*frames, _data("[DONE]")]


def error_frames(exc: BaseException) -> list[str]:
    """A failure after the stream started: an OpenAI-style error event, then [DONE]."""
    from orchestrator.server_requests import ApiError

    if isinstance(exc, ApiError):
        body = exc.body()
    else:
        _, kind, code = describe_error(exc)
        message = str(exc) if kind != "server_error" else "internal error"
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return [_data(body), _data("[DONE]")]


async def stream_run(start: RunStarter, created: int, include_usage: bool) -> AsyncIterator[str]:
    """Run `start(on_event)` in its own task and stream it. When the client goes away the
    server cancels this generator, and the `finally` cancels the run's pending calls."""
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def run() -> Outcome:
        try:
            return await start(queue.put_nowait)
        finally:
            queue.put_nowait(_END)

    task = asyncio.create_task(run())
    try:
        while (event := await queue.get()) is not _END:
            yield progress_comment(event)
        try:
            outcome = await task
        except Exception as exc:
            for frame in error_frames(exc):
                yield frame
            return
        for frame in answer_frames(outcome, created, include_usage):
            yield frame
    finally:
        task.cancel()

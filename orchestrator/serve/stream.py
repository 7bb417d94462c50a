"""Response bodies: the `chat.completion` object, and the Server-Sent Events of a streamed
run: progress as SSE comments, the synthesis as it is written (`reasoning_content` deltas)
with its answer line as `content` deltas, the finish chunk, usage, then `[DONE]`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from orchestrator.api import EventHandler
from orchestrator.graph.aggregation import extract_answer, has_answer_line
from orchestrator.serve.runs import Outcome, describe_error

RunStarter = Callable[[EventHandler], Awaitable[Outcome]]
_END = object()


def completion_body(outcome: Outcome, created: int) -> dict[str, Any]:
    """The non-streaming response, with the trace in the `orchestrator` extension field."""
    message: dict[str, Any] = {"role": "assistant", "content": outcome.text}
    if outcome.tool_calls:
        message["content"] = outcome.text or None
        message["tool_calls"] = [call.to_openai() for call in outcome.tool_calls]
    choice = {"index": 0, "finish_reason": outcome.finish_reason, "message": message}
    return {
        "id": f"chatcmpl-{outcome.run_id}",
        "object": "chat.completion",
        "created": created,
        "model": outcome.model,
        "choices": [choice],
        "usage": outcome.usage,
        "orchestrator": outcome.extension,
    }


def _data(payload: dict[str, Any] | str) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n"


def progress_comment(event: dict[str, Any]) -> str:
    """One progress event as an SSE comment line (`: {...}`); clients that do not look for
    progress ignore comments, as the SSE format requires."""
    return f": {json.dumps(event, default=str)}\n\n"


class AnswerStream:
    """The answer inside a synthesis that is still being written: what follows its
    `Answer:` line, read as the final answer is, passed on as it grows. A piece that would
    not extend what was sent (a second answer line, an unclosed \\boxed{) is held back."""

    def __init__(self) -> None:
        self.text = ""
        self.sent = ""

    def feed(self, piece: str) -> str:
        self.text += piece
        answer = extract_answer(self.text) if has_answer_line(self.text) else ""
        return self._extend(answer) if "\\boxed" not in answer else ""

    def verbatim(self, piece: str) -> str:
        """A piece of an answer that is the whole reply (a pass-through call)."""
        self.sent += piece
        return piece

    def finish(self, answer: str) -> str:
        """The rest of the final answer, if what was sent is its beginning."""
        return self._extend(answer)

    def _extend(self, answer: str) -> str:
        if not answer.startswith(self.sent):
            return ""
        new, self.sent = answer[len(self.sent) :], answer
        return new


class ChunkWriter:
    """The `chat.completion.chunk` frames of one streamed response. The role chunk goes
    first, once the model is known: the routed models when the routes are in, else `model`."""

    def __init__(self, run_id: str, created: int, model: str) -> None:
        self.base = {
            "id": f"chatcmpl-{run_id}",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
        }
        self.routed: list[str] = []
        self.answer = AnswerStream()
        self.started = False

    def chunk(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> list[str]:
        frames = [] if self.started else self._role()
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return [*frames, _data({**self.base, "choices": [choice], **extra})]

    def _role(self) -> list[str]:
        self.started = True
        if self.routed:
            self.base["model"] = "+".join(self.routed)
        return self.chunk({"role": "assistant", "content": ""})

    def event(self, event: dict[str, Any]) -> list[str]:
        """A run event: synthesis or pass-through text as chunks, anything else a comment."""
        if event.get("event") != "token":
            if event.get("event") == "route" and event["model"] not in self.routed:
                self.routed.append(event["model"])
            return [progress_comment(event)]
        if event.get("stage") == "passthrough":
            return self.chunk({"content": self.answer.verbatim(event["text"])})
        frames = self.chunk({"reasoning_content": event["text"]})
        if content := self.answer.feed(event["text"]):
            frames += self.chunk({"content": content})
        return frames

    def end(self, outcome: Outcome, include_usage: bool) -> list[str]:
        """The rest of the answer, the finish chunk (with the trace and the final answer),
        usage when asked for, then [DONE]."""
        if not self.started:
            self.routed = [outcome.model]
        rest = self.answer.finish(outcome.text)
        frames = self.chunk({"content": rest}) if rest else []
        for n, call in enumerate(outcome.tool_calls):  # each call whole, in one delta
            frames += self.chunk({"tool_calls": [{"index": n, **call.to_openai()}]})
        self.base["model"] = outcome.model
        extension = {**outcome.extension, "answer": outcome.text}
        frames += self.chunk({}, outcome.finish_reason, orchestrator=extension)
        if include_usage:
            frames.append(_data({**self.base, "choices": [], "usage": outcome.usage}))
        return [*frames, _data("[DONE]")]


def error_frames(exc: BaseException) -> list[str]:
    """A failure after the stream started: an OpenAI-style error event, then [DONE]."""
    from orchestrator.serve.requests import ApiError

    if isinstance(exc, ApiError):
        body = exc.body()
    else:
        _, kind, code = describe_error(exc)
        message = str(exc) if kind != "server_error" else "internal error"
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return [_data(body), _data("[DONE]")]


async def stream_run(
    start: RunStarter, chunks: ChunkWriter, include_usage: bool
) -> AsyncIterator[str]:
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
            for frame in chunks.event(event):
                yield frame
        try:
            outcome = await task
        except Exception as exc:
            for frame in error_frames(exc):
                yield frame
            return
        for frame in chunks.end(outcome, include_usage):
            yield frame
    finally:
        task.cancel()

"""Calls shared between the configurations of one sweep.

Configurations of a sweep make many identical requests: every one of them asks the same plan,
width 4 makes width 2's two samples and two more (a sample's seed depends on its index, not
on the width), and depth 2 repeats depth 1's draft, critique and revision before its own
round. `SharedCalls` answers a request already made in the sweep (same model, messages,
sampling parameters and seed) with that call's completion instead of a new call, so a nested
sweep costs about its largest member. Tokens and cost are still counted where the completion
is used, so each configuration's accounting is what it would be alone.

With the local engine this changes no answer: its reply depends only on the request. With
hosted models the configurations are paired on the same draws rather than independent.
Wall-clock latencies shrink where calls were reused; rows count those calls.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from orchestrator.protocols import ChatModel, Completion, Message, TextSink, ToolChoice, ToolSpec

_reused_here: ContextVar[list[Completion] | None] = ContextVar("reused_here", default=None)


def request_key(
    model: str,
    messages: list[Message],
    temperature: float,
    max_tokens: int,
    seed: int | None,
    json_mode: bool,
    *tool_fields: Any,
) -> str:
    """Everything that decides a reply, hashed (`tool_fields`: tools, tool choice and
    response format, where given)."""
    request = [model, messages, temperature, max_tokens, seed, json_mode]
    if tool_fields:
        request.append(list(tool_fields))
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


class SharedCalls:
    """Completions by request, for every model it wraps. Identical requests in flight at the
    same time wait for the first; a failed call is not kept, so the next one tries again."""

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self._done: dict[str, Completion] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def wrap(self, model: ChatModel) -> ChatModel:
        return SharingModel(model, self)

    async def complete(
        self,
        model: ChatModel,
        messages: list[Message],
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_mode: bool = False,
        on_text: TextSink | None = None,
        **tool_fields: Any,
    ) -> Completion:
        """`tool_fields`: the tools, tool_choice and response_format given (not None)."""
        extra = {k: tool_fields[k] for k in sorted(tool_fields)}
        key = request_key(
            model.id, messages, temperature, max_tokens, seed, json_mode, *extra.items()
        )
        async with self._locks.setdefault(key, asyncio.Lock()):
            done = self._done.get(key)
            if done is None:
                done = await model.complete(
                    messages,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    seed=seed,
                    json_mode=json_mode,
                    on_text=on_text,
                    **extra,
                )
                self._keep(key, done)
                return done
        if on_text is not None:
            on_text(done.text)
        reused = _reused_here.get()
        if reused is not None:
            reused.append(done)
        return done

    def _keep(self, key: str, completion: Completion) -> None:
        self._done[key] = completion
        while len(self._done) > self.capacity:  # the oldest go first
            oldest = next(iter(self._done))
            del self._done[oldest]
            self._locks.pop(oldest, None)


class SharingModel:
    """A ChatModel whose calls go through a `SharedCalls`."""

    def __init__(self, inner: ChatModel, shared: SharedCalls) -> None:
        self.inner, self.shared, self.id = inner, shared, inner.id

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
    ) -> Completion:
        fields = {"tools": tools, "tool_choice": tool_choice, "response_format": response_format}
        return await self.shared.complete(
            self.inner,
            messages,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            json_mode=json_mode,
            on_text=on_text,
            **{k: v for k, v in fields.items() if v is not None},  # older models lack them
        )


@contextmanager
def counting_reuse() -> Iterator[list[Completion]]:
    """Collects the completions reused by calls made inside the block (and the tasks it
    starts), whichever `SharedCalls` served them."""
    reused: list[Completion] = []
    token = _reused_here.set(reused)
    try:
        yield reused
    finally:
        _reused_here.reset(token)

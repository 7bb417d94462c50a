"""The runtime context: every dependency a node needs (models, embedder, router, budget,
settings) arrives through it, never through module globals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from orchestrator.config import Config
from orchestrator.errors import BudgetExhausted
from orchestrator.graph.budget import Budget
from orchestrator.graph.state import CallRecord
from orchestrator.graph.toolbox import Toolbox
from orchestrator.protocols import (
    Aggregator,
    ChatModel,
    Completion,
    Embedder,
    KnowsBestModel,
    Message,
    Router,
    TextSink,
    ToolChoice,
    ToolSpec,
)


@dataclass
class RunContext:
    config: Config
    models: dict[str, ChatModel]
    embedder: Embedder
    router: Router
    aggregator: Aggregator
    budget: Budget
    width: int
    temperature: float
    alpha: float = 1.0
    seed: int = 0
    depth: int = 0
    budget_tokens: int | None = None
    stream_tokens: bool = False  # stream the synthesis text as `token` events
    side_calls: list[CallRecord] = field(default_factory=list)
    toolbox: Toolbox | None = None  # capabilities a sub-query may be routed to

    def __post_init__(self) -> None:
        # Model calls in flight are capped here rather than by LangGraph's max_concurrency,
        # which would also queue the checkpoint writes of finished branches behind them.
        self.slots = asyncio.Semaphore(self.config.graph.max_concurrency)

    @property
    def planner_model(self) -> str:
        return planner_of(self.config, self.router, self.alpha, self.models)

    @property
    def synthesizer_model(self) -> str:
        return synthesizer_of(self.config, self.router, self.alpha, self.models)

    async def call(
        self,
        model_id: str,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        seed: int | None = None,
        json_mode: bool = False,
        on_text: TextSink | None = None,
        tools: list[ToolSpec] | None = None,
        tool_choice: ToolChoice | None = None,
    ) -> Completion:
        """One metered model call: reserve the worst case, call, settle the actual cost."""
        extra: dict[str, Any] = {"tools": tools, "tool_choice": tool_choice} if tools else {}
        async with self.slots:
            reservation = self.budget.reserve(self.config.model(model_id), messages, max_tokens)
            completion = None
            try:
                completion = await self.models[model_id].complete(
                    messages,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    seed=seed,
                    json_mode=json_mode,
                    on_text=on_text,
                    **extra,  # only when asked: not every ChatModel takes tools
                )
            finally:
                self.budget.settle(reservation, completion)
        return completion

    async def judge(self, messages: list[Message]) -> str:
        """One metered judge call (the synthesizer model). Its trace entry waits in
        `side_calls` until the aggregate node moves it into the state."""
        model = self.synthesizer_model
        try:
            completion = await self.call(
                model, messages, max_tokens=self.config.graph.judge_max_tokens
            )
        except Exception as exc:
            status = "budget_exhausted" if isinstance(exc, BudgetExhausted) else "error"
            self.side_calls.append(call_record("judge", model, None, str(exc), status))
            raise
        self.side_calls.append(call_record("judge", model, completion))
        return completion.text


def planner_of(config: Config, router: Router, alpha: float, pool: Collection[str]) -> str:
    """The configured planner; else, when routing for accuracy (α ≥ 0.5), the router's most
    accurate model of the pool (a weaker planner or synthesizer loses what the routed steps
    found); else the default model."""
    configured = config.graph.planner_model
    if configured is None and alpha >= 0.5 and isinstance(router, KnowsBestModel):
        best = router.best_model()
        configured = best if best in pool else None
    return configured or config.default_model


def synthesizer_of(config: Config, router: Router, alpha: float, pool: Collection[str]) -> str:
    """The configured synthesizer, else the planner (`planner_of`)."""
    return config.graph.synthesizer_model or planner_of(config, router, alpha, pool)


def token_sink(emit: Callable[[dict[str, Any]], None], stage: str) -> TextSink:
    """Pieces of a reply being written, passed to `emit` as `token` events of `stage`."""
    return lambda text: emit({"event": "token", "stage": stage, "text": text})


def call_record(
    stage: str,
    model: str,
    completion: Completion | None,
    error: str | None = None,
    status: str | None = None,
) -> CallRecord:
    """The trace entry for one call (a failed call has no completion and costs nothing)."""
    usage = completion.usage if completion else None
    return {
        "stage": stage,
        "model": completion.model if completion else model,
        "prompt_tokens": usage.prompt_tokens if usage else 0,
        "completion_tokens": usage.completion_tokens if usage else 0,
        "cost_usd": completion.cost_usd if completion else 0.0,
        "latency_s": completion.latency_s if completion else 0.0,
        "status": status or ("ok" if completion else "error"),
        "error": error,
    }

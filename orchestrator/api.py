"""The Python API: `Orchestrator.from_config(...)`, then `ask()` / `aask()`."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.aggregation import make_aggregator
from orchestrator.budget import Budget
from orchestrator.config import Config, load_config
from orchestrator.context import RunContext
from orchestrator.errors import InputError
from orchestrator.results import Answer, answer_from_state
from orchestrator.seams import ChatModel, Embedder, Router

EventHandler = Callable[[dict[str, Any]], None]


class Orchestrator:
    """Answers questions with a compiled graph over a configured model pool."""

    def __init__(
        self,
        config: Config,
        *,
        graph: Any,
        models: dict[str, ChatModel],
        embedder: Embedder,
        router: Router,
    ) -> None:
        self.config = config
        self.graph = graph
        self.models = models
        self.embedder = embedder
        self.router = router

    @classmethod
    def from_config(
        cls,
        config: Config | str | Path | None = None,
        *,
        graph: str = "wide",
        embedder: Embedder | None = None,
        router: Router | None = None,
    ) -> Orchestrator:
        """Build everything the config names; unknown models or missing packages fail here."""
        from orchestrator.embedding import make_embedder
        from orchestrator.llm import make_chat_model
        from orchestrator.topology import load_graph

        cfg = config if isinstance(config, Config) else load_config(config)
        models: dict[str, ChatModel] = {m.id: make_chat_model(m) for m in cfg.models}
        embedder = embedder or make_embedder(cfg.embedder.name)
        router = router or _default_router(cfg)
        return cls(cfg, graph=load_graph(graph), models=models, embedder=embedder, router=router)

    def _context(self, width: int | None) -> RunContext:
        cfg = self.config
        return RunContext(
            config=cfg,
            models=self.models,
            embedder=self.embedder,
            router=self.router,
            aggregator=make_aggregator(cfg.graph.aggregator),
            budget=Budget(cfg.budget),
            width=width or cfg.graph.width,
            temperature=cfg.graph.temperature,
            alpha=cfg.router.alpha,
        )

    async def aask(
        self,
        question: str,
        *,
        width: int | None = None,
        context: str | None = None,
        on_event: EventHandler | None = None,
    ) -> Answer:
        """Answer one question; progress events go to `on_event` as they happen."""
        text = check_question(question, self.config, width)
        run_id = uuid.uuid4().hex[:12]
        ctx = self._context(width)
        inputs: dict[str, Any] = {"question": text, "samples": [], "steps": {}, "calls": []}
        if context:
            inputs["context"] = context
        started = time.perf_counter()
        state: dict[str, Any] = {}
        config = {"configurable": {"thread_id": run_id},
                  "max_concurrency": self.config.graph.max_concurrency}  # fmt: skip
        async for mode, chunk in self.graph.astream(
            inputs, config=config, context=ctx, stream_mode=["custom", "values"]
        ):
            if mode == "values":
                state = chunk
            elif on_event is not None:
                on_event(chunk)
        return answer_from_state(state, time.perf_counter() - started, run_id)

    def ask(self, question: str, **kwargs: Any) -> Answer:
        """Synchronous `aask`."""
        return asyncio.run(self.aask(question, **kwargs))


def check_question(question: str, config: Config, width: int | None = None) -> str:
    """The question, stripped; empty or over-long questions and bad widths are input errors."""
    text = question.strip()
    if not text:
        raise InputError("the question is empty")
    limit = config.graph.max_question_chars
    if len(text) > limit:
        raise InputError(f"the question is {len(text)} characters long; the limit is {limit}")
    if width is not None and not 1 <= width <= 64:
        raise InputError(f"width must be between 1 and 64, not {width}")
    return text


def _default_router(cfg: Config) -> Router:
    from orchestrator.routing import FixedRouter

    return FixedRouter(cfg.default_model, cfg.embedder.name)

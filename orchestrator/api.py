"""The Python API: `Orchestrator.from_config(...)`, then `ask()` / `aask()`."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.config import Config, load_config
from orchestrator.errors import InputError
from orchestrator.graph.aggregation import make_aggregator
from orchestrator.graph.budget import Budget
from orchestrator.graph.context import RunContext
from orchestrator.graph.runs import RunStore, paused_state, resume_input, spent_of
from orchestrator.graph.runs import checkpointer as checkpointer  # tests and callers use it
from orchestrator.graph.shape import check_shape, run_limits
from orchestrator.protocols import ChatModel, Embedder, Router
from orchestrator.results import Answer, answer_from_state

if TYPE_CHECKING:
    from langchain_core.tools import StructuredTool

    from orchestrator.agents.subgraph import MessagesGraph
    from orchestrator.agents.toolbox import CapabilityToolbox
    from orchestrator.capabilities.router import CapabilityRouter

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
        toolbox: CapabilityToolbox | None = None,
    ) -> None:
        self.config = config
        self.graph = graph
        self.models = models
        self.embedder = embedder
        self.router = router
        self.toolbox = toolbox
        self._runs = RunStore()

    @classmethod
    def from_config(
        cls,
        config: Config | str | Path | None = None,
        *,
        graph: str = "wide",
        embedder: Embedder | None = None,
        router: Router | None = None,
        capabilities: CapabilityRouter | CapabilityToolbox | None = None,
        tools: dict[str, Any] | None = None,
    ) -> Orchestrator:
        """Build everything the config names; unknown models or missing packages fail here.
        `capabilities` (a capability router, else `[capability_router] artifact`; or a
        `CapabilityToolbox`) routes sub-queries to tools; `tools` maps ids to callables."""
        from orchestrator.agents.toolbox import make_toolbox
        from orchestrator.embeddings.embedders import make_embedder
        from orchestrator.graph.loading import load_graph
        from orchestrator.llm.boundary import make_chat_model
        from orchestrator.routing.shipped import default_router

        cfg = config if isinstance(config, Config) else load_config(config)
        models: dict[str, ChatModel] = {m.id: make_chat_model(m) for m in cfg.models}
        embedder = embedder or make_embedder(cfg.embedder.name)
        router = router or default_router(cfg, embedder)
        toolbox = make_toolbox(capabilities, embedder, tools, cfg.capability_router)
        parts: dict[str, Any] = {
            "models": models,
            "embedder": embedder,
            "router": router,
            "toolbox": toolbox,
        }
        return cls(cfg, graph=load_graph(graph), **parts)

    def _context(
        self,
        width: int | None,
        spent: list[dict[str, Any]] | None = None,
        depth: int | None = None,
        budget_tokens: int | None = None,
        seed: int = 0,
        stream_tokens: bool = False,
    ) -> RunContext:
        cfg = self.config
        budget = Budget(run_limits(cfg.budget, cfg.graph, budget_tokens))
        budget.absorb(spent or [])
        ctx = RunContext(
            config=cfg,
            models=self.models,
            embedder=self.embedder,
            router=self.router,
            aggregator=make_aggregator("vote"),
            budget=budget,
            width=width or cfg.graph.width,
            temperature=cfg.graph.temperature,
            alpha=cfg.router.alpha,
            depth=cfg.graph.depth if depth is None else depth,
            budget_tokens=budget_tokens,
            seed=seed,
            stream_tokens=stream_tokens,
            toolbox=self.toolbox.for_run() if self.toolbox else None,
        )
        ctx.aggregator = make_aggregator(cfg.graph.aggregator, judge=ctx.judge)
        return ctx

    async def aask(
        self,
        question: str,
        *,
        width: int | None = None,
        depth: int | None = None,
        budget_tokens: int | None = None,
        context: str | None = None,
        on_event: EventHandler | None = None,
        run_id: str | None = None,
        store: str | Path | None = None,
        seed: int | None = None,
        inside_graph: bool = False,
    ) -> Answer:
        """Answer one question; progress events go to `on_event` as they happen, the
        synthesis text among them (`{"event": "token", "text": ...}`) as it is generated.

        With `store` (a SQLite file) every step is checkpointed as it completes, so an
        interrupted run can be finished with `aresume(run_id, store=...)`. `depth` (deep
        graphs) and `budget_tokens` (completion tokens the graph divides between width and
        depth) default to the config's. `seed` is the base every sample's seed derives from.
        `inside_graph=True`, awaited in a LangGraph node, runs as its subgraph: the parent's
        checkpointer, interrupts and stream (`subgraphs=True`) apply, not store or on_event."""
        if inside_graph and (store or run_id or on_event):
            raise InputError("a run inside a graph uses the graph's checkpointer and stream")
        check_shape(depth, budget_tokens)
        inputs = self._inputs(check_question(question, self.config, width), width, depth)
        inputs["budget_tokens"] = budget_tokens or self.config.graph.budget_tokens
        inputs["seed"] = seed or 0
        if context:
            inputs["context"] = context
        run = _Run(None if inside_graph else run_id or new_run_id(), on_event, store)
        shape = (inputs["width"], None, inputs["depth"], inputs["budget_tokens"])
        ctx = self._context(*shape, inputs["seed"], on_event is not None or inside_graph)
        return await self._execute(run, inputs, ctx)

    def _inputs(self, text: str, width: int | None, depth: int | None) -> dict[str, Any]:
        graph = self.config.graph
        return {
            "question": text,
            "samples": [],
            "steps": {},
            "calls": [],
            "width": width or graph.width,
            "depth": graph.depth if depth is None else depth,
        }

    async def aresume(
        self,
        run_id: str,
        *,
        store: str | Path | None = None,
        on_event: EventHandler | None = None,
        approve: bool | None = None,
    ) -> Answer:
        """Finish an interrupted run: completed model calls and tool steps are not made again.
        A run paused for approval goes on with `approve=True` (the pending call runs) or
        `False` (refused, recorded, the sub-query answered without it). Without `store`, a
        run paused in this orchestrator's memory."""
        run = _Run(run_id, on_event, store)
        async with self._runs.open(store, self.toolbox is not None) as saver:
            if saver is None:
                raise InputError("resume needs the run's store (a SQLite file)")
            graph = self.graph.copy(update={"checkpointer": saver})
            snapshot = await graph.aget_state({"configurable": {"thread_id": run_id}})
        values = snapshot.values
        if not values:
            raise InputError(f"no run {run_id!r} in {store or 'memory'}")
        ctx = self._context(
            values.get("width"),
            spent_of(values),
            values.get("depth"),
            values.get("budget_tokens"),
            values.get("seed", 0),
            on_event is not None,
        )
        return await self._execute(run, resume_input(approve), ctx)

    async def _execute(self, run: _Run, inputs: Any, ctx: RunContext) -> Answer:
        """Run to the end or to a pause; the tools the run started stop with it."""
        started = time.perf_counter()
        # No run id: the ambient config of the LangGraph node that awaits this run.
        config = {"configurable": {"thread_id": run.run_id}} if run.run_id else None
        try:
            async with self._runs.open(run.store, bool(self.toolbox and run.run_id)) as saver:
                if saver is None:
                    state = await self._stream(self.graph, inputs, config, ctx, run)
                else:
                    graph = self.graph.copy(update={"checkpointer": saver})
                    await self._stream(graph, inputs, config, ctx, run)
                    state = paused_state(await graph.aget_state(config))
                    await self._runs.release(saver, run.run_id, state)
        finally:
            if ctx.toolbox is not None:
                await ctx.toolbox.close()
        return answer_from_state(state, time.perf_counter() - started, run.run_id)

    async def _stream(
        self,
        graph: Any,
        inputs: Any,  # the run's first state, None to go on, or a Command resuming it
        config: dict[str, Any] | None,
        ctx: RunContext,
        run: _Run,
    ) -> dict[str, Any]:
        state: dict[str, Any] = dict(inputs) if isinstance(inputs, dict) else {}
        # Checkpoint each step before the next starts where calls cost money.
        durable = {"durability": "sync"} if graph.checkpointer else {}
        # Inside a graph, LangGraph sends custom events to the parent only if we do not ask.
        modes = ["custom", "values"] if run.run_id else ["values"]
        try:
            async with asyncio.timeout(self.config.budget.max_wall_s):
                async for mode, chunk in graph.astream(
                    inputs,
                    config=config,
                    context=ctx,
                    stream_mode=modes,
                    **durable,
                ):
                    if mode == "values" and "__interrupt__" not in chunk:
                        state = chunk
                    elif run.on_event is not None:
                        run.on_event(chunk)
        except TimeoutError:
            limit = self.config.budget.max_wall_s
            state = {**state, "status": "budget_exhausted", "error": f"max_wall_s={limit} reached"}
        return state

    def ask(self, question: str, **kwargs: Any) -> Answer:
        """Synchronous `aask`."""
        return asyncio.run(self.aask(question, **kwargs))

    def resume(self, run_id: str, **kwargs: Any) -> Answer:
        """Synchronous `aresume`."""
        return asyncio.run(self.aresume(run_id, **kwargs))

    def variant(self, *, graph: str | None = None, alpha: float | None = None) -> Orchestrator:
        """This orchestrator with another graph (a spec) or router α, sharing the models."""
        from orchestrator.graph.loading import load_graph

        if alpha is not None and not 0.0 <= alpha <= 1.0:
            raise InputError(f"alpha must be in [0, 1], got {alpha}")
        cfg = self.config.amended(router=None if alpha is None else {"alpha": alpha})
        compiled = self.graph if graph is None else load_graph(graph)
        parts = {k: getattr(self, k) for k in ("models", "embedder", "router", "toolbox")}
        return Orchestrator(cfg, graph=compiled, **parts)

    def as_subgraph(self, *, name: str = "orchestrator") -> MessagesGraph:
        """A compiled LangGraph graph over `messages`, to add as a node of your own graph."""
        from orchestrator.agents.subgraph import build_subgraph

        return build_subgraph(self, name=name)

    def as_tool(self, **options: Any) -> StructuredTool:
        """A LangChain tool answering a hard question (options: `agents.tool.build_tool`)."""
        from orchestrator.agents.tool import build_tool

        return build_tool(self, **options)


@dataclass(frozen=True)
class _Run:
    run_id: str | None
    on_event: EventHandler | None
    store: str | Path | None


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def check_question(question: str, config: Config, width: int | None = None) -> str:
    """The question, stripped; empty or over-long questions and bad widths are input errors."""
    text = question.strip()
    if not text:
        raise InputError("the question is empty")
    limit = config.graph.max_question_chars
    if len(text) > limit:
        raise InputError(f"the question is {len(text)} characters long; the limit is {limit}")
    check_shape(width=width)
    return text

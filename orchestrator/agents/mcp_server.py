"""`orchestrator mcp`: the orchestrator as an MCP server (the `mcp` package's `MCPServer`),
for MCP hosts such as Claude Desktop. Two tools: `ask` (a question answered by the
orchestrator, with a progress notification per step of the run) and `route_capability` (the
capabilities a capability router ranks for a request). Failures are tool errors whose text
says what went wrong; the host shows them to its model."""

import asyncio
from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from orchestrator.agents.asker import Asker, check_graph, trace_summary, tuned
from orchestrator.agents.tool import DESCRIPTION
from orchestrator.capabilities.router import CapabilityRouter
from orchestrator.errors import OrchestratorError
from orchestrator.protocols import Embedder

NO_ROUTER = "no capability router: start the server with --capabilities-router DIR"


class AskResult(BaseModel):
    answer: str
    status: str
    error: str | None = None
    trace: dict[str, Any]


class RankedCapability(BaseModel):
    id: str
    version: str
    score: float
    description: str


class RouteResult(BaseModel):
    abstain: bool = Field(description="true when no capability fits well enough")
    ranked: list[RankedCapability]


def build_server(
    asker: Asker,
    *,
    graphs: Sequence[str],
    capabilities: tuple[CapabilityRouter, Embedder] | None = None,
) -> MCPServer:
    """The server; `graphs` are those `ask` may name, `capabilities` the router (with its
    embedder) behind `route_capability`."""
    server = MCPServer("orchestrator", instructions=DESCRIPTION)

    @server.tool(description=DESCRIPTION)
    async def ask(
        question: Annotated[str, Field(min_length=1, description="the question")],
        ctx: Context,
        graph: Annotated[str | None, Field(description=f"one of {', '.join(graphs)}")] = None,
        width: Annotated[int | None, Field(ge=1, description="samples per sub-question")] = None,
        alpha: Annotated[float | None, Field(ge=0, le=1, description="1 accuracy, 0 cost")] = None,
    ) -> AskResult:
        try:
            chosen = tuned(asker, check_graph(graph, graphs), alpha)
            answer = await ask_with_progress(chosen, question, width, ctx)
        except OrchestratorError as exc:
            raise ToolError(str(exc)) from None
        trace = {"run_id": answer.run_id, **trace_summary(answer)}
        return AskResult(
            answer=answer.answer, status=answer.status, error=answer.error, trace=trace
        )

    @server.tool(description="Rank the registered capabilities (tools, agents) for a request.")
    def route_capability(
        text: Annotated[str, Field(min_length=1, description="the request")],
        top_k: Annotated[int, Field(ge=1, le=100, description="how many to return")] = 5,
    ) -> RouteResult:
        if capabilities is None:
            raise ToolError(NO_ROUTER)
        return route(*capabilities, text, top_k)

    return server


async def ask_with_progress(asker: Asker, question: str, width: int | None, ctx: Context) -> Any:
    """The answer; each step of the run (plan, route, sample, vote, answer) is sent to the
    client as a progress notification, in order, while the run goes on."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def on_event(event: dict[str, Any]) -> None:
        message = describe(event)
        if message:
            queue.put_nowait(message)

    pump = asyncio.create_task(_report(ctx, queue))
    try:
        return await asker.aask(question, width=width, on_event=on_event)
    finally:
        queue.put_nowait(None)
        await pump


async def _report(ctx: Context, queue: asyncio.Queue[str | None]) -> None:
    done = 0
    while (message := await queue.get()) is not None:
        done += 1
        await ctx.report_progress(done, None, message)


def describe(event: dict[str, Any]) -> str | None:
    """One line for a progress event; None for the synthesis's tokens."""
    kind = event.get("event")
    if kind == "plan":
        return f"plan: {len(event.get('plan', []))} sub-questions"
    if kind == "route":
        return f"route {event.get('subquery_id')} to {event.get('model')}"
    if kind == "sample":
        return f"sample {event.get('subquery_id')}#{event.get('sample_idx')}: {event.get('status')}"
    if kind == "vote":
        return f"vote {event.get('subquery_id')}: {event.get('answer')}"
    if kind == "token":
        return None
    return str(kind)


def route(router: CapabilityRouter, embedder: Embedder, text: str, top_k: int) -> RouteResult:
    """The router's ranking for `text`, with each capability's description."""
    vector = np.asarray(embedder.embed([text]), dtype=np.float32)[0]
    decision = router.route(vector, text, top_k=top_k)
    described = {c.id: c.description for c in router.capabilities}
    ranked = [
        RankedCapability(id=r.id, version=r.version, score=r.score, description=described[r.id])
        for r in decision.ranked
    ]
    return RouteResult(abstain=decision.abstain, ranked=ranked)

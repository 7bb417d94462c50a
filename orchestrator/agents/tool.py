"""`Orchestrator.as_tool()`: a LangChain `StructuredTool`, so a LangChain or LangGraph agent
can hand a hard question to the orchestrator. The tool answers with the text; called with a
tool call, its `ToolMessage.artifact` carries the trace. Async and sync."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from langchain_core.tools import StructuredTool, ToolException
from pydantic import BaseModel, Field

from orchestrator.agents.asker import Asker, check_graph, trace_summary, tuned
from orchestrator.errors import OrchestratorError
from orchestrator.graph.loading import BUILTIN_GRAPHS

DESCRIPTION = (
    "Answer a hard question (multi-step, factual or arithmetic) by planning sub-questions, "
    "routing each to the best model, sampling several answers and voting. Slower and "
    "costlier than answering directly: use it when a question needs careful reasoning."
)


class AskArgs(BaseModel):
    """The tool's arguments (its JSON schema is what the calling model sees)."""

    question: str = Field(description="the question, self-contained", min_length=1)
    graph: str | None = Field(
        default=None, description="the reasoning graph: wide (default), deep or single"
    )
    width: int | None = Field(default=None, ge=1, description="samples per sub-question")
    alpha: float | None = Field(
        default=None, ge=0.0, le=1.0, description="routing trade-off: 1 accuracy, 0 cost"
    )


def build_tool(
    asker: Asker,
    *,
    name: str = "orchestrator",
    description: str = DESCRIPTION,
    graphs: Sequence[str] = tuple(BUILTIN_GRAPHS),
) -> StructuredTool:
    """The tool; `graphs` are those a caller may name (built-ins by default, never a path
    the calling model made up). A failed run is a `ToolException`, which the tool reports to
    the calling agent as its result instead of raising."""

    async def ask(
        question: str,
        graph: str | None = None,
        width: int | None = None,
        alpha: float | None = None,
    ) -> tuple[str, dict[str, Any]]:
        try:
            chosen = tuned(asker, check_graph(graph, graphs), alpha)
            answer = await chosen.aask(question, width=width)
        except OrchestratorError as exc:
            raise ToolException(f"the orchestrator refused: {exc}") from None
        if answer.status == "error":
            raise ToolException(f"the orchestrator failed: {answer.error}")
        artifact = {"status": answer.status, "run_id": answer.run_id, **trace_summary(answer)}
        return answer.answer, artifact

    def ask_sync(**arguments: Any) -> tuple[str, dict[str, Any]]:
        return asyncio.run(ask(**arguments))

    return StructuredTool.from_function(
        func=ask_sync,
        coroutine=ask,
        name=name,
        description=description,
        args_schema=AskArgs,
        response_format="content_and_artifact",
        handle_tool_error=True,
    )

"""The tool step: a capability called for a sub-query. The routed model fills the arguments
from the capability's schema (`arguments`), then the capability runs with a timeout and a
cap on its result's bytes, whatever its kind: a Python callable or LangChain tool
in-process, an MCP server's tool over stdio, an agent behind an OpenAI-compatible endpoint,
or a graph spec run as a subgraph. Every outcome is a `ToolResult`; a tool that raises,
times out or returns too much is an error record, never an exception.

    async with ToolRuntime(timeout_s=20) as tools:     # MCP servers stop when it closes
        result = await tools.step(capability, "what is 17.3% of 2,418?", model=chat_model)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any

from orchestrator.capabilities.arguments import Filled, fill_arguments, schema_of
from orchestrator.capabilities.mcp_sessions import McpSessions, McpStartError, McpToolError
from orchestrator.capabilities.targets import (
    Unavailable,
    agent_model,
    call_target,
    compiled_graph,
    import_target,
    run_graph,
)
from orchestrator.capabilities.tool_result import ToolError, ToolResult
from orchestrator.capability import Capability
from orchestrator.errors import ProviderError
from orchestrator.protocols import ChatModel

TAKES_REQUEST = ("agent", "graph")  # kinds that take the sub-query itself when schemaless


class ToolRuntime:
    """Runs tool steps for one run. `tools` maps capability ids to callables or LangChain
    tools made at run time (they win over `location.callable`); `timeout_s` and
    `max_output_bytes` bound every call. Use it as an async context manager so that the
    MCP servers it started are stopped with the run (or call `close()`)."""

    def __init__(
        self,
        *,
        timeout_s: float = 30.0,
        max_output_bytes: int = 16_384,
        tools: Mapping[str, Any] | None = None,
        mcp_env: Mapping[str, str] | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self.max_output_bytes = max_output_bytes
        self.tools = dict(tools or {})
        self.mcp = McpSessions(env=mcp_env)
        self._loaded: dict[str, Any] = {}
        self._agents: dict[str, ChatModel] = {}

    async def __aenter__(self) -> ToolRuntime:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.mcp.close()

    async def step(
        self,
        capability: Capability,
        request: str,
        *,
        model: ChatModel | None = None,
        facts: str = "",
        max_tokens: int = 256,
    ) -> ToolResult:
        """Fill the arguments with `model` (not asked when the schema takes none, nor for a
        schemaless agent or graph, which take `request` itself), then `call`."""
        filled = await self.fill(
            capability, request, model=model, facts=facts, max_tokens=max_tokens
        )
        if filled.error is not None:
            return _record(capability, None, error=filled.error, calls=filled.completions)
        result = await self.call(capability, filled.arguments or {}, request=request)
        return _with_calls(result, filled)

    async def call(
        self, capability: Capability, arguments: dict[str, Any], *, request: str = ""
    ) -> ToolResult:
        """Run the capability with `arguments` (already valid), bounded in time and size."""
        started = time.perf_counter()
        cost = capability.cost_usd or 0.0
        try:
            output = await asyncio.wait_for(
                self._run(capability, arguments, request), self.timeout_s
            )
        except TimeoutError:
            error = ToolError("timeout", f"no result within {self.timeout_s:g} s")
        except (Unavailable, McpStartError) as exc:
            error, cost = ToolError("unavailable", str(exc)), 0.0
        except Exception as exc:  # the tool's own failure, whatever it is, is its record
            error = ToolError("tool_error", _one_line(exc))
        else:
            size = len(output.encode())
            if size <= self.max_output_bytes:
                latency = time.perf_counter() - started
                return _record(capability, arguments, output=output, cost=cost, latency=latency)
            error = ToolError(
                "oversize", f"the result is {size} bytes; the cap is {self.max_output_bytes}"
            )
        latency = time.perf_counter() - started
        return _record(capability, arguments, error=error, cost=cost, latency=latency)

    async def fill(
        self,
        capability: Capability,
        request: str,
        *,
        model: ChatModel | None = None,
        facts: str = "",
        max_tokens: int = 256,
    ) -> Filled:
        """The step's arguments, not yet run (so that a person can approve them first)."""
        if capability.kind in TAKES_REQUEST and not capability.parameters:
            return Filled({}, None, ())
        if not schema_of(capability).get("properties"):
            return Filled({}, None, ())
        if model is None:
            error = ToolError(
                "provider", f"{capability.id} takes arguments: give a model to fill them"
            )
            return Filled(None, error, ())
        return await fill_arguments(model, capability, request, facts=facts, max_tokens=max_tokens)

    async def _run(self, capability: Capability, arguments: dict[str, Any], request: str) -> str:
        location = capability.location
        if capability.id in self.tools:
            return await call_target(self.tools[capability.id], arguments)
        if location.callable:
            return await call_target(self._load(location.callable), arguments)
        if location.mcp_command:
            tool = location.mcp_tool or capability.id
            return await self.mcp.call(location.mcp_command, tool, arguments)
        if location.api_base:
            return await self._ask_agent(capability, arguments, request)
        if location.graph:
            graph = compiled_graph(self._load(location.graph))
            return await run_graph(graph, request, arguments if capability.parameters else None)
        raise Unavailable(
            f"{capability.id} has no location to run (callable, mcp_command, api_base or graph)"
        )

    def _load(self, spec: str) -> Any:
        if spec not in self._loaded:
            self._loaded[spec] = import_target(spec)
        return self._loaded[spec]

    async def _ask_agent(
        self, capability: Capability, arguments: dict[str, Any], request: str
    ) -> str:
        if capability.key not in self._agents:
            from orchestrator.llm.boundary import make_chat_model  # litellm: import when used

            self._agents[capability.key] = make_chat_model(agent_model(capability, self.timeout_s))
        content = request if not arguments else f"{request}\n\nArguments: {arguments}"
        completion = await self._agents[capability.key].complete(
            [{"role": "user", "content": content}], temperature=0.0, max_tokens=1024
        )
        return completion.text


def _record(
    capability: Capability,
    arguments: dict[str, Any] | None,
    *,
    output: str = "",
    cost: float = 0.0,
    latency: float = 0.0,
    error: ToolError | None = None,
    calls: tuple[Any, ...] = (),
) -> ToolResult:
    return ToolResult(
        capability.id,
        capability.version,
        capability.kind,
        arguments,
        output,
        cost,
        latency,
        error,
        calls,
    )


def _with_calls(result: ToolResult, filled: Filled) -> ToolResult:
    return replace(result, model_calls=filled.completions)


def _one_line(exc: BaseException) -> str:
    """One line for a failure, looking inside exception groups; provider errors as they read."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, ProviderError | McpToolError):
        return str(exc).splitlines()[0][:500]
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]

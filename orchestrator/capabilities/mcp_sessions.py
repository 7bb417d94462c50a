"""Sessions with MCP servers for one run: each server (by its command line) is started over
stdio on its first tool call, kept while the run lasts, and stopped when the run ends.

Each session lives in a task of its own, which enters and leaves the `mcp` client's
contexts (anyio requires the same task for both); tool calls from any task of the run go
through it. `list_mcp` (in `mcp_tools`) and this module are the ones that import `mcp`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any


class McpToolError(Exception):
    """The server ran the tool and reported an error (`isError`), or could not be reached."""


class McpStartError(McpToolError):
    """The server could not be started or did not initialise in time."""


class McpSessions:
    """An async context manager holding one session per MCP server command."""

    def __init__(self, env: Mapping[str, str] | None = None, start_timeout_s: float = 60.0):
        self.env = dict(env) if env is not None else None
        self.start_timeout_s = start_timeout_s
        self._servers: dict[tuple[str, ...], tuple[asyncio.Task[None], asyncio.Future[Any]]] = {}
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> McpSessions:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def started(self) -> list[tuple[str, ...]]:
        """The commands of the servers started so far."""
        return list(self._servers)

    async def call(self, command: Sequence[str], tool: str, arguments: dict[str, Any]) -> str:
        """Call `tool` on the server `command` starts (started now if it is not running):
        its text content, or its structured content as JSON when it has no text."""
        session = await self._session(tuple(command))
        result = await session.call_tool(tool, arguments)
        data = result.model_dump(mode="json", by_alias=True, exclude_none=True)
        texts = [c.get("text", "") for c in data.get("content", []) if c.get("type") == "text"]
        text = "\n".join(texts)
        if not text and data.get("structuredContent") is not None:
            text = json.dumps(data["structuredContent"], ensure_ascii=False)
        if data.get("isError"):
            raise McpToolError(text or f"the server reported an error calling {tool!r}")
        return text

    async def close(self) -> None:
        """Stop every server started (their tasks leave the client's contexts)."""
        self._stop.set()
        tasks = [task for task, _ in self._servers.values()]
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()
        self._servers.clear()

    async def _session(self, command: tuple[str, ...]) -> Any:
        if not command:
            raise McpStartError("the capability's mcp_command is empty")
        async with self._lock:
            if command not in self._servers:
                ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                task = asyncio.create_task(self._serve(command, ready))
                self._servers[command] = (task, ready)
            ready = self._servers[command][1]
        try:
            return await asyncio.wait_for(asyncio.shield(ready), self.start_timeout_s)
        except TimeoutError:
            raise McpStartError(f"MCP server {' '.join(command)!r} did not start") from None

    async def _serve(self, command: tuple[str, ...], ready: asyncio.Future[Any]) -> None:
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client

        params = StdioServerParameters(command=command[0], args=list(command[1:]), env=self.env)
        try:
            async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
                await s.initialize()
                ready.set_result(s)
                await self._stop.wait()
        except Exception as exc:  # the server's failure, whatever its form, fails its calls
            if not ready.done():
                reason = _reason(exc)
                ready.set_exception(McpStartError(f"MCP server {' '.join(command)!r}: {reason}"))


def _reason(exc: BaseException) -> str:
    """One line for a failure, looking inside the exception groups anyio raises."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}".splitlines()[0]

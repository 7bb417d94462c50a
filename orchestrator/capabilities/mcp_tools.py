"""The tools an MCP server lists, as capabilities of kind `mcp`: the server is started over
stdio with the `mcp` client (`ClientSession`, `stdio_client`), asked for its tools (every
page), and stopped. The only module that imports `mcp`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.capabilities.loaders import capability_from
from orchestrator.capability import Capability
from orchestrator.errors import InputError


def load_mcp(
    command: Sequence[str],
    *,
    prefix: str = "",
    version: str = "0",
    env: Mapping[str, str] | None = None,
    timeout_s: float = 60.0,
) -> list[Capability]:
    """The tools of the MCP server that `command` starts (e.g. `["python", "server.py"]`):
    id `<prefix><tool name>`, the tool's description and input schema, location
    `mcp_command` + `mcp_tool`. From inside a running event loop, await `list_mcp` instead."""
    return asyncio.run(
        list_mcp(command, prefix=prefix, version=version, env=env, timeout_s=timeout_s)
    )


async def list_mcp(
    command: Sequence[str],
    *,
    prefix: str = "",
    version: str = "0",
    env: Mapping[str, str] | None = None,
    timeout_s: float = 60.0,
) -> list[Capability]:
    """`load_mcp`, awaitable. A server that cannot be started, fails or does not answer
    within `timeout_s` is an `InputError` naming the command."""
    if not command:
        raise InputError("MCP server: empty command")
    source = f"MCP server {' '.join(command)!r}"
    try:
        tools = await asyncio.wait_for(_tools(list(command), env), timeout_s)
    except TimeoutError:
        raise InputError(f"{source}: no tool list within {timeout_s} s") from None
    except Exception as exc:  # the server's failure, whatever its form, is the input's problem
        raise InputError(f"{source}: {_reason(exc)}") from None
    return [_capability(tool, list(command), prefix, version, source) for tool in tools]


async def _tools(command: list[str], env: Mapping[str, str] | None) -> list[dict[str, Any]]:
    """Every tool the server lists, as the protocol's JSON objects (camelCase fields)."""
    from mcp import ClientSession, StdioServerParameters, types
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=command[0], args=command[1:], env=dict(env) if env is not None else None
    )
    tools: list[dict[str, Any]] = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        cursor: str | None = None
        while True:
            page_params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await session.list_tools(params=page_params)
            tools += [
                t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in page.tools
            ]
            cursor = page.model_dump(by_alias=True).get("nextCursor")
            if not cursor:
                return tools


def _capability(
    tool: dict[str, Any], command: list[str], prefix: str, version: str, source: str
) -> Capability:
    annotations = tool.get("annotations") or {}
    data = {
        "id": f"{prefix}{tool['name']}",
        "kind": "mcp",
        "name": tool.get("title") or annotations.get("title") or tool["name"],
        "description": tool.get("description"),
        "parameters": tool.get("inputSchema"),
        "version": version,
        "tags": ["read-only"] if annotations.get("readOnlyHint") else [],
        "location": {"mcp_command": command, "mcp_tool": tool["name"]},
    }
    data = {k: v for k, v in data.items() if v is not None}
    return capability_from(data, source, f"tool {tool['name']!r}")


def _reason(exc: BaseException) -> str:
    """One line for a failure, looking inside the exception groups anyio raises."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}".splitlines()[0]

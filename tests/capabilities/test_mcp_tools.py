"""The tools of a real MCP server (tests/data/mcp_server.py, started over stdio with the
running Python) as capabilities; a server that fails is a one-line InputError."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from orchestrator.capabilities import Registry, list_mcp, load_mcp
from orchestrator.errors import InputError

SERVER = Path(__file__).resolve().parents[1] / "data" / "mcp_server.py"
COMMAND = [sys.executable, str(SERVER)]


def test_load_mcp_lists_the_servers_tools() -> None:
    caps = load_mcp(COMMAND, prefix="tiny.", version="1.0.0")
    assert [c.key for c in caps] == ["tiny.add@1.0.0", "tiny.weather@1.0.0"]
    add, weather = caps
    assert add.kind == "mcp" and add.description == "Add two integers and return their sum."
    assert add.location.mcp_command == COMMAND and add.location.mcp_tool == "add"
    assert weather.location.mcp_tool == "weather"
    assert add.parameters is not None
    assert add.parameters["type"] == "object" and add.parameters["required"] == ["a", "b"]
    assert weather.parameters is not None and set(weather.parameters["properties"]) == {"city"}
    assert [c.id for c in Registry(caps).routable()] == ["tiny.add", "tiny.weather"]


def test_list_mcp_is_awaitable() -> None:
    caps = asyncio.run(list_mcp(COMMAND))
    assert [c.id for c in caps] == ["add", "weather"]


def test_a_server_that_exits_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"^MCP server '.*-c import sys; sys.exit\(3\)': ") as e:
        load_mcp([sys.executable, "-c", "import sys; sys.exit(3)"], timeout_s=30)
    assert "\n" not in str(e.value)


def test_a_missing_command_is_an_input_error() -> None:
    with pytest.raises(InputError, match="MCP server '/nonexistent/server': "):
        load_mcp(["/nonexistent/server"], timeout_s=30)
    with pytest.raises(InputError, match="empty command"):
        load_mcp([])

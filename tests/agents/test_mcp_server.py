"""`orchestrator mcp` started as a subprocess (`python -m orchestrator mcp`) and driven by the
real `mcp` client over stdio: the tools it lists, `ask` answered with progress notifications
on the way, `route_capability` ranking a fitted router's capabilities, and the tool errors
for bad input and for a server started without a router. The models are the scripted
engine, registered in the server process by `--setup worker_setup:scripted`."""

import json
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from support import write

from orchestrator.cli.command import main

ROOT = Path(__file__).parents[2]
CONFIG = (
    '[[models]]\nid = "scripted/big"\ninput_usd_per_mtok = 10.0\noutput_usd_per_mtok = 30.0\n'
    '[embedder]\nname = "hashing-32"\n[graph]\nwidth = 3\n'
)
CAPABILITIES = [
    {"id": "weather", "description": "Get the weather forecast, rain and temperature for a city"},
    {"id": "calculator", "description": "Evaluate an arithmetic expression: add, multiply, divide"},
    {"id": "translate", "description": "Translate text from one language into another language"},
]

pytestmark = pytest.mark.heavy  # a fresh interpreter importing the model stack per test


@asynccontextmanager
async def session(tmp_path: Path, *extra: str):
    config = tmp_path / "c.toml"
    config.write_text(CONFIG)
    args = ["-m", "orchestrator", "mcp", "--config", str(config), "--setup"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    params = StdioServerParameters(
        command=sys.executable, args=[*args, "worker_setup:scripted", *extra], env=env
    )
    async with stdio_client(params) as (read, write_), ClientSession(read, write_) as client:
        await client.initialize()
        yield client


@pytest.fixture
def router_dir(tmp_path):
    tools = write(tmp_path / "tools.jsonl", CAPABILITIES)
    out = tmp_path / "router"
    argv = ["capabilities", "fit", "--capabilities", str(tools), "--out", str(out)]
    assert main([*argv, "--embedder", "hashing-64", "--cache-dir", str(tmp_path / "cache")]) == 0
    return out


async def test_ask_and_route_capability_over_stdio(tmp_path, router_dir):
    progress: list[tuple[float, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, message))

    text = "what is the weather forecast for Paris"
    async with session(tmp_path, "--capabilities-router", str(router_dir)) as client:
        listed = await client.list_tools()
        tools = {t.name: t for t in listed.tools}
        assert set(tools) == {"ask", "route_capability"}
        assert set(tools["ask"].input_schema["properties"]) == {
            "question",
            "graph",
            "width",
            "alpha",
        }
        args = {"question": "What is 20 + 22?", "width": 3}
        result = await client.call_tool("ask", args, progress_callback=on_progress)
        routed = await client.call_tool("route_capability", {"text": text, "top_k": 2})
    assert not result.is_error
    out = result.structured_content
    assert out["answer"] == "42" and out["status"] == "ok"
    (step,) = out["trace"]["steps"]
    assert step["question"] == "What is 20 + 22?" and step["samples"] == 3
    assert (
        step["model"] == "scripted/big" and out["trace"]["usage"]["llm_calls"] == 4
    )  # plan, 3 samples
    assert json.loads(result.content[0].text)["answer"] == "42"
    messages = [m for _, m in progress]
    assert messages[0] == "plan: 1 sub-questions" and messages[1].startswith("route q1 to ")
    assert sum(m.startswith("sample q1#") for m in messages) == 3
    assert "vote q1: 42" in messages and messages[-1] == "answer"
    assert [d for d, _ in progress] == list(range(1, len(progress) + 1))
    assert not routed.is_error
    out = routed.structured_content
    assert isinstance(out["abstain"], bool) and len(out["ranked"]) == 2
    assert out["ranked"][0]["id"] == "weather"
    assert out["ranked"][0]["description"] == CAPABILITIES[0]["description"]
    assert out["ranked"][0]["score"] >= out["ranked"][1]["score"]


async def test_bad_input_and_a_missing_router_are_tool_errors_that_say_why(tmp_path):
    async with session(tmp_path) as client:
        routed = await client.call_tool("route_capability", {"text": "weather in Paris"})
        blank = await client.call_tool("ask", {"question": "   "})
        path = await client.call_tool("ask", {"question": "Q?", "graph": "evil.py:graph"})
        wide = await client.call_tool("ask", {"question": "Q?", "width": 0})
    assert routed.is_error and "--capabilities-router DIR" in routed.content[0].text
    assert blank.is_error and "the question is empty" in blank.content[0].text
    assert path.is_error and "'evil.py:graph' is not offered here" in path.content[0].text
    assert wide.is_error and "width" in wide.content[0].text

"""The tool step: every kind of capability runs (a callable, a LangChain tool, an MCP
server's tool over stdio, an agent behind an OpenAI-compatible endpoint, a graph spec), and
a raising tool, a timeout or an oversize result is an error record."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from orchestrator.capabilities import Capability, ToolRuntime
from orchestrator.config import ModelConfig
from orchestrator.llm.boundary import make_chat_model
from orchestrator.testing import FakeOpenAI, Reply
from orchestrator.testing.scripted import tool_reply

HERE = Path(__file__).resolve().parents[1] / "data" / "tools_runtime"
TARGETS = HERE / "targets.py"
MCP = [sys.executable, str(HERE / "mcp_tool_server.py")]
NUMBERS = {
    "type": "object",
    "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
    "required": ["a", "b"],
}


def cap(id: str, kind: str = "tool", parameters=None, cost_usd=None, **location) -> Capability:
    return Capability(
        id=id,
        kind=kind,
        description=f"the {id} capability",
        version="1.2.0",
        parameters=parameters,
        cost_usd=cost_usd,
        location=location,
    )


def scripted_model():
    return make_chat_model(
        ModelConfig(id="scripted/filler", input_usd_per_mtok=1.0, output_usd_per_mtok=2.0)
    )


async def test_a_callable_step_fills_arguments_runs_and_records_everything(scripted):
    engine = scripted(lambda call: tool_reply("multiply", {"a": 17.3, "b": 24.18}))
    multiply = cap("multiply", parameters=NUMBERS, cost_usd=0.001, callable=f"{TARGETS}:multiply")
    async with ToolRuntime() as tools:
        result = await tools.step(multiply, "what is 17.3 times 24.18?", model=scripted_model())
    call = engine.calls[0]
    assert call.tool_names == ["multiply"]
    assert call.tool_choice == {"type": "function", "function": {"name": "multiply"}}
    assert call.tools[0]["function"]["parameters"] == NUMBERS
    assert "what is 17.3 times 24.18?" in call.prompt
    assert result.ok and result.output == str(17.3 * 24.18)
    assert (result.capability, result.version, result.kind) == ("multiply", "1.2.0", "tool")
    assert result.arguments == {"a": 17.3, "b": 24.18} and result.cost_usd == 0.001
    assert len(result.model_calls) == 1 and result.model_cost_usd > 0
    assert result.to_json()["error"] is None and result.to_json()["model_calls"] == 1


async def test_async_functions_and_langchain_tools_run_in_process():
    shout = cap("shout", callable=f"{TARGETS}:shout")
    count = cap("word_count", callable=f"{TARGETS}:word_count")
    async with ToolRuntime() as tools:
        loud = await tools.call(shout, {"text": "hi there"})
        words = await tools.call(count, {"text": "one two three"})
    assert loud.output == "HI THERE" and words.output == "3"


async def test_a_tool_given_at_run_time_wins_over_its_location():
    def local(a: float, b: float) -> float:
        return a + b

    capability = cap("multiply", callable=f"{TARGETS}:multiply")
    async with ToolRuntime(tools={"multiply": local}) as tools:
        result = await tools.call(capability, {"a": 2, "b": 3})
    assert result.output == "5"


async def test_an_mcp_tool_runs_on_a_server_started_and_stopped_with_the_run(tmp_path):
    pids = tmp_path / "pids"
    env = {**os.environ, "MCP_PID_FILE": str(pids)}
    add = cap("add", kind="mcp", parameters=NUMBERS, mcp_command=MCP, mcp_tool="add")
    fail = cap("fail", kind="mcp", mcp_command=MCP)
    async with ToolRuntime(mcp_env=env) as tools:
        first = await tools.call(add, {"a": 2, "b": 40})
        second = await tools.call(add, {"a": 1, "b": 1})
        failed = await tools.call(fail, {"reason": "no such city"})
        assert tools.mcp.started == [tuple(MCP)]
    assert first.output == "42" and second.output == "2"
    assert failed.error is not None and failed.error.kind == "tool_error"
    assert "fail" in failed.error.message  # mcp 2 hides a crashed tool's own message
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) == 1  # one server for the run, reused by every call
    assert _gone(started[0]), "the MCP server outlived the run"


def _gone(pid: int, wait_s: float = 10.0) -> bool:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


async def test_an_mcp_server_that_does_not_start_is_an_unavailable_record():
    broken = cap("add", kind="mcp", mcp_command=[sys.executable, "-c", "import sys; sys.exit(3)"])
    async with ToolRuntime() as tools:
        result = await tools.call(broken, {"a": 1})
    assert result.error is not None and result.error.kind == "unavailable"
    assert "MCP server" in result.error.message and result.cost_usd == 0.0


async def test_an_agent_behind_an_openai_endpoint_is_called_as_a_model(monkeypatch):
    monkeypatch.setenv("AGENT_KEY", "sk-agent")
    with FakeOpenAI(default=Reply.ok("Turing studied at King's College, Cambridge.")) as server:
        agent = Capability(
            id="researcher",
            kind="agent",
            description="answers research questions",
            cost_usd=0.02,
            location={
                "api_base": server.base_url,
                "model": "research-1",
                "api_key_env": "AGENT_KEY",
            },
        )
        async with ToolRuntime() as tools:
            result = await tools.step(agent, "Where did Turing study?")
        sent = server.chat_requests[0]
    assert sent.model == "research-1" and sent.prompt == "Where did Turing study?"
    assert sent.headers["authorization"] == "Bearer sk-agent"
    assert result.output == "Turing studied at King's College, Cambridge."
    assert result.cost_usd == 0.02 and result.arguments == {} and result.model_calls == ()


async def test_a_graph_spec_runs_as_a_subgraph_with_the_sub_query():
    echo = cap("echo", kind="graph", graph=f"{TARGETS}:graph")
    async with ToolRuntime() as tools:
        result = await tools.step(echo, "where is Cambridge?")
    assert result.ok and result.output == "echo: where is Cambridge?"


async def test_a_raising_tool_is_an_error_record_with_its_message():
    boom = cap("boom", callable=f"{TARGETS}:boom", cost_usd=0.5)
    async with ToolRuntime() as tools:
        result = await tools.call(boom, {"x": 7})
    assert result.error is not None and result.error.kind == "tool_error"
    assert result.error.message == "RuntimeError: boom 7"
    assert result.output == "" and result.cost_usd == 0.5  # it was called: its cost counts


async def test_a_tool_past_its_timeout_is_a_timeout_record():
    snooze = cap("snooze", callable=f"{TARGETS}:snooze")
    started = time.perf_counter()
    async with ToolRuntime(timeout_s=0.2) as tools:
        result = await tools.call(snooze, {"seconds": 1.0})
    assert time.perf_counter() - started < 0.9
    assert result.error is not None and result.error.kind == "timeout"
    assert result.error.message == "no result within 0.2 s"


async def test_a_slow_mcp_tool_times_out_and_the_session_goes_on():
    slow = cap("slow", kind="mcp", mcp_command=MCP)
    add = cap("add", kind="mcp", mcp_command=MCP)
    async with ToolRuntime(timeout_s=1.0) as tools:
        await tools.call(add, {"a": 0, "b": 0})  # started before the clock matters
        late = await tools.call(slow, {"seconds": 5})
        after = await tools.call(add, {"a": 1, "b": 2})
    assert late.error is not None and late.error.kind == "timeout"
    assert after.output == "3"


async def test_an_oversize_result_is_an_error_record():
    huge = cap("huge", callable=f"{TARGETS}:huge")
    async with ToolRuntime(max_output_bytes=100) as tools:
        fits = await tools.call(huge, {"n": 100})
        over = await tools.call(huge, {"n": 101})
    assert fits.ok and len(fits.output) == 100
    assert over.error is not None and over.error.kind == "oversize"
    assert over.error.message == "the result is 101 bytes; the cap is 100" and over.output == ""


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ({}, "nope has no location to run"),
        ({"callable": "no_such_module_xyz:f"}, "cannot import 'no_such_module_xyz'"),
        ({"callable": f"{TARGETS}:missing"}, "has no attribute 'missing'"),
    ],
)
async def test_nothing_to_run_is_an_unavailable_record_that_costs_nothing(location, message):
    capability = cap("nope", cost_usd=1.0, **location)
    async with ToolRuntime() as tools:
        result = await tools.call(capability, {})
    assert result.error is not None and result.error.kind == "unavailable"
    assert message in result.error.message and result.cost_usd == 0.0

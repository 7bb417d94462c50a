"""Tool calling on the local engine: a tool that `tool_choice` forces is called with its
parameters as a grammar (so the arguments follow the schema); letting a local model choose
is refused, never ignored."""

import json
from pathlib import Path

import pytest

from orchestrator.capabilities import ToolRuntime, load_jsonl
from orchestrator.config import ModelConfig
from orchestrator.llm.boundary import make_chat_model
from orchestrator.llm.local_engine import forced_tool, llama_format
from orchestrator.protocols import EngineFailure

ADD = {
    "type": "function",
    "function": {
        "name": "add",
        "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}},
    },
}
TOOLS = Path(__file__).resolve().parents[2] / "examples" / "data" / "agent_tools.jsonl"
MUL = {"type": "function", "function": {"name": "mul"}}


def test_the_forced_tool_is_the_named_one_or_the_only_one_required():
    named = {"type": "function", "function": {"name": "mul"}}
    assert forced_tool([ADD, MUL], named) == MUL["function"]
    assert forced_tool([ADD], "required") == ADD["function"]
    assert forced_tool([ADD, MUL], "none") is None and forced_tool(None, "auto") is None


@pytest.mark.parametrize(
    ("tools", "choice", "message"),
    [
        ([ADD, MUL], "auto", "local models call a tool only when tool_choice names it"),
        ([ADD], None, "local models call a tool only when tool_choice names it"),
        ([ADD, MUL], "required", "cannot choose between tools"),
        (
            [ADD],
            {"type": "function", "function": {"name": "div"}},
            "tool_choice names 'div', not a given tool",
        ),
    ],
)
def test_a_choice_the_local_models_cannot_make_is_refused(tools, choice, message):
    with pytest.raises(EngineFailure, match=message) as info:
        forced_tool(tools, choice)
    assert info.value.kind == "bad_request"


def test_llama_format_constrains_by_the_schema_where_there_is_one():
    schema = {"type": "object", "properties": {"x": {"type": "string"}}}
    assert llama_format(ADD["function"], None, False) == {
        "type": "json_object",
        "schema": ADD["function"]["parameters"],
    }
    assert llama_format(MUL["function"], None, False) == {
        "type": "json_object",
        "schema": {"type": "object"},
    }
    json_schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    assert llama_format(None, json_schema, True) == {"type": "json_object", "schema": schema}
    assert llama_format(None, {"type": "json_object"}, False) == {"type": "json_object"}
    assert llama_format(None, None, True) == {"type": "json_object"}
    assert (
        llama_format(None, {"type": "text"}, False) is None
        and llama_format(None, None, False) is None
    )


@pytest.mark.slow
async def test_a_local_model_fills_the_calculators_arguments_by_grammar():
    calculator = {c.id: c for c in load_jsonl(TOOLS)}["calculator"]
    model = make_chat_model(
        ModelConfig(id="local/qwen2.5-coder-0.5b", input_usd_per_mtok=0, output_usd_per_mtok=0)
    )
    async with ToolRuntime() as tools:
        result = await tools.step(calculator, "What is 17.3% of 2,418?", model=model)
    assert len(result.model_calls) >= 1 and result.model_calls[0].tool_calls[0].name == "calculator"
    assert set(json.loads(result.model_calls[0].tool_calls[0].arguments)) == {"expression"}
    assert result.ok and result.output == "418.314", result

"""Arguments filled by the routed model through tool calling, validated against the
capability's schema: one re-ask with the validation error, then a typed error record."""

from __future__ import annotations

import json

from orchestrator.capabilities import Capability, ToolRuntime, check_arguments, tool_spec
from orchestrator.config import ModelConfig
from orchestrator.llm.boundary import make_chat_model
from orchestrator.testing.scripted import ScriptedCall, ScriptedFailure, tool_reply

SCHEMA = {
    "type": "object",
    "properties": {"expression": {"type": "string"}, "digits": {"type": "integer"}},
    "required": ["expression"],
}
CALC = Capability(
    id="calc.eval",
    description="Evaluate an arithmetic expression.",
    parameters=SCHEMA,
    location={"callable": "orchestrator.capabilities.builtin_tools:calculate"},
)


def model():
    return make_chat_model(
        ModelConfig(id="scripted/filler", input_usd_per_mtok=1.0, output_usd_per_mtok=1.0)
    )


def test_tool_spec_names_the_function_safely_and_normalises_the_schema():
    bfcl = Capability(
        id="math/area.get",
        description="Area.",
        parameters={"type": "dict", "properties": {"r": {"type": "float"}}},
    )
    spec = tool_spec(bfcl)
    assert spec["function"]["name"] == "math_area_get"
    assert spec["function"]["parameters"] == {
        "type": "object",
        "properties": {"r": {"type": "number"}},
    }


def test_check_arguments_names_the_field_and_the_problem():
    assert check_arguments(SCHEMA, '{"expression": "1+1"}') == ({"expression": "1+1"}, "")
    assert check_arguments(SCHEMA, '{"expression": 3}') == (
        None,
        "expression: 3 is not of type 'string'",
    )
    assert check_arguments(SCHEMA, "{}") == (None, "arguments: 'expression' is a required property")
    assert check_arguments(SCHEMA, "[1]") == (None, "expected a JSON object, got list")
    assert check_arguments(SCHEMA, "{oops")[1].startswith("not valid JSON")


async def test_invalid_arguments_are_re_asked_once_with_the_error_then_used(scripted):
    replies = [
        tool_reply("calc_eval", {"expression": 12}),
        tool_reply("calc_eval", {"expression": "6*7"}),
    ]
    engine = scripted(lambda call: replies.pop(0))
    async with ToolRuntime() as tools:
        result = await tools.step(CALC, "six times seven", model=model())
    assert len(engine.calls) == 2
    second = engine.calls[1]
    assert second.messages[:-2] == engine.calls[0].messages
    assert second.messages[-2] == {"role": "assistant", "content": 'calc_eval({"expression": 12})'}
    assert second.messages[-1]["role"] == "user"
    assert "expression: 12 is not of type 'string'" in second.messages[-1]["content"]
    assert second.tool_choice == {"type": "function", "function": {"name": "calc_eval"}}
    assert result.ok and result.arguments == {"expression": "6*7"} and result.output == "42"
    assert len(result.model_calls) == 2


async def test_arguments_still_invalid_after_the_re_ask_are_an_error_record(scripted):
    engine = scripted(lambda call: tool_reply("calc_eval", {"digits": 2}))
    async with ToolRuntime() as tools:
        result = await tools.step(CALC, "six times seven", model=model())
    assert len(engine.calls) == 2
    assert result.error is not None and result.error.kind == "invalid_arguments"
    assert result.error.message == (
        "calc_eval: invalid arguments after one re-ask: arguments: 'expression' is a required property"
    )
    assert result.arguments is None and result.output == "" and result.cost_usd == 0.0
    assert len(result.model_calls) == 2


async def test_a_reply_in_text_is_re_asked_and_json_text_is_accepted(scripted):
    replies = ["I think it is 42.", '{"expression": "40+2"}']
    engine = scripted(lambda call: replies.pop(0))
    async with ToolRuntime() as tools:
        result = await tools.step(CALC, "forty plus two", model=model())
    assert "no call of calc_eval (a reply in text)" in engine.calls[1].prompt
    assert result.ok and result.output == "42"


async def test_a_failing_model_is_a_provider_error_record(scripted):
    def fail(call: ScriptedCall) -> str:
        raise ScriptedFailure("auth", "bad key")

    scripted(fail)
    async with ToolRuntime() as tools:
        result = await tools.step(CALC, "1+1", model=model())
    assert result.error is not None and result.error.kind == "provider"
    assert "auth" in result.error.message


async def test_facts_reach_the_filling_prompt(scripted):
    engine = scripted(lambda call: tool_reply("calc_eval", {"expression": "2418*0.173"}))
    async with ToolRuntime() as tools:
        await tools.step(CALC, "what is 17.3% of that?", model=model(), facts="q1: 2,418")
    assert "q1: 2,418\n\nRequest: what is 17.3% of that?" in engine.calls[0].prompt
    assert json.loads(json.dumps(engine.calls[0].tools))[0]["function"]["name"] == "calc_eval"

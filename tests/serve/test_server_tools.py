"""The server honours or refuses, never ignores, what agent frameworks send: `tools`,
`tool_choice` and `response_format` go through to a pass-through model and its tool calls
come back (plain and streamed); a policy answers in the requested JSON schema (validated,
re-asked once) and refuses client-side tools with a 400 that says why. Tried with the
`openai` client, plain HTTP, and LangChain's `ChatOpenAI`."""

import json
from typing import Any

import httpx
import openai
import pytest
from support import default_responder, scripted_config

from orchestrator.config import parse_config
from orchestrator.testing.scripted import ScriptedCall, tool_reply

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "born": {"type": "integer"}},
    "required": ["name", "born"],
    "additionalProperties": False,
}
JSON_SCHEMA = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON}}


def client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)


def start(serve, scripted, responder) -> tuple[Any, str]:
    engine = scripted(responder)
    return engine, serve(parse_config(scripted_config()))


def structuring(replies: list[str]):
    """The default policy replies, and `replies` in turn for calls asking for JSON."""
    default = default_responder()

    def respond(call: ScriptedCall) -> str:
        return replies.pop(0) if call.response_format else default(call)

    return respond


# --- pass-through model ids: forwarded, and the model's tool calls returned -----------------


def test_pass_through_forwards_tools_and_returns_the_models_tool_calls(serve, scripted):
    engine, base = start(
        serve, scripted, lambda call: tool_reply("get_weather", {"city": "Paris"}, "call_42")
    )
    forced = {"type": "function", "function": {"name": "get_weather"}}
    reply = client(base).chat.completions.create(
        model="scripted/small", messages=ASK, tools=[WEATHER], tool_choice=forced
    )
    call = engine.calls[0]
    assert call.tools == [WEATHER] and call.tool_choice == forced
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [tool_call] = choice.message.tool_calls
    assert (tool_call.id, tool_call.function.name) == ("call_42", "get_weather")
    assert json.loads(tool_call.function.arguments) == {"city": "Paris"}


def test_pass_through_forwards_the_tool_conversation_back_to_the_model(serve, scripted):
    engine, base = start(serve, scripted, lambda call: "It is sunny in Paris.")
    conversation = [
        *ASK,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_42",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_42", "content": "sunny, 21 C"},
    ]
    reply = client(base).chat.completions.create(
        model="scripted/small", messages=conversation, tools=[WEATHER]
    )
    seen = engine.calls[0].messages
    assert seen[1]["tool_calls"][0]["id"] == "call_42"
    assert seen[2] == {"role": "tool", "content": "sunny, 21 C", "tool_call_id": "call_42"}
    assert reply.choices[0].message.content == "It is sunny in Paris."


def test_pass_through_streams_the_tool_calls(serve, scripted):
    _, base = start(
        serve, scripted, lambda call: tool_reply("get_weather", {"city": "Oslo"}, "call_1")
    )
    chunks = list(
        client(base).chat.completions.create(
            model="scripted/small", messages=ASK, tools=[WEATHER], stream=True
        )
    )
    deltas = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or []]
    assert [(d.id, d.function.name) for d in deltas] == [("call_1", "get_weather")]
    assert json.loads(deltas[0].function.arguments) == {"city": "Oslo"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"


def test_pass_through_forwards_response_format(serve, scripted):
    engine, base = start(serve, scripted, lambda call: '{"name": "Alan Turing", "born": 1912}')
    reply = client(base).chat.completions.create(
        model="scripted/small", messages=ASK, response_format=JSON_SCHEMA
    )
    assert engine.calls[0].response_format == JSON_SCHEMA
    assert json.loads(reply.choices[0].message.content) == {"name": "Alan Turing", "born": 1912}


# --- policy model ids: JSON in the requested schema; client-side tools refused --------------


def test_a_policy_answers_in_the_requested_json_schema(serve, scripted):
    engine, base = start(serve, scripted, structuring(['{"name": "Alan Turing", "born": 1912}']))
    raw = client(base).chat.completions.with_raw_response.create(
        model="orchestrator/single", messages=ASK, response_format=JSON_SCHEMA
    )
    reply = raw.parse()
    assert json.loads(reply.choices[0].message.content) == {"name": "Alan Turing", "born": 1912}
    [asked] = [c for c in engine.calls if c.response_format]
    assert asked.response_format == JSON_SCHEMA and asked.model == "big"
    assert json.dumps(PERSON) in asked.system
    assert asked.prompt.endswith("Answer: Cambridge")  # the run's answer
    extension = reply.model_extra["orchestrator"]
    assert extension["structured"] == {"model": "scripted/big", "calls": 1}
    assert extension["usage"]["llm_calls"] == len(engine.calls)


def test_a_policy_re_asks_once_then_refuses_json_off_the_schema(serve, scripted):
    replies = ['{"name": "Alan Turing"}', '{"name": "Alan Turing", "born": 1912}']
    engine, base = start(serve, scripted, structuring(replies))
    reply = client(base).chat.completions.create(
        model="orchestrator/single", messages=ASK, response_format=JSON_SCHEMA
    )
    assert json.loads(reply.choices[0].message.content)["born"] == 1912
    second = [c for c in engine.calls if c.response_format][1]
    assert second.messages[-2] == {"role": "assistant", "content": '{"name": "Alan Turing"}'}
    assert "the answer: 'born' is a required property" in second.prompt

    engine, base = start(serve, scripted, structuring(["not json", '{"born": "1912"}']))
    response = httpx.post(
        f"{base}/v1/chat/completions",
        json={"model": "orchestrator/single", "messages": ASK, "response_format": JSON_SCHEMA},
        timeout=30,
    )
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "invalid_structured_output" and error["param"] == "response_format"
    assert error["message"] == (
        "the answer does not follow the requested JSON schema after one re-ask: "
        "the answer: 'name' is a required property"
    )
    assert float(response.headers["x-orchestrator-cost-usd"]) > 0


def test_a_streamed_policy_in_json_sends_only_the_json_as_content(serve, scripted):
    _, base = start(serve, scripted, structuring(['{"name": "Ada", "born": 1815}']))
    chunks = list(
        client(base).chat.completions.create(
            model="orchestrator/single", messages=ASK, response_format=JSON_SCHEMA, stream=True
        )
    )
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert json.loads(content) == {"name": "Ada", "born": 1815}


def test_a_policy_refuses_client_side_tools_with_a_400_that_says_why(serve, scripted):
    engine, base = start(serve, scripted, default_responder())
    with pytest.raises(openai.BadRequestError) as info:
        client(base).chat.completions.create(
            model="orchestrator/single", messages=ASK, tools=[WEATHER]
        )
    error = info.value.body
    assert error["code"] == "tools_not_supported" and error["param"] == "tools"
    assert error["message"].startswith("orchestrator/single does not return tool calls")
    assert "scripted/big, scripted/small" in error["message"]
    assert engine.calls == []  # refused before any model was asked
    # tools the model may not call are no request for tool calls
    reply = client(base).chat.completions.create(
        model="orchestrator/single", messages=ASK, tools=[WEATHER], tool_choice="none"
    )
    assert reply.choices[0].message.content == "Cambridge"


@pytest.mark.parametrize(
    ("extra", "param", "message"),
    [
        (
            {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}},
            "tool_choice",
            "tool_choice names 'nope', which is not among the tools",
        ),
        ({"tool_choice": "required"}, "tool_choice", "tool_choice without tools"),
        (
            {"functions": [WEATHER["function"]]},
            "functions",
            "functions is not supported: send tools",
        ),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
            "response_format",
            "response_format json_schema needs json_schema.schema",
        ),
        (
            {"response_format": {"type": "yaml"}},
            "response_format.type",
            "response_format.type: Input should be 'text', 'json_object' or 'json_schema'",
        ),
    ],
)
def test_what_cannot_be_honoured_is_refused_by_name(serve, scripted, extra, param, message):
    _, base = start(serve, scripted, default_responder())
    response = httpx.post(
        f"{base}/v1/chat/completions", json={"model": "scripted/small", "messages": ASK, **extra}
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert response.json()["error"]["param"] == param


# --- LangChain's ChatOpenAI, as a new user would point it at the server ----------------------


def chat_openai(base: str, model: str) -> Any:
    langchain_openai = pytest.importorskip("langchain_openai")
    return langchain_openai.ChatOpenAI(
        model=model, base_url=f"{base}/v1", api_key="unused", max_retries=0
    )


def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


def test_langchain_bind_tools_on_a_pass_through_id_gets_tool_calls(serve, scripted):
    engine, base = start(
        serve, scripted, lambda call: tool_reply("get_weather", {"city": "Paris"}, "call_7")
    )
    message = (
        chat_openai(base, "scripted/small").bind_tools([get_weather]).invoke("Weather in Paris?")
    )
    assert message.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_7", "type": "tool_call"}
    ]
    assert engine.calls[0].tool_names == ["get_weather"]


def test_langchain_structured_output_on_a_policy_id(serve, scripted):
    from pydantic import BaseModel

    class Person(BaseModel):
        name: str
        born: int

    engine, base = start(serve, scripted, structuring(['{"name": "Alan Turing", "born": 1912}']))
    model = chat_openai(base, "orchestrator/single").with_structured_output(
        Person, method="json_schema"
    )
    assert model.invoke("Who broke Enigma, and when was he born?") == Person(
        name="Alan Turing", born=1912
    )
    [asked] = [c for c in engine.calls if c.response_format]
    assert asked.response_format["type"] == "json_schema"
    assert set(asked.response_format["json_schema"]["schema"]["properties"]) == {"name", "born"}


def test_langchain_bind_tools_on_a_policy_id_gets_a_400_naming_the_problem(serve, scripted):
    _, base = start(serve, scripted, default_responder())
    with pytest.raises(openai.BadRequestError, match="does not return tool calls"):
        chat_openai(base, "orchestrator/single").bind_tools([get_weather]).invoke(
            "Weather in Paris?"
        )


# --- capabilities that require approval: no one to ask at a server -------------------------


@pytest.mark.parametrize("approve", [False, True], ids=["refused", "approved"])
def test_a_call_needing_approval_is_refused_unless_the_server_approves_tools(
    serve, scripted, approve
):
    from support import EMAIL, Outbox, tool_orchestrator, tool_responder

    from orchestrator.serve.requests import ServerLimits

    scripted(tool_responder({"decompose": False}))
    outbox = Outbox()
    base = serve(
        lambda graph: tool_orchestrator(outbox, approval=True),
        graphs=["wide"],
        limits=ServerLimits(approve_tools=approve),
    )
    ask = [{"role": "user", "content": EMAIL}]
    reply = httpx.post(
        f"{base}/v1/chat/completions", json={"model": "orchestrator/wide", "messages": ask}
    )
    assert reply.status_code == 200
    trace = reply.json()["orchestrator"]
    assert outbox.sent == (["ada@example.org"] if approve else [])
    assert trace["status"] == "ok"
    assert trace["steps"][0]["tool"]["status"] == ("ok" if approve else "refused")

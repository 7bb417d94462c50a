import pytest
from support import scripted_config

from orchestrator.config import ModelConfig, parse_config
from orchestrator.errors import ProviderError
from orchestrator.llm.boundary import make_chat_model
from orchestrator.protocols import EngineReply, ToolCall
from orchestrator.testing import FakeOpenAI, Reply
from orchestrator.testing.scripted import ScriptedCall, ScriptedFailure, tool_reply

MESSAGES = [{"role": "user", "content": "two words"}]


def model(**overrides):
    spec = {"id": "scripted/m", "input_usd_per_mtok": 2.0, "output_usd_per_mtok": 8.0, **overrides}
    return make_chat_model(ModelConfig(**spec))


async def test_completion_is_typed_and_costed_from_our_table(scripted):
    engine = scripted(
        lambda call: EngineReply("hi there", prompt_tokens=1000, completion_tokens=500)
    )
    completion = await model().complete(MESSAGES, temperature=0.3, max_tokens=9, seed=11)
    assert completion.text == "hi there" and completion.model == "scripted/m"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (1000, 500)
    assert completion.cost_usd == pytest.approx((1000 * 2.0 + 500 * 8.0) / 1e6)
    call = engine.calls[0]
    assert (call.temperature, call.max_tokens, call.seed, call.json_mode) == (0.3, 9, 11, False)


async def test_transient_errors_are_retried_then_succeed(scripted):
    failures = ["rate_limit", "server"]

    def respond(call: ScriptedCall) -> str:
        if failures:
            raise ScriptedFailure(failures.pop(0))
        return "fine"

    engine = scripted(respond)
    completion = await model(max_retries=2).complete(MESSAGES, temperature=0, max_tokens=5)
    assert completion.text == "fine" and len(engine.calls) == 3


@pytest.mark.parametrize("kind", ["auth", "bad_request", "not_found", "context_window"])
async def test_permanent_errors_are_not_retried(scripted, kind):
    def respond(call: ScriptedCall) -> str:
        raise ScriptedFailure(kind, "key sk-abcdefghijklmnopqrstuv rejected")

    engine = scripted(respond)
    with pytest.raises(ProviderError) as info:
        await model(max_retries=3).complete(MESSAGES, temperature=0, max_tokens=5)
    assert len(engine.calls) == 1
    assert info.value.kind == kind and info.value.model == "scripted/m"
    assert "sk-abcdefghijklmnopqrstuv" not in str(info.value)


async def test_retries_stop_after_the_configured_attempts(scripted):
    def respond(call: ScriptedCall) -> str:
        raise ScriptedFailure("server", "boom")

    engine = scripted(respond)
    with pytest.raises(ProviderError, match="server"):
        await model(max_retries=2).complete(MESSAGES, temperature=0, max_tokens=5)
    assert len(engine.calls) == 3


async def test_length_finish_is_reported(scripted):
    scripted(lambda call: "one two three four five six")
    completion = await model().complete(MESSAGES, temperature=0, max_tokens=3)
    assert completion.finish_reason == "length" and completion.usage.completion_tokens == 3


async def test_json_mode_reaches_the_engine(scripted):
    engine = scripted(lambda call: "{}")
    await model().complete(MESSAGES, temperature=0, max_tokens=3, json_mode=True)
    assert engine.calls[0].json_mode is True


def test_config_models_build(scripted):
    scripted()
    config = parse_config(scripted_config())
    assert [make_chat_model(m).id for m in config.models] == ["scripted/big", "scripted/small"]


async def test_a_streamed_call_passes_each_piece_on_and_returns_the_whole(scripted):
    engine = scripted(lambda call: "Two steps.\nAnswer: Paris")
    pieces: list[str] = []
    completion = await model().complete(
        MESSAGES, temperature=0.3, max_tokens=9, seed=11, on_text=pieces.append
    )
    assert pieces == ["Two ", "steps.\n", "Answer: ", "Paris"]
    assert completion.text == "Two steps.\nAnswer: Paris"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (2, 4)
    assert completion.cost_usd == pytest.approx((2 * 2.0 + 4 * 8.0) / 1e6)
    call = engine.calls[0]
    assert (call.temperature, call.max_tokens, call.seed) == (0.3, 9, 11)


async def test_a_streamed_call_is_retried_while_nothing_was_passed_on(scripted):
    failures = ["rate_limit"]

    def respond(call: ScriptedCall) -> str:
        if failures:
            raise ScriptedFailure(failures.pop(0))
        return "fine now"

    engine = scripted(respond)
    pieces: list[str] = []
    completion = await model(max_retries=1).complete(
        MESSAGES, temperature=0, max_tokens=5, on_text=pieces.append
    )
    assert completion.text == "fine now" and pieces == ["fine ", "now"]
    assert len(engine.calls) == 2


# --- tool calling: the request carries tools, the Completion the model's calls ---------------

ADD = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}},
    },
}
FORCE_ADD = {"type": "function", "function": {"name": "add"}}


async def test_tools_reach_the_engine_and_its_tool_call_comes_back_typed(scripted):
    engine = scripted(lambda call: tool_reply("add", {"a": 2}, "call_7"))
    completion = await model().complete(
        MESSAGES, temperature=0, max_tokens=20, tools=[ADD], tool_choice=FORCE_ADD
    )
    call = engine.calls[0]
    assert call.tools == [ADD] and call.tool_choice == FORCE_ADD
    assert completion.tool_calls == (ToolCall("call_7", "add", '{"a": 2}'),)
    assert completion.text == "" and completion.finish_reason == "tool_calls"


async def test_a_streamed_tool_call_is_rebuilt_whole(scripted):
    scripted(lambda call: tool_reply("add", {"a": 5}))
    pieces: list[str] = []
    completion = await model().complete(
        MESSAGES, temperature=0, max_tokens=20, tools=[ADD], on_text=pieces.append
    )
    assert completion.tool_calls == (ToolCall("call_1", "add", '{"a": 5}'),)
    assert "".join(pieces) == ""


async def test_response_format_wins_over_json_mode_and_reaches_the_engine(scripted):
    engine = scripted(lambda call: '{"x": 1}')
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    await model().complete(
        MESSAGES, temperature=0, max_tokens=5, json_mode=True, response_format=schema
    )
    assert engine.calls[0].response_format == schema and engine.calls[0].json_mode is True


async def test_a_tool_conversation_reaches_the_engine_with_its_calls_and_replies(scripted):
    engine = scripted(lambda call: "Answer: 3")
    messages = [
        {"role": "user", "content": "add 1 and 2"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [ToolCall("c0", "add", "{}").to_openai()],
        },
        {"role": "tool", "tool_call_id": "c0", "content": "3"},
    ]
    completion = await model().complete(messages, temperature=0, max_tokens=5, tools=[ADD])
    seen = engine.calls[0].messages
    assert seen[1]["content"] == "" and seen[1]["tool_calls"][0]["id"] == "c0"
    assert seen[2] == {"role": "tool", "content": "3", "tool_call_id": "c0"}
    assert completion.text == "Answer: 3" and completion.tool_calls == ()


@pytest.mark.parametrize("stream", [False, True])
async def test_openai_endpoint_gets_tools_and_returns_tool_calls(stream, monkeypatch):
    monkeypatch.setenv("FAKE_OPENAI_KEY", "sk-fake")
    with FakeOpenAI(default=Reply.tool_call("add", {"a": 1}, "call_9")) as server:
        spec = ModelConfig(
            id="openai/fake",
            input_usd_per_mtok=1.0,
            output_usd_per_mtok=1.0,
            api_base=server.base_url,
            api_key_env="FAKE_OPENAI_KEY",
        )
        pieces: list[str] = []
        completion = await make_chat_model(spec).complete(
            MESSAGES,
            temperature=0,
            max_tokens=20,
            tools=[ADD],
            tool_choice=FORCE_ADD,
            on_text=pieces.append if stream else None,
        )
        sent = server.chat_requests[0]
    assert sent.get("tools") == [ADD] and sent.get("tool_choice") == FORCE_ADD
    assert completion.tool_calls == (ToolCall("call_9", "add", '{"a": 1}'),)
    assert completion.finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("model_id", "fields", "named"),
    [
        ("ollama/llama3", {"tools": [ADD], "tool_choice": FORCE_ADD}, "tools, tool_choice"),
        ("replicate/meta/llama-3", {"response_format": {"type": "json_object"}}, "response_format"),
    ],
)
async def test_a_field_the_provider_does_not_take_is_refused_not_dropped(model_id, fields, named):
    with FakeOpenAI() as server:
        spec = ModelConfig(
            id=model_id, input_usd_per_mtok=1.0, output_usd_per_mtok=1.0, api_base=server.base_url
        )
        with pytest.raises(ProviderError) as raised:
            await make_chat_model(spec).complete(MESSAGES, temperature=0, max_tokens=5, **fields)
        assert server.chat_requests == []  # refused before anything was sent
    assert raised.value.kind == "bad_request"
    assert f"its provider takes no {named} (litellm would drop them)" in str(raised.value)

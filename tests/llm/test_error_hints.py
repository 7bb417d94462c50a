"""A failed call says why and where to look: `<model>: <kind>: <provider's words>; check
<hint>`, the hint worded from the kind and the model's config. Real HTTP failures come from
the fake OpenAI server, reached by litellm as `openai/<name>` + `api_base`."""

import pytest

from orchestrator.config import ModelConfig
from orchestrator.errors import ProviderError
from orchestrator.llm.boundary import make_chat_model
from orchestrator.llm.hints import hint
from orchestrator.llm.retries import provider_message
from orchestrator.testing.fake_openai import FakeOpenAI, Reply

ASK = [{"role": "user", "content": "What is 2+2?"}]


def spec(**fields: object) -> ModelConfig:
    base: dict[str, object] = {
        "id": "openai/gpt-fake",
        "input_usd_per_mtok": 1.0,
        "output_usd_per_mtok": 2.0,
        "max_retries": 0,
    }
    return ModelConfig.model_validate(base | fields)


HOSTED = spec(api_key_env="FAKE_OPENAI_KEY")
SELF_HOSTED = spec(api_base="http://gpu-box:8000/v1", api_key_env="FAKE_OPENAI_KEY", timeout_s=30)


@pytest.mark.parametrize(
    ("kind", "model", "expected"),
    [
        ("auth", HOSTED, "the API key in $FAKE_OPENAI_KEY (api_key_env of openai/gpt-fake)"),
        (
            "auth",
            spec(),
            "the API key litellm reads for 'openai' (e.g. $OPENAI_API_KEY), "
            "or name its variable with api_key_env for openai/gpt-fake",
        ),
        ("not_found", HOSTED, "the model id 'openai/gpt-fake'"),
        (
            "not_found",
            SELF_HOSTED,
            "the model id 'openai/gpt-fake' and api_base http://gpu-box:8000/v1",
        ),
        (
            "bad_request",
            HOSTED,
            "the model id 'openai/gpt-fake' and the parameters its provider accepts",
        ),
        ("connection", SELF_HOSTED, "that api_base http://gpu-box:8000/v1 is reachable"),
        ("connection", HOSTED, "the network connection to the provider of openai/gpt-fake"),
        (
            "timeout",
            SELF_HOSTED,
            "that api_base http://gpu-box:8000/v1 answers, and timeout_s (30) for openai/gpt-fake",
        ),
        (
            "rate_limit",
            HOSTED,
            "the provider's rate limit and quota for openai/gpt-fake (tried 1 time)",
        ),
        ("server", SELF_HOSTED, "the status of api_base http://gpu-box:8000/v1 (tried 1 time)"),
        ("server", spec(max_retries=3), "the status of the provider's endpoint (tried 4 times)"),
        (
            "malformed",
            SELF_HOSTED,
            "that api_base http://gpu-box:8000/v1 is an OpenAI-compatible chat endpoint",
        ),
        (
            "context_window",
            HOSTED,
            "the length of the question and context against context_window (8192 tokens) "
            "of openai/gpt-fake",
        ),
        ("other", HOSTED, "the configuration of openai/gpt-fake"),
    ],
)
def test_the_hint_is_worded_from_the_kind_and_the_models_config(kind, model, expected, monkeypatch):
    monkeypatch.setenv("FAKE_OPENAI_KEY", "sk-wrong")
    assert hint(kind, model) == expected


def test_an_unset_key_variable_is_named_as_unset(monkeypatch):
    monkeypatch.delenv("FAKE_OPENAI_KEY", raising=False)
    assert (
        hint("auth", HOSTED)
        == "$FAKE_OPENAI_KEY, which is not set (api_key_env of openai/gpt-fake)"
    )


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (
            "litellm.AuthenticationError: AuthenticationError: OpenAIException - Wrong key",
            "Wrong key",
        ),
        ("litellm.RateLimitError: scripted failure", "scripted failure"),
        ("plain words: kept whole\nsecond line", "plain words: kept whole"),
    ],
)
def test_the_providers_words_lose_litellms_class_names(raw, said):
    assert provider_message(Exception(raw)) == said


async def test_a_refused_key_names_model_kind_and_the_keys_variable(monkeypatch):
    monkeypatch.setenv("FAKE_OPENAI_KEY", "sk-wrong-0123456789")
    with FakeOpenAI(default=Reply.error(401, "Incorrect API key provided")) as server:
        model = make_chat_model(spec(api_base=server.base_url, api_key_env="FAKE_OPENAI_KEY"))
        with pytest.raises(ProviderError) as info:
            await model.complete(ASK, temperature=0.0, max_tokens=8)
    assert len(server.chat_requests) == 1  # auth is never retried
    assert (info.value.kind, info.value.model) == ("auth", "openai/gpt-fake")
    assert str(info.value) == (
        "openai/gpt-fake: auth: Incorrect API key provided; "
        "check the API key in $FAKE_OPENAI_KEY (api_key_env of openai/gpt-fake)"
    )


async def test_an_unknown_model_names_the_id_and_the_api_base(monkeypatch):
    monkeypatch.setenv("FAKE_OPENAI_KEY", "sk-test")
    with FakeOpenAI(default=Reply.error(404, "The model does not exist")) as server:
        model = make_chat_model(spec(api_base=server.base_url, api_key_env="FAKE_OPENAI_KEY"))
        with pytest.raises(ProviderError) as info:
            await model.complete(ASK, temperature=0.0, max_tokens=8)
    assert str(info.value) == (
        "openai/gpt-fake: not_found: The model does not exist; "
        f"check the model id 'openai/gpt-fake' and api_base {server.base_url}"
    )


async def test_an_unreachable_api_base_is_named(monkeypatch):
    monkeypatch.setenv("FAKE_OPENAI_KEY", "sk-test")
    with FakeOpenAI() as server:
        gone = server.base_url  # nothing listens there once the server has closed
    model = make_chat_model(spec(api_base=gone, api_key_env="FAKE_OPENAI_KEY", timeout_s=5))
    with pytest.raises(ProviderError) as info:
        await model.complete(ASK, temperature=0.0, max_tokens=8)
    assert info.value.kind == "connection"
    assert str(info.value).startswith("openai/gpt-fake: connection: ")
    assert str(info.value).endswith(f"; check that api_base {gone} is reachable")

"""The fake OpenAI-compatible server, and the LLM boundary over real HTTP against it."""

import contextlib
import http.client
import itertools
import json
import threading
import time
import urllib.request

import pytest
from fake_fixtures import SECRET, unit_cost

from orchestrator.config import ModelConfig
from orchestrator.errors import ProviderError
from orchestrator.llm.boundary import make_chat_model
from orchestrator.testing.fake_openai import FakeOpenAI, Reply

MESSAGES = [{"role": "user", "content": "What is 2 + 2?"}]


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("FAKE_KEY", SECRET)
    with FakeOpenAI() as fake:
        yield fake


def model(server, **overrides):
    spec = {
        "id": "openai/fake",
        "api_base": server.base_url,
        "api_key_env": "FAKE_KEY",
        "input_usd_per_mtok": 1.0,
        "output_usd_per_mtok": 2.0,
        "max_retries": 2,
        **overrides,
    }
    return make_chat_model(ModelConfig(**spec))


def post(server, body):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request(
        "POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"}
    )
    return conn, conn.getresponse()


# --- the server itself -------------------------------------------------------------------


def test_models_endpoint_lists_the_served_models(server):
    with urllib.request.urlopen(server.base_url + "/models", timeout=5) as response:
        data = json.loads(response.read())
    assert [m["id"] for m in data["data"]] == ["fake"]
    assert server.requests[0].method == "GET" and server.requests[0].path == "/v1/models"


def test_unknown_path_is_a_404_and_recorded(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("POST", "/v1/embeddings", "{}")
    assert conn.getresponse().status == 404
    assert [r.path for r in server.requests] == ["/v1/embeddings"]
    assert server.chat_requests == []


def test_script_is_consumed_in_order_then_the_default_answers(server):
    server.default = Reply.ok("default")
    server.script(Reply.ok("first"), Reply.error(503, "busy"))
    seen = []
    for _ in range(3):
        conn, response = post(server, {"model": "fake", "messages": MESSAGES})
        body = json.loads(response.read())
        text = body["choices"][0]["message"]["content"] if "choices" in body else None
        seen.append((response.status, text or body["error"]["message"]))
        conn.close()
    assert seen == [(200, "first"), (503, "busy"), (200, "default")]


def test_responder_takes_precedence_and_may_defer_to_the_script(server):
    server.responder = lambda r: Reply.ok("from responder") if r.get("seed") == 1 else None
    server.script(Reply.ok("from script"))
    texts = []
    for seed in (2, 1):
        conn, response = post(server, {"model": "fake", "messages": MESSAGES, "seed": seed})
        texts.append(json.loads(response.read())["choices"][0]["message"]["content"])
        conn.close()
    assert texts == ["from script", "from responder"]


def test_sse_stream_sends_one_chunk_per_word_then_done(server):
    server.script(Reply.ok("Answer: four apples", completion_tokens=3))
    _conn, response = post(server, {"model": "fake", "messages": MESSAGES, "stream": True})
    assert response.getheader("Content-Type") == "text/event-stream"
    frames = [line[len("data: ") :] for line in response.read().decode().split("\n\n") if line]
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(f) for f in frames[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "Answer: four apples"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == 3


def test_truncated_stream_ends_without_done_and_an_incomplete_body(server):
    server.script(Reply.truncated_stream("one two three four", after=2))
    _conn, response = post(server, {"model": "fake", "messages": MESSAGES, "stream": True})
    with pytest.raises(http.client.IncompleteRead) as info:
        response.read()
    assert b"[DONE]" not in info.value.partial
    assert info.value.partial.count(b"data: ") == 2


def test_the_openai_sdk_reads_streams_and_sees_a_truncated_one_fail(server):
    """A real client (the openai SDK litellm uses) against the fake: the stream parses, a
    truncated one is a connection error, not a silently short answer."""
    import openai

    client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0, timeout=5)
    server.script(Reply.ok("Answer: four apples"), Reply.truncated_stream("one two three", after=3))
    stream = client.chat.completions.create(model="fake", messages=MESSAGES, stream=True)
    chunks = [c.choices[0] for c in stream if c.choices]
    assert "".join(c.delta.content or "" for c in chunks) == "Answer: four apples"
    assert chunks[-1].finish_reason == "stop"
    received = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in client.chat.completions.create(model="fake", messages=MESSAGES, stream=True):
            received.append(chunk.choices[0].delta.content)
    assert received == ["", "one", " two"]
    assert [m.id for m in client.models.list().data] == ["fake"]


def test_close_wakes_a_handler_that_is_hanging():
    with FakeOpenAI(default=Reply.hang(60)) as fake:
        thread = threading.Thread(target=lambda: _swallow(post, fake), daemon=True)
        thread.start()
        while not fake.chat_requests:
            time.sleep(0.01)
        started = time.monotonic()
    assert time.monotonic() - started < 2


def _swallow(fn, *args):
    with contextlib.suppress(OSError):
        fn(*args, {"model": "fake", "messages": MESSAGES})


# --- the LLM boundary over HTTP ----------------------------------------------------------


async def test_what_crosses_the_boundary_is_recorded(server):
    completion = await model(server).complete(MESSAGES, temperature=0.3, max_tokens=9, seed=11)
    assert completion.text == "Answer: ok" and completion.model == "openai/fake"
    assert completion.cost_usd == pytest.approx(unit_cost())
    [request] = server.chat_requests
    assert request.path == "/v1/chat/completions"
    assert request.model == "fake" and request.messages == MESSAGES
    assert (request.get("temperature"), request.get("max_tokens"), request.get("seed")) == (
        0.3,
        9,
        11,
    )
    assert request.headers["authorization"] == f"Bearer {SECRET}"


async def test_429_with_retry_after_is_retried_once_after_the_hinted_wait(server):
    """One retry, >= 1 s later, the cost counted once."""
    server.script(Reply.error(429, "slow down", retry_after=1), Reply.ok("Answer: 4"))
    completion = await model(server, max_retries=3).complete(MESSAGES, temperature=0, max_tokens=5)
    first, second = server.chat_requests
    assert second.received_at - first.received_at >= 1.0
    assert completion.text == "Answer: 4"
    assert completion.cost_usd == pytest.approx(unit_cost())


async def test_5xx_is_retried_per_policy_and_the_sdk_adds_no_retries_of_its_own(server):
    server.default = Reply.error(500, "upstream exploded")
    with pytest.raises(ProviderError) as info:
        await model(server, max_retries=2).complete(MESSAGES, temperature=0, max_tokens=5)
    assert info.value.kind == "server" and info.value.model == "openai/fake"
    requests = server.chat_requests
    assert len(requests) == 3  # 1 + max_retries, not multiplied by the openai SDK's retries
    assert {r.headers.get("x-stainless-retry-count", "0") for r in requests} == {"0"}
    gaps = [b.received_at - a.received_at for a, b in itertools.pairwise(requests)]
    assert gaps[0] >= 0.25 and gaps[1] >= 0.5  # 0.25 s * 2^n back-off


async def test_401_fails_fast_without_a_retry_and_names_the_model(server):
    """No retry, a fast typed error; test_secrets checks that no key material leaks."""
    server.default = Reply.error(401, f"Incorrect API key provided: {SECRET}")
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        await model(server, max_retries=5).complete(MESSAGES, temperature=0, max_tokens=5)
    assert time.monotonic() - started < 1.0
    assert len(server.chat_requests) == 1
    assert info.value.kind == "auth" and str(info.value).startswith("openai/fake: auth:")
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (Reply.malformed(), "malformed"),
        (Reply.malformed("<html>oops</html>"), "malformed"),
        (Reply.no_choices(), "malformed"),
    ],
)
async def test_unusable_bodies_are_typed_errors_and_not_retried(server, reply, kind):
    server.default = reply
    with pytest.raises(ProviderError) as info:
        await model(server, max_retries=3).complete(MESSAGES, temperature=0, max_tokens=5)
    assert info.value.kind == kind
    assert len(server.chat_requests) == 1


async def test_length_finish_reason_is_reported(server):
    server.default = Reply.length("Answer: cut", completion_tokens=5)
    completion = await model(server).complete(MESSAGES, temperature=0, max_tokens=5)
    assert completion.finish_reason == "length"


async def test_a_hanging_call_times_out_at_its_timeout(server):
    server.default = Reply.hang(30)
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        await model(server, timeout_s=0.5, max_retries=0).complete(
            MESSAGES, temperature=0, max_tokens=5
        )
    assert info.value.kind == "timeout"
    assert 0.5 <= time.monotonic() - started < 1.5
    assert len(server.chat_requests) == 1


# --- streamed calls ----------------------------------------------------------------------


async def test_a_streamed_call_passes_text_on_as_it_arrives_and_returns_the_whole(server):
    server.script(Reply.ok("Paris is the capital", prompt_tokens=7, completion_tokens=4))
    pieces: list[str] = []
    completion = await model(server).complete(
        MESSAGES, temperature=0, max_tokens=9, on_text=pieces.append
    )
    assert pieces == ["Paris", " is", " the", " capital"]  # the fake's chunks, one per word
    assert completion.text == "Paris is the capital" and completion.finish_reason == "stop"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (7, 4)
    assert completion.cost_usd == pytest.approx((7 * 1.0 + 4 * 2.0) / 1e6)
    [request] = server.chat_requests
    assert request.get("stream") is True and request.get("stream_options") == {
        "include_usage": True
    }


async def test_a_stream_that_fails_before_any_text_is_retried(server):
    server.script(Reply.error(503, "warming up"), Reply.ok("Answer: 4"))
    pieces: list[str] = []
    completion = await model(server).complete(
        MESSAGES, temperature=0, max_tokens=5, on_text=pieces.append
    )
    assert completion.text == "Answer: 4" and "".join(pieces) == "Answer: 4"
    assert len(server.chat_requests) == 2


async def test_a_stream_cut_after_text_was_passed_on_fails_without_a_retry(server):
    """A retry would send the text again from its start; the caller gets an error instead."""
    server.default = Reply.truncated_stream("one two three four", after=3)
    pieces: list[str] = []
    with pytest.raises(ProviderError) as info:
        await model(server, max_retries=3).complete(
            MESSAGES, temperature=0, max_tokens=5, on_text=pieces.append
        )
    assert pieces == ["one", " two"]  # the role chunk, then two words, then the cut
    assert len(server.chat_requests) == 1
    assert info.value.model == "openai/fake"

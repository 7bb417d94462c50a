"""The OpenAI-compatible server, live on 127.0.0.1: the official `openai` client for the
happy paths (plain and streamed), plain HTTP (httpx) for progress events and error cases."""

import json
import time
from typing import Any

import httpx
import openai
import pytest
from support import default_responder, kind_of, scripted_config

from orchestrator.api import Orchestrator
from orchestrator.config import parse_config
from orchestrator.protocols import RouteDecision
from orchestrator.serve.requests import ServerLimits
from orchestrator.testing.scripted import ScriptedCall, ScriptedFailure, count_tokens


def cfg(**sections: Any) -> Any:
    return parse_config(scripted_config(**sections))


def client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)


PRICES = {"big": (10.0, 30.0), "small": (1.0, 2.0)}


def reply_tokens(call: ScriptedCall) -> int:
    """What the default scripted responder's reply to this call counts, in tokens."""
    return count_tokens(default_responder()(call))


def expected_cost(calls: list[ScriptedCall]) -> float:
    """Cost by hand: scripted tokens are words; PRICES are USD per million tokens."""
    total = 0.0
    for c in calls:
        inp, out = PRICES[c.model]
        total += sum(count_tokens(m["content"]) for m in c.messages) * inp
        total += reply_tokens(c) * out
    return total / 1e6


ASK = [{"role": "user", "content": "Which is older?"}]
CONVERSATION = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "I am asking about Alan Turing."},
    {"role": "assistant", "content": "Noted."},
    {"role": "user", "content": "Which is older?"},
]


def test_openai_client_gets_the_orchestrated_answer_routed_model_and_cost(serve, scripted):
    engine = scripted()
    base = serve(cfg(graph={"width": 2}))
    raw = client(base).chat.completions.with_raw_response.create(
        model="orchestrator/wide", messages=CONVERSATION
    )
    reply = raw.parse()
    assert reply.choices[0].message.content == "University of Cambridge"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.model == "scripted/big"
    extension = reply.model_extra["orchestrator"]
    assert extension["status"] == "ok" and extension["models"] == ["scripted/big"]
    assert [p["id"] for p in extension["plan"]] == ["q1", "q2", "q3"]
    assert raw.headers["x-orchestrator-run-id"] == extension["run_id"]
    # the last user message is the question; the earlier ones reach the samples as context
    plan_call = next(c for c in engine.calls if kind_of(c) == "plan")
    assert "Which is older?" in plan_call.prompt
    samples = [c for c in engine.calls if kind_of(c) == "sample"]
    assert len(samples) == 3 * 2
    assert all("user: I am asking about Alan Turing." in c.prompt for c in samples)
    assert all("system: You are terse." in c.prompt for c in samples)
    cost = expected_cost(engine.calls)
    assert float(raw.headers["x-orchestrator-cost-usd"]) == pytest.approx(cost, rel=1e-6)
    assert reply.usage.prompt_tokens == sum(
        count_tokens(m["content"]) for c in engine.calls for m in c.messages
    )


def test_openai_client_streams_content_then_usage_then_done(serve, scripted):
    engine = scripted()
    base = serve(cfg(graph={"width": 2}))
    chunks = list(
        client(base).chat.completions.create(
            model="orchestrator/wide",
            messages=CONVERSATION,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == "University of Cambridge"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) == 3
    finish = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert [c.choices[0].finish_reason for c in finish] == ["stop"]
    assert finish[0].model_extra["orchestrator"]["status"] == "ok"
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens == sum(reply_tokens(c) for c in engine.calls)
    assert {c.model for c in chunks} == {"scripted/big"}


def _timed_chunks(base: str, body: dict[str, Any]) -> list[tuple[float, dict[str, Any]]]:
    """The stream's data chunks with their arrival times (monotonic seconds)."""
    timed = []
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=30) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                timed.append((time.monotonic(), json.loads(line[6:])))
    return timed


def _deltas(timed: list[tuple[float, dict[str, Any]]], key: str) -> list[str]:
    return [
        c["choices"][0]["delta"][key]
        for _, c in timed
        if c["choices"] and c["choices"][0]["delta"].get(key)
    ]


def test_stream_sends_the_synthesis_as_it_is_written(serve, scripted):
    """Each piece of the synthesis goes out as the model writes it: the whole text as
    `reasoning_content`, its answer line as `content`, well before the run ends."""
    scripted(piece_delay_s=0.1)
    base = serve(cfg(graph={"width": 1}))
    timed = _timed_chunks(base, {"model": "orchestrator/wide", "messages": ASK, "stream": True})
    synthesis = "The sub-answers say so.\nAnswer: University of Cambridge"
    assert "".join(_deltas(timed, "reasoning_content")) == synthesis
    assert _deltas(timed, "content") == ["University", " of", " Cambridge"]
    first_piece = next(
        t for t, c in timed if c["choices"] and c["choices"][0]["delta"].get("reasoning_content")
    )
    finished, last = next((t, c) for t, c in timed if c["choices"][0]["finish_reason"])
    assert finished - first_piece >= 0.5  # 7 pieces, 0.1 s apart: sent as they came
    assert timed[0][1]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert {c["model"] for _, c in timed} == {"scripted/big"}
    assert last["orchestrator"]["answer"] == "University of Cambridge"


def test_a_second_answer_line_stops_the_content_and_the_finish_has_the_answer(serve, scripted):
    def respond(call: ScriptedCall) -> str:
        if kind_of(call) == "synthesize":
            return "Answer: Oxford\nNo, the sub-answers disagree.\nAnswer: Cambridge"
        return default_responder()(call)

    scripted(respond)
    base = serve(cfg(graph={"width": 1}))
    timed = _timed_chunks(base, {"model": "orchestrator/wide", "messages": ASK, "stream": True})
    assert _deltas(timed, "content") == ["Oxford"]
    finish = next(c for _, c in timed if c["choices"] and c["choices"][0]["finish_reason"])
    assert finish["orchestrator"]["answer"] == "Cambridge"


def test_a_failed_synthesis_streams_the_fallback_answer_at_the_end(serve, scripted):
    def respond(call: ScriptedCall) -> str:
        if kind_of(call) == "synthesize":
            raise ScriptedFailure("auth", "synthesizer key revoked")
        return default_responder()(call)

    scripted(respond)
    base = serve(cfg(graph={"width": 1}))
    timed = _timed_chunks(base, {"model": "orchestrator/wide", "messages": ASK, "stream": True})
    assert _deltas(timed, "reasoning_content") == []
    assert _deltas(timed, "content") == ["Cambridge"]  # the last sub-query's vote
    finish = next(c for _, c in timed if c["choices"] and c["choices"][0]["finish_reason"])
    assert finish["orchestrator"]["status"] == "partial"


def test_request_seed_is_the_base_of_every_sample_seed(serve, scripted):
    from orchestrator.graph.nodes import sample_seed

    engine = scripted()
    base = serve(cfg(graph={"width": 2}))
    for seed in (None, 7):
        engine.calls.clear()
        extra = {} if seed is None else {"seed": seed}
        client(base).chat.completions.create(model="orchestrator/wide", messages=ASK, **extra)
        seeds = sorted(c.seed for c in engine.calls if kind_of(c) == "sample")
        assert seeds == sorted(sample_seed(seed or 0, i, k) for i in range(3) for k in range(2))


def test_stream_carries_progress_comments_and_ends_with_done(serve, scripted):
    scripted()
    base = serve(cfg(graph={"width": 2}))
    body = {
        "model": "orchestrator/wide",
        "stream": True,
        "messages": [{"role": "user", "content": "Which is older?"}],
    }
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["x-orchestrator-run-id"]
        lines = [line for line in r.iter_lines() if line]
    events = [json.loads(line[2:]) for line in lines if line.startswith(": ")]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "plan" and kinds.count("route") == 3
    assert kinds.count("sample") == 6 and kinds.count("vote") == 3
    data = [line for line in lines if line.startswith("data: ")]
    assert data[-1] == "data: [DONE]"
    assert all("usage" not in json.loads(d[6:]) for d in data[:-1])  # not asked for


def test_router_point_sets_alpha_and_width_of_the_run(serve, scripted):
    engine = scripted()
    seen: list[float] = []

    class Recording:
        embedder_name, models = "hashing-64", ["scripted/big", "scripted/small"]

        def route(self, vector, alpha=1.0):
            seen.append(alpha)
            return RouteDecision("scripted/small" if alpha < 0.5 else "scripted/big")

    def factory(graph: str) -> Orchestrator:
        return Orchestrator.from_config(cfg(), graph=graph, router=Recording())

    base = serve(factory)
    reply = client(base).chat.completions.create(
        model="orchestrator/wide?alpha=0.4&width=4",
        messages=[{"role": "user", "content": "Which is older?"}],
    )
    assert seen == [0.4, 0.4, 0.4]
    assert reply.model == "scripted/small"
    samples = [c for c in engine.calls if kind_of(c) == "sample"]
    assert len(samples) == 3 * 4 and {c.model for c in samples} == {"small"}


def test_pool_model_id_is_one_call_passed_straight_through(serve, scripted):
    engine = scripted(lambda call: "Paris is the capital.")
    base = serve(cfg())
    raw = client(base).chat.completions.with_raw_response.create(
        model="scripted/small", messages=CONVERSATION, max_tokens=50, temperature=0.2, seed=7
    )
    reply = raw.parse()
    assert len(engine.calls) == 1
    call = engine.calls[0]
    assert call.model == "small" and call.messages == CONVERSATION
    assert (call.max_tokens, call.temperature, call.seed) == (50, 0.2, 7)
    assert reply.model == "scripted/small"
    assert reply.choices[0].message.content == "Paris is the capital."
    prompt = sum(count_tokens(m["content"]) for m in CONVERSATION)
    assert reply.usage.prompt_tokens == prompt and reply.usage.completion_tokens == 4
    assert float(raw.headers["x-orchestrator-cost-usd"]) == pytest.approx((prompt + 8) / 1e6)


def test_pool_model_streams_and_its_failures_map_to_http_errors(serve, scripted):
    def respond(call: ScriptedCall) -> str:
        if call.seed == 1:
            raise ScriptedFailure("auth", "bad key")
        return "Paris is the capital."

    engine = scripted(respond)
    base = serve(cfg(budget={"max_cost_usd": 0.01}))
    chunks = list(
        client(base).chat.completions.create(
            model="scripted/small",
            messages=ASK,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "Paris is the capital."
    )
    assert [c.choices[0].delta.content for c in chunks if c.choices][1:-1] == [
        "Paris ",
        "is ",
        "the ",
        "capital.",
    ]  # as the model wrote them
    assert chunks[-1].usage.completion_tokens == 4 and len(engine.calls) == 1
    url = f"{base}/v1/chat/completions"
    failing = {"model": "scripted/small", "messages": ASK, "seed": 1}
    _error(httpx.post(url, json=failing), 502, "auth")
    # $30 per million output tokens: 4000 tokens would be $0.12, over the $0.01 budget
    costly = {"model": "scripted/big", "messages": ASK, "max_tokens": 4000}
    _error(httpx.post(url, json=costly), 400, "budget_exceeded")
    assert len(engine.calls) == 2


def test_single_and_deep_policies_run_their_graphs(serve, scripted):
    engine = scripted()
    base = serve(cfg(graph={"width": 3}))
    messages = [{"role": "user", "content": "Which is older?"}]
    single = client(base).chat.completions.create(model="orchestrator/single", messages=messages)
    assert single.choices[0].message.content == "Cambridge"
    assert [kind_of(c) for c in engine.calls] == ["sample"] * 3  # no plan, no synthesis
    engine.calls.clear()
    deep = client(base).chat.completions.create(
        model="orchestrator/deep?depth=1", messages=messages
    )
    assert deep.model_extra["orchestrator"]["status"] == "ok"
    assert deep.choices[0].message.content == "University of Cambridge"
    kinds = [kind_of(c) for c in engine.calls]
    assert kinds[0] == "plan" and kinds[-1] == "synthesize"
    assert len(kinds) == 1 + 3 * (1 + 2 * 1) + 1  # one trajectory of 3 calls per sub-query


def test_models_health_and_ready_list_policies_and_pool(serve, scripted):
    scripted()
    base = serve(cfg())
    ids = [m.id for m in client(base).models.list().data]
    assert ids == [
        "orchestrator/wide",
        "orchestrator/deep",
        "orchestrator/single",
        "scripted/big",
        "scripted/small",
    ]
    assert httpx.get(f"{base}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{base}/ready").json()
    assert ready["status"] == "ready" and ready["models"] == ["scripted/big", "scripted/small"]
    assert ready["router"] == "FixedRouter"


def test_not_ready_while_models_fail_to_load_but_healthy(serve):
    def broken(graph: str) -> Orchestrator:
        raise RuntimeError("weights missing")

    base = serve(broken, wait_ready=False)
    deadline = time.monotonic() + 10
    while (r := httpx.get(f"{base}/ready")).status_code == 503 and "loading" in r.text:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert r.status_code == 503 and "weights missing" in r.json()["error"]["message"]
    assert httpx.get(f"{base}/health").status_code == 200
    chat = httpx.post(f"{base}/v1/chat/completions", json={"model": "x", "messages": []})
    assert chat.status_code == 503 and chat.json()["error"]["code"] == "not_ready"


def _error(response: httpx.Response, status: int, code: str, param: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert error["code"] == code and error["param"] == param


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        ({"model": "orchestrator/wide?width=17", "messages": ASK}, 400, "invalid_policy", "model"),
        ({"model": "orchestrator/wide?alpha=2", "messages": ASK}, 400, "invalid_policy", "model"),
        ({"model": "orchestrator/wide?beta=1", "messages": ASK}, 400, "invalid_policy", "model"),
        ({"model": "orchestrator/wide?width=x", "messages": ASK}, 400, "invalid_policy", "model"),
        (
            {"model": "orchestrator/wide", "messages": ASK, "max_tokens": 4097},
            400,
            "max_tokens_too_large",
            "max_tokens",
        ),
        (
            {"model": "orchestrator/wide", "messages": ASK * 65},
            400,
            "too_many_messages",
            "messages",
        ),
        ({"model": "orchestrator/wide", "messages": []}, 400, "invalid_value", "messages"),
        (
            {"model": "orchestrator/wide", "messages": [{"role": "system", "content": "hi"}]},
            400,
            "no_user_message",
            "messages",
        ),
        (
            {"model": "orchestrator/wide", "messages": [{"role": "user", "content": " "}]},
            400,
            "invalid_input",
            None,
        ),
        ({"model": "orchestrator/wide", "messages": ASK, "n": 2}, 400, "invalid_value", "n"),
        (
            {"model": "orchestrator/wide", "messages": ASK, "stream": True, "max_tokens": 10**6},
            400,
            "max_tokens_too_large",
            "max_tokens",
        ),
        ({"model": "gpt-17", "messages": ASK}, 404, "model_not_found", "model"),
        ({"model": "orchestrator/nope", "messages": ASK}, 404, "model_not_found", "model"),
        ([1, 2], 400, "invalid_body", None),
    ],
)
def test_bad_requests_get_openai_style_errors(serve, scripted, body, status, code, param):
    engine = scripted()
    base = serve(cfg())
    _error(httpx.post(f"{base}/v1/chat/completions", json=body), status, code, param)
    assert engine.calls == []


def test_body_size_limit_is_413_declared_or_streamed(serve, scripted):
    engine = scripted()
    base = serve(cfg(), limits=ServerLimits(max_body_bytes=2000))
    big = {"model": "orchestrator/wide", "messages": [{"role": "user", "content": "x" * 3000}]}
    url = f"{base}/v1/chat/completions"
    _error(httpx.post(url, json=big), 413, "body_too_large")
    chunked = (part for part in [json.dumps(big).encode()[:1500], json.dumps(big).encode()[1500:]])
    _error(httpx.post(url, content=chunked), 413, "body_too_large")
    _error(httpx.post(url, content=b"{not json"), 400, "invalid_json")
    _error(httpx.get(f"{base}/v1/nothing"), 404, None)
    assert engine.calls == []


def test_failed_run_is_502_with_its_cost(serve, scripted):
    def respond(call):
        if kind_of(call) == "plan":
            return "not a plan"
        raise ScriptedFailure("bad_request", "the model refused")

    scripted(respond)
    base = serve(cfg())
    r = httpx.post(
        f"{base}/v1/chat/completions", json={"model": "orchestrator/wide", "messages": ASK}
    )
    _error(r, 502, "orchestration_failed")
    assert "every sample failed" in r.json()["error"]["message"]
    assert "the model refused" in r.json()["error"]["message"]
    assert float(r.headers["x-orchestrator-cost-usd"]) > 0 and r.headers["x-orchestrator-run-id"]


def test_a_planner_that_never_answers_in_json_degrades_to_one_subquery(serve, scripted):
    scripted(lambda call: "not a plan" if kind_of(call) == "plan" else "Answer: Cambridge")
    base = serve(cfg())
    r = httpx.post(
        f"{base}/v1/chat/completions", json={"model": "orchestrator/wide", "messages": ASK}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["choices"][0]["message"]["content"] == "Cambridge"
    assert body["orchestrator"]["status"] == "partial"
    assert "planning failed twice" in body["orchestrator"]["error"]


def _settled(engine, total: int) -> int:
    """Calls that reached the engine once no new one came for 1 s (an uncancelled run makes
    one every 0.25 s); the count must then stay put."""
    settled, quiet_since = len(engine.calls), time.monotonic()
    while time.monotonic() - quiet_since < 1.0:
        time.sleep(0.05)
        if len(engine.calls) != settled:
            settled, quiet_since = len(engine.calls), time.monotonic()
    time.sleep(1.5)
    assert len(engine.calls) == settled, "calls kept reaching the engine after disconnect"
    assert 0 < settled < total
    return settled


WIDE_SLOW = {"width": 8, "max_concurrency": 2}
TOTAL_CALLS = 1 + 3 * 8 + 1


def test_client_disconnect_cancels_pending_calls(serve, scripted):
    engine = scripted(delay_s=0.25)
    base = serve(cfg(graph=WIDE_SLOW))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{base}/v1/chat/completions",
            timeout=0.8,
            json={"model": "orchestrator/wide", "messages": ASK},
        )
    _settled(engine, TOTAL_CALLS)


def test_stream_disconnect_cancels_pending_calls(serve, scripted):
    engine = scripted(delay_s=0.25)
    base = serve(cfg(graph=WIDE_SLOW))
    body = {"model": "orchestrator/wide", "messages": ASK, "stream": True}
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=10) as r:
        for line in r.iter_lines():
            if line.startswith(": ") and json.loads(line[2:])["event"] == "sample":
                break  # leave mid-run
    _settled(engine, TOTAL_CALLS)


def test_serve_command_is_registered_and_binds_loopback_by_default():
    from orchestrator.cli.command import _parser

    args = _parser().parse_args(["serve"])
    assert (args.host, args.port, args.config) == ("127.0.0.1", 8000, None)
    assert args.func.__name__ == "serve_command"


def test_serve_cli_module_imports_no_server_or_model_packages():
    import subprocess
    import sys

    code = (
        "import sys, orchestrator.cli.command as c; c._parser(); "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'litellm', 'langgraph') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize(
    ("pieces", "sent"),
    [
        (["Because.\n", "Answer: ", "**Par", "is**"], ["Par", "is"]),  # bold marks never sent
        (["Answer: \\boxed{4", "2}"], ["42"]),  # held back until the box closes
        (["No answer line at all"], []),
    ],
)
def test_answer_stream_sends_only_what_the_final_answer_starts_with(pieces, sent):
    from orchestrator.graph.aggregation import extract_answer
    from orchestrator.serve.stream import AnswerStream

    stream = AnswerStream()
    assert [s for s in map(stream.feed, pieces) if s] == sent
    final = extract_answer("".join(pieces))
    assert "".join(sent) + stream.finish(final) == final

"""The server's OpenAI-style error bodies say why a run or a pass-through call failed: the
model, the kind of failure and what to check, the same words as the CLI's error line."""

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from orchestrator.config import parse_config
from orchestrator.serve.app import create_app
from orchestrator.testing.fake_openai import FakeOpenAI, Reply

ASK = [{"role": "user", "content": "What is 2+2?"}]
REFUSED = (
    "openai/gpt-fake: auth: Incorrect API key provided; "
    "check the API key in $FAKE_OPENAI_KEY (api_key_env of openai/gpt-fake)"
)


@pytest.fixture
def refusing(monkeypatch) -> Iterator[TestClient]:
    """The app over one model on a fake OpenAI server that refuses the configured key."""
    monkeypatch.setenv("FAKE_OPENAI_KEY", "sk-wrong-0123456789")
    with FakeOpenAI(default=Reply.error(401, "Incorrect API key provided")) as server:
        model = {
            "id": "openai/gpt-fake",
            "input_usd_per_mtok": 1.0,
            "output_usd_per_mtok": 2.0,
            "api_base": server.base_url,
            "api_key_env": "FAKE_OPENAI_KEY",
            "max_retries": 0,
        }
        config = parse_config(
            {"models": [model], "embedder": {"name": "hashing-32"}, "graph": {"width": 2}}
        )
        with TestClient(create_app(config, graphs=["single"])) as client:
            deadline = time.monotonic() + 20
            while client.get("/ready").status_code != 200:
                assert time.monotonic() < deadline, "server did not become ready"
                time.sleep(0.02)
            yield client


def test_a_failed_run_is_a_502_that_says_why(refusing):
    r = refusing.post(
        "/v1/chat/completions", json={"model": "orchestrator/single", "messages": ASK}
    )
    assert r.status_code == 502
    # before: "the run failed: every sample failed"
    assert r.json() == {
        "error": {
            "message": f"the run failed: every sample failed: {REFUSED}",
            "type": "server_error",
            "param": None,
            "code": "orchestration_failed",
        }
    }
    assert "sk-wrong" not in r.text


def test_a_failed_pass_through_call_says_why(refusing):
    r = refusing.post("/v1/chat/completions", json={"model": "openai/gpt-fake", "messages": ASK})
    assert r.status_code == 502
    assert r.json() == {
        "error": {"message": REFUSED, "type": "upstream_error", "param": None, "code": "auth"}
    }


def test_a_failed_stream_ends_with_an_error_event_that_says_why(refusing):
    body = {"model": "openai/gpt-fake", "messages": ASK, "stream": True}
    with refusing.stream("POST", "/v1/chat/completions", json=body) as r:
        frames = [line[len("data: ") :] for line in r.iter_lines() if line.startswith("data: ")]
    assert frames[-1] == "[DONE]"
    assert json.loads(frames[-2]) == {
        "error": {"message": REFUSED, "type": "upstream_error", "param": None, "code": "auth"}
    }

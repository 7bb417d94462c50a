"""Secrets never reach an error, a log line or a trace: redaction, where keys come from,
`config show`, and a provider that rejects or echoes the key."""

import logging

import litellm
import pytest
from fake_fixtures import SECRET, graph_responder, orchestrator, stage

from orchestrator.config import parse_config, to_toml
from orchestrator.secrets import REDACTED, RedactingFilter, api_key, redact
from orchestrator.testing.fake_openai import FakeOpenAI, Reply, Request

# Not key-shaped: only an explicit list of configured secrets can catch this one.
PLAIN_SECRET = "q7Wm2Xv9Lp4Rt8Zk3Nc6Hb1Jd5Fg0Sy"


def pieces(secret: str, size: int = 8) -> list[str]:
    """Every run of `size` characters of a secret: none may appear anywhere."""
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def assert_clean(text: str, *secrets: str) -> None:
    for secret in secrets:
        leaked = [p for p in pieces(secret) if p in text]
        assert not leaked, f"key material in output: {leaked[:3]}"


# --- redact and the logging filter -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {PLAIN_SECRET}",
        f"{{'authorization': 'Bearer {PLAIN_SECRET}'}}",
        f"GET https://api.example.com/v1/models?key={PLAIN_SECRET}&alt=json",
        f"api_key={PLAIN_SECRET}",
        f'{{"x-api-key": "{PLAIN_SECRET}"}}',
        f"the key {SECRET} was rejected",
    ],
)
def test_redact_removes_headers_url_keys_and_key_shaped_strings(text):
    out = redact(text)
    assert REDACTED in out
    assert_clean(out, PLAIN_SECRET, SECRET)


def test_redact_removes_explicitly_named_secrets_of_any_shape():
    assert redact(f"echo {PLAIN_SECRET} done", [PLAIN_SECRET]) == f"echo {REDACTED} done"
    assert redact("nothing to hide here") == "nothing to hide here"


def test_redacting_filter_rewrites_message_and_arguments(caplog):
    log = logging.getLogger("orchestrator.test_secrets")
    log.addFilter(RedactingFilter([PLAIN_SECRET]))
    try:
        with caplog.at_level(logging.DEBUG, logger=log.name):
            log.debug(
                "calling with %s and headers %r",
                PLAIN_SECRET,
                {"Authorization": f"Bearer {SECRET}"},
            )
    finally:
        log.filters.clear()
    assert caplog.records and "calling with" in caplog.text
    assert_clean(caplog.text, PLAIN_SECRET, SECRET)


def test_keys_come_only_from_the_named_environment_variable(monkeypatch):
    monkeypatch.setenv("FAKE_KEY", SECRET)
    assert api_key("FAKE_KEY") == SECRET
    assert api_key(None) is None
    monkeypatch.delenv("FAKE_KEY")
    assert api_key("FAKE_KEY") is None


def test_config_show_never_prints_a_key(monkeypatch):
    monkeypatch.setenv("FAKE_KEY", SECRET)
    cfg = parse_config(
        {
            "models": [
                {
                    "id": "openai/x",
                    "input_usd_per_mtok": 1,
                    "output_usd_per_mtok": 1,
                    "api_key_env": "FAKE_KEY",
                    "api_base": f"https://h/v1?key={PLAIN_SECRET}",
                }
            ]
        }
    )
    text = to_toml(cfg)
    assert 'api_key_env = "FAKE_KEY"' in text
    assert_clean(text, SECRET, PLAIN_SECRET)


# --- over HTTP ---------------------------------------------------------------------------


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("FAKE_KEY", SECRET)
    with FakeOpenAI(responder=graph_responder()) as fake:
        yield fake


async def test_unauthorized_fails_fast_names_the_model_and_leaks_no_key(server, caplog):
    server.responder = lambda r: Reply.error(401, f"Incorrect API key provided: {SECRET}.")
    with caplog.at_level(logging.DEBUG):
        answer = await orchestrator(server).aask("Where did Turing study?")
    assert len(server.chat_requests) == 1  # the planner's call, not retried
    assert answer.status == "error"
    assert (answer.error or "").startswith("planning failed: openai/big: auth:")
    assert_clean(answer.model_dump_json(), SECRET)
    assert_clean(caplog.text, SECRET)


async def test_debug_logs_and_traces_carry_no_secret(monkeypatch, server, caplog, capfd):
    """Everything at DEBUG (ours, litellm's, the HTTP clients'), a key in the environment,
    and a provider that echoes it back in bodies and errors: no key material comes out in
    log records, stdout/stderr or the trace. (Raw model text, as streamed in progress events,
    is the model's output and is not rewritten.)"""
    monkeypatch.setenv("FAKE_KEY", PLAIN_SECRET)
    echoed = f"debug: authorization: Bearer {PLAIN_SECRET} key={PLAIN_SECRET}"
    first = []

    def respond(request: Request) -> Reply:
        if stage(request) == "sample" and not first:
            first.append(request)
            return Reply.error(500, f"upstream rejected {PLAIN_SECRET}")
        if stage(request) == "sample":
            return Reply.ok(f"{echoed}\nAnswer: Cambridge")
        return graph_responder()(request)

    server.responder = respond
    loggers = ["", "LiteLLM", "LiteLLM Router", "openai", "httpx", "httpcore", "orchestrator"]
    for name in loggers:
        caplog.set_level(logging.DEBUG, logger=name)
    monkeypatch.setattr(litellm, "set_verbose", True)
    answer = await orchestrator(server).aask("Where did Turing study?")
    assert answer.status == "ok" and len(server.chat_requests) == 3  # plan, a sample retried once
    assert server.chat_requests[0].headers["authorization"] == f"Bearer {PLAIN_SECRET}"
    out, err = capfd.readouterr()
    assert "RAW RESPONSE" in caplog.text or "RAW RESPONSE" in err  # DEBUG really was on
    assert_clean(caplog.text, PLAIN_SECRET)
    assert_clean(out + err, PLAIN_SECRET)
    assert_clean(answer.model_dump_json(), PLAIN_SECRET)

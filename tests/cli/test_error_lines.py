"""When a run's calls fail, the CLI's one `error:` line says why: the model, the kind of
failure and what to check. Tried as a new user would, with a key the provider refuses."""

import json
import os
import subprocess
import sys

import pytest
from support import GSM, write

from orchestrator.cli import main
from orchestrator.testing.fake_openai import FakeOpenAI, Reply
from orchestrator.testing.scripted import ScriptedFailure

REFUSED = (
    "openai/gpt-fake: auth: Incorrect API key provided; "
    "check the API key in $FAKE_OPENAI_KEY (api_key_env of openai/gpt-fake)"
)


def fake_openai_config(tmp_path, base_url: str) -> str:
    path = tmp_path / "openai.toml"
    path.write_text(
        '[[models]]\nid = "openai/gpt-fake"\ninput_usd_per_mtok = 1.0\n'
        f'output_usd_per_mtok = 2.0\napi_base = "{base_url}"\napi_key_env = "FAKE_OPENAI_KEY"\n'
        'max_retries = 0\n[graph]\nwidth = 2\n[embedder]\nname = "hashing-32"\n'
    )
    return str(path)


def scripted_config(tmp_path) -> str:
    path = tmp_path / "scripted.toml"
    path.write_text(
        '[[models]]\nid = "scripted/big"\ninput_usd_per_mtok = 10.0\noutput_usd_per_mtok = 30.0\n'
        'api_key_env = "SCRIPTED_KEY"\n[embedder]\nname = "hashing-32"\n'
    )
    return str(path)


@pytest.mark.heavy
def test_ask_with_a_refused_key_prints_why_and_exits_1(tmp_path):
    refused = Reply.error(401, "Incorrect API key provided")
    with FakeOpenAI(default=refused) as server:
        config = fake_openai_config(tmp_path, server.base_url)
        ask = ["ask", "What is 2+2?", "--graph", "single", "--config", config]
        result = subprocess.run(
            [sys.executable, "-m", "orchestrator.cli", *ask, "--runs", str(tmp_path / "r.sqlite")],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "FAKE_OPENAI_KEY": "sk-wrong-0123456789"},
        )
    assert result.returncode == 1
    # before: "error: every sample failed"
    assert result.stderr.splitlines()[-1] == f"error: every sample failed: {REFUSED}"
    assert "sk-wrong-0123456789" not in result.stderr + result.stdout
    assert len(server.chat_requests) == 2  # both samples tried once: auth is never retried


def test_ask_json_prints_the_same_line_and_the_planner_failure_too(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_OPENAI_KEY", "sk-wrong-0123456789")
    runs = ["--runs", str(tmp_path / "runs.sqlite")]
    with FakeOpenAI(default=Reply.error(401, "Incorrect API key provided")) as server:
        config = ["--config", fake_openai_config(tmp_path, server.base_url)]
        assert main(["ask", "What is 2+2?", "--graph", "single", "--json", *config, *runs]) == 1
        printed = capsys.readouterr()
        assert json.loads(printed.out)["status"] == "error"
        assert printed.err.splitlines()[-1] == f"error: every sample failed: {REFUSED}"
        assert main(["ask", "What is 2+2?", "--graph", "wide", *config, *runs]) == 1
        assert capsys.readouterr().err.splitlines()[-1] == f"error: planning failed: {REFUSED}"


def test_a_scripted_auth_failure_names_the_keys_variable(scripted, tmp_path, capsys):
    def refuse(call):
        raise ScriptedFailure("auth", "key rejected")

    scripted(refuse)
    config = ["--config", scripted_config(tmp_path), "--runs", str(tmp_path / "runs.sqlite")]
    assert main(["ask", "What is 2+2?", "--graph", "single", "--width", "3", *config]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "error: every sample failed: scripted/big: auth: key rejected; "
        "check $SCRIPTED_KEY, which is not set (api_key_env of scripted/big)"
    )


def test_mixed_failures_name_the_commonest_and_how_many_said_it(scripted, tmp_path, capsys):
    def fail(call):
        raise ScriptedFailure("not_found" if call.seed == 0 else "bad_request", "no")

    scripted(fail)
    config = ["--config", scripted_config(tmp_path), "--runs", str(tmp_path / "runs.sqlite")]
    assert main(["ask", "What is 2+2?", "--graph", "single", "--width", "3", *config]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "error: every sample failed (2 of 3 failed calls): scripted/big: bad_request: no; "
        "check the model id 'scripted/big' and the parameters its provider accepts"
    )


def test_eval_where_every_row_failed_says_why(scripted, tmp_path, capsys):
    def refuse(call):
        raise ScriptedFailure("auth", "key rejected")

    scripted(refuse)
    data = write(tmp_path / "gsm8k.jsonl", GSM[:2])
    args = ["eval", "--data", str(data), "--config", scripted_config(tmp_path)]
    code = main([*args, "--graph", "single", "--out", str(tmp_path / "out"), "--no-plots"])
    assert code == 1
    # before: nothing on stderr but the progress line
    assert capsys.readouterr().err.splitlines()[-1] == (
        "error: every row failed: every sample failed: scripted/big: auth: key rejected; "
        "check $SCRIPTED_KEY, which is not set (api_key_env of scripted/big)"
    )

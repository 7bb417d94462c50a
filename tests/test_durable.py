"""Durable runs: a run interrupted mid-way resumes without repeating completed model calls."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter

from conftest import default_responder, kind_of, scripted_config

from orchestrator.api import Orchestrator
from orchestrator.config import parse_config
from orchestrator.scripted import ScriptedCall


def key(call: ScriptedCall) -> tuple[str, int | None]:
    return kind_of(call), call.seed


async def test_cancelled_run_resumes_without_repeating_completed_calls(scripted, tmp_path):
    store = tmp_path / "runs.sqlite"
    base = default_responder()
    five_done = asyncio.Event()

    def counting(call: ScriptedCall) -> str:
        if len(first.calls) >= 5:  # plan + q1's four samples have answered
            five_done.set()
        return base(call)

    cfg = parse_config(scripted_config(graph={"width": 4, "max_concurrency": 1}))
    first = scripted(counting, delay_s=0.05)
    run = asyncio.create_task(
        Orchestrator.from_config(cfg).aask("Which is older?", run_id="r1", store=store)
    )
    await five_done.wait()
    await asyncio.sleep(0.2)  # let the finished branches' checkpoint writes land
    run.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await run
    made_before = [key(c) for c in first.calls]

    second = scripted(base)
    answer = await Orchestrator.from_config(cfg).aresume("r1", store=store)
    again = [key(c) for c in second.calls]
    in_flight = made_before[-1:]
    assert answer.status == "ok" and answer.answer == "University of Cambridge"
    assert not (set(made_before) - set(in_flight)) & set(again)
    assert len(again) + len(made_before) - len(set(again) & set(in_flight)) == 1 + 12 + 1
    assert [len(s.samples) for s in answer.steps] == [4, 4, 4]
    assert answer.usage.llm_calls == 14


async def test_resuming_an_unknown_run_is_a_clear_error(scripted, tmp_path):
    import pytest

    from orchestrator.errors import InputError

    scripted()
    orchestrator = Orchestrator.from_config(parse_config(scripted_config()))
    with pytest.raises(InputError, match="no run 'nope'"):
        await orchestrator.aresume("nope", store=tmp_path / "runs.sqlite")


RUNNER = textwrap.dedent(
    """
    import json, sys, time
    sys.path.insert(0, {tests!r})
    from conftest import default_responder, scripted_config
    from orchestrator.api import Orchestrator
    from orchestrator.config import parse_config
    from orchestrator.llm import register_engine
    from orchestrator.scripted import ScriptedEngine

    base = default_responder()

    def respond(call):
        text = base(call)
        with open({log!r}, "a") as log:
            log.write(json.dumps([call.system[:20], call.seed]) + "\\n")
        return text

    register_engine("scripted", ScriptedEngine(respond, delay_s=0.15))
    cfg = parse_config(scripted_config(graph={{"width": 4, "max_concurrency": 2}}))
    orch = Orchestrator.from_config(cfg)
    if sys.argv[1] == "ask":
        answer = orch.ask("Which is older?", run_id="killed", store={store!r})
    else:
        answer = orch.resume("killed", store={store!r})
    print(json.dumps(answer.to_json()))
    """
)


def test_sigkill_mid_run_then_resume_makes_only_the_missing_calls(tmp_path):
    log, store = tmp_path / "calls.log", tmp_path / "runs.sqlite"
    script = tmp_path / "runner.py"
    tests = os.path.dirname(__file__)
    script.write_text(RUNNER.format(tests=tests, log=str(log), store=str(store)))
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, str(script), "ask"], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
        not log.exists() or len(log.read_text().splitlines()) < 6
    ):
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = log.read_text().splitlines()
    assert 6 <= len(before) < 14, "the kill must land mid-run"

    result = subprocess.run([sys.executable, str(script), "resume"], env=env, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    calls = Counter(log.read_text().splitlines())
    repeated = [c for c, n in calls.items() if n > 1]
    # Only calls in flight at the kill (max_concurrency=2) may run again; the plan never does.
    assert len(repeated) <= 2 and not any("planner" in c for c in repeated)
    assert len(calls) == 14
    assert sum(calls.values()) - len(before) <= 14 - len(before) + 2

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
from pathlib import Path
from typing import Any

import pytest
from support import default_responder, kind_of, scripted_config

from orchestrator.api import Orchestrator, checkpointer
from orchestrator.config import parse_config
from orchestrator.llm.boundary import register_engine
from orchestrator.protocols import EngineReply
from orchestrator.testing.scripted import ScriptedCall, ScriptedEngine


def key(call: ScriptedCall) -> tuple[str, int | None]:
    return kind_of(call), call.seed


class StallingEngine(ScriptedEngine):
    """Answers the first `answered` calls, then holds every later one until cancelled."""

    def __init__(self, answered: int) -> None:
        super().__init__(default_responder())
        self.answered = answered
        self.stalled = asyncio.Event()

    async def generate(self, *args: Any, **kwargs: Any) -> EngineReply:
        if len(self.calls) >= self.answered:
            self.stalled.set()
            await asyncio.Event().wait()
        return await super().generate(*args, **kwargs)


async def saved_results(orchestrator: Orchestrator, store: Path, run_id: str) -> int:
    """How many of the current step's tasks have their results in the checkpoint store."""
    async with checkpointer(store) as saver:
        graph = orchestrator.graph.copy(update={"checkpointer": saver})
        snapshot = await graph.aget_state({"configurable": {"thread_id": run_id}})
    return sum(task.result is not None for task in snapshot.tasks)


async def test_cancelled_run_resumes_without_repeating_completed_calls(scripted, tmp_path):
    store = tmp_path / "runs.sqlite"
    cfg = parse_config(scripted_config(graph={"width": 4, "max_concurrency": 1}))
    first = StallingEngine(answered=1 + 6)  # the plan, then six of the first eight samples
    register_engine("scripted", first)
    orchestrator = Orchestrator.from_config(cfg)
    run = asyncio.create_task(orchestrator.aask("Which is older?", run_id="r1", store=store))
    await first.stalled.wait()
    async with asyncio.timeout(30):  # the sixth sample's result may still be on its way
        while await saved_results(orchestrator, store, "r1") < 6:
            await asyncio.sleep(0.01)
    run.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await run
    made_before = [key(c) for c in first.calls]

    second = scripted()
    answer = await Orchestrator.from_config(cfg).aresume("r1", store=store)
    again = [key(c) for c in second.calls]
    assert answer.status == "ok" and answer.answer == "University of Cambridge"
    assert not set(made_before) & set(again)
    assert len(made_before) + len(again) == 1 + 12 + 1
    assert [len(s.samples) for s in answer.steps] == [4, 4, 4]
    assert answer.usage.llm_calls == 14


async def test_resuming_an_unknown_run_is_a_clear_error(scripted, tmp_path):
    from orchestrator.errors import InputError

    scripted()
    orchestrator = Orchestrator.from_config(parse_config(scripted_config()))
    with pytest.raises(InputError, match="no run 'nope'"):
        await orchestrator.aresume("nope", store=tmp_path / "runs.sqlite")


RUNNER = textwrap.dedent(
    """
    import json, sys, time
    sys.path.insert(0, {tests!r})
    from support import default_responder, scripted_config
    from orchestrator.api import Orchestrator, checkpointer
    from orchestrator.config import parse_config
    from orchestrator.llm.boundary import register_engine
    from orchestrator.testing.scripted import ScriptedEngine

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


@pytest.mark.heavy
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

    result = subprocess.run(
        [sys.executable, str(script), "resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    calls = Counter(log.read_text().splitlines())
    repeated = [c for c, n in calls.items() if n > 1]
    # Only calls in flight at the kill (max_concurrency=2) may run again; the plan never does.
    assert len(repeated) <= 2 and not any("planner" in c for c in repeated)
    assert len(calls) == 14
    assert sum(calls.values()) - len(before) <= 14 - len(before) + 2

"""The scripted engine for tests that run in other processes (Ray workers): `--setup
worker_setup:scripted` registers it in the driver and in each worker. Its replies depend only
on the call (no per-process state, `zlib.crc32` rather than the salted `hash`), so every
process answers alike."""

import json
import os
import re
import zlib
from pathlib import Path

from orchestrator.llm.boundary import register_engine
from orchestrator.testing.scripted import ScriptedCall, ScriptedEngine

SUM = re.compile(r"What is (\d+) \+ (\d+)\?")


def respond(call: ScriptedCall) -> str:
    """Plans one sub-query, samples a sum that is wrong for a third of the seeds, and
    synthesizes the voted sub-answer."""
    text = "\n".join(m["content"] for m in call.messages)
    found = SUM.search(text)
    if "planner" in call.system:
        question = found.group(0) if found else "What?"
        return json.dumps({"subqueries": [{"id": "q1", "question": question}]})
    if "final answer" in call.system:
        voted = re.search(r"-> (\S+)", call.prompt)
        return f"Answer: {voted.group(1) if voted else 'unknown'}"
    a, b = (int(x) for x in found.groups()) if found else (0, 0)
    wrong = zlib.crc32(f"{a}+{b}|{call.seed}".encode()) % 3 == 0
    return f"Adding.\nAnswer: {a + b + int(wrong)}"


def scripted() -> None:
    """Register the engine; in a Ray worker, leave this process's id in ORCH_TEST_WORKER_DIR."""
    register_engine("scripted", ScriptedEngine(respond, delay_s=0.01))
    marks = os.environ.get("ORCH_TEST_WORKER_DIR")
    if marks:
        Path(marks, str(os.getpid())).touch()


def broken_in_workers() -> None:
    """Register the engine in the driver, fail in any other process."""
    if str(os.getpid()) != os.environ.get("ORCH_TEST_DRIVER_PID", str(os.getpid())):
        raise RuntimeError("worker setup exploded")
    scripted()

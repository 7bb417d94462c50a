"""What the bench scripts' smoke mode (`--smoke`) runs on: the small fixtures in this folder
and the project's fakes, so every script runs offline in seconds and reads nothing outside
the repository. tests/bench/test_bench_smoke.py runs each script's smoke mode, so a change
that breaks a benchmark fails the test suite. Smoke runs measure nothing: their numbers are
not results.

- qa/: two questions each of gsm8k, arc_challenge, hotpotqa_distractor (HotpotQA with its
  supporting paragraphs only) and musique_context, copied from ../shared/data/qa;
- routing/routerbench_3task_11models.jsonl: 16 short queries of each of its three datasets
  copied from ../shared/data/routing;
- results.jsonl: bench/results/routed_vs_single's rows for the questions in qa/;
- scripted.toml: a config with every role on the scripted engine's model.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.testing.scripted import ScriptedCall, ScriptedEngine

HERE = Path(__file__).resolve().parent
QA = HERE / "qa"
ROUTING = HERE / "routing"
RESULTS = HERE / "results.jsonl"
CONFIG = HERE / "scripted.toml"  # every role on MODEL, the hashing embedder
MODEL = "scripted/m"  # served by the scripted engine that `scripted_engine` registers
MODEL_ENTRY = {"id": MODEL, "input_usd_per_mtok": 1.0, "output_usd_per_mtok": 1.0}
EMBEDDER = "hashing-64"
LOCAL_MODEL = "smollm2-135m"  # the smallest real local model, for the scripts that need one
PLAN = json.dumps({"subqueries": [{"id": "q1", "question": "What is the answer?"}]})


def scratch() -> Path:
    """A new temporary folder, removed when the process exits."""
    path = Path(tempfile.mkdtemp(prefix="bench-smoke-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def respond(call: ScriptedCall) -> str:
    """A one-sub-query plan for the planner; the same short answer for every other call."""
    if "planner" in call.system:
        return PLAN
    return "Reasoning briefly.\nAnswer: 42"


def scripted_engine(delay_s: float = 0.0) -> ScriptedEngine:
    """A scripted engine answering with `respond`, registered as the `scripted/` provider."""
    from orchestrator.llm.boundary import register_engine
    from orchestrator.testing.scripted import ScriptedEngine

    engine = ScriptedEngine(respond, delay_s=delay_s)
    register_engine("scripted", engine)
    return engine

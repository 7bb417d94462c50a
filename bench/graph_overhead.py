"""Orchestration overhead and concurrency of the wide graph, measured side by side.

One question, 3 independent sub-queries × width 8 (26 model calls), against
1. a zero-latency scripted provider: the wall time is pure orchestration overhead
   (graph + LLM boundary), reported with and without litellm in the path;
2. a scripted provider where every call takes 200 ms: the critical path is
   plan → sample → synthesize = 600 ms, so wall / 600 ms near 1 proves the 24 samples
   really run concurrently.

Run: python bench/graph_overhead.py [--repeats N] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from orchestrator.api import Orchestrator
from orchestrator.config import parse_config
from orchestrator.llm.boundary import register_engine
from orchestrator.protocols import ChatModel, Completion, Message, TextSink, Usage
from orchestrator.testing.scripted import ScriptedCall, ScriptedEngine

PLAN = json.dumps(
    {"subqueries": [{"id": f"q{i}", "question": f"Fact number {i}?"} for i in (1, 2, 3)]}
)
CONFIG = {
    "models": [{"id": "scripted/m", "input_usd_per_mtok": 1.0, "output_usd_per_mtok": 1.0}],
    "embedder": {"name": "hashing-64"},
    "graph": {"width": 8, "max_concurrency": 64},
}


def respond(call: ScriptedCall) -> str:
    if "planner" in call.system:
        return PLAN
    return "Answer: 42"


class DirectModel:
    """The same scripted engine called without litellm: isolates the graph's own overhead.
    A `ChatModel` (orchestrator/protocols.py), streaming to `on_text` when given."""

    def __init__(self, engine: ScriptedEngine) -> None:
        self.id = "scripted/m"
        self.engine = engine

    async def complete(
        self,
        messages: list[Message],
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_mode: bool = False,
        on_text: TextSink | None = None,
    ) -> Completion:
        started = time.perf_counter()
        reply = await self.engine.generate(
            "m",
            messages,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            json_mode=json_mode,
            on_text=on_text,
        )
        usage = Usage(reply.prompt_tokens, reply.completion_tokens)
        return Completion(
            reply.text, self.id, usage, 0.0, time.perf_counter() - started, reply.finish_reason
        )


async def wall_times(orchestrator: Orchestrator, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        answer = await orchestrator.aask("How do the three facts combine?")
        times.append(time.perf_counter() - started)
        assert answer.status == "ok" and answer.usage.llm_calls == 26, answer.status
    return times


def build(delay_s: float, direct: bool) -> Orchestrator:
    engine = ScriptedEngine(respond, delay_s=delay_s)
    register_engine("scripted", engine)
    orchestrator = Orchestrator.from_config(parse_config(CONFIG))
    if direct:
        model: ChatModel = DirectModel(engine)
        orchestrator.models = {"scripted/m": model}
    return orchestrator


async def main(repeats: int, delay_s: float) -> None:
    await wall_times(build(0.0, False), 2)  # warm-up: imports, litellm's first-call setup
    full = statistics.median(await wall_times(build(0.0, False), repeats))
    graph_only = statistics.median(await wall_times(build(0.0, True), repeats))
    slow = statistics.median(await wall_times(build(delay_s, False), max(3, repeats // 4)))
    critical = 3 * delay_s  # plan → sample → synthesize
    print("wide graph, 3 sub-queries x width 8 = 26 calls")
    print(f"overhead, graph + litellm boundary : {full * 1000:7.1f} ms  (target < 50 ms)")
    print(f"overhead, graph alone              : {graph_only * 1000:7.1f} ms")
    print(f"litellm share of the overhead      : {1 - graph_only / full:7.1%}")
    print(
        f"{delay_s * 1000:.0f} ms per call: wall {slow * 1000:.0f} ms / critical path "
        f"{critical * 1000:.0f} ms = {slow / critical:.3f}  (target < 1.3)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument(
        "--smoke", action="store_true", help="2 repeats, 20 ms calls: checks it runs, in seconds"
    )
    args = parser.parse_args()
    asyncio.run(main(2, 0.02) if args.smoke else main(args.repeats, 0.2))

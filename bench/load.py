"""Load: N questions at once through the wide graph against the fake OpenAI server.

Each request waits `--latency` seconds at the server; a seeded `--error-rate` of them fail with
a 500 (retried per policy). Prints questions/s, p50/p95 latency and the status counts.

    python bench/load.py                      # 200 questions, 50 ms, 5 % errors, width 2
    python bench/load.py --questions 50 --width 4
    python bench/load.py --smoke              # 10 questions, 5 ms: checks it runs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import threading
import time
import tracemalloc
from collections import Counter
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("FAKE_KEY", "sk-bench-not-a-real-key-000000")

from orchestrator.api import Orchestrator
from orchestrator.config import parse_config
from orchestrator.testing.fake_openai import FakeOpenAI, Reply, Request

PLAN = json.dumps({"subqueries": [{"id": "q1", "question": "Where did Alan Turing study?"}]})


def responder(latency: float, error_rate: float, seed: int) -> Any:
    rng, lock = random.Random(seed), threading.Lock()

    def respond(request: Request) -> Reply:
        with lock:
            fail = rng.random() < error_rate
        if fail:
            return Reply.error(500, "injected failure", delay_s=latency)
        if "planner" in request.system:
            return Reply.ok(PLAN, delay_s=latency)
        if "final answer" in request.system:
            return Reply.ok("Answer: University of Cambridge", delay_s=latency)
        return Reply.ok("Answer: Cambridge", delay_s=latency)

    return respond


def config(base_url: str, width: int, retries: int) -> dict[str, Any]:
    model = {
        "id": "openai/fake",
        "api_base": base_url,
        "api_key_env": "FAKE_KEY",
        "input_usd_per_mtok": 1.0,
        "output_usd_per_mtok": 2.0,
        "max_retries": retries,
    }
    return {"models": [model], "embedder": {"name": "hashing-64"}, "graph": {"width": width}}


async def one(orch: Orchestrator, i: int, latencies: list[float]) -> str:
    """Question i's status, its latency appended to `latencies`."""
    started = time.perf_counter()
    try:
        answer = await orch.aask(f"Question {i}: where did Turing study?")
        status = answer.status
    except Exception as exc:  # a typed error still counts as an outcome
        status = type(exc).__name__
    latencies.append(time.perf_counter() - started)
    return status


async def run(args: argparse.Namespace) -> None:
    with FakeOpenAI(responder=responder(args.latency, args.error_rate, args.seed)) as server:
        orch = Orchestrator.from_config(
            parse_config(config(server.base_url, args.width, args.retries))
        )
        await orch.aask("warm-up: where did Turing study?")  # imports, client set-up
        server.requests.clear()
        latencies: list[float] = []
        if args.tracemalloc:
            tracemalloc.start()
        started, cpu = time.perf_counter(), time.process_time()
        statuses = await asyncio.wait_for(
            asyncio.gather(*(one(orch, i, latencies) for i in range(args.questions))), args.timeout
        )
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
        tracemalloc.stop()
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"questions: {args.questions} at once, width {args.width}, latency "
        f"{args.latency * 1000:.0f} ms, error rate {args.error_rate:.0%}, retries {args.retries}"
    )
    print(
        f"wall: {wall:.2f} s   questions/s: {args.questions / wall:.1f}   "
        f"requests: {len(server.chat_requests)} ({len(server.chat_requests) / wall:.0f}/s)   "
        f"cpu: {cpu:.2f} s"
    )
    print(f"latency p50: {cuts[49]:.2f} s   p95: {cuts[94]:.2f} s   max: {max(latencies):.2f} s")
    print(f"status: {dict(sorted(Counter(statuses).items()))}")
    if peak is not None:
        print(f"tracemalloc peak: {peak / 2**20:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--width", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--error-rate", type=float, default=0.05)
    parser.add_argument("--retries", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--tracemalloc", action="store_true", help="also report peak memory")
    parser.add_argument(
        "--smoke", action="store_true", help="10 questions, 5 ms: checks it runs, in seconds"
    )
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(questions=10, latency=0.005, retries=0, timeout=60.0)  # no backoff waits
    asyncio.run(run(args))


if __name__ == "__main__":
    main()

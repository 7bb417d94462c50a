"""How best to spend a machine's cores on local models: one process on every core, or one
single-threaded process per core (what `--executor ray` does, one task per CPU).

Runs the same sample calls (the first questions of GSM8K and HotpotQA distractor, with its
paragraphs, one seeded call each on one local model) both ways, side by side in one run and
ROUNDS times alternately, and prints the wall-time ratio and whether every call's text was the
same both ways. Each process loads its model before the clock starts.

  python bench/local_threads.py --questions 4 --model qwen2.5-coder-0.5b
  python bench/local_threads.py --smoke    # scripted engine, 4 calls: checks it runs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import smoke

from orchestrator.prompts import context_block, render
from orchestrator.protocols import Engine, Message
from orchestrator.qa.data import read_qa

QA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa"


def _calls(data: Path, questions: int) -> list[list[Message]]:
    """One sample prompt per question, alternating GSM8K and HotpotQA."""
    half = max(1, questions // 2)
    gsm8k = read_qa(data / "gsm8k.jsonl", limit=half)
    hotpot = read_qa(data / "hotpotqa_distractor.jsonl", limit=half)
    calls = []
    for a, b in zip(gsm8k, hotpot, strict=True):
        calls.append(render("sample", question=a.question, facts="", context=""))
        context = context_block(b.context())
        calls.append(render("sample", question=b.question, facts="", context=context))
    return calls


async def _child(args: argparse.Namespace) -> None:
    """Load the model, say so, wait for the go line, make the calls, print texts and times."""
    engine = _engine(args.smoke)
    model = f"local/{args.model}"
    await engine.generate(
        model,
        [{"role": "user", "content": "Hi"}],
        temperature=0.0,
        max_tokens=1,
        seed=0,
        json_mode=False,
    )
    print("ready", flush=True)
    sys.stdin.readline()
    calls = _calls(Path(args.data), args.questions)
    start, texts = time.time(), {}
    for index in args.child:
        reply = await engine.generate(
            model,
            calls[index],
            temperature=0.7,
            max_tokens=args.max_tokens,
            seed=index,
            json_mode=False,
        )
        texts[index] = reply.text
    print(json.dumps({"start": start, "end": time.time(), "texts": texts}), flush=True)


def _engine(scripted: bool) -> Engine:
    """The local engine; the scripted one in smoke mode (no model, no litellm import)."""
    if scripted:
        from orchestrator.testing.scripted import ScriptedEngine

        return ScriptedEngine(smoke.respond)
    from orchestrator.llm.local_engine import LocalEngine

    return LocalEngine()


def _start(args: argparse.Namespace, shard: list[int], threads: int) -> subprocess.Popen[str]:
    from orchestrator.llm.local_engine import THREADS_ENV

    command = [
        sys.executable,
        __file__,
        "--data",
        args.data,
        "--questions",
        str(args.questions),
        "--model",
        args.model,
        "--max-tokens",
        str(args.max_tokens),
        *(["--smoke"] if args.smoke else []),
        "--child",
        *map(str, shard),
    ]
    env = {**os.environ, THREADS_ENV: str(threads)}
    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )


def _run(
    args: argparse.Namespace, shards: list[list[int]], threads: int
) -> tuple[float, dict[int, str]]:
    """Start one child per shard on `threads` threads each; the wall time of their calls."""
    children = [_start(args, shard, threads) for shard in shards]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    reports = [json.loads(child.communicate()[0]) for child in children]
    texts = {int(k): v for r in reports for k, v in r["texts"].items()}
    return max(r["end"] for r in reports) - min(r["start"] for r in reports), texts


def main(args: argparse.Namespace) -> None:
    from orchestrator.llm.local_engine import usable_cpus

    cores = usable_cpus()
    n = 2 * max(1, args.questions // 2)
    one = [list(range(n))]
    pairs = [[c for c in range(n) if c // 2 % cores == i] for i in range(cores)]
    per_core = [shard for shard in pairs if shard]  # a GSM8K and HotpotQA pair each
    a = b = 0.0
    same = 0
    for _ in range(args.rounds):
        t_one, texts_one = _run(args, one, cores)
        t_per, texts_per = _run(args, per_core, 1)
        a, b = a + t_one, b + t_per
        same += sum(texts_one[i] == texts_per[i] for i in range(n))
    print(
        f"{n} sample calls on {args.model}, {args.max_tokens} max tokens, {cores} cores, "
        f"{args.rounds} rounds"
    )
    print(f"  one process, {cores} threads:     {a / args.rounds:6.1f} s a round")
    print(
        f"  {len(per_core)} processes, 1 thread each: {b / args.rounds:6.1f} s a round "
        f"({a / b:.2f}x the throughput)"
    )
    print(f"  identical texts: {same}/{n * args.rounds}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--data", default=str(QA), help="folder with gsm8k.jsonl and hotpotqa_distractor.jsonl"
    )
    p.add_argument("--questions", type=int, default=4)
    p.add_argument("--model", default="qwen2.5-coder-0.5b")
    p.add_argument("--max-tokens", type=int, default=160)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--child", type=int, nargs="+", help=argparse.SUPPRESS)
    p.add_argument(
        "--smoke",
        action="store_true",
        help="4 calls, 1 round, on the scripted engine and bench/smoke's questions: in seconds",
    )
    parsed = p.parse_args()
    if parsed.smoke:
        vars(parsed).update(
            data=str(smoke.QA), model=smoke.MODEL, questions=4, rounds=1, max_tokens=8
        )
    if parsed.child:
        asyncio.run(_child(parsed))
    else:
        main(parsed)

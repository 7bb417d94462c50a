"""What reusing a repeated prompt's KV cache buys the samples of a wide branch.

The local engine hands llama.cpp only the last token of a prompt that repeats its previous
call's (the texts stay identical: tests/test_local_models.py). This runs WIDTH samples of one
HotpotQA sub-query prompt, with its paragraphs, on one local model, twice in one run: each
sample's prompt evaluated afresh, then reused, and prints the wall-time ratio and whether
every sample's text matched.

  python bench/prompt_reuse.py --width 8 --model qwen2.5-coder-0.5b
  python bench/prompt_reuse.py --smoke    # 2 short samples on the smallest model
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import smoke

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from orchestrator.llm.local_engine import LocalEngine
from orchestrator.prompts import context_block, render
from orchestrator.protocols import Message
from orchestrator.qa.data import read_qa

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa" / "hotpotqa_distractor.jsonl"


async def _samples(
    engine: LocalEngine, args: argparse.Namespace, messages: list[Message], fresh: bool
) -> tuple[float, list[str]]:
    texts: list[str] = []
    start = time.perf_counter()
    for seed in range(args.width):
        if fresh:
            engine._cached_prompt.clear()  # what every call did before the reuse
        reply = await engine.generate(
            args.model,
            messages,
            temperature=0.7,
            max_tokens=args.max_tokens,
            seed=seed,
            json_mode=False,
        )
        texts.append(reply.text)
    return time.perf_counter() - start, texts


async def _main(args: argparse.Namespace) -> None:
    engine = LocalEngine()
    await engine.generate(
        args.model,
        [{"role": "user", "content": "Hi"}],
        temperature=0.0,
        max_tokens=1,
        seed=0,
        json_mode=False,
    )  # load the weights outside the timing
    record = read_qa(args.data, limit=1)[0]
    context = context_block(record.context())
    messages = render("sample", question=record.question, facts="", context=context)
    fresh_s, fresh = await _samples(engine, args, messages, fresh=True)
    reused_s, reused = await _samples(engine, args, messages, fresh=False)
    print(f"{args.width} samples of one prompt on {args.model}, {args.max_tokens} max tokens")
    print(f"  evaluated afresh: {fresh_s:6.1f} s")
    print(f"  prompt reused:    {reused_s:6.1f} s   ({fresh_s / reused_s:.2f}x faster)")
    print(
        f"  identical texts:  {sum(a == b for a, b in zip(fresh, reused, strict=True))}/{args.width}"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", default=str(DATA))
    p.add_argument("--model", default="qwen2.5-coder-0.5b")
    p.add_argument("--width", type=int, default=8)
    p.add_argument("--max-tokens", type=int, default=160)
    p.add_argument(
        "--smoke",
        action="store_true",
        help=f"2 samples of 8 tokens on {smoke.LOCAL_MODEL}, bench/smoke's question: in seconds",
    )
    args = p.parse_args()
    if args.smoke:
        data = smoke.QA / "hotpotqa_distractor.jsonl"
        vars(args).update(data=str(data), model=smoke.LOCAL_MODEL, width=2, max_tokens=8)
    asyncio.run(_main(args))

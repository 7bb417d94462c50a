"""What sharing calls between a sweep's configurations buys, side by side in one run.

Runs the wide-vs-deep sweep of docs/results/wide_vs_deep.md (wide w=1,2,4,8, deep d=0,1,2,4 and single w=1,4 on
the config in bench/wide_vs_deep.toml) over LIMIT questions of each dataset, starting at
OFFSET, twice: each configuration on its own, then all of them through one `SharedCalls`
(`orchestrator eval --share-calls`). Prints the model calls made and the wall time of each
pass, their ratios, and how many rows agree on answer, tokens and cost.

  python bench/shared_calls.py --limit 1 --offset 23
  python bench/shared_calls.py --smoke    # scripted engine: checks it runs
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import smoke

from orchestrator.config import load_config
from orchestrator.embeddings.embedders import make_embedder
from orchestrator.eval.configurations import Configuration, expand
from orchestrator.eval.harness import Harness, ResultsLog
from orchestrator.qa.data import QARecord, read_qa

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "qa"
COMPARED = ("answer", "correct", "prompt_tokens", "completion_tokens", "cost_usd", "llm_calls")


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data-dir", default=str(DATA))
    p.add_argument("--datasets", default="gsm8k,arc_challenge,hotpotqa_distractor")
    p.add_argument("--limit", type=int, default=1, help="questions per dataset")
    p.add_argument("--offset", type=int, default=0, help="questions skipped in each dataset")
    p.add_argument("--config", default=str(ROOT / "bench" / "wide_vs_deep.toml"))
    p.add_argument(
        "--smoke",
        action="store_true",
        help="bench/smoke's questions on the scripted engine: checks it runs, in seconds",
    )
    args = p.parse_args()
    if args.smoke:
        vars(args).update(data_dir=str(smoke.QA), limit=1, offset=0, config=str(smoke.CONFIG))
    return args


def _questions(args: argparse.Namespace) -> list[QARecord]:
    out: list[QARecord] = []
    for name in args.datasets.split(","):
        records = read_qa(Path(args.data_dir) / f"{name}.jsonl", args.offset + args.limit)
        out += records[args.offset :]
    return out


async def _pass(
    harness: Harness, questions: list[QARecord], sweep: list[Configuration], out: Path
) -> tuple[float, list[dict[str, Any]]]:
    log = ResultsLog(out / "results.jsonl")
    started = time.perf_counter()
    await harness.run(questions, sweep, log)
    return time.perf_counter() - started, log.rows()


def _fields(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    return {
        (r["dataset"], r["question_id"], r["configuration"]): tuple(r[k] for k in COMPARED)
        for r in rows
    }


async def main() -> None:
    args = _args()
    if args.smoke:
        smoke.scripted_engine()
    config = load_config(args.config)
    embedder = make_embedder(config.embedder.name)
    questions = _questions(args)
    sweep = [*expand(["wide", "deep"], [1, 2, 4, 8], [0, 1, 2, 4]), *expand(["single"], [1, 4], [])]
    with tempfile.TemporaryDirectory() as tmp:
        alone_s, alone = await _pass(Harness(config, embedder), questions, sweep, Path(tmp, "a"))
        shared_harness = Harness(config, embedder, share_calls=True)
        shared_s, shared = await _pass(shared_harness, questions, sweep, Path(tmp, "s"))
    calls_alone = sum(r["llm_calls"] for r in alone)
    calls_shared = sum(r["llm_calls"] - r["reused_calls"] for r in shared)
    before, after = _fields(alone), _fields(shared)
    agree = sum(before[k] == after.get(k) for k in before)
    print(f"{len(questions)} questions x {len(sweep)} configurations")
    print(
        f"model calls: alone {calls_alone}, shared {calls_shared} "
        f"({calls_shared / calls_alone:.2f}x)"
    )
    print(
        f"wall time:   alone {alone_s:.0f} s, shared {shared_s:.0f} s ({shared_s / alone_s:.2f}x)"
    )
    print(f"rows agreeing on {', '.join(COMPARED)}: {agree}/{len(before)}")


if __name__ == "__main__":
    asyncio.run(main())

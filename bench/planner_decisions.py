"""The planner alone: how it decides, question by question, without answering anything.

The configured planner (the built-in config's `graph.planner_model` unless `--model`) is
asked for a plan of each question exactly as the graph asks (the `plan` prompt, JSON mode,
`graph.max_subqueries`), and its reply is read by the graph's own `parse_plan`. Per dataset:
how often it decomposed, how many sub-queries on average, how often its reply was unusable,
and against a gold number of hops where the data has one (MuSiQue's decompositions) how
often the count matches; HotpotQA's questions are split by type (bridge, comparison). One
plan call a question, so every question of a set fits in minutes where a full run takes
hours: the place to try a planner prompt before paying for answers.

  python bench/planner_decisions.py                                  # MuSiQue, HotpotQA, GSM8K
  python bench/planner_decisions.py --datasets musique_context --limit 72 --show
  python bench/planner_decisions.py --smoke   # scripted engine: checks it runs
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections import defaultdict
from itertools import islice
from pathlib import Path
from statistics import mean

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import smoke

from orchestrator.config import DEFAULT_CONFIG, Config, ConfigError, parse_config, read_toml
from orchestrator.errors import PlanningError
from orchestrator.graph.planning import SubQuery, parse_plan
from orchestrator.jsonl import json_lines
from orchestrator.llm.boundary import make_chat_model
from orchestrator.prompts import render
from orchestrator.protocols import ChatModel

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa"


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data-dir", default=str(DATA))
    p.add_argument("--datasets", default="musique_context,hotpotqa_distractor,gsm8k")
    p.add_argument("--offset", type=int, default=0, help="skip the first N of each dataset")
    p.add_argument("--limit", type=int, default=100, help="questions a dataset (at most)")
    p.add_argument("--model", default=None, help="the planner (default: the config's)")
    p.add_argument("--show", action="store_true", help="print each plan")
    p.add_argument("--smoke", action="store_true", help="scripted engine, the smoke fixtures")
    args = p.parse_args()
    if args.smoke:
        vars(args).update(data_dir=str(smoke.QA), datasets="musique_context,hotpotqa_distractor")
    return args


def _config(args: argparse.Namespace) -> Config:
    if args.smoke:
        smoke.scripted_engine()
        return parse_config(read_toml(smoke.CONFIG, "smoke config", ConfigError))
    return parse_config(DEFAULT_CONFIG)


def _rows(path: Path, offset: int, limit: int) -> list[dict]:
    return [row for _, row in islice(json_lines(path), offset, offset + limit)]


async def _plan(model: ChatModel, question: str, limit: int) -> list[SubQuery] | None:
    messages = render("plan", question=question, max_subqueries=limit, capabilities="")
    completion = await model.complete(messages, temperature=0.0, max_tokens=512, json_mode=True)
    try:
        return parse_plan(completion.text, limit, question)
    except PlanningError:
        return None


def _group(row: dict) -> str:
    """The row's kind: its gold number of hops, its HotpotQA type, or `all`."""
    if row.get("decomposition"):
        return f"{len(row['decomposition'])} gold hops"
    return str((row.get("meta") or {}).get("type") or "all")


async def _decide(args: argparse.Namespace, config: Config, dataset: str) -> None:
    model_id = args.model or config.planner_model
    model = make_chat_model(config.model(model_id))
    rows = _rows(Path(args.data_dir) / f"{dataset}.jsonl", args.offset, args.limit)
    by: dict[str, list[tuple[int, int]]] = defaultdict(list)  # group → (steps, gold hops)
    unusable = 0
    for row in rows:
        plan = await _plan(model, row["question"], config.graph.max_subqueries)
        unusable += plan is None
        steps = len(plan) if plan else 1
        by[_group(row)].append((steps, len(row.get("decomposition") or [])))
        if args.show:
            print(f"{steps} | {row['question'][:100]}")
            for sq in (plan or []) if steps > 1 else []:
                print(f"      {sq['id']}: {sq['question'][:100]} {sq['depends_on']}")
    print(f"\n{dataset}: {len(rows)} questions, planner {model_id}, unusable replies {unusable}")
    print("group | n | decomposed | mean sub-queries | sub-queries = gold hops")
    print("---|---|---|---|---")
    groups = sorted(by.items())
    if len(groups) > 1:
        groups.append(("all", [g for got in by.values() for g in got]))
    for group, got in groups:
        same = mean(s == h for s, h in got) if any(h for _, h in got) else None
        cells = [group, str(len(got)), f"{mean(s > 1 for s, _ in got):.2f}"]
        cells += [f"{mean(s for s, _ in got):.2f}", "-" if same is None else f"{same:.2f}"]
        print(" | ".join(cells))


def main() -> None:
    args = _args()
    config = _config(args)
    for dataset in [d for d in args.datasets.split(",") if d]:
        asyncio.run(_decide(args, config, dataset))


if __name__ == "__main__":
    main()

"""Multi-hop questions: one call against the planned graphs, side by side in one run.

Two tables: the sets that come with paragraphs (HotpotQA distractor, MuSiQue with context)
and the closed-book ones (2WikiMultiHopQA, MuSiQue, Bamboogle). For each dataset and
configuration: EM, F1, mean completion tokens and calls; for each planned graph against one
call (`single` at width 1), the paired flips (right → wrong, wrong → right) with the exact
sign test and the mean F1 difference with a bootstrap 90% interval. Then how the planner
decided on MuSiQue (how often it decomposed, how often its number of hops is the gold
decomposition's, how often each hop's answer is the gold hop's) and, on HotpotQA, the recall
of the gold supporting paragraphs among those that reached a sub-query's prompt.

Rows go to OUT/results.jsonl through the evaluation harness, so an interrupted run resumes
where it stopped and `--report-only` prints the tables of what is there.

  python bench/multihop.py --limit 20 --out bench/results/multihop        # the default config
  python bench/multihop.py --limit 20 --model local/qwen2.5-coder-0.5b   # one model, every role
  python bench/multihop.py --smoke    # scripted engine, 2 questions a dataset: checks it runs
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
from pathlib import Path
from statistics import mean
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import smoke
from paired_flips import flips, sign_test

from orchestrator.config import DEFAULT_CONFIG, ConfigError, parse_config, read_toml
from orchestrator.embeddings.embedders import make_embedder
from orchestrator.eval.configurations import Configuration
from orchestrator.eval.harness import Harness, ResultsLog, grade
from orchestrator.graph.aggregation import short_form
from orchestrator.jsonl import json_lines
from orchestrator.qa.data import QARecord, read_qa

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa"
CONTEXT_SETS = "hotpotqa_distractor,musique_context"
CLOSED_SETS = "2wikimultihop,musique,bamboogle"
ONE_CALL = "single"


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data-dir", default=str(DATA))
    p.add_argument("--context-sets", default=CONTEXT_SETS)
    p.add_argument("--closed-sets", default=CLOSED_SETS, help="'' to skip the second table")
    p.add_argument("--limit", type=int, default=100, help="questions a dataset (at most)")
    p.add_argument("--offset", type=int, default=0, help="skip the first N of each dataset")
    p.add_argument("--graphs", default="single,wide,deep")
    p.add_argument("--model", default="default", help="default, or a model id for every role")
    p.add_argument("--width", type=int, default=1)
    p.add_argument("--depth", type=int, default=1, help="rounds of the deep graph")
    p.add_argument("--out", default="bench/results/multihop")
    p.add_argument("--report-only", action="store_true")
    p.add_argument(
        "--rescore", action="store_true", help="grade stored answers again with today's short form"
    )
    p.add_argument("--smoke", action="store_true", help="scripted engine, 2 questions a set")
    args = p.parse_args()
    if args.smoke:
        sets = {"context_sets": "hotpotqa_distractor,musique_context", "closed_sets": ""}
        vars(args).update(sets, data_dir=str(smoke.QA), out=str(smoke.scratch()), limit=2)
    return args


def _configurations(args: argparse.Namespace) -> list[Configuration]:
    out = []
    for graph in args.graphs.split(","):
        width, depth = (1, args.depth) if graph.startswith("deep") else (args.width, 0)
        out.append(Configuration(graph, 1 if graph == ONE_CALL else width, depth, model=args.model))
    return out


def _config(args: argparse.Namespace) -> Any:
    if args.smoke:
        base = read_toml(smoke.CONFIG, "smoke config", ConfigError)
        return parse_config({**base, "graph": {**base["graph"], "max_subqueries": 4}})
    return parse_config({**DEFAULT_CONFIG, "budget": {"max_llm_calls": 200, "max_wall_s": 3600}})


def _sets(args: argparse.Namespace) -> dict[str, list[str]]:
    split = {"with paragraphs": args.context_sets, "closed book": args.closed_sets}
    return {name: [d for d in sets.split(",") if d] for name, sets in split.items() if sets}


def _questions(args: argparse.Namespace, datasets: list[str]) -> list[QARecord]:
    read = (read_qa(Path(args.data_dir) / f"{d}.jsonl", args.offset + args.limit) for d in datasets)
    return [q for records in read for q in records[args.offset :]]


def _by(rows: list[dict], dataset: str, configuration: str) -> dict[str, dict]:
    return {
        r["question_id"]: r
        for r in rows
        if r["dataset"] == dataset and r["configuration"] == configuration
    }


def _interval(diffs: list[float], seed: int = 0) -> tuple[float, float]:
    rng = random.Random(seed)
    means = sorted(mean(rng.choices(diffs, k=len(diffs))) for _ in range(2000))
    return means[100], means[1899]


def _paired(base: dict[str, dict], other: dict[str, dict]) -> str:
    lost, won, diffs = flips(base, other)
    if not diffs:
        return "-"
    low, high = _interval(diffs)
    return (
        f"{lost}→✗ {won}→✓ p={sign_test(lost, won):.2f}; "
        f"ΔF1 {mean(diffs):+.3f} [{low:+.3f}, {high:+.3f}]"
    )


def _table(rows: list[dict], datasets: list[str], keys: list[str]) -> None:
    print(
        "dataset | configuration | n | EM | F1 | compl tok | calls | vs one call (flips; ΔF1 90% CI)"
    )
    print("---|---|---|---|---|---|---|---")
    base_key = next((k for k in keys if k.startswith(ONE_CALL)), None)
    for dataset in datasets:
        base = _by(rows, dataset, base_key) if base_key else {}
        for key in keys:
            got = list(_by(rows, dataset, key).values())
            if not got:
                continue
            paired = "" if key == base_key else _paired(base, _by(rows, dataset, key))
            cells = [
                dataset,
                key,
                str(len(got)),
                f"{mean(r['em'] for r in got):.3f}",
                f"{mean(r['f1'] for r in got):.3f}",
                f"{mean(r['completion_tokens'] for r in got):.0f}",
                f"{mean(r['llm_calls'] for r in got):.1f}",
                paired,
            ]
            print(" | ".join(cells))


def _gold_decompositions(path: Path) -> dict[str, list[dict]]:
    rows = (row for _, row in json_lines(path))
    return {str(row["id"]): row["decomposition"] for row in rows if row.get("decomposition")}


def _planner(rows: list[dict], args: argparse.Namespace, dataset: str, keys: list[str]) -> None:
    from orchestrator.qa.scoring import exact_match, f1_score

    path = Path(args.data_dir) / f"{dataset}.jsonl"
    gold = _gold_decompositions(path) if path.is_file() else {}
    for key in (k for k in keys if not k.startswith(ONE_CALL)):
        got = [r for r in _by(rows, dataset, key).values() if r["question_id"] in gold]
        if not got:
            continue
        hops = [(r, gold[r["question_id"]]) for r in got]
        decomposed = mean(len(r["steps"]) > 1 for r, _ in hops)
        same = mean(len(r["steps"]) == len(g) for r, g in hops)
        pairs = [
            (s["answer"], h["answer"]) for r, g in hops for s, h in zip(r["steps"], g, strict=False)
        ]
        hop_em = mean(exact_match(a, [b]) for a, b in pairs) if pairs else 0.0
        hop_f1 = mean(f1_score(a, [b]) for a, b in pairs) if pairs else 0.0
        print(
            f"{dataset} {key}: n={len(hops)}, decomposed {decomposed:.2f}, "
            f"hops = gold hops {same:.2f}, hop answers EM {hop_em:.3f} F1 {hop_f1:.3f} "
            f"({len(pairs)} hops aligned by position)"
        )


def _support_recall(rows: list[dict], records: list[QARecord], keys: list[str]) -> None:
    supporting = {
        r.id: {i for i, p in enumerate(r.paragraphs) if p.supporting}
        for r in records
        if r.dataset == "hotpotqa_distractor"
    }
    for key in (k for k in keys if not k.startswith(ONE_CALL)):
        got = [r for r in _by(rows, "hotpotqa_distractor", key).values() if r.get("steps")]
        got = [r for r in got if supporting.get(r["question_id"])]
        if not got:
            continue
        recall = []
        for r in got:
            seen = {i for s in r["steps"] for i in s.get("paragraphs") or []}
            gold = supporting[r["question_id"]]
            recall.append(len(gold & seen) / len(gold))
        print(
            f"hotpotqa_distractor {key}: supporting-paragraph recall {mean(recall):.3f} (n={len(got)})"
        )


def main() -> None:
    args = _args()
    sets, configurations = _sets(args), _configurations(args)
    keys = [c.key for c in configurations]
    log = ResultsLog(Path(args.out) / "results.jsonl")
    records = [q for datasets in sets.values() for q in _questions(args, datasets)]
    if not args.report_only:
        config = _config(args)
        if args.smoke:
            smoke.scripted_engine()
        harness = Harness(config, make_embedder(config.embedder.name))
        asyncio.run(harness.run(records, configurations, log, on_row=_progress))
    asked = {(q.dataset, q.id): q for q in records}
    rows = [r for r in log.rows() if (r["dataset"], r["question_id"]) in asked]
    if args.rescore:
        rows = [_rescored(r, asked[(r["dataset"], r["question_id"])]) for r in rows]
    for name, datasets in sets.items():
        print(f"\n## {name}\n")
        _table(rows, datasets, keys)
    print("\n## planner decisions against MuSiQue's gold decompositions\n")
    for dataset in ("musique_context", "musique"):
        _planner(rows, args, dataset, keys)
    print("\n## evidence\n")
    _support_recall(rows, records, keys)


def _rescored(row: dict, record: QARecord) -> dict:
    """The row as today's code would have answered it: its final answer through the current
    short form (a pure function of the answer and the question), graded again."""
    answer = short_form(row["answer"], question=record.prompt())
    correct, em, f1 = grade(record, answer)
    return {**row, "answer": answer, "correct": correct, "em": em, "f1": f1}


def _progress(row: dict) -> None:
    mark = "✓" if row["correct"] else "✗"
    print(
        f"{mark} {row['dataset']}:{row['question_id']} {row['configuration']} "
        f"f1={row['f1']:.2f} {row['completion_tokens']} tok {row['latency_s']:.0f}s "
        f"{row['status']} {row['answer'][:60]!r}",
        flush=True,
    )


if __name__ == "__main__":
    main()

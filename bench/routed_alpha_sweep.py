"""Routed against the pinned local models at every α, from the rows of one routed-vs-single
run and no model call.

The single graph makes one call, on the model the router picks, so a question routed at
another α is answered exactly as the pinned row of the model picked there. The script
routes every question with all pinned rows at each α, takes those rows, and prints macro
accuracy, cost per question, model shares, and the accuracy of the best random mix of two
pinned models at the same cost (the upper hull of the pinned points), which is what routing
has to beat at matched cost. It first checks the rule against the run: at the run's
own α its picks must equal the models the routed rows used.

  python bench/routed_alpha_sweep.py bench/results/routed_vs_single/results.jsonl \\
      --data gsm8k.jsonl --data arc_challenge.jsonl --data hotpotqa_distractor.jsonl \\
      --config bench/routed_vs_single.toml --alphas 1,0.9,0.8,0.7,0.6,0.5,0 [--after 64] \\
      [--router DIR]
  python bench/routed_alpha_sweep.py --smoke    # on bench/smoke's rows: checks it runs
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import smoke

from orchestrator.embeddings.embedders import make_embedder
from orchestrator.qa.data import QARecord, read_qa
from orchestrator.routing.artifact import load_router
from orchestrator.routing.evaluation import mix_accuracy
from orchestrator.routing.router import ClusterRouter

Row = dict[str, Any]
PINNED = "single w=1 d=0 model="
ROOT = Path(__file__).resolve().parents[1]
ROUTER = ROOT / "orchestrator" / "data" / "local_router"
CONFIG = ROOT / "bench" / "routed_vs_single.toml"
SMOKE_DATASETS = ("gsm8k", "arc_challenge", "hotpotqa_distractor")
SMOKE_HELP = (
    "bench/smoke's rows and questions, embedded by the hashing embedder (not the router's): "
    "checks it runs, in seconds"
)


def _rows(path: Path) -> tuple[dict[str, dict[str, Row]], dict[str, Row]]:
    """Pinned rows by question then model, and the routed row of each question."""
    pinned: dict[str, dict[str, Row]] = defaultdict(dict)
    routed: dict[str, Row] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        model = str(row["configuration"]).removeprefix(PINNED)
        if row["configuration"] == f"{PINNED}routed":
            routed[row["question_id"]] = row
        elif model != row["configuration"]:
            pinned[row["question_id"]][model] = row
    return pinned, routed


def _point(rows: list[Row]) -> tuple[float, float]:
    """Macro accuracy over datasets and mean cost per question (µUSD)."""
    by_dataset: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        by_dataset[row["dataset"]].append(bool(row["correct"]))
    accuracy = statistics.mean(statistics.mean(v) for v in by_dataset.values())
    return accuracy, 1e6 * statistics.mean(r["cost_usd"] for r in rows)


def _check(
    router: ClusterRouter,
    questions: list[QARecord],
    vectors: Any,
    routed: dict[str, Row],
    alpha: float,
) -> None:
    """At the run's own α the rule must pick what the run's routed rows used."""
    picks = router.route_batch(vectors, alpha)
    pairs = [(q, router.models[i]) for q, i in zip(questions, picks, strict=True) if q.id in routed]
    same = sum(model in routed[q.id]["models"] for q, model in pairs)
    print(f"check at the run's α = {alpha:g}: {same} of {len(pairs)} picks as in the run")


def _questions(
    data: list[Path], after: int, pinned: dict[str, dict[str, Row]], models: list[str]
) -> list[QARecord]:
    """The questions after the first `after` of each file that have a pinned row per model."""
    return [q for f in data for q in read_qa(f)[after:] if set(pinned.get(q.id, {})) >= set(models)]


def sweep(
    results: Path,
    data: list[Path],
    router_dir: Path,
    alphas: list[float],
    alpha: float,
    after: int = 0,
    embedder: str | None = None,
) -> None:
    """The table; questions embedded with `embedder`, else the router's own embedder."""
    pinned, routed = _rows(results)
    router = load_router(router_dir)
    questions = _questions(data, after, pinned, router.models)
    embedded = make_embedder(embedder or router.embedder_name)
    vectors = embedded.embed([q.prompt() for q in questions])
    _check(router, questions, vectors, routed, alpha)
    singles = {m: _point([pinned[q.id][m] for q in questions]) for m in router.models}
    best_cost = max(singles.values())[1]
    by_cost = [(cost, accuracy) for accuracy, cost in singles.values()]
    names = " | ".join(m.split("/")[-1] for m in router.models)
    print(f"{len(questions)} questions\n")
    print(
        f"| α | macro accuracy | µUSD a question | vs the best single's cost |"
        f" random mix at that cost | {names} |\n" + "|---" * (5 + len(router.models)) + "|"
    )
    for a in alphas:
        picks = router.route_batch(vectors, a)
        rows = [pinned[q.id][router.models[i]] for q, i in zip(questions, picks, strict=True)]
        accuracy, cost = _point(rows)
        shares = " | ".join(
            f"{sum(picks == j) / len(picks):.0%}" for j in range(len(router.models))
        )
        print(
            f"| {a:g} | {accuracy:.3f} | {cost:.0f} | {cost / best_cost:.2f}× |"
            f" {mix_accuracy(by_cost, cost):.3f} | {shares} |"
        )
    print("\n| model | macro accuracy | µUSD a question |\n|---|---|---|")
    for m, (accuracy, cost) in singles.items():
        print(f"| {m} | {accuracy:.3f} | {cost:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, nargs="?")
    parser.add_argument("--data", type=Path, action="append")
    parser.add_argument("--router", type=Path, default=Path("orchestrator/data/local_router"))
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("bench/routed_vs_single.toml"),
        help="the run's config, for the α its routed rows used",
    )
    parser.add_argument("--alphas", default="1,0.9,0.8,0.7,0.6,0.5,0.2,0")
    parser.add_argument(
        "--after",
        type=int,
        default=0,
        metavar="N",
        help="only questions after the first N of each file (the shipped "
        "router was profiled on the first 64)",
    )
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    embedder = None
    if args.smoke:
        data = [smoke.QA / f"{name}.jsonl" for name in SMOKE_DATASETS]
        vars(args).update(results=smoke.RESULTS, data=data, router=ROUTER, config=CONFIG)
        embedder = f"hashing-{load_router(args.router).dim}"
    elif args.results is None or not args.data:
        parser.error("give a results file and --data (or --smoke)")
    run_alpha = float(tomllib.loads(args.config.read_text(encoding="utf-8"))["router"]["alpha"])
    alphas = [float(a) for a in args.alphas.split(",")]
    sweep(args.results, args.data, args.router, alphas, run_alpha, args.after, embedder)


if __name__ == "__main__":
    main()

"""What routing among the embedded local models buys, by cross-validation on their outcomes.

Fits the cluster router on all folds but one of `data/local_router/outcomes.jsonl` (the
three local models on GSM8K, ARC-Challenge, StrategyQA and HotpotQA questions), evaluates on
the held-out fold, and prints, as means over folds and repeats: the best single local model
(chosen on the held-out fold, so the comparison favours it), the router at α = 1 and at the
cheapest α that matches the best single, and the oracle. Each row is one fitting option, so
the shipped artifact's options are chosen on held-out evidence, not in-sample.

Run: python bench/local_router_cv.py [--folds 4] [--repeats 3] [--data FILE] [--smoke]
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import smoke

from orchestrator.embeddings.embedders import make_embedder
from orchestrator.embeddings.store import DiskCachedEmbedder
from orchestrator.routing.evaluation import cheapest_matching, evaluate
from orchestrator.routing.labelled import LabelledTable, read_labelled
from orchestrator.routing.router import ClusterRouter

HERE = Path(__file__).resolve().parent
OUTCOMES = HERE.parent / "data" / "local_router" / "outcomes.jsonl"
ONE_PER_DATASET = {"clustering": "per-dataset", "k": 4, "bags": 1}
OPTIONS: dict[str, dict[str, Any]] = {
    "global k-means, default k, in-cluster scale": {"clustering": "global", "scale": "cluster"},
    "per-dataset k-means, default k, in-cluster scale": {"scale": "cluster"},
    "per-dataset k-means, default k, table scale (the fit default)": {},
    "per-dataset k-means, k=4 (one per dataset), in-cluster scale (shipped)": {
        **ONE_PER_DATASET,
        "scale": "cluster",
    },
    "per-dataset k-means, k=4 (one per dataset), table scale": ONE_PER_DATASET,
}


def folds(table: LabelledTable, n_folds: int, seed: int) -> list[np.ndarray]:
    """Folds stratified by dataset, so each holds every dataset in proportion."""
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in range(n_folds)]
    datasets = np.asarray(table.datasets)
    for name in sorted(set(table.datasets)):
        rows = rng.permutation(np.flatnonzero(datasets == name))
        for i, chunk in enumerate(np.array_split(rows, n_folds)):
            parts[i].extend(chunk.tolist())
    return [np.sort(np.asarray(p, dtype=np.int64)) for p in parts]


def held_out(
    table: LabelledTable,
    vectors: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    options: dict[str, Any],
) -> dict[str, float]:
    fit_on = table.take(train)
    router = ClusterRouter.fit(
        vectors[train],
        fit_on.scores,
        fit_on.costs,
        fit_on.models,
        embedder_name="all-MiniLM-L6-v2",
        datasets=fit_on.datasets,
        **options,
    )
    report = evaluate(router, vectors[test], table.take(test))
    best = report.best_single
    at_one = next(p for p in report.sweep if p.alpha == 1.0)
    match = cheapest_matching(report.sweep, best["accuracy"])
    return {
        "best": best["accuracy"],
        "routed": at_one.accuracy,
        "routed_cost": at_one.cost / best["cost"],
        "match_cost": match.cost / best["cost"] if match else float("nan"),
        "oracle": report.oracle["accuracy"],
        "k": router.config.k,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(OUTCOMES))
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cache-dir", default=str(HERE.parent / ".cache" / "embeddings"))
    parser.add_argument("--embedder", default="all-MiniLM-L6-v2")
    parser.add_argument(
        "--smoke", action="store_true", help="2 folds, 1 repeat, hashing embedder: in seconds"
    )
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(folds=2, repeats=1, embedder=smoke.EMBEDDER, cache_dir=smoke.scratch())
    table = read_labelled([Path(args.data)], "query")
    embedder = DiskCachedEmbedder(make_embedder(args.embedder), Path(args.cache_dir))
    vectors = embedder.embed(table.texts)
    counts = {d: table.datasets.count(d) for d in sorted(set(table.datasets))}
    print(f"{len(table)} questions {counts}; {args.folds}-fold CV × {args.repeats} repeats\n")
    print(
        "| fitting option | k | best single | routed α=1 (× best) | its cost vs best | "
        "cheapest match: cost vs best | oracle |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, options in OPTIONS.items():
        rows = []
        for repeat in range(args.repeats):
            parts = folds(table, args.folds, repeat)
            for i, test in enumerate(parts):
                train = np.sort(np.concatenate(parts[:i] + parts[i + 1 :]))
                rows.append(held_out(table, vectors, train, test, options))
        mean = {key: statistics.fmean(r[key] for r in rows if r[key] == r[key]) for key in rows[0]}
        print(
            f"| {name} | {mean['k']:.0f} | {mean['best']:.3f} | {mean['routed']:.3f} "
            f"({mean['routed'] / mean['best']:.2f}×) | {mean['routed_cost']:.2f}× | "
            f"{mean['match_cost']:.2f}× | {mean['oracle']:.3f} |"
        )


if __name__ == "__main__":
    main()

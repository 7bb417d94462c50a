"""What `router fit --frontier` (route only among models on some dataset's cost-accuracy
frontier) does, side by side with the default fit that routes among every model.

On router_quality's seeded 80/20 splits of each table with costs: the default rule, then the
same with the frontier, as multiples of the best single model's accuracy at α = 1 and at
≤ 50% / ≤ 7% of its cost (means over the splits). Then each dataset of a table fitted and
scored alone, as a user with one dataset would: with one dataset's means to judge by, the
frontier excludes more models.

Run: python bench/frontier.py [--seeds 10] [--single-seeds 5] [--tables routerbench,…]
     [--embedder all-MiniLM-L6-v2] [--cache-dir DIR] [--smoke]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import smoke
from router_quality import (
    DATA,
    HERE,
    TABLES,
    Result,
    _mean,
    embed,
    fit,
    load_table,
    measure,
    splits,
)

from orchestrator.routing.labelled import LabelledTable

SMOKE = {
    "seeds": 2,
    "single_seeds": 2,
    "tables": "routerbench",
    "embedder": smoke.EMBEDDER,
    "data_dir": smoke.ROUTING,
}
SMOKE_HELP = "bench/smoke's small routerbench table, 2 splits, hashing embedder: in seconds"


def compare(
    table: LabelledTable, vectors: np.ndarray, seeds: int, embedder: str
) -> tuple[list[Result], list[Result]]:
    """(default, frontier) results over the splits."""
    plain: list[Result] = []
    pruned: list[Result] = []
    for train, test in splits(len(table), seeds):
        tr, te = table.take(train), table.take(test)
        plain.append(measure(fit(vectors[train], tr, embedder), vectors[test], te))
        pruned.append(measure(fit(vectors[train], tr, embedder, frontier=True), vectors[test], te))
    return plain, pruned


def cells(results: list[Result]) -> str:
    ratios = [
        _mean([r.alpha1 / r.best for r in results]),
        _mean([r.at50 for r in results]),
        _mean([r.at7 for r in results]),
    ]
    return " / ".join("—" if v != v else f"{v:.3f}×" for v in ratios)


def each_dataset(
    name: str, table: LabelledTable, vectors: np.ndarray, seeds: int, embedder: str
) -> list[str]:
    """Each dataset of the table fitted and scored alone, then their mean: table rows."""
    short = name.split("_")[0]
    datasets = np.array(table.datasets)
    pooled: tuple[list[Result], list[Result]] = ([], [])
    lines = []
    for dataset in sorted(set(table.datasets)):
        rows = np.flatnonzero(datasets == dataset)
        plain, pruned = compare(table.take(rows), vectors[rows], seeds, embedder)
        pooled[0].extend(plain)
        pooled[1].extend(pruned)
        lines.append(f"| {short} · {dataset} | {cells(plain)} | {cells(pruned)} |")
    mean = f"{short} · mean of its {len(set(table.datasets))} datasets"
    lines.append(f"| {mean} | {cells(pooled[0])} | {cells(pooled[1])} |")
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--single-seeds", type=int, default=5)
    parser.add_argument("--tables", default="routerbench,llmrouter,routellm")
    parser.add_argument("--embedder", default="all-MiniLM-L6-v2")
    parser.add_argument("--cache-dir", type=Path, default=HERE.parent / ".cache" / "embeddings")
    parser.add_argument("--data-dir", type=Path, default=DATA, help="the tables' folder")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    return parser


def main() -> None:
    args = _parser().parse_args()
    if args.smoke:
        vars(args).update(SMOKE, cache_dir=smoke.scratch())
    names = [n for n in TABLES if n.split("_")[0] in args.tables.split(",")]
    print(f"× the best single's accuracy: at α=1 / ≤50% / ≤7% of its cost; {args.embedder}\n")
    print(f"whole tables, {args.seeds} splits\n\n| table | default | --frontier |\n|---|---|---|")
    single = [
        "",
        f"each dataset alone, {args.single_seeds} splits",
        "",
        "| table · dataset | default | --frontier |",
        "|---|---|---|",
    ]
    for name in names:
        table = load_table(name, args.data_dir)
        vectors = embed(table, args.embedder, args.cache_dir)
        plain, pruned = compare(table, vectors, args.seeds, args.embedder)
        print(f"| {name.split('_')[0]} | {cells(plain)} | {cells(pruned)} |", flush=True)
        single += each_dataset(name, table, vectors, args.single_seeds, args.embedder)
    print("\n".join(single))


if __name__ == "__main__":
    main()

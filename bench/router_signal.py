"""What the embedding tells a router beyond the dataset label, on the four routing tables.

On router_quality's seeded 80/20 splits, per table (means over the splits), as multiples of
the best single model's accuracy at α = 1 and at ≤ 50% / ≤ 7% of its cost:

- router: the default cluster router (router_quality's columns);
- router, own dataset's clusters: the same, but each query is scored only by clusters of its
  own dataset (told its label; the shipped router is not);
- dataset-only: the same rule with one cluster per dataset, routing each held-out query by
  its dataset label alone, fitted on the train part;
- dataset mix (bound): the best fixed mixture of models per dataset, solved as a linear
  program on the held-out part's own per-dataset accuracies and costs. It peeks at the
  held-out part, so it bounds every router that has no per-query information. Chosen on a
  fifth of the table, it is optimistic; the evidence table gives the same program solved on
  the whole table, the mixture's expected value.

Then the evidence: how often a held-out query's nearest train query is from its own dataset,
and per dataset how well the mean outcome of a held-out query's 30 nearest train queries
(cosine, same dataset) ranks whether a model answers it correctly (ROC AUC, averaged over
the models with both outcomes present; 0.5 is no signal).

Run: python bench/router_signal.py [--seeds 10] [--tables routerbench,…] [--smoke]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import smoke
from router_quality import (
    DATA,
    HERE,
    TABLES,
    Result,
    _mean,
    _times,
    embed,
    fit,
    load_table,
    measure,
    splits,
)
from scipy.optimize import linprog
from sklearn.metrics import roc_auc_score

from orchestrator.routing.labelled import LabelledTable

EMBEDDER = "all-MiniLM-L6-v2"
NEIGHBOURS = 30
# Appended to unit embeddings as OWN × the one-hot dataset, it makes a query's own dataset's
# clusters its nearest: cosine (s + 9) / 10 against s / 10 for the others.
OWN = 3.0
FRACTIONS = (0.5, 0.07)  # of the best single's cost
SMOKE = {"seeds": 2, "tables": "routerbench", "embedder": smoke.EMBEDDER, "data_dir": smoke.ROUTING}
SMOKE_HELP = "bench/smoke's small routerbench table, 2 splits, hashing embedder: in seconds"


def per_dataset(table: LabelledTable) -> tuple[np.ndarray, np.ndarray]:
    """(datasets × models) mean score and total cost."""
    names = np.array(table.datasets)
    rows = [names == d for d in sorted(set(table.datasets))]
    accuracy = np.array([np.nanmean(table.scores[r], axis=0) for r in rows])
    cost = np.array([np.nansum(table.costs[r], axis=0) for r in rows])
    return np.nan_to_num(accuracy), cost


def dataset_mix(table: LabelledTable, fraction: float) -> float:
    """Best macro accuracy of per-dataset model mixtures costing ≤ fraction × the best single,
    as a multiple of the best single's accuracy; nan when even the cheapest mix costs more or
    the table has no costs."""
    accuracy, cost = per_dataset(table)
    if not cost.sum() > 0:
        return float("nan")
    d, m = accuracy.shape
    best = int(accuracy.mean(axis=0).argmax())
    solved = linprog(
        -accuracy.ravel() / d,
        A_ub=[cost.ravel()],
        b_ub=[fraction * cost[:, best].sum()],
        A_eq=np.kron(np.eye(d), np.ones(m)),
        b_eq=np.ones(d),
        bounds=(0, 1),
    )
    return float(-solved.fun / accuracy[:, best].mean()) if solved.success else float("nan")


def signal(
    unit: np.ndarray, table: LabelledTable, train: np.ndarray, test: np.ndarray
) -> dict[str, float]:
    """Per dataset, the mean over models of the neighbour vote's AUC on the held-out part."""
    names = np.array(table.datasets)
    out = {}
    for name in sorted(set(table.datasets)):
        tr, te = train[names[train] == name], test[names[test] == name]
        near = np.argsort(-(unit[te] @ unit[tr].T), axis=1)[:, :NEIGHBOURS]
        out[name] = model_auc(table.scores[te], np.nanmean(table.scores[tr][near], axis=1))
    return out


def model_auc(outcomes: np.ndarray, predicted: np.ndarray) -> float:
    """Mean over the models (columns) of how well `predicted` ranks each model being right
    (ROC AUC over the rows where both are known); nan when no model has both outcomes."""
    aucs = []
    for truth, guess in zip(outcomes.T, predicted.T, strict=True):
        ok = ~np.isnan(truth) & ~np.isnan(guess)
        if len(set(truth[ok] >= 0.5)) == 2:
            aucs.append(roc_auc_score(truth[ok] >= 0.5, guess[ok]))
    return statistics.fmean(aucs) if aucs else float("nan")


def same_dataset(
    unit: np.ndarray, table: LabelledTable, train: np.ndarray, test: np.ndarray
) -> float:
    """How often a held-out query's nearest train query comes from its own dataset."""
    names = np.array(table.datasets)
    nearest = train[(unit[test] @ unit[train].T).argmax(axis=1)]
    return float((names[nearest] == names[test]).mean())


def rules(
    unit: np.ndarray, onehot: np.ndarray, table: LabelledTable, train: np.ndarray, test: np.ndarray
) -> dict[str, list[float]]:
    """Each rule's [α=1, ≤50%, ≤7%] multiples of the best single on one split."""
    held = table.take(test)

    def routed(x: np.ndarray, **options: Any) -> list[float]:
        router = fit(x[train], table.take(train), EMBEDDER, **options)
        return ratios(measure(router, x[test], held))

    return {
        "router": routed(unit),
        "router, own dataset's clusters": routed(np.hstack([unit, OWN * onehot])),
        "dataset-only": routed(onehot, k=1, top_p=1, bags=1),  # one cluster per dataset
        "dataset mix (bound)": [float("nan"), *(dataset_mix(held, f) for f in FRACTIONS)],
    }


def ratios(result: Result) -> list[float]:
    """× the best single's accuracy at α = 1, at ≤ 50% and at ≤ 7% of its cost."""
    return [result.alpha1 / result.best, result.at50, result.at7]


def cell(runs: list[list[float]]) -> str:
    """Each of `ratios`' columns averaged over the runs, as `0.992× / 0.976× / 0.921×`."""
    return " / ".join(_times(_mean(list(values))) for values in zip(*runs, strict=True))


def run_table(
    name: str, seeds: int, cache: Path, embedder: str, data: Path = DATA
) -> tuple[str, str]:
    table = load_table(name, data)
    vectors = embed(table, embedder, cache)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    names = sorted(set(table.datasets))
    onehot = np.eye(len(names), dtype=np.float32)[[names.index(d) for d in table.datasets]]
    runs: dict[str, list[list[float]]] = {}
    aucs: dict[str, list[float]] = {}
    same = []
    for train, test in splits(len(table), seeds):
        for rule, values in rules(unit, onehot, table, train, test).items():
            runs.setdefault(rule, []).append(values)
        for dataset, auc in signal(unit, table, train, test).items():
            aucs.setdefault(dataset, []).append(auc)
        same.append(same_dataset(unit, table, train, test))
    short = name.split("_")[0]
    whole = " / ".join(_times(dataset_mix(table, f)) for f in FRACTIONS)
    auc_text = ", ".join(f"{d} {statistics.fmean(v):.2f}" for d, v in aucs.items())
    return (
        f"| {short} | " + " | ".join(cell(r) for r in runs.values()) + " |",
        f"| {short} | {whole} | {statistics.fmean(same):.0%} | {auc_text} |",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--tables", default="", help="comma-separated name prefixes")
    parser.add_argument("--cache-dir", type=Path, default=HERE.parent / ".cache" / "embeddings")
    parser.add_argument("--embedder", default=EMBEDDER)
    parser.add_argument("--data-dir", type=Path, default=DATA, help="the tables' folder")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE, cache_dir=smoke.scratch())
    wanted = [t for t in args.tables.split(",") if t]
    rows = [
        run_table(name, args.seeds, args.cache_dir, args.embedder, args.data_dir)
        for name in TABLES
        if not wanted or any(name.startswith(w) for w in wanted)
    ]
    print(f"{args.seeds} splits, {args.embedder}, data from {args.data_dir}")
    print("\n× the best single's accuracy: at α=1 / at ≤50% / at ≤7% of its cost\n")
    print(
        "| table | router | router, own dataset's clusters | dataset-only | dataset mix (bound) |"
    )
    print("|---|---|---|---|---|")
    print("\n".join(quality for quality, _ in rows))
    print(
        "\n| table | dataset mix, whole table (≤50% / ≤7%) "
        "| nearest train query from the same dataset | per-query AUC by dataset |"
    )
    print("|---|---|---|---|")
    print("\n".join(evidence for _, evidence in rows))


if __name__ == "__main__":
    main()

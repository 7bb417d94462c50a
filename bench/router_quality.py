"""Router quality on the four public routing tables in ../shared/data/routing.

For each table, seeded splits: fit the cluster router on the train part, evaluate on the
held-out part, and print (means over the splits). The held-out part is drawn the way the
table's published test split is (`--protocol official`, the default: for llmrouter 50 queries
a dataset, so every dataset weighs the same) or as a random fifth (`--protocol random`, the
earlier protocol); `--cv leave-dataset-out,near-duplicates` adds grouped cross-validation
(protocols.py). Per table:

- best single: the most accurate single model on the held-out part, and its cost;
- router at α=1: accuracy, and as a multiple of the best single's;
- match: the cheapest α point (α step 0.01, `router eval`'s sweep) reaching the best single's
  accuracy, with its cost as a fraction of the best single's;
- accuracy reachable at ≤ 50% and ≤ 7% of the best single's cost (multiple of its accuracy);
- oracle accuracy and AIQ (over the α sweep);

for the default rule and the reference code's variants, and for two embedders
(all-MiniLM-L6-v2 and the static wordllama). Then timings: route() median, batch throughput,
fit time on 10k embeddings, and embedding speed. `--tune` picks k, top-p and β by 3-fold
cross-validation inside the train parts only, then reports the held-out result.

Run: python bench/router_quality.py [--seeds 5] [--protocol official|random] [--cv VIEWS]
     [--tables routerbench,…] [--tune]
     [--in-sample] [--train-fraction 0.5]
     python bench/router_quality.py --smoke    # small fixture table: checks it runs
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import protocols
import smoke

from orchestrator.embeddings.embedders import make_embedder
from orchestrator.embeddings.store import DiskCachedEmbedder
from orchestrator.routing.evaluation import Scorer, cheapest_matching, evaluate
from orchestrator.routing.labelled import LabelledTable, load_prices, read_labelled
from orchestrator.routing.router import ClusterRouter

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "routing"
TABLES = {
    "routerbench_3task_11models": None,
    "llmrouter_14task_9models": None,
    "routerdc_9task_7models": None,
    "routellm_mmlu_gsm8k_2models": HERE / "prices_routellm.toml",
}
GLOBAL = {"clustering": "global", "bags": 1, "scale": "cluster"}
IN_CLUSTER = {"scale": "cluster"}
VARIANTS: dict[str, dict[str, Any]] = {
    "global k-means (paper)": GLOBAL,
    "cost/max": {**GLOBAL, "cost_norm": "max"},
    "rank vote": {**GLOBAL, "vote": "rank"},
    "min-acc 0.3": {**GLOBAL, "min_accuracy": 0.3},
    "per-dataset k-means": {**IN_CLUSTER, "bags": 1},
    "per-dataset, k=30, β=27": {**IN_CLUSTER, "k": 30, "beta": 27.0, "bags": 1},
    "per-dataset, 3 bags": {**IN_CLUSTER, "bags": 3},
    "global, 5 bags": {**GLOBAL, "bags": 5},
    "per-dataset, 5 bags, in-cluster scale": IN_CLUSTER,
    "global, 5 bags, table scale": {"clustering": "global"},
    "per-dataset, 5 bags, table scale, cluster size 30": {"cluster_size": 30},
    "per-dataset, 5 bags, table scale, cluster size 50": {"cluster_size": 50},
    "per-dataset, 5 bags, table scale, near copies 0.95": {"near_copy": 0.95},
    "per-dataset, 5 bags, table scale, near copies 0.9": {"near_copy": 0.9},
    "per-dataset, 5 bags, table scale (default)": {},
}


@dataclass
class Result:
    best: float
    best_model: str
    alpha1: float
    match_cost: float | None
    at50: float
    at7: float
    oracle: float
    aiq: float
    has_cost: bool


def load_table(name: str, data: Path = DATA) -> LabelledTable:
    prices_file = TABLES[name]
    prices = load_prices(prices_file) if prices_file else None
    return read_labelled([data / f"{name}.jsonl"], "query_last", prices)


def embed(table: LabelledTable, embedder: str, cache_dir: Path) -> np.ndarray:
    return DiskCachedEmbedder(make_embedder(embedder), cache_dir, batch_size=512).embed(table.texts)


def splits(
    n: int, seeds: int, in_sample: bool = False, fraction: float = 1.0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded 80/20 (train, held-out) index pairs over the whole file (`random` protocol)."""
    return held_out("", [""] * n, seeds, "random", in_sample, fraction)


def held_out(
    name: str,
    datasets: list[str],
    seeds: int,
    protocol: str,
    in_sample: bool = False,
    fraction: float = 1.0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, held-out) index pairs drawn by `protocol` (protocols.py); `fraction` < 1 fits
    on a seeded part of each train part, the held-out part unchanged (how accuracy grows with
    calibration data)."""
    if in_sample:  # fit and score on everything: what the rule can express, not what carries over
        everything = np.arange(len(datasets))
        return [(everything, everything)]
    out = []
    for seed, (train, test) in enumerate(protocols.splits(protocol, name, datasets, seeds)):
        if fraction < 1.0:
            kept = np.random.default_rng(100 + seed).permutation(train)
            train = np.sort(kept[: round(fraction * len(train))])
        out.append((train, test))
    return out


def measure(router: ClusterRouter, vectors: np.ndarray, table: LabelledTable) -> Result:
    report = evaluate(router, vectors, table)
    best = report.best_single
    by_alpha = {p.alpha: p for p in report.sweep}
    match = cheapest_matching(report.sweep, best["accuracy"])
    has_cost = best["cost"] > 0

    def within(fraction: float) -> float:
        ok = [p.accuracy for p in report.sweep if p.cost <= fraction * best["cost"] + 1e-12]
        return max(ok) / best["accuracy"] if ok else float("nan")

    return Result(
        best=best["accuracy"],
        best_model=best["model"],
        alpha1=by_alpha[1.0].accuracy,
        match_cost=(match.cost / best["cost"]) if match and has_cost else None,
        at50=within(0.5) if has_cost else float("nan"),
        at7=within(0.07) if has_cost else float("nan"),
        oracle=report.oracle["accuracy"],
        aiq=report.aiq,
        has_cost=has_cost,
    )


def fit(vectors: np.ndarray, table: LabelledTable, embedder: str, **options: Any) -> ClusterRouter:
    return ClusterRouter.fit(
        vectors,
        table.scores,
        table.costs,
        table.models,
        embedder_name=embedder,
        datasets=table.datasets,
        **options,
    )


def _mean(values: list[float]) -> float:
    finite = [v for v in values if v == v]
    return statistics.fmean(finite) if finite else float("nan")


def _times(value: float) -> str:
    """`0.963×`, or `—` when no router point is that cheap."""
    return "—" if value != value else f"{value:.3f}×"


def summarise(label: str, results: list[Result]) -> str:
    best = _mean([r.best for r in results])
    ratio = [r.alpha1 / r.best for r in results]
    spread = statistics.pstdev(ratio) if len(ratio) > 1 else 0.0
    matches = [r.match_cost for r in results]
    hit = [m for m in matches if m is not None]
    match = f"{_mean(hit):.0%} ({len(hit)}/{len(matches)})" if results[0].has_cost else "—"
    at50 = _times(_mean([r.at50 for r in results])) if results[0].has_cost else "—"
    at7 = _times(_mean([r.at7 for r in results])) if results[0].has_cost else "—"
    return (
        f"| {label} | {results[0].best_model.split('/')[-1]} {best:.4f} | "
        f"{_mean([r.alpha1 for r in results]):.4f} ({_mean(ratio):.3f}× ±{spread:.3f}) | "
        f"{match} | {at50} | {at7} | {_mean([r.oracle for r in results]):.4f} | "
        f"{_mean([r.aiq for r in results]):.4f} |"
    )


HEADER = (
    "| table · embedder · rule | best single (acc) | router α=1 (× best) | match: cost vs best "
    "(splits) | acc ≤50% cost | acc ≤7% cost | oracle | AIQ |\n|---|---|---|---|---|---|---|---|"
)


@dataclass
class Options:
    """What `run_table` measures: how many splits, drawn by which protocol, on what data."""

    seeds: int
    cache: Path
    protocol: str = "official"
    tune: bool = False
    only: tuple[str, ...] = ()
    in_sample: bool = False
    fraction: float = 1.0
    data: Path = DATA


def run_table(name: str, embedders: list[str], opts: Options) -> list[str]:
    table = load_table(name, opts.data)
    rows = []
    for embedder in embedders:
        vectors = embed(table, embedder, opts.cache)
        main = ("global k-means (paper)", "per-dataset, 5 bags, table scale (default)")
        variants = {
            v: o
            for v, o in VARIANTS.items()
            if (embedder == embedders[0] or v in main)
            and (not opts.only or any(x in v for x in opts.only))
        }
        results: dict[str, list[Result]] = {v: [] for v in variants}
        if opts.tune:
            results["tuned (CV on train)"] = []
        pairs = held_out(
            name, table.datasets, opts.seeds, opts.protocol, opts.in_sample, opts.fraction
        )
        for train, test in pairs:
            tr, te = table.take(train), table.take(test)
            for variant, options in variants.items():
                router = fit(vectors[train], tr, embedder, **options)
                results[variant].append(measure(router, vectors[test], te))
            if opts.tune:
                options = tune_options(vectors[train], tr, embedder)
                router = fit(vectors[train], tr, embedder, **options)
                results["tuned (CV on train)"].append(measure(router, vectors[test], te))
                print(f"  {name} {embedder}: tuned {options}", file=sys.stderr)
        short = name.split("_")[0]
        rows += [summarise(f"{short} · {embedder} · {v}", r) for v, r in results.items()]
        print("\n".join(rows[-len(results) :]), file=sys.stderr)
    return rows


CV_HEADER = (
    "| table · grouped CV · rule | folds | best single (macro) | routed α=1, out of fold (× best) |"
    "\n|---|---|---|---|"
)
MAIN_RULES = {"paper": VARIANTS["global k-means (paper)"], "default": {}}


def cv_folds(view: str, table: LabelledTable, vectors: np.ndarray) -> list[np.ndarray]:
    if view == "leave-dataset-out":
        return protocols.dataset_folds(table.datasets)
    if view == "near-duplicates":
        return protocols.group_folds(protocols.duplicate_groups(vectors))
    raise SystemExit(f"unknown --cv view {view!r}; known: {', '.join(protocols.CV_PROTOCOLS)}")


def out_of_fold(
    table: LabelledTable, vectors: np.ndarray, embedder: str, folds: list[np.ndarray], rule: dict
) -> np.ndarray:
    """Each query's α=1 choice by a router fitted without its fold."""
    choice = np.zeros(len(table), dtype=np.int64)
    for fold in folds:
        train = np.setdiff1d(np.arange(len(table)), fold)
        router = fit(vectors[train], table.take(train), embedder, **rule)
        choice[fold] = router.route_batch(vectors[fold], 1.0)
    return choice


def cv_rows(name: str, embedder: str, views: str, opts: Options) -> list[str]:
    """Grouped cross-validation: out-of-fold choices of the paper's rule and the default,
    scored together against the best single model on the whole table."""
    table = load_table(name, opts.data)
    vectors = embed(table, embedder, opts.cache)
    scorer = Scorer(table)
    best = max((scorer.single(j)["accuracy"] or 0.0) for j in range(len(table.models)))
    rows = []
    for view in [v for v in views.split(",") if v]:
        folds = cv_folds(view, table, vectors)
        for label, rule in MAIN_RULES.items():
            routed, _, _ = scorer.choose(out_of_fold(table, vectors, embedder, folds, rule))
            short = name.split("_")[0]
            rows.append(
                f"| {short} · {view} · {label} | {len(folds)} | {best:.4f} | "
                f"{routed:.4f} ({routed / best:.3f}×) |"
            )
    return rows


GRID_CLUSTERING = ("global", "per-dataset")
GRID_K = (30, 60)
GRID_TOP_P = (2, 4, 8)
GRID_BETA = (9.0, 27.0)


def tune_options(vectors: np.ndarray, table: LabelledTable, embedder: str) -> dict[str, Any]:
    """Clustering, k, top-p and β with the best mean α=1 accuracy over 3 folds of the train
    part (the held-out part is never looked at)."""
    folds = np.array_split(np.random.default_rng(123).permutation(len(table)), 3)
    scores: dict[tuple[str, int, int, float], list[float]] = {}
    for i, held in enumerate(folds):
        fit_rows = np.sort(np.concatenate([f for j, f in enumerate(folds) if j != i]))
        part, val = table.take(fit_rows), table.take(np.sort(held))
        for clustering in GRID_CLUSTERING:
            for k in GRID_K:
                base = fit(vectors[fit_rows], part, embedder, k=k, clustering=clustering)
                for top_p in GRID_TOP_P:
                    for beta in GRID_BETA:
                        config = replace(base.config, top_p=top_p, beta=beta)
                        router = ClusterRouter(embedder, base.models, config, base.tables)
                        point = evaluate(router, vectors[np.sort(held)], val, [1.0]).sweep[0]
                        scores.setdefault((clustering, k, top_p, beta), []).append(point.accuracy)
    clustering, k, top_p, beta = max(scores, key=lambda key: statistics.fmean(scores[key]))
    return {"clustering": clustering, "k": k, "top_p": top_p, "beta": beta}


def _route_median(router: ClusterRouter, vectors: np.ndarray) -> float:
    """Median µs of one route() call over `vectors`."""
    calls = []
    for v in vectors:
        t = time.perf_counter()
        router.route(v, 0.7)
        calls.append(time.perf_counter() - t)
    return statistics.median(calls) * 1e6


def timings(
    cache: Path,
    embedders: list[str],
    name: str = "routerdc_9task_7models",
    data: Path = DATA,
    embedder: str = "all-MiniLM-L6-v2",
) -> list[str]:
    """Fit, route and embedding speed, on the table `name` embedded with `embedder`."""
    table = load_table(name, data)
    vectors = embed(table, embedder, cache)[:10_000]
    sub = table.take(np.arange(len(vectors)))
    started = time.perf_counter()
    router = fit(vectors, sub, embedder)
    fit_s = time.perf_counter() - started
    one_bag = fit(vectors, sub, embedder, bags=1)
    started = time.perf_counter()
    near = fit(vectors, sub, embedder, near_copy=0.95)
    near_s = time.perf_counter() - started
    shapes = {router.shape_text(): router, f"{router.shape_text()}, near copies": near}
    shapes[one_bag.shape_text()] = one_bag
    median = {shape: _route_median(r, vectors[:5000]) for shape, r in shapes.items()}
    many = np.tile(vectors, (10, 1))
    rates = []
    for r in (router, near):
        t = time.perf_counter()
        r.route_batch(many, 0.7)
        rates.append(len(many) / (time.perf_counter() - t))
    medians = ", ".join(f"{us:.1f} µs ({shape})" for shape, us in median.items())
    return [
        f"fit on {len(vectors)} precomputed embeddings ({router.shape_text()}): {fit_s:.2f} s "
        f"({near_s:.2f} s with near copies)",
        f"route() one vector, median of 5000: {medians}",
        f"route_batch() on {len(many)} vectors: {rates[0]:,.0f} vectors/s "
        f"({rates[1]:,.0f} with near copies)",
        *embedding_speed(table.texts[:1000], embedders),
    ]


def embedding_speed(texts: list[str], names: list[str]) -> list[str]:
    lines = []
    for name in names:
        embedder = make_embedder(name)
        embedder.embed(texts[:8])
        t = time.perf_counter()
        embedder.embed(texts[8:])
        lines.append(
            f"embed {len(texts) - 8} texts with {name}: {(len(texts) - 8) / (time.perf_counter() - t):,.0f} texts/s"
        )
    return lines


SMOKE = {
    "seeds": 2,
    "tables": "routerbench",
    "embedders": f"{smoke.EMBEDDER},hashing-32",
    "data_dir": smoke.ROUTING,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--embedders", default="all-MiniLM-L6-v2,wordllama")
    parser.add_argument("--cache-dir", default=str(HERE.parent / ".cache" / "embeddings"))
    parser.add_argument("--data-dir", type=Path, default=DATA, help="the tables' folder")
    parser.add_argument("--tune", action="store_true")
    parser.add_argument(
        "--in-sample", action="store_true", help="fit and score on each whole table, once"
    )
    parser.add_argument(
        "--train-fraction", type=float, default=1.0, help="fit on this part of each train part"
    )
    parser.add_argument(
        "--protocol",
        choices=protocols.PROTOCOLS,
        default="official",
        help="how held-out parts are drawn (official: as each table's test split is; random: "
        "a fifth of the file)",
    )
    parser.add_argument(
        "--cv",
        default="",
        help="also grouped cross-validation, comma-separated: leave-dataset-out, near-duplicates",
    )
    parser.add_argument("--no-timings", action="store_true")
    parser.add_argument(
        "--variants", default="", help="only rules whose name contains one of these"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="bench/smoke's small routerbench table, 2 splits, hashing embedders: in seconds",
    )
    return parser


def _heading(args: argparse.Namespace) -> str:
    if args.in_sample:
        return "in-sample: fitted and scored on each whole table"
    fitted = (
        ""
        if args.train_fraction == 1
        else f", fitted on {args.train_fraction:.0%} of each train part"
    )
    drawn = protocols.DESCRIPTIONS[args.protocol]
    return f"held-out part: {drawn}; means over {args.seeds} seeded splits{fitted}"


def _options(args: argparse.Namespace) -> Options:
    return Options(
        seeds=args.seeds,
        cache=Path(args.cache_dir),
        protocol=args.protocol,
        tune=args.tune,
        only=tuple(v for v in args.variants.split(",") if v),
        in_sample=args.in_sample,
        fraction=args.train_fraction,
        data=args.data_dir,
    )


def main() -> None:
    args = _parser().parse_args()
    if args.smoke:
        vars(args).update(SMOKE, cache_dir=smoke.scratch())
    opts, embedders = _options(args), args.embedders.split(",")
    names = [t for t in TABLES if any(t.startswith(x) for x in args.tables.split(","))]
    print(_heading(args) + "\n")
    print(HEADER)
    for name in names:
        for row in run_table(name, embedders, opts):
            print(row, flush=True)
    if args.cv:
        print(f"\n{CV_HEADER}")
        for name in names:
            for row in cv_rows(name, embedders[0], args.cv, opts):
                print(row, flush=True)
    if not args.no_timings:
        print()
        timing = ("routerbench_3task_11models", args.data_dir, embedders[0]) if args.smoke else ()
        for line in timings(opts.cache, embedders, *timing):
            print(f"- {line}")


if __name__ == "__main__":
    main()

"""Capability routing on ../shared/data/tools: MetaTool (199 tools, 15,863 labelled queries)
and BFCL (2,290 function specs; 1,779 items, each with its own candidates, 822 of them with
none that fits).

Per embedder and method, seeded splits (MetaTool 80/20 within each tool, BFCL items 80/20):
fit on the train part, route the held-out part, and print (mean ± half the range over seeds)
top-1 (queries with one relevant capability, an abstention counting as a miss), rank-1 (the same
by the ranking alone), recall@5, for multi-capability queries the share
with all relevant in the top |relevant|, for `relevant: []` items the abstention rate, overall
right-or-rightly-abstained, route latency per query (batched) and fit time. Then, for the
default method: cold start (20% of MetaTool's tools keep only their descriptions), growth
(MetaTool's tools among all 2,290 BFCL functions as distractors), and speed (route() over
10k and 100k synthetic capabilities against a plain numpy scan in the same run; fit on 20k
labelled queries with cached vectors).

Run: python bench/capability_routing.py [--seeds 3] [--embedders all-MiniLM-L6-v2,wordllama-256]
     [--cache DIR]   # embedding cache (default .cache/embeddings beside bench/)
     python bench/capability_routing.py --smoke    # bench/smoke/tools: checks it runs
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import smoke
from capability_eval import (
    Embed,
    Scores,
    fit_and_score,
    memo_embed,
    random_split,
    read_capabilities,
    read_queries,
    score,
    spread,
    stratified,
)

from orchestrator.capabilities import Capability, LabelledQuery
from orchestrator.capabilities.router import DEFAULT_METHOD, METHODS, CapabilityRouter
from orchestrator.embeddings.embedders import make_embedder
from orchestrator.embeddings.store import DiskCachedEmbedder

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "tools"
CACHE = HERE.parent / ".cache" / "embeddings"
COLUMNS = ("top-1", "rank-1", "recall@5", "multi", "abstain", "right", "route ms", "fit s")


def table(title: str, rows: dict[str, list[Scores]]) -> None:
    print(f"\n### {title}\n")
    print("| method | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for method, runs in rows.items():
        cells = [spread([r.cells()[c] for r in runs]) for c in COLUMNS]
        print(f"| {method} | " + " | ".join(cells) + " |")


def datasets(data: Path) -> dict[str, tuple[list[Capability], list[LabelledQuery]]]:
    return {
        name: (
            read_capabilities(data / f"{name}_capabilities.jsonl"),
            read_queries(data / f"{name}_queries.jsonl"),
        )
        for name in ("metatool", "bfcl")
    }


def split(name: str, queries: list[LabelledQuery], seed: int) -> tuple[list, list]:
    train, test = (
        stratified(queries, seed) if name == "metatool" else random_split(len(queries), seed)
    )
    return [queries[i] for i in train], [queries[i] for i in test]


def quality(data: dict, embed: Embed, embedder: str, seeds: int, methods: list[str]) -> None:
    for name, (caps, queries) in data.items():
        rows: dict[str, list[Scores]] = {m: [] for m in methods}
        for seed in range(seeds):
            train, test = split(name, queries, seed)
            for method in methods:
                rows[method].append(fit_and_score(caps, train, test, embed, embedder, method))
        table(f"{name} · {embedder} · {seeds} seeds", rows)


def cold_start(data: dict, embed: Embed, embedder: str, seeds: int) -> None:
    """20% of MetaTool's tools lose their labelled queries (kept in the pool, descriptions only)."""
    caps, queries = data["metatool"]
    cold_top1, warm_top1 = [], []
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        held = set(rng.choice([c.id for c in caps], size=round(0.2 * len(caps)), replace=False))
        train, test = split("metatool", queries, seed)
        train = [q for q in train if not held & set(q.relevant)]
        router = CapabilityRouter.fit(caps, embed, embedder_name=embedder, labelled=train)
        single = [q for q in test if len(q.relevant) == 1]
        cold = score(router, [q for q in single if q.relevant[0] in held], embed)
        warm = score(router, [q for q in single if q.relevant[0] not in held], embed)
        cold_top1.append(cold.cells()["top-1"])
        warm_top1.append(warm.cells()["top-1"])
    print(f"\ncold start ({embedder}, {DEFAULT_METHOD}, 20% of tools without labelled queries):")
    print(f"- held-out tools' queries top-1: {spread(cold_top1)}")
    print(f"- other tools' queries top-1:    {spread(warm_top1)}")


def growth(data: dict, embed: Embed, embedder: str, seeds: int) -> None:
    """MetaTool's queries routed among its tools plus every BFCL function as distractors."""
    caps, queries = data["metatool"]
    small, big = [], []
    for seed in range(seeds):
        train, test = split("metatool", queries, seed)
        single = [q for q in test if len(q.relevant) == 1]
        for pool, out in ((caps, small), (caps + data["bfcl"][0], big)):
            router = CapabilityRouter.fit(pool, embed, embedder_name=embedder, labelled=train)
            out.append(score(router, single, embed).cells()["top-1"])
    n = len(caps) + len(data["bfcl"][0])
    drop = [a - b for a, b in zip(small, big, strict=True)]
    print(f"\ngrowth ({embedder}, {DEFAULT_METHOD}): MetaTool single-tool top-1")
    print(
        f"- {len(caps)} tools: {spread(small)}; {n} (with BFCL distractors): {spread(big)}; "
        f"drop {spread(drop)}"
    )


def synthetic(n: int, dim: int, seed: int) -> np.ndarray:
    matrix = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def speed(sizes: list[int], labelled_n: int, dim: int = 384) -> None:
    print(f"\nspeed (synthetic {dim}-d unit vectors, {DEFAULT_METHOD}; median of 200 routes):")
    queries = synthetic(200, dim, 7)
    for n in sizes:
        vectors = synthetic(n, dim, n)
        caps = [Capability(id=f"c{i}", description=f"capability {i}") for i in range(n)]
        lookup = dict(zip((c.text() for c in caps), vectors, strict=True))
        router = CapabilityRouter.fit(
            caps, lambda t, d=lookup: np.stack([d[x] for x in t]), embedder_name="synthetic"
        )
        router.route(queries[0], "warm up")
        ours = _median_ms(lambda q, r=router: r.route(q, "q"), queries)
        scan = _median_ms(lambda q, m=vectors: np.argmax(m @ q), queries)
        print(
            f"- route() over {n:,} capabilities: {ours:.3f} ms median; numpy scan "
            f"{scan:.3f} ms; ratio {ours / scan:.2f}"
        )
    _fit_speed(labelled_n, dim)


def _median_ms(call: object, queries: np.ndarray) -> float:
    times = []
    for q in queries:
        start = time.perf_counter()
        call(q)  # type: ignore[operator]
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def _fit_speed(n: int, dim: int) -> None:
    tools = 500
    centres = synthetic(tools, dim, 1)
    noise = synthetic(n, dim, 2)
    owners = np.arange(n) % tools
    vectors = centres[owners] + 0.8 * noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    caps = [Capability(id=f"t{i}", description=f"tool {i}") for i in range(tools)]
    labelled = [LabelledQuery(query=f"q{i}", relevant=(f"t{owners[i]}",)) for i in range(n)]
    lookup = {
        **{c.text(): v for c, v in zip(caps, centres, strict=True)},
        **{q.query: v for q, v in zip(labelled, vectors, strict=True)},
    }
    start = time.perf_counter()
    CapabilityRouter.fit(
        caps,
        lambda t: np.stack([lookup[x] for x in t]),
        embedder_name="synthetic",
        labelled=labelled,
    )
    print(
        f"- fit on {n:,} labelled queries ({tools} tools, cached vectors): "
        f"{time.perf_counter() - start:.1f} s"
    )


def embedder_for(name: str, cache: Path, data: dict) -> Embed:
    texts = [c.text() for caps, _ in data.values() for c in caps]
    texts += [q.query for _, queries in data.values() for q in queries]
    return memo_embed(DiskCachedEmbedder(make_embedder(name), cache, batch_size=512).embed, texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--embedders", default="all-MiniLM-L6-v2,wordllama-256")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--parts", default="quality,cold,growth,speed")
    parser.add_argument("--smoke", action="store_true", help="bench/smoke/tools, hashing embedder")
    parser.add_argument("--cache", type=Path, default=CACHE, help="embedding cache folder")
    args = parser.parse_args()
    data_dir, cache, sizes, labelled_n = DATA, args.cache, [10_000, 100_000], 20_000
    if args.smoke:
        args.seeds, args.embedders = 1, smoke.EMBEDDER
        data_dir, cache, sizes, labelled_n = smoke.HERE / "tools", smoke.scratch(), [5_000], 2_000
    data = datasets(data_dir)
    parts = args.parts.split(",")
    for i, name in enumerate(args.embedders.split(",")):
        embed = embedder_for(name, cache, data)
        if "quality" in parts:
            quality(data, embed, name, args.seeds, args.methods.split(","))
        if i == 0 and "cold" in parts:
            cold_start(data, embed, name, args.seeds)
        if i == 0 and "growth" in parts:
            growth(data, embed, name, args.seeds)
    if "speed" in parts:
        speed(sizes, labelled_n)


if __name__ == "__main__":
    main()

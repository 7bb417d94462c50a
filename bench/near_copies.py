"""Near copies in the routing tables: how often a held-out query nearly repeats a fitted one,
whether the near copy's records predict the query's, and what routing by them buys at α=1.

Per table, on the `official` protocol's held-out parts (bench/protocols.py):

1. the share of held-out queries whose most similar fitted query reaches cosine 0.95 / 0.9
   (the embedder's vectors) or 0.8 (TF-IDF, fitted on the fit part);
2. over the whole file, for each query and its most similar other query, the share of models
   whose records agree (both right or both wrong), against a random pair of the same dataset;
3. the default rule at α=1, and the same with the nearest fitted query's records blended in
   (weight 0.5) above a threshold, by the embedder (`near_copy`, shipped as an option) and
   by TF-IDF (not shipped: the route API takes a vector, not text): paired difference
   against the default over the same splits, mean ± spread.

Run: python bench/near_copies.py [--seeds 5] [--tables llmrouter,routerbench]
     python bench/near_copies.py --smoke
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import protocols
import router_quality as rq
import smoke
from sklearn.feature_extraction.text import TfidfVectorizer

from orchestrator.routing.evaluation import Scorer
from orchestrator.routing.labelled import LabelledTable

DENSE = (0.9, 0.95)
LEXICAL = (0.8, 0.9)
WEIGHT = 0.5


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def lexical(table: LabelledTable, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """(test, train) TF-IDF cosines, the vocabulary fitted on the train part."""
    texts = np.asarray(table.texts, dtype=object)
    tfidf = TfidfVectorizer(sublinear_tf=True).fit(texts[train])
    return np.asarray((tfidf.transform(texts[test]) @ tfidf.transform(texts[train]).T).todense())


def recalled(scores: np.ndarray, records: np.ndarray, sims: np.ndarray, tau: float) -> np.ndarray:
    """α=1 cluster scores with the nearest fitted query's records, min-max across models,
    blended in where its similarity reaches `tau`."""
    nearest = sims.argmax(axis=1)
    rec = records[nearest]
    low, high = np.nanmin(rec, axis=1, keepdims=True), np.nanmax(rec, axis=1, keepdims=True)
    votes = np.nan_to_num((rec - low) / np.where(high > low, high - low, 1.0), nan=0.0)
    hit = sims.max(axis=1)[:, np.newaxis] >= tau
    return np.where(hit, (1 - WEIGHT) * scores + WEIGHT * votes, scores)


def alpha_one(name: str, table: LabelledTable, x: np.ndarray, seeds: int) -> list[str]:
    shares: dict[str, list[float]] = {}
    gains: dict[str, list[float]] = {}
    for train, test in protocols.splits("official", name, table.datasets, seeds):
        fit, held = table.take(train), table.take(test)
        scorer = Scorer(held)
        best = max(scorer.single(j)["accuracy"] or 0.0 for j in range(len(table.models)))
        router = rq.fit(x[train], fit, "e")
        top, weights = router._nearest(x[test] @ router._centroids.T)
        scores = np.einsum("np,npm->nm", weights, router.table(1.0)[top])
        base = scorer.choose(scores.argmax(axis=1))[0] / best
        gains.setdefault("default α=1 (× best)", []).append(base)
        for kind, sims, taus in (
            ("dense", x[test] @ x[train].T, DENSE),
            ("tf-idf", lexical(table, train, test), LEXICAL),
        ):
            for tau in taus:
                label = f"{kind} ≥ {tau}"
                shares.setdefault(label, []).append(float((sims.max(axis=1) >= tau).mean()))
                routed = recalled(scores, fit.scores, sims, tau).argmax(axis=1)
                gains.setdefault(label, []).append(scorer.choose(routed)[0] / best - base)
    short = name.split("_")[0]
    lines = [f"| {short} | default α=1 | — | {_spread(gains.pop('default α=1 (× best)'))} |"]
    for label, values in gains.items():
        lines.append(
            f"| {short} | near copy {label} | {np.mean(shares[label]):.1%} | {_spread(values, True)} |"
        )
    return lines


def _spread(values: list[float], signed: bool = False) -> str:
    mean, sd = float(np.mean(values)), float(np.std(values))
    return f"{mean:+.4f} ±{sd:.4f}" if signed else f"{mean:.4f}× ±{sd:.4f}"


def agreement(name: str, table: LabelledTable, x: np.ndarray) -> list[str]:
    """Per similarity band: pairs (query, its most similar other query), the share of model
    records that agree, and the same for a random pair of the same dataset."""
    sims = x @ x.T
    np.fill_diagonal(sims, -1.0)
    nearest, best = sims.argmax(axis=1), sims.max(axis=1)
    rng = np.random.default_rng(0)
    names = np.asarray(table.datasets, dtype=object)
    lines = []
    for low, high in ((0.99, 1.01), (0.95, 0.99), (0.9, 0.95)):
        rows = np.flatnonzero((best >= low) & (best < high))
        if len(rows) == 0:
            continue
        partner = np.array([rng.choice(np.flatnonzero(names == names[i])) for i in rows])
        s = table.scores
        same = np.nanmean(np.abs(s[rows] - s[nearest[rows]]) < 0.5)
        chance = np.nanmean(np.abs(s[rows] - s[partner]) < 0.5)
        lines.append(
            f"| {name.split('_')[0]} | [{low}, {min(high, 1.0)}) | {len(rows)} "
            f"({len(rows) / len(x):.1%}) | {same:.3f} | {chance:.3f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--tables", default="llmrouter,routerbench")
    parser.add_argument("--embedder", default="all-MiniLM-L6-v2")
    parser.add_argument("--cache-dir", default=str(rq.HERE.parent / ".cache" / "embeddings"))
    parser.add_argument("--data-dir", type=Path, default=rq.DATA)
    parser.add_argument("--smoke", action="store_true", help="bench/smoke's table, in seconds")
    args = parser.parse_args()
    if args.smoke:
        args.seeds, args.tables, args.embedder = 2, "routerbench", smoke.EMBEDDER
        args.data_dir, args.cache_dir = smoke.ROUTING, smoke.scratch()
    names = [t for t in rq.TABLES if any(t.startswith(x) for x in args.tables.split(","))]
    agree, gains = [], []
    for name in names:
        table = rq.load_table(name, args.data_dir)
        x = unit(rq.embed(table, args.embedder, Path(args.cache_dir)))
        agree += agreement(name, table, x)
        gains += alpha_one(name, table, x, args.seeds)
    print("| table | cosine to its most similar query | queries | records agree | random pair |")
    print("|---|---|---|---|---|")
    print("\n".join(agree))
    print(f"\nofficial protocol, {args.seeds} seeded splits, α=1, blend weight {WEIGHT}\n")
    print("| table | rule | held-out queries it fires on | paired difference vs default |")
    print("|---|---|---|---|")
    print("\n".join(gains))


if __name__ == "__main__":
    main()

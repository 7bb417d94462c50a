"""What bench/capability_routing.py measures, split out to keep the script short: the tools
data (MetaTool, BFCL), seeded splits, and the scores of a fitted capability router on a
held-out part. Not a script: nothing runs on import."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from orchestrator.capabilities import Capability, LabelledQuery
from orchestrator.capabilities.router import CapabilityRouter

Embed = Callable[[list[str]], np.ndarray]


def read_capabilities(path: Path) -> list[Capability]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        row.pop("source", None)
        out.append(Capability(**row))
    return out


def read_queries(path: Path) -> list[LabelledQuery]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [LabelledQuery.model_validate_json(line) for line in lines]


def memo_embed(embed: Embed, texts: Sequence[str]) -> Embed:
    """Embed every text once; the returned function looks vectors up (fits and routes fast)."""
    unique = list(dict.fromkeys(texts))
    table = dict(zip(unique, np.asarray(embed(unique), dtype=np.float32), strict=True))

    def lookup(batch: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(batch) if t not in table]
        if missing:
            table.update(zip(missing, np.asarray(embed(missing), dtype=np.float32), strict=True))
        return np.stack([table[t] for t in batch]) if batch else np.zeros((0, 1), np.float32)

    return lookup


def stratified(queries: Sequence[LabelledQuery], seed: int) -> tuple[list[int], list[int]]:
    """80/20 within each label set (at least one held out where a label set has two queries)."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, q in enumerate(queries):
        groups.setdefault(tuple(sorted(q.relevant)), []).append(i)
    rng = np.random.default_rng(seed)
    train: list[int] = []
    test: list[int] = []
    for members in groups.values():
        order = rng.permutation(members).tolist()
        cut = len(order) - max(1 if len(order) > 1 else 0, round(0.2 * len(order)))
        train += order[:cut]
        test += order[cut:]
    return sorted(train), sorted(test)


def random_split(n: int, seed: int) -> tuple[list[int], list[int]]:
    order = np.random.default_rng(seed).permutation(n)
    cut = round(0.8 * n)
    return sorted(order[:cut].tolist()), sorted(order[cut:].tolist())


@dataclass
class Scores:
    """Per-query outcomes on a held-out part; `row()` turns them into the table's cells."""

    top1: list[bool] = field(default_factory=list)  # queries with one relevant capability
    rank1: list[bool] = field(default_factory=list)  # the same, abstention aside
    recall5: list[bool] = field(default_factory=list)  # any relevant in the top 5
    multi: list[bool] = field(default_factory=list)  # all relevant in the top |relevant|
    abstained: list[bool] = field(default_factory=list)  # `relevant: []` queries
    right: list[bool] = field(default_factory=list)  # right, or rightly abstained
    route_ms: float = 0.0
    fit_s: float = 0.0

    def cells(self) -> dict[str, float]:
        def mean(values: list[bool]) -> float:
            return float(np.mean(values)) if values else float("nan")

        return {
            "top-1": mean(self.top1),
            "rank-1": mean(self.rank1),
            "recall@5": mean(self.recall5),
            "multi": mean(self.multi),
            "abstain": mean(self.abstained),
            "right": mean(self.right),
            "route ms": self.route_ms,
            "fit s": self.fit_s,
        }


def score(
    router: CapabilityRouter,
    queries: Sequence[LabelledQuery],
    embed: Embed,
    name_of: Callable[[str], str] = str,
) -> Scores:
    """Route the held-out queries (in their candidates where they have some) and score them;
    `name_of` maps an id to what counts as the same capability (BFCL's name for a pool)."""
    texts = [q.query for q in queries]
    vectors = embed(texts)
    pools = [q.candidates for q in queries]
    start = time.perf_counter()
    has_pools = any(p is not None for p in pools)
    decisions = router.route_batch(vectors, texts, candidates=pools if has_pools else None)
    out = Scores(route_ms=1000 * (time.perf_counter() - start) / max(1, len(queries)))
    for q, d in zip(queries, decisions, strict=True):
        names = [name_of(r.id) for r in d.ranked]
        relevant = {name_of(r) for r in q.relevant}
        if not relevant:
            out.abstained.append(d.abstain)
            out.right.append(d.abstain)
            continue
        hit = not d.abstain and bool(names) and names[0] in relevant
        out.right.append(hit)
        out.recall5.append(bool(relevant & set(names[:5])))
        if len(q.relevant) == 1:
            out.top1.append(hit)
            out.rank1.append(bool(names) and names[0] in relevant)
        else:
            out.multi.append(relevant <= set(names[: len(relevant)]))
    return out


def fit_and_score(
    capabilities: list[Capability],
    train: list[LabelledQuery],
    test: list[LabelledQuery],
    embed: Embed,
    embedder: str,
    method: str,
    name_of: Callable[[str], str] = str,
) -> Scores:
    start = time.perf_counter()
    router = CapabilityRouter.fit(
        capabilities, embed, embedder_name=embedder, labelled=train, method=method
    )
    fit_s = time.perf_counter() - start
    result = score(router, test, embed, name_of)
    result.fit_s = fit_s
    return result


def spread(values: list[float]) -> str:
    """`mean ± half the range` over seeds (`mean` alone for one seed)."""
    kept = [v for v in values if v == v]
    if not kept:
        return "–"
    mean = statistics.fmean(kept)
    if len(kept) == 1:
        return f"{mean:.3f}"
    return f"{mean:.3f} ± {(max(kept) - min(kept)) / 2:.3f}"

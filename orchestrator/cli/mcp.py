"""`orchestrator mcp`: the orchestrator as an MCP server over stdio, for MCP hosts (Claude
Desktop and others: see docs/agents.md). Standard library only at module level, so that
`orchestrator --help` answers at once; the models, the router and `mcp` load when it runs."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.capabilities.router import CapabilityRouter
    from orchestrator.protocols import Embedder


def add_mcp_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `mcp` on the CLI's subparsers."""
    parser = subparsers.add_parser(
        "mcp",
        help="serve the orchestrator to MCP hosts over stdio (tools: ask, route_capability)",
        description="An MCP server over stdio with two tools: ask (question, graph, width, "
        "alpha → answer, status and a short trace, with progress notifications) and "
        "route_capability (text, top_k → the capabilities a capability router ranks).",
    )
    parser.add_argument("--config", help="TOML config file (default: the embedded local pool)")
    parser.add_argument(
        "--graph", default="wide", help="built-in name or PATH:ATTR (default: wide)"
    )
    parser.add_argument(
        "--capabilities-router",
        metavar="DIR",
        help="a capability router artifact (`orchestrator capabilities fit`) for route_capability",
    )
    parser.add_argument(
        "--setup",
        metavar="MODULE:FUNC",
        help="function called before any model is built (e.g. to register an engine)",
    )
    parser.set_defaults(func=mcp_command)


def mcp_command(args: argparse.Namespace) -> int:
    """Build everything first (a bad config or router fails here, exit 2), then serve until
    the host closes stdin."""
    from orchestrator.agents.mcp_server import build_server
    from orchestrator.api import Orchestrator
    from orchestrator.eval.executors import call_setup
    from orchestrator.graph.loading import BUILTIN_GRAPHS

    call_setup(args.setup)
    capabilities = _capabilities(args.capabilities_router)
    orchestrator = Orchestrator.from_config(args.config, graph=args.graph)
    graphs = list(dict.fromkeys([args.graph, *BUILTIN_GRAPHS]))
    build_server(orchestrator, graphs=graphs, capabilities=capabilities).run()
    return 0


def _capabilities(directory: str | None) -> tuple[CapabilityRouter, Embedder] | None:
    """The capability router artifact and the embedder it was fitted with."""
    if directory is None:
        return None
    from orchestrator.capabilities.router import CapabilityRouter
    from orchestrator.embeddings.embedders import make_embedder
    from orchestrator.errors import InputError

    router = CapabilityRouter.load(directory)
    embedder = make_embedder(router.embedder_name)
    if embedder.dim != router.dim:
        raise InputError(
            f"{directory}: fitted with {router.embedder_name} ({router.dim} dims), "
            f"but that embedder gives {embedder.dim}"
        )
    return router, embedder

"""`orchestrator serve`: the OpenAI-compatible HTTP server on uvicorn.

Only the standard library is imported at module level, so `orchestrator --help` stays fast;
FastAPI, uvicorn and the models load when the command runs."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.serve.requests import ServerLimits

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_serve_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `serve` on the CLI's subparsers."""
    parser = subparsers.add_parser(
        "serve",
        help="serve policies and pool models over an OpenAI-compatible HTTP API",
        description="POST /v1/chat/completions with model=orchestrator/wide (or deep, single, "
        "orchestrator/wide?alpha=0.4&width=4, or a pool model id); GET /v1/models, /health, "
        "/ready. There is no authentication: bind to loopback unless a proxy guards it.",
    )
    parser.add_argument("--config", help="TOML config file (default: the embedded local pool)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument("--max-width", type=int, help="largest width a request may ask for")
    parser.add_argument("--max-tokens", type=int, help="largest max_tokens a request may ask for")
    parser.add_argument("--max-body-bytes", type=int, help="largest request body accepted")
    parser.add_argument(
        "--approve-tools",
        action="store_true",
        help="run capabilities that require approval (default: refuse them; no one is asked)",
    )
    parser.set_defaults(func=serve_command)


def _limits(args: argparse.Namespace) -> ServerLimits:
    from dataclasses import replace

    from orchestrator.serve.requests import ServerLimits

    given = {
        "max_width": args.max_width,
        "max_tokens": args.max_tokens,
        "max_body_bytes": args.max_body_bytes,
        "approve_tools": args.approve_tools or None,
    }
    return replace(ServerLimits(), **{k: v for k, v in given.items() if v is not None})


def serve_command(args: argparse.Namespace) -> int:
    """Load the config (a bad one fails here, exit 2), then serve until interrupted."""
    import uvicorn

    from orchestrator.config import load_config
    from orchestrator.serve.app import create_app

    app = create_app(load_config(args.config), limits=_limits(args))
    if args.host not in LOOPBACK:
        print(f"warning: serving on {args.host} with no authentication", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0

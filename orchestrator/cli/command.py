"""The `orchestrator` command. Heavy imports (litellm, torch, langgraph) are lazy so that
`orchestrator --help` answers at once."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


RUNS_HINT = "$ORCHESTRATOR_HOME/runs.sqlite, else ~/.cache/orchestrator/runs.sqlite"


def _runs_file(path: str | None) -> str:
    if path:
        return path
    from pathlib import Path

    home = os.environ.get("ORCHESTRATOR_HOME") or str(Path.home() / ".cache" / "orchestrator")
    Path(home).mkdir(parents=True, exist_ok=True)
    return str(Path(home) / "runs.sqlite")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orchestrator",
        description="Answer hard questions: plan → route → sample ×N → vote → synthesize.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question", nargs="?", help="the question (omit with --resume)")
    ask.add_argument("--graph", default="wide", help="built-in name or PATH:ATTR (default: wide)")
    ask.add_argument("--width", type=int, help="samples per sub-query (default: from config)")
    ask.add_argument("--depth", type=int, help="critique → revise rounds (deep graphs)")
    ask.add_argument(
        "--budget-tokens",
        type=int,
        metavar="B",
        help="completion tokens the graph splits into width and depth",
    )
    ask.add_argument("--seed", type=int, default=0, help="base of every sample's seed (0)")
    ask.add_argument("--config", help="TOML config file (default: the embedded local pool)")
    ask.add_argument("--json", action="store_true", help="print one JSON object, no progress")
    ask.add_argument("--resume", metavar="RUN_ID", help="finish an interrupted run")
    ask.add_argument("--runs", help=f"SQLite file of checkpointed runs (default: {RUNS_HINT})")
    ask.add_argument(
        "--approve",
        choices=("all", "none"),
        help="answer every tool call that needs approval (default: ask on the terminal)",
    )
    ask.set_defaults(func=_ask)
    config = sub.add_parser("config", help="show or validate configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    show = config_sub.add_parser("show", help="print the effective config (secrets redacted)")
    show.add_argument("--config", help="TOML config file (default: built-in)")
    show.set_defaults(func=_config_show)
    validate = config_sub.add_parser("validate", help="check a config file")
    validate.add_argument("file")
    validate.set_defaults(func=_config_validate)
    _add_subcommands(sub)
    return parser


def _add_subcommands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from orchestrator.cli.capabilities import add_capabilities_parser
    from orchestrator.cli.eval import add_eval_parser
    from orchestrator.cli.mcp import add_mcp_parser
    from orchestrator.cli.router import add_router_parser
    from orchestrator.cli.serve import add_serve_parser

    add_router_parser(sub)
    add_capabilities_parser(sub)
    add_eval_parser(sub)
    add_serve_parser(sub)
    add_mcp_parser(sub)


def _ask(args: argparse.Namespace) -> int:
    from orchestrator.api import Orchestrator, check_question, new_run_id
    from orchestrator.config import load_config
    from orchestrator.errors import InputError
    from orchestrator.graph.shape import check_shape

    config = load_config(args.config)
    if args.resume and args.question:
        raise InputError("give a question or --resume RUN_ID, not both")
    if args.resume and (args.width, args.depth, args.budget_tokens) != (None, None, None):
        raise InputError("a resumed run keeps its own width, depth and budget")
    if not args.resume:
        check_question(args.question or "", config, args.width)
        check_shape(args.depth, args.budget_tokens)
    orchestrator = Orchestrator.from_config(config, graph=args.graph)
    store, run_id = _runs_file(args.runs), args.resume or new_run_id()
    print(f"run {run_id} (resume with: orchestrator ask --resume {run_id})", file=sys.stderr)
    if args.json:
        answer = _run(orchestrator, args, run_id, store, None)
        print(json.dumps(answer.to_json()))
    else:
        from orchestrator.cli.live import ask_with_progress

        answer = ask_with_progress(
            args.question or "",
            lambda on_event: _run(orchestrator, args, run_id, store, on_event),
        )
    if answer.status == "error":
        print(f"error: {answer.error}", file=sys.stderr)
        return 1
    return 0


def _run(
    orchestrator: Any, args: argparse.Namespace, run_id: str, store: str, on_event: Any
) -> Any:
    from orchestrator.cli.approval import settle

    def resume(approve: bool | None) -> Any:
        return orchestrator.resume(run_id, store=store, on_event=on_event, approve=approve)

    first = _first(orchestrator, args, run_id, store, on_event)
    return settle(first, resume, args.approve)


def _first(
    orchestrator: Any, args: argparse.Namespace, run_id: str, store: str, on_event: Any
) -> Any:
    if args.resume:
        return orchestrator.resume(run_id, store=store, on_event=on_event)
    return orchestrator.ask(
        args.question,
        width=args.width,
        depth=args.depth,
        budget_tokens=args.budget_tokens,
        seed=args.seed,
        run_id=run_id,
        store=store,
        on_event=on_event,
    )


def _config_show(args: argparse.Namespace) -> int:
    from orchestrator.config import load_config, to_toml

    print(to_toml(load_config(args.config)))
    return 0


def _config_validate(args: argparse.Namespace) -> int:
    from orchestrator.config import load_config

    config = load_config(args.file)
    print(f"{args.file}: valid ({len(config.models)} models)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from orchestrator.errors import OrchestratorError

    try:
        return int(args.func(args))
    except OrchestratorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the reader went away; exit quietly
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

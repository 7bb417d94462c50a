"""`orchestrator eval`: run graphs over QA files and write results, a summary and plots.

Only the standard library is imported at module level, so `orchestrator --help` stays fast;
the harness, the models and rich load when the command runs."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

_EPILOG = """examples:
  orchestrator eval --graph wide,deep,single --data gsm8k.jsonl --limit 20 \\
      --width 1,2,4 --depth 0,1,2 --models local/qwen2.5-coder-0.5b --share-calls \\
      --out runs/wd
  orchestrator eval --graph wide,deep --data hotpotqa_distractor.jsonl \\
      --budget-tokens 1000,2000,4000 --out runs/budget

Re-running with the same --out skips the (question, configuration) rows already there."""


def add_eval_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `eval` on the CLI's subparsers."""
    parser = subparsers.add_parser(
        "eval",
        help="run graphs over QA data: results, summary and plots",
        description="Run every configuration on every question; append one row per "
        "(question, configuration) to OUT/results.jsonl, then write OUT/summary.json and "
        "the accuracy-vs-tokens and accuracy-vs-cost plots.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _sweep_options(parser)
    _run_options(parser)
    parser.set_defaults(func=harness_command)


def _sweep_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--graph",
        default="wide",
        help="comma-separated: wide, deep, deep-long, single or PATH:ATTR",
    )
    p.add_argument(
        "--data",
        required=True,
        action="append",
        metavar="FILE.jsonl",
        help="QA file in the ../shared/data/qa format (repeatable)",
    )
    p.add_argument("--limit", type=int, help="the first N questions of each file")
    p.add_argument("--width", default="1", help="widths for wide/single (default: 1)")
    p.add_argument("--depth", default="1", help="depths for the deep graphs (default: 1)")
    p.add_argument(
        "--budget-tokens",
        metavar="B[,B…]",
        help="completion tokens per question, divided by each graph between "
        "width and depth (replaces --width and --depth)",
    )
    p.add_argument("--models", help="comma-separated model ids, one pinned configuration each")
    p.add_argument("--router", metavar="DIR", help="router artifact: adds a routed configuration")
    p.add_argument(
        "--alphas",
        metavar="A[,A…]",
        help="router α values in [0, 1]: the routed (or default) configuration once per α "
        "(default: the config's α)",
    )


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--aggregator", choices=("vote", "judge", "merge"), help="default: config's")
    p.add_argument("--config", help="TOML config file (default: the embedded local pool)")
    p.add_argument("--concurrency", type=int, default=1, help="questions in flight (default: 1)")
    p.add_argument(
        "--share-calls",
        action="store_true",
        help="answer a request already made by another configuration (same model, messages, "
        "sampling parameters and seed) with its completion: nested widths and depths then "
        "cost about the largest alone; exact for local models",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="results directory")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    output = p.add_mutually_exclusive_group()
    output.add_argument(
        "--json", action="store_true", help="print the summary as JSON, no progress"
    )
    output.add_argument(
        "--markdown", action="store_true", help="print the summary as a Markdown table"
    )
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="run shards of questions as Ray tasks with 'ray' (default: local)",
    )
    p.add_argument("--address", help="Ray cluster address (default: start a local runtime)")
    p.add_argument(
        "--setup",
        metavar="MODULE:FUNC",
        help="function called before any model is "
        "built, here and in every Ray worker (e.g. to register an engine)",
    )


N = TypeVar("N", int, float)


def _numbers(text: str | None, what: str, kind: Callable[[str], N], noun: str) -> list[N]:
    from orchestrator.errors import InputError

    try:
        return [kind(v) for v in (text or "").split(",") if v.strip()]
    except ValueError:
        raise InputError(f"--{what} takes comma-separated {noun}, not {text!r}") from None


def _ints(text: str | None, what: str) -> list[int]:
    from orchestrator.errors import InputError

    values = _numbers(text, what, int, "integers")
    if any(v < 0 for v in values):
        raise InputError(f"--{what} values must not be negative: {text!r}")
    return values


def _alphas(text: str | None) -> list[float]:
    from orchestrator.errors import InputError

    values = _numbers(text, "alphas", float, "numbers")
    if not all(0.0 <= v <= 1.0 for v in values):
        raise InputError(f"--alphas values must lie in [0, 1]: {text!r}")
    return values


def _words(text: str | None) -> list[str]:
    return [v.strip() for v in (text or "").split(",") if v.strip()]


def _model_choices(args: argparse.Namespace) -> list[str]:
    choices = _words(args.models)
    if args.router:
        choices.append("routed")
    return choices or ["default"]


def _configured(args: argparse.Namespace) -> Any:
    from orchestrator.config import load_config

    config = load_config(args.config)
    if not args.aggregator:
        return config
    return config.amended(graph={"aggregator": args.aggregator})


def _router(args: argparse.Namespace, embedder: Any) -> Any:
    if not args.router:
        return None
    from orchestrator.routing.artifact import load_router

    return load_router(args.router, embedder_name=embedder.name, embedder_dim=embedder.dim)


async def _run(
    harness: Any, questions: Any, configurations: Any, log: Any, quiet: bool, executor: Any
) -> None:
    if quiet:
        await executor.run(harness, questions, configurations, log)
        return
    from orchestrator.cli.progress_bar import tally

    wanted = {(q.dataset, q.id, c.key) for q in questions for c in configurations}
    done = len(wanted & log.done())
    scored = {"n": 0, "correct": 0}
    with tally("eval", len(wanted), done) as advance:

        def on_row(row: dict[str, Any]) -> None:
            scored["n"] += 1
            scored["correct"] += int(bool(row["correct"]))
            advance(1, f"acc {scored['correct'] / scored['n']:.2f} (this run)")

        await executor.run(harness, questions, configurations, log, on_row)


def harness_command(args: argparse.Namespace) -> int:
    """Run the sweep, then write OUT/summary.json and the plots; 1 if every row failed."""
    from orchestrator.eval.configurations import expand
    from orchestrator.eval.executors import make_executor
    from orchestrator.eval.harness import ResultsLog
    from orchestrator.qa.data import read_qa

    config = _configured(args)
    questions = [q for path in args.data for q in read_qa(path, args.limit)]
    configurations = expand(
        _words(args.graph),
        _ints(args.width, "width"),
        _ints(args.depth, "depth"),
        _ints(args.budget_tokens, "budget-tokens"),
        _model_choices(args),
        _alphas(args.alphas),
    )
    executor = make_executor(args.executor, args.address, args.setup)
    harness = _harness(args, config)
    log = ResultsLog(Path(args.out) / "results.jsonl")
    asyncio.run(_run(harness, questions, configurations, log, args.json, executor))
    return _report(args, log.rows())


def _harness(args: argparse.Namespace, config: Any) -> Any:
    from orchestrator.embeddings.embedders import make_embedder
    from orchestrator.eval.harness import Harness

    embedder = make_embedder(config.embedder.name)
    return Harness(config, embedder, _router(args, embedder), args.concurrency, args.share_calls)


def _report(args: argparse.Namespace, rows: list[dict[str, Any]]) -> int:
    """Write the summary and plots, print the summary; 1, and why, if every row failed."""
    from orchestrator.cli.eval_summary import every_row_failed, print_summary
    from orchestrator.eval.report import write_plots, write_summary

    out = Path(args.out)
    report = write_summary(out, rows)
    summary = report["configurations"]
    plots = [] if args.no_plots else write_plots(out, summary)
    if args.json:
        print(
            json.dumps(
                {
                    "out": str(out),
                    "rows": len(rows),
                    "questions": report["questions"],
                    "left_out_rows": report["left_out_rows"],
                    "summary": summary,
                    "plots": [str(p) for p in plots],
                }
            )
        )
    else:
        print_summary(summary, report["left_out_rows"], args.markdown)
    if rows and all(r["status"] == "error" for r in rows):
        print(f"error: {every_row_failed(rows)}", file=sys.stderr)
        return 1
    return 0

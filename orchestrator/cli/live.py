"""Live progress on the terminal (rich): the plan, routes, samples, votes, then the answer
and a table of tokens, cost and latency."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestrator.api import EventHandler
from orchestrator.cli.tables import print_table
from orchestrator.results import Answer


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_event(console: Console, event: dict[str, Any]) -> None:
    kind = event.get("event")
    if kind == "plan":
        console.print(f"[bold]plan[/] ({len(event['plan'])} sub-queries)")
        for sq in event["plan"]:
            deps = f" [dim]after {', '.join(sq['depends_on'])}[/]" if sq["depends_on"] else ""
            console.print(f"  {sq['id']}: {_short(sq['question'])}{deps}")
    elif kind == "route":
        cluster = f" (cluster {event['clusters'][0]})" if event.get("clusters") else ""
        tool = (event.get("capability") or {}).get("capability")
        via = f" with tool {tool}" if tool else ""
        console.print(f"[cyan]route[/] {event['subquery_id']} → {event['model']}{cluster}{via}")
    elif kind == "tool":
        result = event["output"] if event["status"] == "ok" else event.get("error") or ""
        line = f"{event['subquery_id']} {event['capability']} {event['status']}"
        console.print(f"[blue]tool[/] {escape(line)}: {escape(_short(result, 60))}")
    elif kind == "sample":
        mark = "[green]✓[/]" if event["status"] == "ok" else f"[red]✗ {event['status']}[/]"
        detail = (
            _short(event["answer"], 40)
            if event["status"] == "ok"
            else _short(event.get("error") or "", 60)
        )
        console.print(
            f"  {mark} {event['subquery_id']}#{event['sample_idx']} {event['model']} "
            f"{detail} [dim]{event['completion_tokens']} tok, {event['latency_s']:.1f}s[/]"
        )
    elif kind == "revise":
        answer = _short(event.get("answer", ""), 50)
        console.print(f"  [yellow]↻[/] {event['subquery_id']} round {event['round']}: {answer}")
    elif kind == "shape":
        console.print(f"[cyan]budget[/] width {event.get('width')}, depth {event.get('depth')}")
    elif kind == "token":  # the synthesis, as it is written
        console.print(event["text"], end="", style="dim", markup=False, highlight=False)
    elif kind == "vote":
        votes = ", ".join(f"{k}: {v}" for k, v in event["votes"].items())
        answer = _short(event["answer"], 50)
        console.print(f"[magenta]vote[/] {event['subquery_id']} → {answer} [dim]({votes})[/]")


def summary_table(answer: Answer) -> Table:
    table = Table(title=f"status: {answer.status}")
    for column in ("stage", "model", "calls", "prompt tok", "completion tok", "cost USD"):
        table.add_column(column)
    for step in answer.steps:
        table.add_row(
            step.subquery_id,
            step.model,
            str(len(step.samples)),
            str(sum(s.prompt_tokens for s in step.samples)),
            str(sum(s.completion_tokens for s in step.samples)),
            f"{sum(s.cost_usd for s in step.samples):.6f}",
        )
    usage = answer.usage
    table.add_row(
        "total",
        "",
        str(usage.llm_calls),
        str(usage.prompt_tokens),
        str(usage.completion_tokens),
        f"{usage.cost_usd:.6f}",
    )
    table.caption = f"latency {answer.latency_s:.1f}s"
    return table


def ask_with_progress(question: str, run: Callable[[EventHandler], Answer]) -> Answer:
    """Run `run(on_event)` while rendering its events; then the summary table and answer."""
    console = Console(stderr=True)
    if question:
        console.print(f"[bold]question[/] {_short(question, 100)}")
    answer = run(lambda event: render_event(console, event))
    console.print()
    print_table(summary_table(answer), console)
    out = Console()
    text = f"[bold green]answer:[/] {answer.answer}" if answer.answer else "[red]no answer[/]"
    out.print(text, soft_wrap=not out.is_terminal)  # piped: one line, not cut at 80 columns
    return answer

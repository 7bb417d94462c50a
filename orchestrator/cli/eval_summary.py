"""The summary `orchestrator eval` prints: one row per configuration, grouped by graph and
model, as a rich table (whole values when piped) or Markdown, with notes on what a reader
should know; and the one line that says why, when every row failed."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.table import Table

from orchestrator.cli.tables import print_table


def summary_table(summary: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """The summary's header and rows, one per configuration (grouped by graph and model),
    for either printer."""
    datasets = sorted({d for s in summary.values() for d in s["by_dataset"]})
    header = [
        "configuration",
        "n",
        "acc",
        *datasets,
        "EM",
        "F1",
        "compl tok",
        "calls",
        "cost USD",
        "p95 s",
        "errors",
    ]
    rows = [
        [
            key,
            str(s["n"]),
            f"{s['accuracy']:.3f}",
            *(f"{s['by_dataset'][d]['accuracy']:.3f}" for d in datasets),
            f"{s['em']:.3f}",
            f"{s['f1']:.3f}",
            f"{s['mean_completion_tokens']:.0f}",
            f"{s['mean_llm_calls']:.1f}",
            f"{s['total_cost_usd']:.6f}",
            f"{s['p95_latency_s']:.1f}",
            str(s["errors"]),
        ]
        for key, s in sorted(summary.items(), key=lambda item: _order(item[1]))
    ]
    return header, rows


def _order(s: dict[str, Any]) -> tuple[Any, ...]:
    """Configurations of one graph and model together, each along its curve."""
    from orchestrator.eval.report import point_order

    return (s["graph"], str(s["model"]), *point_order(s))


def _notes(summary: dict[str, dict[str, Any]], left_out: int) -> list[str]:
    """What a reader of the table should know: rows left out, calls shared between
    configurations, rows from several commits."""
    notes = []
    if left_out:
        notes.append(f"{left_out} rows left out: not every configuration answered their question")
    reused = round(sum(s["n"] * s["mean_reused_calls"] for s in summary.values()))
    if reused:
        calls = round(sum(s["n"] * s["mean_llm_calls"] for s in summary.values()))
        notes.append(
            f"{reused} of the {calls} calls counted were shared between configurations "
            "(--share-calls): those rows' latencies are shorter than alone"
        )
    versions = sorted({v for s in summary.values() for v in s["code_versions"]})
    if len(versions) > 1:
        notes.append(f"rows come from {len(versions)} code versions: {', '.join(versions)}")
    return notes


def print_summary(summary: dict[str, dict[str, Any]], left_out: int, markdown: bool) -> None:
    """The summary as a rich table, whole when piped, or as a Markdown table; then notes."""
    header, rows = summary_table(summary)
    notes = _notes(summary, left_out)
    if markdown:
        lines = [header, ["---"] * len(header), *rows]
        print("\n".join(f"| {' | '.join(line)} |" for line in lines))
        if notes:
            print("\n" + "\n".join(notes))
        return
    table = Table(title="summary", caption="\n".join(notes) or None)
    for column in header:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    print_table(table)


def every_row_failed(rows: list[dict[str, Any]]) -> str:
    """Why a sweep in which every row failed did: the commonest of the rows' errors (each
    names the model, the kind of failure and what to check)."""
    errors = Counter(str(r.get("error") or "no error recorded") for r in rows)
    error, count = errors.most_common(1)[0]
    said = f" ({count} of {len(rows)} rows)" if count < len(rows) else ""
    return f"every row failed{said}: {error}"

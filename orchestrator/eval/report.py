"""What the harness reports: DIR/summary.json per configuration, and the two plots
(accuracy against completion tokens and against cost: wide and deep curves on the same
axes, single-model points). matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SUMMARY_FILE = "summary.json"
TOKENS_PLOT = "accuracy_vs_tokens.png"
COST_PLOT = "accuracy_vs_cost.png"
_CONF_FIELDS = ("graph", "width", "depth", "budget_tokens", "model", "alpha")


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def p95(values: Sequence[float]) -> float:
    """The 95th percentile by nearest rank (the largest value for fewer than 20)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def summarize_rows(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One configuration's figures. Accuracy is the macro average over datasets (the
    Avengers-Pro convention); `accuracy_micro` pools the questions."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["dataset"]].append(row)
    by_dataset = {d: {"n": len(group), **_scores(group)} for d, group in grouped.items()}
    pooled = _scores(rows)
    statuses: dict[str, int] = defaultdict(int)
    for row in rows:
        statuses[row["status"]] += 1
    latencies = [float(r["latency_s"]) for r in rows]
    return {
        **{k: rows[0].get(k) for k in _CONF_FIELDS},
        "n": len(rows),
        "accuracy": _mean([d["accuracy"] for d in by_dataset.values()]),
        "accuracy_micro": pooled["accuracy"],
        "em": pooled["em"],
        "f1": pooled["f1"],
        "mean_prompt_tokens": _mean([float(r["prompt_tokens"]) for r in rows]),
        "mean_completion_tokens": _mean([float(r["completion_tokens"]) for r in rows]),
        "mean_llm_calls": _mean([float(r.get("llm_calls", 0)) for r in rows]),
        "mean_reused_calls": _mean([float(r.get("reused_calls", 0)) for r in rows]),
        "total_cost_usd": sum(float(r["cost_usd"]) for r in rows),
        "mean_latency_s": _mean(latencies),
        "p95_latency_s": p95(latencies),
        "errors": statuses.get("error", 0),
        "statuses": dict(statuses),
        "by_dataset": by_dataset,
        "code_versions": sorted({str(r.get("code", "unrecorded")) for r in rows}),
    }


def _scores(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Pooled accuracy, EM and F1 of some rows."""
    return {
        "accuracy": _mean([float(bool(r["correct"])) for r in rows]),
        "em": _mean([float(r["em"]) for r in rows]),
        "f1": _mean([float(r["f1"]) for r in rows]),
    }


def paired(rows: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The latest row of each (question, configuration), kept only for the questions every
    configuration has a row for, so configurations are compared on the same questions; and
    how many rows that left out (an interrupted run, or configurations run on different
    --limit or --data)."""
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        latest[(row["dataset"], row["question_id"], row["configuration"])] = row
    configurations = {key[2] for key in latest}
    answered: dict[tuple[str, str], set[str]] = defaultdict(set)
    for dataset, question, configuration in latest:
        answered[(dataset, question)].add(configuration)
    kept = [row for key, row in latest.items() if answered[key[:2]] == configurations]
    return kept, len(latest) - len(kept)


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The comparison over the paired rows (`paired`): how many questions every configuration
    answered, how many rows that left out, and per configuration (in order of first
    appearance) its figures."""
    kept, left_out = paired(rows)
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in kept:
        grouped[row["configuration"]].append(row)
    configurations = {key: summarize_rows(group) for key, group in grouped.items()}
    questions = len({(row["dataset"], row["question_id"]) for row in kept})
    return {"questions": questions, "left_out_rows": left_out, "configurations": configurations}


def write_summary(out: Path, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """DIR/summary.json, as `summarize` returns it."""
    summary = summarize(rows)
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _series(summary: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Points grouped into curves: one per graph, model and sweep kind (fixed or budget)."""
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in summary.values():
        kind = "budget" if item["budget_tokens"] is not None else "fixed"
        series[f"{item['graph']} ({item['model']}, {kind})"].append(item)
    for points in series.values():
        points.sort(key=point_order)
    return series


def point_order(item: dict[str, Any]) -> tuple[int, int, int, float]:
    """Where a configuration's point lies along its curve: by budget, width, depth and α."""
    return (item["budget_tokens"] or 0, item["width"], item["depth"], item["alpha"] or 0)


def _label(item: dict[str, Any]) -> str:
    if item["budget_tokens"] is not None:
        shape = f"B={item['budget_tokens']}"
    elif str(item["graph"]).startswith("deep"):
        shape = f"d={item['depth']}"
    else:
        shape = f"w={item['width']}"
    return shape if item["alpha"] is None else f"{shape} α={item['alpha']:g}"


def _label_offset(drawn: list[tuple[float, float]], index: int) -> tuple[int, int]:
    """Above point `index`, unless another at nearly the same x is higher (or as high and
    drawn first): then below, so labels of points that nearly coincide stay apart."""
    span = (max(x for x, _ in drawn) - min(x for x, _ in drawn)) or 1.0
    x, y = drawn[index]
    crowded = any(
        abs(ox - x) < 0.06 * span and (oy > y or (oy == y and other < index))
        for other, (ox, oy) in enumerate(drawn)
        if other != index
    )
    return (4, -11) if crowded else (4, 4)


def accuracy_top(accuracies: Sequence[float]) -> float:
    """The accuracy axis' top: a margin above the best point, so small models' curves are
    not squeezed against zero, and never past 1 (the axis always starts at 0)."""
    return min(1.02, max(accuracies, default=1.0) * 1.2 + 0.05)


def plot(summary: dict[str, dict[str, Any]], path: Path, x: str, xlabel: str) -> Path:
    """Accuracy against `x`: a line per wide, deep or custom curve, points for single."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    series = _series(summary)
    for name, points in series.items():
        xs, ys = [p[x] for p in points], [p["accuracy"] for p in points]
        single = points[0]["graph"] == "single" and points[0]["budget_tokens"] is None
        axes.plot(xs, ys, "s" if single else "o-", label=name, markersize=7)
    every = [p for points in series.values() for p in points]
    drawn = [(p[x], p["accuracy"]) for p in every]
    for index, (p, xy) in enumerate(zip(every, drawn, strict=True)):
        axes.annotate(
            _label(p),
            xy,
            textcoords="offset points",
            xytext=_label_offset(drawn, index),
            fontsize=7,
        )
    axes.set_xlabel(xlabel)
    axes.set_ylabel("accuracy (macro over datasets)")
    axes.set_ylim(-0.02, accuracy_top([y for _, y in drawn]))
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="best")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def write_plots(out: Path, summary: dict[str, dict[str, Any]]) -> list[Path]:
    return [
        plot(
            summary,
            out / TOKENS_PLOT,
            "mean_completion_tokens",
            "mean completion tokens per question",
        ),
        plot(summary, out / COST_PLOT, "total_cost_usd", "total cost (USD)"),
    ]

"""Accuracy against cost for one router report: the α curve, each single model, the oracle
and the Pareto front. matplotlib is imported only here, and only when a plot is asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from orchestrator.errors import InputError
from orchestrator.routing.evaluation import RouterReport

_LABEL = {"fontsize": 7, "textcoords": "offset points"}


def _router(ax: Any, report: RouterReport, labels: int = 8) -> None:
    """The α curve, the Pareto front, and α written beside up to `labels` front points."""
    curve = report.sweep  # `evaluate` sweeps in order of α
    ax.plot(
        [p.cost for p in curve],
        [p.accuracy for p in curve],
        ".-",
        ms=3,
        lw=1,
        color="tab:blue",
        label="router (α sweep)",
        zorder=2,
    )
    front = report.pareto
    ax.plot(
        [p["cost"] for p in front],
        [p["accuracy"] for p in front],
        "s",
        mfc="none",
        mec="tab:red",
        ms=6,
        label="Pareto front",
        zorder=3,
    )
    for i in np.unique(np.linspace(0, len(front) - 1, min(labels, len(front))).round()):
        p = front[int(i)]
        ax.annotate(
            f"α={p['alpha']:.4g}",
            (p["cost"], p["accuracy"]),
            xytext=(4, -10),
            color="tab:red",
            **_LABEL,
        )


def _references(ax: Any, report: RouterReport) -> None:
    for model, stats in report.models.items():
        accuracy, cost = stats["accuracy"], stats["cost"] or 0.0
        if accuracy is not None:
            ax.scatter(cost, accuracy, color="gray", marker="^", zorder=2)
            ax.annotate(
                model.split("/")[-1], (cost, accuracy), xytext=(4, 3), color="dimgray", **_LABEL
            )
    ax.scatter(
        report.oracle["cost"],
        report.oracle["accuracy"],
        marker="*",
        s=160,
        color="tab:green",
        label="oracle",
        zorder=4,
    )


def plot_report(report: RouterReport, path: str | Path, title: str = "") -> Path:
    """Write the plot as an image (the suffix picks the format, e.g. .png or .svg)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("--plot needs matplotlib: pip install 'orchestrator[plot]'") from None
    fig, ax = plt.subplots(figsize=(7.5, 5.0), dpi=120)
    _router(ax, report)
    _references(ax, report)
    costs = [p.cost for p in report.sweep] + [s["cost"] or 0.0 for s in report.models.values()]
    if min(costs) > 0 and max(costs) / min(costs) > 20:
        ax.set_xscale("log")
    ax.set_xlabel("total cost (USD" + (", estimated)" if report.cost_estimated else ")"))
    ax.set_ylabel("accuracy (macro over datasets)")
    ax.set_title(title or f"{report.n} queries · AIQ {report.aiq:.4f}")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out

"""What a sweep runs: a configuration is a graph with a fixed width and depth, or a
completion-token budget the graph divides itself, and a model choice (a pinned model,
`routed` or `default`), at the config's α or one given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.config import Config

DEEP_GRAPHS = ("deep", "deep-long")
WIDE_GRAPHS = ("wide", "single")


@dataclass(frozen=True)
class Configuration:
    """One point of the sweep. `model` is a model id, `routed` or `default`; `alpha`, when
    set, is the router's α for a routed or default configuration (else the config's)."""

    graph: str
    width: int = 1
    depth: int = 0
    budget_tokens: int | None = None
    model: str = "default"
    alpha: float | None = None

    @property
    def key(self) -> str:
        shape = (
            f"B={self.budget_tokens}"
            if self.budget_tokens is not None
            else f"w={self.width} d={self.depth}"
        )
        alpha = "" if self.alpha is None else f" alpha={self.alpha:g}"
        return f"{self.graph} {shape} model={self.model}{alpha}"

    def to_json(self) -> dict[str, Any]:
        return {
            "graph": self.graph,
            "width": self.width,
            "depth": self.depth,
            "budget_tokens": self.budget_tokens,
            "model": self.model,
            "alpha": self.alpha,
        }


def expand(
    graphs: Sequence[str],
    widths: Sequence[int],
    depths: Sequence[int],
    budgets: Sequence[int] = (),
    models: Sequence[str] = ("default",),
    alphas: Sequence[float] = (),
) -> list[Configuration]:
    """The sweep: budgets when given (each graph divides them), else widths for the wide and
    single graphs, depths for the deep ones, and every pair for a custom graph; each routed
    or default model choice once per α in `alphas` (once, at the config's α, without)."""
    out: list[Configuration] = []
    for model in models:
        routed = model in ("routed", "default") and alphas
        for alpha in alphas if routed else [None]:
            for graph in graphs:
                out += _shapes(graph, widths, depths, budgets, model, alpha)
    return out


def _shapes(
    graph: str,
    widths: Sequence[int],
    depths: Sequence[int],
    budgets: Sequence[int],
    model: str,
    alpha: float | None,
) -> list[Configuration]:
    if budgets:
        return [Configuration(graph, budget_tokens=b, model=model, alpha=alpha) for b in budgets]
    if graph in DEEP_GRAPHS:
        return [Configuration(graph, 1, d, model=model, alpha=alpha) for d in depths]
    if graph in WIDE_GRAPHS:
        return [Configuration(graph, w, 0, model=model, alpha=alpha) for w in widths]
    return [Configuration(graph, w, d, model=model, alpha=alpha) for w in widths for d in depths]


def pinned(config: Config, model: str) -> Config:
    """The config with every role (router default, planner, synthesizer) on one model."""
    config.model(model)  # an unknown id fails here, naming the pool
    return config.amended(
        router={"default_model": model}, graph={"planner_model": model, "synthesizer_model": model}
    )

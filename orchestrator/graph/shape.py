"""Dividing a completion-token budget between width and depth.

A budget B is the completion tokens one question may spend. A graph fixes its shape, the
width W (trajectories per sub-query) and depth D (critique/revise rounds per trajectory),
once the plan is known: what is left of B after planning, less the closing synthesis, is
shared equally among the sub-queries, and each share buys calls of `sample_max_tokens`; a
trajectory of depth D costs 1 + 2D calls. The wide graph spends its share on width, the
deep graph on depth, and `mixed` on both.

The shape is planned with every call's worst case, and the run's cap on completion tokens
is B plus one call's max_tokens, enforced by the reservation `Budget`: a call is refused
unless its worst case fits, so no run spends more than B plus one call. The graph nodes
that apply this (allocate, schedule) live in `orchestrator.graph.nodes`; this module stays
free of LangGraph so the API imports it cheaply."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.config import BudgetConfig, GraphConfig
from orchestrator.errors import ConfigError, InputError

SPLITS = ("width", "depth", "mixed")
MAX_WIDTH = 64
MAX_DEPTH = 16


@dataclass(frozen=True)
class Shape:
    width: int
    depth: int

    def to_dict(self) -> dict[str, int]:
        return {"width": self.width, "depth": self.depth}


def trajectory_calls(depth: int) -> int:
    """Calls in one trajectory of depth `depth`: a draft, then a critique and a revision
    per round."""
    return 1 + 2 * depth


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(value, high))


def divide(
    budget: int, *, subqueries: int, call_tokens: int, overhead: int = 0, split: str = "width"
) -> Shape:
    """The shape that spends `budget` completion tokens (less `overhead`) on `subqueries`
    sub-queries at `call_tokens` per call. Never below one draft per sub-query."""
    calls = max(budget - overhead, 0) // max(subqueries, 1) // max(call_tokens, 1)
    if split == "width":
        return Shape(_clamp(calls, 1, MAX_WIDTH), 0)
    if split == "depth":
        return Shape(1, _clamp((calls - 1) // 2, 0, MAX_DEPTH))
    if split == "mixed":
        depth = 0
        while depth < MAX_DEPTH and (depth + 2) * trajectory_calls(depth + 1) <= calls:
            depth += 1
        return Shape(_clamp(calls // trajectory_calls(depth), 1, MAX_WIDTH), depth)
    raise ConfigError(f"unknown budget split {split!r}; known: {', '.join(SPLITS)}")


def largest_call(graph: GraphConfig) -> int:
    """The largest max_tokens any one call of a run asks for (the long chain aside)."""
    return max(
        graph.plan_max_tokens,
        graph.sample_max_tokens,
        graph.synth_max_tokens,
        graph.judge_max_tokens,
    )


def run_limits(limits: BudgetConfig, graph: GraphConfig, budget_tokens: int | None) -> BudgetConfig:
    """The run's caps: with a budget B, completion tokens are capped at B plus one call
    (or the configured cap, if lower)."""
    if budget_tokens is None:
        return limits
    cap = min(limits.max_completion_tokens, budget_tokens + largest_call(graph))
    return limits.model_copy(update={"max_completion_tokens": cap})


def check_shape(
    depth: int | None = None, budget_tokens: int | None = None, width: int | None = None
) -> None:
    """Depth, budget and width requested for a run, or an InputError saying what is wrong."""
    if width is not None and not 1 <= width <= MAX_WIDTH:
        raise InputError(f"width must be between 1 and {MAX_WIDTH}, not {width}")
    if depth is not None and not 0 <= depth <= MAX_DEPTH:
        raise InputError(f"depth must be between 0 and {MAX_DEPTH}, not {depth}")
    if budget_tokens is not None and budget_tokens < 1:
        raise InputError(f"budget_tokens must be positive, not {budget_tokens}")

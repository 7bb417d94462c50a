"""The answering graphs: their state and runtime context, the planner's output, the one set of
nodes every graph is wired from (plan, route, allocate, act, approve, sample, deepen, aggregate,
synthesize; act and approve run tool steps through the `Toolbox` seam of `toolbox.py`),
the token-budget shape, aggregation, run budgets, and building or loading a graph by spec.

May import: llm-free root modules (config, errors, protocols, prompts, results) and `qa`.
Models, embedder and router arrive through `RunContext`, never by import."""

from orchestrator.graph.build import build_deep_graph, build_single_graph, build_wide_graph
from orchestrator.graph.context import RunContext
from orchestrator.graph.loading import BUILTIN_GRAPHS, load_graph
from orchestrator.graph.state import GraphState

__all__ = [
    "BUILTIN_GRAPHS",
    "GraphState",
    "RunContext",
    "build_deep_graph",
    "build_single_graph",
    "build_wide_graph",
    "load_graph",
]

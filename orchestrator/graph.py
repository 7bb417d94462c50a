"""Graph topologies built from the nodes: the wide graph is
plan → route → sample ×N (parallel, dependency waves) → aggregate → synthesize."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from orchestrator import nodes
from orchestrator.context import RunContext
from orchestrator.state import GraphState


def build_wide_graph(checkpointer: Any = None) -> Any:
    """The width-scaling graph, compiled. Sub-queries run in waves: each wave is every
    sub-query whose dependencies are answered, fanned out `width` samples each."""
    builder = StateGraph(GraphState, context_schema=RunContext)
    builder.add_node("plan", nodes.plan)
    builder.add_node("route", nodes.route)
    builder.add_node("sample", nodes.sample)  # type: ignore[call-overload]  # a Send target
    builder.add_node("aggregate", nodes.aggregate)
    builder.add_node("synthesize", nodes.synthesize)
    builder.add_node("finish", nodes.finish)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", nodes.after_plan, ["route", "finish"])
    builder.add_conditional_edges("route", nodes.schedule, ["sample", "synthesize"])
    builder.add_edge("sample", "aggregate")
    builder.add_conditional_edges("aggregate", nodes.schedule, ["sample", "synthesize"])
    builder.add_edge("synthesize", END)
    builder.add_edge("finish", END)
    return builder.compile(checkpointer=checkpointer, name="wide")

"""Graph topologies built from the nodes. The wide graph is plan → route → allocate →
gather → act → approve → sample ×N (parallel, dependency waves) → aggregate → gather … →
synthesize (act and approve run the wave's tool steps, if any);
the deep graph deepens one trajectory per sub-query instead; the single graph asks the
routed model the whole question, unplanned."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from orchestrator.graph import nodes
from orchestrator.graph.context import RunContext
from orchestrator.graph.state import GraphState


def _planned_graph(name: str, sample: Any, split: str, checkpointer: Any) -> Any:
    """Plan, route, fix the shape, then waves of `sample` branches, votes and a synthesis."""
    builder = StateGraph(GraphState, context_schema=RunContext)
    builder.add_node("plan", nodes.plan)
    builder.add_node("route", nodes.route)
    builder.add_node("allocate", nodes.allocator(split))
    builder.add_node("gather", nodes.gather)
    builder.add_node("act", nodes.act)
    builder.add_node("approve", nodes.approve)
    builder.add_node("sample", sample)  # a Send target
    builder.add_node("aggregate", nodes.aggregate)
    builder.add_node("synthesize", nodes.synthesize)
    builder.add_node("finish", nodes.finish)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", nodes.after_plan, ["route", "finish"])
    builder.add_edge("route", "allocate")
    builder.add_edge("allocate", "gather")
    builder.add_edge("gather", "act")
    builder.add_edge("act", "approve")
    builder.add_conditional_edges("approve", nodes.schedule, ["sample", "synthesize"])
    builder.add_edge("sample", "aggregate")
    builder.add_edge("aggregate", "gather")
    builder.add_edge("synthesize", END)
    builder.add_edge("finish", END)
    return builder.compile(checkpointer=checkpointer, name=name)


def build_wide_graph(checkpointer: Any = None) -> Any:
    """The width-scaling graph, compiled. Sub-queries run in waves: each wave is every
    sub-query whose dependencies are answered, fanned out `width` samples each. A token
    budget is spent on width."""
    return _planned_graph("wide", nodes.sample, "width", checkpointer)


def build_deep_graph(
    checkpointer: Any = None, *, long_chain: bool = False, split: str = "depth"
) -> Any:
    """The depth-scaling graph: the same plan and routing, one trajectory per sub-query
    deepened by `depth` critique → revise rounds (or, with `long_chain`, one call with
    max_tokens for 1 + 2·depth calls). `split="mixed"` spends a budget on both axes."""
    node = nodes.long_chain if long_chain else nodes.deepen
    return _planned_graph("deep-long" if long_chain else "deep", node, split, checkpointer)


def build_single_graph(checkpointer: Any = None) -> Any:
    """The baseline: the whole question to one routed model, no plan, `width` samples
    voted (one call at width 1). A token budget is spent on width."""
    builder = StateGraph(GraphState, context_schema=RunContext)
    builder.add_node("direct", nodes.direct)
    builder.add_node("route", nodes.route)
    builder.add_node("allocate", nodes.allocator("width", planned=False))
    builder.add_node("act", nodes.act)
    builder.add_node("approve", nodes.approve)
    builder.add_node("sample", nodes.sample)  # type: ignore[arg-type]  # a Send target
    builder.add_node("aggregate", nodes.aggregate)
    builder.add_node("synthesize", nodes.conclude)
    builder.add_edge(START, "direct")
    builder.add_edge("direct", "route")
    builder.add_edge("route", "allocate")
    builder.add_edge("allocate", "act")
    builder.add_edge("act", "approve")
    builder.add_conditional_edges("approve", nodes.schedule, ["sample", "synthesize"])
    builder.add_edge("sample", "aggregate")
    builder.add_conditional_edges("aggregate", nodes.schedule, ["sample", "synthesize"])
    builder.add_edge("synthesize", END)
    return builder.compile(checkpointer=checkpointer, name="single")

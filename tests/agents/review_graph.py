"""A graph that asks a person before it answers: the direct graph (one sub-query, sampled,
voted, synthesized), then `review`, which pauses with LangGraph's `interrupt()` showing the
draft answer and keeps it on a yes, withholds it on a no. The subgraph tests load it by
spec (`tests/agents/review_graph.py:graph`) to see interrupts pass through a parent."""

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from orchestrator.graph import nodes
from orchestrator.graph.context import RunContext
from orchestrator.graph.state import GraphState


def review(state: GraphState) -> dict[str, str]:
    if interrupt({"draft": state["answer"]}):
        return {}
    return {"answer": "withheld by the reviewer", "status": "partial"}


builder = StateGraph(GraphState, context_schema=RunContext)
builder.add_node("plan", nodes.direct)
builder.add_node("route", nodes.route)
builder.add_node("allocate", nodes.allocate)
builder.add_node("sample", nodes.sample)
builder.add_node("aggregate", nodes.aggregate)
builder.add_node("synthesize", nodes.synthesize)
builder.add_node("review", review)
builder.add_edge(START, "plan")
builder.add_edge("plan", "route")
builder.add_edge("route", "allocate")
builder.add_conditional_edges("allocate", nodes.schedule, ["sample", "synthesize"])
builder.add_edge("sample", "aggregate")
builder.add_conditional_edges("aggregate", nodes.schedule, ["sample", "synthesize"])
builder.add_edge("synthesize", "review")
builder.add_edge("review", END)
graph = builder.compile(name="review")

"""A graph of your own, built from orchestrator's nodes: no planner; the whole question is
one sub-query, routed, sampled `width` times and voted on; its answer is the vote's (a plan of
one step needs no synthesis call). Because it is wired
from `orchestrator.graph.nodes`, it gets what the built-in graphs get: a token budget split
into width (`allocate`), the shape kept on resume (`schedule`) and a judge's calls in the
trace (`aggregate`).

Use it from the CLI with its spec string, the way langgraph.json names graphs:

    orchestrator ask "What is 17 * 23?" --graph examples/direct_graph.py:graph

Run as a script, it answers offline with a scripted model, so it needs no weights.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from orchestrator.graph import nodes
from orchestrator.graph.context import RunContext
from orchestrator.graph.state import GraphState

builder = StateGraph(GraphState, context_schema=RunContext)
builder.add_node("plan", nodes.direct)
builder.add_node("route", nodes.route)
builder.add_node("allocate", nodes.allocate)
builder.add_node("sample", nodes.sample)  # type: ignore[call-overload]
builder.add_node("aggregate", nodes.aggregate)
builder.add_node("synthesize", nodes.synthesize)
builder.add_edge(START, "plan")
builder.add_edge("plan", "route")
builder.add_edge("route", "allocate")
builder.add_conditional_edges("allocate", nodes.schedule, ["sample", "synthesize"])
builder.add_edge("sample", "aggregate")
builder.add_conditional_edges("aggregate", nodes.schedule, ["sample", "synthesize"])
builder.add_edge("synthesize", END)
graph = builder.compile(name="direct")


if __name__ == "__main__":
    from orchestrator import Orchestrator
    from orchestrator.config import parse_config
    from orchestrator.llm.boundary import register_engine
    from orchestrator.testing.scripted import ScriptedCall, ScriptedEngine

    def respond(call: ScriptedCall) -> str:
        return "17 * 23 = 391.\nAnswer: 391" if call.seed != 1 else "Answer: 381"

    register_engine("scripted", ScriptedEngine(respond))
    config = parse_config(
        {
            "models": [{"id": "scripted/calc", "input_usd_per_mtok": 1, "output_usd_per_mtok": 2}],
            "embedder": {"name": "hashing-64"},
        }
    )
    orchestrator = Orchestrator.from_config(config, graph=f"{__file__}:graph")
    answer = orchestrator.ask("What is 17 * 23?", width=3)
    print(answer.steps[0].votes, "->", answer.answer)

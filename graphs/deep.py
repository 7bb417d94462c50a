"""Depth scaling: one trajectory per routed sub-query, deepened by critique → revise rounds
(`graph`), or one long reasoning call of the same token size (`long_graph`)."""

from orchestrator.graph.build import build_deep_graph

graph = build_deep_graph()
long_graph = build_deep_graph(long_chain=True)

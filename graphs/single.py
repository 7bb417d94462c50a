"""The baseline: one routed model answers the whole question, no plan (width still applies)."""

from orchestrator.graph.build import build_single_graph

graph = build_single_graph()

"""Width scaling: N parallel samples per routed sub-query, then a vote and a synthesis."""

from orchestrator.graph.build import build_wide_graph

graph = build_wide_graph()

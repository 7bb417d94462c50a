"""The orchestrator inside other agents: a LangGraph subgraph over `messages`
(`Orchestrator.as_subgraph()`), a LangChain tool (`Orchestrator.as_tool()`) and an MCP server
over stdio (`orchestrator mcp`). Each wraps an `Asker`, the slice of the public API they use.
And the other way round, tools inside the orchestrator: `CapabilityToolbox`, the graph's
`Toolbox` over the capability router, its policy and the tool runtime.

May import: `capabilities`, `graph` (the built-in graph names) and the root modules; never
`api` (which builds these), so the orchestrator reaches them through the `Asker` seam."""

from orchestrator.agents.asker import Asker, check_graph, trace_summary
from orchestrator.agents.subgraph import build_subgraph
from orchestrator.agents.tool import AskArgs, build_tool
from orchestrator.agents.toolbox import CapabilityToolbox, make_toolbox

__all__ = [
    "AskArgs",
    "Asker",
    "CapabilityToolbox",
    "build_subgraph",
    "build_tool",
    "check_graph",
    "make_toolbox",
    "trace_summary",
]

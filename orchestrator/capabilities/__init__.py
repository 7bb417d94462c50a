"""Capabilities: tools, agents, graphs and MCP servers' tools as routable capabilities. The
`Capability` model, the registry and its loaders (the shared tools JSONL, config tables,
OpenAI tool specs, LangChain tools, MCP servers over stdio, A2A agent cards), versions and
policy, and the capability router (zero-shot from descriptions, learning from labelled
queries, abstaining when nothing fits). The tool step's runtime: arguments filled by a model
through tool calling and validated (`arguments`), every kind of capability run with a
timeout and a size cap into a `ToolResult` (`execution`, `targets`, `mcp_sessions`), and the
example's local tools (`builtin_tools`).

May import: the root modules and `llm` (agents are called as models); embedders are passed
in, never imported."""

from orchestrator.capabilities.arguments import check_arguments, fill_arguments, tool_spec
from orchestrator.capabilities.decision import CapabilityDecision, LabelledQuery, Ranked
from orchestrator.capabilities.execution import ToolRuntime
from orchestrator.capabilities.loaders import (
    from_config,
    load_a2a,
    load_jsonl,
    load_langchain,
    load_openai,
    load_path,
    load_toml,
    normalise_schema,
)
from orchestrator.capabilities.mcp_sessions import McpSessions
from orchestrator.capabilities.mcp_tools import list_mcp, load_mcp
from orchestrator.capabilities.policy import Policy, parse_pin, policy_from_config
from orchestrator.capabilities.registry import Registry
from orchestrator.capabilities.router import DEFAULT_METHOD, METHODS, CapabilityRouter
from orchestrator.capabilities.tool_result import ToolError, ToolResult
from orchestrator.capability import Capability, Location

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "Capability",
    "CapabilityDecision",
    "CapabilityRouter",
    "LabelledQuery",
    "Location",
    "McpSessions",
    "Policy",
    "Ranked",
    "Registry",
    "ToolError",
    "ToolResult",
    "ToolRuntime",
    "check_arguments",
    "fill_arguments",
    "from_config",
    "list_mcp",
    "load_a2a",
    "load_jsonl",
    "load_langchain",
    "load_mcp",
    "load_openai",
    "load_path",
    "load_toml",
    "normalise_schema",
    "parse_pin",
    "policy_from_config",
    "tool_spec",
]

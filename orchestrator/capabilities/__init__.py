"""Capabilities: tools, agents, graphs and MCP servers' tools as routable capabilities. The
`Capability` model, the registry and its loaders (the shared tools JSONL, config tables,
OpenAI tool specs, LangChain tools, MCP servers over stdio, A2A agent cards), versions and
policy, and the capability router (zero-shot from descriptions, learning from labelled
queries, abstaining when nothing fits).

May import: the root modules; embedders are passed in, never imported."""

from orchestrator.capabilities.decision import CapabilityDecision, LabelledQuery, Ranked
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
from orchestrator.capabilities.mcp_tools import list_mcp, load_mcp
from orchestrator.capabilities.policy import Policy, parse_pin, policy_from_config
from orchestrator.capabilities.registry import Registry
from orchestrator.capabilities.router import DEFAULT_METHOD, METHODS, CapabilityRouter
from orchestrator.capability import Capability, Location

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "Capability",
    "CapabilityDecision",
    "CapabilityRouter",
    "LabelledQuery",
    "Location",
    "Policy",
    "Ranked",
    "Registry",
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
]

"""The seam through which capabilities reach the graph: a `Toolbox` chooses a capability for a
sub-query (or none: a model answers it), fills a capability's arguments with a model, and runs
it. The graph holds no capability code of its own; `orchestrator.agents.toolbox` implements
this over the capability router, its policy and the tool runtime."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from orchestrator.graph.state import CapabilityRoute
from orchestrator.protocols import ChatModel


@dataclass(frozen=True)
class Offer:
    """A capability shown to the planner: its id and one line about it."""

    id: str
    description: str


@dataclass(frozen=True)
class ToolOutcome:
    """A finished tool step (`arguments` None when it never ran), or why it failed:
    `error_kind` is the `ToolError` kind (invalid_arguments, provider, unavailable,
    tool_error, timeout, oversize)."""

    arguments: dict[str, Any] | None
    output: str = ""
    cost_usd: float = 0.0
    latency_s: float = 0.0
    error_kind: str | None = None
    error: str | None = None


class Toolbox(Protocol):
    def offer(self, question: str) -> list[Offer]:
        """The few capabilities relevant to the question that the policy admits."""
        ...

    def choose(self, question: str, hint: str | None) -> CapabilityRoute:
        """Where one sub-query goes: a capability, or none (a model answers it)."""
        ...

    def requires_approval(self, capability: str) -> bool: ...

    def may_retry(self, capability: str) -> bool:
        """Whether a call the tool rejected may be re-asked once (no side effects)."""
        ...

    async def fill(
        self, capability: str, request: str, model: ChatModel, facts: str
    ) -> ToolOutcome:
        """The capability's arguments for `request`, filled by `model` (not yet run)."""
        ...

    async def run(self, capability: str, arguments: dict[str, Any], request: str) -> ToolOutcome:
        """Run the capability with valid arguments, bounded in time and size."""
        ...

    async def close(self) -> None:
        """Stop what the runs started (MCP servers)."""
        ...

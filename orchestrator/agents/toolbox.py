"""The graph's `Toolbox` over the capability router: which capabilities the planner is
offered (the router's top few for the question that the policy admits, never the whole
registry), where a sub-query goes (the router's decision under the policy; the planner's
mark wins only among the router's top few; an abstention sends it to a model), and the tool
step itself (`ToolRuntime`: arguments filled and validated, a timeout, a byte cap).

    toolbox = CapabilityToolbox(router, embedder, policy=Policy(deny=("side-effects",)))
    orch = Orchestrator.from_config(cfg, capabilities=toolbox)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from orchestrator.capabilities.decision import CapabilityDecision
from orchestrator.capabilities.execution import ToolRuntime
from orchestrator.capabilities.policy import Policy, policy_from_config
from orchestrator.capabilities.registry import Registry
from orchestrator.capabilities.router import CapabilityRouter
from orchestrator.capabilities.tool_result import ToolResult
from orchestrator.capability import Capability
from orchestrator.config import CapabilityRouterConfig
from orchestrator.errors import ConfigError, InputError
from orchestrator.graph.state import CapabilityRoute
from orchestrator.graph.toolbox import Offer, ToolOutcome
from orchestrator.protocols import ChatModel, Embedder

SIDE_EFFECTS = "side-effects"  # the tag of a capability whose call changes the world


@dataclass
class CapabilityToolbox:
    """Capabilities for the graph. `tools` maps ids to callables made at run time (they win
    over a capability's `location`); `top_k` is how many the planner is offered and the
    router ranks; below `min_score` the router's best counts as an abstention (the router's
    own calibrated abstention applies too, with `abstain_below` replacing its probability
    threshold); `timeout_s` and `max_output_bytes` bound each call."""

    router: CapabilityRouter
    embedder: Embedder
    policy: Policy = field(default_factory=Policy)
    tools: Mapping[str, Any] = field(default_factory=dict)
    top_k: int = 3
    min_score: float | None = None
    abstain_below: float | None = None
    timeout_s: float = 30.0
    max_output_bytes: int = 16_384

    def __post_init__(self) -> None:
        if self.router.embedder_name != self.embedder.name:
            raise ConfigError(
                f"the capability router was fitted with {self.router.embedder_name!r}, "
                f"not the embedder {self.embedder.name!r}"
            )
        routable = Registry(self.router.capabilities).routable(self.policy)
        self._admitted = {c.key for c in routable}
        self._by_id: dict[str, Capability] = {c.id: c for c in routable}
        self._vectors: dict[str, np.ndarray] = {}
        self.runtime = self._runtime()

    def _runtime(self) -> ToolRuntime:
        return ToolRuntime(
            timeout_s=self.timeout_s, max_output_bytes=self.max_output_bytes, tools=self.tools
        )

    def for_run(self) -> CapabilityToolbox:
        """This toolbox with a runtime of its own (its MCP servers stop with the run)."""
        return replace(self)

    def _rank(self, question: str, restricted: bool = True) -> CapabilityDecision:
        if question not in self._vectors:
            self._vectors[question] = self.embedder.embed([question])[0]
        allowed = self._admitted if restricted else None
        vector = self._vectors[question]
        return self.router.route(
            vector, question, top_k=self.top_k, allowed=allowed, abstain_below=self.abstain_below
        )

    def offer(self, question: str) -> list[Offer]:
        return [Offer(r.id, _one_line(self._by_id[r.id])) for r in self._rank(question).ranked]

    def choose(self, question: str, hint: str | None) -> CapabilityRoute:
        decision = self._rank(question)
        top = decision.ranked[0] if decision.ranked else None
        score = None if top is None else round(top.score, 4)
        route = CapabilityRoute(
            capability=None,
            score=score,
            abstained=True,
            hint=hint,
            denied=self._denied(question, hint),
            reason="",
        )
        too_low = top is not None and self.min_score is not None and top.score < self.min_score
        if top is None or decision.abstain or too_low:
            route["reason"] = (
                f"the capability router abstained (top score {score}): a model answers"
            )
            return route
        ranked = [r.id for r in decision.ranked]
        pick = hint if hint in ranked else top.id
        route["capability"], route["abstained"] = pick, False
        route["score"] = round(decision.ranked[ranked.index(pick)].score, 4)
        if pick == hint:
            route["reason"] = f"the planner's mark, ranked {ranked.index(pick) + 1} by the router"
        else:
            route["reason"] = "the router's best" + (
                f" (the planner marked {hint})" if hint else ""
            )
        return route

    def _denied(self, question: str, hint: str | None) -> dict[str, str]:
        """What the policy kept from this sub-query: the router's unrestricted best (and the
        planner's mark) when the policy refuses them."""
        names = [r.id for r in self._rank(question, restricted=False).ranked[:1]]
        if hint:
            names.append(hint)
        return {n: self._refusal(n) for n in names if n not in self._by_id}

    def _refusal(self, capability: str) -> str:
        versions = [c for c in self.router.capabilities if c.id == capability]
        reasons = [why for c in versions if (why := self.policy.refusal(c))]
        return reasons[0] if reasons else "no version allowed by the policy's pins"

    def requires_approval(self, capability: str) -> bool:
        return self._by_id[capability].requires_approval

    def may_retry(self, capability: str) -> bool:
        found = self._by_id[capability]
        return not found.requires_approval and SIDE_EFFECTS not in found.tags

    async def fill(
        self, capability: str, request: str, model: ChatModel, facts: str
    ) -> ToolOutcome:
        filled = await self.runtime.fill(self._by_id[capability], request, model=model, facts=facts)
        if filled.error is not None:
            return ToolOutcome(None, error_kind=filled.error.kind, error=str(filled.error))
        return ToolOutcome(filled.arguments or {})

    async def run(self, capability: str, arguments: dict[str, Any], request: str) -> ToolOutcome:
        result = await self.runtime.call(self._by_id[capability], arguments, request=request)
        return _outcome(result)

    async def close(self) -> None:
        await self.runtime.close()


def _outcome(result: ToolResult) -> ToolOutcome:
    error = result.error
    return ToolOutcome(
        result.arguments,
        result.output,
        result.cost_usd,
        result.latency_s,
        None if error is None else error.kind,
        None if error is None else str(error),
    )


def _one_line(capability: Capability, limit: int = 160) -> str:
    text = " ".join(capability.description.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def make_toolbox(
    capabilities: CapabilityRouter | CapabilityToolbox | None,
    embedder: Embedder,
    tools: Mapping[str, Any] | None = None,
    section: CapabilityRouterConfig | None = None,
) -> CapabilityToolbox | None:
    """The toolbox `Orchestrator.from_config(capabilities=..., tools=...)` gets: a toolbox as
    given; a router (else the `[capability_router]` section's artifact) under that section's
    policy, `top_k` and `abstain_below`; none without either."""
    section = section or CapabilityRouterConfig()
    if isinstance(capabilities, CapabilityToolbox):
        extra = {**capabilities.tools, **(tools or {})}
        return replace(capabilities, tools=extra) if tools else capabilities
    if capabilities is None and section.artifact:
        capabilities = CapabilityRouter.load(
            section.artifact, embedder_name=embedder.name, dim=embedder.dim
        )
    if capabilities is None:
        if tools:
            raise InputError("tools= names callables for capabilities: give capabilities= too")
        return None
    return CapabilityToolbox(
        capabilities,
        embedder,
        policy=policy_from_config(section),
        tools=dict(tools or {}),
        top_k=section.top_k,
        abstain_below=section.abstain_below,
    )

"""Routers: pick the model for one embedded sub-query."""

from __future__ import annotations

from orchestrator.seams import RouteDecision, Vector


class FixedRouter:
    """Always the configured default model; used when no fitted router is configured."""

    def __init__(self, model: str, embedder_name: str = "any") -> None:
        self.models = [model]
        self.embedder_name = embedder_name
        self._decision = RouteDecision(model=model, scores={model: 1.0})

    def route(self, vector: Vector, alpha: float = 1.0) -> RouteDecision:
        return self._decision

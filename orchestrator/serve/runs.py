"""What the server runs: one Orchestrator per policy graph over shared models, embedder and
router; a request becomes an orchestrated run or one pass-through call, and either way an
`Outcome` the response bodies are built from."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.api import EventHandler, Orchestrator
from orchestrator.config import Config, load_config
from orchestrator.errors import ConfigError, OrchestratorError
from orchestrator.protocols import ChatModel, Embedder, Router, ToolCall
from orchestrator.results import Answer
from orchestrator.serve.requests import ApiError, ChatRequest, Policy

OrchestratorFactory = Callable[[str], Orchestrator]
ConfigSource = Config | str | Path | None

log = logging.getLogger("orchestrator.server")


@dataclass(frozen=True)
class Outcome:
    """One answered request, whichever way it was answered."""

    text: str
    model: str
    status: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    run_id: str
    extension: dict[str, Any]
    tool_calls: tuple[ToolCall, ...] = ()

    @property
    def usage(self) -> dict[str, float]:
        """OpenAI's usage object, with the cost in USD as `cost` (OpenRouter's field)."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "cost": self.cost_usd,
        }


def shared_factory(source: ConfigSource) -> OrchestratorFactory:
    """Orchestrators for any graph over one set of models, embedder and router, built once.
    A router artifact at `router.path` is loaded; without one the default model answers."""
    config = source if isinstance(source, Config) else load_config(source)
    built: list[Orchestrator] = []

    def factory(graph: str) -> Orchestrator:
        from orchestrator.graph.loading import load_graph

        if not built:
            from orchestrator.embeddings.embedders import make_embedder

            embedder = make_embedder(config.embedder.name)
            router = _router(config, embedder)
            built.append(
                Orchestrator.from_config(config, graph=graph, embedder=embedder, router=router)
            )
            return built[0]
        base = built[0]
        return Orchestrator(
            base.config,
            graph=load_graph(graph),
            models=base.models,
            embedder=base.embedder,
            router=base.router,
        )

    return factory


def _router(config: Config, embedder: Embedder) -> Router | None:
    if config.router.path is None:
        return None
    from orchestrator.routing.artifact import load_router

    return load_router(config.router.path, embedder_name=embedder.name, embedder_dim=embedder.dim)


class Service:
    """The loaded policies (graph name → Orchestrator) and the pool they share."""

    def __init__(self, orchestrators: dict[str, Orchestrator], skipped: dict[str, str]) -> None:
        if not orchestrators:
            raise ConfigError(f"no policy graph could be loaded: {skipped}")
        self.orchestrators = orchestrators
        self.skipped = skipped
        first = next(iter(orchestrators.values()))
        self.config: Config = first.config
        self.models: dict[str, ChatModel] = first.models
        self.router: Router = first.router
        self.router_name = type(first.router).__name__

    @classmethod
    def build(cls, factory: OrchestratorFactory, graphs: list[str]) -> Service:
        orchestrators: dict[str, Orchestrator] = {}
        skipped: dict[str, str] = {}
        for graph in graphs:
            try:
                orchestrators[graph] = factory(graph)
            except ConfigError as exc:  # a graph module that is not there yet
                skipped[graph] = str(exc)
                log.warning("policy orchestrator/%s unavailable: %s", graph, exc)
        return cls(orchestrators, skipped)

    @property
    def graphs(self) -> list[str]:
        return list(self.orchestrators)

    @property
    def pool(self) -> list[str]:
        return list(self.models)

    def tuned(self, policy: Policy, request: ChatRequest) -> Orchestrator:
        """The policy's orchestrator with the request's α, temperature and answer length."""
        base = self.orchestrators[str(policy.graph)]
        graph: dict[str, Any] = {}
        if request.temperature is not None:
            graph["temperature"] = request.temperature
        if request.token_cap is not None:
            graph["synth_max_tokens"] = request.token_cap
        router = {"alpha": policy.alpha} if policy.alpha is not None else {}
        if not graph and not router:
            return base
        cfg = base.config.amended(graph=graph, router=router)
        return Orchestrator(
            cfg, graph=base.graph, models=base.models, embedder=base.embedder, router=base.router
        )


async def run_policy(
    service: Service,
    policy: Policy,
    request: ChatRequest,
    question: str,
    context: str,
    run_id: str,
    on_event: EventHandler | None = None,
    *,
    approve: bool = False,
) -> Outcome:
    """One orchestrated run under a policy; a pause for approval is settled at once with
    `approve` (there is no person at a server to ask)."""
    orchestrator = service.tuned(policy, request)
    answer = await orchestrator.aask(
        question,
        width=policy.width,
        depth=policy.depth,
        budget_tokens=policy.budget_tokens,
        context=context or None,
        on_event=on_event,
        run_id=run_id,
        seed=request.seed,
    )
    while answer.status == "interrupted" and answer.pending:
        answer = await orchestrator.aresume(run_id, on_event=on_event, approve=approve)
    outcome = outcome_from_answer(answer, policy, run_id)
    if answer.status == "error":
        raise ApiError(
            502,
            f"the run failed: {answer.error}",
            "server_error",
            None,
            "orchestration_failed",
            headers=cost_headers(outcome),
        )
    return outcome


def cost_headers(outcome: Outcome) -> dict[str, str]:
    """The run id and the run's cost in USD, sent as response headers."""
    return {
        "x-orchestrator-run-id": outcome.run_id,
        "x-orchestrator-cost-usd": f"{outcome.cost_usd:.10f}",
    }


def routed_models(answer: Answer) -> list[str]:
    """The models the router chose, in plan order, without repeats."""
    return list(dict.fromkeys(step.model for step in answer.steps if step.model))


def outcome_from_answer(answer: Answer, policy: Policy, run_id: str) -> Outcome:
    models = routed_models(answer)
    extension = {
        "policy": policy.name,
        "run_id": run_id,
        "status": answer.status,
        "error": answer.error,
        "models": models,
        **answer.to_json(),
    }
    extension.pop("answer")
    return Outcome(
        text=answer.answer,
        model="+".join(models) or policy.name,
        status=answer.status,
        finish_reason="length" if answer.status == "budget_exhausted" else "stop",
        prompt_tokens=answer.usage.prompt_tokens,
        completion_tokens=answer.usage.completion_tokens,
        cost_usd=answer.usage.cost_usd,
        run_id=run_id,
        extension=extension,
    )


def describe_error(exc: BaseException) -> tuple[int, str, str]:
    """(HTTP status, error type, code) for a failure inside a run."""
    from orchestrator.errors import BudgetExhausted, InputError, ProviderError

    if isinstance(exc, InputError):
        return 400, "invalid_request_error", "invalid_input"
    if isinstance(exc, BudgetExhausted):
        return 400, "invalid_request_error", "budget_exceeded"
    if isinstance(exc, ProviderError):
        status = {"rate_limit": 429, "timeout": 504, "bad_request": 400, "context_window": 400}.get(
            exc.kind, 502
        )
        return status, "upstream_error", exc.kind
    if isinstance(exc, OrchestratorError):
        return 400, "invalid_request_error", type(exc).__name__
    return 500, "server_error", "internal_error"

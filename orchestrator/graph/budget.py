"""Run budgets with reservation: a call's worst case is reserved before it is dispatched and
settled with its actual usage after, so parallel branches cannot overshoot a cap."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from orchestrator.config import BudgetConfig, ModelConfig
from orchestrator.errors import BudgetExhausted
from orchestrator.protocols import Completion, Message


@dataclass
class Reservation:
    cost_usd: float
    completion_tokens: int


def estimate_prompt_tokens(messages: list[Message]) -> int:
    """An upper-side estimate (about 3 characters a token) used only for reservations."""
    return sum(len(m["content"]) // 3 + 4 for m in messages)


class Budget:
    """Caps per run on cost, calls, completion tokens and wall time."""

    def __init__(self, limits: BudgetConfig) -> None:
        self.limits = limits
        self.started = time.monotonic()
        self.cost_usd = 0.0
        self.calls = 0
        self.completion_tokens = 0

    def absorb(self, records: list[dict[str, Any]]) -> None:
        """Count calls already made (a resumed run's trace) against this budget."""
        made = [r for r in records if r["status"] != "budget_exhausted"]
        self.calls += sum(1 for r in made if r.get("stage") != "tool")  # a tool is no LLM call
        self.cost_usd += sum(r["cost_usd"] for r in made)
        self.completion_tokens += sum(r["completion_tokens"] for r in made)

    def spend(self, cost_usd: float) -> None:
        """Count what a tool step cost (a capability's `cost_usd`) against the cap."""
        self.cost_usd += cost_usd

    def reserve(self, model: ModelConfig, messages: list[Message], max_tokens: int) -> Reservation:
        """Reserve a call's worst case or raise BudgetExhausted naming the cap it would break."""
        worst = model.cost(estimate_prompt_tokens(messages), max_tokens)
        limits = self.limits
        if self.calls + 1 > limits.max_llm_calls:
            raise BudgetExhausted(f"max_llm_calls={limits.max_llm_calls} reached")
        if self.cost_usd + worst > limits.max_cost_usd:
            raise BudgetExhausted(f"max_cost_usd={limits.max_cost_usd} would be exceeded")
        if self.completion_tokens + max_tokens > limits.max_completion_tokens:
            raise BudgetExhausted(
                f"max_completion_tokens={limits.max_completion_tokens} would be exceeded"
            )
        if time.monotonic() - self.started > limits.max_wall_s:
            raise BudgetExhausted(f"max_wall_s={limits.max_wall_s} reached")
        self.calls += 1
        self.cost_usd += worst
        self.completion_tokens += max_tokens
        return Reservation(worst, max_tokens)

    def settle(self, reservation: Reservation, completion: Completion | None) -> None:
        """Replace a reservation by what the call really used (nothing if it failed)."""
        self.cost_usd += (completion.cost_usd if completion else 0.0) - reservation.cost_usd
        used = completion.usage.completion_tokens if completion else 0
        self.completion_tokens += used - reservation.completion_tokens

import asyncio

import pytest
from support import default_responder, kind_of, scripted_config

from orchestrator.api import Orchestrator
from orchestrator.config import BudgetConfig, ModelConfig, parse_config
from orchestrator.errors import BudgetExhausted
from orchestrator.graph.budget import Budget, estimate_prompt_tokens
from orchestrator.protocols import Completion, Usage

MODEL = ModelConfig(id="x/y", input_usd_per_mtok=1e6, output_usd_per_mtok=1e6)  # $1 per token
MESSAGES = [{"role": "user", "content": "abcdef"}]


def test_reservation_holds_the_worst_case_then_settles_the_actual():
    budget = Budget(BudgetConfig(max_cost_usd=100, max_llm_calls=10, max_completion_tokens=1000))
    worst = estimate_prompt_tokens(MESSAGES) + 10
    reservation = budget.reserve(MODEL, MESSAGES, max_tokens=10)
    assert budget.cost_usd == pytest.approx(worst) and budget.completion_tokens == 10
    budget.settle(reservation, Completion("ok", "x/y", Usage(3, 2), 5.0, 0.1))
    assert budget.cost_usd == pytest.approx(5.0) and budget.completion_tokens == 2
    assert budget.calls == 1


@pytest.mark.parametrize(
    ("limits", "cap"),
    [
        ({"max_llm_calls": 1}, "max_llm_calls=1"),
        ({"max_cost_usd": 25}, "max_cost_usd=25"),
        ({"max_completion_tokens": 15}, "max_completion_tokens=15"),
    ],
)
def test_caps_refuse_the_call_that_would_cross_them(limits, cap):
    budget = Budget(
        BudgetConfig(
            **{"max_cost_usd": 1e9, "max_llm_calls": 100, "max_completion_tokens": 10**6, **limits}
        )
    )
    budget.reserve(MODEL, MESSAGES, max_tokens=10)
    with pytest.raises(BudgetExhausted, match=cap):
        budget.reserve(MODEL, MESSAGES, max_tokens=10)


async def test_parallel_branches_cannot_overshoot_the_call_cap(scripted):
    engine = scripted(default_responder(), delay_s=0.01)
    cfg = parse_config(scripted_config(graph={"width": 8}, budget={"max_llm_calls": 6}))
    answer = await Orchestrator.from_config(cfg).aask("Which is older?")
    assert len(engine.calls) == 6
    assert sum(kind_of(c) == "sample" for c in engine.calls) == 5
    assert answer.status == "budget_exhausted"
    assert answer.usage.llm_calls == 6


async def test_concurrent_reservations_are_atomic():
    budget = Budget(BudgetConfig(max_llm_calls=5))

    async def one() -> bool:
        try:
            budget.reserve(
                MODEL.model_copy(update={"input_usd_per_mtok": 0, "output_usd_per_mtok": 0}),
                MESSAGES,
                1,
            )
        except BudgetExhausted:
            return False
        await asyncio.sleep(0)
        return True

    results = await asyncio.gather(*(one() for _ in range(16)))
    assert sum(results) == 5

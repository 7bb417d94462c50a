"""Dividing a completion-token budget between width and depth, and the guarantee that a
run never spends more than its budget plus one call's max_tokens."""

import json

import pytest
from support import PLAN_3, scripted_config, stage

from orchestrator.api import Orchestrator
from orchestrator.config import BudgetConfig, GraphConfig, parse_config
from orchestrator.errors import ConfigError, InputError
from orchestrator.graph.shape import (
    Shape,
    check_shape,
    divide,
    largest_call,
    run_limits,
    trajectory_calls,
)
from orchestrator.protocols import EngineReply
from orchestrator.testing.scripted import ScriptedCall


@pytest.mark.parametrize(
    ("budget", "split", "expected"),
    [
        (1000, "width", Shape(4, 0)),  # 1000 // 250 = 4 calls
        (1000, "depth", Shape(1, 1)),  # 4 calls: draft + one round (3), not two (5)
        (1250, "depth", Shape(1, 2)),
        (1500, "mixed", Shape(2, 1)),  # 6 calls: two trajectories of depth 1
        (3750, "mixed", Shape(3, 2)),  # 15 calls: three of depth 2
        (100, "width", Shape(1, 0)),  # never below one draft
        (100, "depth", Shape(1, 0)),
        (10**9, "width", Shape(64, 0)),
        (10**9, "depth", Shape(1, 16)),
    ],
)
def test_divide(budget, split, expected):
    assert divide(budget, subqueries=1, call_tokens=250, split=split) == expected


def test_divide_shares_what_overhead_leaves_among_subqueries():
    assert divide(2000, subqueries=3, call_tokens=100, overhead=500, split="width") == Shape(5, 0)
    assert divide(400, subqueries=3, call_tokens=100, overhead=500, split="depth") == Shape(1, 0)
    with pytest.raises(ConfigError, match="unknown budget split"):
        divide(1000, subqueries=1, call_tokens=100, split="sideways")


def test_trajectory_calls():
    assert [trajectory_calls(d) for d in range(4)] == [1, 3, 5, 7]


def test_run_limits_cap_completion_tokens_at_budget_plus_one_call():
    graph = GraphConfig(plan_max_tokens=384, sample_max_tokens=256, synth_max_tokens=300)
    assert largest_call(graph) == 384
    limits = BudgetConfig(max_completion_tokens=20000, max_cost_usd=2.0)
    capped = run_limits(limits, graph, 1000)
    assert capped.max_completion_tokens == 1384 and capped.max_cost_usd == 2.0
    assert run_limits(limits, graph, None) is limits
    assert (
        run_limits(BudgetConfig(max_completion_tokens=500), graph, 1000).max_completion_tokens
        == 500
    )


def test_check_shape_rejects_bad_requests():
    check_shape(0, 1)
    with pytest.raises(InputError, match="depth"):
        check_shape(17, None)
    with pytest.raises(InputError, match="budget_tokens"):
        check_shape(None, 0)
    with pytest.raises(InputError, match="width must be between 1 and 64, not 65"):
        check_shape(width=65)


def worst_case(plan_tokens: int = 100):
    """Every sample call spends its whole max_tokens; the plan spends `plan_tokens`."""

    def respond(call: ScriptedCall) -> EngineReply:
        if stage(call) == "plan":
            return EngineReply(json.dumps(PLAN_3), 10, plan_tokens)
        return EngineReply("Answer: Cambridge", 10, call.max_tokens)

    return respond


def make(graph: str, **graph_cfg) -> Orchestrator:
    cfg = scripted_config(
        graph={
            "plan_max_tokens": 384,
            "sample_max_tokens": 256,
            "synth_max_tokens": 256,
            **graph_cfg,
        }
    )
    return Orchestrator.from_config(parse_config(cfg), graph=graph)


@pytest.mark.parametrize(
    ("graph", "shape"),
    [
        ("wide", {"width": 2, "depth": 0}),
        ("deep", {"width": 1, "depth": 0}),
        ("single", {"width": 7, "depth": 0}),
    ],  # no plan, no synthesis: 1892 // 256
)
async def test_the_graph_spends_its_budget_on_its_own_axis(scripted, graph, shape):
    engine = scripted(worst_case())
    # left after planning (100) and synthesis (256): 3 sub-queries × 2 calls × 256
    budget = 100 + 256 + 3 * 2 * 256
    seen = []
    answer = await make(graph).aask("Which is older?", budget_tokens=budget, on_event=seen.append)
    assert next(e for e in seen if e["event"] == "shape") == {
        "event": "shape",
        **shape,
        "budget_tokens": budget,
    }
    assert answer.status == "ok"
    assert answer.usage.completion_tokens <= budget
    assert answer.usage.completion_tokens == sum(
        100 if stage(c) == "plan" else c.max_tokens for c in engine.calls
    )


async def test_deep_graph_buys_rounds_with_its_budget(scripted):
    engine = scripted(worst_case())
    budget = 100 + 256 + 3 * 5 * 256  # five calls a sub-query: a draft and two rounds
    answer = await make("deep").aask("Which is older?", budget_tokens=budget)
    assert sum(stage(c) == "critique" for c in engine.calls) == 3 * 2
    assert answer.usage.completion_tokens == budget


@pytest.mark.parametrize("graph", ["wide", "deep", "deep-long", "single"])
@pytest.mark.parametrize("budget", [1, 300, 700, 1500, 4000])
async def test_a_run_never_exceeds_its_budget_by_more_than_one_call(scripted, graph, budget):
    engine = scripted(worst_case(plan_tokens=384))
    answer = await make(graph).aask("Which is older?", budget_tokens=budget)
    spent = sum(384 if stage(c) == "plan" else c.max_tokens for c in engine.calls)
    assert answer.usage.completion_tokens == spent
    assert spent <= budget + 384
    assert answer.status in ("ok", "partial", "budget_exhausted")


async def test_without_a_budget_the_requested_shape_is_kept(scripted):
    engine = scripted(worst_case())
    await make("wide").aask("Which is older?", width=3)
    assert sum(stage(c) == "draft" for c in engine.calls) == 9
    engine = scripted(worst_case())
    await make("deep", depth=2).aask("Which is older?")
    assert sum(stage(c) == "revise" for c in engine.calls) == 6


async def test_the_cap_refuses_calls_that_could_overshoot(scripted):
    engine = scripted(worst_case(plan_tokens=384))
    answer = await make("wide").aask("Which is older?", budget_tokens=1)
    # the plan fits under 1 + 384; then a 256-token sample could not, so nothing else runs
    assert [stage(c) for c in engine.calls] == ["plan"]
    assert answer.status == "budget_exhausted" and answer.usage.completion_tokens == 384

"""The deep, deep-long and single graphs over the scripted engine: what crossed the
boundary (which calls, how many, with which seeds and prompts) and what came out."""

import json
from collections import Counter

import pytest
from support import PLAN_3, default_responder, scripted_config, stage

from orchestrator.api import Orchestrator
from orchestrator.config import parse_config
from orchestrator.testing.scripted import ScriptedCall, ScriptedFailure

Q3 = PLAN_3["subqueries"][2]["question"]


MARKERS = {"q3": "or Harvard?", "q2": "When was Harvard founded?", "q1": "Alan Turing study?"}


def subquery_of(call: ScriptedCall) -> str:
    """The sub-query a trajectory call is about (its question, earlier answers filled in, is
    in the prompt)."""
    return next(sid for sid, marker in MARKERS.items() if marker in call.prompt)


def deep_responder(revised: str = "Oxford"):
    def respond(call: ScriptedCall) -> str:
        kind = stage(call)
        if kind == "critique":
            return "The draft misreads the question."
        if kind == "revise":
            return f"Fixed it.\nAnswer: {revised}"
        return default_responder()(call)

    return respond


def orchestrator(graph: str, **graph_cfg) -> Orchestrator:
    return Orchestrator.from_config(parse_config(scripted_config(graph=graph_cfg)), graph=graph)


@pytest.mark.parametrize("depth", [0, 1, 3])
async def test_deep_graph_runs_exactly_depth_rounds_per_subquery(scripted, depth):
    engine = scripted(deep_responder())
    answer = await orchestrator("deep").aask("Which is older?", depth=depth)
    kinds = Counter(stage(c) for c in engine.calls)
    assert kinds == Counter(
        {"plan": 1, "draft": 3, "critique": 3 * depth, "revise": 3 * depth, "synthesize": 1}
    )
    per_subquery = Counter(
        (subquery_of(c), stage(c)) for c in engine.calls if stage(c) in ("critique", "revise")
    )
    assert all(
        per_subquery[(q, k)] == depth for q in ("q1", "q2", "q3") for k in ("critique", "revise")
    )
    assert [len(s.samples) for s in answer.steps] == [1, 1, 1]
    assert {s.answer for s in answer.steps} == ({"Oxford"} if depth else {"Cambridge"})
    assert answer.usage.llm_calls == len(engine.calls)
    assert answer.usage.completion_tokens == sum(
        min(
            len(default_responder()(c).split())
            if stage(c) in ("plan", "draft", "synthesize")
            else len(deep_responder()(c).split()),
            c.max_tokens,
        )
        for c in engine.calls
    )


async def test_deep_is_one_trajectory_even_when_the_config_asks_for_width(scripted):
    engine = scripted(deep_responder())
    await orchestrator("deep", width=5).aask("Which is older?", depth=1)
    assert sum(stage(c) == "draft" for c in engine.calls) == 3


async def test_every_call_of_a_trajectory_has_its_own_seed(scripted):
    engine = scripted(deep_responder())
    await orchestrator("deep").aask("Which is older?", depth=2)
    seeds = [c.seed for c in engine.calls if stage(c) in ("draft", "critique", "revise")]
    assert len(seeds) == 3 * 5 and len(set(seeds)) == len(seeds)


async def test_critique_and_revision_see_the_draft_fenced_with_context_and_facts(scripted):
    engine = scripted(deep_responder())
    await orchestrator("deep").aask("Which is older?", depth=1, context="Turing went to King's.")
    critiques = [c for c in engine.calls if stage(c) == "critique"]
    revise = next(c for c in engine.calls if stage(c) == "revise" and subquery_of(c) == "q3")
    assert all("Context:\nTuring went to King's." in c.prompt for c in critiques)
    fence = revise.system.split("carry the tag ")[1].split(".")[0]
    assert f"<<<{fence}\nDraft:\nReasoning briefly.\nAnswer: Cambridge" in revise.prompt
    assert "Critique:\nThe draft misreads the question.\n" + fence + ">>>" in revise.prompt
    # q3 depends on q1 and q2: their revised answers are facts in its prompt
    assert "q1 (Where did Alan Turing study?): Oxford" in revise.prompt


async def test_a_seeded_run_asks_the_same_prompts_every_time(scripted):
    prompts = []
    for _ in range(2):
        engine = scripted(deep_responder())
        await orchestrator("deep").aask("Which is older?", depth=1, seed=7)
        prompts.append([(c.system, c.prompt, c.seed) for c in engine.calls])
    # the fences of the drafts and of the synthesis too: their tags come from what they fence
    assert prompts[0] == prompts[1] and len(prompts[0]) == 1 + 3 * 3 + 1


async def test_a_failed_round_keeps_the_last_good_answer_and_stops(scripted):
    def respond(call: ScriptedCall) -> str:
        if stage(call) == "critique" and subquery_of(call) == "q2":
            raise ScriptedFailure("bad_request", "critic is down")
        return deep_responder()(call)

    engine = scripted(respond)
    answer = await orchestrator("deep").aask("Which is older?", depth=2)
    steps = {s.subquery_id: s.answer for s in answer.steps}
    assert steps == {"q1": "Oxford", "q2": "Cambridge", "q3": "Oxford"}
    q2 = [stage(c) for c in engine.calls if stage(c) != "plan" and subquery_of(c) == "q2"]
    assert q2 == ["draft", "critique"]
    assert answer.status == "ok"


async def test_a_draft_cut_off_at_max_tokens_is_revised_not_abandoned(scripted):
    def respond(call: ScriptedCall) -> str:
        if stage(call) == "draft" and subquery_of(call) == "q1":
            return "Let me work through this step by step " * 10  # far over max_tokens
        return deep_responder()(call)

    engine = scripted(respond)
    answer = await orchestrator("deep", sample_max_tokens=12).aask("Which is older?", depth=1)
    q1 = [c for c in engine.calls if stage(c) != "plan" and subquery_of(c) == "q1"]
    assert [stage(c) for c in q1] == ["draft", "critique", "revise"]
    assert "step by step" in q1[1].prompt  # the critic sees the cut-off draft
    assert {s.subquery_id: s.answer for s in answer.steps}["q1"] == "Oxford"


async def test_long_chain_is_one_call_per_subquery_with_the_rounds_tokens(scripted):
    engine = scripted(lambda c: json.dumps(PLAN_3) if stage(c) == "plan" else "Answer: Cambridge")
    await orchestrator("deep-long", sample_max_tokens=100).aask("Which is older?", depth=2)
    chains = [c for c in engine.calls if stage(c) == "chain"]
    assert len(chains) == 3 and {c.max_tokens for c in chains} == {100 * 5}
    assert len(engine.calls) == 1 + 3 + 1


async def test_single_graph_asks_the_whole_question_once_without_a_plan(scripted):
    engine = scripted()
    answer = await orchestrator("single").aask("Which is older?", width=1, context="Evidence.")
    assert [stage(c) for c in engine.calls] == ["draft"]
    assert engine.calls[0].prompt == "Context:\nEvidence.\n\nWhich is older?"
    assert answer.answer == "Cambridge" and answer.status == "ok"
    assert [p.question for p in answer.plan] == ["Which is older?"]
    assert answer.usage.llm_calls == 1


async def test_single_graph_votes_over_its_width(scripted):
    answers = {0: "Oxford", 1: "Cambridge", 2: "cambridge"}
    engine = scripted(lambda c: f"Answer: {answers[c.seed % 1009]}")
    answer = await orchestrator("single").aask("Which is older?", width=3)
    assert len(engine.calls) == 3 and len({c.seed for c in engine.calls}) == 3
    assert answer.answer == "Cambridge"
    assert answer.steps[0].votes == {"oxford": 1, "cambridge": 2}


async def test_single_graph_reports_an_error_when_every_sample_fails(scripted):
    def respond(call: ScriptedCall) -> str:
        raise ScriptedFailure("bad_request", "nope")

    scripted(respond)
    answer = await orchestrator("single").aask("Which is older?", width=2)
    assert answer.status == "error" and answer.answer == ""

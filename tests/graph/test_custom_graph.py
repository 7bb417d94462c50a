"""A graph of your own, wired from `orchestrator.graph.nodes` (examples/direct_graph.py), gets
what the built-in graphs get: the token-budget split and the judge's calls in the trace."""

from pathlib import Path

from support import scripted_config, stage

from orchestrator.api import Orchestrator
from orchestrator.config import parse_config

EXAMPLE = f"{Path(__file__).parents[2] / 'examples' / 'direct_graph.py'}:graph"


def make(**graph):
    cfg = scripted_config(graph={"sample_max_tokens": 100, "synth_max_tokens": 50, **graph})
    return Orchestrator.from_config(parse_config(cfg), graph=EXAMPLE)


def disagreeing(call):
    if stage(call) == "judge":
        return "Both are plausible.\nAnswer: 2"
    if stage(call) == "synthesize":
        return "Answer: Oxford"
    return "Answer: Cambridge" if call.seed % 2 == 0 else "Answer: Oxford"


async def test_custom_graph_spends_a_token_budget_on_width(scripted):
    engine = scripted(disagreeing)
    seen = []
    # one sub-query, a synthesis of 50 tokens: (450 - 50) // 100 = 4 samples
    answer = await make().aask("Which is older?", budget_tokens=450, on_event=seen.append)
    shape = next(e for e in seen if e["event"] == "shape")
    assert (shape["width"], shape["depth"]) == (4, 0)
    assert sum(stage(c) == "draft" for c in engine.calls) == 4
    assert answer.usage.completion_tokens <= 450


async def test_custom_graph_keeps_the_judges_calls_in_the_trace(scripted):
    engine = scripted(disagreeing)
    answer = await make(aggregator="judge").aask("Which is older?", width=2)
    judged = [c for c in engine.calls if stage(c) == "judge"]
    assert len(judged) == 1
    # samples and judge: a plan of one step is answered by its step, with no synthesis call
    assert answer.usage.llm_calls == len(engine.calls) == 2 + 1
    assert answer.answer == "Oxford"

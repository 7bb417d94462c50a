"""Multi-hop answering in the planned graph: a question that needs no plan is asked once, a
later hop is asked with the earlier answer filled in, each sub-query gets the paragraphs
ranked for it, the synthesis sees each sub-answer with its supporting sentence, and the final
answer is the short form while the trace keeps the sentence."""

import json

import numpy as np
from support import default_responder, fit_hand, kind_of, scripted_config

from orchestrator.api import Orchestrator
from orchestrator.config import parse_config
from orchestrator.graph.aggregation import short_form
from orchestrator.graph.evidence import sentences_of, supporting_sentence, top_paragraphs
from orchestrator.testing.scripted import ScriptedCall

TURING = "[1] Alan Turing: Alan Turing studied at King's College. He was a mathematician."
HARVARD = "[2] Harvard: Harvard was founded in 1636. It is in Massachusetts."
KINGS = "[3] King's College: King's College was founded in 1441 in Cambridge."
CONTEXT = "\n\n".join([TURING, HARVARD, KINGS])
HOPS = {
    "subqueries": [
        {"id": "q1", "question": "Where did Alan Turing study?"},
        {"id": "q2", "question": "When was #1 founded?"},
    ]
}


class KeywordEmbedder:
    """Texts as counts of a few keywords: which paragraph is near which sub-query is known
    by hand. It records every text it embeds."""

    name, dim = "keywords", 4
    WORDS = ("turing", "harvard", "king", "founded")

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.seen += texts
        rows = [[t.lower().count(w) + 0.01 for w in self.WORDS] for t in texts]
        matrix = np.array(rows, dtype=np.float32)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def make(plan, embedder=None, **graph):
    cfg = scripted_config(graph={"width": 1, "evidence_paragraphs": 1, **graph})
    return Orchestrator.from_config(parse_config(cfg), embedder=embedder or KeywordEmbedder())


def hop_responder(synthesis="Answer: 1441", plan=HOPS):
    def respond(call: ScriptedCall) -> str:
        if kind_of(call) == "plan":
            return json.dumps(plan)
        if kind_of(call) == "synthesize":
            return f"King's College it is.\n{synthesis}"
        asked = call.prompt.splitlines()[-1]
        return "Answer: King's College" if "Turing" in asked else "Answer: 1441"

    return respond


async def test_a_question_that_needs_no_plan_is_asked_once_with_width(scripted):
    engine = scripted(default_responder({"decompose": False}))
    answer = await make(None, width=3).aask("Where did Alan Turing study?")
    assert [kind_of(c) for c in engine.calls] == ["plan", "sample", "sample", "sample"]
    assert all(c.prompt == "Where did Alan Turing study?" for c in engine.calls[1:])
    assert (answer.answer, answer.status, answer.synthesis) == ("Cambridge", "ok", None)


async def test_a_later_hop_is_asked_with_the_earlier_answer_filled_in(scripted):
    engine = scripted(hop_responder())
    answer = await make(HOPS).aask("When was the college Turing studied at founded?")
    hop2 = [c for c in engine.calls if kind_of(c) == "sample"][1]
    assert hop2.prompt.endswith("When was King's College founded?")
    assert "q1 (Where did Alan Turing study?): King's College" in hop2.prompt
    step = 'This is one step of the question "When was the college Turing studied at founded?"'
    assert hop2.prompt.startswith(step)  # a step alone may lack what the question says
    assert [s.asked for s in answer.steps] == [
        "Where did Alan Turing study?",
        "When was King's College founded?",
    ]
    assert answer.plan[1].depends_on == ["q1"]


async def test_each_subquery_gets_the_paragraphs_ranked_for_it(scripted):
    engine = scripted(hop_responder())
    embedder = KeywordEmbedder()
    answer = await make(HOPS, embedder).aask(
        "When was the college Turing studied at founded?", context=CONTEXT
    )
    hop1, hop2 = (c.prompt for c in engine.calls if kind_of(c) == "sample")
    assert TURING in hop1 and HARVARD not in hop1 and KINGS not in hop1
    assert KINGS in hop2 and TURING not in hop2 and HARVARD not in hop2
    assert [s.paragraphs for s in answer.steps] == [[0], [2]]
    assert "When was King's College founded?" in embedder.seen  # ranked on the filled text


async def test_a_hop_that_does_not_name_the_earlier_answer_is_ranked_with_it(scripted):
    unnamed = {
        "subqueries": [
            {"id": "q1", "question": "Where did Alan Turing study?"},
            {"id": "q2", "question": "When was that college founded?", "depends_on": ["q1"]},
        ]
    }
    engine = scripted(hop_responder(plan=unnamed))
    embedder = KeywordEmbedder()
    answer = await make(unnamed, embedder).aask(
        "When was Turing's college founded?", context=CONTEXT
    )
    hop2 = [c.prompt for c in engine.calls if kind_of(c) == "sample"][1]
    assert KINGS in hop2 and HARVARD not in hop2 and answer.steps[1].paragraphs == [2]
    assert "When was that college founded? King's College" in embedder.seen
    assert answer.steps[1].asked == "When was that college founded?"


async def test_the_synthesis_sees_each_answer_with_its_supporting_sentence(scripted):
    engine = scripted(hop_responder())
    answer = await make(HOPS).aask(
        "When was the college Turing studied at founded?", context=CONTEXT
    )
    [synth] = [c for c in engine.calls if kind_of(c) == "synthesize"]
    assert "q2. When was King's College founded? -> 1441" in synth.prompt
    assert "(supported by: King's College was founded in 1441 in Cambridge.)" in synth.prompt
    assert "(supported by: Alan Turing studied at King's College.)" in synth.prompt
    assert [s.support for s in answer.steps] == [
        "Alan Turing studied at King's College.",
        "King's College was founded in 1441 in Cambridge.",
    ]


async def test_the_answer_is_the_short_form_and_the_trace_keeps_the_sentence(scripted):
    sentence = "Answer: The college Alan Turing attended was founded in 1441, long ago."
    scripted(hop_responder(synthesis=sentence))
    answer = await make(HOPS).aask("When was the college Turing studied at founded?")
    assert answer.answer == "1441"
    assert answer.synthesis is not None and sentence in answer.synthesis


def test_short_form_keeps_short_answers_and_shortens_sentences():
    assert short_form("Yes, both are American bands.") == "yes"
    assert short_form("No") == "no"
    assert short_form("No One Knows") == "No One Knows"  # a title, not a "no"
    assert short_form("University of Cambridge", ["Cambridge"]) == "University of Cambridge"
    found = ["Nick Park", "Creature Comforts"]
    said = "Nick Park made Creature Comforts, which won the Oscar in 1990."
    assert short_form(said, found) == "Creature Comforts"
    assert short_form("It is a long sentence without a found answer.", found).startswith("It is")
    asked = "Ed Oxenbould plays Tyler in a film directed by which famous director?"
    said = 'Ed Oxenbould plays Tyler in the film "The Visit" directed by M. Night Shyamalan.'
    assert short_form(said, [], asked) == "M. Night Shyamalan"  # what the question did not say
    asked = "The manufacturer of Bisquick is headquartered in which state?"
    said = "The manufacturer of Bisquick is headquartered in California."
    assert short_form(said, [], asked) == "California"
    listed = "Cambridge, Oxford, Durham, and that is the whole answer."
    assert short_form(listed, [], "What is 2+2?") == listed  # not a restatement: kept
    restated = "The manufacturer of Bisquick is headquartered in the state."
    assert short_form(restated, [], asked) == restated  # nothing beyond the question: kept


def test_ranking_and_supporting_sentences_by_hand():
    embedder = KeywordEmbedder()
    paragraphs = [TURING, HARVARD, KINGS]
    assert top_paragraphs(embedder, ["harvard founded", "turing"], paragraphs, 1) == [[1], [0]]
    assert top_paragraphs(embedder, ["anything"], paragraphs, 0) == [[0, 1, 2]]
    assert sentences_of(HARVARD) == ["Harvard was founded in 1636.", "It is in Massachusetts."]
    assert supporting_sentence(embedder, "When was Harvard founded?", "1636", paragraphs) == (
        "Harvard was founded in 1636."
    )
    assert supporting_sentence(embedder, "Q?", "", paragraphs) == ""


async def test_the_planner_and_synthesizer_default_to_the_routers_most_accurate_model(scripted):
    engine = scripted(hop_responder())

    class BestIsSmall:
        embedder_name, models = "hashing-64", ["scripted/big", "scripted/small"]

        def route(self, vector, alpha=1.0):
            from orchestrator.protocols import RouteDecision

            return RouteDecision("scripted/big", scores={"scripted/big": 1.0})

        def best_model(self):
            return "scripted/small"

    cfg = parse_config(scripted_config(graph={"width": 1}))
    orch = Orchestrator.from_config(cfg, router=BestIsSmall())
    await orch.aask("When was the college Turing studied at founded?")
    roles = {(kind_of(c), c.model) for c in engine.calls}
    assert roles == {("plan", "small"), ("sample", "big"), ("synthesize", "small")}
    pinned = parse_config(scripted_config(graph={"width": 1, "planner_model": "scripted/big"}))
    engine = scripted(hop_responder())
    await Orchestrator.from_config(pinned, router=BestIsSmall()).aask("Q?")
    assert {c.model for c in engine.calls if kind_of(c) != "sample"} == {"big"}


def test_a_fitted_router_knows_its_most_accurate_model():
    router = fit_hand()
    scores = np.nanmean(router.tables.scores[router.tables.bags == 0], axis=0)
    assert router.best_model() in router.models
    assert router.models.index(router.best_model()) == int(np.argmax(scores))

"""Tools in the graph: the planner is offered the relevant capabilities, the route node sends
a sub-query to a capability or to a model and says why, the tool runs once per sub-query
(whatever the width) with its result fenced into the samples and the synthesis, approval
pauses the run until a person answers (also from a fresh orchestrator on the same store), and
a failing tool or a refused capability leaves the other sub-queries to go on."""

import json

import pytest
from support import EMAIL, PCT, SLOW, TURING, Outbox, kind_of, tool_responder
from support import tool_orchestrator as orchestrator

from orchestrator.capabilities import Policy
from orchestrator.errors import InputError
from orchestrator.testing.scripted import tool_reply


def one(question, capability=None):
    mark = {"capability": capability} if capability else {}
    return {"decompose": False, **mark}


def samples_of(engine, text):
    return [
        c
        for c in engine.calls
        if not c.tools and kind_of(c) == "sample" and c.prompt.endswith(text)
    ]


TWO = {
    "subqueries": [
        {"id": "q1", "question": PCT, "capability": "calculator"},
        {"id": "q2", "question": TURING},
    ]
}


async def test_a_subquery_routed_to_a_tool_reaches_its_samples_and_the_synthesis_fenced(scripted):
    engine = scripted(tool_responder(TWO))
    answer = await orchestrator(width=2).aask(f"{PCT} And {TURING}")
    planner = next(c for c in engine.calls if kind_of(c) == "plan")
    assert "- calculator: Work out a % of a number." in planner.prompt
    assert planner.prompt.count("\n- ") == 2  # the router's top two, not all four
    filled = [c for c in engine.calls if c.tools]
    assert [c.tool_names for c in filled] == [["calculator"]]
    assert PCT in filled[0].prompt
    for call in samples_of(engine, PCT):
        assert "<<<TOOL-" in call.prompt and "\n418.314\nTOOL-" in call.prompt
        assert '{"expression": "17.3% of 2,418"}' in call.prompt
    assert samples_of(engine, PCT) and len(samples_of(engine, TURING)) == 2
    assert all("TOOL-" not in c.prompt for c in samples_of(engine, TURING))
    synthesis = next(c for c in engine.calls if kind_of(c) == "synthesize")
    fenced = synthesis.prompt.split("<<<DATA-")[1]
    assert "(tool calculator returned: 418.314)" in fenced
    q1, q2 = answer.steps
    assert q1.capability["capability"] == "calculator" and q1.capability["hint"] == "calculator"
    assert "planner's mark" in q1.capability["reason"] and q1.capability["score"] == 1.0
    assert q1.tool.output == "418.314" and q1.tool.status == "ok" and q1.answer == "418.314"
    assert q2.capability["abstained"] is True and q2.capability["capability"] is None
    assert q2.tool is None and q2.answer == "Cambridge"
    assert answer.usage.cost_usd >= 0.25  # the calculator's cost_usd counts
    assert answer.plan[0].capability == "calculator" and answer.status == "ok"


async def test_a_side_effect_tool_runs_once_whatever_the_width(scripted):
    engine = scripted(tool_responder(one(EMAIL)))
    outbox = Outbox()
    answer = await orchestrator(outbox, width=8).aask(EMAIL)
    assert outbox.sent == ["ada@example.org"]
    assert len([c for c in engine.calls if c.tools]) == 1
    assert len(samples_of(engine, EMAIL)) == 8
    assert all("sent to ada@example.org" in c.prompt for c in samples_of(engine, EMAIL))
    assert len(answer.steps[0].samples) == 8 and answer.steps[0].tool.status == "ok"


async def test_approval_pauses_the_run_and_a_fresh_orchestrator_resumes_it(scripted, tmp_path):
    engine = scripted(tool_responder(one(EMAIL)))
    store, outbox = tmp_path / "runs.sqlite", Outbox()
    paused = await orchestrator(outbox, approval=True, width=3).aask(EMAIL, store=store)
    assert paused.status == "interrupted" and outbox.sent == []
    assert paused.pending == {
        "subquery_id": "q1",
        "capability": "send_email",
        "arguments": {"to": "ada@example.org"},
    }
    assert samples_of(engine, EMAIL) == []  # nothing answered before the yes
    fresh = orchestrator(outbox, approval=True, width=3)
    answer = await fresh.aresume(paused.run_id, store=store, approve=True)
    assert outbox.sent == ["ada@example.org"] and answer.status == "ok"
    assert len([c for c in engine.calls if c.tools]) == 1  # arguments were not filled again
    assert len(samples_of(engine, EMAIL)) == 3 and answer.steps[0].tool.status == "ok"
    again = await fresh.aresume(paused.run_id, store=store, approve=True)
    assert outbox.sent == ["ada@example.org"] and again.status == "ok"  # never sent twice


async def test_a_refused_call_is_recorded_and_the_subquery_answered_without_it(scripted):
    engine = scripted(tool_responder(one(EMAIL)))
    outbox = Outbox()
    orch = orchestrator(outbox, approval=True)
    paused = await orch.aask(EMAIL)  # no store: the run waits in the orchestrator's memory
    assert paused.status == "interrupted"
    answer = await orch.aresume(paused.run_id, approve=False)
    assert outbox.sent == [] and answer.status == "ok"
    tool = answer.steps[0].tool
    assert (tool.status, tool.error_kind, tool.arguments) == (
        "refused",
        "refused",
        {"to": "ada@example.org"},
    )
    (sample,) = samples_of(engine, EMAIL)
    assert "gave no result (a person did not approve the call): answer without it" in sample.prompt
    with pytest.raises(InputError, match="no run"):  # a finished run is not kept in memory
        await orch.aresume(paused.run_id, approve=True)


async def test_a_tool_timing_out_is_an_error_record_while_the_other_branch_finishes(scripted):
    plan = {"subqueries": [{"id": "q1", "question": SLOW}, {"id": "q2", "question": PCT}]}
    engine = scripted(tool_responder(plan))
    answer = await orchestrator(timeout_s=0.2).aask(f"{SLOW} {PCT}")
    slow, calc = answer.steps
    assert (slow.tool.status, slow.tool.error_kind) == ("error", "timeout")
    assert "no result within 0.2 s" in slow.tool.error
    (sample,) = samples_of(engine, SLOW)
    assert "The tool slow was to be used" in sample.prompt and "answer without it" in sample.prompt
    assert calc.tool.status == "ok" and calc.answer == "418.314"
    assert answer.answer == "418.314 and Cambridge" and answer.latency_s < 4


async def test_a_call_the_tool_rejects_is_asked_again_once_with_the_error(scripted):
    fills = iter([{"expression": "q1 * 2"}, {"expression": "17.3% of 2,418"}])
    base = tool_responder(one(PCT, "calculator"))
    engine = scripted(lambda c: tool_reply("calculator", next(fills)) if c.tools else base(c))
    answer = await orchestrator().aask(PCT)
    first, second = [c for c in engine.calls if c.tools]
    assert "failed" not in first.prompt
    assert (
        """A call with {"expression": "q1 * 2"} failed: tool_error: ValueError""" in second.prompt
    )
    assert answer.steps[0].tool.status == "ok" and answer.steps[0].tool.output == "418.314"


async def test_a_side_effect_tool_that_rejects_its_call_is_not_asked_again(scripted):
    engine = scripted(tool_responder(one(EMAIL), {"send_email": {"to": "ada"}}))
    outbox = Outbox()
    answer = await orchestrator(outbox).aask(EMAIL)
    assert len([c for c in engine.calls if c.tools]) == 1 and outbox.sent == []
    assert answer.steps[0].tool.error_kind == "tool_error"
    assert "not an email address: 'ada'" in answer.steps[0].tool.error


async def test_a_tool_step_is_told_its_question_and_the_earlier_answers_by_their_questions(
    scripted,
):
    plan = {
        "subqueries": [
            {"id": "q1", "question": TURING},
            {"id": "q2", "question": PCT, "capability": "calculator", "depends_on": ["q1"]},
        ]
    }
    engine = scripted(tool_responder(plan))
    await orchestrator().aask(f"{TURING} Then: {PCT}")
    (filled,) = [c for c in engine.calls if c.tools]
    assert f"one step towards this question:\n{TURING} Then: {PCT}" in filled.prompt
    assert f"Found in earlier steps:\n- {TURING} Cambridge\n\nRequest: {PCT}" in filled.prompt


@pytest.mark.parametrize("mark", [None, "calculator"], ids=["unmarked", "marked"])
async def test_a_subquery_the_router_abstains_on_goes_to_a_model_even_if_marked(scripted, mark):
    engine = scripted(tool_responder(one(TURING, mark)))
    answer = await orchestrator().aask(TURING)
    planner = next(c for c in engine.calls if kind_of(c) == "plan")
    assert "- calculator:" in planner.prompt  # offered: the mark is kept as a hint
    route = answer.steps[0].capability
    assert route["capability"] is None and route["abstained"] is True and route["hint"] == mark
    assert "abstained" in route["reason"] and answer.steps[0].tool is None
    assert not [c for c in engine.calls if c.tools]
    assert all("TOOL-" not in c.prompt for c in samples_of(engine, TURING))
    assert answer.answer == "Cambridge"


async def test_a_capability_the_policy_denies_is_never_offered_nor_run(scripted):
    engine = scripted(tool_responder(one(EMAIL, "send_email")))
    outbox = Outbox()
    answer = await orchestrator(outbox, policy=Policy(deny=("side-effects",))).aask(EMAIL)
    assert outbox.sent == [] and not [c for c in engine.calls if c.tools]
    planner = next(c for c in engine.calls if kind_of(c) == "plan")
    assert "send_email" not in planner.prompt
    assert answer.plan[0].capability is None  # a mark it was not offered is dropped
    route = answer.steps[0].capability
    assert route["denied"] == {"send_email": "denied by 'side-effects'"}
    assert route["capability"] is None and answer.steps[0].answer == "Cambridge"


RUN_IN_A_PROCESS = """
import json, sys
sys.path.insert(0, sys.argv[1])
from support import EMAIL, Outbox, tool_orchestrator, tool_responder
from orchestrator.llm.boundary import register_engine
from orchestrator.testing.scripted import ScriptedEngine

register_engine("scripted", ScriptedEngine(tool_responder({"decompose": False})))
orch = tool_orchestrator(Outbox(sys.argv[2]), approval=True)
if len(sys.argv) == 4:
    answer = orch.ask(EMAIL, store=sys.argv[3])
else:
    answer = orch.resume(sys.argv[4], store=sys.argv[3], approve=True)
print(json.dumps({"status": answer.status, "run_id": answer.run_id, "pending": answer.pending}))
"""


@pytest.mark.slow  # two fresh interpreters: about 25 s on a loaded machine
def test_a_paused_run_is_resumed_in_another_process(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    tests, root = Path(__file__).resolve().parents[1], Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    sent, store = tmp_path / "sent.txt", tmp_path / "runs.sqlite"

    def run(*extra: str) -> dict:
        command = [sys.executable, "-c", RUN_IN_A_PROCESS, str(tests), str(sent), str(store)]
        done = subprocess.run(
            [*command, *extra], capture_output=True, text=True, env=env, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    paused = run()
    assert paused["status"] == "interrupted" and paused["pending"]["capability"] == "send_email"
    assert not sent.exists()
    finished = run(paused["run_id"])
    assert finished["status"] == "ok" and sent.read_text() == "ada@example.org\n"


async def test_two_calls_waiting_are_asked_about_one_after_the_other(scripted, tmp_path):
    second = "Send an email to Bob as well."
    plan = {"subqueries": [{"id": "q1", "question": EMAIL}, {"id": "q2", "question": second}]}
    arguments = {"send_email": {"to": "someone@example.org"}}
    scripted(tool_responder(plan, arguments))
    store, outbox = tmp_path / "runs.sqlite", Outbox()
    orch = orchestrator(outbox, approval=True)
    first = await orch.aask(f"{EMAIL} {second}", store=store)
    assert first.pending["subquery_id"] == "q1"
    then = await orch.aresume(first.run_id, store=store, approve=True)
    assert then.status == "interrupted" and then.pending["subquery_id"] == "q2"
    assert outbox.sent == []  # the approved call waits for the other answer
    done = await orch.aresume(first.run_id, store=store, approve=False)
    assert outbox.sent == ["someone@example.org"] and done.status == "ok"
    assert [s.tool.status for s in done.steps] == ["ok", "refused"]

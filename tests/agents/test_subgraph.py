"""`Orchestrator.as_subgraph()` as a node of a parent `StateGraph` with an `InMemorySaver`:
the answer appended as an AIMessage with its trace, progress events and the answer message
streamed through the parent, checkpoints in the parent's saver, and an interrupt inside the
orchestrator paused and resumed through the parent."""

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import Command
from support import kind_of, scripted_config, stage

from orchestrator.api import Orchestrator
from orchestrator.config import parse_config
from orchestrator.errors import InputError

REVIEW = f"{Path(__file__).parent / 'review_graph.py'}:graph"


def parent_of(orchestrator: Orchestrator) -> tuple[object, InMemorySaver]:
    saver = InMemorySaver()
    builder = StateGraph(MessagesState)
    builder.add_node("orchestrator", orchestrator.as_subgraph())
    builder.add_edge(START, "orchestrator")
    builder.add_edge("orchestrator", END)
    return builder.compile(checkpointer=saver), saver


def make(graph: str = "wide") -> Orchestrator:
    return Orchestrator.from_config(parse_config(scripted_config(graph={"width": 2})), graph=graph)


def thread(name: str) -> dict:
    return {"configurable": {"thread_id": name}}


async def test_the_last_human_message_is_answered_with_the_trace_attached(scripted):
    engine = scripted()
    parent, saver = parent_of(make())
    turns = [HumanMessage("I am asking about Turing."), AIMessage("Go on."), HumanMessage("Q?")]
    result = await parent.ainvoke({"messages": turns}, thread("t"))
    reply = result["messages"][-1]
    assert len(result["messages"]) == 4 and isinstance(reply, AIMessage)
    assert reply.content == "University of Cambridge"
    trace = reply.response_metadata["orchestrator"]
    assert trace["status"] == "ok" and [s["subquery_id"] for s in trace["steps"]] == [
        "q1",
        "q2",
        "q3",
    ]
    assert reply.usage_metadata["output_tokens"] == trace["usage"]["completion_tokens"] > 0
    plans = [c for c in engine.calls if kind_of(c) == "plan"]
    assert len(plans) == 1 and "Q?" in plans[0].prompt
    samples = [c for c in engine.calls if kind_of(c) == "sample"]
    assert len(samples) == 3 * 2
    assert all("human: I am asking about Turing." in c.prompt for c in samples)
    assert all("ai: Go on." in c.prompt for c in samples)
    # the orchestrator's own steps were checkpointed in the parent's saver, in its namespace
    namespaces = {c.config["configurable"]["checkpoint_ns"] for c in saver.list(thread("t"))}
    assert any(ns.startswith("orchestrator:") for ns in namespaces)


async def test_progress_and_the_answer_stream_through_the_parent(scripted):
    scripted()
    parent, _ = parent_of(make())
    custom, messages = [], []
    async for namespace, mode, chunk in parent.astream(
        {"messages": [HumanMessage("Where did Turing study?")]},
        thread("s"),
        stream_mode=["custom", "messages"],
        subgraphs=True,
    ):
        assert namespace and namespace[0].startswith("orchestrator:")
        (custom if mode == "custom" else messages).append(chunk)
    kinds = [e["event"] for e in custom]
    assert kinds.count("route") == 3 and kinds.count("sample") == 6 and kinds.count("vote") == 3
    tokens = "".join(e["text"] for e in custom if e["event"] == "token")
    assert tokens == "The sub-answers say so.\nAnswer: University of Cambridge"
    assert [m.content for m, _ in messages] == ["University of Cambridge"]


async def test_a_second_turn_keeps_the_conversation_as_context(scripted):
    engine = scripted()
    parent, _ = parent_of(make())
    await parent.ainvoke({"messages": [HumanMessage("First question?")]}, thread("c"))
    result = await parent.ainvoke({"messages": [HumanMessage("Second?")]}, thread("c"))
    assert [m.type for m in result["messages"]] == ["human", "ai", "human", "ai"]
    last_plan = [c for c in engine.calls if kind_of(c) == "plan"][-1]
    assert "Second?" in last_plan.prompt
    last_samples = [c for c in engine.calls if kind_of(c) == "sample"][-6:]
    assert all("ai: University of Cambridge" in c.prompt for c in last_samples)


async def test_an_interrupt_inside_pauses_the_parent_and_resumes_without_new_calls(scripted):
    engine = scripted(lambda call: "Answer: Cambridge")
    parent, _ = parent_of(make(REVIEW))
    config = thread("r")
    await parent.ainvoke({"messages": [HumanMessage("Where did Turing study?")]}, config)
    paused = await parent.aget_state(config)
    assert [i.value for i in paused.interrupts] == [{"draft": "Cambridge"}]
    assert paused.next == ("orchestrator",)
    made = len(engine.calls)
    assert sum(stage(c) == "draft" for c in engine.calls) == 2
    result = await parent.ainvoke(Command(resume=True), config)
    assert result["messages"][-1].content == "Cambridge"
    assert len(engine.calls) == made  # the samples and synthesis were not made again


async def test_a_refused_review_is_answered_as_the_inner_graph_decides(scripted):
    scripted(lambda call: "Answer: Cambridge")
    parent, _ = parent_of(make(REVIEW))
    config = thread("n")
    await parent.ainvoke({"messages": [HumanMessage("Where did Turing study?")]}, config)
    result = await parent.ainvoke(Command(resume=False), config)
    reply = result["messages"][-1]
    assert reply.content == "withheld by the reviewer"
    assert reply.response_metadata["status"] == "partial"


async def test_a_conversation_without_a_human_message_is_an_input_error(scripted):
    scripted()
    parent, _ = parent_of(make())
    with pytest.raises(InputError, match="needs a human message"):
        await parent.ainvoke({"messages": [AIMessage("hello")]}, thread("e"))


async def test_inside_a_graph_the_run_takes_no_store_of_its_own(scripted, tmp_path):
    with pytest.raises(InputError, match="checkpointer and stream"):
        await make().aask("Q?", inside_graph=True, store=tmp_path / "runs.sqlite")
